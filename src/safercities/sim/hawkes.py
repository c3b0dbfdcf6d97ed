"""Self-excitation (near repeats) for burglary: a Hawkes process simulated as a branching cascade.

Every burglary, background or triggered, has Poisson(branching_ratio) offspring; each child follows
its parent after an exponential delay (mean ``time_scale_days``) at an isotropic Gaussian displacement
(standard deviation ``space_scale_m`` per axis). With branching ratio n < 1 the expected share of
triggered events among all events is n in a long period (each background event has n / (1 - n)
descendants). Generated generation by generation: the loop runs over generations, never over events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safercities.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_GENERATIONS = 200


@dataclass(frozen=True)
class HawkesParameters:
    """Triggering kernel: n * Exp(t; mean time_scale_days) * Normal2(dx, dy; sd space_scale_m)."""

    branching_ratio: float = 0.4
    time_scale_days: float = 7.0
    space_scale_m: float = 150.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.branching_ratio < 1.0:
            raise InputError(
                "The 'branching_ratio' parameter of HawkesParameters must be in [0, 1) for a stationary process. "
                f"Got {self.branching_ratio!r} instead."
            )
        if self.time_scale_days <= 0 or self.space_scale_m <= 0:
            raise InputError("The 'time_scale_days' and 'space_scale_m' parameters of HawkesParameters must be > 0.")


@dataclass(frozen=True)
class Cascade:
    """Offspring of a set of parents. ``parent`` indexes the stacked array [parents, offspring]."""

    t: FloatArray
    x: FloatArray
    y: FloatArray
    generation: IntArray
    parent: IntArray
    events_branched: int
    """Events (parents and offspring) before the horizon, each of which drew its Poisson number of children."""
    children_drawn: int
    """All children drawn, including those past the horizon that are then dropped."""


def simulate_offspring(
    rng: np.random.Generator,
    t: FloatArray,
    x: FloatArray,
    y: FloatArray,
    params: HawkesParameters,
    horizon: float,
) -> Cascade:
    """Offspring, generation by generation, of parents at (t, x, y); those at or past ``horizon`` are dropped.

    Children outside the city are kept here (they may trigger children inside it); the caller decides
    what to do with them.
    """
    all_t, all_x, all_y = [np.asarray(t, float)], [np.asarray(x, float)], [np.asarray(y, float)]
    generation, parent = [np.zeros(len(t), np.int64)], [np.full(len(t), -1, np.int64)]
    current = np.arange(len(t), dtype=np.int64)
    cur_t, cur_x, cur_y = all_t[0], all_x[0], all_y[0]
    n_total, branched, drawn = len(t), 0, 0
    for g in range(1, MAX_GENERATIONS + 1):
        alive = cur_t < horizon
        branched += int(alive.sum())
        k = rng.poisson(params.branching_ratio, size=int(alive.sum()))
        drawn += int(k.sum())
        src = np.repeat(np.flatnonzero(alive), k)
        if src.size == 0:
            break
        child_t = cur_t[src] + rng.exponential(params.time_scale_days, size=src.size)
        child_x = cur_x[src] + rng.normal(0.0, params.space_scale_m, size=src.size)
        child_y = cur_y[src] + rng.normal(0.0, params.space_scale_m, size=src.size)
        keep = child_t < horizon
        src_global = current[src][keep]
        cur_t, cur_x, cur_y = child_t[keep], child_x[keep], child_y[keep]
        current = n_total + np.arange(cur_t.size, dtype=np.int64)
        n_total += cur_t.size
        all_t.append(cur_t)
        all_x.append(cur_x)
        all_y.append(cur_y)
        generation.append(np.full(cur_t.size, g, np.int64))
        parent.append(src_global)
    return Cascade(
        t=np.concatenate(all_t[1:]) if len(all_t) > 1 else np.empty(0),
        x=np.concatenate(all_x[1:]) if len(all_x) > 1 else np.empty(0),
        y=np.concatenate(all_y[1:]) if len(all_y) > 1 else np.empty(0),
        generation=np.concatenate(generation[1:]) if len(generation) > 1 else np.empty(0, np.int64),
        parent=np.concatenate(parent[1:]) if len(parent) > 1 else np.empty(0, np.int64),
        events_branched=branched,
        children_drawn=drawn,
    )
