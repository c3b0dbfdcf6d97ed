"""`safercities init`: make a city's workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import console, friendly
from safercities.workspace import init


@friendly
def init_command(
    folder: Annotated[Path, typer.Argument(help="Folder of the new workspace.")],
    name: Annotated[str, typer.Option(help="The city's name, as reports show it.")],
    crs: Annotated[str, typer.Option(help="Projected CRS in metres, e.g. EPSG:32614 (UTM 14N).")],
    lang: Annotated[str, typer.Option(help="Language of reports: en, es or fr.")] = "en",
    timezone: Annotated[str, typer.Option(help="IANA time zone of local clock times.")] = "UTC",
    database: Annotated[
        str | None,
        typer.Option(help="postgresql://user@host/db[?schema=NAME] for a server store (default: DuckDB file)."),
    ] = None,
) -> None:
    """Make a workspace: safercities.toml and a store (embedded DuckDB, or a PostgreSQL/PostGIS schema)."""
    with init(folder, name=name, crs=crs, lang=lang, timezone=timezone, database=database) as ws:
        console.print(f"[green]workspace[/] {ws.config.name!r} in {ws.root} ({ws.config.crs}, {ws.config.timezone})")
