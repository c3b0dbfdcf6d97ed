"""Difference-in-differences for crime counts: a Poisson (or NB2) GLM with area and period fixed effects.

log E[y_it] = a_i + g_t + beta x D_it, where D_it = 1 for a treated area from the start period on. exp(beta) is
the rate ratio of the intervention: the factor by which crime in the treated areas changed relative to the
comparison areas' change. Standard errors are cluster-robust by area (statsmodels' ``cov_type="cluster"``, with
its small-sample correction), so that serial correlation within an area and overdispersion are allowed for.

Parallel trends cannot be proven, but their implication before the start can be tested. :func:`did` fits an
event study (treated x period-bin terms, the last bin before the start as reference) and tests that the pre-period
terms are jointly zero (cluster-robust Wald chi-square), and separately fits a differential linear trend on the
pre-period alone. Both tests and their hypotheses are written out in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from safercities.errors import InputError
from safercities.stats.evaluation.glm import check_confidence, check_counts, fit_counts
from safercities.stats.evaluation.labels import describe, text
from safercities.stats.provenance import stamp

MAX_BINS = 6
"""The event study groups the pre- (and post-) periods into at most this many consecutive bins: with monthly data
and a few dozen areas, one coefficient per month would leave the cluster-robust Wald test without enough areas."""


@dataclass(frozen=True)
class PreTrendTest:
    """The pre-period checks of parallel trends: the event study's joint test and a differential linear trend."""

    hypothesis: str
    statistic: float
    df: int
    p_value: float
    leads: pd.DataFrame
    """One row per event-time bin (pre and post): bin, first, last, rate_ratio, lower, upper (reference = 1)."""
    slope_hypothesis: str
    slope: float
    """Differential pre-period trend: log rate ratio per period, treated minus comparison."""
    slope_lower: float
    slope_upper: float
    slope_p_value: float

    def passed(self, level: float = 0.05) -> bool:
        """True when neither test rejects parallel pre-trends at ``level`` (absence of evidence, not proof)."""
        return bool(self.p_value >= level and self.slope_p_value >= level)

    def written_out(self) -> str:
        return (
            f"{self.hypothesis} Wald chi2({self.df}) = {self.statistic:.2f}, p = {self.p_value:.3g}.\n"
            f"{self.slope_hypothesis} Differential trend {self.slope:+.4f} log points per period "
            f"(95% CI {self.slope_lower:+.4f} to {self.slope_upper:+.4f}), p = {self.slope_p_value:.3g}."
        )


@dataclass(frozen=True)
class DiDResult:
    """The intervention's rate ratio with its interval, the fit, the pre-trend test and the assumptions."""

    estimate: float
    """Rate ratio exp(beta): 0.8 means 20% fewer crimes than the comparison areas' trend implies."""
    lower: float
    upper: float
    confidence: float
    log_rate_ratio: float
    se: float
    """Cluster-robust standard error of the log rate ratio."""
    p_value: float
    family: str
    alpha: float | None
    dispersion: float
    """Pearson chi-square / residual df of the fit (about 1 for Poisson-like counts)."""
    n_treated: int
    n_comparison: int
    n_pre: int
    n_post: int
    observed_post: float
    """Crimes recorded in the treated areas after the start."""
    counterfactual_post: float
    """Crimes the model expects there without the intervention (fitted / rate ratio)."""
    pretrend: PreTrendTest | None
    assumptions: tuple[str, ...]
    notes: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def percent_change(self) -> float:
        return 100.0 * (self.estimate - 1.0)

    @property
    def prevented(self) -> float:
        """Crimes prevented in the treated areas (negative: crimes added)."""
        return self.counterfactual_post - self.observed_post

    def assumption_texts(self, lang: str = "en") -> list[str]:
        return describe(self.assumptions, lang)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "method": ["difference-in-differences"],
                "family": [self.family],
                "rate_ratio": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "p_value": [self.p_value],
                "log_rate_ratio": [self.log_rate_ratio],
                "se": [self.se],
                "observed_post": [self.observed_post],
                "counterfactual_post": [self.counterfactual_post],
                "prevented": [self.prevented],
                "pretrend_p": [self.pretrend.p_value if self.pretrend else np.nan],
                "pretrend_slope_p": [self.pretrend.slope_p_value if self.pretrend else np.nan],
            }
        )

    def summary(self, lang: str = "en") -> str:
        level = f"{self.confidence * 100:g}%"
        lines = [
            f"Difference-in-differences ({self.family} GLM, area and period fixed effects, errors clustered by area): "
            f"{self.n_treated} treated and {self.n_comparison} comparison areas, {self.n_pre} periods before and "
            f"{self.n_post} after the start.",
            f"Rate ratio {self.estimate:.3f} ({level} CI {self.lower:.3f} to {self.upper:.3f}; p = {self.p_value:.3g}):"
            f" {self.percent_change:+.1f}% relative to the comparison areas; about {self.prevented:.0f} crimes "
            f"prevented ({self.observed_post:.0f} recorded against {self.counterfactual_post:.0f} expected).",
        ]
        if self.alpha is not None:
            lines.append(f"NB2 dispersion alpha = {self.alpha:.4g}.")
        if self.pretrend is not None:
            verdict = "no evidence against" if self.pretrend.passed() else "evidence AGAINST"
            lines.append(f"Parallel trends before the start ({verdict} them):")
            lines.append(self.pretrend.written_out())
        lines += [f"Note: {n}" for n in self.notes]
        lines.append(f"{text('assumptions', lang)}:")
        lines += [f"  - {t}" for t in self.assumption_texts(lang)]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Panel:
    y: NDArray[np.float64]
    unit: NDArray[np.int64]
    period: NDArray[np.int64]
    treated_unit: NDArray[np.bool_]
    periods: NDArray[Any]
    first_post: int
    offset: NDArray[np.float64] | None


def _panel(frame: pd.DataFrame, unit: str, period: str, outcome: str, treated: str, start: Any,
           exposure: str | None, where: str) -> _Panel:  # fmt: skip
    needed = [unit, period, outcome, treated] + ([exposure] if exposure else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"{where}: the panel has no column(s) {missing}; it has {list(frame.columns)}.")
    data = frame[needed].copy()
    if data.duplicated([unit, period]).any():
        raise InputError(f"{where}: the panel has more than one row for some ({unit}, {period}) pairs.")
    by_unit = data.groupby(unit)[treated].nunique()
    if (by_unit > 1).any():
        varying = list(by_unit[by_unit > 1].index[:5])
        raise InputError(f"{where}: '{treated}' must be constant within each {unit}; it varies in {varying}.")
    y = data[outcome].to_numpy(dtype=np.float64)
    check_counts(y, where)
    periods = np.sort(data[period].unique())
    try:
        first_post = int(np.searchsorted(periods, start, side="left"))
    except TypeError as exc:
        raise InputError(
            f"{where}: the start {start!r} cannot be compared with the periods ({periods[0]!r}, ...)."
        ) from exc  # noqa: E501
    if first_post == 0 or first_post == len(periods):
        raise InputError(
            f"{where}: the start {start!r} must leave periods on both sides; the data run from {periods[0]!r} to "
            f"{periods[-1]!r}."
        )
    units, unit_code = np.unique(data[unit].to_numpy(), return_inverse=True)
    period_code = np.searchsorted(periods, data[period].to_numpy())
    treated_unit = np.zeros(len(units), dtype=bool)
    treated_unit[unit_code] = data[treated].to_numpy(dtype=bool)
    if treated_unit.all() or not treated_unit.any():
        raise InputError(f"{where}: the panel needs both treated and comparison areas.")
    offset = None
    if exposure:
        expo = data[exposure].to_numpy(dtype=np.float64)
        if np.any(~(expo > 0)):
            raise InputError(f"{where}: exposure '{exposure}' must be positive in every row.")
        offset = np.log(expo)
    return _Panel(
        y, unit_code.astype(np.int64), period_code.astype(np.int64), treated_unit, periods, first_post, offset
    )


def period_label(value: Any) -> str:
    """A period as people write it: a date without a time of day, anything else as it is."""
    if isinstance(value, np.datetime64 | pd.Timestamp):
        return str(pd.Timestamp(value).date())
    return str(value)


def _dummies(code: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """Indicator columns for codes 1..n-1 (code 0 is the reference)."""
    out = np.zeros((code.size, max(n - 1, 0)))
    rows = np.flatnonzero(code > 0)
    out[rows, code[rows] - 1] = 1.0
    return out


def fixed_effects_design(
    unit: NDArray[np.int64], period: NDArray[np.int64], extra: NDArray[np.float64]
) -> NDArray[np.float64]:  # noqa: E501
    """[extra columns | intercept | area dummies | period dummies]: the two-way fixed-effects design."""
    n_units, n_periods = int(unit.max()) + 1, int(period.max()) + 1
    return np.column_stack([extra, np.ones(unit.size), _dummies(unit, n_units), _dummies(period, n_periods)])


def _bins(n: int, max_bins: int) -> list[NDArray[np.int64]]:
    return [b for b in np.array_split(np.arange(n), min(n, max_bins)) if b.size]


def _pretrend(p: _Panel, family: str, alpha: float | None, confidence: float, max_bins: int) -> PreTrendTest | None:
    n_pre, n_post = p.first_post, len(p.periods) - p.first_post
    if n_pre < 2:
        return None
    treated_row = p.treated_unit[p.unit]
    pre_bins = _bins(n_pre, max_bins)
    post_bins = [b + n_pre for b in _bins(n_post, max_bins)]
    every = pre_bins + post_bins
    reference = len(pre_bins) - 1
    bin_of_period = np.empty(len(p.periods), dtype=np.int64)
    for k, members in enumerate(every):
        bin_of_period[members] = k
    row_bin = bin_of_period[p.period]
    kept = [k for k in range(len(every)) if k != reference]
    extra = np.column_stack([(treated_row & (row_bin == k)).astype(float) for k in kept])
    X = fixed_effects_design(p.unit, p.period, extra)
    result, _ = fit_counts(p.y, X, family, offset=p.offset, cov_type="cluster", cov_kwds={"groups": p.unit},
                           alpha=alpha, where="did event study")  # fmt: skip
    params, cov = np.asarray(result.params), np.asarray(result.cov_params())
    leads = [i for i, k in enumerate(kept) if k < reference]
    b = params[leads]
    V = cov[np.ix_(leads, leads)]
    statistic = float(b @ np.linalg.pinv(V) @ b)
    df = len(leads)
    z = stats.norm.ppf(0.5 + confidence / 2)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))[: len(kept)]
    rows = []
    for k, members in enumerate(every):
        if k == reference:
            coef, s = 0.0, 0.0
        else:
            j = kept.index(k)
            coef, s = float(params[j]), float(se[j])
        rows.append({
            "bin": k - reference,
            "first": p.periods[members[0]],
            "last": p.periods[members[-1]],
            "phase": "pre" if k < len(pre_bins) else "post",
            "rate_ratio": np.exp(coef),
            "lower": np.exp(coef - z * s),
            "upper": np.exp(coef + z * s),
        })  # fmt: skip
    # differential linear trend on the pre-period alone
    pre = p.period < p.first_post
    t = p.period[pre].astype(float)
    slope_col = (treated_row[pre] * (t - t.mean()))[:, None]
    X_pre = fixed_effects_design(p.unit[pre], p.period[pre], slope_col)
    pre_offset = p.offset[pre] if p.offset is not None else None
    res_pre, _ = fit_counts(p.y[pre], X_pre, family, offset=pre_offset, cov_type="cluster",
                            cov_kwds={"groups": p.unit[pre]}, alpha=alpha, where="did pre-trend")  # fmt: skip
    slope, slope_se = float(res_pre.params[0]), float(res_pre.bse[0])
    first, last = period_label(p.periods[0]), period_label(p.periods[n_pre - 1])
    return PreTrendTest(
        hypothesis=(
            f"H0: before the start, the treated areas moved with the comparison areas: the {df} event-study "
            f"coefficients (treated x pre-period bin, the last bin before the start as reference, area and period "
            f"fixed effects, errors clustered by area) are jointly zero."
        ),
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)) if df else 1.0,
        leads=pd.DataFrame(rows),
        slope_hypothesis=(
            f"H0: over the pre-period ({first} to {last}) the treated areas' log-linear trend equals the comparison "
            f"areas' (coefficient of treated x period index, area and period fixed effects)."
        ),
        slope=slope,
        slope_lower=slope - z * slope_se,
        slope_upper=slope + z * slope_se,
        slope_p_value=float(2 * stats.norm.sf(abs(slope / slope_se))) if slope_se > 0 else 1.0,
    )


def did(
    panel: pd.DataFrame,
    start: Any,
    *,
    unit: str = "area_id",
    period: str = "period",
    outcome: str = "count",
    treated: str = "treated",
    exposure: str | None = None,
    family: str = "poisson",
    confidence: float = 0.95,
    event_study: bool = True,
    max_bins: int = MAX_BINS,
) -> DiDResult:
    """Difference-in-differences rate ratio of an intervention starting at period ``start`` (first treated period).

    ``panel`` has one row per area and period with the count, whether the area is treated (constant per area) and
    optionally an exposure (population) whose log enters as an offset. ``family`` is 'poisson' (quasi-likelihood:
    consistent under overdispersion with the cluster-robust errors) or 'negbin' (NB2, alpha by profile likelihood).
    """
    check_confidence(confidence, "did")
    p = _panel(panel, unit, period, outcome, treated, start, exposure, "did")
    treated_row = p.treated_unit[p.unit]
    D = (treated_row & (p.period >= p.first_post)).astype(float)
    X = fixed_effects_design(p.unit, p.period, D[:, None])
    result, alpha = fit_counts(p.y, X, family, offset=p.offset, cov_type="cluster", cov_kwds={"groups": p.unit},
                               where="did")  # fmt: skip
    beta, se = float(result.params[0]), float(result.bse[0])
    z = stats.norm.ppf(0.5 + confidence / 2)
    mu = np.asarray(result.fittedvalues)
    in_post = D > 0
    pretrend = _pretrend(p, family, alpha, confidence, max_bins) if event_study else None
    notes = []
    n_treated = int(p.treated_unit.sum())
    if n_treated < 10:
        notes.append(
            f"only {n_treated} treated area(s): cluster-robust errors are unreliable with few treated clusters; "
            "read the interval as too narrow (a synthetic control or permutation check helps)."
        )
    if pretrend is None:
        notes.append("one period before the start: parallel pre-trends cannot be checked.")
    return DiDResult(
        estimate=float(np.exp(beta)),
        lower=float(np.exp(beta - z * se)),
        upper=float(np.exp(beta + z * se)),
        confidence=float(confidence),
        log_rate_ratio=beta,
        se=se,
        p_value=float(2 * stats.norm.sf(abs(beta / se))) if se > 0 else float("nan"),
        family=family,
        alpha=alpha,
        dispersion=float(result.pearson_chi2 / result.df_resid) if result.df_resid > 0 else float("nan"),
        n_treated=n_treated,
        n_comparison=int((~p.treated_unit).sum()),
        n_pre=p.first_post,
        n_post=len(p.periods) - p.first_post,
        observed_post=float(p.y[in_post].sum()),
        counterfactual_post=float(mu[in_post].sum() / np.exp(beta)),
        pretrend=pretrend,
        assumptions=(
            "did.parallel_trends",
            "did.no_anticipation",
            "did.no_spillover",
            "common.no_concurrent",
            "common.recording",
            "count.poisson" if family == "poisson" else "count.negbin",
            "did.clusters",
        ),
        notes=tuple(notes),
        provenance=stamp(
            "safercities.stats.evaluation.did.did",
            {
                "start": str(start),
                "family": family,
                "confidence": confidence,
                "max_bins": max_bins,
                "exposure": exposure,
                "se": "cluster-robust by area (statsmodels)",
            },
            p.y,
            p.unit,
            p.period,
        ),  # fmt: skip
    )
