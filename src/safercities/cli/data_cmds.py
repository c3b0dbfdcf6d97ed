"""Verbs that show what the workspace holds: rejects, imports, the cube, rates, quality."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.ingest.mapping import preset_names
from safercities.workspace import open_workspace

ByOption = Annotated[str, typer.Option("--by", help="Period: day, week, month, quarter or year.")]
LevelOption = Annotated[str | None, typer.Option(help="Area level (default: the finest).")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the table to a .csv or .parquet file.")]


@friendly
def rejects_command(
    import_id: Annotated[int | None, typer.Option("--import", help="Only the rejects of this import.")] = None,
    out: OutOption = None,
    limit: Annotated[int, typer.Option(help="Rows to print.")] = 20,
    workspace: WorkspaceOption = None,
) -> None:
    """List the rows that imports could not use, with file, row, column and reason."""
    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = ws.rejects(import_id)
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    if frame.empty:
        console.print("no rejected rows")
        return
    show_frame(frame[["import_id", "file", "row_number", "column_name", "reason"]], "rejected rows", limit)


@friendly
def imports_command(workspace: WorkspaceOption = None) -> None:
    """The import log: file, SHA-256, rows, who and when."""
    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = ws.imports()
    frame["sha256"] = frame["sha256"].str[:12]
    columns = ["import_id", "kind", "file", "sha256", "rows_read", "rows_accepted", "rows_rejected", "username"]
    show_frame(frame[columns + ["finished_at", "status"]], "imports", limit=1000)


@friendly
def cube_command(
    by: ByOption = "month", level: LevelOption = None, out: OutOption = None, workspace: WorkspaceOption = None
) -> None:
    """Incident counts by area x period x ICCS section, with zeros where nothing happened."""
    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = ws.cube(by=by, level=level)
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    show_frame(frame, f"counts by area x {by} x ICCS section; total {int(frame['count'].sum()):,}", 15)


@friendly
def rates_command(
    by: ByOption = "year",
    level: LevelOption = None,
    per: Annotated[float, typer.Option(help="Rate per this many inhabitants.")] = 100_000,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Rates per 100,000 inhabitants with exact Poisson 95% intervals; unstable rates flagged."""
    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = ws.rates(by=by, level=level, per=per)
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    shown = frame.round({"rate": 1, "lower": 1, "upper": 1})
    show_frame(shown, f"rates per {per:,.0f} by area x {by}", 15)
    console.print(
        f"{int(frame['unstable'].sum()):,} of {len(frame):,} rates are unstable (few events or small population)"
    )


def presets_command() -> None:
    """The shipped mappings for well-known open police-data formats."""
    for name in preset_names():
        console.print(name)


def iccs_command(
    lang: Annotated[str, typer.Option(help="Language of the names: en, es or fr.")] = "en",
    level: Annotated[int, typer.Option(help="Deepest level to list (1 = the 11 sections).")] = 2,
) -> None:
    """The ICCS codes an offence table can map local codes to."""
    from safercities.iccs import load_iccs

    table = load_iccs()
    column = f"name_{lang}" if f"name_{lang}" in table.columns else "name_en"
    for code, depth, text in table.loc[table["level"] <= level, ["code", "level", column]].itertuples(index=False):
        console.print(f"{'  ' * (int(depth) - 1)}{code}  {text}", highlight=False)


@friendly
def quality_command(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for quality.html and quality.json.")] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the report (default: the workspace's).")] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Data-quality report: completeness, geocoding, duplicates, rejects, time coverage, delays, offence mix."""
    from safercities.quality import quality_report
    from safercities.report.quality import print_quality, write_quality

    with open_workspace(chosen(workspace), read_only=True) as ws:
        report = quality_report(ws)
        language = lang or ws.config.lang
        folder = out or ws.root / "outputs"
    print_quality(report, console, lang=language)
    html, data = write_quality(report, folder, lang=language)
    console.print(f"wrote {html} and {data}")
