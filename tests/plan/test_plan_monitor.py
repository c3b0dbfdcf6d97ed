"""Monitoring on the hand-built lattice city: baselines, current values, progress intervals and the plan summary, each
against numbers worked out by hand from how the city was built (tests/analysiskit.py) and scipy's chi-square quantiles.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from plankit import lattice_workspace, sample_plan, write_sample
from test_plan_progress import garwood

from safercities.plan import import_plan, monitor_plan, stored_plan
from safercities.workspace import Workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = lattice_workspace(tmp_path_factory.mktemp("plan-monitor") / "city")
    result = import_plan(workspace, write_sample(workspace, workspace.root.parent / "plan.xlsx"))
    assert result.rejected == 0
    yield workspace
    workspace.close()


def test_baselines_are_computed_from_the_store_with_their_exact_interval(ws: Workspace) -> None:
    targets = stored_plan(ws).targets.set_index("target_id")
    # T1: total crimes in K21 in January 2023 = 4 robberies; population 7,000
    lo, hi = garwood(4)
    got = targets.loc["T1", ["baseline", "baseline_lower", "baseline_upper"]].to_numpy(float)
    np.testing.assert_allclose(got, np.array([4, lo, hi]) / 7000 * 1e5, rtol=1e-9)
    assert targets.loc["T1", "baseline_source"] == "store"
    # T2: robberies in K32 in January 2023 = 3 + 2·2 = 7; population 12,000
    assert targets.loc["T2", "baseline"] == pytest.approx(7 / 12_000 * 1e5)


def test_progress_carries_the_exact_poisson_interval_of_the_current_value(ws: Workspace) -> None:
    # as of 15 March 2023 the last month ended is February: 2 thefts in K21
    result = monitor_plan(ws, as_of="2023-03-15")
    t1 = result.targets.set_index("target_id").loc["T1"]
    assert t1["current_period"] == "2023-02"
    baseline, target = 4 / 7000 * 1e5, 20.0
    lo, hi = garwood(2)
    rate, rate_lo, rate_hi = 2 / 7000 * 1e5, lo / 7000 * 1e5, hi / 7000 * 1e5
    assert t1["current"] == pytest.approx(rate)
    assert t1["progress"] == pytest.approx((rate - baseline) / (target - baseline))
    assert t1["progress_lower"] == pytest.approx((rate_hi - baseline) / (target - baseline))
    assert t1["progress_upper"] == pytest.approx((rate_lo - baseline) / (target - baseline))
    # expected: from the end of January to the end of February, out of the end of January to 30 June 2023
    expected = (dt.date(2023, 3, 1) - dt.date(2023, 2, 1)).days / (dt.date(2023, 6, 30) - dt.date(2023, 2, 1)).days
    assert t1["expected"] == pytest.approx(expected)
    assert t1["status"] == "on_track"  # the interval [-1.24, 1.45] reaches 0.19


def test_a_count_of_zero_still_has_an_interval_and_the_latest_month_is_used(ws: Workspace) -> None:
    result = monitor_plan(ws, as_of="2023-12-31")
    t2 = result.targets.set_index("target_id").loc["T2"]
    assert t2["current_period"] == "2023-03"  # the incidents end in March: later months are not "zero crime"
    _, hi = garwood(0)
    baseline = 7 / 12_000 * 1e5
    assert t2["current"] == 0.0
    assert t2["progress"] == pytest.approx(baseline / (baseline - 30.0))
    assert t2["progress_lower"] == pytest.approx((hi / 12_000 * 1e5 - baseline) / (30.0 - baseline))
    expected = (dt.date(2023, 4, 1) - dt.date(2023, 2, 1)).days / (dt.date(2023, 12, 31) - dt.date(2023, 2, 1)).days
    assert t2["expected"] == pytest.approx(expected)
    assert t2["status"] == "on_track"


def test_no_value_after_the_baseline_means_no_data(ws: Workspace) -> None:
    result = monitor_plan(ws, as_of="2023-02-20")
    assert set(result.targets["status"]) == {"no_data"}
    assert np.isnan(result.share_on_track)
    assert "none measured yet" in result.summary()


def test_the_plan_summary(ws: Workspace) -> None:
    result = monitor_plan(ws, as_of="2023-06-30", lang="fr")
    budget = result.budget.set_index(["currency", "horizon", "status"]).sort_index()
    assert budget.loc[("MXN", "short", "in_progress"), "budget"] == 1_200_000.5
    assert budget.loc[("MXN", "medium", "planned"), "budget"] == 300_000.0
    assert budget.loc[("USD", "long", "done"), "budget"] == 80_000.0
    assert budget["interventions"].sum() == 3 and budget.loc["USD", "budget"].sum() == 80_000.0
    # 4 recommendations; R1 addressed on 10 Feb, R2 on 20 May 2023
    recs = result.recommendations
    assert recs["date"].tolist() == [dt.date(2023, 2, 10), dt.date(2023, 5, 20), dt.date(2023, 6, 30)]
    assert recs["share_addressed"].tolist() == [0.25, 0.5, 0.5]
    early = monitor_plan(ws, as_of="2023-03-01").recommendations
    assert early["addressed"].tolist() == [1, 1] and early["date"].iloc[-1] == dt.date(2023, 3, 1)
    load = result.actors.set_index("actor_id")
    assert load.loc["mayor_office", ["accountable", "open_interventions", "recommendations"]].tolist() == [2, 1, 1]
    assert load.loc["mayor_office", "budget_accountable"] == "1,200,000 MXN; 80,000 USD"
    assert load.loc["city_police", ["responsible", "recommendations_open"]].tolist() == [2, 0]
    assert load.loc["prevention_unit", ["responsible", "accountable", "open_interventions"]].tolist() == [2, 1, 1]
    assert load.loc["schools_board", ["consulted", "recommendations_open"]].tolist() == [1, 1]
    assert "En bonne voie" in result.targets["status_label"].tolist()
    assert "En retard" in result.summary() or "À risque" in result.summary() or "En bonne voie" in result.summary()
    assert result.status_counts["targets"].sum() == 2


def test_a_public_audience_sees_no_figure_resting_on_a_small_count(ws: Workspace) -> None:
    # T1 rests on 4 crimes (baseline) and 2 (February): both below disclosure.min_count = 5
    analyst = monitor_plan(ws, as_of="2023-03-15").targets.set_index("target_id")
    public = monitor_plan(ws, as_of="2023-03-15", public=True).targets.set_index("target_id")
    assert np.isfinite(analyst.loc["T1", "progress"])
    assert np.isnan(public.loc["T1", ["baseline", "current", "progress"]].to_numpy(float)).all()
    assert public.loc["T1", "status"] == "no_data"


def test_a_survey_estimate_carries_its_interval_to_progress(tmp_path: Path) -> None:
    """An imported survey indicator (value, interval, standard error) as the target's measure."""

    from safercities.audit.indicators import import_indicators

    workspace = lattice_workspace(tmp_path / "city")
    values = tmp_path / "survey.csv"
    values.write_text(
        "area_id,period,indicator_id,value,lower,upper,se,source\n"
        "K21,2023,trust_in_police,40.0,34.0,46.0,3.06,victimisation_survey\n"
        "K21,2024,trust_in_police,47.5,41.2,53.8,3.2,victimisation_survey\n",
        encoding="utf-8",
    )
    assert import_indicators(workspace, values).rejected == 0
    plan = sample_plan()
    plan.targets.loc[0, ["indicator_id", "baseline_period", "target_value"]] = ["trust_in_police", "2023", 60.0]
    plan.targets.loc[0, "target_date"] = dt.date(2026, 12, 31)
    import_plan(workspace, write_sample(workspace, tmp_path / "plan.xlsx", plan))
    row = monitor_plan(workspace, as_of="2025-03-01").targets.set_index("target_id").loc["T1"]
    workspace.close()
    assert (row["baseline"], row["baseline_lower"], row["current_period"], row["current"]) == (40.0, 34.0, "2024", 47.5)
    assert [row["progress"], row["progress_lower"], row["progress_upper"]] == pytest.approx(
        [7.5 / 20, 1.2 / 20, 13.8 / 20]
    )
    expected = (dt.date(2025, 1, 1) - dt.date(2024, 1, 1)).days / (dt.date(2026, 12, 31) - dt.date(2024, 1, 1)).days
    assert row["expected"] == pytest.approx(expected)
    assert row["status"] == "on_track" and row["direction_ok"] is True
