"""Planted outbreaks: where and when truth.json says, as many extra crimes as the lift implies, recorded as usual."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.errors import InputError
from safercities.sim import OutbreakPlan, SimulatedCity, simulate

SMALL = {"n_communities": 20, "n_districts": 3, "years": 2}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("outbreaks"), seed=5, outbreaks=OutbreakPlan(n=5, lift=4.0), **SMALL)


def test_no_outbreaks_leaves_the_files_unchanged(tmp_path: Path) -> None:
    tiny = {"n_communities": 8, "n_districts": 2, "years": 1}
    plain = simulate(tmp_path / "a", seed=2, **tiny)
    zero = simulate(tmp_path / "b", seed=2, outbreaks=0, **tiny)
    for name in ("incidents.csv", "truth.json", "truth_events.csv"):
        assert (
            hashlib.sha256((plain.outdir / name).read_bytes()).digest()
            == hashlib.sha256((zero.outdir / name).read_bytes()).digest()
        )
    assert "outbreaks" not in plain.truth


def test_outbreaks_are_deterministic_and_leave_the_background_unchanged(tmp_path: Path, planted: SimulatedCity) -> None:
    again = simulate(tmp_path / "again", seed=5, outbreaks=OutbreakPlan(n=5, lift=4.0), **SMALL)
    assert (again.outdir / "truth.json").read_bytes() == (planted.outdir / "truth.json").read_bytes()
    plain = simulate(tmp_path / "plain", seed=5, **SMALL)
    assert (plain.counts()["background"] == planted.counts()["background"]).all()
    assert (plain.counts()["offspring"] == planted.counts()["offspring"]).all()


def test_truth_lists_each_outbreak_and_its_crimes_fall_in_its_cell_and_window(planted: SimulatedCity) -> None:
    items = planted.truth["outbreaks"]["outbreaks"]
    assert len(items) == 5
    events = planted.true_events()
    codes = {o["key"]: (o["local_code"], o["iccs_code"]) for o in planted.truth["offences"]}
    occurred = pd.to_datetime(events["occurred"])
    for item in items:
        start, end = pd.Timestamp(item["start"]), pd.Timestamp(item["end"])
        assert start.day_of_week == 0 and (end - start).days == 7 * item["weeks"]
        assert (item["local_code"], item["iccs_code"]) == codes[item["offence"]]
        mine = events["outbreak_id"] == item["id"]
        assert mine.sum() == item["extra_true"] > 0
        assert (events.loc[mine, "area_id"] == item["area_id"]).all()
        assert (events.loc[mine, "offence"] == item["local_code"]).all()
        assert ((occurred[mine] >= start) & (occurred[mine] < end)).all()
        assert events.loc[mine, "recorded"].sum() == item["extra_recorded"]
    counts = planted.counts()
    assert (counts["true"] == counts["background"] + counts["offspring"] + counts["outbreak"]).all()
    assert counts["outbreak"].sum() == sum(i["extra_true"] for i in items)


def test_extra_crimes_follow_the_lift_and_the_reporting_probability(tmp_path: Path) -> None:
    city = simulate(tmp_path, seed=11, outbreaks=OutbreakPlan(n=12, lift=3.0, min_weekly_recorded=0.5), **SMALL)
    items = city.truth["outbreaks"]["outbreaks"]
    expected = np.array([i["expected_extra_true"] for i in items])
    true = np.array([i["extra_true"] for i in items])
    # sum of independent Poisson counts: within 4 standard deviations (fails about 1 time in 15,000)
    assert abs(true.sum() - expected.sum()) < 4 * np.sqrt(expected.sum())
    p = {o["key"]: o["reporting_probability"] for o in city.truth["offences"]}
    rec = np.array([i["extra_recorded"] for i in items])
    mean = sum(p[i["offence"]] * i["extra_true"] for i in items)
    assert abs(rec.sum() - mean) < 4 * np.sqrt(mean)


def test_outbreak_rows_reach_the_police_file(planted: SimulatedCity) -> None:
    events = planted.true_events()
    folios = set(events.loc[(events["outbreak_id"].fillna("") != "") & (events["recorded"] == 1), "folio"])
    incidents = pd.read_csv(planted.incidents, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    assert folios and folios <= set(incidents["folio"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n": -1}, "'n'"), ({"lift": 1.0}, "'lift'"), ({"weeks": 0}, "'weeks'"), ({"offences": ("piracy",)}, "offences")],
)
def test_bad_plans_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate(tmp_path, seed=0, outbreaks=OutbreakPlan(**kwargs), **SMALL)  # type: ignore[arg-type]


def test_bad_outbreaks_argument_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="The 'outbreaks' parameter of simulate"):
        simulate(tmp_path, seed=0, outbreaks="four", **SMALL)  # type: ignore[arg-type]
