"""B5: spatial weights: kNN (k = 8) and a 100 m distance band on incident points, queen contiguity of areas.

Ours: :func:`safercities.stats.neighbours.knn` / ``distance_band`` / ``contiguity`` (a ``SpatialWeights``,
validated and sorted). Peer: libpysal ``Graph.build_knn`` / ``build_distance_band`` / ``build_contiguity``
(vertex-based, its default) on the same coordinates and polygons. Both sides end with the links as one
int64 array ``[focal..., neighbor...]`` in (focal, neighbour) order, so that the cold run can be digested.
Exactness: identical links (libpysal's zero-weight self-loops for islands dropped).
"""

from __future__ import annotations

from typing import Any

from bench.harness import Prepared

ID = "B5"
TITLE = "spatial weights"
GOAL = 0.15
PEER = "libpysal Graph.build_*"

POINTS = {"S": 100_000, "M": 1_000_000, "L": 10_000_000}
POLYGONS = {"S": 1_000, "M": 10_000, "L": 100_000}
K = 8
BAND = {"S": 100.0, "M": 25.0, "L": 25.0}
"""The band's radius (m). 100 m around 1e6 clustered incidents is 2.2e8 links: libpysal's dictionary-of-keys
distance matrix for that outgrows this machine's 23 GiB, so M uses 25 m (about 1.4e7 links)."""


def skip_reason() -> str | None:
    try:
        import libpysal  # noqa: F401
    except ImportError:
        return "libpysal is not installed"
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [
        {"what": "knn", "n": POINTS[size]},
        {"what": "band", "n": POINTS[size], "band": BAND[size]},
        {"what": "queen", "n": POLYGONS[size]},
    ]


def _label(param: dict[str, Any]) -> str:
    n = f"{param['n']:.0e}".replace("e+0", "e")
    return {
        "knn": f"kNN k={K}, {n} pts",
        "band": f"{param.get('band', 0):g} m band, {n} pts",
        "queen": f"queen, {n} polygons",
    }[param["what"]]


def _links_ours(w: Any) -> Any:
    import numpy as np

    return np.concatenate([w.focal, w.neighbor])


def _links_peer(g: Any) -> Any:
    import numpy as np

    adj = g.adjacency
    keep = adj.to_numpy() != 0  # libpysal keeps islands as zero-weight self-loops
    focal = adj.index.get_level_values(0).to_numpy()[keep].astype(np.int64)
    neighbor = adj.index.get_level_values(1).to_numpy()[keep].astype(np.int64)
    order = np.lexsort((neighbor, focal))
    return np.concatenate([focal[order], neighbor[order]])


def _ours(what: str, data: Any, band: float = 0.0) -> Any:
    from safercities.stats import neighbours

    if what == "knn":
        return _links_ours(neighbours.knn(data, K))
    if what == "band":
        return _links_ours(neighbours.distance_band(data, band))
    return _links_ours(neighbours.contiguity(data, rule="queen"))


def _peer(what: str, data: Any, band: float = 0.0) -> Any:
    from libpysal.graph import Graph

    if what == "knn":
        return _links_peer(Graph.build_knn(data, k=K))
    if what == "band":
        return _links_peer(Graph.build_distance_band(data, band))
    return _links_peer(Graph.build_contiguity(data, rook=False))


def check(ours: Any, peer: Any) -> None:
    import numpy as np

    assert ours.shape == peer.shape, f"{len(ours) // 2} links vs {len(peer) // 2}"
    diff = np.flatnonzero(ours != peer)
    assert diff.size == 0, f"{diff.size} link ends differ, first at {diff[0] if diff.size else -1}"


def _inputs(param: dict[str, Any], *, peer: bool) -> Any:
    import numpy as np

    from bench.inputs import incident_points, voronoi_areas

    if param["what"] == "queen":
        areas = voronoi_areas(param["n"])
        if peer:
            import geopandas as gpd

            return gpd.GeoSeries(areas)
        return areas
    x, y = incident_points(param["n"])
    return np.column_stack([x, y])


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    what = param["what"]
    ours_in = _inputs(param, peer=False)
    peer_in = _inputs(param, peer=True)
    return Prepared(
        label=_label(param),
        ours=lambda: _ours(what, ours_in, param.get("band", 0.0)),
        peer=lambda: _peer(what, peer_in, param.get("band", 0.0)),
        check=check,
    )


def cold_import(side: str) -> None:
    if side == "ours":
        import safercities.stats.neighbours  # noqa: F401
    else:
        import libpysal.graph  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return _inputs(param, peer=False)


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    if side == "ours":
        return _ours(param["what"], inputs, param.get("band", 0.0))
    if param["what"] == "queen":  # the peer's own input type, built in the timed call (a cheap wrapper)
        import geopandas as gpd

        inputs = gpd.GeoSeries(inputs)
    return _peer(param["what"], inputs, param.get("band", 0.0))
