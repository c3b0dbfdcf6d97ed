"""Grid counts against sfhotspot's published output, and H3 counts against h3's own per-point call.

Memphis personal robberies, January 2019 (../shared/data/memphis_robberies, SOURCE.md):
``hotspot_count(st_transform(memphis_robberies_jan, 32615), cell_size = 200)`` in sfhotspot 1.0.0
(pkgdown reference page at commit 6b3caf7d) gives 16,133 cells, bbox 762136.2 3876586 794136.2
3905386, and first counts 0,0,0,0,1,0,0,0,0,0 (cell 1 lower-left (771936.2, 3876586)).

sfhotspot's grid convention (R/create_grid.R): the convex hull of the points buffered by
cell_size / 2 (sf::st_buffer, 30 segments per quarter circle); sf::st_make_grid over that hull, whose
origin is the hull's bbox minimum and whose cells run row by row from the bottom, x fastest; cells that
intersect the hull kept. We reproduce it with ``polygon=hull, origin=hull bbox minimum``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from safercities.stats.grids import h3_counts, square_grid_counts

SFHOTSPOT_N_CELLS = 16_133
SFHOTSPOT_BBOX = (762136.2, 3876586, 794136.2, 3905386)  # printed to 7 significant digits
BBOX_TOLERANCE = 0.5  # metres: half a printed unit
SFHOTSPOT_FIRST_COUNTS = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
SFHOTSPOT_FIRST_CELL_LOWER_LEFT = (771936.2, 3876586)


@pytest.fixture(scope="module")
def memphis_utm(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    frame = pd.read_csv(shared_data / "memphis_robberies" / "memphis_robberies_jan.csv")
    x, y = Transformer.from_crs(4326, 32615, always_xy=True).transform(
        frame["longitude"].to_numpy(), frame["latitude"].to_numpy()
    )
    return np.asarray(x), np.asarray(y)


def test_sfhotspot_hotspot_count_200m(memphis_utm: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = memphis_utm
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y]))).buffer(100, quad_segs=30)
    grid = square_grid_counts(x, y, 200, polygon=hull, origin=hull.bounds[:2], crs="EPSG:32615")
    assert grid.n_cells == SFHOTSPOT_N_CELLS
    assert grid.bounds == pytest.approx(SFHOTSPOT_BBOX, abs=BBOX_TOLERANCE)
    assert grid.count[:10].tolist() == SFHOTSPOT_FIRST_COUNTS
    frame = grid.to_frame()
    assert (frame.loc[0, "x_min"], frame.loc[0, "y_min"]) == pytest.approx(
        SFHOTSPOT_FIRST_CELL_LOWER_LEFT, abs=BBOX_TOLERANCE
    )
    assert grid.count.sum() == len(x) and grid.n_outside == 0


def test_h3_against_per_point_latlng_to_cell(shared_data: Path) -> None:
    import h3

    frame = pd.read_csv(shared_data / "memphis_robberies" / "memphis_robberies.csv")
    sample = frame.sample(500, random_state=3)
    lon, lat = sample["longitude"].to_numpy(), sample["latitude"].to_numpy()
    for resolution in (7, 9):
        result = h3_counts(lon, lat, crs="EPSG:4326", resolution=resolution)
        reference = pd.Series(
            [h3.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon, strict=True)]
        ).value_counts()
        ours = result.to_frame().set_index("h3")["count"]
        assert ours[ours > 0].sort_index().to_dict() == reference.sort_index().to_dict()
