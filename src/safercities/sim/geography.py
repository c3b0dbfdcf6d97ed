"""The synthetic city's geography: outline, communities (Voronoi cells) and districts (k-means groups).

Built in UTM zone 14N metres (EPSG:32614) around Querétaro, Mexico, and written as WGS84 lon/lat,
as municipal boundary files usually come.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pyproj
import shapely

from safercities.sim.catalogue import CITY_NAME, COMMUNITY_PREFIXES, COMMUNITY_STEMS, DISTRICT_NAMES

WORK_CRS = "EPSG:32614"
TIMEZONE = "America/Mexico_City"
CENTRE_LONLAT = (-100.39, 20.59)
HALF_WIDTH_M = 6000.0
"""Half the east-west extent of the outline (the city is about 12 km x 10 km)."""
HALF_HEIGHT_M = 5000.0
GRID_M = 0.01
"""Precision grid (metres) that makes shared community edges identical, so that unions are clean."""
EDGE_MARGIN_M = 0.5
"""Crimes keep this far from community edges, so that rounding the written coordinates (about 10 cm) and
the boundary vertices (about 1 cm) never moves a crime into another community or out of the city."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GeomArray = npt.NDArray[np.object_]


@dataclass(frozen=True)
class City:
    """Areas of the synthetic city, in work-CRS metres. Community arrays are in ``community_ids`` order."""

    city_id: str
    city_name: str
    outline: shapely.Geometry
    community_ids: tuple[str, ...]
    community_names: tuple[str, ...]
    communities: GeomArray
    centroids: FloatArray
    district_of: IntArray
    """Index into the district arrays for each community."""
    district_ids: tuple[str, ...]
    district_names: tuple[str, ...]
    districts: GeomArray
    centre: tuple[float, float]
    interiors: GeomArray
    """The communities shrunk by :data:`EDGE_MARGIN_M`: where crimes are placed."""

    @property
    def n_communities(self) -> int:
        return len(self.community_ids)


@lru_cache(maxsize=1)
def _to_lonlat() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(WORK_CRS, "EPSG:4326", always_xy=True)


@lru_cache(maxsize=1)
def _from_lonlat() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", WORK_CRS, always_xy=True)


def to_lonlat(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Work-CRS metres to WGS84 longitude, latitude."""
    lon, lat = _to_lonlat().transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def geometries_to_lonlat(geoms: GeomArray) -> GeomArray:
    """Reproject shapely geometries (vectorised over all their vertices) to lon/lat."""

    def project(coords: FloatArray) -> FloatArray:
        lon, lat = to_lonlat(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, project), dtype=object)


def _outline(rng: np.random.Generator, centre: tuple[float, float]) -> shapely.Geometry:
    """An irregular, star-shaped city outline: an ellipse with a few random smooth radial bumps."""
    theta = np.linspace(0.0, 2.0 * np.pi, 256, endpoint=False)
    orders = np.arange(2, 6)
    amplitude = rng.normal(0.0, 0.05, size=orders.size) / np.sqrt(orders - 1)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=orders.size)
    radius = 1.0 + (amplitude[:, None] * np.cos(orders[:, None] * theta[None, :] + phase[:, None])).sum(axis=0)
    x = centre[0] + HALF_WIDTH_M * radius * np.cos(theta)
    y = centre[1] + HALF_HEIGHT_M * radius * np.sin(theta)
    return shapely.set_precision(shapely.Polygon(np.column_stack([x, y])), GRID_M)


def sample_in_polygons(
    rng: np.random.Generator, polygons: GeomArray, owner: IntArray, max_rounds: int = 200
) -> tuple[FloatArray, FloatArray]:
    """Uniform points, one per entry of ``owner``, inside ``polygons[owner]``: rejection sampling in each bbox.

    Loops over rejection rounds only; every round draws all still-missing points at once.
    """
    owner = np.asarray(owner, dtype=np.int64)
    bounds = shapely.bounds(polygons)
    x = np.full(owner.size, np.nan)
    y = np.full(owner.size, np.nan)
    todo = np.arange(owner.size)
    for _ in range(max_rounds):
        if todo.size == 0:
            break
        b = bounds[owner[todo]]
        cx = rng.uniform(b[:, 0], b[:, 2])
        cy = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(polygons[owner[todo]], cx, cy)
        x[todo[inside]] = cx[inside]
        y[todo[inside]] = cy[inside]
        todo = todo[~inside]
    if todo.size:  # pragma: no cover - needs a polygon that fills less than ~1% of its bbox
        raise RuntimeError(f"rejection sampling left {todo.size} points unplaced")
    return x, y


def locate(polygons: GeomArray, x: FloatArray, y: FloatArray) -> IntArray:
    """Index of the polygon holding each point, -1 outside all (first match on a shared edge)."""
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(shapely.points(x, y), predicate="intersects")
    where = np.full(np.asarray(x).size, -1, dtype=np.int64)
    # reversed so that the first match wins when a point lies on an edge shared by two polygons
    where[point_idx[::-1]] = poly_idx[::-1]
    return where


def keep_off_edges(city: City, community: IntArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Move points of a community that lie within :data:`EDGE_MARGIN_M` of its edge onto its interior (< 0.5 m)."""
    x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    inside = np.flatnonzero(community >= 0)
    points = np.asarray(shapely.points(x[inside], y[inside]), dtype=object)
    near = shapely.distance(points, shapely.boundary(city.communities[community[inside]])) < EDGE_MARGIN_M
    if near.any():
        lines = shapely.shortest_line(points[near], city.interiors[community[inside][near]])
        ends = shapely.get_coordinates(lines)[1::2]
        x[inside[near]], y[inside[near]] = ends[:, 0], ends[:, 1]
    return x, y


def _voronoi_cells(seeds: FloatArray, outline: shapely.Geometry) -> GeomArray:
    """Voronoi cells of ``seeds`` (in seed order) clipped to the outline and snapped to the precision grid."""
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=outline, ordered=True))
    clipped = shapely.intersection(cells, outline, grid_size=GRID_M)
    return np.asarray(clipped, dtype=object)


def _kmeans(rng: np.random.Generator, points: FloatArray, k: int, iterations: int = 50) -> IntArray:
    """Plain Lloyd k-means (loop over iterations); an emptied cluster is re-seeded at the worst-fitted point."""
    centres = points[rng.choice(points.shape[0], size=k, replace=False)]
    label = np.zeros(points.shape[0], dtype=np.int64)
    for _ in range(iterations):
        d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        label = d2.argmin(axis=1)
        counts = np.bincount(label, minlength=k)
        for empty in np.flatnonzero(counts == 0):
            worst = int(d2[np.arange(points.shape[0]), label].argmax())
            label[worst] = empty
            counts = np.bincount(label, minlength=k)
        sums = np.column_stack([np.bincount(label, weights=points[:, j], minlength=k) for j in range(2)])
        new = np.asarray(sums / counts[:, None], dtype=np.float64)
        if np.allclose(new, centres):
            break
        centres = new
    return label


def _names(rng: np.random.Generator, n: int) -> tuple[str, ...]:
    """Unique Spanish-looking community names ("Colonia San Miguel", "Barrio Las Flores" ...)."""
    stems = [COMMUNITY_STEMS[i] for i in rng.permutation(len(COMMUNITY_STEMS))]
    prefixes = rng.choice(len(COMMUNITY_PREFIXES), size=n, p=[0.45, 0.15, 0.2, 0.05, 0.1, 0.05])
    names = []
    for i in range(n):
        stem = stems[i % len(stems)]
        rounds = i // len(stems)
        suffix = f" {['', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII'][rounds % 8]}" if rounds else ""
        names.append(f"{COMMUNITY_PREFIXES[prefixes[i]]} {stem}{suffix}")
    return tuple(names)


def build_city(rng: np.random.Generator, n_communities: int, n_districts: int) -> City:
    """Draw the outline, the communities (Voronoi cells of relaxed random seeds) and their districts."""
    cx, cy = _from_lonlat().transform(*CENTRE_LONLAT)
    centre = (float(cx), float(cy))
    outline = _outline(rng, centre)
    seeds_x, seeds_y = sample_in_polygons(rng, np.asarray([outline], dtype=object), np.zeros(n_communities, np.int64))
    seeds = np.column_stack([seeds_x, seeds_y])
    for _ in range(2):  # two Lloyd relaxations: cells as regular as city blocks, still irregular
        cells = _voronoi_cells(seeds, outline)
        seeds = shapely.get_coordinates(shapely.point_on_surface(cells))
    cells = _voronoi_cells(seeds, outline)
    centroids = shapely.get_coordinates(shapely.centroid(cells))

    label = _kmeans(rng, centroids, n_districts)
    # districts numbered north to south by their mean northing; communities by district, then north-west first
    district_y = np.bincount(label, weights=centroids[:, 1], minlength=n_districts) / np.bincount(label)
    rank = np.empty(n_districts, dtype=np.int64)
    rank[np.argsort(-district_y, kind="stable")] = np.arange(n_districts)
    label = rank[label]
    order = np.lexsort((centroids[:, 0], -np.round(centroids[:, 1], -2), label))
    cells, centroids, label = cells[order], centroids[order], label[order]

    districts = np.asarray(
        [shapely.union_all(cells[label == d], grid_size=GRID_M) for d in range(n_districts)], dtype=object
    )
    city_polygon = shapely.union_all(cells, grid_size=GRID_M)
    shuffled = [DISTRICT_NAMES[i] for i in rng.permutation(len(DISTRICT_NAMES))]
    district_names = [
        shuffled[d % len(shuffled)] + (f" {d // len(shuffled) + 1}" if d >= len(shuffled) else "")
        for d in range(n_districts)
    ]
    return City(
        city_id="QRO",
        city_name=CITY_NAME,
        outline=city_polygon,
        community_ids=tuple(f"C{i + 1:03d}" for i in range(n_communities)),
        community_names=_names(rng, n_communities),
        communities=cells,
        centroids=centroids,
        district_of=label.astype(np.int64),
        district_ids=tuple(f"D{d + 1:02d}" for d in range(n_districts)),
        district_names=tuple(district_names[:n_districts]),
        districts=districts,
        centre=centre,
        interiors=np.asarray(shapely.buffer(cells, -EDGE_MARGIN_M), dtype=object),
    )
