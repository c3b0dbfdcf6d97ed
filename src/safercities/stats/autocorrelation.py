"""Global spatial autocorrelation: Moran's I and Geary's C, with analytic and permutation inference.

Both follow Cliff & Ord (1981): moments under normality and under randomisation (the values'
kurtosis enters), z = (statistic - E) / sd, and a total-permutation test from
:mod:`safercities.stats.inference` with p = (k + 1) / (R + 1). The formulas are those of R spdep's
``moran.test`` / ``geary.test`` and esda's ``Moran`` / ``Geary``, and are checked against both in
``tests/reference``.

Directions: Moran's I above E[I] = -1/(n-1) and Geary's C below E[C] = 1 mean positive
autocorrelation (similar values cluster). ``alternative`` always refers to the statistic itself:
for Geary, positive autocorrelation is ``"less"``. (spdep prints Geary's z as (1 - C)/sd; ours is
(C - 1)/sd, as esda's.)

``moran(values, weights)`` stays a plain function so that other modules (regression residuals)
can call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice
from safercities.stats import inference
from safercities.stats.provenance import stamp
from safercities.stats.weights import TRANSFORMS, SpatialWeights

_PERMUTATION_BLOCK = 128


@dataclass(frozen=True)
class GlobalAutocorrelation:
    """A global statistic with its moments, z-scores and p-values (normality, randomisation, permutation)."""

    name: str
    statistic: float
    expected: float
    var_norm: float
    var_rand: float
    z_norm: float
    z_rand: float
    p_norm: float
    p_rand: float
    p_sim: float
    permutations: int
    alternative: str
    n: int
    islands: int
    reference_mean: float
    reference_sd: float
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def z_sim(self) -> float:
        """(statistic - mean of the permuted statistics) / their sd."""
        return (self.statistic - self.reference_mean) / self.reference_sd if self.reference_sd > 0 else np.nan

    def to_frame(self) -> Any:
        """One row per inference: normality, randomisation, permutation."""
        import pandas as pd

        return pd.DataFrame(
            {
                "statistic": [self.statistic] * 3,
                "expected": [self.expected, self.expected, self.reference_mean],
                "variance": [self.var_norm, self.var_rand, self.reference_sd**2],
                "z": [self.z_norm, self.z_rand, self.z_sim],
                "p": [self.p_norm, self.p_rand, self.p_sim],
                "alternative": [self.alternative] * 3,
            },
            index=pd.Index(["normality", "randomisation", "permutation"], name="inference"),
        )

    def summary(self) -> str:
        lines = [
            f"{self.name} = {self.statistic:.6f} (E = {self.expected:.6f}), n = {self.n}"
            + (f", {self.islands} island(s) without neighbours" if self.islands else ""),
            f"  normality:     var {self.var_norm:.6g}, z {self.z_norm:.4f}, p {self.p_norm:.4g}",
            f"  randomisation: var {self.var_rand:.6g}, z {self.z_rand:.4f}, p {self.p_rand:.4g}",
        ]
        if self.permutations:
            lines.append(f"  permutation:   {self.permutations} permutations, p = (k+1)/(R+1) = {self.p_sim:.4g}")
        lines.append(f"  alternative: {self.alternative}")
        return "\n".join(lines)


@dataclass(frozen=True)
class MoranResult(GlobalAutocorrelation):
    """Global Moran's I."""

    @property
    def I(self) -> float:  # noqa: E743, N802 - the statistic's own name
        return self.statistic


@dataclass(frozen=True)
class GearyResult(GlobalAutocorrelation):
    """Global Geary's C."""

    @property
    def C(self) -> float:  # noqa: N802 - the statistic's own name
        return self.statistic


def _prepare(values: ArrayLike, weights: SpatialWeights, transform: str | None, where: str) -> tuple[
    NDArray[np.float64], SpatialWeights
]:  # fmt: skip
    if not isinstance(weights, SpatialWeights):
        raise InputError(f"The 'weights' parameter of {where} must be a SpatialWeights. Got {type(weights).__name__}.")
    if transform is not None:
        check_choice("transform", transform, TRANSFORMS, where)
        weights = weights.transformed(transform)
    y = np.asarray(values, dtype=np.float64).ravel()
    if y.shape[0] != weights.n:
        raise InputError(f"values must have one entry per area ({weights.n}). Got {y.shape[0]} instead.")
    if not np.all(np.isfinite(y)):
        raise InputError(f"values must be finite: {int((~np.isfinite(y)).sum())} are NaN or infinite")
    if weights.n < 3:
        raise InputError(f"{where} needs at least 3 areas. Got {weights.n}.")
    if weights.s0 <= 0:
        raise InputError(f"{where}: the weights have no links (every area is an island)")
    d = y - y.mean()
    if not np.any(np.abs(d) > 1e-12 * max(1.0, float(np.abs(y).max()))):
        raise InputError(f"{where}: the values are all equal ({y[0]:g}), so spatial autocorrelation is undefined")
    return y, weights


def _moments(weights: SpatialWeights, d: NDArray[np.float64]) -> tuple[float, float, float, int, float]:
    n = d.shape[0]
    s0, s1, s2 = weights.s0, weights.s1, weights.s2
    kurtosis = float(n * (d**4).sum() / ((d**2).sum() ** 2))
    return s0, s1, s2, n, kurtosis


def _permuted(
    d: NDArray[np.float64], permutations: int, rng: np.random.Generator
) -> Any:  # an iterator of (block, n) arrays of permuted values
    for start in range(0, permutations, _PERMUTATION_BLOCK):
        size = min(_PERMUTATION_BLOCK, permutations - start)
        yield rng.permuted(np.tile(d, (size, 1)), axis=1)


def _finish(
    cls: type[GlobalAutocorrelation],
    name: str,
    statistic: float,
    expected: float,
    var_norm: float,
    var_rand: float,
    reference: NDArray[np.float64],
    alternative: str,
    weights: SpatialWeights,
    provenance: dict[str, Any],
) -> GlobalAutocorrelation:
    with np.errstate(invalid="ignore", divide="ignore"):
        z_norm = (statistic - expected) / np.sqrt(var_norm) if var_norm > 0 else np.nan
        z_rand = (statistic - expected) / np.sqrt(var_rand) if var_rand > 0 else np.nan
    permutations = reference.shape[0]
    p_sim = (
        float(inference.pvalues_from_reference([statistic], reference[None, :], alternative)[0])
        if permutations
        else np.nan
    )
    return cls(
        name=name,
        statistic=float(statistic),
        expected=float(expected),
        var_norm=float(var_norm),
        var_rand=float(var_rand),
        z_norm=float(z_norm),
        z_rand=float(z_rand),
        p_norm=float(inference.normal_pvalues(z_norm, alternative)),
        p_rand=float(inference.normal_pvalues(z_rand, alternative)),
        p_sim=p_sim,
        permutations=permutations,
        alternative=alternative,
        n=weights.n,
        islands=len(weights.islands),
        reference_mean=float(reference.mean()) if permutations else np.nan,
        reference_sd=float(reference.std()) if permutations else np.nan,
        provenance=provenance,
    )


def moran(
    values: ArrayLike,
    weights: SpatialWeights,
    *,
    transform: str | None = "R",
    permutations: int = 999,
    alternative: str = "two-sided",
    rng: np.random.Generator | int | None = None,
) -> MoranResult:
    """Global Moran's I = (n / S0) * sum_ij w_ij d_i d_j / sum_i d_i^2, d = y - mean(y).

    ``transform`` re-weights first ("R" row-standardised, the convention of spdep and esda; "B"
    binary; "O" as built; None keeps ``weights`` as they are). Areas without neighbours count in n
    and add nothing to the sums (spdep's ``zero.policy=TRUE``).
    """
    check_choice("alternative", alternative, inference.ALTERNATIVES, "moran")
    permutations = inference.check_permutations(permutations, "moran")
    y, w = _prepare(values, weights, transform, "moran")
    provenance = stamp(
        "safercities.stats.autocorrelation.moran",
        {"transform": w.transform, "permutations": permutations, "alternative": alternative,
         "rng": inference.describe_generator(rng)},
        y, w.focal, w.neighbor, w.weight,
    )  # fmt: skip
    d = y - y.mean()
    s0, s1, s2, n, b2 = _moments(w, d)
    m = w.sparse
    ss = float((d * d).sum())
    statistic = n / s0 * float(d @ (m @ d)) / ss
    expected = -1.0 / (n - 1)
    var_norm = (n * n * s1 - n * s2 + 3 * s0 * s0) / ((n - 1) * (n + 1) * s0 * s0) - expected**2
    with np.errstate(invalid="ignore", divide="ignore"):
        a = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0)
        b = b2 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
        var_rand = (a - b) / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected**2 if n > 3 else np.nan
    reference = np.empty(permutations)
    gen = inference.as_generator(rng)
    done = 0
    for block in _permuted(d, permutations, gen):
        lag = (m @ block.T).T
        reference[done : done + len(block)] = n / s0 * (block * lag).sum(axis=1) / ss
        done += len(block)
    result = _finish(MoranResult, "Moran's I", statistic, expected, var_norm, var_rand, reference, alternative, w,
                     provenance)  # fmt: skip
    return cast(MoranResult, result)


def geary(
    values: ArrayLike,
    weights: SpatialWeights,
    *,
    transform: str | None = "R",
    permutations: int = 999,
    alternative: str = "two-sided",
    rng: np.random.Generator | int | None = None,
) -> GearyResult:
    """Geary's C = (n - 1) * sum_ij w_ij (y_i - y_j)^2 / (2 S0 sum_i d_i^2); E[C] = 1.

    C below 1 means positive autocorrelation (``alternative="less"`` tests for it alone).
    """
    check_choice("alternative", alternative, inference.ALTERNATIVES, "geary")
    permutations = inference.check_permutations(permutations, "geary")
    y, w = _prepare(values, weights, transform, "geary")
    provenance = stamp(
        "safercities.stats.autocorrelation.geary",
        {"transform": w.transform, "permutations": permutations, "alternative": alternative,
         "rng": inference.describe_generator(rng)},
        y, w.focal, w.neighbor, w.weight,
    )  # fmt: skip
    d = y - y.mean()
    s0, s1, s2, n, k = _moments(w, d)
    ss = float((d * d).sum())
    scale = (n - 1) / (2 * s0 * ss)
    statistic = scale * float((w.weight * (d[w.focal] - d[w.neighbor]) ** 2).sum())
    var_norm = ((2 * s1 + s2) * (n - 1) - 4 * s0 * s0) / (2 * (n + 1) * s0 * s0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = (n - 1) * s1 * (n * n - 3 * n + 3 - (n - 1) * k)
        b = 0.25 * (n - 1) * s2 * (n * n + 3 * n - 6 - (n * n - n + 2) * k)
        c = s0 * s0 * (n * n - 3 - (n - 1) ** 2 * k)
        var_rand = (a - b + c) / (n * (n - 2) * (n - 3) * s0 * s0) if n > 3 else np.nan
    m = w.sparse
    degree = np.asarray(m.sum(axis=1)).ravel() + np.asarray(m.sum(axis=0)).ravel()
    reference = np.empty(permutations)
    gen = inference.as_generator(rng)
    done = 0
    for block in _permuted(d, permutations, gen):
        lag = (m @ block.T).T
        # sum_ij w_ij (x_i - x_j)^2 = sum_i x_i^2 (row sum_i + column sum_i) - 2 x'Wx
        reference[done : done + len(block)] = scale * ((block * block) @ degree - 2 * (block * lag).sum(axis=1))
        done += len(block)
    result = _finish(GearyResult, "Geary's C", statistic, 1.0, var_norm, var_rand, reference, alternative, w,
                     provenance)  # fmt: skip
    return cast(GearyResult, result)
