"""B6: the Knox test over space × time bands with Monte Carlo p-values.

Ours: :func:`safercities.stats.nearrepeat.knox` (KD-tree close pairs once, then 16 permutations per pass over the
pair list in a parallel numba kernel). Peer: pointpats ``knox()`` (one space-time cell: d <= delta, dt <= tau), and
the ``Knox`` class at S. Inputs: ``bench.inputs.incident_points`` (70% in Gaussian hot spots) with random whole days
over a year (no interaction). Bands: 2×2 = [0, 100) m × [0, 7) days plus the "more than" bands; 6×6 = same location,
1-25, 25-50, 50-75, 75-100 m, more than 100 m × 0-7, …, 28-35, more than 35 days.
Exactness: our close cells (all finite bands together) hold exactly pointpats' count with delta = 100 m, tau = last
finite day edge - 1 (whole days: dt <= tau - 1 is dt < tau; no pair lies at exactly 100 m). p-values: pointpats
reports the smaller tail, (min(k, R - k) + 1) / (R + 1), for that one cell; ours is per cell, so at 2×2 ours is
folded the same way and must agree within Monte Carlo error (4 sd of the difference of two estimates + 2/(R+1)).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from bench.harness import Prepared

ID = "B6"
TITLE = "Knox test, space × time bands"
GOAL = 0.1
PEER = "pointpats knox()"

EVENTS = {"S": 10_000, "M": 100_000, "L": 1_000_000}
BANDS = {
    "2x2": ([0.0, 100.0, math.inf], [0.0, 7.0, math.inf]),
    "6x6": ([0.0, 1.0, 25.0, 50.0, 75.0, 100.0, math.inf], [0.0, 7.0, 14.0, 21.0, 28.0, 35.0, math.inf]),
}


def skip_reason() -> str | None:
    try:
        import pointpats  # noqa: F401
    except ImportError:
        return "pointpats is not installed"
    return None


def params(size: str) -> list[dict[str, Any]]:
    out = [{"events": EVENTS[size], "bands": b, "permutations": r, "peer": "knox"} for b in BANDS for r in (99, 999)]
    if size == "S":
        out.append({"events": EVENTS[size], "bands": "2x2", "permutations": 99, "peer": "Knox"})
    return out


def _inputs(n: int) -> tuple[Any, Any, Any]:
    import numpy as np

    from bench.inputs import incident_points

    x, y = incident_points(n)
    t = np.random.default_rng(2024).integers(0, 365, n).astype(float)
    return x, y, t


def _ours(x: Any, y: Any, t: Any, param: dict[str, Any]) -> Any:
    import numpy as np

    from safercities.stats.nearrepeat import knox

    d, tb = BANDS[param["bands"]]
    r = knox(x, y, t, distance_bands=d, time_bands=tb, permutations=param["permutations"], rng=7)
    return np.concatenate([r.observed.ravel().astype(float), r.pvalues.ravel()])


def _peer(x: Any, y: Any, t: Any, param: dict[str, Any]) -> Any:
    import numpy as np

    d, tb = BANDS[param["bands"]]
    coords = np.column_stack([x, y])
    delta, tau = d[-2], tb[-2] - 1
    np.random.seed(7)  # pointpats draws from numpy's global state
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if param["peer"] == "Knox":
            from pointpats.spacetime import Knox

            k = Knox(coords, t.reshape(-1, 1).copy(), delta=delta, tau=tau, permutations=param["permutations"])
            return np.array([float(k.nst), float(k.p_sim)])
        from pointpats.spacetime import knox

        res = knox(coords, t.reshape(-1, 1).copy(), delta=delta, tau=tau, permutations=param["permutations"])
        return np.array([float(res["stat"]), float(np.ravel(res["pvalue"])[0])])


def _check(param: dict[str, Any]) -> Any:
    def check(ours: Any, peer: Any) -> None:
        import numpy as np

        nd, nt = (len(e) - 1 for e in BANDS[param["bands"]])
        table = ours[: nd * nt].reshape(nd, nt)
        close = table[:-1, :-1].sum()
        assert close == peer[0], f"space-time close pairs: ours {close:.0f}, pointpats {peer[0]:.0f}"
        if param["bands"] == "2x2":
            r = param["permutations"]
            p = ours[nd * nt]
            k = round(p * (r + 1)) - 1  # permuted counts >= observed
            ours_small = (min(k, r - k) + 1) / (r + 1)
            tol = 4 * math.sqrt(2 * 0.25 / r) + 2 / (r + 1)
            if param["peer"] == "Knox":  # the class reports the upper tail, as ours
                ours_small = p
            msg = f"p: ours {ours_small:.3f}, pointpats {peer[1]:.3f} (tol {tol:.3f})"
            assert abs(ours_small - peer[1]) <= tol, msg
        assert np.isfinite(ours).all()

    return check


def _label(param: dict[str, Any]) -> str:
    peer = "" if param["peer"] == "knox" else " vs Knox class"
    return f"{param['events']:.0e} ev, {param['bands']}, R={param['permutations']}{peer}".replace("e+0", "e")


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import time

    from safercities.stats.nearrepeat import close_pairs

    x, y, t = _inputs(param["events"])
    t0 = time.perf_counter()
    d, _ = BANDS[param["bands"]]
    pairs = close_pairs(x, y, d[-2], "euclidean")[0].size
    return Prepared(
        label=_label(param),
        ours=lambda: _ours(x, y, t, param),
        peer=lambda: _peer(x, y, t, param),
        check=_check(param),
        notes={"close pairs": f"{pairs:,}", "KD-tree": f"{time.perf_counter() - t0:.2f}s"},
    )


def cold_import(side: str) -> None:
    import numpy  # noqa: F401

    if side == "ours":
        import safercities.stats.nearrepeat  # noqa: F401
    else:
        import pointpats.spacetime  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return _inputs(param["events"])


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    x, y, t = inputs
    return _ours(x, y, t, param) if side == "ours" else _peer(x, y, t, param)
