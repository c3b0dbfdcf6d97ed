"""`safercities backup` and `safercities restore`: a workspace as one portable, checked archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.backup import backup, restore, verify
from safercities.cli.common import WorkspaceOption, chosen, console, friendly
from safercities.errors import WorkspaceError
from safercities.workspace import open_workspace


@friendly
def backup_command(
    out: Annotated[Path, typer.Argument(help="The archive to write (a new .zip file).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Write the whole workspace (every table as Parquet, its settings, a manifest of counts and hashes)."""
    with open_workspace(chosen(workspace), read_only=True) as ws:
        manifest = backup(ws, out)
    rows = sum(entry.rows for entry in manifest.tables.values())
    console.print(
        f"[green]backup[/] of {manifest.workspace!r} ({manifest.backend}): {len(manifest.tables)} tables, "
        f"{rows:,} rows -> {out}"
    )


@friendly
def restore_command(
    archive: Annotated[Path, typer.Argument(help="The archive written by `safercities backup`.")],
    folder: Annotated[Path, typer.Argument(help="Folder of the new workspace (must not be a workspace yet).")],
    database: Annotated[
        str | None,
        typer.Option(help="Where the restored store goes: postgresql://user@host/db[?schema=NAME] (default: DuckDB)."),
    ] = None,
) -> None:
    """Make a new workspace from an archive; it is committed only when every table equals the original."""
    result = restore(archive, folder, database=database)
    console.print(
        f"[green]restored[/] {result.tables} tables, {result.rows:,} rows into {result.root}; "
        "row counts and content hashes equal the original's"
    )
    for step in result.upgraded:
        console.print(f"  upgraded: {step}")


@friendly
def backup_check_command(
    archive: Annotated[Path, typer.Argument(help="The archive to compare the workspace with.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Check an archive is intact and say, table by table, whether the workspace still equals it."""
    with open_workspace(chosen(workspace), read_only=True) as ws:
        found = verify(ws, archive)
    changed = {t: v for t, v in found.items() if not v[2]}
    for table, (now, then, _) in sorted(changed.items()):
        console.print(f"  {table}: {now:,} rows now, {then:,} in the archive, content differs")
    if changed:
        raise WorkspaceError(f"{len(changed)} of {len(found)} tables differ from the archive")
    console.print(f"[green]the archive is intact and the workspace equals it[/] ({len(found)} tables)")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """`safercities backup OUT`, `safercities restore IN DIR`, `safercities backup-check IN`."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.command("backup-check")(backup_check_command)
