"""Data maturity computed from the workspace, checked against what the synthetic city is known to hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from safercities.audit.framework import load_framework
from safercities.audit.indicators import import_indicators
from safercities.audit.maturity import _survey_recency, data_maturity, level_from_share
from safercities.sim import SimulatedCity, simulate
from safercities.sim.indicators import FROM_OTHER_SOURCES, simulate_indicators
from safercities.workspace import Workspace, init

LOCATION_DEFECTS = ("missing_coordinates", "swapped_lat_lon", "outside_city")
"""The synthetic city's defects that leave a police record off the map (truth.json 'messy')."""


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("sim-maturity"), seed=1)


@pytest.fixture(scope="module")
def ws(city: SimulatedCity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    meta = city.truth["workspace"]
    workspace = init(tmp_path_factory.mktemp("ws") / "ws", name="C", crs=meta["crs"], timezone=meta["timezone"])
    workspace.import_areas(
        city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
    )
    yield workspace
    workspace.close()


def test_an_empty_workspace_is_absent_everywhere(ws: Workspace) -> None:
    result = data_maturity(ws, as_of=dt.date(2025, 6, 1))
    frame = result.to_frame()
    assert result.overall == 0
    coverage = frame[frame["criterion"] == "indicator_coverage"]
    assert len(coverage) == 9 and (coverage["level"] == 0).all() and (coverage["value"] == 0).all()
    geocoding = frame[frame["criterion"] == "geocoding_rate"].iloc[0]
    assert geocoding["level"] == 0 and np.isnan(geocoding["value"])


def test_levels_follow_the_data_the_city_holds(ws: Workspace, city: SimulatedCity) -> None:
    ws.import_incidents(city.incidents, mapping=city.mapping)
    truth = simulate_indicators(city)
    import_indicators(ws, city.outdir / "indicators.csv")
    result = data_maturity(ws, as_of=dt.date(2025, 6, 1))
    frame = result.to_frame("es").set_index(["criterion", "dimension"])

    # coverage: every community indicator is there (5% missing < 20%); the city-level ones are not
    fw = load_framework()
    city_level = {k for k, v in truth["indicators"].items() if v["level"] == "city"}
    for dimension in fw.dimensions:
        known = [i for i in dimension.indicator_ids if i not in city_level and i not in FROM_OTHER_SOURCES]
        share = len(known) / len(dimension.indicator_ids)
        row = frame.loc[("indicator_coverage", dimension.id)]
        assert row["value"] == pytest.approx(100 * share)
        assert row["level"] == (4 if share >= 0.8 else 3 if share >= 0.5 else 2 if share >= 0.25 else 1)
    # half of it is city-level, and procurement risk comes from the OCDS screening, not imported here
    assert frame.loc[("indicator_coverage", "governance"), "level"] == 2

    # geocoding: the rows planted without a usable location, from truth.json
    off_map = sum(city.truth["messy"][k] for k in LOCATION_DEFECTS)
    stored = city.truth["file"]["valid_rows"]
    geocoding = frame.loc[("geocoding_rate", "")]
    assert geocoding["value"] == pytest.approx(100 * stored / (stored + off_map))
    assert geocoding["level"] == 4 and geocoding["level_label"] == "avanzado"

    # time: two simulated years (plus the month that burglary windows reach back into), no empty month
    months = ws.incidents()["occurred_from"].dt.tz_localize(None).dt.to_period("M")
    span = (months.max() - months.min()).n + 1
    time = frame.loc[("time_coverage", "")]
    assert time["value"] == pytest.approx(span / 12) and time["level"] == 2
    assert "Cobertura de indicadores" in frame.loc[("indicator_coverage", "crime"), "name"]
    assert result.overall == int(frame["level"].min())


def test_a_month_without_any_incident_lowers_the_time_level(ws: Workspace) -> None:
    base = data_maturity(ws, as_of=dt.date(2025, 6, 1)).criteria.set_index("criterion").loc["time_coverage"]
    ws.store.con.execute(  # a month lost from the police export
        "DELETE FROM incidents WHERE timezone(?, occurred_from) >= TIMESTAMP '2024-03-01' "
        "AND timezone(?, occurred_from) < TIMESTAMP '2024-04-01'",
        [ws.config.timezone, ws.config.timezone],
    )
    gapped = data_maturity(ws, as_of=dt.date(2025, 6, 1)).criteria.set_index("criterion").loc["time_coverage"]
    assert "1 without any incident" in gapped["detail"]
    assert gapped["level"] == base["level"] - 1


def test_survey_recency_reads_the_latest_response_or_import(ws: Workspace) -> None:
    assert _survey_recency(ws, dt.date(2025, 1, 1), tables={}) is None  # no survey module: no criterion
    absent = _survey_recency(ws, dt.date(2025, 1, 1), tables={"survey_none": {"x": "DOUBLE"}})
    assert absent is not None and absent["level"] == 0
    finished = pd.Timestamp("2022-01-15", tz="UTC")
    ws.store.append(
        "imports",
        pa.table(
            {
                "import_id": pa.array([ws.store.next_import_id()], pa.int32()),
                "kind": ["survey_respondents"],
                "file": ["survey.csv"],
                "sha256": ["0" * 64],
                "rows_read": pa.array([10], pa.int64()),
                "rows_accepted": pa.array([10], pa.int64()),
                "rows_rejected": pa.array([0], pa.int64()),
                "username": ["test"],
                "started_at": pa.array([finished], pa.timestamp("us", tz="UTC")),
                "finished_at": pa.array([finished], pa.timestamp("us", tz="UTC")),
                "status": ["committed"],
            }
        ),
    )
    tables = {"survey_none": {"x": "DOUBLE"}}
    for as_of, level in (
        (dt.date(2022, 6, 1), 4),
        (dt.date(2023, 6, 1), 3),
        (dt.date(2025, 6, 1), 2),
        (dt.date(2027, 1, 1), 1),
    ):
        got = _survey_recency(ws, as_of, tables=tables)
        assert got is not None and got["level"] == level, as_of
        assert got["value"] == pytest.approx((pd.Timestamp(as_of, tz="UTC") - finished).days / 365.25)


@pytest.mark.parametrize(
    ("share", "level"), [(0.0, 0), (float("nan"), 0), (0.1, 1), (0.25, 2), (0.49, 2), (0.5, 3), (0.79, 3), (0.8, 4)]
)
def test_level_thresholds(share: float, level: int) -> None:
    assert level_from_share(share, (0.25, 0.5, 0.8)) == level
