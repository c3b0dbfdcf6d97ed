"""Evaluation of an intervention over a workspace: one service function per question.

An :class:`Design` names the treated areas, the start date, and optionally the comparison and buffer areas (by
default the buffer is the areas sharing a boundary with a treated one, and the comparison is every other area),
the offences (an ICCS prefix) and the area level. The functions build the area x month panel from the store and
call the pure statistics of :mod:`safercities.stats.evaluation` and :mod:`safercities.stats.costbenefit`; the CLI
(``safercities evaluate …``) and the reports call these, so a number is computed once.

:func:`report` always shows the unintended consequences next to the effect: displacement to the buffer (WDQ and
WDD), the change in reporting when survey reporting rates are given, and every community whose counts worsened
beyond the comparison areas' trend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from safercities.errors import InputError
from safercities.ingest.areas import lineage
from safercities.stats.costbenefit import BenefitCostResult, benefit_cost, harm_index, harm_weights, unit_costs
from safercities.stats.evaluation import (
    DiDResult,
    ITSResult,
    PowerResult,
    Requirement,
    SynthResult,
    WDDResult,
    WDQResult,
    did,
    did_power,
    its,
    its_power,
    needed,
    synth,
    wdd,
    wdq,
)
from safercities.stats.evaluation.labels import text
from safercities.workspace import Workspace

GROUPS = ("treated", "buffer", "comparison")


@dataclass(frozen=True)
class Design:
    """Who was treated, from when, against whom; which offences and at which area level."""

    treated: tuple[str, ...]
    start: str
    comparison: tuple[str, ...] = ()
    """Empty: every area that is neither treated nor buffer."""
    buffer: tuple[str, ...] | None = None
    """None: the areas sharing a boundary with a treated area; (): no buffer."""
    iccs: str | None = None
    level: str | None = None
    first: str | None = None
    """First day of the pre-period (default: the first month of the data)."""
    end: str | None = None
    """Day after the post-period (default: the end of the data)."""

    def __post_init__(self) -> None:
        if not self.treated:
            raise InputError("the design needs at least one treated area.")
        for name in ("start", "first", "end"):
            value = getattr(self, name)
            if value is not None:
                try:
                    pd.Timestamp(value)
                except (TypeError, ValueError) as exc:
                    raise InputError(f"The '{name}' date must be YYYY-MM-DD. Got {value!r} instead.") from exc


def _neighbours(ws: Workspace, level: str) -> dict[str, set[str]]:
    """Areas sharing a boundary or a corner (queen contiguity), by id."""
    from safercities.analysis import area_weights

    weights = area_weights(ws, level)
    ids = np.asarray(weights.ids).astype(str)
    out: dict[str, set[str]] = {}
    for focal, neighbor in zip(ids[weights.focal], ids[weights.neighbor], strict=True):
        out.setdefault(str(focal), set()).add(str(neighbor))
    return out


def groups(ws: Workspace, design: Design) -> pd.DataFrame:
    """area_id, name, group (treated / buffer / comparison / excluded) and population of the areas of the level."""
    from safercities.analysis import areas_at

    level = design.level or ws.default_level()
    areas = pd.DataFrame(areas_at(ws, level).drop(columns="geometry"))
    known = set(areas["area_id"])
    named = set(design.treated) | set(design.comparison) | set(design.buffer or ())
    unknown = sorted(named - known)
    if unknown:
        raise InputError(f"unknown area(s) at level '{level}': {', '.join(unknown[:10])}",
                         hint="list them with `safercities analyse rates`")  # fmt: skip
    treated = set(design.treated)
    if design.buffer is None:
        links = _neighbours(ws, level)
        buffer = {n for a in treated for n in links.get(a, set())} - treated
    else:
        buffer = set(design.buffer)
    overlap = (treated & buffer) | (set(design.comparison) & (treated | buffer))
    if overlap:
        raise InputError(f"area(s) in more than one group: {', '.join(sorted(overlap)[:10])}")
    comparison = set(design.comparison) or (known - treated - buffer)
    group = np.where(areas["area_id"].isin(treated), "treated",
                     np.where(areas["area_id"].isin(buffer), "buffer",
                              np.where(areas["area_id"].isin(comparison), "comparison", "excluded")))  # fmt: skip
    areas["group"] = group
    if not (areas["group"] == "comparison").any():
        raise InputError("no comparison area is left once the treated and buffer areas are set aside.")
    return areas[["area_id", "name", "group", "population"]].reset_index(drop=True)


def panel(ws: Workspace, design: Design, by: str = "month") -> pd.DataFrame:
    """The area x period panel of the design's offences: area_id, period, count, group, treated, post, population.

    Counts come from the workspace cube (ICCS sections) or, for a finer ICCS prefix, from the same count by area and
    local period; periods are local, zeros included, cut to [first, end)."""
    level = design.level or ws.default_level()
    who = groups(ws, design)
    iccs = design.iccs or ""
    if len(iccs) <= 2:
        cube = ws.cube(by=by, level=level)
        cube = cube[cube["iccs_section"].astype(str).str.startswith(iccs)]
        counts: pd.DataFrame = cube.groupby(["area_id", "period"], as_index=False)["count"].sum()  # type: ignore[assignment]
    else:
        links = lineage(ws.store.areas(), level).dropna(subset=["target_id"])
        counts = ws.store.period_counts(by, links, ws.config.timezone, iccs=iccs)
    counts["period"] = pd.to_datetime(counts["period"])
    if design.first:
        counts = counts[counts["period"] >= pd.Timestamp(design.first)]
    if design.end:
        counts = counts[counts["period"] < pd.Timestamp(design.end)]
    counts = _complete_periods(counts, explicit_first=design.first is not None, explicit_end=design.end is not None)
    frame = counts.merge(who, on="area_id", how="inner")
    frame = frame[frame["group"] != "excluded"]
    if frame.empty or frame["count"].sum() == 0:
        raise InputError(f"no incidents for this selection ({'ICCS ' + iccs if iccs else 'all offences'}).")
    start = pd.Timestamp(design.start)
    frame = frame.assign(treated=frame["group"] == "treated", post=frame["period"] >= start)
    if not frame["post"].any() or frame["post"].all():
        raise InputError(f"the start {design.start} must fall inside the data "
                         f"({frame['period'].min().date()} to {frame['period'].max().date()}).")  # fmt: skip
    return frame.sort_values(["area_id", "period"]).reset_index(drop=True)


EDGE_SHARE = 0.5
"""A first or last period whose citywide count is below this share of the median period's is taken as partly
covered by the data (an export that starts or stops mid-month, offences whose window began before the export) and
left out: a half-empty month would read as a sudden drop."""


def _complete_periods(counts: pd.DataFrame, *, explicit_first: bool, explicit_end: bool) -> pd.DataFrame:
    totals = counts.groupby("period")["count"].sum().sort_index()
    keep = pd.Series(True, index=totals.index)
    floor = EDGE_SHARE * float(totals.median())
    if not explicit_first and len(totals) > 2 and totals.iloc[0] < floor:
        keep.iloc[0] = False
    if not explicit_end and len(totals) > 2 and totals.iloc[-1] < floor:
        keep.iloc[-1] = False
    return counts[counts["period"].isin(totals.index[keep])]


def _first_period(frame: pd.DataFrame, start: str) -> pd.Timestamp:
    periods = np.sort(frame["period"].unique())
    return pd.Timestamp(periods[np.searchsorted(periods, np.datetime64(pd.Timestamp(start)), side="left")])


def evaluate_did(ws: Workspace, design: Design, *, family: str = "poisson", confidence: float = 0.95,
                 frame: pd.DataFrame | None = None) -> DiDResult:  # fmt: skip
    """Difference-in-differences of the treated against the comparison areas (the buffer left out)."""
    frame = panel(ws, design) if frame is None else frame
    frame = frame[frame["group"] != "buffer"]
    return did(frame, _first_period(frame, design.start), family=family, confidence=confidence)


def treated_series(ws: Workspace, design: Design, frame: pd.DataFrame | None = None) -> pd.Series:
    """Monthly counts summed over the treated areas."""
    frame = panel(ws, design) if frame is None else frame
    return frame[frame["treated"]].groupby("period")["count"].sum()


def evaluate_its(ws: Workspace, design: Design, *, family: str = "poisson", seasonality: str = "fourier",
                 slope_change: bool = True, confidence: float = 0.95, frame: pd.DataFrame | None = None) -> ITSResult:  # fmt: skip  # noqa: E501
    """Interrupted time series of the treated areas' monthly total."""
    series = treated_series(ws, design, frame)
    return its(series, pd.Timestamp(design.start), family=family, seasonality=seasonality,
               slope_change=slope_change, confidence=confidence)  # fmt: skip


def evaluate_synth(ws: Workspace, design: Design, *, by: str = "month", placebo: bool = True,
                   confidence: float = 0.95, seed: int = 0) -> SynthResult:  # fmt: skip
    """Synthetic control of the treated areas' rate per 1,000 residents from the comparison areas' rates."""
    frame = panel(ws, design, by=by)
    frame = frame[(frame["group"] != "buffer") & (frame["population"] > 0)]
    treated = frame[frame["treated"]].groupby("period")[["count", "population"]].sum()
    rates = frame[~frame["treated"]].assign(rate=lambda f: 1000 * f["count"] / f["population"])
    outcome = rates.pivot(index="period", columns="area_id", values="rate")
    outcome.insert(0, "treated", 1000 * treated["count"] / treated["population"])
    return synth(outcome, "treated", _first_period(frame, design.start), placebo=placebo,
                 confidence=confidence, seed=seed)  # fmt: skip


def windows(frame: pd.DataFrame, start: str) -> tuple[pd.Series, pd.Series, int]:
    """Equal windows before and after the start (the shorter side's length): boolean masks and their months."""
    periods = np.sort(frame["period"].unique())
    first_post = int(np.searchsorted(periods, np.datetime64(pd.Timestamp(start)), side="left"))
    length = min(first_post, len(periods) - first_post)
    pre = frame["period"].isin(periods[first_post - length : first_post])
    post = frame["period"].isin(periods[first_post : first_post + length])
    return pre, post, length


def group_counts(ws: Workspace, design: Design, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts per group before and after the start, over equal windows (index: group; columns before, after)."""
    frame = panel(ws, design) if frame is None else frame
    pre, post, length = windows(frame, design.start)
    table = pd.DataFrame({
        "before": frame[pre].groupby("group")["count"].sum(),
        "after": frame[post].groupby("group")["count"].sum(),
    }).reindex(list(GROUPS), fill_value=0)  # fmt: skip
    table.attrs["months"] = length
    return table


def evaluate_wdq(ws: Workspace, design: Design, *, confidence: float = 0.95, seed: int = 0,
                 frame: pd.DataFrame | None = None) -> tuple[WDQResult, WDDResult]:  # fmt: skip
    """Displacement to the buffer: the WDQ (Bowers & Johnson) and the WDD test (Wheeler & Ratcliffe), with the
    comparison areas as the control of both treated and buffer, over equal windows before and after the start."""
    table = group_counts(ws, design, frame)
    if table.loc["buffer"].sum() == 0:
        raise InputError("the buffer has no incidents of this selection: displacement cannot be measured.")
    t, b, c = (
        (float(table.loc[g, "before"]), float(table.loc[g, "after"]))  # type: ignore[arg-type]
        for g in GROUPS
    )
    quotient = wdq(t, b, c, confidence=confidence, seed=seed)
    # the WDD on rescaled controls: the control's change is taken in proportion to each area's size before
    scale_t = t[0] / c[0] if c[0] else 1.0
    scale_b = b[0] / c[0] if c[0] else 1.0
    difference = wdd(t, c, b, c, area_weights=(1.0, 1.0 / scale_t, 1.0, 1.0 / scale_b), confidence=confidence)
    return quotient, difference


def communities_worsened(ws: Workspace, design: Design, *, level_q: float = 0.05,
                         frame: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """Every area's count after against before (equal windows), against the comparison areas' trend.

    expected = before x (comparison after / comparison before); p = P(X >= after) for X ~ Binomial(before + after,
    trend / (1 + trend)) (the exact conditional test of two Poisson counts); q = Benjamini-Hochberg over all areas.
    An area ``worsened`` when after > expected and q < ``level_q``."""
    frame = panel(ws, design) if frame is None else frame
    pre, post, _ = windows(frame, design.start)
    per_area = pd.DataFrame({
        "before": frame[pre].groupby("area_id")["count"].sum(),
        "after": frame[post].groupby("area_id")["count"].sum(),
    }).fillna(0)  # fmt: skip
    info = frame.drop_duplicates("area_id").set_index("area_id")[["group", "population"]]
    per_area = per_area.join(info)
    comp = per_area[per_area["group"] == "comparison"]
    trend = comp["after"].sum() / comp["before"].sum() if comp["before"].sum() else 1.0
    share = trend / (1 + trend)
    n = (per_area["before"] + per_area["after"]).to_numpy()
    after = per_area["after"].to_numpy()
    p = np.where(n > 0, stats.binom.sf(after - 1, n, share), 1.0)
    per_area["expected"] = per_area["before"] * trend
    with np.errstate(divide="ignore", invalid="ignore"):
        per_area["ratio"] = per_area["after"] / per_area["expected"]
    per_area["p_value"] = p
    per_area["q_value"] = stats.false_discovery_control(p) if len(p) else p
    per_area["worsened"] = (per_area["after"] > per_area["expected"]) & (per_area["q_value"] < level_q)
    return per_area.reset_index().sort_values("p_value").reset_index(drop=True)


def observed_by_offence(ws: Workspace, design: Design) -> pd.Series:
    """Crimes recorded in the treated areas from the start on, by ICCS code (the design's offences only)."""
    level = design.level or ws.default_level()
    links = lineage(ws.store.areas(), level).dropna(subset=["target_id"])
    codes = sorted(c for c in ws.offence_codes()["iccs_code"].dropna().unique() if str(c).startswith(design.iccs or ""))
    counts = {}
    for code in codes:  # one aggregate query per ICCS code of the offence table (a few dozen at most)
        frame = ws.store.period_counts("year", links, ws.config.timezone, iccs=str(code), start=design.start,
                                       end=design.end)  # fmt: skip
        counts[str(code)] = int(frame.loc[frame["area_id"].isin(design.treated), "count"].sum())
    return pd.Series(counts, dtype=float, name="observed")


def evaluate_cost_benefit(
    ws: Workspace,
    design: Design,
    *,
    cost: float,
    effect: DiDResult | ITSResult | None = None,
    reporting_rate: float | None = None,
    costs: Path | str | None = None,
    harm: Path | str | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> BenefitCostResult:
    """Benefit-cost ratio of the intervention from its effect (default: the difference-in-differences)."""
    effect = effect or evaluate_did(ws, design)
    return benefit_cost(
        observed_by_offence(ws, design),
        log_rate_ratio=effect.log_rate_ratio,
        se=effect.se,
        cost=cost,
        costs=unit_costs(costs),
        weights=harm_weights(harm),
        reporting_rate=reporting_rate,
        confidence=confidence,
        seed=seed,
    )


def harm_table(ws: Workspace, design: Design, harm: Path | str | None = None,
               frame: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """Counts and harm (sentencing days) per group before and after the start (equal windows)."""
    level = design.level or ws.default_level()
    who = groups(ws, design).set_index("area_id")["group"]
    links = lineage(ws.store.areas(), level).dropna(subset=["target_id"])
    frame = panel(ws, design) if frame is None else frame
    pre, post, length = windows(frame, design.start)
    bounds = {"before": (frame.loc[pre, "period"].min(), frame.loc[pre, "period"].max()),
              "after": (frame.loc[post, "period"].min(), frame.loc[post, "period"].max())}  # fmt: skip
    rows = []
    codes = sorted(c for c in ws.offence_codes()["iccs_code"].dropna().unique() if str(c).startswith(design.iccs or ""))
    for phase, (low, high) in bounds.items():
        end = pd.Timestamp(high) + pd.DateOffset(months=1)
        for code in codes:
            got = ws.store.period_counts("year", links, ws.config.timezone, iccs=str(code),
                                         start=str(pd.Timestamp(low).date()), end=str(end.date()))  # fmt: skip
            got = got.assign(group=got["area_id"].map(who)).dropna(subset=["group"])
            for group, count in got.groupby("group")["count"].sum().items():
                rows.append({"phase": phase, "group": group, "iccs_code": str(code), "count": int(count)})
    weighted = harm_index(pd.DataFrame(rows), harm_weights(harm))
    table = weighted.groupby(["group", "phase"], as_index=False)[["count", "harm"]].sum()
    table.attrs["months"] = length
    return table


@dataclass(frozen=True)
class ReportingChange:
    """Survey reporting rates before and after, and the effect read on all crimes rather than recorded ones."""

    before: float
    after: float
    ratio: float
    adjusted_estimate: float
    adjusted_lower: float
    adjusted_upper: float


@dataclass(frozen=True)
class EvaluationReport:
    """The effect with every unintended consequence beside it."""

    design: Design
    did: DiDResult
    its: ITSResult
    wdq: WDQResult
    wdd: WDDResult
    worsened: pd.DataFrame
    harm: pd.DataFrame
    reporting: ReportingChange | None
    cost_benefit: BenefitCostResult | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self, lang: str = "en") -> str:
        d = self.design
        lines = [
            f"Evaluation of the intervention in {len(d.treated)} area(s) from {d.start} "
            f"({'ICCS ' + d.iccs if d.iccs else 'all offences'}).",
            "",
            self.did.summary(lang),
            "",
            self.its.summary(lang),
            "",
            "Unintended consequences:",
            f"- displacement to the buffer: {text(self.wdq.reading, lang)}; " + self.wdq.summary(lang).splitlines()[1],
            "- WDD test (treated and buffer against the comparison trend): " + self.wdd.summary(lang).splitlines()[0],
        ]
        if self.reporting is None:
            lines.append("- reporting: no survey reporting rates given; a change in reporting cannot be ruled out.")
        else:
            r = self.reporting
            lines.append(
                f"- reporting: the survey reporting rate went from {r.before:.2f} to {r.after:.2f} (ratio "
                f"{r.ratio:.2f}); read on all crimes, the rate ratio is {r.adjusted_estimate:.3f} "
                f"({r.adjusted_lower:.3f} to {r.adjusted_upper:.3f})."
            )
        bad = self.worsened[self.worsened["worsened"]]
        if bad.empty:
            lines.append("- no community's count worsened beyond the comparison trend (Benjamini-Hochberg q < 0.05).")
        else:
            listed = ", ".join(
                f"{a} ({g}, x{r:.2f})" for a, g, r in bad[["area_id", "group", "ratio"]].itertuples(index=False)
            )  # noqa: E501
            lines.append(f"- communities whose counts {text('worsened', lang)}: {listed}.")
        if self.cost_benefit is not None:
            lines += ["", self.cost_benefit.summary(lang)]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def report(
    ws: Workspace,
    design: Design,
    *,
    reporting_before: float | None = None,
    reporting_after: float | None = None,
    cost: float | None = None,
    costs: Path | str | None = None,
    harm: Path | str | None = None,
    seed: int = 0,
) -> EvaluationReport:
    """DiD, ITS, displacement, communities worsened, harm, reporting change and (given a cost) cost-benefit."""
    if (reporting_before is None) != (reporting_after is None):
        raise InputError("give both survey reporting rates (before and after), or neither.")
    frame = panel(ws, design)
    effect = evaluate_did(ws, design, frame=frame)
    series = evaluate_its(ws, design, frame=frame)
    quotient, difference = evaluate_wdq(ws, design, seed=seed, frame=frame)
    reporting = None
    if reporting_before is not None and reporting_after is not None:
        for value in (reporting_before, reporting_after):
            if not 0 < value <= 1:
                raise InputError(f"a reporting rate must be in (0, 1]. Got {value!r} instead.")
        ratio = reporting_after / reporting_before
        reporting = ReportingChange(reporting_before, reporting_after, ratio, effect.estimate / ratio,
                                    effect.lower / ratio, effect.upper / ratio)  # fmt: skip
    benefit = None
    if cost is not None:
        benefit = evaluate_cost_benefit(ws, design, cost=cost, effect=effect, costs=costs, harm=harm,
                                        reporting_rate=reporting_after, seed=seed)  # fmt: skip
    return EvaluationReport(
        design=design,
        did=effect,
        its=series,
        wdq=quotient,
        wdd=difference,
        worsened=communities_worsened(ws, design, frame=frame),
        harm=harm_table(ws, design, harm, frame=frame),
        reporting=reporting,
        cost_benefit=benefit,
    )


def power(design: str = "did", **parameters: Any) -> PowerResult:
    """Power of a planned evaluation (see :mod:`safercities.stats.evaluation.power`)."""
    return did_power(**parameters) if design == "did" else its_power(**parameters)


def required(design: str, over: str = "months", **parameters: Any) -> Requirement:
    """Months (or areas) needed to reach a target power (see :func:`safercities.stats.evaluation.power.needed`)."""
    return needed(design, over, **parameters)
