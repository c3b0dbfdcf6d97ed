"""One inference module for every spatial statistic: permutation p-values, conditional permutation, FDR.

Conventions (the same for Moran, Geary, Gi, Gi* and local Moran):

* **p = (k + 1) / (R + 1)**, where R is the number of permutations and k the number of permuted
  statistics at least as extreme as the observed one (the observed value counts as one of the
  R + 1 equally likely arrangements, so p is never 0).
* **alternative** (always explicit):

  - ``"greater"``: k = #{T_r >= t}; ``"less"``: k = #{T_r <= t};
  - ``"two-sided"``: the smaller tail doubled, ``min(1, 2 * min(p_greater, p_less))`` (the usual
    convention for Monte Carlo tests, e.g. Davison & Hinkley 1997, §4.2);
  - ``"folded"``: the reference folded about its mean, k = #{|T_r - mean| >= |t - mean|}
    (esda's ``alternative="folded"``);
  - ``"directed"``: esda's legacy default (``p_sim`` of ``Moran_Local`` / ``G_Local``):
    (min(k_ge, R - k_ge) + 1) / (R + 1), the smaller tail *not* doubled. Kept only to reproduce
    published esda numbers: it is about half the two-sided p-value, so it over-states significance.
* **randomness** comes from a :class:`numpy.random.Generator` passed in (an int seed is turned
  into one; ``None`` means :data:`DEFAULT_SEED`, so that every run is reproducible). Nothing
  touches numpy's global state.
* **conditional permutation** (local statistics): area i keeps its value; its k_i neighbours'
  values are drawn without replacement from the other n - 1 areas. As in esda, one matrix of R
  draws is shared by all areas (each area's p-value is exactly valid on its own; p-values of
  different areas are not independent of each other). A row of k_max + 1 draws from all n areas
  serves area i thus: its first k_i entries, with i (if present) replaced by entry k_i, which is a
  uniform draw of k_i areas among the other n - 1.
* **multiple testing**: Benjamini–Hochberg adjusted p-values (``fdr_bh``) and Bonferroni, with
  NaN (islands) left out of the count of tests.

The conditional permutation has two engines that give identical counts for the same draws:
``"numba"`` (compiled kernels, cached on disk with ``cache=True`` so that the first run in a new
process does not compile) and ``"numpy"`` (vectorised over areas, looping over blocks of
permutations), kept as the reference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice

ALTERNATIVES = ("two-sided", "greater", "less", "folded", "directed")
ADJUSTMENTS = ("fdr_bh", "bonferroni", "none")
ENGINES = ("auto", "numba", "numpy")
DEFAULT_SEED = 20240501
"""The seed used when no generator is given: results are reproducible by default."""

_BLOCK_AREAS = 2048
"""Areas per block in the numba kernel: keeps a block's counters in the CPU cache."""
_BLOCK_PERMUTATIONS = 64
"""Permutations per block in the numpy engine: bounds its memory to 64 x n floats."""


def _weighted_count(index: NDArray[np.int64], weights: NDArray[np.float64], minlength: int) -> NDArray[np.float64]:
    """``np.bincount`` with weights, typed as the float array it returns."""
    return np.asarray(np.bincount(index, weights=weights, minlength=minlength), dtype=np.float64)


# -- generators ----------------------------------------------------------------------------------------


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator, an int seed, or None (:data:`DEFAULT_SEED`)."""
    if rng is None:
        return np.random.default_rng(DEFAULT_SEED)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise InputError(
        f"The 'rng' parameter must be a numpy.random.Generator, an int seed or None. Got {type(rng).__name__} instead."
    )


def describe_generator(rng: np.random.Generator | int | None) -> str:
    """How the randomness was seeded, for a provenance stamp (before the generator is used)."""
    if rng is None:
        return f"seed {DEFAULT_SEED} (default)"
    if isinstance(rng, np.random.Generator):
        state = repr(rng.bit_generator.state).encode()
        return f"{type(rng.bit_generator).__name__} state {hashlib.sha256(state).hexdigest()[:12]}"
    return f"seed {int(rng)}"


def check_permutations(permutations: int, where: str) -> int:
    """Raise the one message template unless ``permutations`` is a non-negative int."""
    if isinstance(permutations, bool) or not isinstance(permutations, int | np.integer) or permutations < 0:
        raise InputError(
            f"The 'permutations' parameter of {where} must be a non-negative int. Got {permutations!r} instead."
        )
    return int(permutations)


# -- p-values ------------------------------------------------------------------------------------------


def pvalues_from_counts(
    greater_equal: ArrayLike,
    less_equal: ArrayLike,
    permutations: int,
    alternative: str,
    folded: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """p = (k + 1) / (R + 1) from the counts of permuted statistics >= and <= the observed one."""
    check_choice("alternative", alternative, ALTERNATIVES, "pvalues_from_counts")
    ge = np.asarray(greater_equal, dtype=np.float64)
    le = np.asarray(less_equal, dtype=np.float64)
    r1 = permutations + 1.0
    if alternative == "greater":
        return (ge + 1.0) / r1
    if alternative == "less":
        return (le + 1.0) / r1
    if alternative == "two-sided":
        return np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1.0) / r1)
    if alternative == "directed":
        return (np.minimum(ge, permutations - ge) + 1.0) / r1
    if folded is None:
        raise InputError("alternative='folded' needs the folded counts (ask for them when permuting)")
    return (np.asarray(folded, dtype=np.float64) + 1.0) / r1


def pvalues_from_reference(
    observed: ArrayLike, reference: ArrayLike, alternative: str = "two-sided"
) -> NDArray[np.float64]:
    """p-values of ``observed`` (m,) against ``reference`` (m, R) permuted statistics."""
    check_choice("alternative", alternative, ALTERNATIVES, "pvalues_from_reference")
    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    obs = np.asarray(observed, dtype=np.float64).reshape(-1, 1)
    if obs.shape[0] != ref.shape[0]:
        raise InputError(f"observed has {obs.shape[0]} statistics but reference has {ref.shape[0]} rows")
    ge = (ref >= obs).sum(axis=1)
    le = (ref <= obs).sum(axis=1)
    mean = ref.mean(axis=1, keepdims=True)
    folded = (np.abs(ref - mean) >= np.abs(obs - mean)).sum(axis=1)
    return pvalues_from_counts(ge, le, ref.shape[1], alternative, folded)


def normal_pvalues(z: ArrayLike, alternative: str = "two-sided") -> NDArray[np.float64]:
    """p-values of z-scores under the standard normal (``folded`` and ``directed`` read as two-sided
    and smaller-tail respectively)."""
    from scipy.special import ndtr

    check_choice("alternative", alternative, ALTERNATIVES, "normal_pvalues")
    zz = np.asarray(z, dtype=np.float64)
    if alternative == "greater":
        return np.asarray(ndtr(-zz))
    if alternative == "less":
        return np.asarray(ndtr(zz))
    if alternative == "directed":
        return np.asarray(ndtr(-np.abs(zz)))
    return np.asarray(2.0 * ndtr(-np.abs(zz)))


# -- multiple testing ----------------------------------------------------------------------------------


def fdr_bh(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg (1995) adjusted p-values; NaN entries stay NaN and are not counted as tests.

    Area i is significant at false discovery rate q when its adjusted p-value is <= q.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    back = np.empty(m)
    back[order] = np.minimum(adjusted, 1.0)
    out[ok] = back
    return out


def bonferroni(pvalues: ArrayLike) -> NDArray[np.float64]:
    """Bonferroni adjusted p-values, min(1, m p); NaN entries stay NaN and are not counted."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = int((~np.isnan(p)).sum())
    return np.minimum(1.0, p * m)


def adjust_pvalues(pvalues: ArrayLike, method: str = "fdr_bh") -> NDArray[np.float64]:
    """Adjusted p-values by ``method`` in {"fdr_bh", "bonferroni", "none"}."""
    check_choice("adjust", method, ADJUSTMENTS, "adjust_pvalues")
    if method == "fdr_bh":
        return fdr_bh(pvalues)
    if method == "bonferroni":
        return bonferroni(pvalues)
    return np.asarray(pvalues, dtype=np.float64).copy()


# -- conditional permutation -----------------------------------------------------------------------------


def draw_neighbour_sets(rng: np.random.Generator, n: int, size: int, permutations: int) -> NDArray[np.int64]:
    """``permutations`` rows of ``size`` distinct positions drawn uniformly (ordered) from 0..n-1."""
    if size > n:
        raise InputError(f"cannot draw {size} distinct areas from {n}")
    if size == 0 or permutations == 0:
        return np.zeros((permutations, size), dtype=np.int64)
    if n <= 16 * size:  # small n: shuffle whole rows
        return np.ascontiguousarray(rng.permuted(np.tile(np.arange(n), (permutations, 1)), axis=1)[:, :size])
    draws = rng.integers(0, n, size=(permutations, size), dtype=np.int64)
    while True:  # rejection: redraw the (few) rows holding a repeat; uniform over distinct ordered tuples
        s = np.sort(draws, axis=1)
        bad = np.flatnonzero((s[:, 1:] == s[:, :-1]).any(axis=1))
        if bad.size == 0:
            return draws
        draws[bad] = rng.integers(0, n, size=(bad.size, size), dtype=np.int64)


@dataclass(frozen=True)
class PermutationCounts:
    """Counts of a local statistic's conditional permutations, in the statistic's own scale."""

    greater_equal: NDArray[np.int64]
    less_equal: NDArray[np.int64]
    folded: NDArray[np.int64] | None
    reference_mean: NDArray[np.float64]
    reference_sd: NDArray[np.float64]
    permutations: int
    engine: str

    def pvalues(self, alternative: str) -> NDArray[np.float64]:
        """p = (k + 1) / (R + 1) for ``alternative``; NaN where the area has no neighbour."""
        p = pvalues_from_counts(self.greater_equal, self.less_equal, self.permutations, alternative, self.folded)
        return np.where(np.isnan(self.reference_mean), np.nan, p)


def _csr(
    n: int, focal: NDArray[np.int64], neighbor: NDArray[np.int64], weight: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Links without self-links, sorted by focal: (indptr, neighbour, weight, cardinality)."""
    off = focal != neighbor
    f, j, w = focal[off], neighbor[off], weight[off]
    order = np.lexsort((j, f))
    f, j, w = f[order], j[order], w[order]
    card = np.bincount(f, minlength=n).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(card)]).astype(np.int64)
    return indptr, np.ascontiguousarray(j), np.ascontiguousarray(w), card


def conditional_permutation(
    values: ArrayLike,
    focal: ArrayLike,
    neighbor: ArrayLike,
    weight: ArrayLike,
    scale: ArrayLike,
    *,
    permutations: int = 999,
    rng: np.random.Generator | int | None = None,
    engine: str = "auto",
    folded: bool = False,
) -> PermutationCounts:
    """Conditional permutation of a local statistic of the form ``stat_i = scale_i * T_i + offset_i``.

    ``T_i = sum_j w_ij y_j`` over i's neighbours j != i (self-links are dropped: their term is part
    of the fixed ``offset_i``, which does not change the counts and need not be given). Each of the
    R permutations redraws i's neighbours' values from the other n - 1 areas (module docstring).
    Counts are returned in the statistic's scale (a negative ``scale_i`` swaps the tails; zero
    makes every permuted value a tie). Areas without neighbours get NaN means.
    """
    check_choice("engine", engine, ENGINES, "conditional_permutation")
    permutations = check_permutations(permutations, "conditional_permutation")
    y = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    n = y.shape[0]
    f = np.asarray(focal, dtype=np.int64)
    j = np.asarray(neighbor, dtype=np.int64)
    w = np.asarray(weight, dtype=np.float64)
    a = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
    indptr, nbr, wts, card = _csr(n, f, j, w)
    k_max = int(card.max()) if n else 0
    gen = as_generator(rng)
    draws = draw_neighbour_sets(gen, n, k_max + 1, permutations)  # k_max <= n - 1: always possible
    row_max = np.zeros(n)
    np.maximum.at(row_max, np.repeat(np.arange(n), card), wts)
    uniform = bool(np.all(wts == row_max[np.repeat(np.arange(n), card)]))
    use_numba = engine == "numba" or (engine == "auto" and _numba_available())
    if uniform:
        t_obs = _weighted_count(np.repeat(np.arange(n), card), weights=y[nbr], minlength=n)
        a = a * row_max  # stat = scale * u_i * (plain sum of neighbours' values)
        if use_numba:
            ge, le, s1, s2, fo = _kernel("_uniform_kernel")(y, card, draws, t_obs, _BLOCK_AREAS, folded)
            fo = fo if folded else None
        else:
            ge, le, s1, s2, fo = _uniform_numpy(y, card, draws, t_obs, folded)
    else:
        t_obs = _weighted_count(np.repeat(np.arange(n), card), weights=wts * y[nbr], minlength=n)
        if use_numba:
            ge, le, s1, s2, fo = _kernel("_weighted_kernel")(y, indptr, wts, card, draws, t_obs, folded)
            fo = fo if folded else None
        else:
            ge, le, s1, s2, fo = _weighted_numpy(y, indptr, wts, card, draws, t_obs, folded)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_t = np.where(card > 0, s1 / max(permutations, 1), np.nan)
        var_t = np.maximum(s2 / max(permutations, 1) - mean_t**2, 0.0)
    sign = np.sign(a)
    ge_stat = np.where(sign > 0, ge, np.where(sign < 0, le, permutations)).astype(np.int64)
    le_stat = np.where(sign > 0, le, np.where(sign < 0, ge, permutations)).astype(np.int64)
    fo_stat = None if fo is None else np.where(sign != 0, fo, permutations).astype(np.int64)
    return PermutationCounts(
        greater_equal=ge_stat,
        less_equal=le_stat,
        folded=fo_stat,
        reference_mean=a * mean_t,  # offset left out: add it to compare with the observed statistic
        reference_sd=np.abs(a) * np.sqrt(var_t),
        permutations=permutations,
        engine="numba" if use_numba else "numpy",
    )


# -- the numpy engine (reference) ---------------------------------------------------------------------------

_Counts = tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64] | None
]


def _uniform_sums(y: NDArray[np.float64], card: NDArray[np.int64], rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """Permuted neighbour sums (len(rows), n) for equal weights, by prefix sums and the i-replacement."""
    k_max = rows.shape[1] - 1
    prefix = np.zeros((rows.shape[0], k_max + 2))
    np.cumsum(y[rows], axis=1, out=prefix[:, 1:])
    sums = prefix[:, card]
    for m in range(k_max):  # loop over draw positions (at most k_max), not areas
        area = rows[:, m]
        k = card[area]
        hit = np.flatnonzero(m < k)
        if hit.size:
            sums[hit, area[hit]] += y[rows[hit, k[hit]]] - y[area[hit]]
    return sums


def _uniform_numpy(
    y: NDArray[np.float64], card: NDArray[np.int64], draws: NDArray[np.int64], t_obs: NDArray[np.float64], folded: bool
) -> _Counts:
    n = y.shape[0]
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    for start in range(0, draws.shape[0], _BLOCK_PERMUTATIONS):
        sums = _uniform_sums(y, card, draws[start : start + _BLOCK_PERMUTATIONS])
        ge += (sums >= t_obs).sum(axis=0)
        le += (sums <= t_obs).sum(axis=0)
        s1 += sums.sum(axis=0)
        s2 += (sums * sums).sum(axis=0)
    fo = None
    if folded:
        mean = s1 / max(draws.shape[0], 1)
        fo = np.zeros(n, dtype=np.int64)
        for start in range(0, draws.shape[0], _BLOCK_PERMUTATIONS):
            sums = _uniform_sums(y, card, draws[start : start + _BLOCK_PERMUTATIONS])
            fo += (np.abs(sums - mean) >= np.abs(t_obs - mean)).sum(axis=0)
    island = card == 0
    for arr in (ge, le):
        arr[island] = 0
    return ge, le, s1, s2, fo


def _weighted_numpy(
    y: NDArray[np.float64],
    indptr: NDArray[np.int64],
    wts: NDArray[np.float64],
    card: NDArray[np.int64],
    draws: NDArray[np.int64],
    t_obs: NDArray[np.float64],
    folded: bool,
) -> _Counts:
    n = y.shape[0]
    focal = np.repeat(np.arange(n), card)
    position = np.arange(len(focal)) - indptr[focal]
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    all_sums = np.empty((draws.shape[0], n)) if folded else None
    for r in range(draws.shape[0]):  # loop over permutations; areas are vectorised
        row = draws[r]
        idx = row[position]
        idx = np.where(idx == focal, row[card[focal]], idx)
        sums = _weighted_count(focal, weights=wts * y[idx], minlength=n)
        ge += sums >= t_obs
        le += sums <= t_obs
        s1 += sums
        s2 += sums * sums
        if all_sums is not None:
            all_sums[r] = sums
    fo = None
    if all_sums is not None:
        mean = s1 / max(draws.shape[0], 1)
        fo = (np.abs(all_sums - mean) >= np.abs(t_obs - mean)).sum(axis=0).astype(np.int64)
    island = card == 0
    ge[island] = 0
    le[island] = 0
    return ge, le, s1, s2, fo


# -- the numba engine ---------------------------------------------------------------------------------------
# Plain Python source compiled on first use with numba.njit(cache=True): importing this module does not
# import numba, and a new process loads the compiled kernels from the on-disk cache instead of compiling.


def _uniform_kernel(y, card, draws, t_obs, block, folded):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = y.shape[0]
    n_perm, width = draws.shape
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    fo = np.zeros(n, dtype=np.int64)
    prefix = np.zeros(width + 1)
    sums = np.zeros(block)
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        for sweep in range(2 if folded else 1):
            for r in range(n_perm):
                prefix[0] = 0.0
                for m in range(width):
                    prefix[m + 1] = prefix[m] + y[draws[r, m]]
                for s in range(lo, hi):
                    sums[s - lo] = prefix[card[s]]
                for m in range(width - 1):
                    s = draws[r, m]
                    if lo <= s < hi and m < card[s]:
                        sums[s - lo] += y[draws[r, card[s]]] - y[s]
                if sweep == 0:
                    for s in range(lo, hi):
                        if card[s] > 0:
                            t = sums[s - lo]
                            if t >= t_obs[s]:
                                ge[s] += 1
                            if t <= t_obs[s]:
                                le[s] += 1
                            s1[s] += t
                            s2[s] += t * t
                else:
                    for s in range(lo, hi):
                        if card[s] > 0:
                            mean = s1[s] / n_perm
                            if abs(sums[s - lo] - mean) >= abs(t_obs[s] - mean):
                                fo[s] += 1
    return ge, le, s1, s2, fo


def _weighted_kernel(y, indptr, wts, card, draws, t_obs, folded):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = y.shape[0]
    n_perm = draws.shape[0]
    ge = np.zeros(n, dtype=np.int64)
    le = np.zeros(n, dtype=np.int64)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    fo = np.zeros(n, dtype=np.int64)
    sums = np.zeros(n_perm)
    for s in range(n):
        k = card[s]
        if k == 0:
            continue
        start = indptr[s]
        for r in range(n_perm):
            t = 0.0
            for m in range(k):
                idx = draws[r, m]
                if idx == s:
                    idx = draws[r, k]
                t += wts[start + m] * y[idx]
            sums[r] = t
            if t >= t_obs[s]:
                ge[s] += 1
            if t <= t_obs[s]:
                le[s] += 1
            s1[s] += t
            s2[s] += t * t
        if folded:
            mean = s1[s] / n_perm
            for r in range(n_perm):
                if abs(sums[r] - mean) >= abs(t_obs[s] - mean):
                    fo[s] += 1
    return ge, le, s1, s2, fo


@cache
def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency; the numpy engine is the fallback
        return False
    return True


@cache
def _kernel(name: str) -> Any:
    """The compiled kernel ``name`` (compiled once per machine, then loaded from numba's disk cache)."""
    import numba

    return numba.njit(cache=True, nogil=True)(globals()[name])
