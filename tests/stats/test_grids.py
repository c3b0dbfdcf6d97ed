"""Square-grid and H3 counts: conventions, outside points, guards against absurd grids."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely

from safercities.errors import CRSError, InputError
from safercities.stats.grids import h3_counts, h3_resolution_for, square_grid_counts


def test_counts_by_hand_with_a_snapped_origin() -> None:
    x = np.array([105.0, 150.0, 250.0, 399.0])
    y = np.array([205.0, 299.0, 210.0, 399.9])
    grid = square_grid_counts(x, y, 100)
    assert (grid.x0, grid.y0, grid.nx, grid.ny) == (100.0, 200.0, 3, 2)
    frame = grid.to_frame()
    assert frame["count"].tolist() == [2, 1, 0, 0, 0, 1]  # row 0: (100-200) has 2 points, (200-300) 1
    assert frame["cell_id"].tolist() == list(range(6))
    assert grid.point_cell.tolist() == [0, 0, 1, 5]
    assert frame.loc[5, "x_center"] == 350.0
    assert grid.n_outside == 0 and grid.count.sum() == 4


def test_point_on_the_upper_bound_is_inside_the_last_cell() -> None:
    grid = square_grid_counts([0.0, 200.0], [0.0, 200.0], 100, bounds=(0, 0, 200, 200))
    assert grid.nx == 2 and grid.ny == 2
    assert grid.point_cell.tolist() == [0, 3]


def test_points_outside_bounds_are_counted_as_outside() -> None:
    grid = square_grid_counts([50.0, 150.0, 1e6], [50.0, 50.0, 1e6], 100, bounds=(0, 0, 100, 100))
    assert grid.n_cells == 1
    assert grid.count.tolist() == [1]
    assert grid.n_outside == 2
    assert grid.point_cell.tolist() == [0, -1, -1]
    assert "2 outside" in grid.summary()


def test_polygon_keeps_cells_sharing_area_and_includes_empty_ones() -> None:
    triangle = shapely.Polygon([(0, 0), (300, 0), (0, 300)])
    grid = square_grid_counts([10.0, 290.0], [10.0, 290.0], 100, polygon=triangle)
    # 3 x 3 cells: the 6 below the diagonal x + y = 300; (1, 2) and (2, 1) only touch it at a corner: left out
    assert grid.n_cells == 6
    assert {(1, 2), (2, 1)}.isdisjoint(zip(grid.col.tolist(), grid.row.tolist(), strict=True))
    assert grid.count.sum() == 1 and grid.n_outside == 1
    kept = set(zip(grid.col.tolist(), grid.row.tolist(), strict=True))
    assert (2, 2) not in kept and (0, 0) in kept


def test_no_incidents_but_bounds_gives_an_all_zero_grid() -> None:
    grid = square_grid_counts([], [], 50, bounds=(0, 0, 100, 100))
    assert grid.n_cells == 4 and grid.count.sum() == 0


def test_single_incident() -> None:
    grid = square_grid_counts([12.5], [7.5], 10)
    assert grid.n_cells == 1 and grid.count.tolist() == [1]
    assert grid.bounds == (10.0, 0.0, 20.0, 10.0)


@pytest.mark.parametrize("size", [0, -5, float("nan"), float("inf"), "big"])
def test_bad_cell_size(size: object) -> None:
    with pytest.raises(InputError, match="'cell_size' parameter of square_grid_counts must be a positive"):
        square_grid_counts([1.0], [1.0], size)  # type: ignore[arg-type]


def test_nan_coordinates_are_named() -> None:
    with pytest.raises(InputError, match=r"1 point\(s\) have NaN or infinite coordinates \(the first at position 1"):
        square_grid_counts([1.0, np.nan], [1.0, 2.0], 10)
    with pytest.raises(InputError, match="infinite"):
        square_grid_counts([1.0, np.inf], [1.0, 2.0], 10)


def test_stray_point_at_zero_is_named_and_nothing_is_allocated() -> None:
    rng = np.random.default_rng(0)
    x = np.r_[500_000 + rng.random(999) * 20_000, 0.0]  # a UTM city and a stray (0, 0)
    y = np.r_[4_200_000 + rng.random(999) * 20_000, 0.0]
    start = time.perf_counter()
    with pytest.raises(InputError) as caught:
        square_grid_counts(x, y, 1, crs="EPSG:32630")
    assert time.perf_counter() - start < 2
    message = str(caught.value)
    assert "more than max_cells=50,000,000" in message
    assert "The point at (0, 0) (position 999) lies 4,2" in message and "km from the median" in message
    assert "pass bounds=(" in message
    # the suggested fix works
    grid = square_grid_counts(x, y, 100, bounds=(500_000, 4_200_000, 520_000, 4_220_000))
    assert grid.n_outside == 1 and grid.n_cells == 200 * 200


def test_max_cells_is_configurable() -> None:
    with pytest.raises(InputError, match="max_cells=10"):
        square_grid_counts([0.0, 100.0], [0.0, 100.0], 10, max_cells=10)


def test_bad_bounds_and_origin() -> None:
    with pytest.raises(InputError, match="'bounds' parameter"):
        square_grid_counts([1.0], [1.0], 1, bounds=(5, 5, 0, 0))
    with pytest.raises(InputError, match="'origin' parameter"):
        square_grid_counts([1.0], [1.0], 1, origin=(2.0, 0.0))
    with pytest.raises(InputError, match="no points and no study area"):
        square_grid_counts([], [], 1)


def test_geodataframe_on_demand() -> None:
    grid = square_grid_counts([5.0, 15.0], [5.0, 5.0], 10, crs="EPSG:32630")
    gdf = grid.to_geodataframe()
    assert len(gdf) == 2 and gdf.crs.to_epsg() == 32630
    assert gdf.geometry.area.tolist() == [100.0, 100.0]
    assert grid.provenance["parameters"]["cell_size"] == 10.0


# -- H3 -----------------------------------------------------------------------------------------------
def utm_points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 770_000 + rng.random(n) * 20_000, 3_880_000 + rng.random(n) * 20_000  # Memphis, UTM 15N


def test_h3_counts_match_h3_per_point() -> None:
    import h3
    from pyproj import Transformer

    x, y = utm_points(2000)
    result = h3_counts(x, y, crs="EPSG:32615", resolution=8)
    lon, lat = Transformer.from_crs(32615, 4326, always_xy=True).transform(x, y)
    reference = [h3.str_to_int(h3.latlng_to_cell(a, b, 8)) for a, b in zip(lat, lon, strict=True)]
    assert result.point_cell.tolist() == reference
    counts = dict(zip(result.cell.tolist(), result.count.tolist(), strict=True))
    for cell in set(reference):
        assert counts[cell] == reference.count(cell)
    assert result.count.sum() == 2000 and result.n_outside == 0
    assert (result.count == 0).any()  # empty hexagons of the study box are included


def test_h3_resolution_from_cell_size() -> None:
    import h3

    assert h3_resolution_for(500) == 9  # res 9 averages ~0.105 km², res 8 ~0.737 km²; 500 m squares are 0.25 km²
    assert h3_resolution_for(h3.average_hexagon_area(7, unit="m^2") ** 0.5) == 7
    x, y = utm_points(10)
    assert h3_counts(x, y, crs="EPSG:32615", cell_size=500).resolution == 9
    with pytest.raises(InputError, match="exactly one"):
        h3_counts(x, y, crs="EPSG:32615")
    with pytest.raises(InputError, match="0..15"):
        h3_counts(x, y, crs="EPSG:32615", resolution=16)


def test_h3_needs_a_crs_and_valid_points() -> None:
    x, y = utm_points(5)
    with pytest.raises(CRSError, match="crs="):
        h3_counts(x, y, crs=None, resolution=7)
    with pytest.raises(InputError, match="NaN"):
        h3_counts(np.r_[x, np.nan], np.r_[y, 1.0], crs="EPSG:32615", resolution=7)


def test_h3_outside_polygon_and_stray_point_guard() -> None:
    x, y = utm_points(100)
    area = shapely.box(770_000, 3_880_000, 780_000, 3_890_000)
    result = h3_counts(x, y, crs="EPSG:32615", resolution=8, polygon=area)
    inside = (x <= 780_000) & (y <= 3_890_000)
    assert result.n_outside == int((~inside).sum())
    assert result.count.sum() == int(inside.sum())
    assert "outside" in result.summary()
    with pytest.raises(InputError, match=r"The point at \(0, 0\)"):
        h3_counts(np.r_[x, 0.0], np.r_[y, 0.0], crs="EPSG:32615", resolution=12, max_cells=1e6)


def test_h3_single_point_and_geodataframe() -> None:
    result = h3_counts([780_000.0], [3_890_000.0], crs="EPSG:32615", resolution=9)
    assert result.count.tolist() == [1]
    gdf = result.to_geodataframe()
    assert len(gdf) == 1 and gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].contains(shapely.Point(-89.9, 35.1)) in (True, False)
    assert result.to_frame()["h3"].str.len().iloc[0] == 15


def test_a_stray_point_at_the_origin_is_refused_even_below_max_cells() -> None:
    """1,000 points in a 10 km city and one at (0, 0): 13 million cells fit under max_cells, yet it is absurd."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(350_000, 360_000, 1000), rng.uniform(2_270_000, 2_280_000, 1000)
    x[5], y[5] = 0.0, 0.0
    with pytest.raises(InputError, match=r"The point at \(0, 0\) \(position 5\)"):
        square_grid_counts(x, y, 250)
    grid = square_grid_counts(np.delete(x, 5), np.delete(y, 5), 250)
    assert grid.count.sum() == 999
