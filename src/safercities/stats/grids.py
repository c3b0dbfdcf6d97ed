"""Counts of incidents on square grids and on H3 hexagons, empty cells included.

**Square grids.** Cells are ``cell_size`` wide in the units of the points' CRS (metres for a
projected CRS). The grid's origin is snapped to a multiple of the cell size (so that grids of the
same city and size line up month after month) unless ``origin`` is given. The grid covers the study
area: ``bounds=(xmin, ymin, xmax, ymax)``, else the bounds of ``polygon``, else the points' extent.
Cells are numbered row by row from the lower-left corner, x fastest (``cell_id = row * nx + col``,
the order of R's ``sf::st_make_grid``). Each cell holds ``[x0, x0 + size) x [y0, y0 + size)``; the
last column and row are also closed on their upper edge, so a point on the study area's upper bound
is inside. With a ``polygon``, only the cells that intersect it (touching counts) are kept; points
outside the bounds or in dropped cells are counted as *outside* and reported, never silently lost.

**H3 hexagons** (h3 4.x). Points are transformed from ``crs`` to lon/lat with pyproj. The
resolution is given or chosen from a target ``cell_size`` in metres: the resolution whose average
hexagon area is closest, on a log scale, to ``cell_size**2``. Empty hexagons are those whose centre
lies in the study polygon (H3's own rule for polygons; by default the box of ``bounds`` or of the
points), plus any hexagon that holds an inside point. h3-py 4 has no vectorised ``latlng_to_cell``, so
it is called once per *distinct* coordinate pair (about 1 microsecond each; 200,000 distinct points
take about 0.2 s); everything else is numpy.

**Guards.** A cell size that is not a positive finite number, NaN or infinite coordinates, and a grid
that would need more than ``max_cells`` cells (a stray point at (0, 0) in a UTM city) raise
:class:`~safercities.errors.InputError` before anything is allocated, naming the culprit and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from safercities.errors import CRSError, InputError
from safercities.stats.provenance import stamp

__all__ = ["DEFAULT_MAX_CELLS", "GridCounts", "H3Counts", "h3_counts", "h3_resolution_for", "square_grid_counts"]

DEFAULT_MAX_CELLS = 50_000_000
"""Beyond this many cells a grid is almost surely a mistake (and needs gigabytes)."""

_CHUNK = 1_000_000


# -- shared checks -----------------------------------------------------------------------------------
def _coordinates(x: ArrayLike, y: ArrayLike, where: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise InputError(f"{where}: x and y must have one entry per point. Got {xs.shape} and {ys.shape}.")
    bad = ~(np.isfinite(xs) & np.isfinite(ys))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{where}: {int(bad.sum())} point(s) have NaN or infinite coordinates (the first at position {first}: "
            f"({xs[first]}, {ys[first]})); drop them or fix their geocoding before counting"
        )
    return xs, ys


def _unit_name(crs: Any) -> str:
    if crs is None:
        return "units"
    try:
        from pyproj import CRS

        axis = CRS.from_user_input(crs).axis_info
        return axis[0].unit_name if axis else "units"
    except Exception:  # an unreadable CRS is reported where it is used, not here
        return "units"


def _distance_text(d: float, unit: str) -> str:
    return f"{d / 1000:,.1f} km" if unit in ("metre", "meter") else f"{d:,.4g} {unit}"


def _too_many_cells(
    cells: float,
    nx: float,
    ny: float,
    size_text: str,
    max_cells: float,
    xs: NDArray[np.float64],
    ys: NDArray[np.float64],
    unit: str,
    from_points: bool,
) -> InputError:
    """The error for an absurd grid, naming the stray point when the extent came from the points."""
    message = f"the grid would need {cells:,.4g} cells ({nx:,.0f} x {ny:,.0f}) of {size_text}"
    message += (
        f", more than max_cells={max_cells:,.0f}"
        if cells > max_cells
        else f", over {STRAY_FACTOR:g} times the extent of the central 98% of the points"
    )
    if from_points and xs.size >= 2:
        mx, my = np.median(xs), np.median(ys)
        distance = np.hypot(xs - mx, ys - my)
        i = int(np.argmax(distance))
        lo_x, hi_x = np.percentile(xs, [1, 99])
        lo_y, hi_y = np.percentile(ys, [1, 99])
        message += (
            f". The point at ({xs[i]:.10g}, {ys[i]:.10g}) (position {i}) lies "
            f"{_distance_text(float(distance[i]), unit)} from the median of the points; remove it or pass "
            f"bounds=({lo_x:.10g}, {lo_y:.10g}, {hi_x:.10g}, {hi_y:.10g}) "
            "(the central 98% of points)"
        )
    return InputError(message, hint="or use a larger cell_size, or raise max_cells if the grid is really meant")


STRAY_FACTOR = 100.0
"""An extent taken from the points is refused when it is this many times the area of their central 98%."""


def _stray_extent(xs: NDArray[np.float64], ys: NDArray[np.float64], extent_area: float) -> bool:
    """True when a few far points (a stray 0,0; a swapped coordinate) blow the grid up beyond the data."""
    if xs.size < 50:
        return False
    lo_x, hi_x = np.percentile(xs, [1, 99])
    lo_y, hi_y = np.percentile(ys, [1, 99])
    core = max(float(hi_x - lo_x), 1e-9) * max(float(hi_y - lo_y), 1e-9)
    return extent_area > STRAY_FACTOR * core


def _as_polygon(polygon: Any, where: str) -> Any:
    """A single shapely geometry from a geometry, GeoSeries or GeoDataFrame."""
    if polygon is None:
        return None
    if hasattr(polygon, "union_all"):
        polygon = polygon.union_all()
    if not isinstance(polygon, shapely.Geometry) or shapely.is_empty(polygon) or shapely.area(polygon) <= 0:
        raise InputError(f"{where}: polygon must be a non-empty (multi)polygon with an area")
    return polygon


def _bounds(value: Any, where: str) -> tuple[float, float, float, float]:
    try:
        b = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(
            f"The 'bounds' parameter of {where} must be (xmin, ymin, xmax, ymax). Got {value!r}."
        ) from None
    if len(b) != 4 or not all(math.isfinite(v) for v in b) or b[2] < b[0] or b[3] < b[1]:
        raise InputError(
            f"The 'bounds' parameter of {where} must be four finite numbers (xmin, ymin, xmax, ymax) with "
            f"xmin <= xmax and ymin <= ymax. Got {value!r} instead."
        )
    return b[0], b[1], b[2], b[3]


# -- square grids -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GridCounts:
    """Incident counts per square cell (empty cells included) and where each point went."""

    cell_id: NDArray[np.int64]
    col: NDArray[np.int64]
    row: NDArray[np.int64]
    count: NDArray[np.int64]
    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int
    point_cell: NDArray[np.int64]
    """The cell_id of each input point, -1 for points outside the grid."""
    crs: Any = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return len(self.point_cell)

    @property
    def n_outside(self) -> int:
        return int((self.point_cell < 0).sum())

    @property
    def n_cells(self) -> int:
        return len(self.cell_id)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """The extent of the kept cells."""
        if not self.n_cells:
            return (math.nan,) * 4
        s = self.cell_size
        return (
            self.x0 + float(self.col.min()) * s,
            self.y0 + float(self.row.min()) * s,
            self.x0 + float(self.col.max() + 1) * s,
            self.y0 + float(self.row.max() + 1) * s,
        )

    def to_frame(self) -> pd.DataFrame:
        s = self.cell_size
        x_min = self.x0 + self.col * s
        y_min = self.y0 + self.row * s
        return pd.DataFrame(
            {
                "cell_id": self.cell_id,
                "col": self.col,
                "row": self.row,
                "x_min": x_min,
                "y_min": y_min,
                "x_center": x_min + s / 2,
                "y_center": y_min + s / 2,
                "count": self.count,
            }
        )

    def to_geodataframe(self) -> Any:
        """The cells as square polygons in a GeoDataFrame (built on demand)."""
        import geopandas as gpd

        frame = self.to_frame()
        boxes = shapely.box(
            frame["x_min"], frame["y_min"], frame["x_min"] + self.cell_size, frame["y_min"] + self.cell_size
        )
        return gpd.GeoDataFrame(frame, geometry=boxes, crs=self.crs)

    def summary(self) -> str:
        nonzero = int((self.count > 0).sum())
        return (
            f"square grid of {self.cell_size:g}-unit cells: {self.n_cells} cells ({nonzero} with incidents, "
            f"max {int(self.count.max()) if self.n_cells else 0}), {self.n_points - self.n_outside} of "
            f"{self.n_points} points counted, {self.n_outside} outside the grid"
        )


def _kept_cells(polygon: Any, x0: float, y0: float, size: float, nx: int, ny: int) -> NDArray[np.int64]:
    """Ids of the cells that share area with the polygon (a cell that only touches its edge is left out),
    tested in chunks to bound memory."""
    shapely.prepare(polygon)
    kept: list[NDArray[np.int64]] = []
    total = nx * ny
    for start in range(0, total, _CHUNK):  # chunks of cells, not a loop over points
        ids = np.arange(start, min(start + _CHUNK, total), dtype=np.int64)
        col, row = ids % nx, ids // nx
        boxes = shapely.box(x0 + col * size, y0 + row * size, x0 + (col + 1) * size, y0 + (row + 1) * size)
        overlap = shapely.intersects(polygon, boxes) & ~shapely.touches(polygon, boxes)
        kept.append(ids[overlap])
    return np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)


def square_grid_counts(
    x: ArrayLike,
    y: ArrayLike,
    cell_size: float,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    polygon: Any = None,
    origin: tuple[float, float] | None = None,
    crs: Any = None,
    max_cells: float = DEFAULT_MAX_CELLS,
) -> GridCounts:
    """Count points per square cell over the study area, empty cells included (see the module docstring)."""
    where = "square_grid_counts"
    try:
        size = float(cell_size)
    except (TypeError, ValueError):
        size = math.nan
    if not (math.isfinite(size) and size > 0):
        raise InputError(
            f"The 'cell_size' parameter of {where} must be a positive finite number (in CRS units). "
            f"Got {cell_size!r} instead."
        )
    xs, ys = _coordinates(x, y, where)
    area = _as_polygon(polygon, where)
    from_points = bounds is None and area is None
    if bounds is not None:
        xmin, ymin, xmax, ymax = _bounds(bounds, where)
    elif area is not None:
        xmin, ymin, xmax, ymax = (float(v) for v in area.bounds)
    elif xs.size:
        xmin, ymin, xmax, ymax = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
    else:
        raise InputError(f"{where}: no points and no study area; pass bounds=(xmin, ymin, xmax, ymax) or a polygon")
    if origin is None:
        x0, y0 = math.floor(xmin / size) * size, math.floor(ymin / size) * size
    else:
        x0, y0 = (float(v) for v in origin)
        if not (math.isfinite(x0) and math.isfinite(y0)) or x0 > xmin or y0 > ymin:
            raise InputError(
                f"The 'origin' parameter of {where} must be finite and at or below-left of the study area "
                f"({xmin:.6g}, {ymin:.6g}). Got {origin!r} instead."
            )
    nx_f = max(1.0, math.ceil((xmax - x0) / size))
    ny_f = max(1.0, math.ceil((ymax - y0) / size))
    if nx_f * ny_f > max_cells or (from_points and _stray_extent(xs, ys, nx_f * ny_f * size * size)):
        raise _too_many_cells(
            nx_f * ny_f, nx_f, ny_f, f"{size:g} {_unit_name(crs)}", max_cells, xs, ys, _unit_name(crs), from_points
        )
    nx, ny = int(nx_f), int(ny_f)
    inside = (xs >= xmin) & (xs <= xmax) & (ys >= ymin) & (ys <= ymax)
    col = np.clip(np.floor((xs - x0) / size), 0, nx - 1).astype(np.int64)
    row = np.clip(np.floor((ys - y0) / size), 0, ny - 1).astype(np.int64)
    point_cell = np.where(inside, row * nx + col, -1)
    if area is not None:
        kept = _kept_cells(area, x0, y0, size, nx, ny)
        in_kept = np.zeros(nx * ny, dtype=bool)
        in_kept[kept] = True
        point_cell = np.where((point_cell >= 0) & in_kept[np.maximum(point_cell, 0)], point_cell, -1)
    else:
        kept = np.arange(nx * ny, dtype=np.int64)
    full = np.bincount(point_cell[point_cell >= 0], minlength=nx * ny)
    return GridCounts(
        cell_id=kept,
        col=kept % nx,
        row=kept // nx,
        count=full[kept].astype(np.int64),
        x0=x0,
        y0=y0,
        cell_size=size,
        nx=nx,
        ny=ny,
        point_cell=point_cell.astype(np.int64),
        crs=crs,
        provenance=stamp(
            "safercities.stats.grids.square_grid_counts",
            {
                "cell_size": size,
                "bounds": (xmin, ymin, xmax, ymax),
                "origin": (x0, y0),
                "polygon": area is not None,
                "crs": None if crs is None else str(crs),
                "max_cells": max_cells,
            },
            xs,
            ys,
        ),
    )


# -- H3 hexagons ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class H3Counts:
    """Incident counts per H3 cell (empty cells of the study area included)."""

    cell: NDArray[np.uint64]
    count: NDArray[np.int64]
    resolution: int
    point_cell: NDArray[np.uint64]
    """The H3 cell of each point (as an integer), 0 for points outside the study area."""
    crs: Any = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        return len(self.point_cell)

    @property
    def n_outside(self) -> int:
        return int((self.point_cell == 0).sum())

    @property
    def cell_ids(self) -> list[str]:
        """The cells as H3 strings (e.g. '8926...fff')."""
        import h3

        return [h3.int_to_str(int(c)) for c in self.cell]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"h3": self.cell_ids, "count": self.count})

    def to_geodataframe(self) -> Any:
        """The hexagons as lon/lat polygons (EPSG:4326), built on demand."""
        import geopandas as gpd
        import h3

        rings = [np.asarray(h3.cell_to_boundary(c))[:, ::-1] for c in self.cell_ids]  # one per cell, not per point
        return gpd.GeoDataFrame(self.to_frame(), geometry=shapely.polygons(rings), crs="EPSG:4326")

    def summary(self) -> str:
        nonzero = int((self.count > 0).sum())
        return (
            f"H3 resolution {self.resolution}: {len(self.cell)} cells ({nonzero} with incidents), "
            f"{self.n_points - self.n_outside} of {self.n_points} points counted, {self.n_outside} outside"
        )


def h3_resolution_for(cell_size: float) -> int:
    """The H3 resolution whose average hexagon area is closest (log scale) to a square of ``cell_size`` metres."""
    import h3

    if not (isinstance(cell_size, int | float) and math.isfinite(cell_size) and cell_size > 0):
        raise InputError(
            "The 'cell_size' parameter of h3_resolution_for must be a positive number of metres. "
            f"Got {cell_size!r} instead."
        )
    areas = np.array([h3.average_hexagon_area(r, unit="m^2") for r in range(16)])
    return int(np.argmin(np.abs(np.log(areas) - 2 * math.log(cell_size))))


def _to_lonlat(crs: Any) -> Any:
    from pyproj import CRS, Transformer

    try:
        source = CRS.from_user_input(crs)
    except Exception as error:
        raise CRSError(f"h3_counts: unknown crs {crs!r} ({error})") from None
    return Transformer.from_crs(source, CRS.from_epsg(4326), always_xy=True)


def h3_counts(
    x: ArrayLike,
    y: ArrayLike,
    *,
    crs: Any,
    resolution: int | None = None,
    cell_size: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    polygon: Any = None,
    max_cells: float = DEFAULT_MAX_CELLS,
) -> H3Counts:
    """Count points per H3 hexagon; ``x``, ``y``, ``bounds`` and ``polygon`` are in ``crs``."""
    import h3
    import h3.api.numpy_int as h3int
    from pyproj import Geod

    where = "h3_counts"
    if crs is None:
        raise CRSError(f"{where}: pass crs= (the points' CRS, e.g. 'EPSG:32615'); H3 needs lon/lat")
    if (resolution is None) == (cell_size is None):
        raise InputError(f"{where}: pass exactly one of resolution= (0-15) or cell_size= (metres)")
    if resolution is None:
        res = h3_resolution_for(float(cell_size))  # type: ignore[arg-type]
    elif isinstance(resolution, int | np.integer) and 0 <= int(resolution) <= 15:
        res = int(resolution)
    else:
        raise InputError(
            f"The 'resolution' parameter of {where} must be an integer in 0..15. Got {resolution!r} instead."
        )
    xs, ys = _coordinates(x, y, where)
    area = _as_polygon(polygon, where)
    from_points = bounds is None and area is None
    if area is None:
        if bounds is not None:
            area = shapely.box(*_bounds(bounds, where))
        elif xs.size:
            area = shapely.box(xs.min(), ys.min(), xs.max(), ys.max())
        else:
            raise InputError(f"{where}: no points and no study area; pass bounds=(xmin, ymin, xmax, ymax) or a polygon")
    transformer = _to_lonlat(crs)
    area_ll = shapely.transform(area, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1])))
    # a degenerate box (all points on one line) has no area: H3 cells then come from the points alone
    geodesic_area = abs(Geod(ellps="WGS84").geometry_area_perimeter(area_ll)[0]) if area_ll.area > 0 else 0.0
    expected = geodesic_area / h3.average_hexagon_area(res, unit="m^2")
    if expected > max_cells:
        side = math.sqrt(expected)
        raise _too_many_cells(
            expected, side, side, f"H3 resolution {res}", max_cells, xs, ys, _unit_name(crs), from_points
        )
    lon, lat = transformer.transform(xs, ys)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        first = int(np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))[0])
        raise CRSError(
            f"{where}: the point at ({xs[first]}, {ys[first]}) (position {first}) has no lon/lat in {crs!r}; "
            "is crs the points' real CRS?"
        )
    if area.area > 0:
        inside = shapely.intersects_xy(area, xs, ys)
    else:
        x_lo, y_lo, x_hi, y_hi = area.bounds
        inside = (xs >= x_lo) & (xs <= x_hi) & (ys >= y_lo) & (ys <= y_hi)
    pairs, inverse = np.unique(np.column_stack([lat[inside], lon[inside]]), axis=0, return_inverse=True)
    # h3-py 4 offers no vectorised latlng_to_cell: one call per distinct coordinate pair
    distinct_cells = np.fromiter((h3int.latlng_to_cell(a, b, res) for a, b in pairs), dtype=np.uint64, count=len(pairs))
    point_cell = np.zeros(xs.size, dtype=np.uint64)
    point_cell[inside] = distinct_cells[inverse.ravel()]
    area_cells = (
        np.asarray(h3int.geo_to_cells(area_ll.__geo_interface__, res), dtype=np.uint64)
        if area_ll.area > 0
        else np.empty(0, dtype=np.uint64)
    )
    cells, position = np.unique(np.concatenate([area_cells, point_cell[inside]]), return_inverse=True)
    counts = np.bincount(position.ravel()[len(area_cells) :], minlength=len(cells)).astype(np.int64)
    return H3Counts(
        cell=cells,
        count=counts,
        resolution=res,
        point_cell=point_cell,
        crs=crs,
        provenance=stamp(
            "safercities.stats.grids.h3_counts",
            {
                "resolution": res,
                "cell_size": cell_size,
                "crs": str(crs),
                "bounds": bounds,
                "polygon": polygon is not None,
                "h3": h3.__version__,
            },
            xs,
            ys,
        ),
    )
