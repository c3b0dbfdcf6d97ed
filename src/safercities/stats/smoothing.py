"""Small-area rates: empirical Bayes smoothing, excess risk and location quotients.

A crude rate in an area with few inhabitants swings wildly from one year to the next; empirical Bayes
(EB) shrinks it towards a reference rate, the more so the smaller the population. Two references:

* **global EB** (Marshall 1991, method of moments, as GeoDa and esda ``Empirical_Bayes`` do it): the
  prior mean is the city-wide rate ``m = sum(O) / sum(P)`` and the prior variance
  ``s2 = sum(P_i (r_i - m)^2) / sum(P) - m / mean(P)``;
* **spatial EB** (GeoDa's spatial EB, esda ``Spatial_Empirical_Bayes``): the same moments computed in
  each area's window, its neighbours (binary weights) *and itself*:
  ``m_i = sum_w O / sum_w P`` and ``s2_i = sum_w P_j (r_j - m_i)^2 / sum_w P - m_i / (sum_w P / k_i)``
  with ``k_i`` the number of areas in the window.

The smoothed rate is ``m + w_i (r_i - m)`` with shrinkage weight ``w_i = s2 / (s2 + m / P_i)``.
**Negative variance rule**: a moment estimate ``s2 < 0`` (the rates vary less than Poisson noise alone
would make them) is set to 0, so the area takes the reference rate itself (GeoDa: "if the estimated
variance is negative, it is set to zero"; esda's spatial EB does the same). esda's global EB does not
truncate; on data where ``s2 > 0`` the two agree exactly. An island's window is itself alone, so its
variance is negative and its smoothed rate is its crude rate (as in esda).

Areas with zero (or missing) population get NaN and the flag ``zero_population``; they are left out
of every prior (their incidents too: a park or an industrial estate with no residents has no rate),
never divided by. All rates are per ``per`` inhabitants (100,000 by default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from safercities.errors import InputError
from safercities.stats.provenance import stamp
from safercities.stats.rates import exact_poisson_interval
from safercities.stats.weights import SpatialWeights

__all__ = [
    "ExcessRisk",
    "LocationQuotients",
    "SmoothedRates",
    "empirical_bayes",
    "excess_risk",
    "location_quotients",
    "spatial_empirical_bayes",
]


# -- validation -------------------------------------------------------------------------------------
def _check_confidence(confidence: float, where: str) -> None:
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of {where} must be in (0, 1). Got {confidence!r} instead.")


def _counts_and_population(
    count: ArrayLike, population: ArrayLike, where: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Validated float copies of counts and populations, and the mask of usable (population > 0) areas."""
    k = np.asarray(count, dtype=np.float64).ravel()
    pop = np.asarray(population, dtype=np.float64).ravel()
    if k.shape != pop.shape:
        raise InputError(f"{where}: count and population must have one entry per area. Got {k.shape} and {pop.shape}.")
    if not np.all(np.isfinite(k)) or np.any(k < 0) or not np.all(np.equal(np.mod(k, 1), 0)):
        raise InputError(f"{where}: counts must be finite non-negative integers")
    if np.any(pop < 0) or np.any(np.isinf(pop)):
        raise InputError(f"{where}: populations must be non-negative and finite (NaN marks a missing one)")
    usable = pop > 0  # NaN compares False
    return k, pop, usable


def _validate_per(per: float, where: str) -> None:
    if not (np.isfinite(per) and per > 0):
        raise InputError(f"The 'per' parameter of {where} must be a positive number. Got {per!r} instead.")


# -- empirical Bayes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmoothedRates:
    """Crude and empirical-Bayes-smoothed rates per ``per`` inhabitants, area by area."""

    count: NDArray[np.float64]
    population: NDArray[np.float64]
    crude: NDArray[np.float64]
    smoothed: NDArray[np.float64]
    prior_mean: NDArray[np.float64]
    """The reference rate each area shrinks towards (city-wide, or its window's)."""
    prior_variance: NDArray[np.float64]
    """Moment estimate of the between-area variance of rates (per-person scale), after the rule s2 >= 0."""
    shrinkage: NDArray[np.float64]
    """Weight of the crude rate: 1 keeps it, 0 replaces it by the prior mean."""
    variance_truncated: NDArray[np.bool_]
    zero_population: NDArray[np.bool_]
    window_size: NDArray[np.int64]
    method: str
    per: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "count": self.count,
                "population": self.population,
                "crude": self.crude,
                "smoothed": self.smoothed,
                "prior_mean": self.prior_mean,
                "prior_variance": self.prior_variance,
                "shrinkage": self.shrinkage,
                "variance_truncated": self.variance_truncated,
                "zero_population": self.zero_population,
                "window_size": self.window_size,
            }
        )

    def summary(self) -> str:
        ok = ~self.zero_population
        moved = np.abs(self.smoothed[ok] - self.crude[ok])
        return (
            f"{self.method} empirical Bayes rates per {self.per:g}: {ok.sum()} areas smoothed, "
            f"{self.zero_population.sum()} with zero population (NaN), "
            f"{self.variance_truncated.sum()} with a negative variance estimate set to 0; "
            f"median shrinkage weight {np.median(self.shrinkage[ok]) if ok.any() else float('nan'):.3f}, "
            f"largest change {moved.max() if moved.size else float('nan'):.4g}"
        )


def _crude(k: NDArray[np.float64], pop: NDArray[np.float64], usable: NDArray[np.bool_]) -> NDArray[np.float64]:
    return np.divide(k, pop, out=np.full_like(k, np.nan), where=usable)


def _shrink(
    rate: NDArray[np.float64],
    pop: NDArray[np.float64],
    usable: NDArray[np.bool_],
    mean: NDArray[np.float64],
    variance: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """EB estimate ``mean + w (rate - mean)`` with ``w = s2 / (s2 + mean / P)``; NaN where P = 0."""
    noise = np.divide(mean, pop, out=np.full_like(rate, np.nan), where=usable)
    denominator = variance + noise
    # variance = 0 and mean = 0 (no incidents anywhere in the window): nothing to shrink, the rate is 0
    weight = np.divide(variance, denominator, out=np.zeros_like(rate), where=usable & (denominator > 0))
    weight[~usable] = np.nan
    return mean + weight * (rate - mean), weight


def empirical_bayes(count: ArrayLike, population: ArrayLike, *, per: float = 100_000) -> SmoothedRates:
    """Global empirical Bayes rates (Marshall 1991 moments; GeoDa / esda ``Empirical_Bayes``)."""
    where = "empirical_bayes"
    _validate_per(per, where)
    k, pop, usable = _counts_and_population(count, population, where)
    rate = _crude(k, pop, usable)
    n = int(usable.sum())
    if n == 0:
        mean_rate, variance, truncated = np.nan, np.nan, False
    else:
        total_pop = pop[usable].sum()
        mean_rate = k[usable].sum() / total_pop
        spread = (pop[usable] * (rate[usable] - mean_rate) ** 2).sum() / total_pop
        variance = spread - mean_rate / pop[usable].mean()
        truncated = bool(variance < 0)
        variance = max(variance, 0.0)
    mean = np.full(k.shape, mean_rate)
    var = np.full(k.shape, variance)
    smoothed, weight = _shrink(rate, pop, usable, mean, var)
    mean[~usable] = np.nan
    return SmoothedRates(
        count=k,
        population=pop,
        crude=rate * per,
        smoothed=smoothed * per,
        prior_mean=mean * per,
        prior_variance=np.where(usable, var, np.nan),
        shrinkage=weight,
        variance_truncated=usable & truncated,
        zero_population=~usable,
        window_size=np.where(usable, n, 0).astype(np.int64),
        method="global",
        per=per,
        provenance=stamp("safercities.stats.smoothing.empirical_bayes", {"per": per}, k, pop),
    )


def spatial_empirical_bayes(
    count: ArrayLike, population: ArrayLike, weights: SpatialWeights, *, per: float = 100_000
) -> SmoothedRates:
    """Spatial empirical Bayes rates: each area's prior from its window, neighbours plus itself (GeoDa).

    The weights are used as binary links whatever their transform (a window is a set of areas);
    areas with zero population drop out of every window.
    """
    where = "spatial_empirical_bayes"
    _validate_per(per, where)
    k, pop, usable = _counts_and_population(count, population, where)
    if weights.n != len(k):
        raise InputError(f"{where}: the weights cover {weights.n} areas but counts have {len(k)} entries")
    n = len(k)
    rate = _crude(k, pop, usable)
    # every (area, member of its window) pair, self included once, zero-population members left out
    off_diagonal = weights.focal != weights.neighbor
    focal = np.concatenate([weights.focal[off_diagonal], np.arange(n)])
    member = np.concatenate([weights.neighbor[off_diagonal], np.arange(n)])
    keep = usable[member]
    focal, member = focal[keep], member[keep]
    pop0 = np.where(usable, pop, 0.0)
    window_pop = np.bincount(focal, weights=pop0[member], minlength=n)
    window_count = np.bincount(focal, weights=k[member], minlength=n)
    window_size = np.bincount(focal, minlength=n).astype(np.int64)
    has_window = window_pop > 0
    mean = np.divide(window_count, window_pop, out=np.full(n, np.nan), where=has_window)
    spread_terms = pop0[member] * (np.nan_to_num(rate)[member] - mean[focal]) ** 2
    spread = np.divide(
        np.bincount(focal, weights=spread_terms, minlength=n), window_pop, out=np.full(n, np.nan), where=has_window
    )
    mean_pop = np.divide(window_pop, window_size, out=np.full(n, np.nan), where=window_size > 0)
    raw_variance = spread - np.divide(mean, mean_pop, out=np.full(n, np.nan), where=has_window)
    truncated = usable & (raw_variance < 0)
    variance = np.where(truncated, 0.0, raw_variance)
    smoothed, weight = _shrink(rate, pop, usable, mean, variance)
    mean = np.where(usable, mean, np.nan)
    return SmoothedRates(
        count=k,
        population=pop,
        crude=rate * per,
        smoothed=smoothed * per,
        prior_mean=mean * per,
        prior_variance=np.where(usable, variance, np.nan),
        shrinkage=weight,
        variance_truncated=truncated,
        zero_population=~usable,
        window_size=np.where(usable, window_size, 0),
        method="spatial",
        per=per,
        provenance=stamp(
            "safercities.stats.smoothing.spatial_empirical_bayes",
            {"per": per, "weights": weights.kind or "weights", "window": "binary neighbours + self"},
            k,
            pop,
            weights.focal,
            weights.neighbor,
        ),
    )


# -- excess risk -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExcessRisk:
    """Observed over expected counts (standardised-ratio style) with the exact Poisson interval."""

    observed: NDArray[np.float64]
    expected: NDArray[np.float64]
    ratio: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    zero_population: NDArray[np.bool_]
    reference_rate: float
    """The city-wide rate per inhabitant used for the expected counts."""
    confidence: float
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def significant_excess(self) -> NDArray[np.bool_]:
        """Areas whose whole interval lies above 1."""
        return np.asarray(self.lower > 1.0)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "observed": self.observed,
                "expected": self.expected,
                "ratio": self.ratio,
                "lower": self.lower,
                "upper": self.upper,
                "significant_excess": self.significant_excess,
                "zero_population": self.zero_population,
            }
        )

    def summary(self) -> str:
        return (
            f"excess risk vs the city-wide rate {self.reference_rate * 100_000:.4g} per 100,000: "
            f"{int(self.significant_excess.sum())} of {int((~self.zero_population).sum())} areas above 1 "
            f"at {self.confidence:.0%} (exact Poisson), {int(self.zero_population.sum())} with zero population (NaN)"
        )


def excess_risk(
    count: ArrayLike,
    population: ArrayLike,
    *,
    reference_rate: float | None = None,
    confidence: float = 0.95,
) -> ExcessRisk:
    """Ratio of observed to expected incidents, expected = population x city-wide (or given) rate.

    The interval treats the expected count as fixed and the observed one as Poisson: Garwood's exact
    interval of the count (:func:`safercities.stats.rates.exact_poisson_interval`) over the expected count.
    """
    where = "excess_risk"
    _check_confidence(confidence, where)
    k, pop, usable = _counts_and_population(count, population, where)
    if reference_rate is None:
        total_pop = pop[usable].sum()
        reference = float(k[usable].sum() / total_pop) if total_pop > 0 else float("nan")
    else:
        if not (np.isfinite(reference_rate) and reference_rate > 0):
            raise InputError(
                f"The 'reference_rate' parameter of {where} must be a positive rate per inhabitant. "
                f"Got {reference_rate!r} instead."
            )
        reference = float(reference_rate)
    expected = np.where(usable, np.nan_to_num(pop) * reference, np.nan)
    valid = usable & (expected > 0)
    lower, upper = exact_poisson_interval(k, confidence)

    def over_expected(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.divide(values, expected, out=np.full(k.shape, np.nan), where=valid)

    return ExcessRisk(
        observed=k,
        expected=expected,
        ratio=over_expected(k),
        lower=over_expected(np.asarray(lower, dtype=np.float64)),
        upper=over_expected(np.asarray(upper, dtype=np.float64)),
        zero_population=~usable,
        reference_rate=reference,
        confidence=confidence,
        provenance=stamp(
            "safercities.stats.smoothing.excess_risk",
            {"reference_rate": reference_rate, "confidence": confidence, "interval": "exact Poisson (Garwood)"},
            k,
            pop,
        ),
    )


# -- location quotients ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LocationQuotients:
    """LQ of every area x offence: the offence's share in the area over its share in the city.

    ``lq``, ``lower`` and ``upper`` are areas x offences matrices. The interval treats the area's
    total as fixed and the offence's count in it as binomial (Clopper-Pearson exact interval for its
    share), divided by the city share taken as known; this is accurate when the city total is large
    next to one area's, and it stays defined for zero counts.
    """

    areas: NDArray[Any]
    offences: NDArray[Any]
    counts: NDArray[np.float64]
    lq: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    empty_area: NDArray[np.bool_]
    """Areas with no incident at all: their LQs are NaN."""
    confidence: float
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per area x offence (long form)."""
        n_areas, n_offences = self.lq.shape
        return pd.DataFrame(
            {
                "area": np.repeat(self.areas, n_offences),
                "offence": np.tile(self.offences, n_areas),
                "count": self.counts.ravel(),
                "lq": self.lq.ravel(),
                "lower": self.lower.ravel(),
                "upper": self.upper.ravel(),
                "empty_area": np.repeat(self.empty_area, n_offences),
            }
        )

    def wide(self) -> pd.DataFrame:
        """The LQs as an areas x offences table."""
        return pd.DataFrame(self.lq, index=pd.Index(self.areas, name="area"), columns=self.offences)

    def summary(self) -> str:
        above = np.nan_to_num(self.lower) > 1
        return (
            f"location quotients: {len(self.areas)} areas x {len(self.offences)} offences; "
            f"{int(above.sum())} area-offence pairs with the whole {self.confidence:.0%} interval above 1; "
            f"{int(self.empty_area.sum())} empty areas (NaN)"
        )


def location_quotients(table: pd.DataFrame | ArrayLike, *, confidence: float = 0.95) -> LocationQuotients:
    """Location quotients from an areas x offences count table (a DataFrame: index = areas, columns = offences)."""
    where = "location_quotients"
    _check_confidence(confidence, where)
    if isinstance(table, pd.DataFrame):
        areas, offences = np.asarray(table.index), np.asarray(table.columns)
        counts = table.to_numpy(dtype=np.float64)
    else:
        counts = np.asarray(table, dtype=np.float64)
        if counts.ndim != 2:
            raise InputError(f"{where}: the count table must be 2-D (areas x offences). Got {counts.ndim} dimensions.")
        areas, offences = np.arange(counts.shape[0]), np.arange(counts.shape[1])
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or not np.all(np.equal(np.mod(counts, 1), 0)):
        raise InputError(f"{where}: counts must be finite non-negative integers")
    area_total = counts.sum(axis=1)
    offence_total = counts.sum(axis=0)
    grand = counts.sum()
    empty = area_total == 0
    city_share = offence_total / grand if grand > 0 else np.full(counts.shape[1], np.nan)
    defined = (~empty)[:, None] & (city_share > 0)[None, :]
    n = np.broadcast_to(area_total[:, None], counts.shape)
    share = np.divide(counts, n, out=np.full(counts.shape, np.nan), where=defined)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        p_low = np.where(counts > 0, stats.beta.ppf(alpha / 2, counts, n - counts + 1), 0.0)
        p_high = np.where(counts < n, stats.beta.ppf(1 - alpha / 2, counts + 1, n - counts), 1.0)
    denominator = np.broadcast_to(city_share[None, :], counts.shape)

    def over_city(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.divide(values, denominator, out=np.full(counts.shape, np.nan), where=defined)

    return LocationQuotients(
        areas=areas,
        offences=offences,
        counts=counts,
        lq=over_city(share),
        lower=over_city(np.asarray(p_low, dtype=np.float64)),
        upper=over_city(np.asarray(p_high, dtype=np.float64)),
        empty_area=empty,
        confidence=confidence,
        provenance=stamp(
            "safercities.stats.smoothing.location_quotients",
            {"confidence": confidence, "interval": "Clopper-Pearson on the area share, city share fixed"},
            counts,
        ),
    )
