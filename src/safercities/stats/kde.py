"""Kernel density of points on a regular grid: quartic and Gaussian kernels, exact or binned, and dual KDE.

Conventions (one set for every path):

* **Grid.** ``bounds = (xmin, ymin, xmax, ymax)`` and ``cell_size`` give ``nx = ceil((xmax - xmin) /
  cell_size)`` columns from ``xmin`` (the last one may reach past ``xmax``, as ``sf::st_make_grid``
  does), likewise rows from ``ymin``. The density is evaluated at cell centres. ``values[j, i]`` is the
  density at ``(x[i], y[j])``; row 0 is the southernmost (``y`` ascends). Without ``bounds`` the grid
  covers the points' bounding box grown by half a cell on every side (sfhotspot's grid does the same).
* **Normalisation.** ``scale="intensity"`` (default): points (or weight) per square unit of the CRS, so
  that the surface integrates to the number of points (the sum of weights) over the plane:
  ``sum(values) * cell_size**2 ~= n`` when the grid reaches a bandwidth beyond every point; kernel mass
  that falls outside the grid is not on it. ``scale="probability"``: the same divided by the total
  weight (integrates to 1). ``per_square_km(metres_per_unit)`` converts an intensity to points per km².
* **Kernels.** Quartic (biweight), ``K(u) = 3 / (pi h^2) (1 - u^2)^2`` for ``u = d / h < 1``, 0 beyond:
  ``h`` is the search radius. Gaussian, ``K = exp(-d^2 / (2 h^2)) / (2 pi h^2)``: ``h`` is the standard
  deviation on each axis.
* **Points outside the grid** contribute to every cell within the kernel's reach, exactly as points
  inside do; the grid only decides where the surface is evaluated.
* **Exact path** (``method="exact"``): the kernel sum over every point within reach of each cell (a
  numba kernel, cached to disk). The Gaussian is cut at ``GAUSSIAN_TRUNCATE_EXACT`` = 9 sd, where a
  point's weight is below 3e-18 of its peak.
* **Binned path** (``method="binned"``): linear binning of the points onto a lattice that is the
  output grid refined by an odd factor (so that every output centre is a lattice node) until the
  lattice step is at most ``h / 4`` (Gaussian) or ``h / 12`` (quartic), then one FFT convolution with the
  kernel sampled on that lattice (the Gaussian's transform is the outer product of two 1-D transforms),
  in single precision (bin counts included: ~1e-7 relative, far inside the binning error). Error metric:
  ``max |binned - exact| / max(exact)`` over the grid; the tests and benchmark B3 hold it below 1e-2 (it
  is typically 1e-4 to 5e-3).
* ``method="auto"`` takes the exact path when it needs at most ``EXACT_WORK_LIMIT`` kernel evaluations.

Bandwidth rules (``bandwidth=`` a name; each looks at locations only, not weights):

* ``"nrd"`` (and the default ``"rule"``): MASS ``bandwidth.nrd``, ``4 * 1.06 * min(sd, IQR / 1.34) *
  n^(-1/5)``, on x and on y, averaged. It is the quartic search radius that sfhotspot documents; for the
  Gaussian kernel the sd is a quarter of it (MASS ``kde2d``'s convention).
* ``"sfhotspot"``: the same rule on the x coordinates alone. This is what sfhotspot 1.0 computes in fact:
  its ``mean(bandwidth_nrd(x), bandwidth_nrd(y))`` passes the second value to R's ``mean`` as ``trim``,
  which then returns the first. It reproduces sfhotspot's 8,877 m for the Memphis January robberies.
* ``"silverman"`` and ``"scott"``: the Gaussian sd ``sigma * n^(-1/6)`` with ``sigma`` the root mean of
  the two coordinate variances (the standard distance over sqrt 2); in two dimensions the two rules
  coincide. For the quartic kernel the radius with the same variance, ``sqrt(8)`` times that sd.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.fft as sfft
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice
from safercities.stats.provenance import input_hash, stamp

KERNELS = ("quartic", "gaussian")
METHODS = ("auto", "exact", "binned")
SCALES = ("intensity", "probability")
BANDWIDTH_RULES = ("rule", "nrd", "sfhotspot", "silverman", "scott")

MAX_CELLS = 25_000_000
"""Default ceiling on grid cells (output grid, and the binned path's padded lattice): 200 MB of float64."""
GAUSSIAN_TRUNCATE_EXACT = 9.0
"""The exact path's Gaussian reach, in sd."""
GAUSSIAN_TRUNCATE_BINNED = 5.0
"""The binned path's Gaussian reach, in sd (a point's weight beyond it is below 4e-6 of its peak)."""
LATTICE_STEPS = {"gaussian": 4.0, "quartic": 12.0}
"""The binned path refines the grid until ``h / step`` is at least this many lattice steps."""
EXACT_WORK_LIMIT = 20_000_000
"""``method="auto"`` takes the exact path up to this many kernel evaluations (points x cells in reach)."""
NUMPY_EXACT_LIMIT = 2_000_000
"""Up to this many cell-point pairs the exact path is a dense numpy sum (no numba start-up, ~0.3 s)."""
NUMPY_BINNING_LIMIT = 20_000
"""Up to this many points the binned path bins with ``np.bincount`` rather than the numba kernel."""

_WHERE = "kde"


# --------------------------------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class DensitySurface:
    """A kernel density surface on a regular grid of cell centres (see the module docstring)."""

    values: NDArray[np.float64]
    """(ny, nx) density at the cell centres; row 0 is the southernmost."""
    x: NDArray[np.float64]
    """nx cell-centre x coordinates, ascending."""
    y: NDArray[np.float64]
    """ny cell-centre y coordinates, ascending."""
    cell_size: float
    bandwidth: float
    kernel: str
    scale: str
    method: str
    n_points: int
    total_weight: float
    _stamp: dict[str, Any] = field(default_factory=dict, repr=False)
    _inputs: tuple[bytes, ...] = field(default=(), repr=False)

    @cached_property
    def provenance(self) -> dict[str, Any]:
        """The stamp: function, version, parameters, SHA-256 of the inputs (hashed when first read)."""
        arrays = [np.frombuffer(b, dtype=np.float64) for b in self._inputs]
        return {**self._stamp, "input_sha256": input_hash(*arrays) if arrays else None}

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """The outer edges of the grid's cells ``(xmin, ymin, xmax, ymax)``."""
        h = self.cell_size / 2
        return (float(self.x[0] - h), float(self.y[0] - h), float(self.x[-1] + h), float(self.y[-1] + h))

    def integral(self) -> float:
        """The surface summed over the grid (``sum(values) * cell_size**2``)."""
        return float(self.values.sum() * self.cell_size**2)

    def per_square_km(self, metres_per_unit: float = 1.0) -> NDArray[np.float64]:
        """The values per km² (for a CRS in metres ``metres_per_unit = 1``; US feet 0.3048006)."""
        if self.scale != "intensity":
            raise InputError("per_square_km needs an intensity surface (scale='intensity')")
        return self.values * (1e6 / metres_per_unit**2)

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: ``row``, ``col``, cell-centre ``x``, ``y`` and ``density`` (rows south to north)."""
        ny, nx = self.values.shape
        rows, cols = np.divmod(np.arange(ny * nx), nx)
        return pd.DataFrame(
            {"row": rows, "col": cols, "x": self.x[cols], "y": self.y[rows], "density": self.values.ravel()}
        )

    def to_geodataframe(self, crs: Any) -> Any:
        """The cells as square polygons with their density, in ``crs`` (the points' CRS; nothing is reprojected)."""
        import geopandas as gpd
        import shapely

        frame = self.to_frame()
        h = self.cell_size / 2
        x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
        return gpd.GeoDataFrame(frame, geometry=shapely.box(x - h, y - h, x + h, y + h), crs=crs)

    def summary(self) -> str:
        """A short text report: grid, kernel, bandwidth, scale, the maximum and where it is."""
        ny, nx = self.values.shape
        j, i = np.unravel_index(int(np.argmax(self.values)), self.values.shape)
        unit = "points per square unit" if self.scale == "intensity" else "probability per square unit"
        return "\n".join(
            [
                f"Kernel density ({self.kernel}, bandwidth {self.bandwidth:,.6g}, {self.method} path)",
                f"  grid: {nx} x {ny} cells of {self.cell_size:,.6g}, bounds {tuple(round(b, 3) for b in self.bounds)}",
                f"  points: {self.n_points:,} (total weight {self.total_weight:,.6g})",
                f"  density: {unit}; max {self.values.max():.6g} at ({self.x[i]:,.6g}, {self.y[j]:,.6g}); "
                f"integral over the grid {self.integral():,.6g}",
            ]
        )


@dataclass(frozen=True, eq=False)
class RiskSurface:
    """Dual KDE: events' intensity over the population's intensity, cell by cell (see :func:`dual_kde`)."""

    risk: NDArray[np.float64]
    """(ny, nx) events per unit of population; NaN where the population density is ~0."""
    events: DensitySurface
    population: DensitySurface
    floor: float
    """The absolute floor applied to the population density (``floor_fraction`` x its maximum)."""
    floor_fraction: float
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def x(self) -> NDArray[np.float64]:
        return self.events.x

    @property
    def y(self) -> NDArray[np.float64]:
        return self.events.y

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: position, the two densities, the floored flag and the risk."""
        frame = self.events.to_frame().rename(columns={"density": "event_density"})
        pop = self.population.values.ravel()
        frame["population_density"] = pop
        frame["floored"] = (pop < self.floor) & np.isfinite(self.risk.ravel())
        frame["risk"] = self.risk.ravel()
        return frame

    def summary(self) -> str:
        finite = np.isfinite(self.risk)
        top = float(np.nanmax(self.risk)) if finite.any() else float("nan")
        return "\n".join(
            [
                "Dual kernel density (risk = event density / population density)",
                f"  events: {self.events.n_points:,}; population weight {self.population.total_weight:,.6g}",
                f"  floor: {self.floor_fraction:g} x max population density = {self.floor:.6g}; "
                f"{int((self.population.values < self.floor).sum()):,} cells floored, {int((~finite).sum()):,} NaN",
                f"  max risk {top:.6g}",
            ]
        )


# -------------------------------------------------------------------------------------------- validation


def _coords(x: ArrayLike, y: ArrayLike, weights: ArrayLike | None, what: str = "points") -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None
]:  # fmt: skip
    """1-D float64 coordinates (and weights), checked: same length, at least one point, all finite."""
    xa = np.ascontiguousarray(np.asarray(x, dtype=np.float64).ravel())
    ya = np.ascontiguousarray(np.asarray(y, dtype=np.float64).ravel())
    if xa.shape != ya.shape:
        raise InputError(f"x and y of the {what} must have one length. Got {xa.size} and {ya.size} instead.")
    if xa.size == 0:
        raise InputError(f"no {what}: a kernel density needs at least one point")
    bad = ~(np.isfinite(xa) & np.isfinite(ya))
    if bad.any():
        raise InputError(
            f"{int(bad.sum()):,} of the {what} have a missing or infinite coordinate (the first at position "
            f"{int(np.argmax(bad))})",
            hint="drop or geocode them before estimating the density",
        )
    w = None
    if weights is not None:
        w = np.ascontiguousarray(np.asarray(weights, dtype=np.float64).ravel())
        if w.shape != xa.shape:
            raise InputError(f"weights must have one value per point. Got {w.size} for {xa.size} {what}.")
        if not np.isfinite(w).all() or (w < 0).any():
            raise InputError("weights must be finite and non-negative")
        if w.sum() <= 0:
            raise InputError("weights sum to zero: there is no mass to spread")
    return xa, ya, w


def _positive(name: str, value: object) -> float:
    """A finite number > 0, or the one-message-template error."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(value, bool) or not (math.isfinite(v) and v > 0):
        raise InputError(f"The '{name}' parameter of {_WHERE} must be a finite number > 0. Got {value!r} instead.")
    return v


def _nrd(v: NDArray[np.float64]) -> float:
    """MASS ``bandwidth.nrd`` of one coordinate (R's default quantile type 7 = numpy's 'linear')."""
    q1, q3 = np.quantile(v, [0.25, 0.75])
    return 4 * 1.06 * min(float(np.std(v, ddof=1)), float(q3 - q1) / 1.34) * v.size ** (-0.2)


def select_bandwidth(x: ArrayLike, y: ArrayLike, rule: str = "rule", kernel: str = "quartic") -> float:
    """The bandwidth a named rule gives for these points and kernel (see the module docstring)."""
    check_choice("bandwidth", rule, BANDWIDTH_RULES, _WHERE)
    check_choice("kernel", kernel, KERNELS, _WHERE)
    xa, ya, _ = _coords(x, y, None)
    if xa.size < 2:
        raise InputError("a bandwidth rule needs at least two points; give the bandwidth as a number")
    if rule in ("rule", "nrd", "sfhotspot"):
        radius = _nrd(xa) if rule == "sfhotspot" else (_nrd(xa) + _nrd(ya)) / 2
        h = radius if kernel == "quartic" else radius / 4
    else:
        sd = math.sqrt((float(np.var(xa, ddof=1)) + float(np.var(ya, ddof=1))) / 2) * xa.size ** (-1 / 6)
        h = sd if kernel == "gaussian" else math.sqrt(8) * sd
    if not (math.isfinite(h) and h > 0):
        raise InputError(
            f"the {rule!r} bandwidth rule gives {h!r}: the points have no spread on an axis",
            hint="give the bandwidth as a number",
        )
    return h


@dataclass(frozen=True)
class _Grid:
    x0: float  # left edge of the first column
    y0: float
    nx: int
    ny: int
    cell: float

    @property
    def xc(self) -> NDArray[np.float64]:
        return np.asarray(self.x0 + self.cell * (np.arange(self.nx) + 0.5), dtype=np.float64)

    @property
    def yc(self) -> NDArray[np.float64]:
        return np.asarray(self.y0 + self.cell * (np.arange(self.ny) + 0.5), dtype=np.float64)


def _auto_cell_size(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """A 50th of the bounding box's shorter side, floored to a multiple of 100 when that is at least 100
    (sfhotspot's rule for metres and feet), else to 1, 2 or 5 times a power of ten."""
    wx, wy = float(np.ptp(x)), float(np.ptp(y))
    side = min(wx, wy) if min(wx, wy) > 0 else max(wx, wy)
    if side <= 0:
        raise InputError("the points all lie at one place: give cell_size (and bounds) explicitly")
    raw = side / 50
    if raw >= 100:
        return math.floor(raw / 100) * 100.0
    exp = 10.0 ** math.floor(math.log10(raw))
    return max(m for m in (1.0, 2.0, 5.0) if m * exp <= raw * (1 + 1e-12)) * exp


def _make_grid(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    cell_size: float | None,
    bounds: Sequence[float] | None,
    max_cells: int,
) -> _Grid:
    """The output grid, checked against ``max_cells`` before anything is allocated."""
    cell = _auto_cell_size(x, y) if cell_size is None else _positive("cell_size", cell_size)
    if bounds is None:
        xmin, ymin = float(x.min()) - cell / 2, float(y.min()) - cell / 2
        xmax, ymax = float(x.max()) + cell / 2, float(y.max()) + cell / 2
    else:
        try:
            xmin, ymin, xmax, ymax = (float(b) for b in bounds)
        except (TypeError, ValueError) as exc:
            raise InputError(f"bounds must be (xmin, ymin, xmax, ymax). Got {bounds!r} instead.") from exc
        if not all(math.isfinite(b) for b in (xmin, ymin, xmax, ymax)) or xmax <= xmin or ymax <= ymin:
            raise InputError(f"bounds must be finite with xmax > xmin and ymax > ymin. Got {tuple(bounds)!r}.")
    fx, fy = (xmax - xmin) / cell, (ymax - ymin) / cell
    if fx * fy > max_cells:
        raise InputError(
            f"the grid would have about {fx * fy:,.0f} cells ({fx:,.0f} x {fy:,.0f} of size {cell:g}), over the "
            f"limit of {max_cells:,}",
            hint="use a larger cell_size, tighter bounds, check for stray points (such as 0,0), or raise max_cells",
        )
    nx = max(1, math.ceil(fx - 1e-9))
    ny = max(1, math.ceil(fy - 1e-9))
    return _Grid(xmin, ymin, nx, ny, cell)


# ---------------------------------------------------------------------------------------------- kernels


_JITTED: dict[str, Any] = {}


def _jit(fn: Any) -> Any:
    """``numba.njit(cache=True)`` applied on first use: importing this module, and small inputs, need no numba."""
    compiled = _JITTED.get(fn.__name__)
    if compiled is None:
        import numba

        compiled = _JITTED[fn.__name__] = numba.njit(cache=True, nogil=True)(fn)
    return compiled


def _exact_scatter(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    w: NDArray[np.float64],
    x0: float,
    y0: float,
    cell: float,
    h: float,
    reach: float,
    gaussian: bool,
    out: NDArray[np.float64],
) -> None:  # pragma: no cover - compiled by _jit
    """Add every point's (unnormalised) kernel to the cells whose centres lie within ``reach``."""
    ny, nx = out.shape
    inv_h2 = 1.0 / (h * h)
    r2 = reach * reach
    ex = np.empty(nx)
    weighted = w.size > 0
    for k in range(px.size):
        wk = w[k] if weighted else 1.0
        if wk == 0.0:
            continue
        fx = (px[k] - x0) / cell - 0.5
        fy = (py[k] - y0) / cell - 0.5
        r = reach / cell
        i0 = max(0, int(math.ceil(fx - r)))
        i1 = min(nx - 1, int(math.floor(fx + r)))
        j0 = max(0, int(math.ceil(fy - r)))
        j1 = min(ny - 1, int(math.floor(fy + r)))
        if i0 > i1 or j0 > j1:
            continue
        if gaussian:
            for i in range(i0, i1 + 1):
                dx = x0 + (i + 0.5) * cell - px[k]
                ex[i] = math.exp(-0.5 * dx * dx * inv_h2)
        for j in range(j0, j1 + 1):
            dy = y0 + (j + 0.5) * cell - py[k]
            dy2 = dy * dy
            if dy2 > r2:
                continue
            if gaussian:
                ey = wk * math.exp(-0.5 * dy2 * inv_h2)
                for i in range(i0, i1 + 1):
                    dx = x0 + (i + 0.5) * cell - px[k]
                    if dx * dx + dy2 <= r2:
                        out[j, i] += ey * ex[i]
            else:
                for i in range(i0, i1 + 1):
                    dx = x0 + (i + 0.5) * cell - px[k]
                    u2 = (dx * dx + dy2) * inv_h2
                    if u2 < 1.0:
                        t = 1.0 - u2
                        out[j, i] += wk * t * t


def _kernel_norm(kernel: str, h: float) -> float:
    return 3.0 / (math.pi * h * h) if kernel == "quartic" else 1.0 / (2.0 * math.pi * h * h)


def _exact(
    px: NDArray[np.float64], py: NDArray[np.float64], w: NDArray[np.float64] | None, g: _Grid, h: float, kernel: str
) -> NDArray[np.float64]:
    """The exact path (numba, or numpy for small inputs): intensity at the cell centres."""
    if px.size * g.nx * g.ny <= NUMPY_EXACT_LIMIT:
        return _exact_numpy(px, py, w, g, h, kernel)
    out = np.zeros((g.ny, g.nx))
    reach = h if kernel == "quartic" else GAUSSIAN_TRUNCATE_EXACT * h
    wts = np.empty(0) if w is None else w
    _jit(_exact_scatter)(px, py, wts, g.x0, g.y0, g.cell, h, reach, kernel == "gaussian", out)
    out *= _kernel_norm(kernel, h)
    return out


def _exact_numpy(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    g: _Grid,
    h: float,
    kernel: str,
    chunk: int = 4096,
) -> NDArray[np.float64]:
    """The same sum in plain numpy over blocks of cells (every point, no truncation): the check on the numba path."""
    mx, my = np.meshgrid(g.xc, g.yc)
    cx, cy = mx.ravel(), my.ravel()
    out = np.empty(cx.size)
    wts = np.ones(px.size) if w is None else w
    for s in range(0, cx.size, chunk):
        u2 = ((cx[s : s + chunk, None] - px) ** 2 + (cy[s : s + chunk, None] - py) ** 2) / (h * h)
        k = np.exp(-0.5 * u2) if kernel == "gaussian" else np.where(u2 < 1, (1 - u2) ** 2, 0.0)
        out[s : s + chunk] = k @ wts
    return out.reshape(g.ny, g.nx) * _kernel_norm(kernel, h)


def _bin_linear(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    w: NDArray[np.float64],
    ox: float,
    oy: float,
    step: float,
    out: NDArray[np.float32],
) -> None:  # pragma: no cover - compiled by _jit
    """Linear (cloud-in-cell) binning onto lattice nodes ``(ox + i step, oy + j step)``; points whose
    four nodes are not all on the lattice are left out (the lattice reaches a kernel radius beyond the grid)."""
    ny, nx = out.shape
    weighted = w.size > 0
    inv = 1.0 / step
    for k in range(px.size):
        tx = (px[k] - ox) * inv
        ty = (py[k] - oy) * inv
        if not (tx >= 0.0 and ty >= 0.0):
            continue
        i = int(tx)
        j = int(ty)
        if i + 1 >= nx or j + 1 >= ny:
            continue
        fx = tx - i
        fy = ty - j
        wk = w[k] if weighted else 1.0
        a = wk * (1.0 - fy)
        b = wk * fy
        out[j, i] += a * (1.0 - fx)
        out[j, i + 1] += a * fx
        out[j + 1, i] += b * (1.0 - fx)
        out[j + 1, i + 1] += b * fx


def _bin_linear_numpy(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    ox: float,
    oy: float,
    step: float,
    shape: tuple[int, int],
) -> NDArray[np.float64]:
    """The same binning with ``np.bincount`` (the pure-numpy path, kept and tested against the numba one)."""
    ny, nx = shape
    tx, ty = (px - ox) / step, (py - oy) / step
    i, j = np.floor(tx), np.floor(ty)
    keep = (i >= 0) & (j >= 0) & (i + 1 < nx) & (j + 1 < ny)
    i, j, fx, fy = i[keep].astype(np.int64), j[keep].astype(np.int64), (tx - i)[keep], (ty - j)[keep]
    wk = np.ones(i.size) if w is None else w[keep]
    flat = j * nx + i
    out = np.zeros(ny * nx)
    for off, share in (
        (0, (1 - fx) * (1 - fy)),
        (1, fx * (1 - fy)),
        (nx, (1 - fx) * fy),
        (nx + 1, fx * fy),
    ):
        out += np.bincount(flat + off, weights=wk * share, minlength=ny * nx)
    return out.reshape(ny, nx)


def _refinement(g: _Grid, h: float, kernel: str) -> int:
    """The odd factor r that makes the lattice step ``cell / r`` at most ``h / LATTICE_STEPS[kernel]``."""
    r = max(1, math.ceil(g.cell * LATTICE_STEPS[kernel] / h - 1e-9))
    return r if r % 2 else r + 1


def _binned_shape(g: _Grid, h: float, kernel: str) -> tuple[int, int, int, int]:
    """(refinement r, kernel half-width K in lattice steps, lattice rows, lattice columns)."""
    r = _refinement(g, h, kernel)
    step = g.cell / r
    reach = h if kernel == "quartic" else GAUSSIAN_TRUNCATE_BINNED * h
    half = math.ceil(reach / step)
    pad = half + 1
    return r, half, g.ny * r + 2 * pad, g.nx * r + 2 * pad


def _binned(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    g: _Grid,
    h: float,
    kernel: str,
) -> NDArray[np.float64]:
    """The binned path: linear binning on the refined, padded lattice and one FFT convolution."""
    r, half, nly, nlx = _binned_shape(g, h, kernel)
    pad = half + 1
    step = g.cell / r
    # lattice node (i, j) sits at x0 + (i - pad + 0.5) step: output centre i_out is node pad + r i_out + (r - 1) / 2
    ox, oy = g.x0 + (0.5 - pad) * step, g.y0 + (0.5 - pad) * step
    if px.size <= NUMPY_BINNING_LIMIT:
        counts = _bin_linear_numpy(px, py, w, ox, oy, step, (nly, nlx)).astype(np.float32)
    else:
        counts = np.zeros((nly, nlx), np.float32)  # half the memory traffic of float64 for the scattered adds
        _jit(_bin_linear)(px, py, np.empty(0) if w is None else w, ox, oy, step, counts)
    # A circular convolution of length >= the lattice is exact on the core: the core is `pad` > K nodes from each end.
    ly, lx = sfft.next_fast_len(nly, real=True), sfft.next_fast_len(nlx, real=True)
    spectrum = sfft.rfft2(counts, s=(ly, lx))
    if kernel == "gaussian":
        offsets = np.arange(-half, half + 1) * step
        g1 = np.exp(-0.5 * (offsets / h) ** 2).astype(np.float32)
        ky, kx = np.zeros(ly, np.float32), np.zeros(lx, np.float32)
        ky[np.arange(-half, half + 1) % ly] = g1
        kx[np.arange(-half, half + 1) % lx] = g1
        spectrum *= sfft.fft(ky)[:, None].astype(np.complex64)
        spectrum *= sfft.rfft(kx)[None, :].astype(np.complex64)
    else:
        d = np.arange(-half, half + 1) * step
        u2 = (d[None, :] ** 2 + d[:, None] ** 2) / (h * h)
        block = np.where(u2 < 1, (1 - u2) ** 2, 0.0).astype(np.float32)
        k2 = np.zeros((ly, lx), np.float32)
        idx = np.arange(-half, half + 1)
        k2[np.ix_(idx % ly, idx % lx)] = block
        spectrum *= sfft.rfft2(k2)
    full = sfft.irfft2(spectrum, s=(ly, lx))
    first = pad + (r - 1) // 2
    core = full[first : first + r * g.ny : r, first : first + r * g.nx : r]
    out = np.maximum(core.astype(np.float64), 0.0)  # FFT round-off leaves ~1e-7 x max of noise, either sign
    out *= _kernel_norm(kernel, h)
    return out


def _exact_work(n: int, g: _Grid, h: float, kernel: str) -> float:
    reach = h if kernel == "quartic" else GAUSSIAN_TRUNCATE_EXACT * h
    side_x = min(g.nx, 2 * reach / g.cell + 1)
    side_y = min(g.ny, 2 * reach / g.cell + 1)
    return n * side_x * side_y


# -------------------------------------------------------------------------------------------------- API


def kde(
    x: ArrayLike,
    y: ArrayLike,
    *,
    cell_size: float | None = None,
    bounds: Sequence[float] | None = None,
    bandwidth: float | str = "rule",
    kernel: str = "quartic",
    weights: ArrayLike | None = None,
    method: str = "auto",
    scale: str = "intensity",
    max_cells: int = MAX_CELLS,
) -> DensitySurface:
    """Kernel density of points (projected coordinates) at the centres of a regular grid.

    ``bandwidth`` is a number in the CRS's units (the quartic radius, or the Gaussian sd) or a rule
    name (``"rule"``, ``"nrd"``, ``"sfhotspot"``, ``"silverman"``, ``"scott"``); ``weights`` give each
    point a mass (say, the number of victims). Grid, normalisation, paths and error bound: see the
    module docstring. Raises :class:`InputError` for no points, missing coordinates, a bandwidth or
    cell size that is not > 0, or a grid over ``max_cells`` (before allocating it).
    """
    check_choice("kernel", kernel, KERNELS, _WHERE)
    check_choice("method", method, METHODS, _WHERE)
    check_choice("scale", scale, SCALES, _WHERE)
    xa, ya, w = _coords(x, y, weights)
    h = select_bandwidth(xa, ya, bandwidth, kernel) if isinstance(bandwidth, str) else _positive("bandwidth", bandwidth)
    g = _make_grid(xa, ya, cell_size, bounds, max_cells)
    work = _exact_work(xa.size, g, h, kernel)
    lattice_cells = 0
    if method != "exact":
        _, _, nly, nlx = _binned_shape(g, h, kernel)
        lattice_cells = nly * nlx
    chosen = method
    if method == "auto":
        chosen = "exact" if work <= EXACT_WORK_LIMIT or lattice_cells > max_cells else "binned"
    if chosen == "binned" and lattice_cells > max_cells:
        raise InputError(
            f"the binned path's lattice would have {lattice_cells:,} cells, over the limit of {max_cells:,} "
            f"(bandwidth {h:g} against cell size {g.cell:g})",
            hint="use method='exact', a larger cell_size, or raise max_cells",
        )
    values = _exact(xa, ya, w, g, h, kernel) if chosen == "exact" else _binned(xa, ya, w, g, h, kernel)
    total = float(xa.size if w is None else w.sum())
    if scale == "probability":
        values /= total
    values.flags.writeable = False
    xc, yc = g.xc, g.yc
    xc.flags.writeable = False
    yc.flags.writeable = False
    params = {
        "cell_size": g.cell,
        "bounds": (g.x0, g.y0, g.x0 + g.nx * g.cell, g.y0 + g.ny * g.cell),
        "bandwidth": h,
        "bandwidth_rule": bandwidth if isinstance(bandwidth, str) else None,
        "kernel": kernel,
        "method": chosen,
        "scale": scale,
        "weighted": w is not None,
    }
    inputs = (xa.tobytes(), ya.tobytes()) + (() if w is None else (w.tobytes(),))
    return DensitySurface(
        values=values,
        x=xc,
        y=yc,
        cell_size=g.cell,
        bandwidth=h,
        kernel=kernel,
        scale=scale,
        method=chosen,
        n_points=int(xa.size),
        total_weight=total,
        _stamp={k: v for k, v in stamp("safercities.stats.kde.kde", params).items() if k != "input_sha256"},
        _inputs=inputs,
    )


def _as_points(obj: Any, what: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x, y) from a pair of arrays or an (n, 2) array."""
    if isinstance(obj, tuple | list) and len(obj) == 2:
        return np.asarray(obj[0], dtype=np.float64), np.asarray(obj[1], dtype=np.float64)
    arr = np.asarray(obj, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0], arr[:, 1]
    raise InputError(f"{what} must be (x, y) arrays or an (n, 2) array of coordinates")


def dual_kde(
    events_xy: Any,
    population: Any,
    *,
    population_weights: ArrayLike | None = None,
    event_weights: ArrayLike | None = None,
    cell_size: float | None = None,
    bounds: Sequence[float] | None = None,
    bandwidth: float | str = "rule",
    population_bandwidth: float | str | None = None,
    kernel: str = "quartic",
    method: str = "auto",
    floor_fraction: float = 0.01,
    max_cells: int = MAX_CELLS,
) -> RiskSurface:
    """A risk surface: the events' intensity divided by the population's, on one grid.

    ``population`` is either points (``(x, y)`` or an (n, 2) array, with ``population_weights`` such as
    residents per address or census centroid) or a :class:`DensitySurface` already computed (its grid is
    then used for the events). The bandwidth defaults to the events' rule, and the population's to the
    events' bandwidth. The risk is in events per unit of population weight.

    The floor: where the population density is below ``floor_fraction`` x its maximum, the denominator
    is raised to that floor, so that a few events near the edge of the settled area do not make an
    enormous ratio out of a tiny denominator (the cells are flagged ``floored`` in ``to_frame``). Where
    the population density is ~0 (at most 1e-12 x its maximum: out of every population point's reach),
    the risk is NaN: there is no population to be at risk.
    """
    if not (isinstance(floor_fraction, int | float) and 0 <= floor_fraction < 1):
        raise InputError(f"The 'floor_fraction' parameter of dual_kde must be in [0, 1). Got {floor_fraction!r}.")
    ex, ey = _as_points(events_xy, "events_xy")
    if isinstance(population, DensitySurface):
        pop = population
        if pop.scale != "intensity":
            raise InputError("the population surface must have scale='intensity'")
        events = kde(
            ex,
            ey,
            cell_size=pop.cell_size,
            bounds=pop.bounds,
            bandwidth=bandwidth,
            kernel=kernel,
            weights=event_weights,
            method=method,
            max_cells=max_cells,
        )
        if events.shape != pop.shape or not np.allclose(events.x, pop.x) or not np.allclose(events.y, pop.y):
            raise InputError("the population surface's grid does not match the events' grid")
    else:
        qx, qy = _as_points(population, "population")
        exa, eya, _ = _coords(ex, ey, None, "events")
        qxa, qya, _ = _coords(qx, qy, None, "population points")
        allx, ally = np.concatenate([exa, qxa]), np.concatenate([eya, qya])
        g = _make_grid(allx, ally, cell_size, bounds, max_cells)
        grid_bounds = (g.x0, g.y0, g.x0 + g.nx * g.cell, g.y0 + g.ny * g.cell)
        events = kde(
            exa,
            eya,
            cell_size=g.cell,
            bounds=grid_bounds,
            bandwidth=bandwidth,
            kernel=kernel,
            weights=event_weights,
            method=method,
            max_cells=max_cells,
        )
        pop = kde(
            qxa,
            qya,
            cell_size=g.cell,
            bounds=grid_bounds,
            bandwidth=events.bandwidth if population_bandwidth is None else population_bandwidth,
            kernel=kernel,
            weights=population_weights,
            method=method,
            max_cells=max_cells,
        )
    top = float(pop.values.max())
    floor = floor_fraction * top
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = events.values / np.maximum(pop.values, floor)
    risk[pop.values <= 1e-12 * top] = np.nan
    risk.flags.writeable = False
    return RiskSurface(
        risk=risk,
        events=events,
        population=pop,
        floor=floor,
        floor_fraction=float(floor_fraction),
        provenance=stamp(
            "safercities.stats.kde.dual_kde",
            {"floor_fraction": floor_fraction, "events": events.provenance, "population": pop.provenance},
        ),
    )
