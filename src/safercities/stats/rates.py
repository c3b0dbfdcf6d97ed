"""Crime rates per population with exact Poisson confidence intervals.

The interval is Garwood's (1936) exact central interval: for a count k,
lower = chi2(alpha/2; 2k) / 2 and upper = chi2(1 - alpha/2; 2k + 2) / 2, divided by the
population at risk. It is what R's ``poisson.test`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from safercities import __version__
from safercities.errors import InputError


@dataclass(frozen=True)
class RateResult:
    """Rates per ``per`` inhabitants with their exact interval and stability flags."""

    count: NDArray[np.int64]
    population: NDArray[np.float64]
    rate: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    unstable: NDArray[np.bool_]
    per: float
    confidence: float
    provenance: dict[str, object] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "count": self.count,
                "population": self.population,
                "rate": self.rate,
                "lower": self.lower,
                "upper": self.upper,
                "unstable": self.unstable,
            }
        )


def exact_poisson_interval(count: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Garwood's exact interval for the mean of a Poisson count (vectorised)."""
    k = np.asarray(count, dtype=np.float64)
    alpha = 1.0 - confidence
    lower = np.where(k > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(k, 1)) / 2, 0.0)
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return lower, upper


def poisson_rate(
    count: ArrayLike,
    population: ArrayLike,
    *,
    per: float = 100_000,
    confidence: float = 0.95,
    min_count: int = 20,
    min_population: float = 1000,
) -> RateResult:
    """Rate = count / population x ``per`` with the exact interval.

    A rate is flagged ``unstable`` when its count is below ``min_count`` (relative standard error
    above about 22%) or its population below ``min_population``; a missing or zero population
    gives NaN, never infinity.
    """
    k = np.asarray(count)
    pop = np.asarray(population, dtype=np.float64)
    if k.shape != pop.shape:
        raise InputError(f"count and population must have the same shape. Got {k.shape} and {pop.shape} instead.")
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of poisson_rate must be in (0, 1). Got {confidence!r} instead.")
    if np.any(k < 0) or not np.all(np.equal(np.mod(k, 1), 0)):
        raise InputError("counts must be non-negative integers")
    if np.any(pop < 0):
        raise InputError("populations must be non-negative")
    lower, upper = exact_poisson_interval(k, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(pop > 0, per / np.where(pop > 0, pop, 1.0), np.nan)
    unstable = (k < min_count) | ~(pop >= min_population)
    return RateResult(
        count=k.astype(np.int64),
        population=pop,
        rate=k * scale,
        lower=lower * scale,
        upper=upper * scale,
        unstable=unstable,
        per=per,
        confidence=confidence,
        provenance={
            "function": "safercities.stats.rates.poisson_rate",
            "version": __version__,
            "interval": "exact (Garwood 1936)",
            "min_count": min_count,
            "min_population": min_population,
        },
    )
