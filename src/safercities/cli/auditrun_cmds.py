"""Verbs of the audit as a run: `safercities audit run|status|compare|list`, added to the `audit` group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, stage, write_frame
from safercities.config import LANGUAGES
from safercities.errors import InputError, check_choice
from safercities.workspace import open_workspace

FrameworkOption = Annotated[
    str, typer.Option("--framework", "-f", help="A shipped framework (default, usm) or a framework YAML file.")
]
LevelOption = Annotated[str | None, typer.Option("--level", help="Area level audited (default: the finest).")]
PeriodOption = Annotated[
    str | None,
    typer.Option("--period", help="Audit period (2024, 2024-Q1, 2024-03): each indicator's latest up to its end."),
]
SelectOption = Annotated[
    str | None,
    typer.Option(
        "--select-by",
        help="Strata of the selection: a dimension id, 'overall' or an indicator id (default: the crime dimension).",
    ),
]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Language of the summary: en, es or fr (default: the workspace's).")
]


def _framework(value: str) -> str | Path:
    from safercities.audit.framework import shipped_frameworks

    return value if value in shipped_frameworks() else Path(value)


def _lang(value: str | None, where: str) -> str | None:
    if value is not None:
        check_choice("lang", value, LANGUAGES, where)
    return value


@friendly
def run_command(
    framework: FrameworkOption = "default",
    period: PeriodOption = None,
    level: LevelOption = None,
    select_by: SelectOption = None,
    high: Annotated[int, typer.Option("--high", help="Communities to draw in the high stratum.")] = 10,
    medium: Annotated[int, typer.Option("--medium", help="Communities to draw in the medium stratum.")] = 5,
    low: Annotated[int, typer.Option("--low", help="Communities to draw in the low stratum.")] = 5,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the draw, the Monte Carlo and the bootstrap (an integer >= 0).")
    ] = 0,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="A community that must not be drawn (repeat the option).")
    ] = None,
    weights: Annotated[
        Path | None, typer.Option("--weights", help="CSV of weights (id,weight) by indicator or dimension id.")
    ] = None,
    normalisation: Annotated[
        str, typer.Option("--normalisation", help="minmax, zscore, rank, distance_to_target or goalposts.")
    ] = "minmax",
    aggregation: Annotated[str, typer.Option("--aggregation", help="arithmetic or geometric mean.")] = "arithmetic",
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws per sample (rank intervals).")] = 1000,
    min_coverage: Annotated[
        float, typer.Option("--min-coverage", help="Share of a dimension's indicators an area needs to be scored.")
    ] = 0.5,
    replications: Annotated[
        int, typer.Option("--replications", help="Bootstrap draws of the priorities' rank intervals (0 = none).")
    ] = 200,
    public: Annotated[
        bool, typer.Option("--public", help="Withhold formula values resting on small counts (the disclosure rule).")
    ] = False,
    lang: LangOption = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write summary.pdf (WeasyPrint).")] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder of the bundle (new or empty; default: WORKSPACE/audits/<time>)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Run the audit's steps 1–4 and write the bundle: manifest, tables, map and summary."""
    from safercities.audit.run import run_audit

    _lang(lang, "audit run")
    with open_workspace(chosen(workspace), read_only=True) as ws, stage() as progress:
        progress("running the audit")
        bundle = run_audit(
            ws,
            framework=_framework(framework),
            period=period,
            level=level,
            selection_indicator=select_by,
            counts={"high": high, "medium": medium, "low": low},
            seed=seed,
            exclude=tuple(exclude or ()),
            weights=weights,
            normalisation=normalisation,
            aggregation=aggregation,
            draws=draws,
            min_coverage=min_coverage,
            replications=replications,
            public=public,
            lang=lang,
            pdf=pdf,
            out=out,
        )
    console.print(f"[green]audit written[/] to {bundle.path}", highlight=False)
    for step in bundle.steps:
        console.print(f"  step {step['step']} {step['id']}: {'done' if step['done'] else 'not yet (no fieldwork)'}")
    console.print(bundle.summary(), highlight=False)
    console.print(f"summary: {bundle.summary_html}", highlight=False)
    if bundle.summary_pdf is not None:
        console.print(f"pdf: {bundle.summary_pdf}", highlight=False)


@friendly
def status_command(
    framework: FrameworkOption = "default",
    level: LevelOption = None,
    period: PeriodOption = None,
    select_by: SelectOption = None,
    lang: LangOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Which steps of the audit have the data they need, and what is missing."""
    from safercities.audit.status import audit_status

    _lang(lang, "audit status")
    with open_workspace(chosen(workspace), read_only=True) as ws:
        status = audit_status(
            ws, _framework(framework), level=level, period=period, selection_indicator=select_by, lang=lang
        )
    colour = {"ready": "green", "partial": "yellow", "blocked": "red", "outside": "dim"}
    table = status.to_frame()
    rows: list[Any] = list(table.itertuples(index=False))
    for row in rows:
        console.print(f"[bold]{row.step}. {row.name}[/]: [{colour[row.state]}]{row.state_label}[/]")
        for line in row.missing.splitlines():
            console.print(f"   - {line}", highlight=False, markup=False)
    counts = status.counts
    console.print(
        f"{counts['areas']} areas at level '{status.level}', {counts['indicators_used']} of {counts['indicators']} "
        f"indicators usable, {counts['segments']} fieldwork segments, {counts['walk_observations']} walk "
        f"observations, {counts['surveys']} surveys",
        highlight=False,
    )


@friendly
def compare_command(
    before: Annotated[Path, typer.Argument(help="Folder of the earlier audit bundle.")],
    after: Annotated[Path, typer.Argument(help="Folder of the later audit bundle.")],
    top: Annotated[int, typer.Option("--top", help="Priorities compared per scope (the first N).")] = 3,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the rank changes to a .csv or .parquet file.")
    ] = None,
) -> None:
    """What changed between two audits: inputs, parameters, ranks beyond their intervals, selection, priorities."""
    from safercities.audit.compare import compare_audits

    comparison = compare_audits(before, after, top=top)
    if out:
        console.print(f"wrote {write_frame(comparison.ranks, out)}")
    console.print(comparison.summary(), highlight=False, markup=False)
    moved = comparison.moved()
    if len(moved):
        show_frame(
            moved[["area_id", "name", "rank_before", "lower_before", "upper_before", "rank_after", "disjoint"]],
            "overall ranks beyond the earlier interval",
        )


@friendly
def list_command(workspace: WorkspaceOption = None) -> None:
    """The audit bundles kept in the workspace (WORKSPACE/audits/), oldest first."""
    from safercities.audit.run import list_audits

    with open_workspace(chosen(workspace), read_only=True) as ws:
        held = list_audits(ws)
    if held.empty:
        console.print("no audit yet: run `safercities audit run`")
        return
    show_frame(held.assign(content_sha256=held["content_sha256"].str[:12]), "audits", limit=100)


COMMANDS = {"run": run_command, "status": status_command, "compare": compare_command, "list": list_command}


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add ``run``, ``status``, ``compare`` and ``list`` to the ``audit`` group (registered by audit_cmds);
    calling it twice adds nothing twice."""
    group = next((g.typer_instance for g in app.registered_groups if g.name == "audit"), None)
    if group is None:
        raise InputError("the `audit` command group is not registered: register audit_cmds before auditrun_cmds")
    held = {c.name for c in group.registered_commands}
    for name, command in COMMANDS.items():
        if name not in held:
            group.command(name)(command)  # type: ignore[type-var]
