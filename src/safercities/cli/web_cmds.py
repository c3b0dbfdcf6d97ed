"""Verbs of the dashboard: `safercities serve` and `safercities users …` (accounts of the dashboard)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame
from safercities.workspace import current_user, find_root, open_workspace

users_app = typer.Typer(help="Accounts of the dashboard: admin, analyst, viewer.", no_args_is_help=True)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add `serve` and the `users` group."""
    app.command("serve")(serve_command)
    app.add_typer(users_app, name="users")


@friendly
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    public: Annotated[
        bool, typer.Option("--public", help="Show aggregates (small counts suppressed) to visitors without login.")
    ] = False,
    insecure_cookies: Annotated[
        bool,
        typer.Option(
            "--insecure-cookies",
            help="Send the session cookie over plain HTTP too (only behind a trusted network; prefer HTTPS).",
        ),
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve the dashboard of the workspace (FastAPI + uvicorn)."""
    import uvicorn

    from safercities.web.app import create_app

    root = find_root(chosen(workspace))
    app = create_app(root, public=public, secure_cookies=not insecure_cookies)
    console.print(f"[green]serving[/] {root} on http://{host}:{port}/ ({'public' if public else 'login required'})")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _password(prompt: bool) -> str:
    given = os.environ.get("SAFERCITIES_PASSWORD")
    if given:
        return given
    if not prompt:
        raise typer.BadParameter("set SAFERCITIES_PASSWORD or run in a terminal")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
@friendly
def users_add(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin, analyst or viewer.")] = "viewer",
    workspace: WorkspaceOption = None,
) -> None:
    """Add an account (the password is asked for, or read from SAFERCITIES_PASSWORD)."""
    from safercities.web import accounts

    password = _password(prompt=True)
    with open_workspace(chosen(workspace)) as ws:
        accounts.create_user(ws, username, password, role, by=current_user())
    console.print(f"added {username} ({role})")


@users_app.command("list")
@friendly
def users_list(workspace: WorkspaceOption = None) -> None:
    """List the accounts (never their passwords)."""
    import pandas as pd

    from safercities.web import accounts

    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = pd.DataFrame(accounts.users(ws), columns=["username", "role", "created_at", "disabled"])
    show_frame(frame, "users", limit=1000)


@users_app.command("role")
@friendly
def users_role(
    username: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="admin, analyst or viewer.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Change an account's role."""
    from safercities.web import accounts

    with open_workspace(chosen(workspace)) as ws:
        accounts.set_role(ws, username, role, by=current_user())
    console.print(f"{username} is now {role}")


@users_app.command("disable")
@friendly
def users_disable(
    username: Annotated[str, typer.Argument(help="User name.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Disable an account and end its sessions."""
    from safercities.web import accounts

    with open_workspace(chosen(workspace)) as ws:
        accounts.disable_user(ws, username, by=current_user())
    console.print(f"{username} disabled")
