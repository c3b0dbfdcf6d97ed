"""Verbs of fieldwork evidence: `safercities import fieldwork|walks`, `safercities fieldwork …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.cli.import_cmds import report
from safercities.errors import InputError, check_choice
from safercities.workspace import open_workspace

fieldwork_app = typer.Typer(help="Fieldwork evidence: codebook, code frequencies, quotes, safety walks, priorities.")

ReplaceOption = Annotated[bool, typer.Option("--replace", help="Import a file imported before again, replacing it.")]
DateOrderOption = Annotated[
    str, typer.Option("--date-order", help="How to read dates like 03/04/2024: dmy (default), mdy or ymd.")
]
SheetOption = Annotated[str, typer.Option("--sheet", help="Sheet of an Excel workbook (default: the first).")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the table to a .csv or .parquet file.")]
AreaOption = Annotated[str | None, typer.Option("--area", help="Only this community (area id).")]
LangOption = Annotated[str, typer.Option("--lang", help="Language of labels: en, es or fr.")]


@friendly
def import_fieldwork_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX of coded segments of focus groups and interviews.")],
    replace: ReplaceOption = False,
    date_order: DateOrderOption = "dmy",
    sheet: SheetOption = "",
    workspace: WorkspaceOption = None,
) -> None:
    """Import focus-group and interview records: each coded segment stored or rejected with its reason."""
    from safercities.audit.fieldwork import import_fieldwork

    with open_workspace(chosen(workspace)) as ws:
        result = import_fieldwork(ws, file, replace=replace, date_order=date_order, sheet=sheet)
    report(result)


@friendly
def import_walks_command(
    file: Annotated[Path, typer.Argument(help="CSV or XLSX of safety-walk observations (points with ratings).")],
    replace: ReplaceOption = False,
    date_order: DateOrderOption = "dmy",
    sheet: SheetOption = "",
    workspace: WorkspaceOption = None,
) -> None:
    """Import safety-walk observations: each point placed in its area or rejected with its reason."""
    from safercities.audit.walks import import_walks

    with open_workspace(chosen(workspace)) as ws:
        result = import_walks(ws, file, replace=replace, date_order=date_order, sheet=sheet)
    report(result)


@fieldwork_app.command("codebook")
@friendly
def codebook_command(
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only problem, risk_factor or protective_factor codes.")
    ] = None,
    lang: LangOption = "en",
    out: OutOption = None,
) -> None:
    """The codes that fieldwork records may use, with their kind, dimension, label and linked indicators."""
    from safercities.audit.codebook import KINDS, LANGUAGES, load_codebook

    check_choice("lang", lang, LANGUAGES, "fieldwork codebook")
    if kind is not None:
        check_choice("kind", kind, KINDS, "fieldwork codebook")
    frame = load_codebook().to_frame(lang)
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    shown = frame.assign(indicators=frame["indicators"].str.join(", "), links=frame["links"].str.join(", "))
    show_frame(shown, "codebook", limit=1000)


@fieldwork_app.command("codes")
@friendly
def codes_command(
    by: Annotated[
        str, typer.Option("--by", help="Count by: area-group (default), area, group or city.")
    ] = "area-group",
    area: AreaOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """How often each code came up, by community and participant group (segments, sessions, share)."""
    from safercities.audit.fieldwork import code_frequencies, segments

    keys = {
        "area-group": ("area_id", "participant_group"),
        "area": ("area_id",),
        "group": ("participant_group",),
        "city": (),
    }
    check_choice("by", by, tuple(keys), "fieldwork codes")
    with open_workspace(chosen(workspace), read_only=True) as ws:
        held = segments(ws)
    if held.empty:
        raise InputError("no fieldwork records yet", hint="run `safercities import fieldwork FILE` first")
    if area is not None:
        held = _one_area(held, area)
    frame = code_frequencies(held, by=keys[by])
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    show_frame(frame.round({"share": 2}), "code frequencies", limit=40)


@fieldwork_app.command("quotes")
@friendly
def quotes_command(
    code: Annotated[str, typer.Option("--code", help="The code whose quotes to list (see `fieldwork codebook`).")],
    area: AreaOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The quotes coded with one code, with community, group, session and date."""
    from safercities.audit.fieldwork import quotes, segments

    with open_workspace(chosen(workspace), read_only=True) as ws:
        held = segments(ws)
    frame = quotes(held, code, area)
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    if frame.empty:
        console.print(f"no quotes coded '{code}'" + (f" in {area}" if area else ""))
        return
    for row in frame.itertuples(index=False):
        console.print(
            f"[bold]{row.segment_id}[/] {row.area_id} · {row.participant_group} · {row.session_date:%Y-%m-%d}: "
            f"{row.quote or '(no quote)'}",
            highlight=False,
        )


@fieldwork_app.command("walks")
@friendly
def walks_command(
    area: AreaOption = None,
    out: OutOption = None,
    points: Annotated[
        Path | None, typer.Option("--points", help="Also write the observations as points (.gpkg) for a map.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Safety-walk ratings by community and category: n, mean (1 = very bad .. 5 = very good), interval."""
    from safercities.audit.walks import observations, walk_points, walk_summary

    with open_workspace(chosen(workspace), read_only=True) as ws:
        held = observations(ws)
        located = walk_points(ws) if points else None
    if held.empty:
        raise InputError("no walk observations yet", hint="run `safercities import walks FILE` first")
    if area is not None:
        held = _one_area(held, area)
    frame = walk_summary(held).drop(columns="observation_ids")
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    if points and located is not None:
        chosen_points = located if area is None else located[located["area_id"] == area]
        console.print(f"wrote {write_frame(chosen_points, points)}")
    show_frame(frame.round(2), "safety-walk ratings", limit=40)


@fieldwork_app.command("priorities")
@friendly
def priorities_command(
    indicators: Annotated[
        Path | None,
        typer.Option("--indicators", help="Indicator values (long contract, .csv/.parquet); default: imported ones."),
    ] = None,
    survey: Annotated[
        Path | None, typer.Option("--survey", help="Survey perceptions: area_id, indicator, estimate, se.")
    ] = None,
    framework: Annotated[
        Path | None, typer.Option("--framework", help="Framework YAML giving each indicator's direction.")
    ] = None,
    area: AreaOption = None,
    top: Annotated[int, typer.Option("--top", help="Problems to show per community.")] = 3,
    replications: Annotated[int, typer.Option("--replications", help="Bootstrap draws for rank intervals.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Integrated analysis and ranked priority problems per community and city-wide, with the rule and evidence."""
    from safercities.audit.codebook import DEFAULT_FRAMEWORK, framework_indicators
    from safercities.audit.fieldwork import segments
    from safercities.audit.integrated import integrate
    from safercities.audit.priorities import prioritise
    from safercities.audit.walks import observations
    from safercities.schema import TABLES

    values = _read_table(indicators) if indicators else None
    perceptions = _read_table(survey) if survey else None
    frame_file = framework or DEFAULT_FRAMEWORK
    directions = (
        {k: str(v.get("direction", "higher_is_worse")) for k, v in framework_indicators(frame_file).items()}
        if frame_file.exists()
        else {}
    )
    with open_workspace(chosen(workspace), read_only=True) as ws:
        held_segments = segments(ws)
        held_walks = observations(ws)
        if values is None and "indicator_values" in TABLES:
            values = ws.store.read("indicator_values")
    analysis = integrate(
        indicators=values if values is not None and len(values) else None,
        directions=directions,
        segments=held_segments if len(held_segments) else None,
        observations=held_walks if len(held_walks) else None,
        survey=perceptions,
    )
    result = prioritise(analysis, replications=replications, seed=seed)
    table = result.to_frame()
    if out:
        console.print(f"wrote {write_frame(_flat(table), out)}")
    console.print(f"[bold]rule:[/] {result.rule}", highlight=False)
    scopes = ["city", *analysis.profile["area_id"]] if area is None else [area]
    for scope in scopes:
        part = result.for_scope(scope).head(top)
        console.print(f"\n[bold]{scope}[/]")
        for r in part.to_dict("records"):
            factors = f" — with {', '.join(r['risk_factors'])}" if len(r["risk_factors"]) else ""
            console.print(
                f"  {r['rank']}. {r['label']} (score {r['score']:.2f}, "
                f"rank {r['rank_lower']:.0f}–{r['rank_upper']:.0f}){factors}",
                highlight=False,
            )
    found = analysis.disagreements()
    if len(found) and area is None:
        console.print("\n[bold]where the sources disagree[/]")
        for f in found.itertuples(index=False):
            console.print(f"  {f.area_id}: {f.summary}", highlight=False)


def _one_area(frame: pd.DataFrame, area: str) -> pd.DataFrame:
    part = frame[frame["area_id"] == area]
    if part.empty:
        raise InputError(f"no fieldwork in area '{area}'", hint="areas with fieldwork: " + ", ".join(
            sorted(frame["area_id"].unique())[:20]))  # fmt: skip
    return part


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    try:
        return pd.read_csv(path, dtype={"area_id": str, "period": str})
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read as CSV: {exc}", file=path) from exc


def _flat(table: pd.DataFrame) -> pd.DataFrame:
    """Lists as text for CSV: risk factors joined by ';', evidence as JSON."""
    import json

    return table.assign(
        risk_factors=table["risk_factors"].str.join(";"),
        evidence=[json.dumps(e, ensure_ascii=False) for e in table["evidence"]],
    )


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    app.add_typer(fieldwork_app, name="fieldwork")
    import_app.command("fieldwork")(import_fieldwork_command)
    import_app.command("walks")(import_walks_command)
