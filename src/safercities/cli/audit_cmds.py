"""Verbs of the local safety audit: `safercities audit framework|indicators|maturity`, `import indicators`.

Other audit modules add their verbs to :data:`audit_app` from their own ``register``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.cli.import_cmds import report
from safercities.config import LANGUAGES
from safercities.errors import check_choice
from safercities.workspace import open_workspace

audit_app = typer.Typer(help="The local safety audit: indicator framework, indicator values, data maturity.")

FrameworkOption = Annotated[
    str, typer.Option("--framework", "-f", help="A shipped framework (default, usm) or a framework YAML file.")
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the table to a .csv or .parquet file.")]
LangOption = Annotated[str, typer.Option("--lang", help="Language of names and rules: en, es or fr.")]


def _framework_arg(value: str) -> str | Path:
    from safercities.audit.framework import shipped_frameworks

    return value if value in shipped_frameworks() else Path(value)


@friendly
def import_indicators_command(
    file: Annotated[Path, typer.Argument(help="CSV, Excel or Parquet of indicator values (long or wide).")],
    framework: FrameworkOption = "default",
    wide: Annotated[
        bool | None,
        typer.Option("--wide/--long", help="Layout: one column per indicator, or one row per value (default: detect)."),
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Period of rows that give none: 2024, 2024-Q1 or 2024-03.")
    ] = None,
    source: Annotated[str | None, typer.Option("--source", help="Source of rows that give none.")] = None,
    area_column: Annotated[str, typer.Option("--area-column", help="Column of the area id.")] = "area_id",
    decimal: Annotated[
        str, typer.Option("--decimal", help="Decimal mark: auto (1.234,5 and 12,5 read right), '.' or ','.")
    ] = "auto",
    replace: Annotated[
        bool, typer.Option("--replace", help="Import a file imported before again, replacing it.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import indicator values by area and period: every cell checked, every reject kept with its reason."""
    from safercities.audit.indicators import import_indicators

    layout = "auto" if wide is None else "wide" if wide else "long"
    with open_workspace(chosen(workspace)) as ws:
        result = import_indicators(
            ws,
            file,
            framework=_framework_arg(framework),
            layout=layout,
            period=period,
            source=source,
            area_column=area_column,
            decimal=decimal,
            replace=replace,
        )
    report(result)


@friendly
def framework_command(
    file: Annotated[
        str, typer.Argument(help="A shipped framework (default, usm) or a framework YAML file.")
    ] = "default",
    lang: LangOption = "en",
    out: OutOption = None,
) -> None:
    """Validate a framework file and list its dimensions and indicators."""
    from safercities.audit.framework import load_framework

    check_choice("lang", lang, LANGUAGES, "audit framework")
    fw = load_framework(_framework_arg(file))
    table = fw.to_frame(lang)
    if out:
        console.print(f"wrote {write_frame(table, out)}")
    console.print(f"[green]valid[/] framework '{fw.id}' version {fw.version}: {fw.name[lang]}")
    console.print(
        f"  {len(fw.dimensions)} dimensions, {len(fw.indicators)} indicators "
        f"({sum(not i.imported for i in fw.indicators)} by formula, "
        f"{sum(i.imported for i in fw.indicators)} imported); sha256 {fw.sha256[:12]}"
    )
    for dimension in fw.dimensions:
        console.print(f"  [bold]{dimension.id}[/] {dimension.name[lang]}: {len(dimension.indicator_ids)} indicators")
    show_frame(table[["indicator_id", "dimension", "name", "unit", "direction", "formula"]], "indicators", limit=200)


@friendly
def indicators_command(
    framework: FrameworkOption = "default",
    period: Annotated[
        list[str] | None, typer.Option("--period", help="Period(s): 2024, 2024-Q1 or 2024-03 (default: all held).")
    ] = None,
    level: Annotated[str | None, typer.Option("--level", help="Area level (default: the finest).")] = None,
    public: Annotated[
        bool, typer.Option("--public", help="Withhold values resting on small counts (the disclosure rule).")
    ] = False,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Compute the framework's indicator values (imported and by formula) for every area and period."""
    from safercities.audit.framework import load_framework
    from safercities.audit.indicators import indicator_values

    fw = load_framework(_framework_arg(framework))
    with open_workspace(chosen(workspace), read_only=True) as ws:
        values = indicator_values(ws, fw, period=period or None, level=level, public=public)
    if out:
        console.print(f"wrote {write_frame(values, out)}")
    known = values.assign(known=values["value"].notna())
    dims = {i.id: i.dimension for i in fw.indicators}
    by_dimension = (
        known.assign(dimension=known["indicator_id"].map(dims))
        .groupby(["dimension", "period"], sort=False)["known"]
        .mean()
        .mul(100)
        .round(1)
        .rename("known_%")
        .reset_index()
    )
    show_frame(by_dimension, "share of values known by dimension and period (the rest are missing, NaN)", 100)
    console.print(f"{int(known['known'].sum()):,} of {len(values):,} values known")
    withheld = int(values["source"].astype("string").str.startswith("withheld").fillna(False).sum())
    if public:
        console.print(f"{withheld:,} values withheld because they rest on a count below the disclosure threshold")


@friendly
def maturity_command(
    framework: FrameworkOption = "default",
    level: Annotated[str | None, typer.Option("--level", help="Area level (default: the finest).")] = None,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Data maturity computed from what the workspace holds, with the rule behind each level."""
    from safercities.audit.maturity import data_maturity

    check_choice("lang", lang, LANGUAGES, "audit maturity")
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = data_maturity(ws, _framework_arg(framework), level=level)
    table = result.to_frame(lang)
    if out:
        console.print(f"wrote {write_frame(table, out)}")
    shown = table.assign(value=table["value"].round(1))
    show_frame(shown[["name", "value", "unit", "level", "level_label", "detail"]], "data maturity", 100)
    for criterion, rule in dict(zip(table["criterion"], table["rule"], strict=True)).items():
        console.print(f"  [dim]{criterion}: {rule}[/]")
    console.print(f"[bold]overall:[/] {result.summary(lang)}")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    import_app.command("indicators")(import_indicators_command)
    audit_app.command("framework")(framework_command)
    audit_app.command("indicators")(indicators_command)
    audit_app.command("maturity")(maturity_command)
    app.add_typer(audit_app, name="audit")
