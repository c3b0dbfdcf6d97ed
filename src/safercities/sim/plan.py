"""A crime-prevention plan for the synthetic city, written as the workbook officials would fill in, with its truth.

The plan answers the city's planted problems with practices of the library:

* robbery where the true robbery rate is highest (the communities of the top decile), with poor lighting;
* burglary where the true burglary rate is highest, with low visibility (the near-repeat cascade of the city);
* vehicle crime in the top communities for vehicle theft;
* domestic violence city-wide (the family violence the police see little of);
* and one ``custom`` intervention (the observatory's data sharing) that follows no practice of the library.

Each intervention takes the best recommendable practice that :func:`safercities.practices.match` ranks for its
problem and risk factor. Actors come from the governance module's synthetic registry (``actors.yaml`` of
:mod:`safercities.sim.governance`, to import first) plus the two actors the plan needs beyond it, written in
``plan_actors.yaml`` (public works and the women's institute), with a fixed RACI per intervention. Budgets, dates
(so that the horizon rule gives each horizon), statuses, targets on the framework's crime-rate indicators
(baseline 2023, a reduction by a known factor of the 2023 rate the truth's recorded crimes imply; domestic violence
is measured by the assault rate, ICCS 0201, which holds the family violence the police record) and the audit's
recommendations with the dates they were addressed complete it. Everything the plan summary should find (budget by
horizon and status, the share of recommendations addressed by a date, each actor's RACI load) is in the returned
truth.

Draws come from ``np.random.default_rng([seed, 0x91A4])``, so the city's crimes are untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from safercities.plan.model import HORIZONS, INTERVENTION_STATUSES, Plan, horizon_of
from safercities.plan.read import PlanContext
from safercities.plan.write import write_workbook
from safercities.practices import load_library, match
from safercities.sim.governance import ACTORS as GOVERNANCE_ACTORS

if TYPE_CHECKING:
    from safercities.sim import SimulatedCity

FILES = {"plan": "plan.xlsx", "actors": "plan_actors.yaml"}
CURRENCY = "MXN"
BASELINE_PERIOD = "2023"
REDUCTION = 0.8
"""Each crime target is this share of the 2023 rate implied by the recorded crimes of the truth."""

EXTRA_ACTORS = [
    {"id": "public_works", "name": "Obras públicas", "sector": "urban_planning", "level": "local",
     "mandate": "Street lighting, public spaces"},
    {"id": "womens_institute", "name": "Instituto municipal de las mujeres", "sector": "victim_organisations",
     "level": "local", "mandate": "Prevention of violence against women; shelters"},
]  # fmt: skip
"""Actors the plan needs beyond the governance registry of :mod:`safercities.sim.governance` (``actors.yaml``)."""
EXTRA_RELATIONS = [
    {"source": "public_works", "target": "prevention", "kind": "coordination"},
    {"source": "womens_institute", "target": "prevention", "kind": "coordination"},
    {"source": "womens_institute", "target": "social", "kind": "data_sharing"},
]
# problem -> (sim offences, risk factor, indicator, responsible, accountable, consulted, informed, funding)
PRIORITIES: dict[str, tuple[tuple[str, ...], str, str, list[str], str, list[str], list[str], str]] = {
    "robbery": (("street_robbery", "business_robbery"), "poor_lighting", "robbery_rate",
                ["public_works", "police"], "mayor", ["forum"], ["university"], "Fondo municipal"),
    "burglary": (("burglary",), "low_visibility", "burglary_rate", ["police", "forum"], "prevention",
                 ["public_works"], ["prosecutor"], "FORTASEG"),
    "vehicle_crime": (("vehicle_theft", "vehicle_parts_theft"), "poor_lighting", "theft_rate", ["police"],
                      "prevention", ["public_works"], ["forum"], "Fondo municipal"),
    "domestic_violence": (("family_violence",), "gender_norms", "assault_rate", ["womens_institute", "social"],
                          "prevention", ["prosecutor", "schools", "health"], ["police"], "Secretariado ejecutivo"),
}  # fmt: skip
INDICATOR_ICCS = {
    "robbery_rate": "0401",
    "burglary_rate": "0501",
    "theft_rate": "0502",
    "assault_rate": "0201",
    "total_crime_rate": "",
}
"""The ICCS codes each target indicator counts (as the default framework's formulas do)."""
TOP_SHARE = 0.1
"""The communities of the top decile of a problem's true rate are the ones its intervention covers."""
N_RECOMMENDATIONS = 24


def _rates(city: SimulatedCity, offences: tuple[str, ...]) -> pd.Series:
    counts = city.counts()
    census = pd.read_csv(city.census, dtype={"area_id": str}).set_index("area_id")["population"].astype(float)
    true = counts[counts["offence"].isin(offences)].groupby("area_id")["true"].sum()
    return (true / census.reindex(true.index)).sort_values(ascending=False, kind="stable")


def _recorded_2023(city: SimulatedCity, iccs: str, areas: list[str] | None) -> float:
    """Recorded crimes of ICCS ``iccs`` ('' for all) per 100,000 in 2023 (by the truth's moment of each crime) in
    ``areas`` (None: the city)."""
    codes = [int(o["local_code"]) for o in city.truth["offences"] if str(o["iccs_code"]).startswith(iccs)]
    events = city.true_events()
    keep = events["offence"].astype(int).isin(codes) & events["recorded"].eq(1)
    keep &= events["occurred"].str.startswith(BASELINE_PERIOD)
    census = pd.read_csv(city.census, dtype={"area_id": str}).set_index("area_id")["population"].astype(float)
    if areas is not None:
        keep &= events["area_id"].isin(areas)
        population = float(census.reindex(areas).sum())
    else:
        population = float(census.sum())
    return float(keep.sum()) / population * 1e5


def _city_id(city: SimulatedCity) -> str:
    import json

    collection = json.loads(Path(city.areas).read_text(encoding="utf-8"))
    return next(str(f["properties"]["area_id"]) for f in collection["features"] if f["properties"]["level"] == "city")


def simulate_plan(
    city: SimulatedCity, seed: int = 0, *, outdir: Path | None = None, fieldwork: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Write ``plan.xlsx`` and ``plan_actors.yaml`` for the synthetic city and return the plan's truth.

    ``fieldwork`` (the truth of :func:`safercities.sim.fieldwork.simulate_fieldwork`) makes its planted
    robbery-and-lighting community one of those the robbery intervention covers.
    """
    rng = np.random.default_rng([int(seed), 0x91A4])
    folder = Path(outdir or city.outdir)
    folder.mkdir(parents=True, exist_ok=True)
    library = load_library()
    n_top = max(1, round(TOP_SHARE * int(city.truth["parameters"]["n_communities"])))
    rows, targets, priorities = [], [], []
    start0 = dt.date(2024, 1, 1)
    durations = {"short": 300, "medium": 700, "long": 1500}
    horizons = ["short", "medium", "long", "medium"]
    statuses = ["in_progress", "planned", "in_progress", "done"]
    for k, (problem, spec) in enumerate(PRIORITIES.items()):
        offences, factor, indicator, responsible, accountable, consulted, informed, funding = spec
        if problem == "domestic_violence":
            areas, scope = ["city"], "city"
        else:
            areas = _rates(city, offences).index[:n_top].tolist()
            if problem == "robbery" and fieldwork and "robbery_lighting" in fieldwork.get("planted", {}):
                planted = str(fieldwork["planted"]["robbery_lighting"]["area_id"])
                areas = [planted, *[a for a in areas if a != planted]][:n_top]
            scope = areas[0]
        ranked = match([{"problem": problem, "risk_factors": [factor]}], library, top=1, show_discouraged=False)
        practice = str(ranked.iloc[0]["practice_id"])
        start = start0 + dt.timedelta(days=int(rng.integers(0, 180)))
        end = start + dt.timedelta(days=durations[horizons[k]] + int(rng.integers(0, 30)))
        budget = float(np.round(rng.lognormal(np.log(2.5e6), 0.6), -3))
        rows.append(
            {
                "intervention_id": f"I{k + 1:02d}",
                "title_en": library.get(practice)["title"]["en"],
                "title_es": library.get(practice)["title"].get("es", ""),
                "title_fr": library.get(practice)["title"].get("fr", ""),
                "practice_id": practice,
                "problems": problem,
                "areas": "; ".join(areas),
                "responsible": "; ".join(responsible),
                "accountable": accountable,
                "consulted": "; ".join(consulted),
                "informed": "; ".join(informed),
                "budget": budget,
                "currency": CURRENCY,
                "funding_source": funding,
                "start_date": start,
                "end_date": end,
                "horizon": "",
                "status": statuses[k],
                "notes": "",
            }
        )
        baseline = _recorded_2023(city, INDICATOR_ICCS[indicator], None if scope == "city" else [scope])
        targets.append(
            {
                "target_id": f"T{k + 1:02d}",
                "indicator_id": indicator,
                "scope": scope,
                "baseline_period": BASELINE_PERIOD,
                "target_value": round(REDUCTION * baseline, 1),
                "target_date": dt.date(2026, 12, 31),
                "intervention_ids": f"I{k + 1:02d}",
                "implied_baseline": baseline,
            }
        )
        priorities.append({"problem": problem, "risk_factors": [factor], "areas": areas, "practice_id": practice})
    rows.append(
        {
            "intervention_id": "I05",
            "title_en": "Monthly data sharing between police, prosecutors and the observatory",
            "title_es": "Intercambio mensual de datos entre policía, fiscalía y el observatorio",
            "title_fr": "Partage mensuel des données entre police, parquet et observatoire",
            "practice_id": "custom",
            "problems": "robbery; burglary",
            "areas": "city",
            "responsible": "university; police",
            "accountable": "prevention",
            "consulted": "prosecutor",
            "informed": "mayor",
            "budget": 450000.0,
            "currency": CURRENCY,
            "funding_source": "Fondo municipal",
            "start_date": dt.date(2024, 3, 1),
            "end_date": dt.date(2024, 12, 31),
            "horizon": "",
            "status": "done",
            "notes": "",
        }
    )
    total = _recorded_2023(city, INDICATOR_ICCS["total_crime_rate"], None)
    targets.append(
        {
            "target_id": "T05",
            "indicator_id": "total_crime_rate",
            "scope": "city",
            "baseline_period": BASELINE_PERIOD,
            "target_value": round(0.9 * total, 1),
            "target_date": dt.date(2027, 12, 31),
            "intervention_ids": "I01; I02; I05",
            "implied_baseline": total,
        }
    )
    actor_ids = [a["id"] for a in GOVERNANCE_ACTORS] + [a["id"] for a in EXTRA_ACTORS]
    made = dt.date(2023, 11, 15)
    kinds = rng.choice(["addressed", "in_progress", "open", "dropped"], size=N_RECOMMENDATIONS, p=[0.5, 0.2, 0.2, 0.1])
    days = rng.integers(30, 700, size=N_RECOMMENDATIONS)
    recommendations = [
        {
            "recommendation_id": f"R{i + 1:03d}",
            "text": f"Recommendation {i + 1} of the local safety audit",
            "responsible": actor_ids[int(rng.integers(0, len(actor_ids)))],
            "status": str(kind),
            "date_made": made,
            "date_addressed": made + dt.timedelta(days=int(d)) if kind == "addressed" else None,
            "intervention_ids": f"I{i % 5 + 1:02d}" if i % 3 == 0 else "",
            "notes": "",
        }
        for i, (kind, d) in enumerate(zip(kinds, days, strict=True))
    ]
    interventions = pd.DataFrame(rows)
    interventions["horizon_rule"] = horizon_of(interventions["start_date"], interventions["end_date"])
    target_frame = pd.DataFrame(targets)
    for column in ("baseline", "baseline_lower", "baseline_upper", "baseline_se", "baseline_source", "notes"):
        target_frame[column] = np.nan if column != "notes" and column != "baseline_source" else ""
    plan = Plan(interventions, target_frame, pd.DataFrame(recommendations))
    with (folder / FILES["actors"]).open("w", encoding="utf-8") as handle:
        yaml.safe_dump(
            {"actors": EXTRA_ACTORS, "relations": EXTRA_RELATIONS}, handle, allow_unicode=True, sort_keys=False
        )
    context = PlanContext(None, tuple(library.ids), (), None)
    write_workbook(folder / FILES["plan"], plan, context, "en")
    return _truth(seed, folder, interventions, target_frame, pd.DataFrame(recommendations), priorities, _city_id(city))


def _truth(
    seed: int,
    folder: Path,
    interventions: pd.DataFrame,
    targets: pd.DataFrame,
    recommendations: pd.DataFrame,
    priorities: list[dict[str, Any]],
    city_id: str,
) -> dict[str, Any]:
    budget = {
        horizon: {status: float(interventions.loc[(interventions["horizon_rule"] == horizon)
                                                 & (interventions["status"] == status), "budget"].sum())
                  for status in INTERVENTION_STATUSES}
        for horizon in HORIZONS
    }  # fmt: skip
    addressed = pd.to_datetime(recommendations["date_addressed"]).dropna()
    load: dict[str, dict[str, int]] = {}
    for row in interventions.itertuples(index=False):
        for role in ("responsible", "accountable", "consulted", "informed"):
            for actor in [a.strip() for a in str(getattr(row, role)).split(";") if a.strip()]:
                load.setdefault(actor, dict.fromkeys(("responsible", "accountable", "consulted", "informed"), 0))
                load[actor][role] += 1
    return {
        "seed": int(seed),
        "files": dict(FILES),
        "folder": str(folder),
        "city_area": city_id,
        "currency": CURRENCY,
        "priorities": priorities,
        "interventions": [
            {
                "intervention_id": r.intervention_id,
                "practice_id": r.practice_id,
                "problems": r.problems,
                "areas": r.areas,
                "horizon": r.horizon_rule,
                "status": r.status,
                "budget": r.budget,
                "start_date": str(r.start_date),
                "end_date": str(r.end_date),
            }
            for r in interventions.itertuples(index=False)
        ],
        "targets": [
            {
                "target_id": r.target_id,
                "indicator_id": r.indicator_id,
                "scope": r.scope,
                "baseline_period": r.baseline_period,
                "target_value": r.target_value,
                "target_date": str(r.target_date),
                "implied_baseline": r.implied_baseline,
            }
            for r in targets.itertuples(index=False)
        ],
        "budget_by_horizon_status": budget,
        "recommendations": {
            "total": len(recommendations),
            "by_status": recommendations["status"].value_counts().to_dict(),
            "addressed_by": {
                day: int((addressed <= pd.Timestamp(day)).sum()) for day in ("2024-06-30", "2024-12-31", "2025-12-31")
            },
        },
        "raci_load": load,
        "notes": [
            "Horizons are left empty in the workbook: the import sets them by the rule (end within 1 year of the "
            "start: short; within 3 years: medium; later: long); 'horizon' here is what the rule gives.",
            "Target values are REDUCTION x the 2023 rate implied by the truth's recorded crimes (by the moment of "
            "each crime); the import computes the baseline from the store, which dates a windowed crime by the "
            "start of its window, so the two baselines agree closely but not exactly.",
        ],
    }
