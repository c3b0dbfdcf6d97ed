"""Fast point → area assignment: a cached label raster with an exact fallback.

Every imported incident gets its area by point-in-polygon. Testing each point
against the polygons exactly (what geopandas ``sjoin`` does) costs about a
microsecond per point; most points, though, lie far from any boundary, where a
coarse answer is already the exact one. :class:`AreaIndex` therefore keeps

* a **label raster** over the polygons' bounds: a cell whose closed square lies
  wholly inside one polygon holds that polygon's index, a cell wholly outside all
  polygons holds ``-1`` (:data:`OUTSIDE`), and a cell near any boundary holds ``-2``
  (:data:`AMBIGUOUS`); and
* a :class:`shapely.STRtree` of the polygons, which decides the points that fall
  in ambiguous cells (and only those) exactly.

The boundary cells are found by GDAL (``all_touched=True`` on the polygons'
rings), every cell holding a vertex is added, and the mask is then dilated by one
cell in all eight directions. So a cell is labelled only when neither it nor any
of its neighbours touches a boundary: GDAL's edge cases (lines along cell edges,
rings smaller than a cell) and floating-point rounding when a point is binned into
a cell both stay at least one cell away from a labelled cell, and the raster lookup
is exact, not approximate.

Rules, the same for the raster and the fallback:

* a point inside a polygon or **on its boundary** belongs to it (``intersects``);
* a point on a boundary shared by several polygons (or inside overlapping ones)
  goes to the polygon with the **lowest index**, so the answer is deterministic;
* a point inside no polygon, or with a NaN or infinite coordinate, gets ``-1``.

Coordinates must be in the polygons' projected CRS; the index does no reprojection.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from safercities.errors import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["AMBIGUOUS", "OUTSIDE", "AreaIndex"]

OUTSIDE = -1
"""Label of a cell (and result for a point) outside every polygon."""
AMBIGUOUS = -2
"""Label of a raster cell near a boundary, where the exact fallback decides."""

DEFAULT_MAX_CELLS = 16_000_000
"""Upper bound on the cells of an automatically sized raster: 32 MB of int16 labels (64 MB of int32 ones
beyond 32,767 polygons). Measured on 1e6 points: 10,000 Voronoi polygons leave 35% of the points to the
exact fallback at 4M cells and 18% at 16M, which makes ``assign`` 2.7× faster."""
DEFAULT_CELLS_PER_POLYGON = 16_384
"""Cells per polygon aimed at by the automatic sizing (a 128 × 128 patch for an average polygon)."""
MIN_RESOLUTION = 16
MAX_CELLS_HARD = 200_000_000
"""A raster larger than this (400-800 MB) is refused whatever the caller asks."""

_FORMAT = "safercities.AreaIndex/1"


@dataclass(frozen=True, slots=True)
class Grid:
    """The raster's geometry: cell ``(row, col)`` covers ``[x0 + col·cell, x0 + (col+1)·cell)`` in x
    and ``(y1 - (row+1)·cell, y1 - row·cell]`` in y (row 0 at the top, as GDAL lays rasters out)."""

    x0: float
    y1: float
    cell: float
    nx: int
    ny: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)


class AreaIndex:
    """Point → polygon index for one level of non-overlapping areas (see the module docstring).

    Build it once with :meth:`build` (or load a cached one with :meth:`from_bytes`), then call
    :meth:`assign` as often as needed. The object is immutable: its arrays are read-only.
    """

    __slots__ = ("_geoms", "_grid", "_labels", "_fingerprint", "_tree", "_flat")

    def __init__(self, geoms: NDArray[np.object_], grid: Grid, labels: NDArray[np.integer], fingerprint: str) -> None:
        # Private: use build() or from_bytes(), which validate their inputs.
        self._geoms = geoms
        self._grid = grid
        labels = np.ascontiguousarray(labels, dtype=_label_dtype(len(geoms)))
        labels.flags.writeable = False
        self._labels = labels
        self._flat = labels.reshape(-1)
        self._fingerprint = fingerprint
        shapely.prepare(geoms)
        self._tree = shapely.STRtree(geoms)

    # ------------------------------------------------------------------ construction

    @classmethod
    def build(
        cls,
        geometries: ArrayLike,
        resolution: int | None = None,
        *,
        max_cells: int = DEFAULT_MAX_CELLS,
    ) -> AreaIndex:
        """Build the index from polygons (a numpy array of shapely geometries or a GeoSeries).

        ``resolution`` is the number of raster cells along the longer side of the polygons'
        bounds; by default it is chosen so that an average polygon spans about
        ``DEFAULT_CELLS_PER_POLYGON`` cells, with at most ``max_cells`` cells in all. A finer
        raster sends fewer points to the exact fallback and costs more memory and build time.
        The result is exact whatever the resolution.
        """
        geoms = _as_polygons(geometries)
        if resolution is not None and (
            isinstance(resolution, bool) or not isinstance(resolution, int | np.integer) or resolution < 1
        ):
            raise InputError(
                f"The 'resolution' parameter of AreaIndex.build must be a positive integer. Got {resolution!r} instead."
            )
        if isinstance(max_cells, bool) or not isinstance(max_cells, int | np.integer) or max_cells < 1:
            raise InputError(
                f"The 'max_cells' parameter of AreaIndex.build must be a positive integer. Got {max_cells!r} instead."
            )
        grid = _choose_grid(geoms, resolution, int(max_cells))
        labels = _label_raster(geoms, grid)
        return cls(geoms, grid, labels, fingerprint_of(geoms))

    # ------------------------------------------------------------------ queries

    def assign(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """Index of the polygon containing each point ``(x[i], y[i])``, or ``-1``.

        Points on a boundary belong to the polygon; on a shared boundary to the lowest index.
        NaN or infinite coordinates give ``-1``. Vectorised: a raster lookup for all points, then
        an exact STRtree query for the few in cells near a boundary.
        """
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        if xa.shape != ya.shape:
            raise InputError(f"x and y must have the same shape. Got {xa.shape} and {ya.shape} instead.")
        shape = xa.shape
        xa = xa.reshape(-1)
        ya = ya.reshape(-1)
        out = self._lookup(xa, ya)
        amb = np.flatnonzero(out == AMBIGUOUS)
        if amb.size:
            out[amb] = self._exact(xa[amb], ya[amb])
        return out.reshape(shape)

    def assign_exact(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """The same answer as :meth:`assign`, computed with the STRtree alone (no raster).

        Slower; kept as the reference that the raster path is tested against.
        """
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        if xa.shape != ya.shape:
            raise InputError(f"x and y must have the same shape. Got {xa.shape} and {ya.shape} instead.")
        return self._exact(xa.reshape(-1), ya.reshape(-1)).reshape(xa.shape)

    def counts(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """Number of points in each polygon (length ``len(index)``); points outside all are not counted."""
        a = self.assign(x, y).reshape(-1)
        return np.bincount(a[a >= 0], minlength=len(self._geoms)).astype(np.int64, copy=False)

    def _lookup(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Raster labels for the points: a polygon index, OUTSIDE or AMBIGUOUS."""
        g = self._grid
        inv = 1.0 / g.cell
        fx = (x - g.x0) * inv
        fy = (g.y1 - y) * inv
        # NaN compares False, so NaN and ±inf land outside; the grid has a one-cell margin
        # around the polygons' bounds, so everything off the grid is outside every polygon.
        on = (fx >= 0.0) & (fx < g.nx) & (fy >= 0.0) & (fy < g.ny)
        out = np.full(x.shape, OUTSIDE, dtype=np.int64)
        if on.all():
            cells = fy.astype(np.int64) * g.nx + fx.astype(np.int64)
            out[:] = self._flat[cells]
        else:
            idx = np.flatnonzero(on)
            cells = fy[idx].astype(np.int64) * g.nx + fx[idx].astype(np.int64)
            out[idx] = self._flat[cells]
        return out

    def _exact(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Exact answer by STRtree + prepared ``intersects``; lowest polygon index on ties."""
        out = np.full(x.shape, OUTSIDE, dtype=np.int64)
        finite = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
        if finite.size == 0:
            return out
        xf, yf = x[finite], y[finite]
        # Bounding-box candidates from the tree, then one vectorised prepared intersects_xy over the pairs:
        # measured 25% faster than query(predicate="intersects"), which tests the same pairs.
        src, poly = self._tree.query(shapely.points(xf, yf))
        keep = shapely.intersects_xy(self._geoms[poly], xf[src], yf[src])
        src, poly = src[keep], poly[keep]
        if src.size:
            n = len(self._geoms)
            best = np.full(finite.size, n, dtype=np.int64)
            np.minimum.at(best, src, poly.astype(np.int64, copy=False))
            hit = best < n
            out[finite[hit]] = best[hit]
        return out

    # ------------------------------------------------------------------ properties

    def __len__(self) -> int:
        return len(self._geoms)

    def __repr__(self) -> str:
        g = self._grid
        return (
            f"AreaIndex({len(self)} polygons, raster {g.nx}×{g.ny} cells of {g.cell:.6g}, "
            f"{self.ambiguous_fraction:.1%} ambiguous, fingerprint {self._fingerprint[:12]})"
        )

    @property
    def geometries(self) -> NDArray[np.object_]:
        """The polygons, in index order (a read-only view)."""
        v = self._geoms.view()
        v.flags.writeable = False
        return v

    @property
    def grid(self) -> Grid:
        """The raster's geometry."""
        return self._grid

    @property
    def labels(self) -> NDArray[np.integer]:
        """The label raster (read-only): polygon index, ``OUTSIDE`` or ``AMBIGUOUS``; row 0 at the top.

        int16 up to 32,767 polygons, int32 beyond.
        """
        return self._labels

    @property
    def ambiguous_fraction(self) -> float:
        """Share of raster cells near a boundary (a proxy for the share of points sent to the fallback)."""
        return float(np.count_nonzero(self._flat == AMBIGUOUS)) / self._flat.size

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the polygons' WKB: a cached index is stale when this differs."""
        return self._fingerprint

    @property
    def nbytes(self) -> int:
        """Memory held by the label raster."""
        return int(self._labels.nbytes)

    # ------------------------------------------------------------------ (de)serialisation

    def to_bytes(self) -> bytes:
        """Serialise to ``.npz`` bytes (raster, grid and polygons as WKB) for a workspace cache."""
        wkb = shapely.to_wkb(self._geoms, output_dimension=2, byte_order=1)
        lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
        g = self._grid
        buf = io.BytesIO()
        np.savez(  # uncompressed: loading is a copy, not a 0.2 s inflate of the raster
            buf,
            format=np.array(_FORMAT),
            fingerprint=np.array(self._fingerprint),
            grid_f=np.array([g.x0, g.y1, g.cell], dtype=np.float64),
            grid_i=np.array([g.nx, g.ny], dtype=np.int64),
            labels=self._labels,
            wkb=np.frombuffer(b"".join(wkb), dtype=np.uint8),
            wkb_len=lengths,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, expect_fingerprint: str | None = None) -> AreaIndex:
        """Load an index written by :meth:`to_bytes`.

        With ``expect_fingerprint`` (from :func:`fingerprint_of` on the current polygons), a stale
        cache raises :class:`InputError` instead of giving answers for other polygons.
        """
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                fmt = str(z["format"])
                fingerprint = str(z["fingerprint"])
                x0, y1, cell = (float(v) for v in z["grid_f"])
                nx, ny = (int(v) for v in z["grid_i"])
                labels = z["labels"]
                blob = z["wkb"].tobytes()
                lengths = z["wkb_len"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"not a serialised AreaIndex: {exc}") from exc
        if fmt != _FORMAT:
            raise InputError(f"unsupported AreaIndex format {fmt!r} (this version reads {_FORMAT!r})")
        if expect_fingerprint is not None and expect_fingerprint != fingerprint:
            raise InputError("the cached AreaIndex is stale: its polygons differ from the current ones")
        ends = np.cumsum(lengths)
        starts = ends - lengths
        wkb = np.array([blob[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)], dtype=object)
        geoms = shapely.from_wkb(wkb)
        if fingerprint_of(geoms) != fingerprint or labels.shape != (ny, nx):
            raise InputError("the serialised AreaIndex is corrupt: its content does not match its fingerprint")
        return cls(geoms, Grid(x0, y1, cell, nx, ny), labels, fingerprint)


# ---------------------------------------------------------------------- helpers (pure)


def fingerprint_of(geometries: ArrayLike) -> str:
    """SHA-256 (hex) of the polygons' 2-D little-endian WKB, in order."""
    geoms = np.asarray(geometries, dtype=object)
    h = hashlib.sha256(_FORMAT.encode())
    for b in shapely.to_wkb(geoms, output_dimension=2, byte_order=1):
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _as_polygons(geometries: Any) -> NDArray[np.object_]:
    """Validate and copy the input into a 1-D object array of (Multi)Polygons."""
    values = getattr(geometries, "values", geometries)  # GeoSeries → GeometryArray
    try:
        geoms = np.array(values, dtype=object).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise InputError(f"geometries must be an array of shapely polygons: {exc}") from exc
    if geoms.size == 0:
        raise InputError("AreaIndex.build needs at least one polygon. Got none.")
    is_geom = np.array([isinstance(g, shapely.Geometry) for g in geoms])
    if not is_geom.all():
        bad = int(np.flatnonzero(~is_geom)[0])
        raise InputError(f"geometry {bad} is {geoms[bad]!r}, not a shapely geometry")
    types = shapely.get_type_id(geoms)
    ok = (types == shapely.GeometryType.POLYGON) | (types == shapely.GeometryType.MULTIPOLYGON)
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise InputError(f"geometry {bad} is a {geoms[bad].geom_type}; areas must be Polygon or MultiPolygon")
    coords = shapely.get_coordinates(geoms)
    if not np.isfinite(coords).all():
        raise InputError("the polygons hold NaN or infinite coordinates")
    valid = shapely.is_valid(geoms) | shapely.is_empty(geoms)
    if not valid.all():
        bad = int(np.flatnonzero(~valid)[0])
        raise InputError(
            f"polygon {bad} is invalid ({shapely.is_valid_reason(geoms[bad])})",
            hint="repair the boundaries first, e.g. with shapely.make_valid",
        )
    if shapely.is_empty(geoms).all():
        raise InputError("all polygons are empty")
    return geoms


def _choose_grid(geoms: NDArray[np.object_], resolution: int | None, max_cells: int) -> Grid:
    """Square cells over the polygons' bounds, with a one-cell margin on every side."""
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(geoms))
    w, h = xmax - xmin, ymax - ymin
    span = max(w, h)
    if not span > 0:
        raise InputError("the polygons have zero extent")
    if resolution is None:
        target = min(max_cells, DEFAULT_CELLS_PER_POLYGON * len(geoms))
        aspect = max(min(w, h), span * 1e-3) / span
        resolution = max(MIN_RESOLUTION, int(math.sqrt(target / aspect)))
    cell = span / resolution
    nx = math.ceil(w / cell) + 2
    ny = math.ceil(h / cell) + 2
    if nx * ny > MAX_CELLS_HARD:
        raise InputError(
            f"a raster of {nx}×{ny} cells is too large (at most {MAX_CELLS_HARD:,})",
            hint="ask for a smaller resolution",
        )
    return Grid(x0=xmin - cell, y1=ymax + cell, cell=cell, nx=nx, ny=ny)


def _label_dtype(n: int) -> type[np.int16] | type[np.int32]:
    """The narrowest signed integer type for labels ``-2 … n-1``: halves the raster's memory and cache misses."""
    return np.int16 if n <= np.iinfo(np.int16).max else np.int32


def _label_raster(geoms: NDArray[np.object_], grid: Grid) -> NDArray[np.integer]:
    """Labels by cell centre, then every cell near a boundary marked AMBIGUOUS."""
    from rasterio.features import rasterize
    from rasterio.transform import Affine
    from scipy.ndimage import binary_dilation

    transform = Affine(grid.cell, 0.0, grid.x0, 0.0, -grid.cell, grid.y1)
    nonempty = np.flatnonzero(~shapely.is_empty(geoms))
    # Reverse order: with GDAL's "replace" merge the last shape wins, so overlaps go to the lowest index,
    # as in the exact fallback.
    order = nonempty[::-1]
    labels = rasterize(
        ((geoms[i], int(i)) for i in order),
        out_shape=grid.shape,
        transform=transform,
        fill=OUTSIDE,
        all_touched=False,
        dtype=np.dtype(_label_dtype(len(geoms))).name,
    )
    edges = rasterize(
        ((b, 1) for b in shapely.boundary(geoms[nonempty])),
        out_shape=grid.shape,
        transform=transform,
        fill=0,
        all_touched=True,
        dtype="uint8",
    ).astype(bool)
    # Every cell holding a vertex too: a ring smaller than a cell is then never missed.
    xy = shapely.get_coordinates(geoms[nonempty])
    col = np.clip(((xy[:, 0] - grid.x0) / grid.cell).astype(np.int64), 0, grid.nx - 1)
    row = np.clip(((grid.y1 - xy[:, 1]) / grid.cell).astype(np.int64), 0, grid.ny - 1)
    edges[row, col] = True
    edges = binary_dilation(edges, structure=np.ones((3, 3), dtype=bool))
    labels[edges] = AMBIGUOUS
    return np.asarray(labels)
