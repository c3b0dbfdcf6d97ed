"""The count cube against pandas: local periods across month ends and clock changes, zeros, roll-ups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely

import safercities as sc

ZONE = "America/New_York"  # clocks change on 2024-03-10 and 2024-11-03


@pytest.fixture
def city(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two communities in one district, and 20,000 incidents spread over 2024 (UTC instants)."""
    ws = sc.init(tmp_path / "ws", name="Cube", crs="EPSG:32618", timezone=ZONE)
    areas = tmp_path / "areas.csv"
    left, right = shapely.box(580000, 4500000, 581000, 4501000), shapely.box(581000, 4500000, 582000, 4501000)
    areas.write_text(
        "id;level;parent;wkt\n"
        f"D;district;;{shapely.union(left, right).wkt}\n"
        f"A;community;D;{left.wkt}\nB;community;D;{right.wkt}\n",
        encoding="utf-8",
    )
    ws.import_areas(areas, id="id", level="level", parent="parent", source_crs="EPSG:32618")
    rng = np.random.default_rng(4)
    n = 20_000
    start = np.datetime64("2024-01-01T00:00", "us")
    seconds = rng.integers(0, 366 * 86400, n)
    # A tenth of the incidents sit within an hour of a local midnight that starts a month or a DST day.
    edges = pd.DatetimeIndex(["2024-03-01", "2024-03-10", "2024-04-01", "2024-11-01", "2024-11-03", "2024-12-01"])
    edges = edges.tz_localize(ZONE).tz_convert("UTC").tz_localize(None).to_numpy("datetime64[us]")
    near = rng.random(n) < 0.1
    moments = np.where(
        near,
        rng.choice(edges, n) + rng.integers(-3600, 3600, n).astype("timedelta64[s]"),
        start + seconds.astype("timedelta64[s]"),
    ).astype("datetime64[us]")
    frame = pa.table(
        {
            "incident_id": pa.array(np.arange(n).astype(str)),
            "occurred_from": pa.array(moments, pa.timestamp("us", tz="UTC")),
            "occurred_to": pa.array(moments, pa.timestamp("us", tz="UTC")),
            "offence_code": pa.array(rng.choice(["R", "H"], n)),
            "iccs_code": pa.array(rng.choice(["0401", "0101", "0501"], n)),
            "x": rng.uniform(580000, 582000, n),
            "y": rng.uniform(4500000, 4501000, n),
            "area_id": pa.array(rng.choice(["A", "B"], n)),
            "import_id": pa.array(np.zeros(n, np.int32)),
            "source_row": pa.array(np.arange(n)),
        }
    )
    ws.store.append("incidents", frame)
    ws.store.append("offence_codes", pa.table({"local_code": ["R", "H", "X"], "iccs_code": ["0401", "0101", "0801"]}))
    yield ws, frame.to_pandas()
    ws.close()


@pytest.mark.parametrize("by,freq", [("day", "D"), ("week", "W-SUN"), ("month", "M"), ("quarter", "Q"), ("year", "Y")])
def test_cube_equals_pandas_in_local_time(city, by: str, freq: str) -> None:  # type: ignore[no-untyped-def]
    ws, frame = city
    cube = ws.cube(by=by, level="community")
    local = pd.to_datetime(frame["occurred_from"], utc=True).dt.tz_convert(ZONE).dt.tz_localize(None)
    period = local.dt.to_period(freq).dt.start_time
    expected = (
        frame.assign(period=period, iccs_section=frame["iccs_code"].str[:2])
        .groupby(["area_id", "period", "iccs_section"])
        .size()
    )
    got = cube.set_index(["area_id", "period", "iccs_section"])["count"]
    nonzero = got[got > 0]
    nonzero.index = nonzero.index.set_levels(nonzero.index.levels[1].astype("datetime64[us]"), level=1)
    expected.index = expected.index.set_levels(expected.index.levels[1].astype("datetime64[us]"), level=1)
    pd.testing.assert_series_equal(nonzero.sort_index(), expected.sort_index(), check_names=False, check_dtype=False)
    # Zeros: every area x period x section of the workspace's offence table, section 08 included.
    periods = cube["period"].nunique()
    assert len(cube) == 2 * periods * 4 and set(cube["iccs_section"]) == {"01", "04", "05", "08"}
    assert cube.loc[cube["iccs_section"] == "08", "count"].sum() == 0


def test_cube_rolls_up_to_the_district(city) -> None:  # type: ignore[no-untyped-def]
    ws, frame = city
    district = ws.cube(by="month", level="district")
    community = ws.cube(by="month", level="community")
    assert set(district["area_id"]) == {"D"}
    assert district["count"].sum() == community["count"].sum() == len(frame)
    by_month = community.groupby(["period", "iccs_section"])["count"].sum()
    assert district.set_index(["period", "iccs_section"])["count"].equals(by_month)
