"""B7: emerging hot spots (Gi* per weekly slice + FDR + Mann-Kendall + categories) on a square lattice.

Ours: :func:`safercities.stats.emerging.emerging_hotspots` on the whole cube (analytic Gi* z per slice, queen
weights, FDR per slice, the vectorised Mann-Kendall trend of every cell's z-series, the 17 categories).
Peer: pymannkendall ``original_test`` per cell on the same z-series, plus esda ``G_Local(star=True,
transform="B", permutations=0)`` per slice.

The peer is far too slow to run whole in every round (here about 10 ms per cell for pymannkendall and about
1 s per 1e4-cell slice for esda: some 200 s per call at S and over 30 min at M), so each round times it on a
fixed sample: ``MK_CELLS`` cells' Mann-Kendall and ``ESDA_SLICES`` slices' G_Local. The peer's measured time
is therefore a lower bound of its full time and **the ratio an upper bound** of the true one; the notes give
the full peer time extrapolated linearly (cells, slices) and the ratio against it.

Exactness: on the sampled cells, Mann-Kendall z and p equal to pymannkendall's to 1e-10, computed on our
Gi* z-series; on the sampled slices, Gi* z equal to esda's to 1e-10.
"""

from __future__ import annotations

import time
from typing import Any

from bench.harness import Prepared

ID = "B7"
TITLE = "emerging hot spots: Gi* per slice + Mann-Kendall"
GOAL = 0.01
PEER = "pymannkendall original_test per cell + esda G_Local per slice (sampled)"

SIDES = {"S": 100, "M": 316, "L": 1000}
WEEKS = 104
MK_CELLS = 1000
ESDA_SLICES = {"S": 4, "M": 1, "L": 1}
SEED = 20240501


def skip_reason() -> str | None:
    try:
        import esda  # noqa: F401
        import libpysal  # noqa: F401
        import pymannkendall  # noqa: F401
    except ImportError as exc:
        return f"peer not installed: {exc}"
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"side": SIDES[size], "weeks": WEEKS, "slices": ESDA_SLICES[size]}]


def _cube(side: int, weeks: int) -> Any:
    """Seeded weekly counts: Poisson around a smooth surface, with a block whose rate rises over the weeks."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    r, c = np.divmod(np.arange(side * side), side)
    base = 1.0 + 2.0 * np.exp(-((r - side / 3) ** 2 + (c - side / 3) ** 2) / (2 * (side / 6) ** 2))
    trend = np.linspace(0.0, 1.0, weeks)[None, :]
    rising = ((r > side / 2) & (c > side / 2)).astype(float)[:, None]
    return rng.poisson(base[:, None] * (1.0 + rising * trend)).astype(float)


def _samples(n: int, weeks: int, slices: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(SEED + 1)
    cells = np.sort(rng.choice(n, size=min(MK_CELLS, n), replace=False))
    weeks_at = np.linspace(0, weeks - 1, slices).round().astype(int)
    return cells, weeks_at


def _ours(counts: Any, weights: Any) -> Any:
    """The whole analysis; returns [trend z, trend p, Gi* z per slice] per cell (an array, for the digest)."""
    import numpy as np

    from safercities.stats.emerging import emerging_hotspots

    result = emerging_hotspots(counts, weights)
    return np.column_stack([result.trend.z, result.trend.p, result.z])


def _peer(counts: Any, w: Any, series: Any, cells: Any, weeks_at: Any) -> Any:
    import warnings

    import esda
    import numpy as np
    import pymannkendall as mk

    trend = np.array([[*mk.original_test(series[i])[2:4]] for i in cells]).reshape(-1, 2)  # p, z
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # esda's own deprecation notices
        gi = np.empty((counts.shape[0], len(weeks_at)))
        for k, t in enumerate(weeks_at):
            gi[:, k] = esda.G_Local(counts[:, t], w, transform="B", star=True, permutations=0).Zs
    return trend, gi


def _check(cells: Any, weeks_at: Any) -> Any:
    def check(ours: Any, peer: Any) -> None:
        import numpy as np

        trend, gi = peer
        dz = np.abs(ours[cells, 0] - trend[:, 1]).max()
        dp = np.abs(ours[cells, 1] - trend[:, 0]).max()
        dg = np.nanmax(np.abs(ours[:, 2 + weeks_at] - gi))
        assert dz <= 1e-10, f"Mann-Kendall z differs by {dz:.3g}"
        assert dp <= 1e-10, f"Mann-Kendall p differs by {dp:.3g}"
        assert dg <= 1e-10, f"Gi* z differs from esda by {dg:.3g}"

    return check


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import libpysal

    from safercities.stats.neighbours import lattice

    side, weeks = param["side"], param["weeks"]
    counts = _cube(side, weeks)
    weights = lattice(side, side, rule="queen")
    w = libpysal.weights.lat2W(side, side, rook=False)
    series = _ours(counts, weights)[:, 2:]  # the peer tests the same Gi* z-series
    cells, weeks_at = _samples(side * side, weeks, param["slices"])
    t0 = time.perf_counter()
    _peer(counts, w, series, cells[:100], weeks_at[:0])
    mk_cell = (time.perf_counter() - t0) / 100
    t0 = time.perf_counter()
    _peer(counts, w, series, cells[:0], weeks_at[:1])
    esda_slice = time.perf_counter() - t0
    full = mk_cell * side * side + esda_slice * weeks
    t0 = time.perf_counter()
    _ours(counts, weights)
    ours_once = time.perf_counter() - t0
    return Prepared(
        label=f"{side * side:.0e} cells × {weeks} weeks".replace("e+0", "e"),
        ours=lambda: _ours(counts, weights),
        peer=lambda: _peer(counts, w, series, cells, weeks_at),
        check=_check(cells, weeks_at),
        notes={
            "peer sample": f"MK {len(cells)} of {side * side} cells, G_Local {len(weeks_at)} of {weeks} slices",
            "full peer (extrapolated)": f"{full:.0f}s (MK {mk_cell * 1e3:.1f} ms/cell, G_Local {esda_slice:.2f}s each)",
            "ratio vs full peer": f"{ours_once / full:.5f}",
        },
    )


def cold_import(side: str) -> None:
    import numpy  # noqa: F401

    if side == "ours":
        import safercities.stats.emerging  # noqa: F401
    else:
        import esda  # noqa: F401
        import pymannkendall  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    from safercities.stats.emerging import gi_star_slices
    from safercities.stats.neighbours import lattice

    side, weeks = param["side"], param["weeks"]
    counts = _cube(side, weeks)
    weights = lattice(side, side, rule="queen")
    cells, weeks_at = _samples(side * side, weeks, param["slices"])
    return counts, weights, gi_star_slices(counts, weights), cells, weeks_at, side


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    counts, weights, series, cells, weeks_at, lattice_side = inputs
    if side == "ours":
        return _ours(counts, weights)
    import libpysal

    return _peer(counts, libpysal.weights.lat2W(lattice_side, lattice_side, rook=False), series, cells, weeks_at)
