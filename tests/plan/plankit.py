"""A small plan for the hand-built lattice city of tests/analysiskit.py, with the actors of the governance tests.

Every number a test needs is known by construction: in community K21 (population 7,000) there are 4 robberies
(col + 2·row) in January 2023, 2 thefts ((col·row) mod 3) in February and nothing in March; in K32 (population
12,000) 7 robberies in January and none after.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from safercities.governance.store import import_actors
from safercities.plan import Plan, write_workbook
from safercities.plan.store import plan_context
from safercities.workspace import Workspace, open_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analysiskit import build  # noqa: E402

ACTORS = Path(__file__).resolve().parents[1] / "governance" / "actors_example.yaml"


def lattice_workspace(folder: Path) -> Workspace:
    """The lattice city with its areas, incidents and the example actors registry imported."""
    city = build(folder)
    ws = open_workspace(city.root)
    import_actors(ws, ACTORS)
    return ws


def sample_plan() -> Plan:
    """Three interventions (one per horizon), two targets, four recommendations."""
    interventions = pd.DataFrame(
        [
            ["I1", "Street lighting in K21", "Alumbrado en K21", "", "street_lighting", "robbery", "K21; K22",
             "city_police; Residents' network", "mayor_office", "schools_board", "daily_news", 1_200_000.5, "MXN",
             "Municipal fund", dt.date(2023, 1, 15), dt.date(2023, 12, 31), "", "in_progress", ""],
            ["I2", "Youth mentoring", "", "", "mentoring", "youth_violence", "K12",
             "prevention_unit", "prevention_unit", "", "", 300_000.0, "MXN", "Interior ministry grant",
             dt.date(2023, 3, 1), dt.date(2025, 2, 28), "", "planned", ""],
            ["I3", "Observatory data sharing", "", "Partage des données", "custom", "robbery; burglary", "city",
             "prevention_unit; city_police", "mayor_office", "state_prosecutor", "", 80_000.0, "USD", "",
             dt.date(2023, 1, 1), dt.date(2027, 6, 30), "", "done", "a note"],
        ],
        columns=["intervention_id", "title_en", "title_es", "title_fr", "practice_id", "problems", "areas",
                 "responsible", "accountable", "consulted", "informed", "budget", "currency", "funding_source",
                 "start_date", "end_date", "horizon", "status", "notes"],
    )  # fmt: skip
    targets = pd.DataFrame(
        [
            ["T1", "total_crime_rate", "K21", "2023-01", 20.0, dt.date(2023, 6, 30), "I1"],
            ["T2", "robbery_rate", "K32", "2023-01", 30.0, dt.date(2023, 12, 31), "I1; I3"],
        ],
        columns=["target_id", "indicator_id", "scope", "baseline_period", "target_value", "target_date",
                 "intervention_ids"],
    )  # fmt: skip
    for column in ("baseline", "baseline_lower", "baseline_upper", "baseline_se"):
        targets[column] = float("nan")
    targets["baseline_source"] = ""
    targets["notes"] = ""
    recommendations = pd.DataFrame(
        [
            ["R1", "Publish a monthly crime bulletin", "prevention_unit", "addressed", dt.date(2022, 11, 1),
             dt.date(2023, 2, 10), "I3"],
            ["R2", "Light the park paths", "mayor_office", "addressed", dt.date(2022, 11, 1), dt.date(2023, 5, 20),
             "I1"],
            ["R3", "Create a youth council", "schools_board", "open", dt.date(2022, 11, 1), None, ""],
            ["R4", "Merge two police stations", "city_police", "dropped", dt.date(2022, 11, 1), None, ""],
        ],
        columns=["recommendation_id", "text", "responsible", "status", "date_made", "date_addressed",
                 "intervention_ids"],
    )  # fmt: skip
    recommendations["notes"] = ""
    return Plan(interventions, targets, recommendations)


def write_sample(ws: Workspace, path: Path, plan: Plan | None = None) -> Path:
    return write_workbook(path, plan or sample_plan(), plan_context(ws), "en")
