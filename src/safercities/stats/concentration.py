"""Crime concentration over places: the Lorenz curve, the Gini and its sparse-data generalisation.

Places are areas, grid cells or micro-places; their counts must include the places with no crime
(a Gini over crime-bearing places only measures something else).

* **Gini** (biased form, DescTools' default-off ``unbiased``): with counts sorted ascending,
  ``G = sum_i (2i - N - 1) x_(i) / (N sum x)``; ``unbiased=True`` multiplies by ``N / (N - 1)`` (Deltas 2003).
* **Generalised Gini** (Bernasco & Steenbeek 2017, "More places than crimes", J Quant Criminol 33:451-467):
  when crimes ``C`` are fewer than places ``N`` the most equal spread possible puts one crime in each
  of ``C`` places, so the line of maximal equality runs from (0, 0) to (C/N, 1).  Measuring the area
  against that line gives ``G' = max(1, N/C) (G - 1) + 1`` (= G when C >= N). ``unbiased=True`` applies
  the authors' R package (lorenzgini) correction ``G' m / (m - 1)`` with ``m = min(N, C)``.
* **Law of crime concentration** (Weisburd 2015): the share of crime in the top 1/5/10 % of places and
  the share of places that hold 25 % and 50 % of crime.

Ties cannot change any of these: places are ranked by count, and places with equal counts contribute
equally to every cumulative sum, whatever their order. A top share at a fraction of places that is not
a whole number of places is read off the piecewise-linear Lorenz curve (so the top 1 % of 250 places
holds 2.5 places' worth); the places needed for a crime share are the smallest whole number of places.

Bootstrap intervals resample places with replacement. Because a resample only changes how many places
carry each distinct count, it is drawn as a multinomial over the distinct counts: cheap for any N.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError
from safercities.stats.provenance import stamp

__all__ = ["Concentration", "concentration", "generalized_gini", "gini", "lorenz_curve"]

DEFAULT_TOP = (0.01, 0.05, 0.10)
DEFAULT_CRIME_SHARES = (0.25, 0.50)


def _validate_counts(counts: ArrayLike, where: str) -> NDArray[np.float64]:
    x = np.asarray(counts, dtype=np.float64).ravel()
    if x.size == 0:
        raise InputError(f"{where}: no places given; pass one count per place, zeros included")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise InputError(f"{where}: counts must be finite and non-negative")
    return x


def _gini_from_table(values: NDArray[np.float64], frequency: NDArray[np.float64]) -> NDArray[np.float64]:
    """Biased Gini from distinct ascending ``values`` and their ``frequency`` (last axis: values).

    A block of f places with value v at ranks F_prev+1..F contributes v f (F_prev + F - N) to
    sum (2i - N - 1) x_(i).
    """
    cum = np.cumsum(frequency, axis=-1)
    n = cum[..., -1:]
    previous = cum - frequency
    total = (values * frequency).sum(axis=-1)
    numerator = (values * frequency * (previous + cum - n)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(total > 0, numerator / (n[..., 0] * total), np.nan))


def _generalise(g: NDArray[np.float64] | float, n: float, c: NDArray[np.float64] | float) -> Any:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.maximum(1.0, np.divide(n, c)) * (np.asarray(g) - 1.0) + 1.0


def _unbias(g: Any, m: Any) -> Any:
    m = np.asarray(m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m > 1, np.asarray(g) * m / (m - 1), np.nan)


def gini(counts: ArrayLike, *, unbiased: bool = False) -> float:
    """The Gini coefficient of counts over places (NaN when there is no crime at all)."""
    x = _validate_counts(counts, "gini")
    values, frequency = np.unique(x, return_counts=True)
    g = float(_gini_from_table(values, frequency.astype(np.float64)))
    return float(_unbias(g, x.size)) if unbiased else g


def generalized_gini(counts: ArrayLike, *, unbiased: bool = False) -> float:
    """Bernasco & Steenbeek's (2017) generalised Gini ``max(1, N/C) (G - 1) + 1`` (see the module docstring)."""
    x = _validate_counts(counts, "generalized_gini")
    values, frequency = np.unique(x, return_counts=True)
    g = float(_gini_from_table(values, frequency.astype(np.float64)))
    c = float(x.sum())
    out = float(_generalise(g, x.size, c))
    return float(_unbias(out, min(x.size, c))) if unbiased else out


def lorenz_curve(counts: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cumulative share of places (most crime first) and of crime, both starting at 0 and ending at 1."""
    x = _validate_counts(counts, "lorenz_curve")
    ordered = np.sort(x)[::-1]
    total = ordered.sum()
    places = np.arange(x.size + 1, dtype=np.float64) / x.size
    crime = np.concatenate([[0.0], np.cumsum(ordered)]) / total if total > 0 else np.full(x.size + 1, np.nan)
    return places, crime


@dataclass(frozen=True)
class Concentration:
    """How concentrated crime is over a set of places, with optional bootstrap intervals."""

    n_places: int
    n_crimes: float
    gini: float
    generalized_gini: float
    unbiased: bool
    top_share: dict[float, float]
    """Share of crime in the top fraction of places (key: fraction of places)."""
    places_for_share: dict[float, int]
    """Smallest number of places that together hold the key's share of crime."""
    lorenz_places: NDArray[np.float64]
    lorenz_crime: NDArray[np.float64]
    zero_places: int
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    confidence: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def sparse(self) -> bool:
        """True when crimes are fewer than places (the generalised Gini then differs from the Gini)."""
        return self.n_crimes < self.n_places

    @property
    def place_share_for(self) -> dict[float, float]:
        """Share of places that hold the key's share of crime."""
        return {q: m / self.n_places for q, m in self.places_for_share.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: name, value, and the interval when one was computed."""
        rows: list[tuple[str, float]] = [
            ("n_places", float(self.n_places)),
            ("n_crimes", float(self.n_crimes)),
            ("zero_places", float(self.zero_places)),
            ("gini", self.gini),
            ("generalized_gini", self.generalized_gini),
        ]
        rows += [(f"share_of_crime_top_{p:.0%}_places", v) for p, v in self.top_share.items()]
        rows += [(f"share_of_places_for_{q:.0%}_crime", v) for q, v in self.place_share_for.items()]
        frame = pd.DataFrame(rows, columns=["measure", "value"])
        frame["lower"] = [self.intervals.get(name, (np.nan, np.nan))[0] for name in frame["measure"]]
        frame["upper"] = [self.intervals.get(name, (np.nan, np.nan))[1] for name in frame["measure"]]
        return frame

    def lorenz_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"share_of_places": self.lorenz_places, "share_of_crime": self.lorenz_crime})

    def summary(self) -> str:
        if self.n_crimes == 0:
            return f"concentration: {self.n_places} places and no crime: nothing to measure"
        top = ", ".join(f"top {p:.0%} of places hold {v:.1%}" for p, v in self.top_share.items())
        need = ", ".join(f"{v:.1%} of places hold {q:.0%}" for q, v in self.place_share_for.items())
        line = (
            f"concentration over {self.n_places} places ({self.zero_places} without crime), "
            f"{self.n_crimes:g} crimes: Gini {self.gini:.3f}, generalised Gini {self.generalized_gini:.3f}"
        )
        if "generalized_gini" in self.intervals:
            lo, hi = self.intervals["generalized_gini"]
            line += f" ({self.confidence:.0%} bootstrap {lo:.3f}-{hi:.3f})"
        return f"{line}; {top}; {need}"


def _top_shares(places: NDArray[np.float64], crime: NDArray[np.float64], top: tuple[float, ...]) -> dict[float, float]:
    return {p: float(np.interp(p, places, crime)) for p in top}


def _places_for(ordered: NDArray[np.float64], shares: tuple[float, ...]) -> dict[float, int]:
    total = ordered.sum()
    cum = np.cumsum(ordered)
    out: dict[float, int] = {}
    for q in shares:  # a handful of shares, not places
        # a small tolerance so that exact shares (e.g. 50 of 100 crimes) are not missed by rounding
        out[q] = int(np.searchsorted(cum, q * total * (1 - 1e-12), side="left") + 1) if total > 0 else 0
    return out


def concentration(
    counts: ArrayLike,
    *,
    top: tuple[float, ...] = DEFAULT_TOP,
    crime_shares: tuple[float, ...] = DEFAULT_CRIME_SHARES,
    unbiased: bool = False,
    bootstrap: int = 0,
    rng: np.random.Generator | None = None,
    confidence: float = 0.95,
) -> Concentration:
    """Lorenz curve, Gini, generalised Gini and the law-of-concentration shares of counts over places.

    ``bootstrap`` > 0 adds percentile intervals from that many resamples of the places; it needs a
    seeded ``rng`` (a :class:`numpy.random.Generator`).
    """
    where = "concentration"
    x = _validate_counts(counts, where)
    for name, fractions in (("top", top), ("crime_shares", crime_shares)):
        if any(not (0 < f <= 1) for f in fractions):
            raise InputError(
                f"The '{name}' parameter of {where} must hold fractions in (0, 1]. Got {fractions!r} instead."
            )
    if bootstrap < 0:
        raise InputError(f"The 'bootstrap' parameter of {where} must be >= 0. Got {bootstrap!r} instead.")
    if bootstrap and rng is None:
        raise InputError(f"{where}: bootstrap intervals need rng=numpy.random.default_rng(seed)")
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of {where} must be in (0, 1). Got {confidence!r} instead.")

    n = x.size
    c = float(x.sum())
    values, frequency = np.unique(x, return_counts=True)
    freq = frequency.astype(np.float64)
    g = float(_gini_from_table(values, freq))
    g_gen = float(_generalise(g, n, c))
    if unbiased:
        g, g_gen = float(_unbias(g, n)), float(_unbias(g_gen, min(n, c)))
    places, crime = lorenz_curve(x)
    ordered = np.sort(x)[::-1]
    top_share = _top_shares(places, crime, top) if c > 0 else {p: float("nan") for p in top}
    intervals: dict[str, tuple[float, float]] = {}
    if bootstrap and c > 0 and rng is not None:
        draws = rng.multinomial(n, freq / n, size=bootstrap).astype(np.float64)
        boot_g = _gini_from_table(values, draws)
        boot_c = draws @ values
        boot_gen = _generalise(boot_g, n, boot_c)
        if unbiased:
            boot_g, boot_gen = _unbias(boot_g, n), _unbias(boot_gen, np.minimum(n, boot_c))
        tail = (1 - confidence) / 2 * 100
        for name, sample in (("gini", boot_g), ("generalized_gini", boot_gen)):
            lo, hi = np.nanpercentile(sample, [tail, 100 - tail])
            intervals[name] = (float(lo), float(hi))
    return Concentration(
        n_places=n,
        n_crimes=c,
        gini=g,
        generalized_gini=g_gen,
        unbiased=unbiased,
        top_share=top_share,
        places_for_share=_places_for(ordered, crime_shares),
        lorenz_places=places,
        lorenz_crime=crime,
        zero_places=int((x == 0).sum()),
        intervals=intervals,
        confidence=confidence if intervals else None,
        provenance=stamp(
            "safercities.stats.concentration.concentration",
            {"top": top, "crime_shares": crime_shares, "unbiased": unbiased, "bootstrap": bootstrap},
            x,
        ),
    )
