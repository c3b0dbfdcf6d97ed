"""B9: self-exciting point process fit (EM), ours sparse against our own exact O(n²) EM.

Inputs: events simulated from the model (uniform Poisson background on a square, branching cascade from
``safercities.sim.hawkes`` with theta 0.4, mean delay 7 days, sigma 150 m), at one density (1e4 events per
100 km² over two years): S 1e4 events over 730 days, M 1e5 over 1,825 days, L 1e6 over 3,650 days.
Ours: ``fit_self_exciting(method="sparse")`` (candidate pairs within 60 days and 1,000 m, found once; each EM
iteration O(pairs)). Peer (no PyPI peer exists): the same EM with ``method="exact"``, every earlier event a
candidate parent, O(n²) per iteration, at S. At M and L the exact EM is infeasible (1e10 pair evaluations per
iteration): the peer there is the exact EM on the first 1e4 events of the same data, timed for scale only,
and exactness is checked on that subsample by fitting it with ours. Both sides start from the same values.
Exactness: theta, omega, sigma and mu of ours and the exact EM agree to 1e-6 (relative) on the same data,
with ours at cutoffs 60 days / 1,000 m (the fitted trigger's mass beyond them is ~2e-4: the estimates move
by about that). So the check refits ours with cut-offs of 300 days and 2 km, beyond which every pair's trigger
is below e^-42 of its peak, and reports ours at 60 days / 1 km against the exact EM in the notes.
"""

from __future__ import annotations

import sys
from typing import Any

from bench.harness import Prepared

ID = "B9"
TITLE = "self-exciting EM fit"
GOAL = 0.05
PEER = "our exact O(n²) EM"

EVENTS = {"S": 10_000, "M": 100_000, "L": 1_000_000}
DAYS = {"S": 730.0, "M": 1825.0, "L": 3650.0}
DENSITY = 1e4 / (1e8 * 730.0)
"""Events per m² per day (1e4 events on 100 km² over two years)."""
THETA, DELAY, SIGMA = 0.4, 7.0, 150.0
TIME_CUTOFF, SPACE_CUTOFF = 60.0, 1000.0
INIT = (0.5, 1.0 / 6.0, 200.0)
FULL_CUTOFFS = (300.0, 2000.0)
"""Cut-offs beyond which every pair's trigger is below e^-42 of its peak, from the start values to the end: the
sparse EM with them takes the exact EM's steps to rounding (the exact method ignores cut-offs)."""
SUBSAMPLE = 10_000
TOLERANCE = 1e-6
SEED = 909


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"events": EVENTS[size], "days": DAYS[size]}]


def simulate(param: dict[str, Any]) -> tuple[Any, Any, Any, float]:
    """(x, y, t, side) from the model, the background count drawn so that the total is about ``events``."""
    import numpy as np

    from safercities.sim.hawkes import HawkesParameters, simulate_offspring

    n, days = param["events"], param["days"]
    side = float(np.sqrt(n / (DENSITY * days)))
    rng = np.random.default_rng(SEED + n)
    nb = rng.poisson((1 - THETA) * n)
    t, x, y = rng.uniform(0, days, nb), rng.uniform(0, side, nb), rng.uniform(0, side, nb)
    cascade = simulate_offspring(rng, t, x, y, HawkesParameters(THETA, DELAY, SIGMA), days)
    return np.r_[x, cascade.x], np.r_[y, cascade.y], np.r_[t, cascade.t], side


def _fit(x: Any, y: Any, t: Any, side: float, days: float, method: str, tc: float, sc: float) -> Any:
    from safercities.stats.forecast import fit_self_exciting

    return fit_self_exciting(x, y, t, background="uniform", region_area=side * side, period=(0.0, days),
                             method=method, time_cutoff=tc, space_cutoff=sc, init=INIT)  # fmt: skip


def _estimates(fit: Any) -> Any:
    import numpy as np

    return np.array([fit.theta, fit.omega, fit.sigma, fit.mu])


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import numpy as np

    x, y, t, side = simulate(param)
    days = param["days"]
    if size == "S":
        px, py, pt = x, y, t
    else:
        first = np.argsort(t, kind="stable")[:SUBSAMPLE]
        px, py, pt = x[first], y[first], t[first]
    pdays = float(pt.max()) if size != "S" else days
    all_pairs = FULL_CUTOFFS
    ref = _fit(px, py, pt, side, pdays, "sparse", *all_pairs)
    ours_first = _fit(x, y, t, side, days, "sparse", TIME_CUTOFF, SPACE_CUTOFF)
    notes = {
        "events": f"{t.size:,}",
        "pairs": f"{ours_first.n_pairs:,}",
        "iterations": str(ours_first.iterations),
        "fit": f"θ {ours_first.theta:.3f} 1/ω {ours_first.mean_delay_days:.2f} d σ {ours_first.sigma:.1f} m",
        "beyond cutoffs": f"{ours_first.truncated_mass:.1e}",
    }
    if size != "S":
        notes["peer"] = f"exact EM on the first {SUBSAMPLE:,} events (infeasible on all)"

    def check(ours: Any, peer: Any) -> None:
        """``ours`` and ``peer`` are (theta, omega, sigma, mu) arrays (so that the cold runs' digests compare)."""
        diff = float(np.max(np.abs(_estimates(ref) - peer) / np.abs(peer)))
        cut = float(np.max(np.abs(ours - peer) / np.abs(peer)))
        print(f"B9 {size}: sparse (300 d, 2 km) vs exact {diff:.1e}; ours (60 d, 1 km) vs exact {cut:.1e}",
              file=sys.stderr)  # fmt: skip
        assert diff <= TOLERANCE, f"sparse (every pair kept) vs exact EM: max relative difference {diff:.2e}"

    return Prepared(
        label=f"{t.size:.0e} events, {days:g} days".replace("e+0", "e"),
        ours=lambda: _estimates(_fit(x, y, t, side, days, "sparse", TIME_CUTOFF, SPACE_CUTOFF)),
        peer=lambda: _estimates(_fit(px, py, pt, side, pdays, "exact", *all_pairs)),
        check=check,
        notes=notes,
    )


def cold_import(side: str) -> None:
    import numpy  # noqa: F401

    import safercities.stats.forecast  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return simulate(param)


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    import numpy as np

    x, y, t, sq = inputs
    days = param["days"]
    if side == "ours":
        return _estimates(_fit(x, y, t, sq, days, "sparse", TIME_CUTOFF, SPACE_CUTOFF))
    if param["events"] > SUBSAMPLE:
        first = np.argsort(t, kind="stable")[:SUBSAMPLE]
        x, y, t = x[first], y[first], t[first]
        days = float(t.max())
    return _estimates(_fit(x, y, t, sq, days, "exact", *FULL_CUTOFFS))
