"""Near repeats: the Knox test over space × time bands, near-repeat roles, and repeat victimisation.

**The Knox test.** Every unordered pair of events falls in one distance band (metres, Euclidean or
Manhattan) and one time band (days between the two dates); the observed table counts the pairs of each
cell. Under "no space-time interaction" the dates are exchangeable over the locations, so the reference
tables come from permuting the dates over the events (``permutations`` times). For each cell:

* ``expected``: the mean permuted count; ``expected_median``: the median;
* ``ratio`` = observed / expected (the Knox ratio of the Near Repeat Calculator and NearRepeat);
  ``ratio_median`` = observed / median;
* ``pvalues``: p = (k + 1) / (R + 1) (:mod:`safercities.stats.inference`), ``alternative="greater"``
  asks whether the cell holds *more* pairs than chance; ``pvalues_fdr``: Benjamini–Hochberg over cells.

**Pair counting is not O(n²).** The pairs closer than the largest finite distance edge are found once
with a KD-tree (``p=1`` for Manhattan); the permutations only re-read the dates of that fixed pair list
(a numba kernel, parallel over permutations; a pure-numpy engine gives identical counts). The "more
than" distance band needs no pairs: the number of all pairs in each time band does not change when the
dates are permuted (it is computed once from the sorted dates), and the far band is that total minus the
close pairs. The "more than" time band is the close pairs' row total minus the finite time bands.

**Interval conventions.** ``convention="half-open"`` (the default): a band ``[a, b)`` holds
``a <= value < b`` on both axes; an ``inf`` last edge adds a "more than" band; pairs outside the edges
(beyond a finite last edge, or below a first edge above 0) are left out of the table, as NearRepeat
does. ``convention="nrc"`` reproduces the Near Repeat Calculator (Ratcliffe 2009): its band "a to b"
means ``[a - 1, b)`` (Steenbeek's NearRepeat vignette), its "Same location" band is distance
``[0, 1)``, and its first distance band ``[0, w)`` is split into "Same location" and "1 to w". Give the
NRC's bands as edges (:func:`nrc_edges` builds them from its band width and count); every result says
which convention it used and ``to_frame()`` carries the NRC-style labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice
from safercities.stats.inference import (
    as_generator,
    check_permutations,
    describe_generator,
    fdr_bh,
    pvalues_from_reference,
)
from safercities.stats.provenance import stamp

METRICS = ("euclidean", "manhattan")
CONVENTIONS = ("half-open", "nrc")
KNOX_ALTERNATIVES = ("greater", "less", "two-sided")
ENGINES = ("auto", "numba", "numpy")
_BLOCK = 128
"""Permutations drawn at a time: their permuted dates take 128 × n numbers."""
_WIDTH = 16
"""Permutations per pass over the pair list in the numba kernel (16 int32 dates fill one cache line)."""

__all__ = [
    "KnoxResult",
    "NearRepeatEvents",
    "knox",
    "near_repeat_events",
    "nrc_edges",
]


# -- bands ---------------------------------------------------------------------------------------------------


def nrc_edges(bandwidth: float, bands: int) -> list[float]:
    """The Near Repeat Calculator's edges for ``bands`` bands of ``bandwidth`` plus its "More than" band."""
    if not bandwidth > 0 or bands < 1:
        raise InputError(f"nrc_edges needs a positive bandwidth and at least one band. Got {bandwidth}, {bands}.")
    return [float(bandwidth) * k for k in range(bands + 1)] + [math.inf]


def _check_edges(name: str, edges: Sequence[float] | ArrayLike) -> NDArray[np.float64]:
    e = np.asarray(edges, dtype=np.float64).ravel()
    ok = (
        e.size >= 2
        and not np.isnan(e).any()
        and e[0] >= 0
        and np.isfinite(e[:-1]).all()
        and bool(np.all(np.diff(e) > 0))
        and np.isfinite(e[-2])
    )
    if not ok:
        raise InputError(
            f"The '{name}' parameter of knox must be at least two increasing edges >= 0, only the last may be "
            f"inf (e.g. [0, 100, 200, inf]). Got {list(np.asarray(edges).ravel())!r} instead."
        )
    return e


def _fmt(v: float) -> str:
    return "inf" if math.isinf(v) else f"{v:g}"


def _interval_labels(edges: NDArray[np.float64]) -> list[str]:
    return [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _nrc_labels(edges: NDArray[np.float64], axis: str, same_location: bool) -> list[str]:
    """NRC-style labels: [a, b) is "a+1 to b" (a > 1), "a to b" (a <= 1), [a, inf) "More than a"."""
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if math.isinf(b):
            out.append(f"More than {_fmt(a)}")
        elif axis == "distance" and same_location and a == 0 and b == 1:
            out.append("Same location")
        else:
            out.append(f"{_fmt(a + 1 if a > 1 else a)} to {_fmt(b)}")
    return out


@dataclass(frozen=True)
class _Axis:
    """One axis's bands: the user's edges, the internal finite edges (from 0) and the map between them."""

    edges: NDArray[np.float64]  # the bands as reported (after the NRC split)
    internal: NDArray[np.float64]  # finite edges starting at 0: a hidden band [0, e0) when e0 > 0
    offset: int  # 1 when the hidden band exists
    open_end: bool  # the last reported band is [e, inf)

    @classmethod
    def build(cls, edges: NDArray[np.float64], split_same_location: bool) -> _Axis:
        e = edges
        if split_same_location and e[0] == 0 and e[1] > 1:
            e = np.concatenate([[0.0, 1.0], e[1:]])
        finite = e[np.isfinite(e)]
        offset = int(finite[0] > 0)
        internal = np.concatenate([[0.0], finite]) if offset else finite
        return cls(e, internal, offset, bool(np.isinf(e[-1])))

    @property
    def n_internal(self) -> int:
        return len(self.internal) - 1

    def select(self) -> NDArray[np.int64]:
        """Indices of the reported bands among the internal bands plus the overflow band."""
        idx = list(range(self.offset, self.n_internal))
        if self.open_end:
            idx.append(self.n_internal)
        return np.asarray(idx, dtype=np.int64)


# -- the result ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KnoxResult:
    """A Knox table: rows are distance bands, columns time bands (see the module docstring)."""

    distance_edges: NDArray[np.float64]
    time_edges: NDArray[np.float64]
    convention: str
    metric: str
    alternative: str
    n_events: int
    n_pairs: int
    permutations: int
    observed: NDArray[np.int64]
    expected: NDArray[np.float64]
    expected_median: NDArray[np.float64]
    ratio: NDArray[np.float64]
    ratio_median: NDArray[np.float64]
    pvalues: NDArray[np.float64]
    pvalues_fdr: NDArray[np.float64]
    engine: str
    close_pairs: int
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def distance_labels(self) -> list[str]:
        """The distance bands as half-open intervals."""
        return _interval_labels(self.distance_edges)

    @property
    def time_labels(self) -> list[str]:
        """The time bands (days) as half-open intervals."""
        return _interval_labels(self.time_edges)

    @property
    def nrc_distance_labels(self) -> list[str]:
        """The distance bands labelled as the Near Repeat Calculator labels them."""
        return _nrc_labels(self.distance_edges, "distance", self.convention == "nrc")

    @property
    def nrc_time_labels(self) -> list[str]:
        """The time bands labelled as the Near Repeat Calculator labels them."""
        return _nrc_labels(self.time_edges, "time", False)

    def to_frame(self) -> Any:
        """One row per (distance band, time band) cell, with intervals, NRC-style labels and statistics."""
        import pandas as pd

        nd, nt = self.observed.shape
        di, ti = np.divmod(np.arange(nd * nt), nt)
        d_lo, d_hi = self.distance_edges[:-1][di], self.distance_edges[1:][di]
        t_lo, t_hi = self.time_edges[:-1][ti], self.time_edges[1:][ti]
        return pd.DataFrame(
            {
                "distance_band": np.asarray(self.distance_labels, dtype=object)[di],
                "time_band": np.asarray(self.time_labels, dtype=object)[ti],
                "nrc_distance": np.asarray(self.nrc_distance_labels, dtype=object)[di],
                "nrc_time": np.asarray(self.nrc_time_labels, dtype=object)[ti],
                "distance_from": d_lo,
                "distance_to": d_hi,
                "days_from": t_lo,
                "days_to": t_hi,
                "observed": self.observed.ravel(),
                "expected": self.expected.ravel(),
                "expected_median": self.expected_median.ravel(),
                "knox_ratio": self.ratio.ravel(),
                "knox_ratio_median": self.ratio_median.ravel(),
                "p_value": self.pvalues.ravel(),
                "p_fdr": self.pvalues_fdr.ravel(),
                "convention": self.convention,
            }
        )

    def table(self, values: str = "observed", labels: str = "auto") -> Any:
        """The wide table of ``values`` (observed, expected, ratio, ratio_median, pvalues, pvalues_fdr);
        ``labels`` "interval", "nrc" or "auto" (NRC labels for an NRC-convention table)."""
        import pandas as pd

        check_choice(
            "values", values, ("observed", "expected", "expected_median", "ratio", "ratio_median", "pvalues",
                               "pvalues_fdr"), "KnoxResult.table",
        )  # fmt: skip
        check_choice("labels", labels, ("auto", "interval", "nrc"), "KnoxResult.table")
        nrc = labels == "nrc" or (labels == "auto" and self.convention == "nrc")
        rows = self.nrc_distance_labels if nrc else self.distance_labels
        cols = self.nrc_time_labels if nrc else self.time_labels
        frame = pd.DataFrame(getattr(self, values), index=pd.Index(rows, name="distance (m)"),
                             columns=pd.Index(cols, name="time (days)"))  # fmt: skip
        return frame

    def summary(self) -> str:
        """A few lines: the settings, the convention, and the cells significant at FDR 5%."""
        lines = [
            f"Knox test: {self.n_events} events, {self.n_pairs} pairs ({self.close_pairs} within the largest "
            f"finite distance), {self.metric} distance, {self.permutations} permutations of the dates "
            f"({self.engine}), alternative={self.alternative!r}",
            f"interval convention: {self.convention}"
            + (" (Near Repeat Calculator: 'a to b' = [a-1, b), Same location = [0, 1))"
               if self.convention == "nrc" else " ([a, b) on both axes)"),
        ]  # fmt: skip
        sig = np.argwhere(self.pvalues_fdr <= 0.05)
        dl, tl = self.nrc_distance_labels, self.nrc_time_labels
        if len(sig) == 0:
            lines.append("no cell significant at FDR 5%")
        for d, t in sig:
            lines.append(
                f"  {dl[d]} m × {tl[t]} days: observed {self.observed[d, t]}, expected {self.expected[d, t]:.1f}, "
                f"Knox ratio {self.ratio[d, t]:.2f}, p {self.pvalues[d, t]:.4f} (FDR {self.pvalues_fdr[d, t]:.4f})"
            )
        return "\n".join(lines)


# -- the Knox test -----------------------------------------------------------------------------------------


def _as_events(x: ArrayLike, y: ArrayLike, t: ArrayLike, where: str) -> tuple[NDArray[np.float64], ...]:
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    ts = np.asarray(t, dtype=np.float64).ravel()
    if not (xs.shape == ys.shape == ts.shape):
        raise InputError(f"{where}: x, y and t_days must have the same length. Got {xs.size}, {ys.size}, {ts.size}.")
    bad = ~(np.isfinite(xs) & np.isfinite(ys) & np.isfinite(ts))
    if bad.any():
        raise InputError(f"{where}: {int(bad.sum())} events have a missing or infinite coordinate or date "
                         f"(first at position {int(np.flatnonzero(bad)[0])}); drop them first")  # fmt: skip
    return xs, ys, ts


def close_pairs(
    x: NDArray[np.float64], y: NDArray[np.float64], radius: float, metric: str
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The pairs i < j closer than ``radius`` (strictly) and their distances, by a KD-tree."""
    from scipy.spatial import cKDTree

    n = x.shape[0]
    if n < 2 or radius <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0)
    p = 1.0 if metric == "manhattan" else 2.0
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(radius, p=p, output_type="ndarray")
    i = np.minimum(pairs[:, 0], pairs[:, 1]).astype(np.int64)
    j = np.maximum(pairs[:, 0], pairs[:, 1]).astype(np.int64)
    dx, dy = np.abs(x[i] - x[j]), np.abs(y[i] - y[j])
    d = dx + dy if metric == "manhattan" else np.hypot(dx, dy)
    keep = d < radius
    i, j, d = i[keep], j[keep], d[keep]
    order = np.lexsort((j, i))
    return i[order], j[order], d[order]


def _pairs_below(t_sorted: NDArray[np.float64], bounds: NDArray[np.float64]) -> NDArray[np.int64]:
    """For each bound b, the number of unordered pairs whose time difference is < b (O(n log n))."""
    n = t_sorted.shape[0]
    rank = np.arange(n)
    out = np.zeros(len(bounds), dtype=np.int64)
    for k, b in enumerate(bounds):
        if b <= 0:
            continue
        upper = np.searchsorted(t_sorted, t_sorted + b, side="left")
        out[k] = int(np.maximum(upper - rank - 1, 0).sum())
    return out


def _count_numpy(
    tgroups: NDArray[Any],
    indptr: NDArray[np.int64],
    nbr: NDArray[np.int32],
    dband: NDArray[Any],
    t_edges: NDArray[np.float64],
    nd: int,
) -> NDArray[np.int64]:
    """Close pairs per (distance band, finite time band) for each permutation lane (the reference engine)."""
    groups, _, width = tgroups.shape
    nt = len(t_edges) - 1
    focal = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    db = dband.astype(np.int64)
    out = np.zeros((groups * width, nd, nt), dtype=np.int64)
    for r in range(groups * width):
        tp = tgroups[r // width, :, r % width]
        dt = np.abs(tp[focal] - tp[nbr])
        inside = dt < t_edges[-1]
        tb = np.searchsorted(t_edges, dt[inside], side="right") - 1
        out[r] = np.bincount(db[inside] * nt + tb, minlength=nd * nt).reshape(nd, nt)
    return out


def _count_kernel(tgroups, indptr, nbr, dband, t_edges, nd, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    # tgroups (G, n, W): W permutations' dates side by side, so that one pass over the pair list serves W of them;
    # cumulative counts (dt < edge) per permutation lane keep the inner loop free of branches (SIMD)
    nt = t_edges.shape[0] - 1
    n = indptr.shape[0] - 1
    width = tgroups.shape[2]
    for g in prange(tgroups.shape[0]):
        tg = tgroups[g]
        acc = np.zeros((nd, nt, width), dtype=np.int64)
        for i in range(n):
            ti = tg[i]
            for k in range(indptr[i], indptr[i + 1]):
                tj = tg[nbr[k]]
                row = acc[dband[k]]
                for e in range(nt):
                    edge = t_edges[e + 1]
                    lane = row[e]
                    for r in range(width):
                        lane[r] += abs(ti[r] - tj[r]) < edge
        for d in range(nd):
            for r in range(width):
                prev = 0
                for e in range(nt):
                    out[g, r, d, e] = acc[d, e, r] - prev
                    prev = acc[d, e, r]
    return out


def _draw_kernel(dates, seeds, width, out):  # type: ignore[no-untyped-def]  # pragma: no cover
    # one Fisher-Yates shuffle of the dates per permutation; the uniform draws come from SplitMix64 seeded per
    # permutation (from the caller's numpy Generator) and are bounded by Lemire's multiply-shift, so that the
    # draws do not depend on the threads' schedule
    n = dates.shape[0]
    golden = np.uint64(0x9E3779B97F4A7C15)
    m1 = np.uint64(0xBF58476D1CE4E5B9)
    m2 = np.uint64(0x94D049BB133111EB)
    s30, s27, s31, s32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(32)
    for r in prange(seeds.shape[0]):
        state = np.uint64(seeds[r])
        a = dates.copy()
        for i in range(n - 1, 0, -1):
            state += golden
            z = state
            z = (z ^ (z >> s30)) * m1
            z = (z ^ (z >> s27)) * m2
            z = z ^ (z >> s31)
            j = np.int64(((z >> s32) * np.uint64(i + 1)) >> s32)
            a[i], a[j] = a[j], a[i]
        g, lane = r // width, r % width
        for i in range(n):
            out[g, i, lane] = a[i]
    return out


prange = range
"""The kernel's loop over permutations: numba's ``prange`` once the kernel is compiled (parallel)."""


@cache
def _numba_kernel() -> Any:
    import numba

    globals()["prange"] = numba.prange
    return numba.njit(cache=True, parallel=True, nogil=True)(_count_kernel)


@cache
def _numba_draw() -> Any:
    import numba

    globals()["prange"] = numba.prange
    return numba.njit(cache=True, parallel=True, nogil=True)(_draw_kernel)


@cache
def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - numba is a dependency; numpy is the fallback
        return False
    return True


def _count(
    engine: str,
    tgroups: NDArray[Any],
    indptr: NDArray[np.int64],
    nbr: NDArray[np.int32],
    dband: NDArray[Any],
    t_edges: NDArray[np.float64],
    nd: int,
) -> NDArray[np.int64]:
    """(G * W, nd, nt) close-pair counts for the W permutation lanes of each of the G groups of dates."""
    if engine == "numpy":
        return _count_numpy(tgroups, indptr, nbr, dband, t_edges, nd)
    groups, _, width = tgroups.shape
    out = np.zeros((groups, width, nd, len(t_edges) - 1), dtype=np.int64)
    _numba_kernel()(tgroups, indptr, nbr, dband, t_edges.astype(tgroups.dtype), nd, out)
    return out.reshape(groups * width, nd, len(t_edges) - 1)


def _draw(dates: NDArray[Any], gen: np.random.Generator, m: int, fast: bool) -> NDArray[Any]:
    """``m`` random permutations of ``dates`` as (G, n, W) groups of W lanes (lanes past ``m`` are zeros).

    ``fast``: Fisher-Yates in numba, each permutation seeded from ``gen``; else ``gen.permutation``.
    """
    n = dates.shape[0]
    width = min(_WIDTH, max(m, 1))
    groups = -(-m // width)
    out = np.zeros((groups, n, width), dtype=dates.dtype)
    if fast:
        seeds = gen.integers(0, 2**63, size=m, dtype=np.int64).astype(np.uint64)
        return np.asarray(_numba_draw()(dates, seeds, width, out))
    for r in range(m):
        out[r // width, :, r % width] = dates[gen.permutation(n)]
    return out


def knox(
    x: ArrayLike,
    y: ArrayLike,
    t_days: ArrayLike,
    *,
    distance_bands: Sequence[float] | ArrayLike,
    time_bands: Sequence[float] | ArrayLike,
    metric: str = "euclidean",
    convention: str = "half-open",
    permutations: int = 999,
    rng: np.random.Generator | int | None = None,
    alternative: str = "greater",
    engine: str = "auto",
) -> KnoxResult:
    """The Knox test of space-time interaction over distance × time bands (module docstring).

    ``x, y`` in metres (a projected CRS), ``t_days`` the dates as days (e.g. days since a start date;
    integers for day-resolution data). ``distance_bands`` / ``time_bands`` are band edges, e.g.
    ``[0, 100, 200, inf]``; an ``inf`` last edge adds the "more than" band.
    """
    check_choice("metric", metric, METRICS, "knox")
    check_choice("convention", convention, CONVENTIONS, "knox")
    check_choice("alternative", alternative, KNOX_ALTERNATIVES, "knox")
    check_choice("engine", engine, ENGINES, "knox")
    permutations = check_permutations(permutations, "knox")
    xs, ys, ts = _as_events(x, y, t_days, "knox")
    d_axis = _Axis.build(_check_edges("distance_bands", distance_bands), convention == "nrc")
    t_axis = _Axis.build(_check_edges("time_bands", time_bands), False)
    description = describe_generator(rng)
    gen = as_generator(rng)
    use = "numba" if engine == "numba" or (engine == "auto" and _numba_available()) else "numpy"
    n = xs.shape[0]
    n_pairs = n * (n - 1) // 2

    # spatial order (cells of the largest distance) keeps a pair's two dates close in memory
    dmax = float(d_axis.internal[-1])
    if n:
        gx = np.floor((xs - xs.min()) / dmax).astype(np.int64)
        gy = np.floor((ys - ys.min()) / dmax).astype(np.int64)
        order = np.lexsort((xs, gx, gy))
    else:
        order = np.zeros(0, dtype=np.int64)
    xo, yo, to = xs[order], ys[order], ts[order]
    pi, pj, dist = close_pairs(xo, yo, dmax, metric)
    dband = (np.searchsorted(d_axis.internal, dist, side="right") - 1).astype(np.int64)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pi, minlength=n))]).astype(np.int64)
    nbr = pj.astype(np.int32)
    nd, nt = d_axis.n_internal, t_axis.n_internal
    dband = dband.astype(np.int8 if nd < 127 else np.int64)
    row_total = np.bincount(dband, minlength=nd).astype(np.int64)
    all_below = _pairs_below(np.sort(ts), t_axis.internal)
    all_by_time = np.diff(all_below)
    t_edges = np.ascontiguousarray(t_axis.internal)
    integral = bool(np.all(ts == np.round(ts))) and (ts.size == 0 or np.abs(ts).max() < 2**30)
    if integral:  # day-resolution dates: int32 dates and integer edges (ceil: dt < b <=> dt < ceil(b) for integers)
        to = to.astype(np.int32)
        t_edges = np.ceil(t_edges)

    def full(close: NDArray[np.int64]) -> NDArray[np.int64]:
        """(R, nd + 1, nt + 1) tables from the close pairs' finite cells, by the fixed totals."""
        r = close.shape[0]
        f = np.zeros((r, nd + 1, nt + 1), dtype=np.int64)
        f[:, :nd, :nt] = close
        f[:, :nd, nt] = row_total - close.sum(axis=2)
        f[:, nd, :nt] = all_by_time - close.sum(axis=1)
        f[:, nd, nt] = n_pairs - f[:, :, :].sum(axis=(1, 2))
        rows, cols = d_axis.select(), t_axis.select()
        return f[:, rows][:, :, cols]

    observed = full(_count(use, np.ascontiguousarray(to[None, :, None]), indptr, nbr, dband, t_edges, nd))[0]
    shape = observed.shape
    ref = np.zeros((permutations, *shape), dtype=np.int64)
    fast = _numba_available()  # the draws do not depend on the counting engine: both engines give one answer
    for start in range(0, permutations, _BLOCK):
        stop = min(start + _BLOCK, permutations)
        tgroups = _draw(to, gen, stop - start, fast)
        ref[start:stop] = full(_count(use, tgroups, indptr, nbr, dband, t_edges, nd))[: stop - start]
    with np.errstate(invalid="ignore", divide="ignore"):
        if permutations:
            expected = ref.mean(axis=0)
            expected_median = np.median(ref, axis=0)
            flat = ref.reshape(permutations, -1).T
            pvalues = pvalues_from_reference(observed.ravel(), flat, alternative).reshape(shape)
        else:
            expected = np.full(shape, np.nan)
            expected_median = np.full(shape, np.nan)
            pvalues = np.full(shape, np.nan)
        ratio = np.where(expected > 0, observed / expected, np.nan)
        ratio_median = np.where(expected_median > 0, observed / expected_median, np.nan)
    params = {
        "distance_bands": list(d_axis.edges),
        "time_bands": list(t_axis.edges),
        "metric": metric,
        "convention": convention,
        "permutations": permutations,
        "alternative": alternative,
        "rng": description,
    }
    return KnoxResult(
        distance_edges=d_axis.edges,
        time_edges=t_axis.edges,
        convention=convention,
        metric=metric,
        alternative=alternative,
        n_events=n,
        n_pairs=n_pairs,
        permutations=permutations,
        observed=observed,
        expected=expected,
        expected_median=expected_median,
        ratio=ratio,
        ratio_median=ratio_median,
        pvalues=pvalues,
        pvalues_fdr=fdr_bh(pvalues.ravel()).reshape(shape),
        engine=use,
        close_pairs=int(pi.shape[0]),
        provenance=stamp("safercities.stats.nearrepeat.knox", params, xs, ys, ts),
    )


# -- near-repeat roles and repeat victimisation ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class NearRepeatEvents:
    """Each event's role and the repeat-victimisation figures (see :func:`near_repeat_events`)."""

    role: NDArray[np.str_]
    """"repeat", "near-repeat", "originator" or "isolated", one per event, in input order."""
    predecessor: NDArray[np.int64]
    """The earliest earlier event that makes this one a (near-)repeat; -1 when none."""
    followers: NDArray[np.int64]
    """How many later events are (near-)repeats of this one."""
    chain: NDArray[np.int64]
    """Chains: events linked by (near-)repeat pairs share a chain id; an isolated event has its own."""
    location: NDArray[np.int64]
    """Location id (same coordinates within the tolerance)."""
    time_to_repeat: NDArray[np.float64]
    """Days between consecutive events at the same location (every repeat, whatever its delay)."""
    distance: float
    days: float
    tolerance: float
    metric: str
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_locations(self) -> int:
        """Distinct locations."""
        return int(self.location.max()) + 1 if self.location.size else 0

    @property
    def repeat_locations(self) -> int:
        """Locations with two or more events."""
        return int((np.bincount(self.location) >= 2).sum()) if self.location.size else 0

    @property
    def repeats(self) -> int:
        """Events that follow an earlier event at the same location (any delay)."""
        return int(self.time_to_repeat.size)

    def counts(self) -> dict[str, int]:
        """Events per role."""
        return {k: int((self.role == k).sum()) for k in ("originator", "repeat", "near-repeat", "isolated")}

    def time_to_repeat_table(self, bins: Sequence[float] = (0, 7, 14, 30, 91, 182, 365, math.inf)) -> Any:
        """The time-to-repeat distribution over half-open day bins [a, b)."""
        import pandas as pd

        b = np.asarray(bins, dtype=np.float64)
        if b.size < 2 or bool(np.any(np.diff(b) <= 0)):
            raise InputError(f"time_to_repeat_table needs increasing bins. Got {list(bins)!r} instead.")
        k = np.searchsorted(b, self.time_to_repeat, side="right") - 1
        k = k[(k >= 0) & (k < b.size - 1)]  # half-open [a, b): delays at or beyond a finite last edge drop out
        counts = np.bincount(k, minlength=b.size - 1)
        total = max(int(counts.sum()), 1)
        return pd.DataFrame({"days": _interval_labels(b), "repeats": counts, "share": counts / total})

    def to_frame(self) -> Any:
        """One row per event (input order): role, predecessor, followers, chain, location."""
        import pandas as pd

        return pd.DataFrame(
            {
                "role": self.role,
                "predecessor": self.predecessor,
                "followers": self.followers,
                "chain": self.chain,
                "location": self.location,
            }
        )

    def summary(self) -> str:
        """Counts per role and the repeat-victimisation figures."""
        c = self.counts()
        ttr = self.time_to_repeat
        med = f"{np.median(ttr):g}" if ttr.size else "—"
        return "\n".join(
            [
                f"near repeats within {self.distance:g} m ({self.metric}) and {self.days:g} days: "
                + ", ".join(f"{v} {k}" for k, v in c.items()),
                f"repeat victimisation (same location within {self.tolerance:g} m): {self.repeats} repeats at "
                f"{self.repeat_locations} of {self.n_locations} locations; median time to repeat {med} days",
            ]
        )


def _components(n: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.int64]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n, n))
    labels = connected_components(graph, directed=False)[1]
    # number the components by their first event, so that ids do not depend on scipy's internals
    first = np.full(labels.max() + 1 if n else 0, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return np.asarray(rank[labels], dtype=np.int64)


def near_repeat_events(
    x: ArrayLike,
    y: ArrayLike,
    t_days: ArrayLike,
    *,
    distance: float,
    days: float,
    metric: str = "euclidean",
    tolerance: float = 0.5,
) -> NearRepeatEvents:
    """Label each event as a repeat, near-repeat, originator or isolated, and measure repeat victimisation.

    Event j *follows* event i when i is earlier (``t_i < t_j``; for equal dates the one earlier in the
    input). j is a **repeat** when it follows an event at the same location (distance <= ``tolerance``)
    fewer than ``days`` days before; a **near-repeat** when it follows an event closer than
    ``distance`` metres fewer than ``days`` days before (and is not a repeat); an **originator** when it
    is neither but has followers; otherwise **isolated**. Repeat victimisation: locations are events
    within ``tolerance`` of each other (linked), and every later event at a location is a repeat there,
    whatever the delay; ``time_to_repeat`` holds the delays between consecutive events at a location.
    """
    check_choice("metric", metric, METRICS, "near_repeat_events")
    xs, ys, ts = _as_events(x, y, t_days, "near_repeat_events")
    for name, value in (("distance", distance), ("days", days)):
        if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
            raise InputError(f"The '{name}' parameter of near_repeat_events must be a positive number. "
                             f"Got {value!r} instead.")  # fmt: skip
    if not (isinstance(tolerance, int | float) and 0 <= tolerance < distance):
        raise InputError(f"The 'tolerance' parameter of near_repeat_events must be >= 0 and below distance. "
                         f"Got {tolerance!r} instead.")  # fmt: skip
    n = xs.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), ts))] = np.arange(n)  # time order, ties by input order
    i, j, d = close_pairs(xs, ys, float(distance), metric)
    early = np.where(rank[i] < rank[j], i, j)
    late = np.where(rank[i] < rank[j], j, i)
    dt = ts[late] - ts[early]
    link = dt < days
    same = d <= tolerance
    # locations: same spot within the tolerance, any delay
    loc = _components(n, i[same], j[same])
    by_loc = np.lexsort((rank, loc))
    gaps_ok = loc[by_loc][1:] == loc[by_loc][:-1]
    time_to_repeat = (ts[by_loc][1:] - ts[by_loc][:-1])[gaps_ok]
    e, lt, sm = early[link], late[link], same[link]
    role = np.full(n, "isolated", dtype=object)
    followers = np.bincount(e, minlength=n).astype(np.int64)
    predecessor = np.full(n, -1, dtype=np.int64)
    if e.size:
        # the earliest predecessor: order links by (late, rank of early) and take each late event's first
        o = np.lexsort((rank[e], lt))
        first = np.r_[True, lt[o][1:] != lt[o][:-1]]
        predecessor[lt[o][first]] = e[o][first]
    role[followers > 0] = "originator"
    role[np.unique(lt)] = "near-repeat"
    role[np.unique(lt[sm])] = "repeat"
    chain = _components(n, e, lt)
    params = {"distance": distance, "days": days, "metric": metric, "tolerance": tolerance}
    return NearRepeatEvents(
        role=np.asarray(role, dtype=str),
        predecessor=predecessor,
        followers=followers,
        chain=chain,
        location=loc,
        time_to_repeat=np.asarray(time_to_repeat, dtype=np.float64),
        distance=float(distance),
        days=float(days),
        tolerance=float(tolerance),
        metric=metric,
        provenance=stamp("safercities.stats.nearrepeat.near_repeat_events", params, xs, ys, ts),
    )
