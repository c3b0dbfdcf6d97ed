"""Verbs of evaluations of interventions: `safercities evaluate …`, each a thin call of safercities.evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.errors import InputError
from safercities.workspace import open_workspace

app = typer.Typer(help="Did it work? Difference-in-differences, time series, synthetic control, displacement, "
                       "power and cost-benefit of an intervention.")  # fmt: skip

TreatedOption = Annotated[str, typer.Option("--treated", help="Treated area ids, comma-separated.")]
StartOption = Annotated[str, typer.Option("--start", help="First day of the intervention (YYYY-MM-DD).")]
BufferOption = Annotated[
    str | None,
    typer.Option("--buffer", help="Buffer area ids, comma-separated (default: the treated areas' neighbours; "
                                  "'none' for no buffer)."),
]  # fmt: skip
ComparisonOption = Annotated[
    str | None, typer.Option("--comparison", help="Comparison area ids, comma-separated (default: all the others).")
]
IccsOption = Annotated[str | None, typer.Option("--iccs", help="Only offences whose ICCS code starts so (e.g. 0401).")]
LevelOption = Annotated[str | None, typer.Option("--level", help="Area level (default: the finest).")]
FirstOption = Annotated[str | None, typer.Option("--first", help="First day of the pre-period (default: the data's).")]
EndOption = Annotated[str | None, typer.Option("--end", help="Day after the post-period (default: the data's end).")]
LangOption = Annotated[str, typer.Option("--lang", help="Language of the assumptions: en, es or fr.")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write the result table (.csv or .parquet).")]
FamilyOption = Annotated[str, typer.Option("--family", help="Count model: poisson or negbin.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the random draws.")]


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _design(treated: str, start: str, buffer: str | None, comparison: str | None, iccs: str | None,
            level: str | None, first: str | None, end: str | None) -> Any:  # fmt: skip
    from safercities.evaluation import Design

    if not _ids(treated):
        raise InputError("--treated names no area; give ids separated by commas, e.g. --treated C001,C002")
    buffer_ids = None if buffer is None else (() if buffer.strip().lower() == "none" else _ids(buffer))
    return Design(treated=_ids(treated), start=start, comparison=_ids(comparison), buffer=buffer_ids, iccs=iccs,
                  level=level, first=first, end=end)  # fmt: skip


def _deliver(summary: str, frame: pd.DataFrame, out: Path | None) -> None:
    if out is not None:
        write_frame(frame, out)
        out.with_suffix(".txt").write_text(summary + "\n", encoding="utf-8")
    console.print(summary, highlight=False, soft_wrap=True)
    if out is not None:
        console.print(f"wrote {out} and {out.with_suffix('.txt')}")


@app.command("did")
@friendly
def did_command(
    treated: TreatedOption,
    start: StartOption,
    buffer: BufferOption = None,
    comparison: ComparisonOption = None,
    iccs: IccsOption = None,
    level: LevelOption = None,
    first: FirstOption = None,
    end: EndOption = None,
    family: FamilyOption = "poisson",
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Difference-in-differences (count model, area and month fixed effects, errors clustered by area) with the
    pre-trend test."""
    from safercities.evaluation import evaluate_did

    design = _design(treated, start, buffer, comparison, iccs, level, first, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = evaluate_did(ws, design, family=family)
    _deliver(result.summary(lang), result.to_frame(), out)


@app.command("its")
@friendly
def its_command(
    treated: TreatedOption,
    start: StartOption,
    iccs: IccsOption = None,
    level: LevelOption = None,
    first: FirstOption = None,
    end: EndOption = None,
    family: FamilyOption = "poisson",
    seasonality: Annotated[str, typer.Option("--seasonality", help="fourier, month or none.")] = "fourier",
    slope_change: Annotated[
        bool, typer.Option("--slope-change/--no-slope-change", help="Let the trend change at the start.")
    ] = True,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Interrupted time series of the treated areas' monthly total (segmented regression with seasonality)."""
    from safercities.evaluation import evaluate_its

    design = _design(treated, start, "none", None, iccs, level, first, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = evaluate_its(ws, design, family=family, seasonality=seasonality, slope_change=slope_change)
    _deliver(result.summary(lang), result.to_frame(), out)


@app.command("synth")
@friendly
def synth_command(
    treated: TreatedOption,
    start: StartOption,
    buffer: BufferOption = None,
    comparison: ComparisonOption = None,
    iccs: IccsOption = None,
    level: LevelOption = None,
    first: FirstOption = None,
    end: EndOption = None,
    placebo: Annotated[bool, typer.Option("--placebo/--no-placebo", help="Run the placebo-in-space inference.")] = True,
    seed: SeedOption = 0,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Synthetic control of the treated areas' rate per 1,000 residents, with placebo-in-space inference."""
    from safercities.evaluation import evaluate_synth

    design = _design(treated, start, buffer, comparison, iccs, level, first, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = evaluate_synth(ws, design, placebo=placebo, seed=seed)
    _deliver(result.summary(lang), result.to_frame(), out)
    show_frame(result.weights[result.weights > 0.001].sort_values(ascending=False).reset_index(), "donor weights")


@app.command("wdq")
@friendly
def wdq_command(
    treated: TreatedOption,
    start: StartOption,
    buffer: BufferOption = None,
    comparison: ComparisonOption = None,
    iccs: IccsOption = None,
    level: LevelOption = None,
    first: FirstOption = None,
    end: EndOption = None,
    seed: SeedOption = 0,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Displacement or diffusion of benefits to the buffer: the WDQ (Bowers & Johnson 2003) and the WDD test
    (Wheeler & Ratcliffe 2018)."""
    from safercities.evaluation import evaluate_wdq

    design = _design(treated, start, buffer, comparison, iccs, level, first, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        quotient, difference = evaluate_wdq(ws, design, seed=seed)
    frame = pd.concat([quotient.to_frame(), difference.to_frame()], ignore_index=True)
    _deliver(quotient.summary(lang) + "\n" + difference.summary(lang), frame, out)


@app.command("power")
@friendly
def power_command(
    design: Annotated[str, typer.Option("--design", help="did or its.")] = "did",
    mean: Annotated[float, typer.Option("--mean", help="Crimes per area and month (its: per month) before.")] = 5.0,
    effect: Annotated[float, typer.Option("--effect", help="Rate ratio to detect (0.8 = 20% fewer crimes).")] = 0.8,
    dispersion: Annotated[float, typer.Option("--dispersion", help="NB2 dispersion (0 = Poisson).")] = 0.0,
    pre: Annotated[int, typer.Option("--pre", help="Months before the start.")] = 24,
    post: Annotated[int, typer.Option("--post", help="Months after the start.")] = 12,
    treated_areas: Annotated[int, typer.Option("--treated-areas", help="Treated areas (did).")] = 10,
    comparison_areas: Annotated[int, typer.Option("--comparison-areas", help="Comparison areas (did).")] = 30,
    solve: Annotated[
        str | None, typer.Option("--solve", help="Find the months or areas needed for --target power.")
    ] = None,
    target: Annotated[float, typer.Option("--target", help="Target power for --solve.")] = 0.8,
    level_: Annotated[float, typer.Option("--alpha", help="Significance level of the test.")] = 0.05,
    sims: Annotated[int, typer.Option("--sims", help="Simulations per power estimate.")] = 500,
    seed: SeedOption = 0,
) -> None:
    """Power before the fact: the chance to detect --effect, or (--solve) the months or areas needed."""
    from safercities.evaluation import power, required

    params: dict[str, Any] = {"mean": mean, "effect": effect, "dispersion": dispersion, "pre": pre, "level": level_,
                              "n_sims": sims, "seed": seed}  # fmt: skip
    if design == "did":
        params |= {"n_treated": treated_areas, "n_comparison": comparison_areas}
    elif design != "its":
        raise InputError(f"--design must be did or its. Got {design!r} instead.")
    if solve is None:
        result = power(design, post=post, **params)
        console.print(result.summary(), highlight=False, soft_wrap=True)
        return
    if solve not in ("months", "areas"):
        raise InputError(f"--solve must be months or areas. Got {solve!r} instead.")
    if solve == "areas":
        params.pop("n_treated", None)
        params["post"] = post
        params.pop("n_comparison", None)
    requirement = required(design, solve, target=target, **params)
    console.print(requirement.summary(), highlight=False, soft_wrap=True)
    show_frame(requirement.tried.round(3), f"power by {solve}")


@app.command("cost-benefit")
@friendly
def cost_benefit_command(
    treated: TreatedOption,
    start: StartOption,
    cost: Annotated[float, typer.Option("--cost", help="What the intervention cost, in the cost table's currency.")],
    buffer: BufferOption = None,
    comparison: ComparisonOption = None,
    iccs: IccsOption = None,
    level: LevelOption = None,
    first: FirstOption = None,
    end: EndOption = None,
    reporting_rate: Annotated[
        float | None, typer.Option("--reporting-rate", help="Share of crimes recorded (victimisation survey).")
    ] = None,
    costs: Annotated[Path | None, typer.Option("--costs", help="Unit cost table replacing the shipped one.")] = None,
    harm: Annotated[Path | None, typer.Option("--harm", help="Harm weight table replacing the shipped one.")] = None,
    seed: SeedOption = 0,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Benefit-cost ratio with an interval (the DiD effect's uncertainty carried through) and harm prevented."""
    from safercities.evaluation import evaluate_cost_benefit

    design = _design(treated, start, buffer, comparison, iccs, level, first, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = evaluate_cost_benefit(ws, design, cost=cost, reporting_rate=reporting_rate, costs=costs, harm=harm,
                                       seed=seed)  # fmt: skip
    _deliver(result.summary(lang), result.to_frame(), out)


@app.command("report")
@friendly
def report_command(
    treated: TreatedOption,
    start: StartOption,
    buffer: BufferOption = None,
    comparison: ComparisonOption = None,
    iccs: IccsOption = None,
    level: LevelOption = None,
    first: FirstOption = None,
    end: EndOption = None,
    reporting_before: Annotated[
        float | None, typer.Option("--reporting-before", help="Survey reporting rate before the start.")
    ] = None,
    reporting_after: Annotated[
        float | None, typer.Option("--reporting-after", help="Survey reporting rate after the start.")
    ] = None,
    cost: Annotated[float | None, typer.Option("--cost", help="Cost of the intervention (adds cost-benefit).")] = None,
    seed: SeedOption = 0,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The effect with its unintended consequences: displacement, reporting change, communities that worsened."""
    from safercities.evaluation import report

    design = _design(treated, start, buffer, comparison, iccs, level, first, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = report(ws, design, reporting_before=reporting_before, reporting_after=reporting_after, cost=cost,
                        seed=seed)  # fmt: skip
    frame = pd.concat([result.did.to_frame(), result.its.to_frame()], ignore_index=True)
    _deliver(result.summary(lang), frame, out)


def register(app_: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    app_.add_typer(app, name="evaluate")
