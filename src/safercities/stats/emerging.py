"""Emerging hot spots: Gi* per time slice, FDR per slice, the Mann-Kendall trend of each location, categories.

:func:`mann_kendall` is the Mann-Kendall trend test (Mann 1945; Kendall 1975) for every row of an
``(n_locations, n_periods)`` array at once: S, its variance with the ties correction, z with the continuity
correction, p, Kendall's tau and, optionally, Sen's (1968) slope with Conover's intercept. The numbers are
those of pymannkendall's ``original_test`` on the same series. A constant series (all zeros, say) has S = 0
and variance 0: it gets z = 0 and p = 1 for every alternative (nothing can be tested), never an error.

:func:`emerging_hotspots` follows ArcGIS Pro's Emerging Hot Spot Analysis: a Gi* z-score for every location
and slice (binary weights, the location itself included), Benjamini-Hochberg adjustment within each slice,
the Mann-Kendall trend of each location's series of Gi* z-scores, and the classification of every location
into one of 17 categories by the ordered rules of :data:`RULES` (written out in ``docs/methods/emerging.md``;
:meth:`EmergingResult.explain` prints the trail for one location).

The two engines of the Mann-Kendall test, ``"numba"`` (a compiled kernel, cached on disk) and ``"numpy"``
(vectorised over locations, looping over lags), give identical S and ties terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice
from safercities.stats import inference
from safercities.stats.provenance import stamp
from safercities.stats.weights import TRANSFORMS, SpatialWeights

MK_ALTERNATIVES = ("two-sided", "greater", "less")
MK_ENGINES = ("auto", "numba", "numpy")
_SLOPE_BLOCK = 4_000_000
"""Pairwise slopes held at once by the numpy engine (bounds its memory to about 32 MB)."""

HOT, COLD, NONE = 1, -1, 0
STATES = {HOT: "hot", COLD: "cold", NONE: "not significant"}


# -- Mann-Kendall --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MannKendallResult:
    """The Mann-Kendall test of each row (see the module docstring); ``slope``/``intercept`` NaN unless asked."""

    s: NDArray[np.float64]
    var_s: NDArray[np.float64]
    z: NDArray[np.float64]
    p: NDArray[np.float64]
    tau: NDArray[np.float64]
    slope: NDArray[np.float64]
    intercept: NDArray[np.float64]
    n_periods: int
    alternative: str
    engine: str

    def to_frame(self) -> Any:
        """One row per series: s, var_s, z, p, tau, slope, intercept."""
        import pandas as pd

        return pd.DataFrame({"s": self.s, "var_s": self.var_s, "z": self.z, "p": self.p, "tau": self.tau,
                             "slope": self.slope, "intercept": self.intercept})  # fmt: skip


def _check_series(series_2d: ArrayLike, where: str) -> NDArray[np.float64]:
    x = np.asarray(series_2d, dtype=np.float64)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise InputError(f"{where}: the series must be a 2-D array (locations x periods). Got {x.ndim} dimensions.")
    if x.shape[1] < 2:
        raise InputError(
            f"{where}: a trend needs at least 2 periods. Got {x.shape[1]} (one column per period, one row per place)."
        )
    if not np.all(np.isfinite(x)):
        raise InputError(f"{where}: the series must be finite: {int((~np.isfinite(x)).sum())} values are NaN or inf")
    return np.ascontiguousarray(x)


def _ties_term(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """sum over groups of tied values of t(t-1)(2t+5), per row: as sum over values of (c-1)(2c+5), c its group size."""
    m, t = x.shape
    s = np.sort(x, axis=1)
    start = np.ones((m, t), dtype=bool)
    start[:, 1:] = s[:, 1:] != s[:, :-1]
    group = np.cumsum(start, axis=1) - 1 + (np.arange(m) * t)[:, None]
    size = np.bincount(group.ravel(), minlength=m * t)[group].astype(np.float64)
    return ((size - 1.0) * (2.0 * size + 5.0)).sum(axis=1)


def _mk_numpy(x: NDArray[np.float64], want_slope: bool) -> tuple[NDArray[np.float64], ...]:
    m, t = x.shape
    s = np.zeros(m)
    for lag in range(1, t):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    slope = np.full(m, np.nan)
    intercept = np.full(m, np.nan)
    if want_slope:
        i, j = np.triu_indices(t, 1)
        step = max(1, _SLOPE_BLOCK // len(i))
        for lo in range(0, m, step):
            block = x[lo : lo + step]
            slope[lo : lo + step] = np.median((block[:, j] - block[:, i]) / (j - i), axis=1)
        intercept = np.median(x, axis=1) - (t - 1) / 2.0 * slope
    return s, _ties_term(x), slope, intercept


def _mk_kernel(x, want_slope):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled by numba
    m, t = x.shape
    s = np.zeros(m)
    ties = np.zeros(m)
    slope = np.full(m, np.nan)
    intercept = np.full(m, np.nan)
    buf = np.empty(t)
    pairs = np.empty(t * (t - 1) // 2)
    for r in range(m):
        for i in range(t):
            buf[i] = x[r, i]
        acc = np.int64(0)
        for i in range(t - 1):
            xi = buf[i]
            for j in range(i + 1, t):  # branch-free: (x_j > x_i) - (x_j < x_i)
                acc += np.int64(buf[j] > xi) - np.int64(buf[j] < xi)
        s[r] = acc
        buf.sort()
        run = 1.0
        tie = 0.0
        for i in range(1, t):
            if buf[i] == buf[i - 1]:
                run += 1.0
            else:
                tie += run * (run - 1.0) * (2.0 * run + 5.0)
                run = 1.0
        ties[r] = tie + run * (run - 1.0) * (2.0 * run + 5.0)
        if want_slope:
            k = 0
            for i in range(t - 1):
                for j in range(i + 1, t):
                    pairs[k] = (x[r, j] - x[r, i]) / (j - i)
                    k += 1
            slope[r] = np.median(pairs)
            intercept[r] = np.median(buf) - (t - 1) / 2.0 * slope[r]
    return s, ties, slope, intercept


@cache
def _compiled_mk() -> Any:
    import numba

    return numba.njit(cache=True, nogil=True)(_mk_kernel)


@cache
def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency; numpy is the fallback
        return False
    return True


def mann_kendall(
    series_2d: ArrayLike, *, alternative: str = "two-sided", slope: bool = False, engine: str = "auto"
) -> MannKendallResult:
    """Mann-Kendall trend test of every row of ``series_2d`` (locations x periods), vectorised.

    ``alternative``: "two-sided", "greater" (an increasing trend) or "less". ``slope=True`` adds Sen's slope
    and Conover's intercept (median(x) - (n-1)/2 slope), as pymannkendall's ``sens_slope``.
    """
    where = "mann_kendall"
    check_choice("alternative", alternative, MK_ALTERNATIVES, where)
    check_choice("engine", engine, MK_ENGINES, where)
    x = _check_series(series_2d, where)
    n = x.shape[1]
    use_numba = engine == "numba" or (engine == "auto" and _numba_available())
    s, ties, sl, icpt = _compiled_mk()(x, bool(slope)) if use_numba else _mk_numpy(x, bool(slope))
    var_s = (n * (n - 1.0) * (2.0 * n + 5.0) - ties) / 18.0
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt(np.where(var_s > 0, var_s, 1.0))
        z = np.where(s > 0, (s - 1.0) / root, np.where(s < 0, (s + 1.0) / root, 0.0))
    p = inference.normal_pvalues(z, alternative)
    p = np.where(var_s > 0, p, 1.0)  # a constant series: nothing to test
    tau = s / (0.5 * n * (n - 1.0))
    return MannKendallResult(s, var_s, z, p, tau, sl, icpt, n, alternative, "numba" if use_numba else "numpy")


# -- Gi* per slice -------------------------------------------------------------------------------------------


def _star_weights(weights: SpatialWeights, transform: str | None) -> tuple[Any, NDArray[np.bool_]]:
    """Gi*'s weights as a CSR matrix (self-weight as :func:`safercities.stats.hotspots.getis_ord` sets it)."""
    n = weights.n
    base = weights.transformed("O") if weights.transform != "O" else weights
    f, j, w = base.focal, base.neighbor, base.weight
    own = f == j
    island = np.bincount(f[~own], minlength=n) == 0
    self_weight = np.zeros(n)
    self_weight[f[own]] = w[own]
    row_max = np.zeros(n)
    np.maximum.at(row_max, f[~own], w[~own])
    row_max[island] = 1.0
    self_weight = np.where(self_weight > 0, self_weight, row_max)
    everyone = np.arange(n)
    links = SpatialWeights.from_arrays(
        weights.ids, np.concatenate([f[~own], everyone]), np.concatenate([j[~own], everyone]),
        np.concatenate([w[~own], self_weight]), kind=weights.kind,
    )  # fmt: skip
    if transform is not None:
        check_choice("transform", transform, TRANSFORMS, "emerging_hotspots")
        links = links.transformed(transform)
    return links.sparse, island


def gi_star_slices(
    counts: ArrayLike, weights: SpatialWeights, *, time_window: int = 0, transform: str | None = "B"
) -> NDArray[np.float64]:
    """Gi* z-scores (n_locations, n_periods), NaN for islands; 0 in a slice whose values are all equal.

    ``time_window = 0``: each slice on its own (its own mean and variance): the z of
    :func:`~safercities.stats.hotspots.getis_ord` (and esda's ``G_Local(star=True)``) on that slice.
    ``time_window = k > 0``: the neighbourhood of bin (i, t) is i and its neighbours in slices t-k..t (those
    that exist), and the reference is the whole cube (all n x T bins), as ArcGIS's space-time Gi*.
    """
    y = np.asarray(counts, dtype=np.float64)
    matrix, island = _star_weights(weights, transform)
    n, t = y.shape
    lag = np.asarray(matrix @ y)
    w_sum = np.asarray(matrix.sum(axis=1)).ravel()
    s1 = np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()
    if time_window == 0:
        big_n = float(n)
        mean = y.mean(axis=0)[None, :]
        spread = np.maximum((y * y).mean(axis=0) - mean[0] ** 2, 0.0)[None, :]
        w_t, s1_t = w_sum[:, None], s1[:, None]
    else:
        big_n = float(n * t)
        mean = np.full((1, t), y.mean())
        spread = np.full((1, t), max(float((y * y).mean()) - float(y.mean()) ** 2, 0.0))
        cum = np.cumsum(lag, axis=1)
        shifted = np.zeros_like(cum)
        shifted[:, time_window + 1 :] = cum[:, : t - time_window - 1]
        lag = cum - shifted
        slices = np.minimum(np.arange(t) + 1, time_window + 1)[None, :].astype(np.float64)
        w_t, s1_t = w_sum[:, None] * slices, s1[:, None] * slices
    var_lag = spread * (big_n * s1_t - w_t**2) / (big_n - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var_lag > 1e-300, (lag - w_t * mean) / np.sqrt(np.where(var_lag > 1e-300, var_lag, 1.0)), 0.0)
    z[island] = np.nan
    return z


def _adjust_columns(p: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    """Adjusted p-values within each column (slice): Benjamini-Hochberg vectorised over columns, NaN left out."""
    if method == "none":
        return p.copy()
    if method == "bonferroni":
        m = (~np.isnan(p)).sum(axis=0, keepdims=True)
        return np.minimum(1.0, p * m)
    q = np.ascontiguousarray(p.T)  # one row per slice: sorting along contiguous rows is several times faster
    t, n = q.shape
    missing = np.isnan(q)
    m = (~missing).sum(axis=1)
    order = np.argsort(np.where(missing, np.inf, q), axis=1)
    ranked = np.take_along_axis(q, order, axis=1) * (m[:, None] / np.arange(1, n + 1)[None, :])
    ranked[np.isnan(ranked)] = np.inf
    adjusted = np.minimum.accumulate(ranked[:, ::-1], axis=1)[:, ::-1]
    out = np.empty_like(q)
    np.put_along_axis(out, order, np.minimum(adjusted, 1.0), axis=1)
    out[missing] = np.nan
    return np.ascontiguousarray(out.T)


# -- the categories ------------------------------------------------------------------------------------------

Features = dict[str, NDArray[Any]]


@dataclass(frozen=True)
class Test:
    """A conjunction of facts about a location (see :func:`_features`): the predicate of one rule."""

    final: int | None = None
    """The state the final slice must have (None: any)."""
    flags: tuple[str, ...] = ()
    """Boolean features that must hold."""
    positive: str | None = None
    """A count that must be > 0."""
    single: str | None = None
    """A count that must be exactly 1."""
    equal: tuple[str, str] | None = None
    """Two counts that must be equal."""

    def __call__(self, f: Features) -> NDArray[np.bool_]:
        out = np.ones(f["last"].shape, dtype=bool)
        if self.final is not None:
            out &= f["last"] == self.final
        for flag in self.flags:
            out &= f[flag].astype(bool)
        if self.positive:
            out &= f[self.positive] > 0
        if self.single:
            out &= f[self.single] == 1
        if self.equal:
            out &= f[self.equal[0]] == f[self.equal[1]]
        return out


@dataclass(frozen=True)
class Rule:
    """One classification rule: the category it gives and when (read after every earlier rule failed)."""

    category: str
    text: str
    test: Test


def _rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for sign, word, other in ((HOT, "hot", "cold"), (COLD, "cold", "hot")):
        own, opp = ("n_hot", "n_cold") if sign == HOT else ("n_cold", "n_hot")
        most = "mostly_hot" if sign == HOT else "mostly_cold"
        run = "run_hot" if sign == HOT else "run_cold"
        # a hot spot intensifies when its z-scores rise, a cold spot when they fall
        stronger, weaker = ("up", "down") if sign == HOT else ("down", "up")
        rising, falling = ("rising", "falling") if sign == HOT else ("falling", "rising")
        rules += [
            Rule(f"intensifying {word} spot",
                 f"the final slice is a {word} spot, >= 90% of slices are {word} spots, and the trend of the Gi* "
                 f"z-scores is significant and {rising}", Test(sign, (most, stronger))),
            Rule(f"diminishing {word} spot",
                 f"the final slice is a {word} spot, >= 90% of slices are {word} spots, and the trend of the Gi* "
                 f"z-scores is significant and {falling}", Test(sign, (most, weaker))),
            Rule(f"persistent {word} spot",
                 f"the final slice is a {word} spot, >= 90% of slices are {word} spots, no significant trend",
                 Test(sign, (most,))),
            Rule(f"oscillating {word} spot",
                 f"the final slice is a {word} spot (< 90% of slices are) and some earlier slice was a {other} spot",
                 Test(sign, positive=opp)),
            Rule(f"new {word} spot", f"the final slice is the only {word} spot (and no slice is a {other} spot)",
                 Test(sign, single=own)),
            Rule(f"consecutive {word} spot",
                 f"the {word} spots are one uninterrupted run of >= 2 slices ending with the final slice, "
                 f"< 90% of slices (and no slice is a {other} spot)", Test(sign, equal=(run, own))),
            Rule(f"sporadic {word} spot",
                 f"the final slice is a {word} spot, < 90% of slices are, they do not form one final run, "
                 f"and no slice is a {other} spot", Test(sign)),
        ]  # fmt: skip
    rules += [
        Rule("historical hot spot", "the final slice is not significant and >= 90% of slices are hot spots",
             Test(flags=("mostly_hot",))),
        Rule("historical cold spot", "the final slice is not significant and >= 90% of slices are cold spots",
             Test(flags=("mostly_cold",))),
        Rule("no pattern", "none of the rules above", Test()),
    ]  # fmt: skip
    return tuple(rules)


RULES = _rules()
"""The classification rules in order of precedence: a location gets the category of the first rule it meets."""
CATEGORIES = tuple(r.category for r in RULES)


def _trailing_run(state: NDArray[np.int8], value: int) -> NDArray[np.int64]:
    other = state[:, ::-1] != value
    return np.where(other.any(axis=1), other.argmax(axis=1), state.shape[1]).astype(np.int64)


def _features(state: NDArray[np.int8], trend_z: NDArray[np.float64], trend_p: NDArray[np.float64],
              trend_alpha: float) -> Features:  # fmt: skip
    t = state.shape[1]
    n_hot = (state == HOT).sum(axis=1)
    n_cold = (state == COLD).sum(axis=1)
    significant = np.nan_to_num(trend_p, nan=2.0) <= trend_alpha
    return {
        "n_periods": np.full(state.shape[0], t),
        "last": state[:, -1].astype(np.int64),
        "n_hot": n_hot,
        "n_cold": n_cold,
        "mostly_hot": 10 * n_hot >= 9 * t,  # integers: ">= 90% of slices" without rounding
        "mostly_cold": 10 * n_cold >= 9 * t,
        "run_hot": _trailing_run(state, HOT),
        "run_cold": _trailing_run(state, COLD),
        "up": significant & (trend_z > 0),
        "down": significant & (trend_z < 0),
    }


def classify(state: ArrayLike, trend_z: ArrayLike, trend_p: ArrayLike, *, trend_alpha: float = 0.05) -> NDArray[Any]:
    """The category of each location from its slice states (+1 hot, -1 cold, 0) and its trend (:data:`RULES`)."""
    st = np.asarray(state, dtype=np.int8)
    if st.ndim != 2 or st.shape[1] < 1:
        raise InputError(f"classify: state must be (locations x periods). Got shape {st.shape}.")
    feats = _features(st, np.asarray(trend_z, dtype=np.float64), np.asarray(trend_p, dtype=np.float64), trend_alpha)
    code = np.full(st.shape[0], len(RULES) - 1)
    open_ = np.ones(st.shape[0], dtype=bool)
    for k, rule in enumerate(RULES):
        hit = open_ & rule.test(feats)
        code[hit] = k
        open_ &= ~hit
    return np.asarray(CATEGORIES, dtype=object)[code].astype(str)


# -- the result ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EmergingResult:
    """Gi* per location and slice, its adjusted p-values and state, the trend of each location, its category."""

    ids: NDArray[Any]
    z: NDArray[np.float64]
    p: NDArray[np.float64]
    p_adjusted: NDArray[np.float64]
    state: NDArray[np.int8]
    trend: MannKendallResult
    category: NDArray[np.str_]
    island: NDArray[np.bool_]
    alpha: float
    trend_alpha: float
    adjust: str
    time_window: int
    permutations: int
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_hot(self) -> NDArray[np.int64]:
        return np.asarray((self.state == HOT).sum(axis=1), dtype=np.int64)

    @property
    def n_cold(self) -> NDArray[np.int64]:
        return np.asarray((self.state == COLD).sum(axis=1), dtype=np.int64)

    def to_frame(self) -> Any:
        """One row per location: category, trend z/p/tau, slices hot/cold/significant, the last slice's state."""
        import pandas as pd

        last = self.state[:, -1]
        return pd.DataFrame({
            "id": self.ids, "category": self.category, "trend_z": self.trend.z, "trend_p": self.trend.p,
            "trend_tau": self.trend.tau, "n_hot": self.n_hot, "n_cold": self.n_cold,
            "n_significant": self.n_hot + self.n_cold,
            "last_state": np.where(last == HOT, "hot", np.where(last == COLD, "cold", "not significant")),
            "last_z": self.z[:, -1], "island": self.island,
        })  # fmt: skip

    def _position(self, location: Any) -> int:
        hit = np.flatnonzero(self.ids == location)
        if hit.size == 0:
            raise InputError(f"explain: no location {location!r} among the {len(self.ids)} analysed")
        return int(hit[0])

    def explain(self, location: Any) -> list[str]:
        """The rule trail of one location (by id): its facts, then each rule tried in order until one holds."""
        i = self._position(location)
        st = self.state[i : i + 1]
        feats = _features(st, self.trend.z[i : i + 1], self.trend.p[i : i + 1], self.trend_alpha)
        t = st.shape[1]
        pattern = "".join({HOT: "H", COLD: "C", NONE: "."}[int(v)] for v in st[0])
        lines = [
            f"location {location!r}: {t} slices, states {pattern} (H hot, C cold, . not significant; "
            f"{self.adjust} within each slice at {self.alpha:g})",
            f"hot in {int(feats['n_hot'][0])} slices ({feats['n_hot'][0] / t:.0%}), cold in {int(feats['n_cold'][0])} "
            f"({feats['n_cold'][0] / t:.0%}); final slice {STATES[int(feats['last'][0])]}; final run hot "
            f"{int(feats['run_hot'][0])}, cold {int(feats['run_cold'][0])}",
            f"trend of the Gi* z-scores (Mann-Kendall): z {self.trend.z[i]:.3f}, p {self.trend.p[i]:.4g}, "
            f"{'significant' if feats['up'][0] or feats['down'][0] else 'not significant'} at {self.trend_alpha:g}",
        ]
        if self.island[i]:
            lines.append("the location has no neighbour (island): its Gi* is undefined and never significant")
        for k, rule in enumerate(RULES, start=1):
            if bool(rule.test(feats)[0]):
                lines.append(f"rule {k} ({rule.category}): yes: {rule.text} -> {rule.category}")
                break
            lines.append(f"rule {k} ({rule.category}): no")
        return lines

    def summary(self) -> str:
        names, counts = np.unique(self.category, return_counts=True)
        tally = ", ".join(f"{k} {v}" for k, v in zip(names.tolist(), counts.tolist(), strict=True))
        how = f"{self.permutations} permutations" if self.permutations else "analytic z"
        return (
            f"emerging hot spots: {len(self.ids)} locations x {self.z.shape[1]} slices; Gi* ({how}, time window "
            f"{self.time_window}), {self.adjust} within each slice at {self.alpha:g}; Mann-Kendall trend at "
            f"{self.trend_alpha:g}\n  {tally}"
        )


def emerging_hotspots(
    counts: ArrayLike,
    weights: SpatialWeights,
    *,
    alpha: float = 0.05,
    permutations: int = 0,
    adjust: str = "fdr_bh",
    time_window: int = 0,
    trend_alpha: float | None = None,
    transform: str | None = "B",
    rng: np.random.Generator | int | None = None,
    engine: str = "auto",
) -> EmergingResult:
    """Emerging hot spot analysis of a count cube ``counts`` (n_locations x n_periods, oldest slice first).

    Gi* per slice (analytic z by default, as ArcGIS; ``permutations`` > 0 uses conditional permutation
    p-values, only with ``time_window=0``), ``adjust`` within each slice, a slice state hot/cold where the
    adjusted p <= ``alpha``, the Mann-Kendall trend of each location's z-series (significant where p <=
    ``trend_alpha``, default ``alpha``), and the category of :data:`RULES`.
    """
    where = "emerging_hotspots"
    if not isinstance(weights, SpatialWeights):
        raise InputError(f"The 'weights' parameter of {where} must be a SpatialWeights. Got {type(weights).__name__}.")
    check_choice("adjust", adjust, inference.ADJUSTMENTS, where)
    check_choice("engine", engine, MK_ENGINES, where)
    for name, value in (("alpha", alpha), ("trend_alpha", alpha if trend_alpha is None else trend_alpha)):
        if not isinstance(value, float | int) or not 0 < value < 1:
            raise InputError(f"The '{name}' parameter of {where} must be in (0, 1). Got {value!r} instead.")
    trend_level = float(alpha if trend_alpha is None else trend_alpha)
    permutations = inference.check_permutations(permutations, where)
    if isinstance(time_window, bool) or not isinstance(time_window, int | np.integer) or time_window < 0:
        raise InputError(f"The 'time_window' parameter of {where} must be a non-negative int. Got {time_window!r}.")
    if permutations and time_window:
        raise InputError(f"{where}: permutations are implemented for time_window=0 only; use the analytic z")
    y = _check_series(counts, where)
    if y.shape[0] != weights.n:
        raise InputError(f"counts must have one row per location ({weights.n}). Got {y.shape[0]} rows instead.")
    if weights.n < 2:
        raise InputError(f"{where} needs at least 2 locations. Got {weights.n}.")
    z = gi_star_slices(y, weights, time_window=int(time_window), transform=transform)
    island = np.isnan(z[:, 0])
    p = inference.normal_pvalues(z, "two-sided")
    if permutations:
        from safercities.stats.hotspots import getis_ord

        gen = inference.as_generator(rng)
        for t in range(y.shape[1]):
            column = y[:, t]
            if np.all(column == column[0]):
                continue  # a slice where nobody stands out: z 0, p 1
            result = getis_ord(column, weights, transform=transform, permutations=permutations, rng=gen,
                               adjust="none", engine="auto" if engine == "auto" else engine)  # fmt: skip
            p[:, t] = result.p_sim
    p_adjusted = _adjust_columns(p, adjust)
    significant = np.nan_to_num(p_adjusted, nan=2.0) <= alpha
    state = np.where(significant, np.where(z > 0, HOT, COLD), NONE).astype(np.int8)
    series = np.where(np.isnan(z), 0.0, z)
    trend = mann_kendall(series, engine=engine)
    for array in (trend.z, trend.p, trend.tau):
        array[island] = np.nan
    category = classify(state, trend.z, trend.p, trend_alpha=trend_level)
    provenance = stamp(
        f"safercities.stats.emerging.{where}",
        {"alpha": alpha, "trend_alpha": trend_level, "adjust": adjust, "permutations": permutations,
         "time_window": int(time_window), "transform": transform, "rng": inference.describe_generator(rng)},
        y, weights.focal, weights.neighbor, weights.weight,
    )  # fmt: skip
    for item in (z, p, p_adjusted, state, category, island):
        item.flags.writeable = False
    return EmergingResult(weights.ids, z, p, p_adjusted, state, trend, category, island, alpha, trend_level, adjust,
                          int(time_window), permutations, provenance)  # fmt: skip
