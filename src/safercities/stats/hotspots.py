"""Local statistics for hot-spot maps: Getis-Ord Gi and Gi*, and local Moran's I (LISA).

Each returns a frozen :class:`LocalResult` with one entry per area: the statistic, its analytic
moments and z-score, a conditional-permutation p-value (p = (k+1)/(R+1), an explicit
``alternative``, a Generator passed in: :mod:`safercities.stats.inference`), the
Benjamini–Hochberg adjusted p-value, and a label for the map. Areas without neighbours (islands)
get NaN statistics and the label ``"island"``; they are not counted as tests.

**Gi and Gi*** (Getis & Ord 1992; Ord & Getis 1995): G_i = sum_j w_ij y_j / sum_j y_j, over j != i
for Gi and including i (self-weight w_ii) for Gi*. The z-score is the general one of spdep's
``localG``, valid for any weights: E = W_i xbar, Var = s^2 (N S1_i - W_i^2) / (N - 1) for the
weighted sum, with N = n (Gi*) or n - 1 (Gi, where xbar and s^2 leave y_i out), W_i = sum_j w_ij
and S1_i = sum_j w_ij^2. With binary weights this is esda's ``G_Local`` z-score exactly; with
row-standardised binary weights it equals the binary z-score (the statistic is only rescaled),
whereas esda's ``G_Local(transform="R")`` uses the binary variance formula for them (W_i in place
of S1_i) and so gives different z-scores. For Gi* the self-weight is 1 before transforming (row
maximum of the weights as built), as esda's ``star=True`` does.

**Local Moran** (Anselin 1995): I_i = (n - 1) d_i sum_j w_ij d_j / sum_k d_k^2 with d = y - mean(y),
i.e. z_i times the lag of z for values standardised with the sample standard deviation (as esda
and GeoDa report it). Its moments under total randomisation are Anselin's (1995) for
n d_i lag_i / sum d^2 (esda's ``EI``, ``VI``) rescaled by (n - 1)/n, so E = -w_i / n; the z-score is
therefore Anselin's z exactly. (esda's own ``(Is - EI) / sqrt(VI)`` mixes the two scalings and
differs by a factor of about (n-1)/n in I_i.) The conditional-randomisation moments of Sokal,
Oden & Thomson (1998), esda's ``EIc``/``VIc``, are given likewise. Quadrants use esda's coding:
1 HH, 2 LH, 3 LL, 4 HL (0 for islands).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice
from safercities.stats import inference
from safercities.stats.provenance import stamp
from safercities.stats.weights import TRANSFORMS, SpatialWeights

QUADRANTS = {0: "island", 1: "HH", 2: "LH", 3: "LL", 4: "HL"}
"""esda's coding of the Moran scatterplot quadrants (value, lag of value)."""


def _weighted_count(index: NDArray[np.int64], weights: NDArray[np.float64], minlength: int) -> NDArray[np.float64]:
    """``np.bincount`` with weights, typed as the float array it returns."""
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class LocalResult:
    """A local statistic per area with its inference and map labels (see the module docstring)."""

    kind: str
    ids: NDArray[Any]
    values: NDArray[np.float64]
    statistic: NDArray[np.float64]
    expected: NDArray[np.float64]
    variance: NDArray[np.float64]
    z: NDArray[np.float64]
    p_norm: NDArray[np.float64]
    p_sim: NDArray[np.float64]
    p: NDArray[np.float64]
    p_fdr: NDArray[np.float64]
    p_adjusted: NDArray[np.float64]
    significant: NDArray[np.bool_]
    label: NDArray[np.str_]
    alpha: float
    adjust: str
    alternative: str
    permutations: int
    reference_mean: NDArray[np.float64]
    reference_sd: NDArray[np.float64]
    quadrant: NDArray[np.int64] | None = None
    expected_conditional: NDArray[np.float64] | None = None
    variance_conditional: NDArray[np.float64] | None = None
    engine: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def z_sim(self) -> NDArray[np.float64]:
        """(statistic - mean of its permutations) / their sd."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.reference_sd > 0, (self.statistic - self.reference_mean) / self.reference_sd, np.nan)

    def to_frame(self) -> Any:
        """One row per area: id, value, statistic, moments, z, p-values, adjusted p, significance, label."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "id": self.ids,
                "value": self.values,
                "statistic": self.statistic,
                "expected": self.expected,
                "variance": self.variance,
                "z": self.z,
                "p_norm": self.p_norm,
                "p_sim": self.p_sim,
                "p": self.p,
                "p_fdr": self.p_fdr,
                "p_adjusted": self.p_adjusted,
                "significant": self.significant,
                "label": self.label,
            }
        )
        if self.quadrant is not None:
            frame.insert(frame.columns.get_loc("label"), "quadrant", self.quadrant)  # type: ignore[arg-type]
        return frame

    def summary(self) -> str:
        labels, counts = np.unique(self.label, return_counts=True)
        tally = ", ".join(f"{k} {v}" for k, v in zip(labels.tolist(), counts.tolist(), strict=True))
        inference_text = (
            f"{self.permutations} conditional permutations, p = (k+1)/(R+1)"
            if self.permutations
            else "normal approximation"
        )
        text = (
            f"{self.kind}: {self.n} areas; {inference_text}, alternative {self.alternative}; "
            f"significant at {self.alpha:g} after {self.adjust}: {int(self.significant.sum())}\n  {tally}"
        )
        tests = int(np.isfinite(self.p).sum())
        smallest = (2.0 if self.alternative in ("two-sided",) else 1.0) / (self.permutations + 1)
        if self.permutations and self.adjust != "none" and smallest * tests > self.alpha:
            text += (
                f"\n  note: with {self.permutations} permutations the smallest p-value is {smallest:.2g}, so a lone "
                f"extreme area cannot pass {self.adjust} over {tests} areas at {self.alpha:g}: use more permutations"
            )
        return text


# -- shared steps --------------------------------------------------------------------------------------------


def _check(
    values: ArrayLike,
    weights: SpatialWeights,
    where: str,
    *,
    alternative: str,
    adjust: str,
    alpha: float,
    permutations: int,
    engine: str,
) -> tuple[NDArray[np.float64], int]:
    if not isinstance(weights, SpatialWeights):
        raise InputError(f"The 'weights' parameter of {where} must be a SpatialWeights. Got {type(weights).__name__}.")
    check_choice("alternative", alternative, inference.ALTERNATIVES, where)
    check_choice("adjust", adjust, inference.ADJUSTMENTS, where)
    check_choice("engine", engine, inference.ENGINES, where)
    if not 0 < alpha < 1:
        raise InputError(f"The 'alpha' parameter of {where} must be in (0, 1). Got {alpha!r} instead.")
    permutations = inference.check_permutations(permutations, where)
    y = np.asarray(values, dtype=np.float64).ravel()
    if y.shape[0] != weights.n:
        raise InputError(f"values must have one entry per area ({weights.n}). Got {y.shape[0]} instead.")
    if not np.all(np.isfinite(y)):
        raise InputError(f"values must be finite: {int((~np.isfinite(y)).sum())} are NaN or infinite")
    if weights.n < 2:
        raise InputError(f"{where} needs at least 2 areas. Got {weights.n}.")
    if np.all(y == y[0]):
        raise InputError(
            f"{where}: the values are all equal ({y[0]:g}), so no area stands out: local statistics are undefined"
        )
    return y, permutations


def _links(weights: SpatialWeights, transform: str | None, where: str) -> SpatialWeights:
    if transform is None:
        return weights
    check_choice("transform", transform, TRANSFORMS, where)
    return weights.transformed(transform)


def _finish(
    kind: str,
    weights: SpatialWeights,
    y: NDArray[np.float64],
    statistic: NDArray[np.float64],
    expected: NDArray[np.float64],
    variance: NDArray[np.float64],
    island: NDArray[np.bool_],
    counts: inference.PermutationCounts | None,
    offset: NDArray[np.float64],
    *,
    alternative: str,
    alpha: float,
    adjust: str,
    labels_if_significant: NDArray[np.str_],
    provenance: dict[str, Any],
    quadrant: NDArray[np.int64] | None = None,
    expected_conditional: NDArray[np.float64] | None = None,
    variance_conditional: NDArray[np.float64] | None = None,
) -> LocalResult:
    n = weights.n
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(variance > 0, (statistic - expected) / np.sqrt(np.where(variance > 0, variance, 1.0)), np.nan)
    undefined = ~np.isfinite(statistic) | ~np.isfinite(z)  # e.g. no variation among the values that can move
    z[island | undefined] = np.nan
    for array in (statistic, expected, variance):
        array[island] = np.nan
    p_norm = inference.normal_pvalues(z, alternative)
    if counts is not None:
        p_sim = counts.pvalues(alternative)
        p_sim[island | undefined] = np.nan
        reference_mean = counts.reference_mean + offset
        reference_sd = counts.reference_sd.copy()
        reference_mean[island] = np.nan
        reference_sd[island] = np.nan
        p = p_sim
    else:
        p_sim = np.full(n, np.nan)
        reference_mean = np.full(n, np.nan)
        reference_sd = np.full(n, np.nan)
        p = p_norm
    p_fdr = inference.fdr_bh(p)
    p_adjusted = inference.adjust_pvalues(p, adjust)
    significant = np.nan_to_num(p_adjusted, nan=2.0) <= alpha
    label = np.where(significant, labels_if_significant, "not significant").astype("<U16")
    label[np.isnan(p)] = np.str_("undefined")
    label[island] = "island"
    frozen: tuple[NDArray[Any], ...] = (
        statistic,
        expected,
        variance,
        z,
        p_norm,
        p_sim,
        p,
        p_fdr,
        p_adjusted,
        significant,
        label,
    )
    for item in frozen:
        item.flags.writeable = False
    return LocalResult(
        kind=kind,
        ids=weights.ids,
        values=y,
        statistic=statistic,
        expected=expected,
        variance=variance,
        z=z,
        p_norm=p_norm,
        p_sim=p_sim,
        p=p,
        p_fdr=p_fdr,
        p_adjusted=p_adjusted,
        significant=significant,
        label=label,
        alpha=alpha,
        adjust=adjust,
        alternative=alternative,
        permutations=0 if counts is None else counts.permutations,
        reference_mean=reference_mean,
        reference_sd=reference_sd,
        quadrant=quadrant,
        expected_conditional=expected_conditional,
        variance_conditional=variance_conditional,
        engine="" if counts is None else counts.engine,
        provenance=provenance,
    )


# -- Getis-Ord -------------------------------------------------------------------------------------------------


def getis_ord(
    values: ArrayLike,
    weights: SpatialWeights,
    *,
    star: bool = True,
    transform: str | None = "B",
    permutations: int = 999,
    alternative: str = "two-sided",
    rng: np.random.Generator | int | None = None,
    alpha: float = 0.05,
    adjust: str = "fdr_bh",
    engine: str = "auto",
) -> LocalResult:
    """Getis-Ord Gi* (``star=True``, the area itself included) or Gi, with hot/cold-spot labels.

    ``transform``: "B" binary (Getis & Ord's weights, the default), "R" row-standardised, "O" as
    built, None as given. Values should be non-negative (counts, rates); the z-score is defined
    for any values but G itself needs a non-zero total.
    """
    where = "getis_ord"
    y, permutations = _check(values, weights, where, alternative=alternative, adjust=adjust, alpha=alpha,
                             permutations=permutations, engine=engine)  # fmt: skip
    n = weights.n
    base = weights.transformed("O") if weights.transform != "O" else weights
    f, j, w = base.focal, base.neighbor, base.weight
    is_self = f == j
    card = np.bincount(f[~is_self], minlength=n)
    island = card == 0
    if star:
        self_weight = np.zeros(n)
        self_weight[f[is_self]] = w[is_self]
        row_max = np.zeros(n)
        np.maximum.at(row_max, f[~is_self], w[~is_self])
        row_max[island] = 1.0  # the self-weight: the row's largest weight (1 when binary)
        missing = np.flatnonzero(self_weight == 0)
        f = np.concatenate([f[~is_self], np.flatnonzero(self_weight > 0), missing])
        j = np.concatenate([j[~is_self], np.flatnonzero(self_weight > 0), missing])
        w = np.concatenate([w[~is_self], self_weight[self_weight > 0], row_max[missing]])
    else:
        f, j, w = f[~is_self], j[~is_self], w[~is_self]
    links = _links(SpatialWeights.from_arrays(weights.ids, f, j, w, kind=weights.kind), transform, where)
    f, j, w = links.focal, links.neighbor, links.weight
    total = float(y.sum())
    lag = _weighted_count(f, weights=w * y[j], minlength=n)
    w_sum = _weighted_count(f, weights=w, minlength=n)
    s1 = _weighted_count(f, weights=w * w, minlength=n)
    if star:
        big_n = float(n)
        denominator = np.full(n, total)
        mean = np.full(n, total / n)
        spread = np.full(n, max(float((y * y).sum()) / n - (total / n) ** 2, 0.0))
    else:
        big_n = n - 1.0
        denominator = total - y
        mean = denominator / big_n
        spread = np.maximum((float((y * y).sum()) - y * y) / big_n - mean**2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_lag = spread * (big_n * s1 - w_sum**2) / (big_n - 1.0)
        inverse = np.where(denominator != 0, 1.0 / np.where(denominator != 0, denominator, 1.0), np.nan)
    statistic = lag * inverse
    expected = w_sum * mean * inverse
    variance = np.where(var_lag > 1e-300, var_lag, np.nan) * inverse**2
    self_term = _weighted_count(f[f == j], weights=(w * y[j])[f == j], minlength=n)
    kind = "Gi*" if star else "Gi"
    provenance = stamp(
        f"safercities.stats.hotspots.getis_ord ({kind})",
        {"star": star, "transform": links.transform, "permutations": permutations, "alternative": alternative,
         "alpha": alpha, "adjust": adjust, "rng": inference.describe_generator(rng)},
        y, links.focal, links.neighbor, links.weight,
    )  # fmt: skip
    counts = None
    if permutations:
        counts = inference.conditional_permutation(
            y, f, j, w, np.nan_to_num(inverse), permutations=permutations, rng=rng, engine=engine,
            folded=alternative == "folded",
        )  # fmt: skip
    with np.errstate(invalid="ignore"):
        hot_cold = np.where(statistic >= expected, "hot spot", "cold spot")
    return _finish(kind, weights, y, statistic, expected, variance, island, counts, self_term * np.nan_to_num(inverse),
                   alternative=alternative, alpha=alpha, adjust=adjust, labels_if_significant=hot_cold,
                   provenance=provenance)  # fmt: skip


# -- local Moran -------------------------------------------------------------------------------------------


def local_moran(
    values: ArrayLike,
    weights: SpatialWeights,
    *,
    transform: str | None = "R",
    permutations: int = 999,
    alternative: str = "two-sided",
    rng: np.random.Generator | int | None = None,
    alpha: float = 0.05,
    adjust: str = "fdr_bh",
    engine: str = "auto",
) -> LocalResult:
    """Local Moran's I (LISA) with HH/LH/LL/HL labels for the areas significant after ``adjust``."""
    where = "local_moran"
    y, permutations = _check(values, weights, where, alternative=alternative, adjust=adjust, alpha=alpha,
                             permutations=permutations, engine=engine)  # fmt: skip
    links = _links(weights, transform, where)
    n = links.n
    f, j, w = links.focal, links.neighbor, links.weight
    island = np.bincount(f[f != j], minlength=n) == 0
    d = y - y.mean()
    ss = float((d * d).sum())
    scale = (n - 1) / ss
    lag_d = _weighted_count(f, weights=w * d[j], minlength=n)
    statistic = scale * d * lag_d
    w_sum = _weighted_count(f, weights=w, minlength=n)
    w2_sum = _weighted_count(f, weights=w * w, minlength=n)
    m2 = ss / n
    b2 = float((d**4).sum()) / n / m2**2
    nf = np.float64(n)  # numpy scalars: n = 2 gives inf/NaN moments, not a ZeroDivisionError
    rescale = (n - 1) / n  # Anselin's I_i (scaled by 1/m2) -> ours (scaled by (n-1)/ss)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_a = -w_sum / (nf - 1)
        variance_a = (
            w2_sum * (nf - b2) / (nf - 1) + (w_sum**2 - w2_sum) * (2 * b2 - nf) / ((nf - 1) * (nf - 2)) - expected_a**2
        )
        zs = d / np.sqrt(m2)
        expected_c = -(zs**2) * w_sum / (nf - 1)
        variance_c = zs**2 * (nf / (nf - 2)) * (w2_sum - w_sum**2 / (nf - 1)) * (1.0 - zs**2 / (nf - 1))
    expected = expected_a * rescale
    variance = variance_a * rescale**2
    zp = d > 0
    lp = lag_d > 0
    quadrant = np.where(zp, np.where(lp, 1, 4), np.where(lp, 2, 3)).astype(np.int64)
    quadrant[island] = 0
    self_weight = _weighted_count(f[f == j], weights=w[f == j], minlength=n)
    offset = scale * d * (self_weight * d - (w_sum - self_weight) * y.mean())
    provenance = stamp(
        "safercities.stats.hotspots.local_moran",
        {"transform": links.transform, "permutations": permutations, "alternative": alternative,
         "alpha": alpha, "adjust": adjust, "rng": inference.describe_generator(rng)},
        y, f, j, w,
    )  # fmt: skip
    counts = None
    if permutations:
        counts = inference.conditional_permutation(
            y, f, j, w, scale * d, permutations=permutations, rng=rng, engine=engine,
            folded=alternative == "folded",
        )  # fmt: skip
    labels = np.array([QUADRANTS[q] for q in range(5)])[quadrant]
    ec = expected_c * rescale
    vc = variance_c * rescale**2
    ec[island] = np.nan
    vc[island] = np.nan
    return _finish("local Moran", links, y, statistic, expected, variance, island, counts, offset,
                   alternative=alternative, alpha=alpha, adjust=adjust, labels_if_significant=labels,
                   provenance=provenance, quadrant=quadrant, expected_conditional=ec,
                   variance_conditional=vc)  # fmt: skip
