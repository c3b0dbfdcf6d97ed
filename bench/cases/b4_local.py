"""B4: Gi* and local Moran with 999 conditional permutations on a square lattice.

Ours: :func:`safercities.stats.hotspots.getis_ord` (``star=True``, binary weights) and
:func:`safercities.stats.hotspots.local_moran` (row-standardised), 999 permutations, p-values with
``alternative="directed"`` (esda's ``p_sim`` convention, so that the two are comparable). Peer: esda
``G_Local(star=True, transform="B", permutations=999, n_jobs=1)`` and
``Moran_Local(permutations=999, n_jobs=1)``. Both sides get weights built once (ours a
``SpatialWeights`` from ``neighbours.lattice``, the peer's a libpysal ``lat2W``, queen contiguity),
outside the timing. Values: seeded gamma-distributed rates (continuous, so that no tie depends on
floating-point rounding).

Exactness: statistics and z-scores equal to 1e-8 (local Moran: esda's z rescaled to one scaling, see
``safercities.stats.hotspots``); permutation p-values within Monte Carlo error: mean |Δp| < 0.04, max
|Δp| < 0.15 and correlation > 0.95 (one p-value with R = 999 has sd <= 0.016).
Cold: import + one call; ours loads its numba kernels from the on-disk cache (``cache=True``),
esda compiles its kernels in every new process.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Prepared

ID = "B4"
TITLE = "Gi* and local Moran, 999 permutations"
GOAL = 0.1
PEER = "esda G_Local / Moran_Local (n_jobs=1)"

SIDES = {"S": 100, "M": 224, "L": 1000}
PERMUTATIONS = 999
SEED = 20240501


def skip_reason() -> str | None:
    try:
        import esda  # noqa: F401
        import libpysal  # noqa: F401
    except ImportError as exc:
        return f"peer not installed: {exc}"
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"side": SIDES[size], "statistic": s, "rule": "queen"} for s in ("gistar", "local_moran")]


def _values(side: int) -> Any:
    import numpy as np

    return np.random.default_rng(SEED).gamma(2.0, 3.0, side * side)


def _ours(weights: Any, y: Any, statistic: str) -> Any:
    import numpy as np

    from safercities.stats.hotspots import getis_ord, local_moran

    if statistic == "gistar":
        r = getis_ord(y, weights, star=True, transform="B", permutations=PERMUTATIONS, rng=SEED, alternative="directed")
    else:
        r = local_moran(y, weights, permutations=PERMUTATIONS, rng=SEED, alternative="directed")
    return np.vstack([r.statistic, r.z, r.p_sim])


def _peer(w: Any, y: Any, statistic: str) -> Any:
    import warnings

    import esda
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # esda's own deprecation notices
        if statistic == "gistar":
            g = esda.G_Local(y, w, transform="B", star=True, permutations=PERMUTATIONS, n_jobs=1, seed=SEED)
            return np.vstack([g.Gs, g.Zs, g.p_sim])
        m = esda.Moran_Local(y, w, permutations=PERMUTATIONS, n_jobs=1, seed=SEED)
    n = len(y)
    z = (m.Is * n / (n - 1) - m.EI) / np.sqrt(m.VI)  # one scaling for I_i and its moments
    return np.vstack([m.Is, z, m.p_sim])


def check(ours: Any, peer: Any) -> None:
    import numpy as np

    assert ours.shape == peer.shape, f"shapes differ: {ours.shape} vs {peer.shape}"
    for row, name in ((0, "statistic"), (1, "z")):
        diff = float(np.abs(ours[row] - peer[row]).max())
        assert diff <= 1e-8, f"{name}: max |difference| {diff:.3g} > 1e-8"
    dp = np.abs(ours[2] - peer[2])
    corr = float(np.corrcoef(ours[2], peer[2])[0, 1])
    assert dp.mean() < 0.04 and dp.max() < 0.15 and corr > 0.95, (
        f"p-values beyond Monte Carlo error: mean |Δp| {dp.mean():.4f}, max {dp.max():.4f}, corr {corr:.4f}"
    )


def _peer_w(side: int, rule: str) -> Any:
    import libpysal

    return libpysal.weights.lat2W(side, side, rook=rule == "rook")


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import numpy as np

    from safercities.stats.neighbours import lattice

    side, statistic, rule = param["side"], param["statistic"], param["rule"]
    weights = lattice(side, side, rule=rule)
    peer_w = _peer_w(side, rule)
    y = _values(side)
    label = f"{'Gi*' if statistic == 'gistar' else 'local Moran'} {side}×{side} {rule}"
    notes: dict[str, str] = {}

    def checked(ours: Any, peer: Any) -> None:
        check(ours, peer)
        dp = np.abs(ours[2] - peer[2])
        notes["max|Δp|"] = f"{dp.max():.3f}"
        notes["mean|Δp|"] = f"{dp.mean():.4f}"

    return Prepared(
        label=label,
        ours=lambda: _ours(weights, y, statistic),
        peer=lambda: _peer(peer_w, y, statistic),
        check=checked,
        notes=notes,
    )


def cold_import(side: str) -> None:
    import numpy  # noqa: F401

    if side == "ours":
        import safercities.stats.hotspots  # noqa: F401
        import safercities.stats.neighbours  # noqa: F401
    else:
        import esda  # noqa: F401
        import libpysal  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    from safercities.stats.neighbours import lattice

    side, rule = param["side"], param["rule"]
    return lattice(side, side, rule=rule), _peer_w(side, rule), _values(side)


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    weights, peer_w, y = inputs
    if side == "ours":
        return _ours(weights, y, param["statistic"])
    return _peer(peer_w, y, param["statistic"])
