"""Planted outbreaks: extra crimes of one offence in one community for a few weeks, at a known lift.

An outbreak multiplies the background intensity of its (community, offence) cell by ``lift`` from a Monday for
``weeks`` weeks: it adds Poisson((lift - 1) x the cell's expected background count in that window) crimes, whose
days follow the offence's seasonality and weekday profile within the window, whose hours follow its hour profile
and whose places are uniform in the community. They are then recorded like any crime (the offence's reporting
probability), so that an early-warning method can be scored against places and weeks known in advance. Outbreak
crimes trigger no near repeats, so the lift of the background is exact. Outbreak weeks are Monday-to-Sunday, as
the workspace's weekly cube counts them.

Cells are drawn among those whose expected *recorded* count per week is at least ``min_weekly_recorded`` (an
outbreak of one robbery a month is undetectable by any method, and planting it would only measure that); when no
cell qualifies, among the busiest cells. Draws come from the simulation's one generator, after the crimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from safercities.errors import InputError
from safercities.sim.catalogue import OFFENCES, Offence, hour_weights
from safercities.sim.covariates import Census
from safercities.sim.geography import City, sample_in_polygons
from safercities.sim.intensity import Seasonality, _location_types, background_means, day_weights

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_OFFENCES: tuple[str, ...] = ("street_robbery", "burglary", "business_robbery", "vehicle_theft", "assault")
"""Offences an outbreak may hit by default: those frequent enough per community and week to be monitored weekly."""


@dataclass(frozen=True)
class OutbreakPlan:
    """How many outbreaks to plant, how strong and how long, and where they may fall."""

    n: int = 4
    lift: float = 3.0
    """Multiplicative lift of the cell's background intensity during the outbreak."""
    weeks: int = 4
    offences: tuple[str, ...] = DEFAULT_OFFENCES
    min_weekly_recorded: float = 1.0
    """Eligible cells expect at least this many recorded crimes per week without the outbreak."""
    earliest_week: int = 52
    """No outbreak starts before this week of the period (a year of history for the baseline); capped to half."""

    def __post_init__(self) -> None:
        if not (isinstance(self.n, int) and not isinstance(self.n, bool) and self.n >= 0):
            raise InputError(f"The 'n' parameter of OutbreakPlan must be an integer >= 0. Got {self.n!r} instead.")
        if not (isinstance(self.weeks, int) and not isinstance(self.weeks, bool) and self.weeks >= 1):
            raise InputError(
                f"The 'weeks' parameter of OutbreakPlan must be an integer >= 1. Got {self.weeks!r} instead."
            )
        if not (float(self.lift) > 1.0 and np.isfinite(self.lift)):
            raise InputError(f"The 'lift' parameter of OutbreakPlan must be a number > 1. Got {self.lift!r} instead.")
        if self.earliest_week < 0 or self.min_weekly_recorded < 0:
            raise InputError("The 'earliest_week' and 'min_weekly_recorded' parameters of OutbreakPlan must be >= 0.")


def as_plan(outbreaks: OutbreakPlan | int | None) -> OutbreakPlan:
    """``None`` or 0: no outbreaks; an int: that many with the default plan; a plan as given."""
    if outbreaks is None:
        return OutbreakPlan(n=0)
    if isinstance(outbreaks, OutbreakPlan):
        unknown = [k for k in outbreaks.offences if k not in {o.key for o in OFFENCES}]
        if unknown or not outbreaks.offences:
            raise InputError(
                f"The 'offences' parameter of OutbreakPlan must name offences of the city; unknown: {unknown}."
            )
        return outbreaks
    if isinstance(outbreaks, int | np.integer) and not isinstance(outbreaks, bool) and outbreaks >= 0:
        return OutbreakPlan(n=int(outbreaks))
    raise InputError(
        "The 'outbreaks' parameter of simulate must be an OutbreakPlan, an integer >= 0 or None. "
        f"Got {outbreaks!r} instead."
    )


@dataclass(frozen=True)
class Planted:
    """The outbreaks drawn: one entry per outbreak (cell, window in days since the start, lift, extra crimes)."""

    community: IntArray
    offence: IntArray
    start_day: IntArray
    end_day: IntArray
    lift: float
    expected_extra: FloatArray
    events: pd.DataFrame
    """The extra crimes, in the layout of the crimes table, with column ``outbreak`` (index into the arrays)."""


def plant(
    rng: np.random.Generator,
    plan: OutbreakPlan,
    city: City,
    census: Census,
    offences: tuple[Offence, ...],
    start: np.datetime64,
    n_days: int,
    exposure_years: float,
    seasonality: Seasonality,
) -> Planted:
    """Draw the outbreaks' cells and windows, then their extra crimes (vectorised; a loop over outbreaks)."""
    keys = [o.key for o in offences]
    unknown = [k for k in plan.offences if k not in keys]
    if unknown or not plan.offences:
        raise InputError(
            f"The 'offences' parameter of OutbreakPlan must name offences of the city; unknown: {unknown}."
        )
    chosen = np.asarray([keys.index(k) for k in plan.offences], dtype=np.int64)
    first_monday = int((7 - (int(start.astype("datetime64[D]").astype(np.int64)) + 3) % 7) % 7)
    n_weeks = (n_days - first_monday) // 7
    if plan.n and n_weeks < plan.weeks:
        raise InputError(f"An outbreak of {plan.weeks} weeks does not fit in a period of {n_weeks} whole weeks.")
    means = background_means(census, offences, exposure_years)[:, chosen]  # whole period
    reporting = np.asarray([offences[o].reporting_probability for o in chosen])
    weekly_recorded = means * reporting[None, :] * 7.0 / n_days
    flat = weekly_recorded.ravel()
    eligible = np.flatnonzero(flat >= plan.min_weekly_recorded)
    if eligible.size < plan.n:
        eligible = np.argsort(-flat, kind="stable")[: max(plan.n, min(flat.size, 10))]
    cells = rng.choice(eligible, size=plan.n, replace=False) if plan.n else np.empty(0, np.int64)
    community = np.asarray(cells // chosen.size, dtype=np.int64)
    offence = chosen[cells % chosen.size]
    earliest = min(plan.earliest_week, n_weeks // 2, n_weeks - plan.weeks)
    week = rng.integers(earliest, n_weeks - plan.weeks + 1, size=plan.n)
    start_day = np.asarray(first_monday + 7 * week, dtype=np.int64)
    end_day = start_day + 7 * plan.weeks

    parts, expected = [], np.zeros(plan.n)
    all_means = background_means(census, offences, exposure_years)
    for k in range(plan.n):
        o, c = int(offence[k]), int(community[k])
        w = day_weights(start, n_days, seasonality, offences[o])[start_day[k] : end_day[k]]
        expected[k] = (plan.lift - 1.0) * all_means[c, o] * w.sum()
        n = int(rng.poisson(expected[k]))
        day = start_day[k] + rng.choice(w.size, size=n, p=w / w.sum())
        hour = rng.choice(24, size=n, p=hour_weights(offences[o].hour_profile))
        parts.append(
            pd.DataFrame(
                {
                    "offence": np.full(n, o, dtype=np.int64),
                    "community": np.full(n, c, dtype=np.int64),
                    "t": day + (hour + rng.random(n)) / 24.0,
                    "location_type": _location_types(rng, offences[o], n),
                    "outbreak": np.full(n, k, dtype=np.int64),
                }
            )
        )
    columns = ["offence", "community", "t", "location_type", "outbreak"]
    extra = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in columns})
    owner = extra["community"].to_numpy(dtype=np.int64)
    x, y = sample_in_polygons(rng, city.interiors, owner) if owner.size else (np.empty(0), np.empty(0))
    events = pd.DataFrame(
        {
            "offence": extra["offence"].to_numpy(dtype=np.int64),
            "community": owner,
            "t": extra["t"].to_numpy(dtype=np.float64),
            "x": x,
            "y": y,
            "generation": np.zeros(owner.size, dtype=np.int64),
            "parent": np.full(owner.size, -1, dtype=np.int64),
            "micro_place": np.full(owner.size, -1, dtype=np.int64),
            "location_type": extra["location_type"].to_numpy(dtype=object),
            "outbreak": extra["outbreak"].to_numpy(dtype=np.int64),
        }
    )
    return Planted(community, offence, start_day, end_day, float(plan.lift), expected, events)


def merge(crimes: pd.DataFrame, planted: Planted) -> pd.DataFrame:
    """The crimes and the outbreaks' extra crimes, sorted by time, ``event_id`` = row, parents remapped."""
    base = crimes.drop(columns=["event_id"]).assign(outbreak=np.full(len(crimes), -1, dtype=np.int64))
    events = pd.concat([base, planted.events], ignore_index=True)
    order = np.argsort(events["t"].to_numpy(dtype=np.float64), kind="stable")
    new_id = np.empty(order.size, dtype=np.int64)
    new_id[order] = np.arange(order.size)
    events = events.iloc[order].reset_index(drop=True)
    parent = events["parent"].to_numpy(dtype=np.int64)
    events["parent"] = np.where(parent >= 0, new_id[np.maximum(parent, 0)], -1)
    events.insert(0, "event_id", np.arange(len(events), dtype=np.int64))
    return events


def truth(
    planted: Planted,
    events: pd.DataFrame,
    plan: OutbreakPlan,
    community_ids: tuple[str, ...],
    offences: tuple[Offence, ...],
    start: np.datetime64,
) -> dict[str, Any]:
    """The ``outbreaks`` section of truth.json: the plan and one entry per outbreak (end dates are exclusive)."""
    tag = events["outbreak"].to_numpy(dtype=np.int64)
    recorded = events["recorded"].to_numpy(dtype=bool)
    n = planted.community.size
    true_n = np.bincount(tag[tag >= 0], minlength=n)
    rec_n = np.bincount(tag[(tag >= 0) & recorded], minlength=n)
    day0 = start.astype("datetime64[D]")
    items = []
    for k in range(n):
        o = offences[int(planted.offence[k])]
        items.append(
            {
                "id": f"O{k + 1:02d}",
                "area_id": community_ids[int(planted.community[k])],
                "offence": o.key,
                "local_code": o.local_code,
                "iccs_code": o.iccs_code,
                "start": str(day0 + int(planted.start_day[k])),
                "end": str(day0 + int(planted.end_day[k])),
                "weeks": int((planted.end_day[k] - planted.start_day[k]) // 7),
                "lift": planted.lift,
                "expected_extra_true": round(float(planted.expected_extra[k]), 4),
                "extra_true": int(true_n[k]),
                "extra_recorded": int(rec_n[k]),
            }
        )
    return {
        "plan": {
            "n": plan.n,
            "lift": plan.lift,
            "weeks": plan.weeks,
            "offences": list(plan.offences),
            "min_weekly_recorded": plan.min_weekly_recorded,
            "earliest_week": plan.earliest_week,
            "form": "background intensity x lift in the community for the offence, from start (a Monday) to end "
            "(exclusive); extra crimes recorded with the offence's reporting probability; no near repeats",
        },
        "outbreaks": items,
    }
