"""AreaIndex against geopandas ``sjoin`` and against brute-force shapely predicates."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safercities.errors import InputError
from safercities.geo import AMBIGUOUS, OUTSIDE, AreaIndex, fingerprint_of
from safercities.geo.assign import Grid

# ---------------------------------------------------------------------- helpers


def voronoi(n: int, seed: int, size: float = 10_000.0) -> np.ndarray:
    """``n`` Voronoi polygons clipped to the square [0, size]², in a seeded order."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, size, size)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, size, (n, 2))), extend_to=box)
    )
    return shapely.intersection(cells, box)


def brute_force(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The rule stated by the module: lowest index among the polygons that intersect the point, else -1."""
    pts = np.asarray(shapely.points(x, y), dtype=object)
    hit = shapely.intersects(pts[:, None], geoms[None, :])
    hit &= np.isfinite(x)[:, None] & np.isfinite(y)[:, None]
    return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)


def sjoin_min(geoms: np.ndarray, x: np.ndarray, y: np.ndarray, predicate: str) -> np.ndarray:
    """geopandas' answer, reduced to the lowest polygon index per point (-1 where none)."""
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y))
    polys = gpd.GeoDataFrame(geometry=gpd.GeoSeries(geoms))
    joined = gpd.sjoin(pts, polys, how="inner", predicate=predicate)
    best = joined.groupby(level=0)["index_right"].min()
    out = np.full(len(x), -1, dtype=np.int64)
    out[best.index.to_numpy()] = best.to_numpy()
    return out


def holes_and_multipolygons() -> np.ndarray:
    """A square with two holes, an island in one hole, a two-part multipolygon, a ring touching others."""
    outer = shapely.Polygon(
        [(0, 0), (100, 0), (100, 100), (0, 100)],
        holes=[[(10, 10), (40, 10), (40, 40), (10, 40)], [(60, 60), (90, 60), (75, 90)]],
    )
    island = shapely.box(20, 20, 30, 30)
    multi = shapely.MultiPolygon([shapely.box(110, 0, 150, 40), shapely.box(110, 60, 150, 100)])
    # Fills the rest of the first hole (a polygon with a hole, sharing edges with outer and island).
    rest_of_hole = shapely.Polygon(
        [(10, 10), (40, 10), (40, 40), (10, 40)], holes=[[(20, 20), (30, 20), (30, 30), (20, 30)]]
    )
    sliver = shapely.Polygon([(100, 0), (110, 0), (110, 0.001), (100, 50)])  # thinner than a cell, touches outer
    tiny = shapely.box(75, 70, 75.01, 70.01)  # smaller than a cell, inside the second hole
    return np.array([outer, island, multi, rest_of_hole, sliver, tiny], dtype=object)


# ---------------------------------------------------------------------- against geopandas


@pytest.mark.parametrize("n_polygons", [50, 400])
def test_random_points_over_voronoi_match_sjoin(n_polygons: int) -> None:
    geoms = voronoi(n_polygons, seed=n_polygons)
    rng = np.random.default_rng(1)
    x = rng.uniform(-500, 10_500, 50_000)
    y = rng.uniform(-500, 10_500, 50_000)
    index = AreaIndex.build(geoms)
    got = index.assign(x, y)
    np.testing.assert_array_equal(got, sjoin_min(geoms, x, y, "intersects"))
    # No random point lies on a boundary, so "within" agrees too.
    np.testing.assert_array_equal(got, sjoin_min(geoms, x, y, "within"))
    assert (got == -1).sum() == ((x < 0) | (x > 10_000) | (y < 0) | (y > 10_000)).sum()
    counts = index.counts(x, y)
    assert counts.shape == (n_polygons,)
    assert counts.sum() == (got >= 0).sum()


@pytest.mark.parametrize("resolution", [None, 3, 64])
def test_coarse_and_fine_rasters_agree(resolution: int | None) -> None:
    """The raster only speeds things up: any resolution gives the exact answer."""
    geoms = voronoi(60, seed=7)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-100, 10_100, (2, 20_000))
    index = AreaIndex.build(geoms, resolution=resolution)
    np.testing.assert_array_equal(index.assign(x, y), index.assign_exact(x, y))
    np.testing.assert_array_equal(index.assign(x, y), sjoin_min(geoms, x, y, "intersects"))


def test_holes_and_multipolygons() -> None:
    geoms = holes_and_multipolygons()
    index = AreaIndex.build(geoms, resolution=200)
    rng = np.random.default_rng(3)
    x = rng.uniform(-5, 155, 40_000)
    y = rng.uniform(-5, 105, 40_000)
    got = index.assign(x, y)
    np.testing.assert_array_equal(got, brute_force(geoms, x, y))
    np.testing.assert_array_equal(got, sjoin_min(geoms, x, y, "intersects"))
    # Spot checks: in a hole, on the island, in each part of the multipolygon, in the gap between parts.
    spots = index.assign(np.array([5, 75, 25, 120, 120, 130, 75.005]), np.array([5, 65, 25, 10, 90, 50, 70.005]))
    np.testing.assert_array_equal(spots, [0, -1, 1, 2, 2, -1, 5])
    assert 0 < index.ambiguous_fraction < 0.5


def test_points_on_boundaries_vertices_and_cell_edges() -> None:
    geoms = np.concatenate([voronoi(30, seed=11), holes_and_multipolygons()[:1]])  # the holed square overlaps
    index = AreaIndex.build(geoms, resolution=50)
    g = index.grid
    vertices = shapely.get_coordinates(geoms)
    boundary = shapely.boundary(geoms)
    rng = np.random.default_rng(4)
    on_edges = shapely.get_coordinates(
        shapely.line_interpolate_point(np.repeat(boundary, 40), rng.uniform(0, 1, 40 * len(geoms)), normalized=True)
    )
    k = np.arange(-2, g.nx + 3)
    cell_x = g.x0 + k * g.cell  # exactly on raster cell edges and corners
    cell_y = g.y1 - rng.permutation(np.resize(np.arange(-2, g.ny + 3), k.size)) * g.cell
    x = np.concatenate([vertices[:, 0], on_edges[:, 0], cell_x, cell_x, rng.uniform(0, 10_000, k.size)])
    y = np.concatenate([vertices[:, 1], on_edges[:, 1], cell_y, rng.uniform(0, 10_000, k.size), cell_y])
    got = index.assign(x, y)
    np.testing.assert_array_equal(got, brute_force(geoms, x, y))
    np.testing.assert_array_equal(got, sjoin_min(geoms, x, y, "intersects"))
    # Every vertex is on some polygon's boundary, so it is assigned.
    assert (got[: len(vertices)] >= 0).all()


def test_shared_boundary_goes_to_the_lowest_index() -> None:
    geoms = np.array([shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(0, 1, 2, 2)], dtype=object)
    index = AreaIndex.build(geoms)
    x = np.array([1.0, 1.0, 1.0, 0.5, 1.5, 2.0, 2.0001, 0.0])
    y = np.array([0.5, 1.0, 0.0, 1.0, 1.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(index.assign(x, y), [0, 0, 0, 1, 0, 2, -1, 1])


def test_outside_nan_and_inf() -> None:
    index = AreaIndex.build(voronoi(20, seed=5))
    x = np.array([np.nan, 5.0, np.inf, -np.inf, 5.0, -1e300, 1e300, 5_000.0, 10_000.0 + 1e-9, -0.0])
    y = np.array([5.0, np.nan, 5.0, 5.0, np.inf, 5.0, 5.0, -1e-9, 5_000.0, 5_000.0])
    got = index.assign(x, y)
    np.testing.assert_array_equal(got[:8], -1)
    assert got[8] == -1
    assert got[9] >= 0  # on the left edge of the bounds: on a boundary, so inside
    np.testing.assert_array_equal(index.assign_exact(x, y), got)


def test_shapes_dtypes_and_empty_input() -> None:
    index = AreaIndex.build(voronoi(10, seed=6))
    assert index.assign(np.array([]), np.array([])).shape == (0,)
    two_d = index.assign(np.full((2, 3), 5_000.0), np.full((2, 3), 5_000.0))
    assert two_d.shape == (2, 3)
    assert two_d.dtype == np.int64
    assert index.assign([5_000], [5_000]).tolist() == two_d[0, :1].tolist()
    with pytest.raises(InputError, match="same shape"):
        index.assign(np.zeros(3), np.zeros(4))


# ---------------------------------------------------------------------- the raster itself


def test_raster_labels_are_safe() -> None:
    """Every labelled cell's square (not only its centre) lies inside that polygon, or outside all."""
    geoms = voronoi(25, seed=9)
    index = AreaIndex.build(geoms, resolution=40)
    g: Grid = index.grid
    labels = index.labels
    assert not labels.flags.writeable
    rows, cols = np.nonzero(labels != AMBIGUOUS)
    squares = shapely.box(
        g.x0 + cols * g.cell, g.y1 - (rows + 1) * g.cell, g.x0 + (cols + 1) * g.cell, g.y1 - rows * g.cell
    )
    lab = labels[rows, cols]
    inside = lab >= 0
    assert shapely.covers(geoms[lab[inside]], squares[inside]).all()
    union = shapely.union_all(geoms)
    assert not shapely.intersects(union, squares[lab == OUTSIDE]).any()


def test_labels_use_the_narrowest_dtype() -> None:
    assert AreaIndex.build(voronoi(10, seed=1)).labels.dtype == np.int16


# ---------------------------------------------------------------------- (de)serialisation, fingerprint


def test_round_trip_and_stale_cache() -> None:
    geoms = holes_and_multipolygons()
    index = AreaIndex.build(geoms, resolution=100)
    data = index.to_bytes()
    again = AreaIndex.from_bytes(data, expect_fingerprint=fingerprint_of(geoms))
    assert again.fingerprint == index.fingerprint
    assert again.grid == index.grid
    np.testing.assert_array_equal(again.labels, index.labels)
    rng = np.random.default_rng(8)
    x, y = rng.uniform(-5, 155, (2, 5_000))
    np.testing.assert_array_equal(again.assign(x, y), index.assign(x, y))
    moved = geoms.copy()
    moved[1] = shapely.box(20, 20, 31, 30)
    assert fingerprint_of(moved) != index.fingerprint
    with pytest.raises(InputError, match="stale"):
        AreaIndex.from_bytes(data, expect_fingerprint=fingerprint_of(moved))
    with pytest.raises(InputError, match="not a serialised AreaIndex"):
        AreaIndex.from_bytes(b"not an npz")


def test_build_does_not_mutate_and_accepts_geoseries() -> None:
    geoms = voronoi(15, seed=2)
    before = geoms.copy()
    a = AreaIndex.build(geoms)
    b = AreaIndex.build(gpd.GeoSeries(geoms, crs="EPSG:3857"))
    assert a.fingerprint == b.fingerprint
    assert all(shapely.equals_exact(before, geoms, tolerance=0))
    assert len(a) == 15
    assert "15 polygons" in repr(a)


@pytest.mark.parametrize(
    ("geometries", "kwargs", "message"),
    [
        (np.array([], dtype=object), {}, "at least one polygon"),
        (np.array([shapely.Point(0, 0)], dtype=object), {}, "Point"),
        (np.array([None], dtype=object), {}, "not a shapely geometry"),
        (np.array([shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])], dtype=object), {}, "invalid"),
        (np.array([shapely.box(0, 0, 1, 1)], dtype=object), {"resolution": 0}, "'resolution' parameter"),
        (np.array([shapely.box(0, 0, 1, 1)], dtype=object), {"resolution": 1.5}, "'resolution' parameter"),
        (np.array([shapely.box(0, 0, 1, 1)], dtype=object), {"resolution": 10**9}, "too large"),
        (np.array([shapely.Polygon()], dtype=object), {}, "empty"),
    ],
)
def test_build_rejects_bad_input(geometries: np.ndarray, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        AreaIndex.build(geometries, **kwargs)  # type: ignore[arg-type]


def test_empty_polygons_never_match() -> None:
    geoms = np.array([shapely.Polygon(), shapely.box(0, 0, 1, 1)], dtype=object)
    index = AreaIndex.build(geoms)
    np.testing.assert_array_equal(index.assign([0.5, 2.0], [0.5, 2.0]), [1, -1])


# ---------------------------------------------------------------------- property test


@st.composite
def polygons_and_points(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(1, 8))
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, (n, 2))
    radii = rng.uniform(0.5, 30, n)
    # Star-shaped polygons (valid), which may overlap: the lowest-index rule decides overlaps too.
    k = rng.integers(3, 12, n)
    polys = []
    for (cx, cy), r, m in zip(centres, radii, k, strict=True):
        angles = np.sort(rng.uniform(0, 2 * np.pi, m))
        rr = r * rng.uniform(0.3, 1.0, m)
        poly = shapely.Polygon(np.c_[cx + rr * np.cos(angles), cy + rr * np.sin(angles)])
        polys.append(poly if poly.is_valid else poly.convex_hull)
    geoms = np.array(polys, dtype=object)
    pts = rng.uniform(-10, 110, (300, 2))
    vertices = shapely.get_coordinates(geoms)
    pts = np.concatenate([pts, vertices])
    resolution = draw(st.integers(1, 80))
    return geoms, pts[:, 0], pts[:, 1], resolution


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polygons_and_points())
def test_property_assign_equals_exact_shapely(case: tuple[np.ndarray, np.ndarray, np.ndarray, int]) -> None:
    geoms, x, y, resolution = case
    index = AreaIndex.build(geoms, resolution=resolution)
    np.testing.assert_array_equal(index.assign(x, y), brute_force(geoms, x, y))


# ---------------------------------------------------------------------- real data: Chicago


@pytest.mark.shared
def test_chicago_homicides_fall_in_community_areas(shared_data: Path) -> None:
    folder = shared_data / "crime_chicago"
    areas = gpd.read_file(folder / "chicago_community_areas.geojson").to_crs("EPSG:26971")
    homicides = pd.read_csv(folder / "chicago_homicides_2015_CODE.csv")
    pts = gpd.GeoSeries(gpd.points_from_xy(homicides["longitude"], homicides["latitude"]), crs="EPSG:4326")
    pts = pts.to_crs("EPSG:26971")
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    index = AreaIndex.build(areas.geometry)
    got = index.assign(x, y)
    assert len(got) == 499
    assert (got >= 0).all(), "all 499 CODE homicides fall inside some community area (SOURCE.md)"
    np.testing.assert_array_equal(got, sjoin_min(areas.geometry.to_numpy(), x, y, "intersects"))
    numbers = areas["area_numbe"].to_numpy()[got]
    top = pd.Series(numbers).value_counts()
    assert top[25] == 50  # Austin
    assert top[29] == 23  # North Lawndale
    assert top[68] == 23  # Englewood
    assert top[44] == 22  # Chatham
    assert top[49] == 19  # Roseland
    assert top.index[0] == 25
