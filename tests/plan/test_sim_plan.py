"""The synthetic city's plan: imported whole, its summary equal to the truth, its baselines and progress equal to an
independent computation from the imported incidents (pandas counts, scipy's exact Poisson interval)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_plan_progress import garwood

from safercities.governance.store import import_actors
from safercities.plan import import_plan, monitor_plan, stored_plan
from safercities.practices import load_library, match
from safercities.sim import SimulatedCity, simulate
from safercities.sim.governance import simulate_governance
from safercities.sim.plan import INDICATOR_ICCS, simulate_plan
from safercities.workspace import Workspace, init

AS_OF = "2025-06-30"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("sim-plan"), seed=3)


@pytest.fixture(scope="module")
def truth(city: SimulatedCity) -> dict[str, Any]:
    simulate_governance(city, seed=3)
    return simulate_plan(city, seed=3)


@pytest.fixture(scope="module")
def ws(city: SimulatedCity, truth: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = init(tmp_path_factory.mktemp("ws") / "ws", name="Ciudad", crs=city.crs, timezone=city.timezone)
    workspace.import_areas(
        city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
    )
    workspace.import_incidents(city.incidents, mapping=city.mapping)
    import_actors(workspace, city.outdir / "actors.yaml")
    import_actors(workspace, city.outdir / truth["files"]["actors"])
    result = import_plan(workspace, city.outdir / truth["files"]["plan"])
    assert (result.accepted, result.rejected) == (len(truth["interventions"]), 0), result.warnings
    yield workspace
    workspace.close()


def test_the_plan_is_stored_as_the_truth_says(ws: Workspace, truth: dict[str, Any]) -> None:
    plan = stored_plan(ws)
    got = plan.interventions.set_index("intervention_id")
    for item in truth["interventions"]:
        row = got.loc[item["intervention_id"]]
        assert row["practice_id"] == item["practice_id"]
        assert row["horizon"] == item["horizon"]  # left blank in the workbook: the rule set it
        assert (row["status"], row["budget"]) == (item["status"], item["budget"])
        assert row["start_date"].isoformat() == item["start_date"]
    assert sorted(got["horizon"].unique()) == ["long", "medium", "short"]
    assert len(plan.recommendations) == truth["recommendations"]["total"]


def test_each_planted_problem_gets_the_best_recommendable_practice(city: SimulatedCity, truth: dict[str, Any]) -> None:
    library = load_library()
    for priority in truth["priorities"]:
        ranked = match([{"problem": priority["problem"], "risk_factors": priority["risk_factors"]}], library)
        assert ranked.iloc[0]["practice_id"] == priority["practice_id"]
        assert library.get(priority["practice_id"])["evidence"]["rating"] in ("effective", "promising")
    # the robbery intervention covers the communities of highest true robbery rate (the city's truth)
    counts = city.counts()
    robbery = counts[counts["offence"].isin(["street_robbery", "business_robbery"])].groupby("area_id")["true"].sum()
    population = pd.read_csv(city.census, dtype={"area_id": str}).set_index("area_id")["population"]
    top = (robbery / population.reindex(robbery.index)).sort_values(ascending=False).index[:6].tolist()
    assert truth["priorities"][0]["areas"] == top


def test_the_summary_equals_the_truth(ws: Workspace, truth: dict[str, Any]) -> None:
    result = monitor_plan(ws, as_of="2025-12-31")
    budget = result.budget.set_index(["horizon", "status"])["budget"]
    for horizon, by_status in truth["budget_by_horizon_status"].items():
        for status, value in by_status.items():
            assert budget.loc[(horizon, status)] == pytest.approx(value)
    timeline = result.recommendations.set_index("date")["addressed"]
    for day, count in truth["recommendations"]["addressed_by"].items():
        before = timeline[timeline.index <= dt.date.fromisoformat(day)]
        assert (int(before.iloc[-1]) if len(before) else 0) == count
    load = result.actors.set_index("actor_id")
    for actor, roles in truth["raci_load"].items():
        assert load.loc[actor, list(roles)].to_dict() == roles


def _independent(ws: Workspace, iccs: str, scope: str, year: str, city_area: str) -> tuple[int, float]:
    """(count, population) of a target, from the imported incidents with pandas."""
    incidents = ws.incidents()
    keep = incidents["iccs_code"].str.startswith(iccs) & (incidents["occurred_from"].dt.year == int(year))
    finest = ws.finest_areas().set_index("area_id")["population"]
    if scope in ("city", city_area):
        return int(keep.sum()), float(finest.sum())
    return int((keep & (incidents["area_id"] == scope)).sum()), float(finest[scope])


def test_baselines_and_progress_match_an_independent_computation(ws: Workspace, truth: dict[str, Any]) -> None:
    result = monitor_plan(ws, as_of=AS_OF).targets.set_index("target_id")
    for target in truth["targets"]:
        row = result.loc[target["target_id"]]
        iccs = INDICATOR_ICCS[target["indicator_id"]]
        k0, pop = _independent(ws, iccs, target["scope"], "2023", truth["city_area"])
        k1, _ = _independent(ws, iccs, target["scope"], "2024", truth["city_area"])
        baseline = k0 / pop * 1e5
        assert row["baseline"] == pytest.approx(baseline, rel=1e-9)
        # the truth's implied baseline counts crimes by their true moment; the store by the start of the window
        assert row["baseline"] == pytest.approx(target["implied_baseline"], rel=0.05)
        lo, hi = (np.array(garwood(k1)) / pop * 1e5).tolist()
        span = target["target_value"] - baseline
        assert row["current_period"] == "2024"
        assert row["current"] == pytest.approx(k1 / pop * 1e5, rel=1e-9)
        assert row["progress_lower"] == pytest.approx((hi - baseline) / span, rel=1e-9)
        assert row["progress_upper"] == pytest.approx((lo - baseline) / span, rel=1e-9)
        share = (dt.date(2025, 1, 1) - dt.date(2024, 1, 1)).days / (
            dt.date.fromisoformat(target["target_date"]) - dt.date(2024, 1, 1)
        ).days
        assert row["expected"] == pytest.approx(share)
        want = (
            "on_track"
            if row["progress_upper"] >= share
            else "off_track"
            if row["progress_upper"] < share / 2
            else "at_risk"
        )
        assert row["status"] == want


def test_the_same_seed_writes_the_same_plan(city: SimulatedCity, tmp_path: Path) -> None:
    a = simulate_plan(city, seed=5, outdir=tmp_path / "a")
    b = simulate_plan(city, seed=5, outdir=tmp_path / "b")
    assert {k: v for k, v in a.items() if k != "folder"} == {k: v for k, v in b.items() if k != "folder"}
    fieldwork = {"planted": {"robbery_lighting": {"area_id": "C001"}}}
    c = simulate_plan(city, seed=5, outdir=tmp_path / "c", fieldwork=fieldwork)
    assert c["priorities"][0]["areas"][0] == "C001"
