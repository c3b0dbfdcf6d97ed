"""B1: points → areas, counts per area.

Ours: :class:`safercities.geo.AreaIndex` built once (a workspace caches it; its build time is
reported in the notes, not in the ratio), then ``assign`` + ``np.bincount``. Peer: geopandas
``sjoin(predicate="within")`` + ``value_counts`` on the same points and polygons (the polygons'
GeoDataFrame and its spatial index are likewise built once and reused after the warm-up).
Exactness: identical counts for every area (random points never fall on a boundary, where
"within" and our "intersects, lowest index" rule would differ).
Cold: import + build + assign + bincount for ours (no cache: the honest first run), import +
GeoDataFrames + sjoin + value_counts for the peer.
"""

from __future__ import annotations

import time
from typing import Any

from bench.harness import Prepared

ID = "B1"
TITLE = "points → areas, counts"
GOAL = 0.15
PEER = "geopandas sjoin + value_counts"

POINTS = {"S": 100_000, "M": 1_000_000, "L": 30_000_000}
AREAS = (1_000, 10_000)


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"points": POINTS[size], "areas": n} for n in AREAS]


def _label(param: dict[str, Any]) -> str:
    return f"{param['points']:.0e} pts → {param['areas'] // 1000}k areas".replace("e+0", "e")


def _ours(index: Any, x: Any, y: Any) -> Any:
    import numpy as np

    a = index.assign(x, y)
    return np.bincount(a[a >= 0], minlength=len(index))


def _peer(polys: Any, x: Any, y: Any, n_areas: int) -> Any:
    import geopandas as gpd
    import numpy as np

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y))
    joined = gpd.sjoin(pts, polys, how="inner", predicate="within")
    vc = joined["index_right"].value_counts()
    counts = np.zeros(n_areas, dtype=np.int64)
    counts[vc.index.to_numpy()] = vc.to_numpy()
    return counts


def check(ours: Any, peer: Any) -> None:
    import numpy as np

    ours = np.asarray(ours, dtype=np.int64)
    peer = np.asarray(peer, dtype=np.int64)
    assert ours.shape == peer.shape, f"shapes differ: {ours.shape} vs {peer.shape}"
    diff = np.flatnonzero(ours != peer)
    assert diff.size == 0, (
        f"{diff.size} areas differ, e.g. area {diff[0]}: ours {ours[diff[0]]}, peer {peer[diff[0]]}"
        if diff.size
        else ""
    )


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import geopandas as gpd

    from bench.inputs import incident_points, voronoi_areas
    from safercities.geo import AreaIndex

    areas = voronoi_areas(param["areas"])
    x, y = incident_points(param["points"])
    t0 = time.perf_counter()
    index = AreaIndex.build(areas)
    build_s = time.perf_counter() - t0
    polys = gpd.GeoDataFrame(geometry=gpd.GeoSeries(areas))
    ambiguous = float((index._lookup(x, y) == -2).mean())  # noqa: SLF001 - a diagnostic for the notes
    g = index.grid
    return Prepared(
        label=_label(param),
        ours=lambda: _ours(index, x, y),
        peer=lambda: _peer(polys, x, y, len(areas)),
        check=check,
        notes={
            "build": f"{build_s:.2f}s",
            "raster": f"{g.nx}×{g.ny} {index.labels.dtype}",
            "fallback": f"{ambiguous:.1%} of pts",
        },
    )


def cold_import(side: str) -> None:
    import numpy  # noqa: F401

    if side == "ours":
        import safercities.geo  # noqa: F401
    else:
        import geopandas  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    from bench.inputs import incident_points, voronoi_areas

    areas = voronoi_areas(param["areas"])
    x, y = incident_points(param["points"])
    return areas, x, y


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    areas, x, y = inputs
    if side == "ours":
        from safercities.geo import AreaIndex

        return _ours(AreaIndex.build(areas), x, y)
    import geopandas as gpd

    return _peer(gpd.GeoDataFrame(geometry=gpd.GeoSeries(areas)), x, y, len(areas))
