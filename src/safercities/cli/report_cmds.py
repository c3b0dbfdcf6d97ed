"""Verbs of the reports: `safercities report bulletin` (and the audit report once an audit has run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly
from safercities.workspace import open_workspace

report_app = typer.Typer(help="Reports as HTML or PDF, in English, Spanish or French.", no_args_is_help=True)

LangOption = Annotated[str | None, typer.Option("--lang", help="en, es or fr (default: the workspace's).")]
AudienceOption = Annotated[
    str,
    typer.Option(
        "--audience", help="public or viewer (small counts suppressed), analyst (exact counts: internal use only)."
    ),
]


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")


@report_app.command("bulletin")
@friendly
def bulletin_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Write .pdf or .html.")],
    month: Annotated[str | None, typer.Option(help="YYYY-MM (default: the last complete month).")] = None,
    lang: LangOption = None,
    audience: AudienceOption = "public",
    workspace: WorkspaceOption = None,
) -> None:
    """The monthly observatory bulletin: headline, the month against last year, alerts, map."""
    from safercities.observatory import Audience
    from safercities.report.bulletin import bulletin, bulletin_html
    from safercities.report.render import write_report

    who = Audience(audience)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        content = bulletin(ws, month, who)
        html = bulletin_html(content, lang or ws.config.lang)
    console.print(f"wrote {write_report(html, out)} ({content.month}, audience {who.role})")


@report_app.command("audit")
@friendly
def audit_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Write .pdf or .html.")],
    lang: LangOption = None,
    bundle: Annotated[
        Path | None, typer.Option(help="An audit bundle folder (default: the workspace's latest audit).")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The safety-audit report from an audit bundle, in any of the three languages (nothing recomputed)."""
    from safercities.audit.run import latest_audit, load_audit
    from safercities.errors import WorkspaceError
    from safercities.report.audit import audit_report_html
    from safercities.report.render import write_report

    with open_workspace(chosen(workspace), read_only=True) as ws:
        found = load_audit(bundle) if bundle else latest_audit(ws)
        if found is None:
            raise WorkspaceError("the workspace holds no audit yet: run `safercities audit run` first")
        html = audit_report_html(found, lang or ws.config.lang)
    console.print(f"wrote {write_report(html, out)} (audit {found.content_sha256[:12]})")
