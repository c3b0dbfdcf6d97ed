"""`safercities import …`: areas, incidents and offence tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, stage
from safercities.workspace import ImportResult, open_workspace

app = typer.Typer(help="Bring a city's files into the workspace (all or nothing, every reject kept).")


def report(result: ImportResult) -> None:
    if result.already_imported:
        console.print(
            f"[yellow]already imported[/] {result.file} (import {result.import_id}, same SHA-256): nothing changed; "
            "use --replace to import it again"
        )
        return
    console.print(
        f"[green]import {result.import_id}[/] {result.file}: {result.rows_read:,} rows read, "
        f"{result.accepted:,} accepted, {result.rejected:,} rejected"
    )
    for reason, count in sorted(result.rejects_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(f"  rejected {count:,}: {reason}")
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/] {warning}")
    if result.rejected:
        console.print("  see them with `safercities rejects`")


@app.command("areas")
@friendly
def areas_command(
    file: Annotated[Path, typer.Argument(help="GeoJSON, GeoPackage, Shapefile, or CSV with a WKT column.")],
    id: Annotated[str, typer.Option("--id", help="Column of the area id.")],  # noqa: A002
    name: Annotated[str, typer.Option(help="Column of the area name.")] = "",
    population: Annotated[str, typer.Option(help="Column of the population.")] = "",
    level: Annotated[str, typer.Option(help="Column of the level (city, district, community…).")] = "",
    parent: Annotated[str, typer.Option(help="Column of the parent area id.")] = "",
    default_level: Annotated[str, typer.Option(help="Level of every area when no level column is given.")] = "area",
    layer: Annotated[str | None, typer.Option(help="Layer of a GeoPackage.")] = None,
    source_crs: Annotated[
        str | None, typer.Option(help="CRS of a file that has none (CSV, shapefile without .prj).")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (detected when absent).")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Import a file imported before again, replacing it.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import area boundaries, validated and stored in the workspace CRS."""
    with open_workspace(chosen(workspace)) as ws, stage() as progress:
        result = ws.import_areas(
            file,
            id=id,
            name=name,
            population=population,
            level=level,
            parent=parent,
            default_level=default_level,
            layer=layer,
            source_crs=source_crs,
            encoding=encoding,
            replace=replace,
            progress=progress,
        )
    report(result)


@app.command("incidents")
@friendly
def incidents_command(
    file: Annotated[Path, typer.Argument(help="CSV, Excel, Parquet or GeoJSON of incidents.")],
    mapping: Annotated[Path | None, typer.Option(help="Mapping file (TOML): see docs/mapping.md.")] = None,
    preset: Annotated[str | None, typer.Option(help="A shipped mapping: police-uk, chicago, code.")] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Import a file imported before again, replacing it.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import incidents: each placed in its area and given its ICCS code, or rejected with the reason."""
    with open_workspace(chosen(workspace)) as ws, stage() as progress:
        result = ws.import_incidents(file, mapping=mapping, preset_name=preset, replace=replace, progress=progress)
    report(result)


@app.command("offences")
@friendly
def offences_command(
    file: Annotated[Path, typer.Argument(help="CSV with local_code, local_label, iccs_code.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Add or update the workspace's local offence code -> ICCS table."""
    with open_workspace(chosen(workspace)) as ws:
        n = ws.import_offences(file)
    console.print(f"[green]{n}[/] offence codes stored")
