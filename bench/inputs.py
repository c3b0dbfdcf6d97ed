"""Seeded inputs for the benchmarks: a Voronoi "city" of areas and incident points over it.

Every run measures the same work: each generator takes an explicit seed and returns the same
arrays for the same arguments. (The synthetic city ``safercities.sim`` can replace this once it
offers seeded areas and incidents at these sizes.)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely

CITY_SIZE = 20_000.0
"""Side of the square city, in metres (a projected CRS)."""


@lru_cache(maxsize=8)
def voronoi_areas(n_areas: int, seed: int = 20240501) -> np.ndarray:
    """``n_areas`` non-overlapping Voronoi polygons tiling the square [0, CITY_SIZE]², seeded."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0.0, 0.0, CITY_SIZE, CITY_SIZE)
    sites = shapely.multipoints(rng.uniform(0.0, CITY_SIZE, (n_areas, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=box))
    cells = shapely.intersection(cells, box)
    # voronoi_polygons orders cells by GEOS's internal order: sort by centroid for a stable, readable order.
    c = shapely.get_coordinates(shapely.centroid(cells))
    areas = np.asarray(cells[np.lexsort((c[:, 0], c[:, 1]))], dtype=object)
    areas.flags.writeable = False
    return areas


@lru_cache(maxsize=4)
def incident_points(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """``n`` incident locations: 70% around 200 Gaussian hot spots, 30% spread evenly (2% of them
    slightly beyond the city's edge, as geocoding errors are), seeded."""
    rng = np.random.default_rng(seed)
    n_hot = int(n * 0.7)
    hot = rng.uniform(0.05 * CITY_SIZE, 0.95 * CITY_SIZE, (200, 2))
    which = rng.integers(0, len(hot), n_hot)
    spread = rng.uniform(0.003, 0.03, len(hot)) * CITY_SIZE
    xy_hot = hot[which] + rng.normal(0.0, 1.0, (n_hot, 2)) * spread[which, None]
    pad = 0.02 * CITY_SIZE
    xy_even = rng.uniform(-pad, CITY_SIZE + pad, (n - n_hot, 2))
    xy = np.concatenate([xy_hot, xy_even])[rng.permutation(n)]
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y
