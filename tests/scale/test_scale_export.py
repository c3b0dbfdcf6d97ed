"""The GeoParquet export, read back by peers (geopandas, pyarrow, DuckDB), and the DuckDB cube over it.

No Java needed: these run wherever the test suite runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scalekit import CRS, TIMEZONE, ScaleCity

from safercities.errors import InputError
from safercities.scale.duckdb_parquet import duckdb_cube, parquet_store
from safercities.scale.export import _month_windows, export_geoparquet, point_wkb, read_lineage, read_manifest

DST_ZONES = [
    "America/Mexico_City",
    "Europe/Madrid",
    "America/Santiago",  # clocks change at midnight
    "America/Havana",  # clocks change at midnight
    "Asia/Beirut",  # clocks change at midnight
    "Australia/Lord_Howe",  # a half-hour change
    "Pacific/Apia",  # skipped a whole day (2011-12-30)
]


def _incident_files(export: Path) -> list[Path]:
    return sorted((export / "incidents").glob("year=*/*.parquet"))


def test_incident_files_are_geoparquet_1_0_that_geopandas_reads(scale_city: ScaleCity) -> None:
    files = _incident_files(scale_city.export)
    assert files, "the export wrote no incident file"
    for path in files:
        geo = json.loads(pq.read_schema(path).metadata[b"geo"])
        assert geo["version"] == "1.0.0" and geo["primary_column"] == "geometry"
        column = geo["columns"]["geometry"]
        assert column["encoding"] == "WKB" and column["geometry_types"] == ["Point"]
        assert pyproj.CRS.from_json_dict(column["crs"]) == pyproj.CRS.from_user_input(CRS)
    # geopandas (a peer that implements the spec) reads the whole partitioned folder
    frame = gpd.read_parquet(scale_city.export / "incidents")
    assert frame.crs == pyproj.CRS.from_user_input(CRS)
    assert len(frame) == scale_city.ws.store.count("incidents")
    np.testing.assert_array_equal(shapely.get_x(frame.geometry.values), frame["x"].to_numpy())
    np.testing.assert_array_equal(shapely.get_y(frame.geometry.values), frame["y"].to_numpy())


def test_areas_are_geoparquet_with_the_population_of_their_level(scale_city: ScaleCity) -> None:
    areas = gpd.read_parquet(scale_city.export / "areas.parquet")
    ws = scale_city.ws
    assert areas.crs == pyproj.CRS.from_user_input(CRS)
    held = ws.areas().set_index("area_id")
    assert set(areas["area_id"]) == set(held.index)
    assert shapely.equals(areas.set_index("area_id").geometry.reindex(held.index).values, held.geometry.values).all()
    for level in ("community", "district", "city"):
        own = areas[areas["level"] == level].set_index("area_id")["level_population"]
        want = ws.populations(level)
        pd.testing.assert_series_equal(own.sort_index(), want.sort_index(), check_names=False)
        assert own.notna().all() and (own > 0).all()


def test_point_wkb_equals_shapely() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(5e5, 1e4, 1000), rng.normal(2.2e6, 1e4, 1000)
    ours = np.asarray(point_wkb(x, y).to_pylist(), dtype=object)
    np.testing.assert_array_equal(ours, shapely.to_wkb(shapely.points(x, y), byte_order=1))


def test_export_round_trips_every_incident_into_its_local_year_and_month(scale_city: ScaleCity) -> None:
    ws, export, manifest = scale_city.ws, scale_city.export, scale_city.manifest
    parts = []
    for path in _incident_files(export):
        frame = pq.read_table(path).to_pandas()
        local = frame["occurred_from"].dt.tz_convert(TIMEZONE)
        year = int(path.parent.name.removeprefix("year="))
        month = path.stem.removeprefix("part-")
        assert (local.dt.year == year).all(), f"{path}: incidents of another local year"
        assert (local.dt.strftime("%Y-%m") == month).all(), f"{path}: incidents of another local month"
        parts.append(frame.drop(columns=["geometry"]))
    exported = pd.concat(parts).sort_values("incident_id").reset_index(drop=True)
    stored = ws.store.read("incidents").sort_values("incident_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(exported, stored, check_dtype=False)
    assert manifest.incidents == len(stored) == sum(manifest.incidents_by_year.values())
    assert set(manifest.incidents_by_year) == {"2021", "2022", "2023"}
    assert read_manifest(export) == manifest


def test_lineage_is_the_workspace_lineage(scale_city: ScaleCity) -> None:
    from safercities.ingest.areas import lineage

    for level in scale_city.manifest.levels:
        want = lineage(scale_city.ws.store.areas(), level).dropna(subset=["target_id"])
        got = read_lineage(scale_city.export, level)
        pd.testing.assert_frame_equal(
            got.sort_values("area_id").reset_index(drop=True),
            want.astype(str).sort_values("area_id").reset_index(drop=True),
        )


@pytest.mark.parametrize("by", ["day", "week", "month", "quarter", "year"])
def test_duckdb_over_parquet_equals_the_workspace_cube(scale_city: ScaleCity, by: str) -> None:
    store = parquet_store(scale_city.export)
    try:
        for level in ("community", "district", "city"):
            pd.testing.assert_frame_equal(
                duckdb_cube(scale_city.export, by, level, store=store), scale_city.ws.cube(by=by, level=level)
            )
    finally:
        store.close()


@pytest.mark.parametrize("fixed", ["Etc/GMT+5", "Etc/GMT+6"])
def test_the_clock_changes_matter_to_the_cube(scale_city: ScaleCity, fixed: str) -> None:
    """Neither of Mexico City's two offsets alone gives the cube: the tests above would catch a fixed offset."""
    want = scale_city.ws.cube(by="week", level="community")
    got = duckdb_cube(scale_city.export, "week", "community", timezone=fixed)
    assert len(got) == len(want) and int(got["count"].sum()) == int(want["count"].sum())
    assert (got["count"].to_numpy() != want["count"].to_numpy()).sum() > 10


def test_an_export_refuses_to_write_over_files(scale_city: ScaleCity, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not empty"):
        export_geoparquet(scale_city.ws, scale_city.export)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a safercities export"):
        export_geoparquet(scale_city.ws, tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_folder_that_is_not_an_export_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no manifest.json"):
        duckdb_cube(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "something else"}')
    with pytest.raises(InputError, match="format"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="does not parse"):
        read_manifest(tmp_path)


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(DST_ZONES),
    seconds=st.integers(min_value=0, max_value=12 * 366 * 86_400),
)
def test_month_windows_put_every_instant_in_its_local_month(zone: str, seconds: int) -> None:
    """The windows the export reads by are the local months, across clock changes (even at midnight)."""
    first, last = pd.Timestamp("2010-01-15"), pd.Timestamp("2021-12-20")
    windows = _month_windows(first, last, zone)
    instant = pd.Timestamp("2010-01-01", tz="UTC") + pd.Timedelta(seconds=seconds)
    local_month = instant.tz_convert(zone).strftime("%Y-%m")
    hits = [month for month, start, end in windows if start <= instant.to_pydatetime() < end]
    in_span = windows[0][1] <= instant.to_pydatetime() < windows[-1][2]
    assert len(hits) == (1 if in_span else 0)
    if hits:
        assert f"{hits[0]:%Y-%m}" == local_month
    for (_, _, end), (_, start, _) in zip(windows, windows[1:], strict=False):
        assert end == start, "the windows must not overlap or leave gaps"


def test_the_job_exports_a_workspace_and_says_what_is_wrong(
    scale_city: ScaleCity, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from safercities.scale.job import main

    assert main(["export", str(scale_city.ws.root), str(tmp_path / "again")]) == 0
    assert read_manifest(tmp_path / "again").incidents == scale_city.manifest.incidents
    log = scale_city.ws.store.read("audit_log")
    assert (log["action"] == "export").sum() >= 2, "the fixture's export and this one are in the audit log"
    assert main(["export", str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2
    assert "no workspace" in capsys.readouterr().err


def test_without_java_spark_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from safercities.errors import WorkspaceError
    from safercities.scale.spark import java_missing, local_session

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = java_missing()
    assert reason is not None and "openjdk-17-jre-headless" in reason
    with pytest.raises(WorkspaceError, match="Java runtime"):
        local_session()
