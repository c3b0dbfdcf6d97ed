"""Place-based forecasting: a self-exciting point process fitted by EM, prospective hotspots, evaluation, bias audit.

**The model** (Mohler et al. 2011, with a parametric trigger). Events at places ``(x, y)`` (metres) and times
``t`` (days) have the conditional intensity

``lambda(t, x, y) = mu * nu(x, y) + sum_{t_j < t} theta * omega * exp(-omega (t - t_j)) * exp(-d_j^2 / (2 sigma^2)) /
(2 pi sigma^2)``

* ``mu`` is the background rate (events per day) and ``nu`` a fixed spatial density on a grid (it sums to 1 over
  the grid): stationary in time (no season, no trend; a seasonal city puts its cycle into ``mu``'s average). It is
  ``"kde"`` (a fixed-bandwidth Gaussian KDE of all the events), ``"grid"`` (events per cell, constant within a
  cell) or ``"uniform"`` (``1 / region_area``). It is estimated once, from all events, and not re-weighted by the
  EM (Mohler's stochastic declustering re-weights it; a fixed one keeps each iteration O(pairs)). A KDE of all
  events includes the triggered ones: keep its bandwidth several times ``sigma`` so that it does not soak them up.
* ``theta`` is the branching ratio (expected direct offspring per event), ``1 / omega`` the mean delay (days) and
  ``sigma`` the spatial sd per axis (metres) of the trigger.
* Only strictly earlier events can be parents: two events at the same moment never trigger each other.

**The EM.** E-step: each event's probability of being background, ``mu nu_i / lambda_i``, and of being the child
of each earlier event ``j``, ``g_ij / lambda_i``. M-step (closed form): ``mu = sum p_ii / T``;
``sigma^2 = sum p_ij d_ij^2 / (2 sum p_ij)``; ``theta = sum p_ij / sum_j (1 - exp(-omega (T_end - t_j)))`` and
``omega`` the root of the profile score (a fixed-point, a few O(n) steps) so that the offspring that the end of the
period cuts off are accounted for (``edge_correction=False``: ``theta = sum p_ij / n``, ``omega = sum p_ij /
sum p_ij dt_ij``). Spatial edges are not corrected: the trigger's mass beyond the study area is counted as inside.
The log-likelihood is ``sum log lambda_i - mu T - theta sum_j (1 - exp(-omega (T_end - t_j)))``.
Convergence: every parameter changes by less than ``tol`` (relative) in one iteration.

**Sparse and exact.** ``method="sparse"`` finds, once, every pair with ``0 < dt <= time_cutoff`` and
``distance <= space_cutoff`` (a grid of ``space_cutoff`` cells with the events sorted by cell and time; a numba
kernel cached to disk, or a cKDTree on ``(x, y, scaled t)`` with ``engine="numpy"``), then each iteration is
O(pairs). Pairs beyond the cutoffs are dropped: ``truncated_mass`` reports the fitted trigger's mass beyond them,
which should be small (say < 1e-3). ``method="exact"`` sums over every earlier event, O(n^2) per iteration: the
reference. With cutoffs that hold every pair, the two agree to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice
from safercities.stats.provenance import stamp

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

METHODS = ("sparse", "exact")
ENGINES = ("auto", "numba", "numpy")
BACKGROUNDS = ("kde", "grid", "uniform")
DEFAULT_COVERAGE = (0.01, 0.02, 0.05, 0.10, 0.20)
MAX_BACKGROUND_CELLS = 4_000_000
OMEGA_STEPS = 50
"""Fixed-point steps for ``omega`` in one M-step (each O(n)); it converges in a handful."""
NUMPY_PAIRS_LIMIT = 50_000_000
"""The numpy engine refuses more candidate pairs than this (memory); the numba engine has no such limit."""
_WHERE = "fit_self_exciting"


# ------------------------------------------------------------------------------------------------ checks


def _number(name: str, value: object, where: str, *, low: float = 0.0, strict: bool = True) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    ok = math.isfinite(v) and (v > low if strict else v >= low) and not isinstance(value, bool)
    if not ok:
        bound = f"> {low:g}" if strict else f">= {low:g}"
        raise InputError(f"The '{name}' parameter of {where} must be a finite number {bound}. Got {value!r} instead.")
    return v


def _events(x: ArrayLike, y: ArrayLike, t: ArrayLike, where: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    xa = np.asarray(x, dtype=np.float64).ravel()
    ya = np.asarray(y, dtype=np.float64).ravel()
    ta = np.asarray(t, dtype=np.float64).ravel()
    if not (xa.size == ya.size == ta.size):
        raise InputError(f"{where}: x, y and t_days must have one length. Got {xa.size}, {ya.size}, {ta.size}.")
    if xa.size == 0:
        raise InputError(f"{where}: no events: a self-exciting model needs at least one event in a period")
    bad = ~(np.isfinite(xa) & np.isfinite(ya) & np.isfinite(ta))
    if bad.any():
        raise InputError(
            f"{where}: {int(bad.sum()):,} events have a missing or infinite place or time (the first at position "
            f"{int(np.argmax(bad))})",
            hint="drop or geocode them first",
        )
    return xa, ya, ta


# ------------------------------------------------------------------------------------------------ results


@dataclass(frozen=True, eq=False)
class SelfExcitingFit:
    """A fitted space-time self-exciting point process (see the module docstring for the model)."""

    theta: float
    """Branching ratio: expected direct offspring per event."""
    omega: float
    """Temporal decay, per day (mean delay ``1 / omega`` days)."""
    sigma: float
    """Spatial sd of the trigger per axis (metres)."""
    mu: float
    """Background rate, events per day over the study area."""
    loglik: float
    iterations: int
    converged: bool
    method: str
    n_events: int
    n_pairs: int
    """Candidate parent-child pairs (sparse), or n(n-1)/2 (exact)."""
    period: tuple[float, float]
    time_cutoff: float
    space_cutoff: float
    truncated_mass: float
    """The fitted trigger's mass beyond the cutoffs (0 for the exact method)."""
    background: str
    background_grid: FloatArray
    """(ny, nx) background probability per cell (sums to 1)."""
    grid_origin: tuple[float, float]
    cell_size: float
    background_probability: FloatArray
    """Per event (input order): the probability that it is a background event."""
    x: FloatArray
    y: FloatArray
    t: FloatArray
    pairs: pd.DataFrame | None = None
    """With ``keep_pairs=True`` (sparse): ``child``, ``parent`` (input positions) and ``probability``."""
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_delay_days(self) -> float:
        return 1.0 / self.omega

    @property
    def triggered_share(self) -> float:
        """The expected share of events that were triggered (1 - mean background probability)."""
        return float(1.0 - self.background_probability.mean())

    def background_at(self, x: ArrayLike, y: ArrayLike) -> FloatArray:
        """The background density ``nu`` (per m²) at points: that of the background cell they fall in (0 outside)."""
        return _grid_lookup(self.background_grid, self.grid_origin, self.cell_size, x, y) / self.cell_size**2

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter: ``parameter``, ``value``, ``unit``, ``meaning``."""
        rows = [
            ("theta", self.theta, "", "branching ratio (direct offspring per event)"),
            ("omega", self.omega, "1/day", "temporal decay"),
            ("mean_delay", self.mean_delay_days, "day", "1 / omega"),
            ("sigma", self.sigma, "m", "spatial sd of the trigger per axis"),
            ("mu", self.mu, "events/day", "background rate over the study area"),
            ("loglik", self.loglik, "", "log-likelihood at the estimates"),
            ("triggered_share", self.triggered_share, "", "expected share of triggered events"),
        ]
        return pd.DataFrame(rows, columns=["parameter", "value", "unit", "meaning"])

    def summary(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        lines = [
            f"Self-exciting point process ({self.method} EM, {state} after {self.iterations} iterations)",
            f"  events: {self.n_events:,} over {self.period[1] - self.period[0]:,.6g} days; "
            f"candidate pairs {self.n_pairs:,}",
            f"  background: {self.background}, mu = {self.mu:.6g} events/day",
            f"  trigger: theta = {self.theta:.4f}, mean delay 1/omega = {self.mean_delay_days:.4g} days, "
            f"sigma = {self.sigma:.4g} m",
            f"  log-likelihood {self.loglik:.6f}; expected triggered share {self.triggered_share:.3f}",
        ]
        if self.method == "sparse":
            warn = "  (large: widen the cutoffs)" if self.truncated_mass > 1e-3 else ""
            lines.append(
                f"  cutoffs: {self.time_cutoff:g} days, {self.space_cutoff:g} m; trigger mass beyond them "
                f"{self.truncated_mass:.2e}{warn}"
            )
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class PlaceSurface:
    """Expected counts (or a risk score) per grid cell: a forecast for places, never for people."""

    values: FloatArray
    """(ny, nx), row 0 southernmost."""
    x: FloatArray
    y: FloatArray
    cell_size: float
    method: str
    at_time: float
    horizon_days: float
    background: FloatArray | None = None
    triggered: FloatArray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> tuple[float, float]:
        return float(self.x[0] - self.cell_size / 2), float(self.y[0] - self.cell_size / 2)

    def count(self, x: ArrayLike, y: ArrayLike) -> IntArray:
        """Events per cell of this surface's grid ((ny, nx); points outside the grid are not counted)."""
        xa, ya = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
        ny, nx = self.values.shape
        x0, y0 = self.origin
        col = np.floor((xa - x0) / self.cell_size).astype(np.int64)
        row = np.floor((ya - y0) / self.cell_size).astype(np.int64)
        ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        return np.bincount(row[ok] * nx + col[ok], minlength=nx * ny).reshape(ny, nx).astype(np.int64)

    def by_area(self, labels: ArrayLike) -> pd.Series:
        """Values summed by an area label per cell ((ny, nx) or flat; negative or missing labels are left out)."""
        lab = pd.Series(np.asarray(labels).ravel())
        if lab.size != self.values.size:
            raise InputError(f"by_area: labels must have one value per cell ({self.values.size}). Got {lab.size}.")
        keep = lab.notna().to_numpy().copy()
        if pd.api.types.is_numeric_dtype(lab):
            keep &= lab.to_numpy(dtype=np.float64, na_value=-1.0) >= 0
        values = pd.Series(self.values.ravel()[keep])
        return values.groupby(lab[keep].to_numpy()).sum().rename("forecast")

    def to_frame(self) -> pd.DataFrame:
        ny, nx = self.values.shape
        rows, cols = np.divmod(np.arange(ny * nx), nx)
        frame = pd.DataFrame({"row": rows, "col": cols, "x": self.x[cols], "y": self.y[rows]})
        frame["value"] = self.values.ravel()
        if self.background is not None and self.triggered is not None:
            frame["background"] = self.background.ravel()
            frame["triggered"] = self.triggered.ravel()
        return frame

    def summary(self) -> str:
        ny, nx = self.values.shape
        j, i = np.unravel_index(int(np.argmax(self.values)), self.values.shape)
        what = "expected events" if self.method == "self_exciting" else "prospective risk score"
        lines = [
            f"{self.method} forecast for places: {nx} x {ny} cells of {self.cell_size:g} m, "
            f"from day {self.at_time:g} for {self.horizon_days:g} days",
            f"  {what}: total {self.values.sum():.6g}, max {self.values.max():.6g} "
            f"at ({self.x[i]:.6g}, {self.y[j]:.6g})",
        ]
        if self.triggered is not None and self.background is not None:
            lines.append(f"  of which background {self.background.sum():.6g}, triggered {self.triggered.sum():.6g}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ background


def _grid_lookup(grid: FloatArray, origin: tuple[float, float], cell: float, x: ArrayLike, y: ArrayLike) -> FloatArray:
    xa, ya = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
    ny, nx = grid.shape
    col = np.floor((xa - origin[0]) / cell).astype(np.int64)
    row = np.floor((ya - origin[1]) / cell).astype(np.int64)
    ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    out = np.zeros(xa.size)
    out[ok] = grid[row[ok], col[ok]]
    return out


def _background(
    x: FloatArray,
    y: FloatArray,
    kind: str,
    cell_size: float | None,
    bandwidth: float | str,
    bounds: Sequence[float] | None,
    region_area: float | None,
) -> tuple[FloatArray, tuple[float, float], float]:
    """(background share per cell, origin, cell size); the shares sum to 1 (``uniform`` with ``region_area``:
    each cell holds ``cell² / region_area``, so that ``nu = 1 / region_area`` per m²)."""
    if bounds is None:
        xmin, ymin, xmax, ymax = float(x.min()), float(y.min()), float(x.max()), float(y.max())
    else:
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        if not (xmax > xmin and ymax > ymin):
            raise InputError(f"The 'bounds' parameter of {_WHERE} must be (xmin, ymin, xmax, ymax). Got {bounds!r}.")
    if kind == "kde" and not isinstance(bandwidth, str):
        h = _number("bandwidth", bandwidth, _WHERE)
    elif kind == "kde" and isinstance(bandwidth, str):
        from safercities.stats.kde import select_bandwidth

        h = select_bandwidth(x, y, bandwidth, "gaussian") if x.size >= 2 else 500.0
    else:
        h = 0.0
    if cell_size is None:
        extent = max(xmax - xmin, ymax - ymin, 1.0)
        cell = max(h / 2 if kind == "kde" else extent / 50, extent / 1000, 1.0)
    else:
        cell = _number("cell_size", cell_size, _WHERE)
    x0, y0 = math.floor(xmin / cell) * cell, math.floor(ymin / cell) * cell
    nx, ny = max(1, math.ceil((xmax - x0) / cell + 1e-9)), max(1, math.ceil((ymax - y0) / cell + 1e-9))
    if (xmax - x0) / cell == nx:
        nx += 1
    if (ymax - y0) / cell == ny:
        ny += 1
    if nx * ny > MAX_BACKGROUND_CELLS:
        raise InputError(
            f"{_WHERE}: the background grid would have {nx * ny:,} cells of {cell:g} m",
            hint=f"pass a larger cell_size (at most {MAX_BACKGROUND_CELLS:,} cells)",
        )
    if kind == "uniform":
        grid = np.full((ny, nx), 1.0 / (nx * ny))
        if region_area is not None:
            grid = np.full((ny, nx), cell * cell / _number("region_area", region_area, _WHERE))
    elif kind == "grid":
        col = np.clip(np.floor((x - x0) / cell).astype(np.int64), 0, nx - 1)
        row = np.clip(np.floor((y - y0) / cell).astype(np.int64), 0, ny - 1)
        grid = np.bincount(row * nx + col, minlength=nx * ny).reshape(ny, nx) / x.size
    else:
        from safercities.stats.kde import kde

        surface = kde(x, y, cell_size=cell, bounds=(x0, y0, x0 + nx * cell, y0 + ny * cell), bandwidth=h,
                      kernel="gaussian", method="auto")  # fmt: skip
        grid = np.clip(surface.values[:ny, :nx], 0.0, None)
        grid = grid / grid.sum()
    return np.asarray(grid, np.float64), (x0, y0), cell


# ------------------------------------------------------------------------------------------------ pairs


def _pairs_numpy(
    x: FloatArray, y: FloatArray, t: FloatArray, time_cutoff: float, space_cutoff: float
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """(indptr by child, parent, dt, d2) with a cKDTree on (x, y, t scaled to metres), Chebyshev distance."""
    from scipy.spatial import cKDTree

    scale = space_cutoff / time_cutoff
    tree = cKDTree(np.column_stack([x, y, t * scale]))
    pairs = tree.query_pairs(space_cutoff * (1 + 1e-12), p=np.inf, output_type="ndarray").astype(np.int64)
    if pairs.shape[0] > NUMPY_PAIRS_LIMIT:
        raise InputError(f"{_WHERE}: {pairs.shape[0]:,} candidate pairs is too many for engine='numpy'",
                         hint="use engine='numba' or smaller cutoffs")  # fmt: skip
    a, b = pairs[:, 0], pairs[:, 1]
    later = t[a] > t[b]
    child, parent = np.where(later, a, b), np.where(later, b, a)
    dt = t[child] - t[parent]
    d2 = (x[child] - x[parent]) ** 2 + (y[child] - y[parent]) ** 2
    keep = (dt > 0) & (dt <= time_cutoff) & (d2 <= space_cutoff * space_cutoff)
    child, parent, dt, d2 = child[keep], parent[keep], dt[keep], d2[keep]
    order = np.lexsort((parent, child))
    indptr = np.zeros(t.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(child, minlength=t.size), out=indptr[1:])
    return indptr, parent[order], dt[order], d2[order]


def _pairs_numba(
    x: FloatArray, y: FloatArray, t: FloatArray, time_cutoff: float, space_cutoff: float
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """The same pairs from a grid of space_cutoff cells: events copied in (cell, time) order so that each child
    scans the time window of its 9 neighbouring cells contiguously."""
    cx = np.floor((x - x.min()) / space_cutoff).astype(np.int64)
    cy = np.floor((y - y.min()) / space_cutoff).astype(np.int64)
    width = int(cx.max()) + 3
    key = (cy + 1) * width + cx + 1
    order = np.lexsort((t, key)).astype(np.int64)
    keys, starts = np.unique(key[order], return_index=True)
    bounds = np.append(starts, order.size).astype(np.int64)
    xs, ys, ts, ks = x[order], y[order], t[order], key[order]
    args = (xs, ys, ts, ks, order, width, keys, bounds, time_cutoff, space_cutoff * space_cutoff)
    counts = np.zeros(t.size, dtype=np.int64)
    counts[order] = _kernel("_count_pairs")(*args)
    indptr = np.zeros(t.size + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    parent = np.empty(int(indptr[-1]), dtype=np.int64)
    dt = np.empty(int(indptr[-1]))
    d2 = np.empty(int(indptr[-1]))
    _kernel("_fill_pairs")(*args, indptr, parent, dt, d2)
    return indptr, parent, dt, d2


# ------------------------------------------------------------------------------------------------ numba kernels
# Plain Python compiled on first use with numba.njit(cache=True); importing this module does not import numba.


def _count_pairs(xs, ys, ts, ks, order, width, keys, bounds, tcut, d2cut):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = xs.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    for c in range(n):  # children in (cell, time) order: neighbouring blocks stay in the CPU cache
        for oy in range(-1, 2):
            for ox in range(-1, 2):
                k = ks[c] + oy * width + ox
                b = np.searchsorted(keys, k)
                if b >= keys.shape[0] or keys[b] != k:
                    continue
                lo, hi = bounds[b], bounds[b + 1]
                for m in range(lo + np.searchsorted(ts[lo:hi], ts[c] - tcut), hi):  # the block is sorted by time
                    dt = ts[c] - ts[m]
                    if dt <= 0.0:
                        break
                    dx = xs[c] - xs[m]
                    dy = ys[c] - ys[m]
                    if dx * dx + dy * dy <= d2cut:
                        counts[c] += 1
    return counts


def _fill_pairs(xs, ys, ts, ks, order, width, keys, bounds, tcut, d2cut, indptr, parent, dtv, d2v):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = xs.shape[0]
    for c in range(n):
        i = order[c]
        start = indptr[i]
        pos = start
        for oy in range(-1, 2):
            for ox in range(-1, 2):
                k = ks[c] + oy * width + ox
                b = np.searchsorted(keys, k)
                if b >= keys.shape[0] or keys[b] != k:
                    continue
                lo, hi = bounds[b], bounds[b + 1]
                for m in range(lo + np.searchsorted(ts[lo:hi], ts[c] - tcut), hi):  # the block is sorted by time
                    dt = ts[c] - ts[m]
                    if dt <= 0.0:
                        break
                    dx = xs[c] - xs[m]
                    dy = ys[c] - ys[m]
                    d2 = dx * dx + dy * dy
                    if d2 <= d2cut:
                        parent[pos] = order[m]
                        dtv[pos] = dt
                        d2v[pos] = d2
                        pos += 1
        # parents of one child in ascending order, so that sums do not depend on the grid's layout
        idx = np.argsort(parent[start:pos], kind="mergesort")
        parent[start:pos] = parent[start:pos][idx]
        dtv[start:pos] = dtv[start:pos][idx]
        d2v[start:pos] = d2v[start:pos][idx]


def _estep_sparse(indptr, dt, d2, bg, mu, theta, omega, sigma, scratch):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = bg.shape[0]
    c = theta * omega / (2.0 * np.pi * sigma * sigma)
    a = 1.0 / (2.0 * sigma * sigma)
    s = 0.0
    sdt = 0.0
    sd2 = 0.0
    sbg = 0.0
    logsum = 0.0
    for i in range(n):
        lo = indptr[i]
        m = indptr[i + 1] - lo
        lam_bg = mu * bg[i]
        lam = lam_bg
        for k in range(m):  # scratch holds one child's parents: it stays in the CPU cache
            g = c * np.exp(-omega * dt[lo + k] - a * d2[lo + k])
            scratch[k] = g
            lam += g
        if lam <= 0.0:
            logsum += -np.inf
            continue
        logsum += np.log(lam)
        inv = 1.0 / lam
        sbg += lam_bg * inv
        for k in range(m):
            p = scratch[k] * inv
            s += p
            sdt += p * dt[lo + k]
            sd2 += p * d2[lo + k]
    return s, sdt, sd2, sbg, logsum


def _estep_exact(x, y, t, bg, mu, theta, omega, sigma, scratch):  # type: ignore[no-untyped-def]  # pragma: no cover
    n = bg.shape[0]
    c = theta * omega / (2.0 * np.pi * sigma * sigma)
    a = 1.0 / (2.0 * sigma * sigma)
    s = 0.0
    sdt = 0.0
    sd2 = 0.0
    sbg = 0.0
    logsum = 0.0
    for i in range(n):
        lam_bg = mu * bg[i]
        lam = lam_bg
        for j in range(i):
            dt = t[i] - t[j]
            if dt > 0.0:
                dx = x[i] - x[j]
                dy = y[i] - y[j]
                g = c * np.exp(-omega * dt - a * (dx * dx + dy * dy))
            else:
                g = 0.0
            scratch[j] = g
            lam += g
        if lam <= 0.0:
            logsum += -np.inf
            continue
        logsum += np.log(lam)
        inv = 1.0 / lam
        sbg += lam_bg * inv
        for j in range(i):
            p = scratch[j] * inv
            if p > 0.0:
                dx = x[i] - x[j]
                dy = y[i] - y[j]
                s += p
                sdt += p * (t[i] - t[j])
                sd2 += p * (dx * dx + dy * dy)
    return s, sdt, sd2, sbg, logsum


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


def _estep_numpy(
    indptr: IntArray, dt: FloatArray, d2: FloatArray, bg: FloatArray, mu: float, theta: float, omega: float,
    sigma: float, child: IntArray,
) -> tuple[float, float, float, float, float]:  # fmt: skip
    """The sparse E-step in vectorised numpy (the reference for the numba kernel)."""
    g = theta * omega / (2 * np.pi * sigma * sigma) * np.exp(-omega * dt - d2 / (2 * sigma * sigma))
    lam_bg = mu * bg
    lam = lam_bg + np.bincount(child, weights=g, minlength=bg.size)
    with np.errstate(divide="ignore"):
        logsum = float(np.log(lam).sum())
    inv = np.divide(1.0, lam, out=np.zeros_like(lam), where=lam > 0)
    p = g * inv[child]
    return float(p.sum()), float(p @ dt), float(p @ d2), float((lam_bg * inv).sum()), logsum


# ------------------------------------------------------------------------------------------------ the fit


def fit_self_exciting(
    x: ArrayLike,
    y: ArrayLike,
    t_days: ArrayLike,
    *,
    background: str = "kde",
    region_area: float | None = None,
    cell_size: float | None = None,
    bandwidth: float | str = "silverman",
    bounds: Sequence[float] | None = None,
    period: tuple[float, float] | None = None,
    time_cutoff: float = 60.0,
    space_cutoff: float = 1000.0,
    method: str = "sparse",
    engine: str = "auto",
    init: tuple[float, float, float] | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    edge_correction: bool = True,
    keep_pairs: bool = False,
) -> SelfExcitingFit:
    """Fit the space-time self-exciting model by EM (see the module docstring).

    ``x``, ``y`` in metres (a projected CRS), ``t_days`` in days from any origin. ``period = (start, end)`` in the
    same days (default: the first and last event). ``init = (theta, omega, sigma)`` (default ``(0.5, 10 /
    time_cutoff, space_cutoff / 5)``). Places and times only: nothing about people goes in.
    """
    check_choice("method", method, METHODS, _WHERE)
    check_choice("engine", engine, ENGINES, _WHERE)
    check_choice("background", background, BACKGROUNDS, _WHERE)
    xa, ya, ta = _events(x, y, t_days, _WHERE)
    tcut = _number("time_cutoff", time_cutoff, _WHERE)
    dcut = _number("space_cutoff", space_cutoff, _WHERE)
    tol_v = _number("tol", tol, _WHERE)
    if not (isinstance(max_iter, int | np.integer) and not isinstance(max_iter, bool) and max_iter >= 1):
        raise InputError(f"The 'max_iter' parameter of {_WHERE} must be an integer >= 1. Got {max_iter!r} instead.")
    if period is None:
        start, end = float(ta.min()), float(ta.max())
    else:
        start, end = (float(v) for v in period)
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise InputError(
            f"{_WHERE}: the observation period ({start:g}, {end:g}) has no length",
            hint="pass period=(start, end) in days (one event, or events all at one moment, need it)",
        )
    if ta.min() < start or ta.max() > end:
        raise InputError(f"{_WHERE}: some events fall outside period=({start:g}, {end:g})")
    theta, omega, sigma = init if init is not None else (0.5, 10.0 / tcut, dcut / 5.0)
    theta = _number("init theta", theta, _WHERE, strict=False)
    omega, sigma = _number("init omega", omega, _WHERE), _number("init sigma", sigma, _WHERE)

    grid, origin, cell = _background(xa, ya, background, cell_size, bandwidth, bounds, region_area)
    # nu at each event, per m²: the cell's share of the background over the cell's area
    nu = _grid_lookup(grid, origin, cell, xa, ya) / (cell * cell)

    # work in time order (stable: ties keep input order)
    order = np.argsort(ta, kind="stable")
    xs, ys, ts, bg = (np.ascontiguousarray(v[order]) for v in (xa, ya, ta, nu))
    use_numba = engine == "numba" or (engine == "auto" and _numba_available())
    n = ts.size
    if method == "sparse":
        finder = _pairs_numba if use_numba else _pairs_numpy
        indptr, parent, dt, d2 = finder(xs, ys, ts, tcut, dcut)
        n_pairs = int(parent.size)
        child = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        scratch = np.empty(max(1, int(np.diff(indptr).max(initial=0))))
    else:
        n_pairs = n * (n - 1) // 2
        scratch = np.empty(n)
    tau = (end - ts) if edge_correction else None
    length = end - start

    def estep(mu: float, th: float, om: float, sg: float) -> tuple[float, float, float, float, float]:
        if method == "exact":
            if use_numba:
                return _kernel("_estep_exact")(xs, ys, ts, bg, mu, th, om, sg, scratch)  # type: ignore[no-any-return]
            return _estep_exact(xs, ys, ts, bg, mu, th, om, sg, scratch)  # type: ignore[no-any-return]
        if use_numba:
            return _kernel("_estep_sparse")(indptr, dt, d2, bg, mu, th, om, sg, scratch)  # type: ignore[no-any-return]
        return _estep_numpy(indptr, dt, d2, bg, mu, th, om, sg, child)

    mu = n * (1 - min(theta, 0.99)) / length
    converged, iterations = False, 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        s, sdt, sd2, sbg, _ = estep(mu, theta, omega, sigma)
        new_mu = sbg / length
        if s > 0:
            new_theta, new_omega = _mstep_theta_omega(s, sdt, tau, n, omega)
            new_sigma = math.sqrt(sd2 / (2 * s)) if sd2 > 0 else sigma
        else:
            new_theta, new_omega, new_sigma = 0.0, omega, sigma
        change = max(
            abs(new_mu - mu) / max(abs(mu), 1e-300),
            abs(new_theta - theta) / max(abs(theta), 1e-12),
            abs(new_omega - omega) / omega,
            abs(new_sigma - sigma) / sigma,
        )
        mu, theta, omega, sigma = new_mu, new_theta, new_omega, new_sigma
        if change < tol_v:
            converged = True
            break
    _, _, _, _, logsum = estep(mu, theta, omega, sigma)
    compensator = theta * (float(np.sum(-np.expm1(-omega * tau))) if tau is not None else n)
    loglik = logsum - mu * length - compensator

    # per-event background probabilities (and, on request, the pair probabilities) at the estimates
    c = theta * omega / (2 * np.pi * sigma * sigma)
    lam_bg = mu * bg
    pairs_frame = None
    if method == "sparse":
        g = c * np.exp(-omega * dt - d2 / (2 * sigma * sigma))
        lam = lam_bg + np.bincount(child, weights=g, minlength=n)
        if keep_pairs:
            p = g * np.divide(1.0, lam, out=np.zeros_like(lam), where=lam > 0)[child]
            pairs_frame = pd.DataFrame({"child": order[child], "parent": order[parent], "probability": p})
    else:
        lam = lam_bg + _exact_trigger_sum(xs, ys, ts, c, omega, sigma)
    p_bg_sorted = np.divide(lam_bg, lam, out=np.zeros_like(lam), where=lam > 0)
    p_bg = np.empty(n)
    p_bg[order] = p_bg_sorted
    truncated = 0.0
    if method == "sparse":
        truncated = 1.0 - (1.0 - math.exp(-omega * tcut)) * (1.0 - math.exp(-dcut * dcut / (2 * sigma * sigma)))
    return SelfExcitingFit(
        theta=float(theta), omega=float(omega), sigma=float(sigma), mu=float(mu), loglik=float(loglik),
        iterations=iterations, converged=converged, method=method, n_events=n, n_pairs=n_pairs,
        period=(start, end), time_cutoff=tcut, space_cutoff=dcut, truncated_mass=truncated,
        background=background, background_grid=grid, grid_origin=origin, cell_size=cell,
        background_probability=p_bg, x=xa, y=ya, t=ta, pairs=pairs_frame,
        provenance=stamp(
            "safercities.stats.forecast.fit_self_exciting",
            {"method": method, "engine": "numba" if use_numba else "numpy", "background": background,
             "region_area": region_area, "cell_size": cell, "bandwidth": bandwidth, "period": (start, end),
             "time_cutoff": tcut, "space_cutoff": dcut, "init": init, "max_iter": int(max_iter), "tol": tol_v,
             "edge_correction": edge_correction},
            xa, ya, ta,
        ),
    )  # fmt: skip


def _mstep_theta_omega(s: float, sdt: float, tau: FloatArray | None, n: int, omega: float) -> tuple[float, float]:
    """(theta, omega) maximising the expected complete log-likelihood; ``tau`` = T_end - t_j, descending (None: no
    edge correction). Only the events with ``omega tau < 36`` enter the sums: the others' terms are 1 and 0 to 3e-16.
    """
    w = s / sdt if sdt > 0 else omega
    if tau is None:
        return s / n, w
    for _ in range(OMEGA_STEPS):
        near = tau[int(np.searchsorted(-tau, -36.0 / w)) :]
        e = np.exp(-w * near)
        b = (tau.size - near.size) + float(np.sum(1.0 - e))
        new = s / (sdt + s * float(near @ e) / b)
        done = abs(new - w) <= 1e-13 * w
        w = new
        if done:
            break
    near = tau[int(np.searchsorted(-tau, -36.0 / w)) :]
    b = (tau.size - near.size) + float(np.sum(1.0 - np.exp(-w * near)))
    return s / b, w


def _exact_trigger_sum(x: FloatArray, y: FloatArray, t: FloatArray, c: float, omega: float, sigma: float) -> FloatArray:
    """Sum over earlier events of the trigger at each event, in blocks of rows (O(n^2) time, O(block n) memory)."""
    out = np.zeros(t.size)
    block = max(1, 2_000_000 // max(t.size, 1))
    for lo in range(0, t.size, block):
        hi = min(lo + block, t.size)
        dt = t[lo:hi, None] - t[None, :]
        d2 = (x[lo:hi, None] - x[None, :]) ** 2 + (y[lo:hi, None] - y[None, :]) ** 2
        g = np.where(dt > 0, c * np.exp(-omega * np.where(dt > 0, dt, 0.0) - d2 / (2 * sigma * sigma)), 0.0)
        out[lo:hi] = g.sum(axis=1)
    return out


# ------------------------------------------------------------------------------------------------ forecasts


def _target_grid(
    fit: SelfExcitingFit | None, cell_size: float | None, bounds: Sequence[float] | None, where: str
) -> tuple[float, float, int, int, float]:
    """(x0, y0, nx, ny, cell) of the output grid: given by bounds + cell_size, else the fit's background grid."""
    if bounds is None:
        if fit is None:
            raise InputError(f"{where}: pass bounds=(xmin, ymin, xmax, ymax) and cell_size")
        ny, nx = fit.background_grid.shape
        if cell_size is None or float(cell_size) == fit.cell_size:
            return fit.grid_origin[0], fit.grid_origin[1], nx, ny, fit.cell_size
        bounds = (fit.grid_origin[0], fit.grid_origin[1], fit.grid_origin[0] + nx * fit.cell_size,
                  fit.grid_origin[1] + ny * fit.cell_size)  # fmt: skip
    if cell_size is None:
        raise InputError(f"{where}: pass cell_size (metres) with bounds")
    cell = _number("cell_size", cell_size, where)
    xmin, ymin, xmax, ymax = (float(v) for v in bounds)
    if not (xmax > xmin and ymax > ymin):
        raise InputError(f"The 'bounds' parameter of {where} must be (xmin, ymin, xmax, ymax). Got {bounds!r}.")
    nx, ny = max(1, math.ceil((xmax - xmin) / cell - 1e-9)), max(1, math.ceil((ymax - ymin) / cell - 1e-9))
    if nx * ny > MAX_BACKGROUND_CELLS:
        raise InputError(f"{where}: {nx * ny:,} cells is too many", hint="pass a larger cell_size")
    return xmin, ymin, nx, ny, cell


def _axis(origin: float, cell: float, n: int, offset: float) -> FloatArray:
    """Cell centres (offset 0.5) or edges (offset 0) along one axis."""
    return np.asarray(origin + cell * (np.arange(n) + offset), dtype=np.float64)


def _gaussian_cell_mass(centre: FloatArray, edges: FloatArray, sigma: float) -> FloatArray:
    """(m, cells): the mass of N(centre, sigma²) in each interval between consecutive edges."""
    from scipy.special import ndtr

    cdf = ndtr((edges[None, :] - centre[:, None]) / sigma)
    return np.diff(cdf, axis=1)


def forecast(
    fit: SelfExcitingFit,
    *,
    at_time: float,
    horizon_days: float,
    cell_size: float | None = None,
    bounds: Sequence[float] | None = None,
    events: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None,
) -> PlaceSurface:
    """Expected events per grid cell in ``(at_time, at_time + horizon_days]``: background plus triggering.

    Background: ``mu * horizon * (the cell's background share)``. Triggering: each event ``j`` with ``t_j <=
    at_time`` (the fit's events, or ``events = (x, y, t_days)``: the history known at ``at_time``) adds
    ``theta (exp(-omega a_j) - exp(-omega (a_j + horizon)))`` (``a_j = at_time - t_j``) spread over the cells
    by the Gaussian trigger (exact cell integrals). Only the first generation of the known events is counted:
    offspring of events that happen within the horizon are not (a small share for horizons short next to
    ``1 / omega``). The grid is the fit's background grid, or ``bounds`` and ``cell_size``; aggregate cells to
    areas with :meth:`PlaceSurface.by_area`. Places and times only.
    """
    where = "forecast"
    at = float(at_time)
    if not math.isfinite(at):
        raise InputError(f"The 'at_time' parameter of {where} must be a finite number of days. Got {at_time!r}.")
    h = _number("horizon_days", horizon_days, where)
    x0, y0, nx, ny, cell = _target_grid(fit, cell_size, bounds, where)
    xc, yc = _axis(x0, cell, nx, 0.5), _axis(y0, cell, ny, 0.5)
    if (x0, y0, nx, ny, cell) == (*fit.grid_origin, fit.background_grid.shape[1], fit.background_grid.shape[0],
                                  fit.cell_size):  # fmt: skip
        share = fit.background_grid
    else:  # the fit's background density at the new cells' centres, times their area
        gx, gy = np.meshgrid(xc, yc)
        share = (fit.background_at(gx.ravel(), gy.ravel()) * cell * cell).reshape(ny, nx)
    background = fit.mu * h * share
    ex, ey, et = (fit.x, fit.y, fit.t) if events is None else _events(*events, where)
    age = at - et
    weight = fit.theta * (np.exp(-fit.omega * np.maximum(age, 0.0)) - np.exp(-fit.omega * (np.maximum(age, 0.0) + h)))
    keep = (age >= 0) & (weight > 1e-12 * max(float(weight.max(initial=0.0)), 1e-300))
    triggered = np.zeros((ny, nx))
    xe, ye = _axis(x0, cell, nx + 1, 0.0), _axis(y0, cell, ny + 1, 0.0)
    idx = np.flatnonzero(keep)
    for lo in range(0, idx.size, 4096):  # blocks of events: (m, ny) x (m, nx) matrix products
        sel = idx[lo : lo + 4096]
        mx = _gaussian_cell_mass(ex[sel], xe, fit.sigma)
        my = _gaussian_cell_mass(ey[sel], ye, fit.sigma)
        triggered += (my * weight[sel, None]).T @ mx
    return PlaceSurface(
        values=background + triggered, x=xc, y=yc, cell_size=cell, method="self_exciting", at_time=at,
        horizon_days=h, background=background, triggered=triggered,
        provenance=stamp("safercities.stats.forecast.forecast",
                         {"at_time": at, "horizon_days": h, "cell_size": cell, "origin": (x0, y0), "shape": (ny, nx),
                          "fit": fit.provenance.get("input_sha256")}, ex, ey, et),
    )  # fmt: skip


def prospective_hotspots(
    x: ArrayLike,
    y: ArrayLike,
    t_days: ArrayLike,
    *,
    at_time: float,
    cell_size: float,
    bounds: Sequence[float],
    bandwidth_m: float = 400.0,
    bandwidth_days: float = 56.0,
    horizon_days: float = 7.0,
) -> PlaceSurface:
    """Prospective hotspotting (Bowers, Johnson and Pease 2004): a space-time weighted count of recent events.

    Each event with ``at_time - bandwidth_days < t <= at_time`` within ``bandwidth_m`` of a cell's centre adds
    ``1 / (1 + cells) * 1 / (1 + weeks)`` to that cell: ``cells = round(distance / cell_size)`` and ``weeks =
    floor(age / 7)``. A relative risk score, not an expected count (``horizon_days`` is recorded, not used).
    """
    from scipy.spatial import cKDTree

    where = "prospective_hotspots"
    xa, ya, ta = _events(x, y, t_days, where)
    at = float(at_time)
    bw = _number("bandwidth_m", bandwidth_m, where)
    bd = _number("bandwidth_days", bandwidth_days, where)
    x0, y0, nx, ny, cell = _target_grid(None, cell_size, bounds, where)
    xc, yc = _axis(x0, cell, nx, 0.5), _axis(y0, cell, ny, 0.5)
    age = at - ta
    recent = np.flatnonzero((age >= 0) & (age < bd))
    values = np.zeros(ny * nx)
    if recent.size:
        gx, gy = np.meshgrid(xc, yc)
        tree = cKDTree(np.column_stack([gx.ravel(), gy.ravel()]))
        hits = tree.query_ball_point(np.column_stack([xa[recent], ya[recent]]), r=bw)
        sizes = np.fromiter((len(a) for a in hits), dtype=np.int64, count=len(hits))
        if sizes.sum():
            cells = np.concatenate([np.asarray(a, dtype=np.int64) for a in hits])
            ev = np.repeat(recent, sizes)
            dist = np.hypot(gx.ravel()[cells] - xa[ev], gy.ravel()[cells] - ya[ev])
            w = 1.0 / (1.0 + np.round(dist / cell)) / (1.0 + np.floor(age[ev] / 7.0))
            values = np.asarray(np.bincount(cells, weights=w, minlength=ny * nx), dtype=np.float64)
    return PlaceSurface(
        values=values.reshape(ny, nx), x=xc, y=yc, cell_size=cell, method="prospective", at_time=at,
        horizon_days=_number("horizon_days", horizon_days, where),
        provenance=stamp("safercities.stats.forecast.prospective_hotspots",
                         {"at_time": at, "cell_size": cell, "origin": (x0, y0), "shape": (ny, nx),
                          "bandwidth_m": bw, "bandwidth_days": bd}, xa, ya, ta),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------ evaluation


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Hit rate and PAI of a forecast and of the naive baseline (last period's hotspots) at chosen coverages."""

    coverage: FloatArray
    """Share of the study area flagged (the top cells)."""
    hit_rate: FloatArray
    pai: FloatArray
    baseline_hit_rate: FloatArray
    baseline_pai: FloatArray
    n_cells: int
    n_observed: int
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "coverage": self.coverage, "hit_rate": self.hit_rate, "pai": self.pai,
            "baseline_hit_rate": self.baseline_hit_rate, "baseline_pai": self.baseline_pai,
            "beats_baseline": self.hit_rate > self.baseline_hit_rate,
        })  # fmt: skip

    def summary(self) -> str:
        lines = [f"Forecast evaluation: {self.n_observed:,} events in the test period over {self.n_cells:,} places"]
        for c, h, p, bh, bp in zip(self.coverage, self.hit_rate, self.pai, self.baseline_hit_rate,
                                   self.baseline_pai, strict=True):  # fmt: skip
            lines.append(f"  top {c:.0%} of the area: hit rate {h:.3f} (PAI {p:.2f}); "
                         f"last period's hotspots {bh:.3f} (PAI {bp:.2f})")  # fmt: skip
        return "\n".join(lines)


def _hits(score: FloatArray, observed: FloatArray, area: FloatArray, coverage: float) -> tuple[float, float]:
    """(events captured, area flagged) by the top cells of ``score`` up to ``coverage`` of the area; ties at the
    threshold are included in part (the expectation under a random order of tied cells)."""
    total_area = float(area.sum())
    target = coverage * total_area
    values, inverse = np.unique(-score, return_inverse=True)  # distinct scores, highest first
    group_area = np.bincount(inverse, weights=area, minlength=values.size)
    group_obs = np.bincount(inverse, weights=observed, minlength=values.size)
    cum_area = np.cumsum(group_area)
    g = int(np.searchsorted(cum_area, target * (1 - 1e-12)))
    g = min(g, values.size - 1)
    before_area = float(cum_area[g - 1]) if g > 0 else 0.0
    before_obs = float(group_obs[:g].sum())
    frac = (target - before_area) / float(group_area[g]) if group_area[g] > 0 else 0.0
    frac = min(max(frac, 0.0), 1.0)
    return before_obs + frac * float(group_obs[g]), before_area + frac * float(group_area[g])


def evaluate(
    forecast_surface: PlaceSurface | ArrayLike,
    observed_counts: ArrayLike,
    *,
    previous_counts: ArrayLike,
    coverage: Sequence[float] = DEFAULT_COVERAGE,
    cell_area: ArrayLike | None = None,
) -> Evaluation:
    """Hit rate and PAI out of sample, for the forecast and for "last period's hotspots" (``previous_counts``).

    Flag the places with the highest forecast until ``coverage`` of the area is flagged (ties at the threshold
    count in part); hit rate = share of the test period's events (``observed_counts``) in them; PAI = hit rate /
    area share (Chainey, Tompson and Uhlig 2008). ``cell_area`` per place (default: equal cells).
    """
    where = "evaluate"
    score = np.asarray(forecast_surface.values if isinstance(forecast_surface, PlaceSurface) else forecast_surface,
                       dtype=np.float64).ravel()  # fmt: skip
    obs = np.asarray(observed_counts, dtype=np.float64).ravel()
    prev = np.asarray(previous_counts, dtype=np.float64).ravel()
    area = np.ones(score.size) if cell_area is None else np.asarray(cell_area, dtype=np.float64).ravel()
    if not (score.size == obs.size == prev.size == area.size) or score.size == 0:
        raise InputError(f"{where}: the forecast, observed_counts, previous_counts (and cell_area) must have one "
                         f"value per place. Got {score.size}, {obs.size}, {prev.size}, {area.size}.")  # fmt: skip
    for name, v in (("forecast", score), ("observed_counts", obs), ("previous_counts", prev), ("cell_area", area)):
        if not np.isfinite(v).all() or (name != "forecast" and (v < 0).any()):
            raise InputError(f"{where}: {name} must be finite" + ("" if name == "forecast" else " and >= 0"))
    if area.sum() <= 0:
        raise InputError(f"{where}: cell_area sums to zero")
    n_obs = float(obs.sum())
    if n_obs <= 0:
        raise InputError(f"{where}: no events in the test period (observed_counts sum to 0): nothing to hit")
    cov = np.asarray(coverage, dtype=np.float64).ravel()
    if cov.size == 0 or not ((cov > 0) & (cov <= 1)).all():
        raise InputError(f"The 'coverage' parameter of {where} must be shares in (0, 1]. Got {coverage!r} instead.")
    total_area = float(area.sum())
    out = np.zeros((4, cov.size))
    for k, c in enumerate(cov):
        for row, s in ((0, score), (2, prev)):
            hits, flagged = _hits(s, obs, area, float(c))
            out[row, k] = hits / n_obs
            out[row + 1, k] = out[row, k] / (flagged / total_area)
    return Evaluation(
        coverage=cov, hit_rate=out[0], pai=out[1], baseline_hit_rate=out[2], baseline_pai=out[3],
        n_cells=int(score.size), n_observed=int(round(n_obs)),
        provenance=stamp("safercities.stats.forecast.evaluate", {"coverage": tuple(cov.tolist())}, score, obs, prev),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------ bias audit


@dataclass(frozen=True, eq=False)
class BiasAudit:
    """Does the forecast follow where crime is reported, or where it happens?"""

    rho_reporting: float
    """Spearman correlation of the forecast with the reporting rate across areas."""
    rho_victimisation: float | None
    """Spearman correlation of the forecast with true (or surveyed) victimisation; None without it."""
    flagged: bool
    rule: str
    n_areas: int
    interval: tuple[float, float] | None = None
    """Bootstrap 95% interval (over areas) of rho_reporting - rho_victimisation, when ``rng`` was given."""
    table: pd.DataFrame | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "measure": ["rho_reporting", "rho_victimisation", "flagged"],
            "value": [self.rho_reporting, self.rho_victimisation, self.flagged],
        })  # fmt: skip

    def summary(self) -> str:
        vic = "n/a" if self.rho_victimisation is None else f"{self.rho_victimisation:.3f}"
        verdict = ("FLAGGED: this forecast mostly follows reporting differences; do not act on it as it stands"
                   if self.flagged else "not flagged")  # fmt: skip
        lines = [
            f"Bias audit over {self.n_areas} areas: rank correlation of the forecast with the reporting rate "
            f"{self.rho_reporting:.3f}, with victimisation {vic}",
            f"  rule: {self.rule}",
            f"  {verdict}",
        ]
        if self.interval is not None:
            lines.append(
                f"  bootstrap 95% interval of the difference: [{self.interval[0]:.3f}, {self.interval[1]:.3f}]"
            )
        return "\n".join(lines)


def _spearman(a: FloatArray, b: FloatArray) -> float:
    from scipy.stats import rankdata

    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def bias_audit(
    forecast_by_area: ArrayLike | pd.Series,
    reporting_rate_by_area: ArrayLike | pd.Series,
    victimisation_by_area: ArrayLike | pd.Series | None = None,
    *,
    threshold: float = 0.5,
    rng: np.random.Generator | None = None,
    n_boot: int = 999,
) -> BiasAudit:
    """Compare the forecast's places with reporting rates (recorded / true) and with victimisation.

    Rule, with victimisation (true counts or rates, or a survey's estimates): **flagged** when the forecast's
    Spearman correlation with the reporting rate exceeds its correlation with victimisation. Without it:
    flagged when the correlation with the reporting rate is at least ``threshold``. Series are aligned on
    their index (area ids); arrays by position. ``rng``: a bootstrap interval over areas for the difference.
    """
    where = "bias_audit"
    items: list[pd.Series] = []
    for name, v in (("forecast", forecast_by_area), ("reporting", reporting_rate_by_area),
                    ("victimisation", victimisation_by_area)):  # fmt: skip
        if v is None:
            continue
        items.append(v.rename(name) if isinstance(v, pd.Series) else pd.Series(np.asarray(v, np.float64), name=name))
    frame = pd.concat(items, axis=1, join="inner") if all(isinstance(v, pd.Series) for v in
                      (forecast_by_area, reporting_rate_by_area)) else pd.concat(items, axis=1)  # fmt: skip
    frame = frame.astype(np.float64)
    if frame.isna().any().any() or not np.isfinite(frame.to_numpy()).all():
        raise InputError(f"{where}: every area needs a finite forecast, reporting rate (and victimisation)",
                         hint="check that the three share their area ids")  # fmt: skip
    if len(frame) < 3:
        raise InputError(f"{where}: a rank correlation needs at least 3 areas. Got {len(frame)}.")
    f, r = frame["forecast"].to_numpy(), frame["reporting"].to_numpy()
    rho_r = _spearman(f, r)
    rho_v: float | None = None
    interval = None
    if "victimisation" in frame:
        v = frame["victimisation"].to_numpy()
        rho_v = _spearman(f, v)
        flagged = rho_r > rho_v
        rule = (f"flagged when rho(forecast, reporting rate) > rho(forecast, victimisation): "
                f"{rho_r:.3f} {'>' if flagged else '<='} {rho_v:.3f}")  # fmt: skip
        if rng is not None:
            draws = rng.integers(0, len(frame), size=(int(n_boot), len(frame)))
            diffs = np.array([_spearman(f[d], r[d]) - _spearman(f[d], v[d]) for d in draws])
            lo, hi = np.quantile(diffs, [0.025, 0.975])
            interval = (float(lo), float(hi))
    else:
        thr = _number("threshold", threshold, where, low=-1.0)
        flagged = rho_r >= thr
        rule = (f"no victimisation measure: flagged when rho(forecast, reporting rate) >= {thr:g}: "
                f"{rho_r:.3f} {'>=' if flagged else '<'} {thr:g}")  # fmt: skip
    return BiasAudit(
        rho_reporting=rho_r, rho_victimisation=rho_v, flagged=bool(flagged), rule=rule, n_areas=len(frame),
        interval=interval, table=frame,
        provenance=stamp("safercities.stats.forecast.bias_audit", {"threshold": threshold, "n_boot": n_boot},
                         frame.to_numpy()),
    )  # fmt: skip
