"""PostgreSQL + PostGIS against DuckDB on the synthetic city: every store method gives the same answer.

One city (seed 0) is imported twice through the real import, once into a DuckDB file and once into a
schema of the test server; every aggregation the services use is compared, and the counts are also
checked against the city's ground truth (``truth.json``: importable incidents per community).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safercities.errors import WorkspaceError
from safercities.quality import quality_report
from safercities.sim import SimulatedCity, simulate
from safercities.store import PostgresStore
from safercities.store.postgres import split_url, with_schema
from safercities.workspace import Workspace, init, open_workspace

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("pg-city"), seed=0)


def _build(city: SimulatedCity, folder: Path, database: str) -> Workspace:
    ws = init(folder, name="Ciudad", crs=city.crs, timezone=city.timezone, database=database)
    ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id")
    ws.import_incidents(city.incidents, mapping=city.mapping)
    return ws


@pytest.fixture(scope="module")
def pair(city: SimulatedCity, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(DuckDB workspace, PostgreSQL workspace) of the same city."""
    import pgkit

    url = pgkit.server_url()
    folder = tmp_path_factory.mktemp("pair")
    duck = _build(city, folder / "duck", "store.duckdb")
    pg = _build(city, folder / "pg", with_schema(url, "test_pair_city"))
    yield duck, pg
    duck.close()
    pg.close()
    pgkit.drop_schemas(url, {"test_pair_city"})


def test_the_postgres_workspace_lives_in_its_own_schema(pair) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    assert isinstance(pg.store, PostgresStore) and pg.store.schema == "test_pair_city"
    assert split_url(pg.config.database)[1] == "test_pair_city"
    assert (duck.root / "store.duckdb").exists() and not (pg.root / "store.duckdb").exists()
    column = pg.store.execute(
        "SELECT udt_name FROM information_schema.columns "
        "WHERE table_schema = 'test_pair_city' AND table_name = 'areas' AND column_name = 'geometry'"
    )
    assert column == [("geometry",)]  # a PostGIS geometry, not bytes


def test_every_table_holds_the_same_rows(pair) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    for table in duck.store.table_names():
        assert duck.store.count(table) == pg.store.count(table), table
    skip = {"started_at", "finished_at", "changed_at", "file", "detail"}  # each import's own clock and folder
    for table in ("areas", "incidents", "rejects", "offence_codes", "imports"):
        a, b = duck.store.read(table), pg.store.read(table)
        assert list(a.columns) == list(b.columns) and (a.dtypes == b.dtypes).all(), table
        keep = [c for c in a.columns if c not in skip]
        a = a[keep].sort_values(keep[:2], kind="stable").reset_index(drop=True)
        b = b[keep].sort_values(keep[:2], kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, obj=table)
    a, b = (ws.store.areas().sort_values("area_id") for ws in pair)
    assert shapely.equals(shapely.from_wkb(a["geometry"]), shapely.from_wkb(b["geometry"])).all()


@pytest.mark.parametrize("by", ["day", "week", "month", "quarter", "year"])
@pytest.mark.parametrize("level", ["community", "district", "city"])
def test_cube_is_identical(pair, by: str, level: str) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    pd.testing.assert_frame_equal(duck.cube(by=by, level=level), pg.cube(by=by, level=level))


def test_rates_are_identical(pair) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    pd.testing.assert_frame_equal(duck.rates(by="year"), pg.rates(by="year"))


def test_area_counts_are_identical_and_equal_the_truth(pair, city: SimulatedCity) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    a = duck.store.area_counts().sort_values("area_id").reset_index(drop=True)
    b = pg.store.area_counts().sort_values("area_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    truth = city.counts().groupby("area_id")["importable"].sum()
    got = b.set_index("area_id")["count"]
    pd.testing.assert_series_equal(got.reindex(truth.index, fill_value=0), truth, check_names=False, check_dtype=False)


@pytest.mark.parametrize(
    "selection",
    [
        {},
        {"iccs": "04"},
        {"iccs": "0501", "start": "2023-03-01", "end": "2023-10-15"},
        {"start": "2024-11-30 23:00"},
    ],
)
def test_selections_are_identical(pair, selection: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    tz = duck.config.timezone
    key = ["area_id", "count"]
    a = duck.store.area_counts(timezone=tz, **selection).sort_values(key).reset_index(drop=True)
    b = pg.store.area_counts(timezone=tz, **selection).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert duck.store.time_span(timezone=tz, **selection) == pg.store.time_span(timezone=tz, **selection)
    order = ["occurred_from", "occurred_to"]
    pd.testing.assert_frame_equal(
        duck.store.incident_times(timezone=tz, **selection).sort_values(order).reset_index(drop=True),
        pg.store.incident_times(timezone=tz, **selection).sort_values(order).reset_index(drop=True),
    )
    points = ["x", "y", "occurred_from"]
    pa_a = duck.store.incident_points(timezone=tz, **selection).sort_by([(c, "ascending") for c in points])
    pa_b = pg.store.incident_points(timezone=tz, **selection).sort_by([(c, "ascending") for c in points])
    assert pa_a.equals(pa_b)
    from safercities.ingest.areas import lineage

    links = lineage(duck.store.areas(), "district").dropna(subset=["target_id"])
    for by in ("week", "month", "quarter"):
        pd.testing.assert_frame_equal(
            duck.store.period_counts(by, links, tz, **selection), pg.store.period_counts(by, links, tz, **selection)
        )


def test_quality_report_is_identical(pair) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    a, b = quality_report(duck).to_dict(), quality_report(pg).to_dict()
    for report in (a, b):
        report.pop("generated_at")
        report.pop("delays")  # floats equal to 1e-12: test_delays_agree_to_the_last_bits
        for entry in report["imports"]:
            entry.pop("started_at")
            entry.pop("file")
        for reason in report["rejects"]:
            reason.pop("example_file")
    assert a == b
    assert duck.store.quality_completeness("UTC") == pg.store.quality_completeness("UTC")
    assert duck.store.quality_exact_duplicates() == pg.store.quality_exact_duplicates()


def test_delays_agree_to_the_last_bits(pair) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    qs = [0.1, 0.5, 0.9, 0.99]
    a, b = duck.store.quality_delays(qs, 30.0), pg.store.quality_delays(qs, 30.0)
    assert {k: a[k] for k in ("count", "negative", "long")} == {k: b[k] for k in ("count", "negative", "long")}
    assert a["count"] > 0
    # interpolation and summation order differ between the engines by at most a few units in the last place
    np.testing.assert_allclose(a["quantiles"], b["quantiles"], rtol=1e-12)
    np.testing.assert_allclose([a["min"], a["max"], a["mean"]], [b["min"], b["max"], b["mean"]], rtol=1e-12)


def test_existing_incident_ids_are_identical(pair) -> None:  # type: ignore[no-untyped-def]
    duck, pg = pair
    ids = pa.array([*duck.store.read("incidents")["incident_id"].iloc[:500], "not-an-id"], pa.string())
    a = duck.store.existing_incident_ids(ids).sort_by("incident_id")
    b = pg.store.existing_incident_ids(ids).sort_by("incident_id")
    assert a.equals(b) and a.num_rows == 500


_text = st.one_of(
    st.none(),
    st.sampled_from(["NULL", "null", "NA", "N/A", "NaN", "nan", "", '""', "\\N", "#N/A", "None"]),  # words of nulls
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_text, _text, st.floats(allow_nan=False), st.booleans()), min_size=1, max_size=20))
def test_messy_values_round_trip_on_both_backends(pair, rows) -> None:  # type: ignore[no-untyped-def]
    """Quotes, commas, new lines, empty strings and nulls come back as they went in (and alike in both)."""
    frames = []
    for ws in pair:
        with ws.store.transaction():
            ws.store.delete("audit_log", "action = ?", ["roundtrip"])
            ws.store.append(
                "audit_log",
                pa.table(
                    {
                        "changed_at": pa.array([pd.Timestamp("2024-03-10 07:30", tz="UTC")] * len(rows)),
                        "username": [str(i) for i in range(len(rows))],
                        "action": ["roundtrip"] * len(rows),
                        "target": [r[0] or "" for r in rows],
                        "detail": [r[1] for r in rows],
                    }
                ),
            )
            frames.append(ws.store.read("audit_log", "action = ?", ["roundtrip"]))
            ws.store.delete("audit_log", "action = ?", ["roundtrip"])
    a, b = (f.sort_values("username", key=lambda s: s.astype(int)).reset_index(drop=True) for f in frames)
    pd.testing.assert_frame_equal(a, b)
    assert list(b["target"]) == [r[0] or "" for r in rows]
    assert [None if pd.isna(v) else v for v in b["detail"]] == [r[1] for r in rows]


def test_a_failed_transaction_leaves_nothing(pair) -> None:  # type: ignore[no-untyped-def]
    _, pg = pair
    before = pg.store.count("audit_log")
    with pytest.raises(RuntimeError), pg.store.transaction():
        pg.record_change("test", "rollback", {})
        raise RuntimeError("boom")
    assert pg.store.count("audit_log") == before


def test_init_refuses_a_schema_that_holds_a_workspace(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, pg = pair
    with pytest.raises(WorkspaceError, match="already holds a workspace"):
        init(tmp_path / "again", name="Otra", crs=pg.config.crs, database=pg.config.database)


def test_a_second_folder_opens_the_same_workspace(pair, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Another analyst's copy of safercities.toml reaches the same data; a read-only one cannot write."""
    _, pg = pair
    other = tmp_path / "copy"
    other.mkdir()
    (other / "safercities.toml").write_text((pg.root / "safercities.toml").read_text())
    with open_workspace(other, read_only=True) as ws:
        assert ws.store.count("incidents") == pg.store.count("incidents")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            ws.record_change("test", "read-only", {})


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="cannot reach the PostgreSQL server"):
        init(tmp_path / "ws", name="X", crs="EPSG:32614", database="postgresql://nobody@127.0.0.1:9/none?schema=x")
    assert not (tmp_path / "ws" / "safercities.toml").exists()


def test_a_nul_character_is_stored_as_the_replacement_character(pair) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold U+0000 (DuckDB can): the server store writes U+FFFD instead of failing."""
    _, pg = pair
    with pg.store.transaction():
        pg.record_change("nul", "a\x00b", {"raw": "c\x00d"})
        got = pg.store.read("audit_log", "action = ?", ["nul"])
        pg.store.delete("audit_log", "action = ?", ["nul"])
    assert got["target"].tolist() == ["a\ufffdb"]
