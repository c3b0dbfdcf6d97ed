"""The synthetic city: a realistic city written in the formats real sources come in, with its ground truth.

:func:`simulate` draws a city near Querétaro, Mexico (communities, districts, census covariates), its
crimes (log-linear background intensity with seasonality, weekday and hour profiles, hot micro-places,
self-exciting burglary), what the police record (the dark figure, burglary windows, report delays) and
a known number of defective rows; it writes them as the sources come and records every generating
parameter in ``truth.json``. Methods are tested by recovering that truth.

One module per part: ``catalogue`` (offences, covariates, names), ``geography``, ``covariates``,
``intensity``, ``hawkes``, ``reporting``, ``messy`` (defective rows) and ``formats`` (writers).

Extensions go in modules of their own, each drawing from the same ``np.random.Generator`` after the
crimes (so that adding one leaves the crimes of a seed unchanged), adding its file(s) and a section
of ``truth.json``, and being called from :func:`simulate`:
``survey.py`` (victimisation survey with a complex design: the dark figure seen from the households),
``interventions.py`` (a treated set of communities and a known effect on the intensity after a date),
``outbreaks.py`` (space-time clusters with known place, start and size),
``tenders.py`` (OCDS procurement releases with known red flags).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from safercities.errors import InputError
from safercities.sim import formats
from safercities.sim.catalogue import COVARIATES, OFFENCES, REFERENCE_LEVELS, WEEKDAYS, hour_weights, intercept
from safercities.sim.catalogue import weekday_weights as _weekday_weights
from safercities.sim.covariates import FIELD_NUGGET, FIELD_RANGE_M, Census, simulate_census
from safercities.sim.geography import TIMEZONE, WORK_CRS, City, build_city, keep_off_edges, locate, to_lonlat
from safercities.sim.hawkes import HawkesParameters, simulate_offspring
from safercities.sim.intensity import MICRO_JITTER_M, MicroPlaces, Seasonality, draw_background, make_micro_places
from safercities.sim.messy import add_defects
from safercities.sim.outbreaks import OutbreakPlan, as_plan, merge, plant
from safercities.sim.outbreaks import truth as outbreak_truth
from safercities.sim.reporting import folios, occurrence_windows, record, report_times

__all__ = ["HawkesParameters", "OutbreakPlan", "Seasonality", "SimulatedCity", "simulate"]

FILES = {
    "areas": "areas.geojson",
    "incidents": "incidents.csv",
    "offences": "offences.csv",
    "census": "census.csv",
    "mapping": "mapping.toml",
    "truth": "truth.json",
    "events": "truth_events.csv",
}
DAYS_PER_YEAR = 365.25
"""Exposure is counted in years of 365.25 days."""
MAX_COMMUNITIES = 2000


@dataclass(frozen=True)
class SimulatedCity:
    """Where the synthetic city was written, and its ground truth (the parsed ``truth.json``)."""

    outdir: Path
    seed: int
    areas: Path
    incidents: Path
    offences: Path
    census: Path
    mapping: Path
    truth_path: Path
    events: Path
    truth: Mapping[str, Any]
    crs: str = WORK_CRS
    timezone: str = TIMEZONE

    def counts(self) -> pd.DataFrame:
        """Per community and offence: background, offspring, true, recorded and importable counts."""
        return pd.DataFrame(self.truth["counts"])

    def true_events(self) -> pd.DataFrame:
        """Every true crime (recorded or not) with its generation, parent and folio, from ``truth_events.csv``."""
        return pd.read_csv(self.events, dtype={"offence": str, "folio": str, "area_id": str, "outbreak_id": str})


def _check(name: str, value: object, ok: bool, expected: str) -> None:
    if not ok:
        raise InputError(f"The '{name}' parameter of simulate must be {expected}. Got {value!r} instead.")


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _period(start: str, years: int) -> tuple[np.datetime64, dt.date, int]:
    try:
        first = dt.date.fromisoformat(start)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"The 'start' parameter of simulate must be an ISO date such as '2023-01-01'. Got {start!r} instead."
        ) from exc
    try:
        end = first.replace(year=first.year + years)
    except ValueError:  # 29 February into a common year
        end = first.replace(year=first.year + years, day=28)
    return np.datetime64(first.isoformat(), "D"), end, (end - first).days


def simulate(
    outdir: Path,
    seed: int = 0,
    *,
    n_communities: int = 60,
    n_districts: int = 6,
    years: int = 2,
    start: str = "2023-01-01",
    hawkes: HawkesParameters | None = None,
    seasonality: Seasonality | None = None,
    outbreaks: OutbreakPlan | int | None = None,
) -> SimulatedCity:
    """Draw the synthetic city from ``seed`` and write its files into ``outdir`` (created if needed).

    Writes ``areas.geojson``, ``incidents.csv``, ``offences.csv``, ``census.csv``, ``mapping.toml``,
    ``truth.json`` and ``truth_events.csv`` (see :mod:`safercities.sim.formats`). The same arguments give
    byte-identical files. ``years`` are calendar years from ``start``; local clock times are in
    America/Mexico_City, which has kept standard time all year since October 2022 (a period before then
    has the old daylight-saving gaps, as real exports do). ``hawkes`` and ``seasonality`` override the
    defaults of the burglary cascade and the annual cycle. ``outbreaks`` (an :class:`OutbreakPlan`, or a number of
    outbreaks with the default plan) plants outbreaks at known places and weeks (:mod:`safercities.sim.outbreaks`):
    they add a column ``outbreak_id`` to ``truth_events.csv``, a count ``outbreak`` per cell and a section
    ``outbreaks`` to ``truth.json``; without them (the default) the files are as before.
    """
    _check("seed", seed, _is_int(seed) and int(seed) >= 0, "a non-negative integer")
    _check("n_districts", n_districts, _is_int(n_districts) and n_districts >= 1, "an integer >= 1")
    _check(
        "n_communities",
        n_communities,
        _is_int(n_communities) and max(2, n_districts) <= n_communities <= MAX_COMMUNITIES,
        f"an integer from max(2, n_districts) to {MAX_COMMUNITIES}",
    )
    _check("years", years, _is_int(years) and 1 <= years <= 20, "an integer from 1 to 20")
    start64, end, n_days = _period(start, int(years))
    hawkes = hawkes or HawkesParameters()
    seasonality = seasonality or Seasonality()
    plan = as_plan(outbreaks)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    exposure_years = n_days / DAYS_PER_YEAR

    rng = np.random.default_rng(int(seed))
    city = build_city(rng, int(n_communities), int(n_districts))
    census = simulate_census(rng, city)
    micro = make_micro_places(rng, city)
    events, cascade_stats = _crimes(rng, city, census, micro, start64, n_days, exposure_years, seasonality, hawkes)
    planted = None
    if plan.n:
        planted = plant(rng, plan, city, census, OFFENCES, start64, n_days, exposure_years, seasonality)
        events = merge(events, planted)

    # what the police learn
    offence = events["offence"].to_numpy(dtype=np.int64)
    in_city = events["community"].to_numpy(dtype=np.int64) >= 0
    t_from, t_to = occurrence_windows(rng, events["t"].to_numpy(dtype=np.float64), offence, OFFENCES)
    recorded = record(rng, offence, OFFENCES, in_city)
    reported = report_times(rng, t_to, offence, OFFENCES)
    lon, lat = to_lonlat(events["x"].to_numpy(dtype=np.float64), events["y"].to_numpy(dtype=np.float64))
    events = events.assign(t_from=t_from, t_to=t_to, reported=reported, recorded=recorded, lon=lon, lat=lat)

    police = events[events["recorded"]].sort_values(["reported", "event_id"], kind="stable")
    police = police.assign(folio=folios(police["reported"].to_numpy(dtype=np.float64), start64))
    folio = np.full(len(events), "", dtype=object)
    folio[police["event_id"].to_numpy(dtype=np.int64)] = police["folio"].to_numpy(dtype=object)
    events = events.assign(folio=folio)
    defects = add_defects(rng, formats.incident_table(police, city, OFFENCES, start64))
    importable = np.zeros(len(events), dtype=bool)
    importable[police["event_id"].to_numpy(dtype=np.int64)[~defects.damaged]] = True

    paths = {key: outdir / name for key, name in FILES.items()}
    formats.write_areas(paths["areas"], city, census)
    formats.write_incidents(paths["incidents"], defects.table)
    formats.write_offences(paths["offences"], OFFENCES)
    formats.write_census(paths["census"], city, census)
    formats.write_mapping(paths["mapping"])
    formats.write_events(paths["events"], _events_table(events, city, micro, start64))
    truth = _truth(
        seed=int(seed),
        city=city,
        census=census,
        micro=micro,
        events=events,
        importable=importable,
        defects_counts=defects.counts,
        defects_folios=defects.folios,
        file_rows=len(defects.table),
        params={
            "n_communities": int(n_communities),
            "n_districts": int(n_districts),
            "years": int(years),
            "start": str(start64),
            "end": end.isoformat(),
            "n_days": n_days,
            "exposure_years": exposure_years,
        },
        seasonality=seasonality,
        hawkes=hawkes,
        cascade_stats=cascade_stats,
    )
    if planted is not None:
        truth["outbreaks"] = outbreak_truth(planted, events, plan, city.community_ids, OFFENCES, start64)
        truth["notes"].append("'outbreak' counts the crimes of planted outbreaks (in 'true', not in 'background').")
    formats.write_truth(paths["truth"], truth)
    return SimulatedCity(
        outdir=outdir,
        seed=int(seed),
        areas=paths["areas"],
        incidents=paths["incidents"],
        offences=paths["offences"],
        census=paths["census"],
        mapping=paths["mapping"],
        truth_path=paths["truth"],
        events=paths["events"],
        truth=json.loads(paths["truth"].read_text(encoding="utf-8")),
    )


def _crimes(
    rng: np.random.Generator,
    city: City,
    census: Census,
    micro: MicroPlaces,
    start: np.datetime64,
    n_days: int,
    exposure_years: float,
    seasonality: Seasonality,
    hawkes: HawkesParameters,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Background crimes plus burglary offspring, sorted by time, with ``event_id`` = row and ``parent`` remapped."""
    background = draw_background(rng, city, census, micro, OFFENCES, start, n_days, exposure_years, seasonality)
    burglary = next(i for i, o in enumerate(OFFENCES) if o.key == "burglary")
    parents = np.flatnonzero(background["offence"].to_numpy(dtype=np.int64) == burglary)
    cascade = simulate_offspring(
        rng,
        background["t"].to_numpy(dtype=np.float64)[parents],
        background["x"].to_numpy(dtype=np.float64)[parents],
        background["y"].to_numpy(dtype=np.float64)[parents],
        hawkes,
        float(n_days),
    )
    community = locate(city.communities, cascade.x, cascade.y)
    x, y = keep_off_edges(city, community, cascade.x, cascade.y)
    n_bg = len(background)
    # cascade.parent indexes [parents, offspring]: map to rows of [background, offspring]
    stacked_to_row = np.concatenate([parents, n_bg + np.arange(cascade.t.size)])
    offspring = pd.DataFrame(
        {
            "offence": np.full(cascade.t.size, burglary, dtype=np.int64),
            "community": community,
            "t": cascade.t,
            "x": x,
            "y": y,
            "generation": cascade.generation,
            "parent": stacked_to_row[cascade.parent],
            "micro_place": np.full(cascade.t.size, -1, dtype=np.int64),
            "location_type": np.full(cascade.t.size, "Casa habitación", dtype=object),
        }
    )
    events = pd.concat([background, offspring], ignore_index=True)
    order = np.argsort(events["t"].to_numpy(dtype=np.float64), kind="stable")
    new_id = np.empty(order.size, dtype=np.int64)
    new_id[order] = np.arange(order.size)
    events = events.iloc[order].reset_index(drop=True)
    parent = events["parent"].to_numpy(dtype=np.int64)
    events["parent"] = np.where(parent >= 0, new_id[np.maximum(parent, 0)], -1)
    events.insert(0, "event_id", np.arange(len(events), dtype=np.int64))
    stats = {
        "parents_background": int(parents.size),
        "events_branched": cascade.events_branched,
        "children_drawn": cascade.children_drawn,
        "offspring_before_end": int(cascade.t.size),
        "offspring_outside_city": int((offspring["community"] < 0).sum()),
        "generations": int(cascade.generation.max()) if cascade.generation.size else 0,
    }
    return events, stats


def _events_table(events: pd.DataFrame, city: City, micro: MicroPlaces, start: np.datetime64) -> pd.DataFrame:
    """``truth_events.csv``: one row per true crime; area_id is empty for near repeats that fell outside the city."""
    ids = np.asarray(("",) + city.community_ids, dtype=object)
    codes = np.asarray([o.local_code for o in OFFENCES], dtype=object)
    seconds = np.round(events["t"].to_numpy(dtype=np.float64) * 86400.0).astype(np.int64).astype("timedelta64[s]")
    occurred = pd.Series(start.astype("datetime64[s]") + seconds).dt.strftime("%Y-%m-%dT%H:%M:%S")
    micro_id = np.asarray([""] + [f"M{i + 1:03d}" for i in range(micro.x.size)], dtype=object)
    table = pd.DataFrame(
        {
            "event_id": events["event_id"],
            "offence": codes[events["offence"].to_numpy(dtype=np.int64)],
            "area_id": ids[events["community"].to_numpy(dtype=np.int64) + 1],
            "occurred": occurred.to_numpy(dtype=object),
            "x": np.round(events["x"].to_numpy(dtype=np.float64), 2),
            "y": np.round(events["y"].to_numpy(dtype=np.float64), 2),
            "generation": events["generation"],
            "parent_id": events["parent"],
            "micro_place_id": micro_id[events["micro_place"].to_numpy(dtype=np.int64) + 1],
            "location_type": events["location_type"],
            "recorded": events["recorded"].astype(np.int64),
            "folio": events["folio"],
        }
    )
    if "outbreak" in events:  # planted outbreaks: O01, O02, ... (empty for other crimes)
        tag = events["outbreak"].to_numpy(dtype=np.int64)
        table["outbreak_id"] = np.where(tag >= 0, np.char.add("O", np.char.zfill((tag + 1).astype(str), 2)), "")
    return table


def _by_cell(community: npt.NDArray[np.int64], offence: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_], n: int):
    """Counts communities x offences of the events selected by ``mask`` (events outside the city are skipped)."""
    keep = mask & (community >= 0)
    flat = np.bincount(community[keep] * len(OFFENCES) + offence[keep], minlength=n * len(OFFENCES))
    return flat.reshape(n, len(OFFENCES))


def _truth(
    *,
    seed: int,
    city: City,
    census: Census,
    micro: MicroPlaces,
    events: pd.DataFrame,
    importable: npt.NDArray[np.bool_],
    defects_counts: dict[str, int],
    defects_folios: dict[str, list[str]],
    file_rows: int,
    params: dict[str, Any],
    seasonality: Seasonality,
    hawkes: HawkesParameters,
    cascade_stats: dict[str, int],
) -> dict[str, Any]:
    """Everything known about how the files were generated, as JSON-ready values."""
    n = city.n_communities
    community = events["community"].to_numpy(dtype=np.int64)
    offence = events["offence"].to_numpy(dtype=np.int64)
    generation = events["generation"].to_numpy(dtype=np.int64)
    recorded = events["recorded"].to_numpy(dtype=bool)
    everything = np.ones(len(events), dtype=bool)
    outbreak = events["outbreak"].to_numpy(dtype=np.int64) if "outbreak" in events else np.full(len(events), -1)
    table = {
        "background": _by_cell(community, offence, (generation == 0) & (outbreak < 0), n),
        "offspring": _by_cell(community, offence, generation > 0, n),
        "true": _by_cell(community, offence, everything, n),
        "recorded": _by_cell(community, offence, recorded, n),
        "importable": _by_cell(community, offence, importable, n),
    }
    if "outbreak" in events:
        table["outbreak"] = _by_cell(community, offence, outbreak >= 0, n)
    counts = [
        {"area_id": city.community_ids[c], "offence": o.key, "local_code": o.local_code}
        | {name: int(values[c, k]) for name, values in table.items()}
        for c in range(n)
        for k, o in enumerate(OFFENCES)
    ]
    totals = {name: {o.key: int(values[:, k].sum()) for k, o in enumerate(OFFENCES)} for name, values in table.items()}
    burglary = next(k for k, o in enumerate(OFFENCES) if o.key == "burglary")
    in_city_burglary = int(table["true"][:, burglary].sum())
    micro_lon, micro_lat = to_lonlat(micro.x, micro.y)
    return {
        "generator": "safercities.sim",
        "seed": seed,
        "parameters": params,
        "workspace": {"name": city.city_name, "crs": WORK_CRS, "timezone": TIMEZONE},
        "files": dict(FILES),
        "offences": [
            {
                "key": o.key,
                "local_code": o.local_code,
                "label": o.label,
                "iccs_code": o.iccs_code,
                "reporting_probability": o.reporting_probability,
                "mean_report_delay_days": o.report_delay_days,
                "windowed": o.windowed,
                "hour_profile": [round(float(v), 6) for v in hour_weights(o.hour_profile)],
                "weekday_profile": dict(zip(WEEKDAYS, (round(float(v), 6) for v in _weekday_weights(o)), strict=True)),
            }
            for o in OFFENCES
        ],
        "covariates": {
            "names": list(COVARIATES),
            "field": {"covariance": "exponential", "range_m": FIELD_RANGE_M, "nugget": FIELD_NUGGET},
            "reference_levels": dict(zip(COVARIATES, REFERENCE_LEVELS, strict=True)),
        },
        "intensity": {
            "form": "E[background count] = population * exposure_years * exp(intercept + sum(coefficient * covariate))",
            "offset": "log(population) + log(exposure_years)",
            "exposure_years": params["exposure_years"],
            "intercept": {o.key: intercept(o) for o in OFFENCES},
            "coefficients": {o.key: dict(zip(COVARIATES, o.coefficients, strict=True)) for o in OFFENCES},
            "rate_per_1000_at_reference": {o.key: o.rate_per_1000 for o in OFFENCES},
        },
        "seasonality": asdict(seasonality)
        | {"form": "1 + amplitude * cos(2 * pi * (day_of_year - peak_day) / 365.25)"},
        "micro_places": {
            "share": {o.key: o.micro_share for o in OFFENCES},
            "jitter_m": MICRO_JITTER_M,
            "places": [
                {
                    "id": f"M{i + 1:03d}",
                    "area_id": city.community_ids[int(micro.community[i])],
                    "kind": micro.kind[i],
                    "weight": round(float(micro.weight[i]), 6),
                    "x": round(float(micro.x[i]), 2),
                    "y": round(float(micro.y[i]), 2),
                    "lon": round(float(micro_lon[i]), 7),
                    "lat": round(float(micro_lat[i]), 7),
                }
                for i in range(micro.x.size)
            ],
        },
        "hawkes": {
            "offence": "burglary",
            "branching_ratio": hawkes.branching_ratio,
            "time_kernel": "exponential",
            "time_scale_days": hawkes.time_scale_days,
            "space_kernel": "gaussian",
            "space_scale_m": hawkes.space_scale_m,
            **cascade_stats,
            "offspring_share_in_city": (
                int(table["offspring"][:, burglary].sum()) / in_city_burglary if in_city_burglary else 0.0
            ),
        },
        "reporting": {"probability": {o.key: o.reporting_probability for o in OFFENCES}},
        "totals": totals,
        "counts": counts,
        "messy": defects_counts,
        "messy_folios": defects_folios,
        "file": {"rows": file_rows, "valid_rows": int(importable.sum())},
        "notes": [
            "Counts are per community of the true location; 'background' drives the log-linear model, "
            "'offspring' are triggered burglaries, 'true' = background + offspring inside the city.",
            "'recorded' crimes are in incidents.csv; 'importable' excludes the rows damaged on purpose (see messy).",
            "Burglary fecha_hechos/hora_hechos is the discovery (end of the window); fecha_inicio..fecha_fin "
            "is the window that holds the true moment.",
            "Near repeats of burglaries outside the city are in truth_events.csv with an empty area_id.",
            "Background burglaries before the start are not simulated, so triggered burglaries are "
            "under-represented in the first weeks.",
        ],
    }
