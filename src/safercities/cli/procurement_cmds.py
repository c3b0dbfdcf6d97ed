"""Verbs of procurement red flags: `safercities procurement …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, stage, write_frame
from safercities.errors import InputError
from safercities.workspace import open_workspace

procurement_app = typer.Typer(help="Corruption-risk screening of public procurement (OCDS).", no_args_is_help=True)

RulesOption = Annotated[
    str | None,
    typer.Option(
        "--rules", help="Thresholds: a shipped profile ('default', 'eu') or a TOML file (see docs/procurement.md)."
    ),
]
LangOption = Annotated[
    str, typer.Option("--lang", help="Language of the labels: en, es or fr (default: the workspace's).")
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the table to a .csv or .parquet file.")]


def _rules(profile: str | None):  # noqa: ANN202 - Rules, imported lazily to keep the CLI fast to start
    from safercities.procurement.rules import load_rules

    return load_rules(profile)


@friendly
def import_command(
    files: Annotated[list[Path], typer.Argument(help="OCDS files: release or record packages, JSON Lines, CSV/XLSX.")],
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding (default: UTF-8, else Latin-1).")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Import a file imported before again.")] = False,
    rules: RulesOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Import OCDS publications: compiled to one record per process, checked for what the red flags need."""
    from safercities.procurement.store import import_ocds

    chosen_rules = _rules(rules)
    with open_workspace(chosen(workspace)) as ws:
        for file in files:
            with stage() as progress:
                result = import_ocds(
                    ws, file, replace=replace, encoding=encoding, rules=chosen_rules, progress=progress
                )
            if result.already_imported:
                console.print(f"{file}: already imported (import {result.import_id}); use --replace to import it again")
                continue
            console.print(
                f"{file}: import {result.import_id}: {result.accepted:,} processes stored, {result.rejected:,} rejected"
            )
            for reason, count in result.rejects_by_reason.items():
                console.print(f"  rejected ({reason}): {count:,}")
            for warning in result.warnings:
                console.print(f"  [yellow]warning:[/] {warning}")


@friendly
def buyer_areas_command(
    file: Annotated[Path, typer.Argument(help="CSV with columns buyer_id,area_id.")],
    replace: Annotated[bool, typer.Option("--replace", help="Import a file imported before again.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Map buyers to areas: where their processes count when a process carries no location."""
    from safercities.procurement.store import import_buyer_areas

    with open_workspace(chosen(workspace)) as ws:
        result = import_buyer_areas(ws, file, replace=replace)
    state = "already imported" if result.already_imported else f"{result.accepted:,} buyers mapped"
    console.print(f"{file}: {state}, {result.rejected:,} rejected")


@friendly
def flags_command(
    rules: RulesOption = None,
    level: Annotated[
        str, typer.Option("--level", help="process (one row per process), buyer or supplier (the risk index).")
    ] = "process",
    only_raised: Annotated[bool, typer.Option("--only-raised", help="Only processes with at least one flag.")] = False,
    out: OutOption = None,
    limit: Annotated[int, typer.Option("--limit", help="Rows to print.")] = 20,
    workspace: WorkspaceOption = None,
) -> None:
    """Every red flag per process, or the rarity-weighted risk index per buyer or supplier, with base rates."""
    from safercities.procurement.flags import PROCESS_FLAGS
    from safercities.procurement.index import risk_index
    from safercities.procurement.store import workspace_flags

    if level not in ("process", "buyer", "supplier"):
        raise InputError(f"The '--level' option must be 'process', 'buyer' or 'supplier'. Got {level!r} instead.")
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = workspace_flags(ws, _rules(rules))
    if level == "process":
        frame = result.processes
        if only_raised:
            frame = frame[frame[list(PROCESS_FLAGS)].eq(1).any(axis=1)]
        console.print(result.summary())
    else:
        index = risk_index(result, level)
        frame = index.table
        console.print(f"rule: {index.rule}")
    if out:
        console.print(f"wrote {write_frame(frame.reset_index(drop=True), out)}")
    show_frame(frame, f"red flags by {level}", limit)


@friendly
def report_command(
    rules: RulesOption = None,
    lang: LangOption = "",
    level: Annotated[
        str | None, typer.Option("--level", help="Area level for risk by area (default: the finest).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Period of risk by area: year, quarter, month or all.")] = "year",
    top: Annotated[int, typer.Option("--top", help="Buyers and suppliers to list.")] = 10,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the report's tables (CSV), created if needed.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The screening report: base rates and weights, riskiest buyers and suppliers, risk by area."""
    from safercities.procurement.report import screening_report

    with open_workspace(chosen(workspace), read_only=True) as ws:
        report = screening_report(ws, _rules(rules), lang=lang or ws.config.lang, level=level, by=by)
    console.print(f"[bold]{report.title}[/]")
    console.print(report.caveat)
    console.print(report.rule)
    show_frame(report.base_rates, report.headings["base_rates"], 30)
    show_frame(report.buyers.head(top), report.headings["buyers"], top)
    show_frame(report.suppliers.head(top), report.headings["suppliers"], top)
    if not report.areas.empty:
        show_frame(report.areas, report.headings["areas"], 30)
    if out:
        for name, frame in report.tables().items():
            write_frame(frame, out / f"{name}.csv")
        console.print(f"wrote the tables to {out}")


@friendly
def indicator_command(
    rules: RulesOption = None,
    level: Annotated[str | None, typer.Option("--level", help="Area level (default: the finest).")] = None,
    by: Annotated[str, typer.Option("--by", help="Period: year, quarter, month or all.")] = "year",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The procurement_risk governance indicator per area and period, in the audit framework's long form."""
    from safercities.procurement.place import governance_indicator

    with open_workspace(chosen(workspace), read_only=True) as ws:
        frame = governance_indicator(ws, _rules(rules), level=level, by=by)
    if out:
        console.print(f"wrote {write_frame(frame, out)}")
    show_frame(frame.round({"value": 4, "lower": 4, "upper": 4, "se": 4}), "procurement_risk by area", 20)


@friendly
def rules_command(
    rules: RulesOption = None,
) -> None:
    """Show the thresholds in force (a profile over the defaults) and where each comes from."""
    chosen_rules = _rules(rules)
    rows = [
        {"section": section, "setting": key, "value": str(value)}
        for section, values in chosen_rules.settings.items()
        for key, value in values.items()
    ]
    show_frame(pd.DataFrame(rows), f"rules: {chosen_rules.name} ({chosen_rules.origin})", 100)


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    procurement_app.command("import")(import_command)
    procurement_app.command("buyer-areas")(buyer_areas_command)
    procurement_app.command("flags")(flags_command)
    procurement_app.command("report")(report_command)
    procurement_app.command("indicator")(indicator_command)
    procurement_app.command("rules")(rules_command)
    app.add_typer(procurement_app, name="procurement")
    import_app.command("ocds")(import_command)
