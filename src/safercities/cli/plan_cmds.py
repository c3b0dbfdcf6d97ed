"""Verbs of the plan, its monitoring and evaluations: `safercities plan …`, `safercities evaluate …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.errors import WorkspaceError
from safercities.workspace import open_workspace

plan_app = typer.Typer(help="The crime-prevention plan: workbook import/export, targets monitored, recommendations.")

LangOption = Annotated[
    str | None, typer.Option("--lang", help="Language of the texts: en, es or fr (default: the workspace's).")
]
FrameworkOption = Annotated[
    str, typer.Option("--framework", help="Indicator framework of the targets: a name or a YAML file.")
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Also write the table to a .csv or .parquet file.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Monitor as of this day (YYYY-MM-DD; default: today).")]


@friendly
def import_command(
    file: Annotated[
        Path, typer.Argument(help="The plan workbook (.xlsx) with sheets interventions, targets, recommendations.")
    ],
    replace: Annotated[bool, typer.Option("--replace", help="Replace an earlier import of the same file.")] = False,
    framework: FrameworkOption = "default",
    workspace: WorkspaceOption = None,
) -> None:
    """Import the plan: valid rows become the plan in force; bad rows are kept in rejects with sheet, row, column."""
    from safercities.plan import import_plan

    with open_workspace(chosen(workspace)) as ws:
        result = import_plan(ws, file, replace=replace, framework=framework)
        rejects = ws.rejects(result.import_id) if result.rejected else pd.DataFrame()
    if result.already_imported:
        console.print(f"{result.file} was already imported as import {result.import_id}: nothing changed")
        return
    console.print(
        f"import {result.import_id}: {result.accepted:,} interventions stored (with their targets and "
        f"recommendations), {result.rejected:,} rows rejected of {result.rows_read:,} rows read"
    )
    for reason in rejects.get("reason", pd.Series(dtype=str)).head(20):
        console.print(f"  [red]rejected:[/] {reason}", highlight=False, soft_wrap=True)
    if result.rejected > 20:
        console.print(f"  … see `safercities rejects --import {result.import_id}`")
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


@friendly
def export_command(
    out: Annotated[Path, typer.Argument(help="The workbook to write (.xlsx).")],
    lang: LangOption = None,
    framework: FrameworkOption = "default",
    workspace: WorkspaceOption = None,
) -> None:
    """Write the plan in force as an Excel workbook to edit and import again (drop-down lists included)."""
    from safercities.plan import export_plan

    with open_workspace(chosen(workspace), read_only=True) as ws:
        path = export_plan(ws, out, lang=lang, framework=framework)
    console.print(f"wrote {path}")


@friendly
def template_command(
    out: Annotated[Path, typer.Argument(help="The empty workbook to write (.xlsx).")],
    lang: LangOption = None,
    framework: FrameworkOption = "default",
    workspace: WorkspaceOption = None,
) -> None:
    """Write an empty plan workbook with its README and drop-down lists (the workspace's actors and areas if any)."""
    from safercities.plan import write_template

    try:
        ws = open_workspace(chosen(workspace), read_only=True)
    except WorkspaceError:
        if workspace is not None:
            raise
        path = write_template(out, None, lang=lang or "en", framework=framework)
    else:
        with ws:
            path = write_template(out, ws, lang=lang or ws.config.lang, framework=framework)
    console.print(f"wrote {path}")


@friendly
def show_command(
    lang: LangOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Show the plan in force: interventions (who is accountable, budget, horizon, status) and targets."""
    from safercities.plan import stored_plan

    with open_workspace(chosen(workspace), read_only=True) as ws:
        plan = stored_plan(ws)
        language = lang or ws.config.lang
    table = plan.interventions.assign(title=plan.title(language).to_numpy())[
        [
            "intervention_id",
            "title",
            "practice_id",
            "problems",
            "areas",
            "accountable",
            "budget",
            "currency",
            "start_date",
            "end_date",
            "horizon",
            "status",
        ]  # fmt: skip
    ]
    show_frame(table, f"plan (import {plan.import_id}): interventions", limit=200)
    show_frame(
        plan.targets[
            ["target_id", "indicator_id", "scope", "baseline_period", "baseline", "target_value", "target_date"]
        ],
        "targets",
        limit=200,
    )
    if out is not None:
        write_frame(table, out)
        console.print(f"wrote {out}")


@friendly
def monitor_command(
    as_of: AsOfOption = None,
    lang: LangOption = None,
    confidence: Annotated[float, typer.Option("--confidence", help="Confidence level of the intervals.")] = 0.95,
    framework: FrameworkOption = "default",
    public: Annotated[
        bool, typer.Option("--public", help="Withhold figures resting on a count below disclosure.min_count.")
    ] = False,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Progress of every target with its interval, on track / at risk / off track by the rule shown; plan summary."""
    from safercities.plan import monitor_plan

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = monitor_plan(
            ws, as_of=as_of, framework=framework, confidence=confidence, lang=lang or ws.config.lang, public=public
        )
    frame = result.to_frame()
    shown = frame.assign(
        progress=frame["progress"].map(lambda v: f"{v:.2f}" if pd.notna(v) else ""),
        interval=[
            f"[{lo:.2f}, {hi:.2f}]" if pd.notna(lo) else ""
            for lo, hi in zip(frame["progress_lower"], frame["progress_upper"], strict=True)
        ],
        expected=frame["expected"].map(lambda v: f"{v:.2f}" if pd.notna(v) else ""),
    )[["target_id", "indicator_id", "scope", "baseline", "current_period", "current", "target_value", "progress",
       "interval", "expected", "status_label"]]  # fmt: skip
    show_frame(shown.round(2), f"targets as of {result.as_of}", limit=200)
    budget = result.budget[result.budget["interventions"] > 0]
    show_frame(budget, "budget by horizon and status", limit=200)
    show_frame(result.actors, "actors' load (RACI)", limit=200)
    console.print(result.summary(), highlight=False, soft_wrap=True)
    if out is not None:
        write_frame(frame, out)
        out.with_suffix(".txt").write_text(result.summary() + "\n", encoding="utf-8")
        console.print(f"wrote {out} and {out.with_suffix('.txt')}")


@friendly
def recommendations_command(
    as_of: AsOfOption = None,
    lang: LangOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The audit's recommendations: who answers for each, its status, and the share addressed over time."""
    from safercities.plan import stored_plan
    from safercities.plan.labels import label
    from safercities.plan.summary import recommendations_over_time

    with open_workspace(chosen(workspace), read_only=True) as ws:
        plan = stored_plan(ws)
        language = lang or ws.config.lang
    recs = plan.recommendations
    day = pd.Timestamp(as_of).date() if as_of else pd.Timestamp.today().date()
    table = recs.assign(status_label=[label(f"recommendation.{s}", language) for s in recs["status"]])[
        ["recommendation_id", "text", "responsible", "status_label", "date_made", "date_addressed"]
    ]
    show_frame(table, "recommendations", limit=500)
    timeline = recommendations_over_time(recs, day)
    show_frame(timeline, "addressed over time", limit=500)
    console.print(label("rule.recommendations", language), highlight=False, soft_wrap=True)
    if out is not None:
        write_frame(table, out)
        console.print(f"wrote {out}")


@friendly
def history_command(out: OutOption = None, workspace: WorkspaceOption = None) -> None:
    """Every import of the plan: when, who, which file, rows stored and rejected, and what each one changed."""
    from safercities.plan import plan_history

    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = plan_history(ws)
    brief = frame.assign(
        file=frame["file"].map(lambda f: Path(f).name),
        finished_at=pd.to_datetime(frame["finished_at"]).dt.strftime("%Y-%m-%d %H:%M"),
        changes=frame["changes"].map(lambda t: t if len(t) <= 60 else t[:57] + "…"),
    )
    show_frame(brief, "plan imports", limit=500)
    if out is not None:
        write_frame(frame, out)
        console.print(f"wrote {out}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    plan_app.command("import")(import_command)
    plan_app.command("export")(export_command)
    plan_app.command("template")(template_command)
    plan_app.command("show")(show_command)
    plan_app.command("monitor")(monitor_command)
    plan_app.command("recommendations")(recommendations_command)
    plan_app.command("history")(history_command)
    app.add_typer(plan_app, name="plan")
