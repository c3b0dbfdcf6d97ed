"""Time: seasonal-trend decomposition, year-over-year change, weekly profiles and aoristic apportionment.

* :func:`decompose`: STL (Cleveland et al. 1990, statsmodels' implementation) of a regular monthly or
  weekly series of counts, with the strength of seasonality and of trend as Wang, Smith & Hyndman (2006)
  define them: ``F_S = max(0, 1 - Var(R) / Var(S + R))`` and ``F_T = max(0, 1 - Var(R) / Var(T + R))``.
* :func:`year_over_year`: the ratio of two Poisson rates (now / before) with the exact conditional test:
  given the total ``n = k_now + k_before``, ``k_now ~ Binomial(n, p)`` with ``p = e_now / (e_now + e_before)``
  under "no change"; the Clopper-Pearson interval for ``p`` maps to the ratio as
  ``R = p / (1 - p) * e_before / e_now``. Two-sided p-values are "minimum likelihood" (the sum of the
  outcomes no more likely than the observed one), as R's ``binom.test`` and scipy's ``binomtest``;
  Benjamini-Hochberg across all comparisons.
* :func:`aoristic`: Ratcliffe's (2002) apportionment of an incident known only to lie in ``[start, end]``
  across time bins in proportion to the overlap. It is computed in closed form: for every bin, the
  time spent in that bin from a fixed epoch to ``t`` is a cumulative function ``F_b(t)`` (whole cycles
  plus a partial one); the overlap of ``[start, end]`` with bin ``b`` is ``F_b(end) - F_b(start)``, so a
  window of any length costs the same. Month-of-year bins count leap years exactly.
* :func:`weekly_profile`: the day-of-week x hour table (Monday first), aoristic when windows are given.

Times are local wall-clock times: tz-aware input is read in its own time zone's clock (a window across a
daylight-saving change counts clock hours, one more or less than elapsed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from safercities.errors import InputError, check_choice
from safercities.stats.inference import fdr_bh
from safercities.stats.provenance import stamp

__all__ = [
    "AORISTIC_UNITS",
    "Decomposition",
    "TimeProfile",
    "YearOverYear",
    "aoristic",
    "aoristic_weights",
    "decompose",
    "weekly_profile",
    "year_over_year",
]

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
AORISTIC_UNITS = ("hour", "day", "dow_hour", "month")
"""Bins: hour of the day (24), day of the week (7, Monday first), day of week x hour (7 x 24), month (12)."""

_NS_HOUR = 3_600 * 10**9
_NS_DAY = 24 * _NS_HOUR
_NS_WEEK = 7 * _NS_DAY
_MONDAY = 4 * _NS_DAY
"""1970-01-05 00:00, a Monday midnight: the epoch of the weekly and daily cycles (ns since 1970-01-01)."""
_ADJECTIVE = {"month": "monthly", "week": "weekly", "unknown": "regular"}
_CHUNK = 8192
"""Incidents per block in the aoristic kernel: bounds memory to a block x bins matrix."""


def _check_confidence(confidence: float, where: str) -> None:
    if not (isinstance(confidence, int | float) and 0 < confidence < 1):
        raise InputError(f"The 'confidence' parameter of {where} must be in (0, 1). Got {confidence!r} instead.")


# -- decomposition ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decomposition:
    """STL of a regular series: observed = trend + seasonal + remainder, with the strengths of each."""

    index: pd.Index
    observed: NDArray[np.float64]
    trend: NDArray[np.float64]
    seasonal: NDArray[np.float64]
    remainder: NDArray[np.float64]
    robust_weights: NDArray[np.float64]
    """STL's robustness weights (1 for an ordinary period, near 0 for an outlier); all 1 when not robust."""
    period: int
    frequency: str
    """"month", "week" or "unknown" (a plain integer index)."""
    robust: bool
    seasonal_window: str | int
    """"periodic" (one fixed seasonal pattern) or the odd length of STL's seasonal smoother."""
    seasonal_strength: float
    """Wang, Smith & Hyndman (2006): max(0, 1 - Var(R) / Var(S + R)); 0 for a constant series."""
    trend_strength: float
    """max(0, 1 - Var(R) / Var(T + R)); 0 for a constant series."""
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "observed": self.observed,
                "trend": self.trend,
                "seasonal": self.seasonal,
                "remainder": self.remainder,
                "robust_weight": self.robust_weights,
            },
            index=self.index.copy(),
        )

    def seasonal_profile(self) -> pd.Series:
        """Mean seasonal component by position in the cycle (calendar month or week of the series)."""
        if self.frequency == "month" and isinstance(self.index, pd.DatetimeIndex):
            position = self.index.month.to_numpy() - 1
            labels: list[Any] = list(MONTHS)
        else:
            position = np.arange(len(self.observed)) % self.period
            labels = list(range(1, self.period + 1))
        sums = np.bincount(position, weights=self.seasonal, minlength=len(labels))
        counts = np.bincount(position, minlength=len(labels))
        return pd.Series(sums / np.maximum(counts, 1), index=labels, name="seasonal")

    def summary(self) -> str:
        if np.ptp(self.observed) == 0:
            return (
                f"STL (period {self.period}) of {len(self.observed)} {_ADJECTIVE[self.frequency]} values: "
                f"the series is constant ({self.observed[0]:g}), so it has no seasonality and no trend"
            )
        profile = self.seasonal_profile()
        word = "strong" if self.seasonal_strength >= 0.64 else "moderate" if self.seasonal_strength >= 0.3 else "weak"
        change = self.trend[-1] - self.trend[0]
        cycles = len(self.observed) // self.period
        outliers = int((self.robust_weights < 0.5).sum())
        return (
            f"STL (period {self.period}{', robust' if self.robust else ''}) of {len(self.observed)} "
            f"{_ADJECTIVE[self.frequency]} values: {word} seasonality (strength {self.seasonal_strength:.2f}), peak at "
            f"{profile.idxmax()} (+{profile.max():.3g}), trough at {profile.idxmin()} ({profile.min():.3g}); "
            f"trend strength {self.trend_strength:.2f}, trend from {self.trend[0]:.3g} to {self.trend[-1]:.3g} "
            f"({'+' if change >= 0 else ''}{change:.3g}); {outliers} period{'' if outliers == 1 else 's'} "
            f"down-weighted as outliers (robust weight < 0.5)"
            + (
                f"; only {cycles} cycles: the strengths are rough (noise alone can score 0.3 to 0.5 with two)"
                if cycles < 4
                else ""
            )
        )


def _strength(remainder: NDArray[np.float64], component: NDArray[np.float64], scale: float) -> float:
    """Wang-Smith-Hyndman strength; 0 when component + remainder is flat (up to rounding at the series' scale)."""
    total = float(np.var(component + remainder))
    if not total > 1e-20 * max(1.0, scale) ** 2:
        return 0.0
    return float(max(0.0, 1.0 - float(np.var(remainder)) / total))


def _regular_index(index: pd.Index, where: str) -> tuple[str, pd.Index]:
    """The series' frequency ("month", "week" or "unknown"), after checking the periods follow one another."""
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp(how="start")
    if not isinstance(index, pd.DatetimeIndex):
        if not (pd.api.types.is_integer_dtype(index.dtype) and np.all(np.diff(index.to_numpy()) == 1)):
            raise InputError(
                f"{where}: the series must be indexed by period start dates (monthly or weekly), a PeriodIndex, "
                "or consecutive integers"
            )
        return "unknown", index
    if index.hasnans:
        raise InputError(f"{where}: the series' index has missing dates (NaT)")
    if index.has_duplicates:
        raise InputError(f"{where}: the period {index[index.duplicated()][0].date()} appears more than once")
    if not index.is_monotonic_increasing:
        raise InputError(f"{where}: the series' index is not sorted; sort it by period start first")
    if len(index) < 2:
        return "unknown", index
    local = (index.tz_localize(None) if index.tz is not None else index).as_unit("ns")
    if np.all(index.day == 1) and np.all(local.normalize() == local):
        frequency = "month"
        steps = np.diff(index.year.to_numpy() * 12 + index.month.to_numpy())
        following = [(index[i] + pd.DateOffset(months=1)).date() for i in np.flatnonzero(steps != 1)[:1]]
    else:
        days = np.diff(local.normalize().asi8) // _NS_DAY
        if not (np.all(days % 7 == 0) and np.all(days > 0) and len(set(local.day_of_week)) == 1):
            raise InputError(
                f"{where}: the index is neither monthly (first of each month) nor weekly (7 days apart); "
                "aggregate the counts to months or weeks first"
            )
        frequency, steps = "week", days // 7
        following = [(index[i] + pd.Timedelta(days=7)).date() for i in np.flatnonzero(steps != 1)[:1]]
    if following:
        first = int(np.flatnonzero(steps != 1)[0])
        raise InputError(
            f"{where}: the {frequency}ly series is not regular: the period starting {following[0]} is missing "
            f"(after {index[first].date()}, the next period is {index[first + 1].date()}); "
            "supply zero counts for periods without incidents"
        )
    return frequency, index


def decompose(
    series: pd.Series, *, period: int | None = None, robust: bool = True, seasonal: int | str = "periodic"
) -> Decomposition:
    """Seasonal-trend decomposition (STL, statsmodels) of monthly or weekly counts indexed by period start.

    ``period`` defaults to 12 for a monthly index and 52 for a weekly one. The series must be regular
    (periods without incidents are zeros that the caller supplies) and hold at least two full periods.
    ``robust`` uses STL's outlier-resistant weights, so a one-off spike does not bend the trend.
    ``seasonal="periodic"`` (R's ``s.window = "periodic"``: a seasonal pattern that repeats unchanged, STL
    with a window longer than the series and degree 0) suits the two to five years an observatory usually
    has; an odd integer (statsmodels' default is 7) lets the pattern evolve, which needs many more cycles:
    with few, the seasonal smoother follows the noise and the seasonal strength of pure noise nears 1.
    """
    from statsmodels.tsa.seasonal import STL

    where = "decompose"
    if not isinstance(series, pd.Series):
        raise InputError(f"The 'series' parameter of {where} must be a pandas Series. Got {type(series).__name__}.")
    frequency, index = _regular_index(series.index, where)
    if period is None:
        if frequency not in ("month", "week"):
            raise InputError(f"{where}: cannot tell the period from the index; pass period=12 (months) or 52 (weeks)")
        period = 12 if frequency == "month" else 52
    if not (isinstance(period, int | np.integer) and not isinstance(period, bool) and period >= 2):
        raise InputError(f"The 'period' parameter of {where} must be an integer >= 2. Got {period!r} instead.")
    periodic = isinstance(seasonal, str) and seasonal == "periodic"
    if not periodic and not (
        isinstance(seasonal, int | np.integer) and not isinstance(seasonal, bool) and seasonal >= 3 and seasonal % 2
    ):
        raise InputError(
            f"The 'seasonal' parameter of {where} must be 'periodic' or an odd integer >= 3. Got {seasonal!r} instead."
        )
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InputError(
            f"{where}: the value for period {series.index[bad]} is missing or not a number; "
            "supply zero counts for periods without incidents"
        )
    if len(values) < 2 * period:
        raise InputError(
            f"{where}: a period of {period} needs at least {2 * period} values (two full cycles). Got {len(values)}."
        )
    window = 10 * len(values) + 1 if periodic else int(seasonal)
    fit = STL(values, period=int(period), seasonal=window, seasonal_deg=0 if periodic else 1, robust=bool(robust)).fit()
    trend = np.asarray(fit.trend, dtype=np.float64)
    seas = np.asarray(fit.seasonal, dtype=np.float64)
    remainder = np.asarray(fit.resid, dtype=np.float64)
    scale = float(np.max(np.abs(values)))
    return Decomposition(
        index=index.copy(),
        observed=values,
        trend=trend,
        seasonal=seas,
        remainder=remainder,
        robust_weights=np.asarray(fit.weights, dtype=np.float64),
        period=int(period),
        frequency=frequency,
        robust=bool(robust),
        seasonal_window="periodic" if periodic else int(seasonal),
        seasonal_strength=_strength(remainder, seas, scale),
        trend_strength=_strength(remainder, trend, scale),
        provenance=stamp(
            "safercities.stats.timeseries.decompose",
            {
                "period": int(period),
                "robust": bool(robust),
                "seasonal": "periodic" if periodic else int(seasonal),
                "seasonal_window": window,
                "method": "STL (statsmodels)",
            },
            values,
        ),
    )


# -- year over year ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class YearOverYear:
    """Rate ratios now / before with exact conditional p-values, Clopper-Pearson intervals and FDR."""

    count_now: NDArray[np.int64]
    count_before: NDArray[np.int64]
    exposure_now: NDArray[np.float64]
    exposure_before: NDArray[np.float64]
    ratio: NDArray[np.float64]
    """(count_now / exposure_now) / (count_before / exposure_before); inf when nothing before, NaN when 0/0."""
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    """Exact conditional p-value; NaN where both counts are 0 (nothing to test; left out of the FDR)."""
    pvalue_fdr: NDArray[np.float64]
    """Benjamini-Hochberg adjusted across all the comparisons made together."""
    confidence: float
    alternative: str
    labels: pd.Index
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def change(self) -> NDArray[np.float64]:
        """Relative change of the rate, ratio - 1 (0.25 = +25%)."""
        return np.asarray(self.ratio - 1.0, dtype=np.float64)

    def significant(self, fdr: float = 0.05) -> NDArray[np.bool_]:
        """Comparisons whose BH-adjusted p-value is at most ``fdr``."""
        return np.asarray(np.nan_to_num(self.pvalue_fdr, nan=1.0) <= fdr)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "count_now": self.count_now,
                "count_before": self.count_before,
                "exposure_now": self.exposure_now,
                "exposure_before": self.exposure_before,
                "ratio": self.ratio,
                "change": self.change,
                "lower": self.lower,
                "upper": self.upper,
                "pvalue": self.pvalue,
                "pvalue_fdr": self.pvalue_fdr,
            },
            index=self.labels.copy(),
        )

    def summary(self, fdr: float = 0.05) -> str:
        sig = self.significant(fdr)
        up, down = int((sig & (self.ratio > 1)).sum()), int((sig & (self.ratio < 1)).sum())
        untested = int(np.isnan(self.pvalue).sum())
        now, before = (
            self.count_now.sum() / self.exposure_now.sum(),
            self.count_before.sum() / self.exposure_before.sum(),
        )
        overall = now / before if before > 0 else float("nan")
        return (
            f"{len(self.ratio)} comparisons ({self.alternative}, exact conditional test): {up} up and {down} down at "
            f"a false discovery rate of {fdr:g}; {untested} with no incidents in either period not tested; "
            f"pooled rate ratio {overall:.3f}"
        )


def _first_true(pred: Any, lo: NDArray[np.int64], hi: NDArray[np.int64]) -> NDArray[np.int64]:
    """Vectorised bisection: the smallest j in [lo, hi] with pred(j) True (pred monotone False -> True), or hi + 1."""
    lo, hi = lo.copy(), hi + 1
    while np.any(lo < hi):
        active = lo < hi
        mid = (lo + hi) // 2
        ok = pred(mid) & active
        hi = np.where(ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)
    return lo


def _binom_two_sided(k: NDArray[np.int64], n: NDArray[np.int64], p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided exact binomial p-value (minimum likelihood), for arrays; n > 0."""
    d = stats.binom.pmf(k, n, p) * (1 + 1e-7)  # relative tolerance, as scipy's binomtest
    mean = n * p
    out = np.ones(k.shape)
    low = k < mean
    if np.any(low):
        kk, nn, pp, dd = k[low], n[low], p[low], d[low]
        start = np.ceil(nn * pp).astype(np.int64)
        j = _first_true(lambda m: stats.binom.pmf(m, nn, pp) <= dd, start, nn)
        out[low] = stats.binom.cdf(kk, nn, pp) + stats.binom.sf(j - 1, nn, pp)
    high = k > mean
    if np.any(high):
        kk, nn, pp, dd = k[high], n[high], p[high], d[high]
        stop = np.floor(nn * pp).astype(np.int64)
        # the largest j in [0, stop] with pmf(j) <= d: pmf rises up to the mode, so search the mirrored order
        first_above = _first_true(lambda m: stats.binom.pmf(m, nn, pp) > dd, np.zeros_like(stop), stop)
        j = first_above - 1
        out[high] = np.where(j >= 0, stats.binom.cdf(j, nn, pp), 0.0) + stats.binom.sf(kk - 1, nn, pp)
    return np.asarray(np.minimum(out, 1.0), dtype=np.float64)


def _as_counts(values: ArrayLike, name: str, where: str) -> NDArray[np.float64]:
    a = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0) or not np.all(np.equal(np.mod(a, 1), 0)):
        raise InputError(f"{where}: '{name}' must hold non-negative whole counts")
    return a


def year_over_year(
    count_now: ArrayLike,
    count_before: ArrayLike,
    *,
    exposure_now: ArrayLike = 1.0,
    exposure_before: ArrayLike = 1.0,
    confidence: float = 0.95,
    alternative: str = "two-sided",
) -> YearOverYear:
    """Has the rate changed? Exact conditional test and interval for each pair of counts, FDR across pairs.

    Counts (and exposures: days, population-years) broadcast together, one comparison per element, for
    example one per area or offence. ``alternative`` is "two-sided", "greater" (the rate rose) or "less".
    A pandas Series of counts keeps its index as the labels of the result.
    """
    where = "year_over_year"
    _check_confidence(confidence, where)
    check_choice("alternative", alternative, ("two-sided", "greater", "less"), where)
    labels = next((v.index for v in (count_now, count_before) if isinstance(v, pd.Series)), None)
    k1, k0 = _as_counts(count_now, "count_now", where), _as_counts(count_before, "count_before", where)
    e1, e0 = np.asarray(exposure_now, dtype=np.float64), np.asarray(exposure_before, dtype=np.float64)
    if not (np.all(np.isfinite(e1)) and np.all(e1 > 0) and np.all(np.isfinite(e0)) and np.all(e0 > 0)):
        raise InputError(f"{where}: exposures must be positive finite numbers")
    try:
        k1, k0, e1, e0 = (np.ravel(a) for a in np.broadcast_arrays(k1, k0, e1, e0))
    except ValueError as exc:
        raise InputError(f"{where}: counts and exposures do not have matching shapes ({exc})") from None
    if labels is None or len(labels) != len(k1):
        labels = pd.RangeIndex(len(k1))
    n = (k1 + k0).astype(np.int64)
    k = k1.astype(np.int64)
    p0 = e1 / (e1 + e0)
    tested = n > 0
    pvalue = np.full(k.shape, np.nan)
    if np.any(tested):
        kt, nt, pt = k[tested], n[tested], p0[tested]
        if alternative == "greater":
            pvalue[tested] = stats.binom.sf(kt - 1, nt, pt)
        elif alternative == "less":
            pvalue[tested] = stats.binom.cdf(kt, nt, pt)
        else:
            pvalue[tested] = _binom_two_sided(kt, nt, pt)
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        p_low = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        p_high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
        scale = e0 / e1
        ratio = np.where(k0 > 0, k1 / np.where(k0 > 0, k0, 1.0) * scale, np.where(k1 > 0, np.inf, np.nan))
        lower = np.where(p_low < 1, p_low / (1 - p_low) * scale, np.inf)
        upper = np.where(p_high < 1, p_high / (1 - p_high) * scale, np.inf)
    return YearOverYear(
        count_now=k1.astype(np.int64),
        count_before=k0.astype(np.int64),
        exposure_now=e1,
        exposure_before=e0,
        ratio=ratio,
        lower=lower,
        upper=upper,
        pvalue=pvalue,
        pvalue_fdr=fdr_bh(pvalue),
        confidence=confidence,
        alternative=alternative,
        labels=pd.Index(labels),
        provenance=stamp(
            "safercities.stats.timeseries.year_over_year",
            {
                "confidence": confidence,
                "alternative": alternative,
                "test": "exact conditional (binomial)",
                "interval": "Clopper-Pearson on p, mapped to the ratio",
                "adjustment": "fdr_bh",
            },
            k1,
            k0,
            e1,
            e0,
        ),
    )


# -- aoristic ---------------------------------------------------------------------------------------
def _wall_clock_ns(values: Any, name: str, where: str) -> NDArray[np.int64]:
    """Local wall-clock times as int64 ns since 1970-01-01 (NaT as int64 min)."""
    try:
        index = pd.DatetimeIndex(pd.to_datetime(pd.Series(np.asarray(values) if np.ndim(values) == 0 else values)))
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: '{name}' must hold dates and times. ({exc})") from None
    if index.tz is not None:
        index = index.tz_localize(None)  # the clock on the wall where it happened
    return np.asarray(index.as_unit("ns").asi8, dtype=np.int64)


def _is_leap(year: NDArray[np.int64]) -> NDArray[np.bool_]:
    return np.asarray((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0)))


def _leaps_through(year: NDArray[np.int64]) -> NDArray[np.int64]:
    """Number of leap years in [1, year] (proleptic Gregorian)."""
    return np.asarray(year // 4 - year // 100 + year // 400, dtype=np.int64)


_COMMON_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _cumulative(t: NDArray[np.int64], unit: str) -> NDArray[np.int64]:
    """F[i, b]: ns spent in bin b between the epoch and t[i] (negative before the epoch)."""
    if unit == "month":
        months = t.astype("datetime64[ns]").astype("datetime64[M]")
        month_start = months.astype("datetime64[ns]").astype(np.int64)
        m = months.astype(np.int64)
        year = 1970 + m // 12
        month = m % 12
        bins = np.arange(12)
        days = np.where(bins == 1, 28 + _is_leap(year)[:, None], _COMMON_DAYS[None, :])
        whole_years = (year - 1970)[:, None] * _COMMON_DAYS[None, :] * _NS_DAY
        whole_years[:, 1] += (_leaps_through(year - 1) - 477) * _NS_DAY  # 477 leap years in [1, 1969]
        this_year = np.where(bins[None, :] < month[:, None], days * _NS_DAY, 0)
        this_year = np.where(bins[None, :] == month[:, None], (t - month_start)[:, None], this_year)
        return np.asarray(whole_years + this_year, dtype=np.int64)
    period, width = (_NS_DAY, _NS_HOUR) if unit == "hour" else (_NS_WEEK, _NS_DAY if unit == "day" else _NS_HOUR)
    shifted = t - _MONDAY
    cycles = np.floor_divide(shifted, period)
    within = shifted - cycles * period
    offsets = np.arange(period // width, dtype=np.int64) * width
    partial = np.clip(within[:, None] - offsets[None, :], 0, width)
    return np.asarray(cycles[:, None] * width + partial, dtype=np.int64)


def _cyclic_totals(s: NDArray[np.int64], e: NDArray[np.int64], unit: str) -> NDArray[np.float64]:
    """Column sums of the aoristic weights for equal bins on a fixed cycle, in O(incidents + bins).

    With r the position in the cycle and c the cycle number, the time a window spends in bin b is
    (c_e - c_s) L + P_b(r_e) - P_b(r_s), where P_b(r) = L if r is past bin b, r - b L inside it, 0 before it.
    Summed over incidents with weights 1 / duration, each P_b term is a weighted count of the incidents
    whose r lies past bin b (a reversed cumulative sum) plus the weighted offsets of those inside it.
    """
    period, width = (_NS_DAY, _NS_HOUR) if unit == "hour" else (_NS_WEEK, _NS_DAY if unit == "day" else _NS_HOUR)
    size = int(period // width)
    duration = e - s
    window = duration > 0
    total = np.bincount(_bin_of(s[~window], unit), minlength=size).astype(np.float64)
    s, e = s[window] - _MONDAY, e[window] - _MONDAY
    w = 1.0 / duration[window].astype(np.float64)
    c_s, c_e = np.floor_divide(s, period), np.floor_divide(e, period)
    total += float(np.sum(w * (c_e - c_s).astype(np.float64))) * width  # whole cycles: L in every bin
    for r, sign in ((e - c_e * period, 1.0), (s - c_s * period, -1.0)):
        b = r // width
        inside = np.bincount(b, weights=w * (r - b * width).astype(np.float64), minlength=size)
        count = np.bincount(b, weights=w, minlength=size)
        past = np.concatenate([np.cumsum(count[::-1])[::-1][1:], [0.0]])  # incidents whose r is beyond bin b
        total += sign * (past * width + inside)
    return np.asarray(total, dtype=np.float64)


def _bin_of(t: NDArray[np.int64], unit: str) -> NDArray[np.int64]:
    if unit == "month":
        return np.asarray(t.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64) % 12, dtype=np.int64)
    period, width = (_NS_DAY, _NS_HOUR) if unit == "hour" else (_NS_WEEK, _NS_DAY if unit == "day" else _NS_HOUR)
    return np.asarray(np.mod(t - _MONDAY, period) // width, dtype=np.int64)


def _n_bins(unit: str) -> int:
    return {"hour": 24, "day": 7, "dow_hour": 168, "month": 12}[unit]


def _windows(start: Any, end: Any, where: str) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    s = _wall_clock_ns(start, "start", where)
    e = s.copy() if end is None else _wall_clock_ns(end, "end", where)
    if s.shape != e.shape:
        raise InputError(f"{where}: start and end must have one entry per incident. Got {s.size} and {e.size}.")
    nat = np.iinfo(np.int64).min
    if np.any(s == nat):
        raise InputError(f"{where}: the start of incident {int(np.flatnonzero(s == nat)[0])} is missing")
    e = np.where(e == nat, s, e)  # no end: a moment
    if np.any(e < s):
        i = int(np.flatnonzero(e < s)[0])
        raise InputError(
            f"{where}: incident {i} ends before it starts ({pd.Timestamp(e[i])} < {pd.Timestamp(s[i])}); "
            "swap or correct its window"
        )
    return s, e


def _weights_block(s: NDArray[np.int64], e: NDArray[np.int64], unit: str) -> NDArray[np.float64]:
    duration = e - s
    overlap = _cumulative(e, unit) - _cumulative(s, unit)
    out = overlap / np.where(duration > 0, duration, 1)[:, None]
    moments = np.flatnonzero(duration == 0)
    if moments.size:
        out[moments] = 0.0
        out[moments, _bin_of(s[moments], unit)] = 1.0
    return np.asarray(out, dtype=np.float64)


def aoristic_weights(start: Any, end: Any = None, *, unit: str = "dow_hour") -> NDArray[np.float64]:
    """Per-incident aoristic weights, an (incidents x bins) matrix whose rows sum to 1 (bins flat for dow_hour)."""
    where = "aoristic_weights"
    check_choice("unit", unit, AORISTIC_UNITS, where)
    s, e = _windows(start, end, where)
    return _weights_block(s, e, unit)


@dataclass(frozen=True)
class TimeProfile:
    """Incidents (or aoristic shares of incidents) per time bin: hour, day of week, day x hour or month."""

    weights: NDArray[np.float64]
    """Shape (24,), (7,), (7, 24) or (12,); sums to the number of incidents."""
    unit: str
    aoristic: bool
    n_incidents: int
    n_windows: int
    """Incidents known only within a window of positive length (the others are moments)."""
    n_long: int
    """Windows at least as long as the unit's cycle (a day for hours, a week for days, a year for months)."""
    median_window_hours: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def labels(self) -> tuple[list[Any], list[Any] | None]:
        if self.unit == "dow_hour":
            return list(DAYS), list(range(24))
        rows: dict[str, list[Any]] = {"hour": list(range(24)), "day": list(DAYS), "month": list(MONTHS)}
        return rows[self.unit], None

    def to_frame(self) -> pd.DataFrame:
        """A 7 x 24 table (days down, hours across) for ``dow_hour``; one column ``weight`` otherwise."""
        rows, columns = self.labels()
        if columns is not None:
            frame = pd.DataFrame(self.weights.copy(), index=pd.Index(rows, name="day"), columns=columns)
            frame.columns.name = "hour"
            return frame
        return pd.DataFrame({"weight": self.weights.copy()}, index=pd.Index(rows, name=self.unit))

    def summary(self) -> str:
        total = float(self.weights.sum())
        what = "aoristic weights" if self.aoristic else "counts"
        if total <= 0:
            return f"{self.unit} profile ({what}) of {self.n_incidents} incidents: empty"
        rows, columns = self.labels()
        flat = np.argmax(self.weights)
        if columns is not None:
            d, h = divmod(int(flat), 24)
            peak = f"{rows[d]} {h:02d}:00-{h + 1:02d}:00"
        else:
            peak = str(rows[int(flat)])
        share = float(self.weights.ravel()[flat] / total)
        text = (
            f"{self.unit} profile ({what}) of {self.n_incidents} incidents: busiest bin {peak} "
            f"({share:.1%} of the total, uniform would be {1 / self.weights.size:.1%})"
        )
        if self.aoristic:
            text += (
                f"; {self.n_windows} known only within a window (median {self.median_window_hours:.1f} h), "
                f"{self.n_long} of them spanning a whole cycle or more"
            )
        return text


def _cycle_ns(unit: str) -> int:
    return {"hour": _NS_DAY, "day": _NS_WEEK, "dow_hour": _NS_WEEK, "month": 365 * _NS_DAY}[unit]


def aoristic(start: Any, end: Any = None, *, unit: str = "dow_hour") -> TimeProfile:
    """Ratcliffe's (2002) aoristic profile: each incident's window [start, end] shared across time bins.

    Each incident contributes weight 1 in all, split in proportion to the time its window spends in each
    bin; a moment (end equal to start, or no end) puts 1 in its bin. Bins are half-open: 10:00 is in the
    10:00-11:00 hour. Vectorised and exact for windows of any length (whole cycles counted in closed form).
    """
    where = "aoristic"
    check_choice("unit", unit, AORISTIC_UNITS, where)
    s, e = _windows(start, end, where)
    if unit == "month":
        total = np.zeros(_n_bins(unit))
        for i in range(0, len(s), _CHUNK):
            total += _weights_block(s[i : i + _CHUNK], e[i : i + _CHUNK], unit).sum(axis=0)
    else:
        total = _cyclic_totals(s, e, unit)
    duration = e - s
    windows = duration > 0
    return TimeProfile(
        weights=total.reshape(7, 24) if unit == "dow_hour" else total,
        unit=unit,
        aoristic=True,
        n_incidents=len(s),
        n_windows=int(windows.sum()),
        n_long=int((duration >= _cycle_ns(unit)).sum()),
        median_window_hours=float(np.median(duration[windows]) / _NS_HOUR) if windows.any() else 0.0,
        provenance=stamp("safercities.stats.timeseries.aoristic", {"unit": unit, "method": "Ratcliffe (2002)"}, s, e),
    )


def weekly_profile(times_local: Any, *, windows_end: Any = None) -> TimeProfile:
    """The 7 x 24 day-of-week x hour table (Monday first) of local times; aoristic when windows end later.

    With ``windows_end`` (one end per incident, NaT or equal to the start for an exact time) each incident
    is shared across the hours its window covers (:func:`aoristic`); without it, each counts 1 in its hour.
    """
    if windows_end is not None:
        profile = aoristic(times_local, windows_end, unit="dow_hour")
        return profile
    where = "weekly_profile"
    t = _wall_clock_ns(times_local, "times_local", where)
    nat = np.iinfo(np.int64).min
    if np.any(t == nat):
        raise InputError(f"{where}: the time of incident {int(np.flatnonzero(t == nat)[0])} is missing")
    counts = np.bincount(_bin_of(t, "dow_hour"), minlength=168).astype(np.float64)
    return TimeProfile(
        weights=counts.reshape(7, 24),
        unit="dow_hour",
        aoristic=False,
        n_incidents=len(t),
        n_windows=0,
        n_long=0,
        median_window_hours=0.0,
        provenance=stamp("safercities.stats.timeseries.weekly_profile", {"aoristic": False}, t),
    )
