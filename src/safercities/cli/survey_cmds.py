"""Verbs of victimisation surveys: `safercities survey …` and `safercities import survey`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, stage, write_frame
from safercities.errors import InputError

app = typer.Typer(
    help="Victimisation surveys: the questionnaire, design-based estimates, SDG indicators, the dark figure."
)

SurveyOption = Annotated[str | None, typer.Option("--survey", help="Survey id (default: the one imported last).")]
LevelOption = Annotated[str | None, typer.Option("--level", help="Area level to break down by (default: as recorded).")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the table to a .csv or .parquet file.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="Language of the names: en, es or fr.")]
ConfidenceOption = Annotated[float, typer.Option("--confidence", help="Confidence level of the intervals.")]

SHOWN = ["by", "domain", "estimate", "lower", "upper", "cv", "n", "note"]


def _split(values: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in values.split(",") if v.strip())


@app.command("form")
@friendly
def form_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="The XLSForm to write (.xlsx).")] = Path("survey_form.xlsx"),
    lang: Annotated[str, typer.Option("--lang", help="Default language of the form: en, es or fr.")] = "en",
    area_level: Annotated[
        str | None, typer.Option("--area-level", help="List the workspace's areas of this level as choices.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the core victimisation questionnaire as an XLSForm (KoboToolbox, ODK), labels in en/es/fr."""
    from safercities.survey.instrument import write_xlsform

    areas = None
    if area_level is not None:
        from safercities.workspace import open_workspace

        with open_workspace(chosen(workspace), read_only=True) as ws:
            areas = ws.areas(area_level)[["area_id", "name"]]
    path = write_xlsform(out, lang, areas=areas)
    console.print(f"wrote {path}: upload it to KoboToolbox or ODK Central as it is")


@friendly
def import_survey_command(
    file: Annotated[Path, typer.Argument(help="KoboToolbox or ODK export (CSV or XLSX), or a generic CSV/XLSX.")],
    design: Annotated[Path, typer.Option("--design", help="Design file (TOML or YAML): see docs/survey.md.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Import a file imported before again, replacing it.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import survey answers with their design: every row stored or rejected with its reason."""
    from safercities.cli.import_cmds import report
    from safercities.survey.importing import import_survey
    from safercities.workspace import open_workspace

    with open_workspace(chosen(workspace)) as ws, stage() as progress:
        result = import_survey(ws, file, design, replace=replace, progress=progress)
    report(result)


@app.command("list")
@friendly
def list_command(workspace: WorkspaceOption = None) -> None:
    """The surveys the workspace holds: id, import, file, respondents, reference period."""
    from safercities.survey.importing import surveys
    from safercities.workspace import open_workspace

    with open_workspace(chosen(workspace), read_only=True) as ws:
        held = surveys(ws)
    if held.empty:
        console.print("no survey yet: `safercities import survey FILE --design DESIGN`")
        return
    held["period"] = [f"{d.period_start or '?'} .. {d.period_end or '?'}" for d in held["design"]]
    show_frame(held.drop(columns=["design"]), "surveys")


@app.command("estimate")
@friendly
def estimate_command(
    variables: Annotated[str, typer.Argument(help="Comma-separated variables (see docs/survey.md) or question names.")],
    kind: Annotated[str, typer.Option("--kind", help="proportion, mean or total.")] = "proportion",
    by: Annotated[str | None, typer.Option("--by", help="Domain: sex, age_group, disability or area.")] = None,
    unit: Annotated[str, typer.Option("--unit", help="person, or household (household weights).")] = "person",
    method: Annotated[
        str | None, typer.Option("--method", help="taylor or replicate (default: as the design).")
    ] = None,
    level: LevelOption = None,
    survey: SurveyOption = None,
    confidence: ConfidenceOption = 0.95,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Design-based estimates with standard errors, intervals, CVs and design effects, by domain."""
    from safercities.survey.estimates import survey_estimate
    from safercities.workspace import open_workspace

    with open_workspace(chosen(workspace), read_only=True) as ws:
        table = survey_estimate(
            ws, _split(variables), kind=kind, by=by, unit=unit, method=method, level=level, survey_id=survey,
            confidence=confidence,
        )  # fmt: skip
    if out:
        console.print(f"wrote {write_frame(table, out)}")
    columns = ["variable", "level", *SHOWN, "deff"]
    show_frame(table[[c for c in columns if c in table]].round(4), f"{kind} by {by or 'all'}", 40)


@app.command("indicators")
@friendly
def indicators_command(
    level: LevelOption = None,
    by: Annotated[str, typer.Option("--by", help="Breakdowns: all,sex,age_group,disability,area.")] = (
        "all,sex,age_group,disability,area"
    ),
    survey: SurveyOption = None,
    lang: LangOption = None,
    confidence: ConfidenceOption = 0.95,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """SDG 16.1.3, 16.1.4, 16.3.1, 16.5.1 and 11.7.2 with intervals, unreliable ones flagged, small cells withheld."""
    from safercities.survey.indicators import survey_indicators
    from safercities.workspace import open_workspace

    with open_workspace(chosen(workspace), read_only=True) as ws:
        table = survey_indicators(ws, survey, level=level, by=_split(by), lang=lang, confidence=confidence)
    if out:
        console.print(f"wrote {write_frame(table, out)}")
    show_frame(table[["indicator", *SHOWN]].round(4), "SDG indicators", 40)


@app.command("rates")
@friendly
def rates_command(
    level: LevelOption = None,
    by: Annotated[str, typer.Option("--by", help="Breakdowns: all,sex,age_group,disability,area.")] = "all,area",
    survey: SurveyOption = None,
    lang: LangOption = None,
    confidence: ConfidenceOption = 0.95,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Prevalence and incidents per 1,000 by crime type, last 12 months, with intervals."""
    from safercities.survey.indicators import survey_crime_rates
    from safercities.workspace import open_workspace

    with open_workspace(chosen(workspace), read_only=True) as ws:
        table = survey_crime_rates(ws, survey, level=level, by=_split(by), lang=lang, confidence=confidence)
    if out:
        console.print(f"wrote {write_frame(table, out)}")
    show_frame(table[["crime", "measure", *SHOWN]].round(4), "victimisation by crime type", 40)


@app.command("dark-figure")
@friendly
def dark_figure_command(
    level: LevelOption = None,
    top: Annotated[int, typer.Option("--top", help="Areas to show per crime type, most understated first.")] = 3,
    survey: SurveyOption = None,
    lang: LangOption = None,
    confidence: ConfidenceOption = 0.95,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Survey-estimated vs police-recorded crimes per area: the recorded share with its interval."""
    from safercities.survey.darkfigure import most_understated, survey_dark_figure
    from safercities.workspace import open_workspace

    if top < 1:
        raise InputError(f"--top must be at least 1; got {top}")
    with open_workspace(chosen(workspace), read_only=True) as ws:
        table = survey_dark_figure(ws, survey, level=level, lang=lang, confidence=confidence)
    if out:
        console.print(f"wrote {write_frame(table, out)}")
    columns = ["area_id", "iccs", "name", "survey_total", "police_recorded", "reporting_rate"]
    columns += ["reporting_lower", "reporting_upper", "understatement", "note"]
    show_frame(most_understated(table, top)[columns].round(3), "where police records understate crime most", 60)
    console.print(
        "reporting rate = police-recorded / survey-estimated incidents; interval by the delta method on the log scale"
    )


def register(app_: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    app_.add_typer(app, name="survey")
    import_app.command("survey")(import_survey_command)
