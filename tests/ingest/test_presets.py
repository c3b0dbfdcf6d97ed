"""The shipped presets: they load, their offence tables hold valid ICCS codes and cover the real files.

The real files come from ``../shared/data`` (the ``shared_data`` fixture skips where it is absent). The
end-to-end tests import each real file with its preset and check the import's own counts against pandas'.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from safercities import iccs
from safercities.ingest.mapping import Mapping, preset, preset_names

PRESETS = ("police-uk", "chicago", "code")

# Categories that are not crimes: deliberately left out of the offence tables, so that their rows are
# rejected as "offence without ICCS mapping" (see docs/presets.md).
NOT_CRIMES = {
    "chicago": {"NON-CRIMINAL", "NON - CRIMINAL", "NON-CRIMINAL (SUBJECT SPECIFIED)"},
    "code": {"09C"},
}

POLICE_UK_2018_07 = {
    "Violence and sexual offences": 10358,
    "Anti-social behaviour": 5442,
    "Public order": 3043,
    "Criminal damage and arson": 2716,
    "Other theft": 2242,
    "Burglary": 2029,
    "Vehicle crime": 1955,
    "Shoplifting": 1485,
    "Other crime": 667,
    "Drugs": 525,
    "Robbery": 327,
    "Theft from the person": 317,
    "Bicycle theft": 303,
    "Possession of weapons": 226,
}


def offences(name: str) -> pd.DataFrame:
    mapping = preset(name)
    assert mapping.offences.table is not None
    return pd.read_csv(mapping.offences.table, dtype=str, keep_default_na=False, encoding="utf-8")


def read_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


# -- the presets themselves -------------------------------------------------------------------------


def test_the_three_presets_ship() -> None:
    assert set(PRESETS) <= set(preset_names())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_with_its_offence_table(name: str) -> None:
    mapping = preset(name)
    assert isinstance(mapping, Mapping)
    assert mapping.offences.table is not None and mapping.offences.table.is_file()
    assert mapping.crs == "EPSG:4326"
    assert mapping.columns.x and mapping.columns.y and mapping.columns.occurred


@pytest.mark.parametrize("name", PRESETS)
def test_offence_table_columns_and_unique_keys(name: str) -> None:
    table = offences(name)
    assert table.columns.tolist() == ["local_code", "local_label", "iccs_code"]
    assert table["local_code"].is_unique
    assert table["local_label"].str.casefold().is_unique
    assert (table["local_code"].str.strip() != "").all()
    assert (table["local_label"].str.strip() != "").all()


@pytest.mark.parametrize("name", PRESETS)
def test_every_iccs_code_in_the_offence_tables_is_valid(name: str) -> None:
    table = offences(name)
    valid = iccs.validate_codes(table["iccs_code"])
    assert valid.all(), table.loc[~valid, ["local_code", "iccs_code"]].to_dict("records")


def test_police_uk_settings() -> None:
    mapping = preset("police-uk")
    assert mapping.dates.format == "%Y-%m"
    assert mapping.columns.id == "Crime ID"
    assert mapping.offences.match == "label"
    assert {"LSOA code", "Location", "Last outcome category"} <= set(mapping.columns.keep)


def test_police_uk_table_has_the_fourteen_current_crime_types() -> None:
    assert set(POLICE_UK_2018_07) <= set(offences("police-uk")["local_label"])


def test_code_table_covers_nibrs_group_a() -> None:
    group_a = {
        "09A", "09B", "100", "11A", "11B", "11C", "11D", "120", "13A", "13B", "13C", "200", "210", "220",
        "23A", "23B", "23C", "23D", "23E", "23F", "23G", "23H", "240", "250",
        "26A", "26B", "26C", "26D", "26E", "26F", "26G", "26H", "270", "280", "290",
        "35A", "35B", "36A", "36B", "370", "39A", "39B", "39C", "39D", "40A", "40B", "40C",
        "510", "520", "64A", "64B", "720",
    }  # fmt: skip
    codes = set(offences("code")["local_code"])
    assert group_a <= codes
    assert {"12A", "12B", "22A", "22B"} <= codes  # CODE's own splits of robbery and burglary
    assert not NOT_CRIMES["code"] & codes


def test_chicago_table_leaves_out_non_criminal_types() -> None:
    assert not NOT_CRIMES["chicago"] & set(offences("chicago")["local_label"])


def test_judgement_calls_in_code_table() -> None:
    table = offences("code").set_index("local_code")["iccs_code"]
    assert table["09A"] == "0101"
    assert table["13A"] == "020111"  # aggravated assault -> serious assault
    assert table["13B"] == "020112"  # simple assault -> minor assault
    assert table["240"] == "050211"
    assert iccs.section_of(table["12A"]) == "04"


# -- coverage of the real files --------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2017-07", "2018-07"])
def test_police_uk_table_covers_the_real_files(shared_data: Path, month: str) -> None:
    frame = read_text(shared_data / "policeuk_west_yorkshire" / f"{month}-west-yorkshire-street.csv")
    assert set(frame["Crime type"]) <= set(offences("police-uk")["local_label"])


def test_police_uk_published_counts(shared_data: Path) -> None:
    frame = read_text(shared_data / "policeuk_west_yorkshire" / "2018-07-west-yorkshire-street.csv")
    assert frame["Crime type"].value_counts().to_dict() == POLICE_UK_2018_07


@pytest.mark.parametrize(("month", "empty_ids"), [("2017-07", 5955), ("2018-07", 5442)])
def test_police_uk_empty_ids_are_exactly_the_anti_social_behaviour_rows(
    shared_data: Path, month: str, empty_ids: int
) -> None:
    frame = read_text(shared_data / "policeuk_west_yorkshire" / f"{month}-west-yorkshire-street.csv")
    empty = frame["Crime ID"].str.strip() == ""
    assert empty.sum() == empty_ids
    assert (empty == (frame["Crime type"] == "Anti-social behaviour")).all()


def test_chicago_table_covers_the_ibm_sample(shared_data: Path) -> None:
    frame = read_text(shared_data / "crime_chicago" / "chicago_crime_sample_ibm_533.csv")
    labels = set(offences("chicago")["local_label"])
    assert set(frame["PRIMARY_TYPE"]) - labels == NOT_CRIMES["chicago"]


def test_code_table_covers_the_chicago_homicides(shared_data: Path) -> None:
    frame = read_text(shared_data / "crime_chicago" / "chicago_homicides_2015_CODE.csv")
    table = offences("code")
    assert set(frame["offense_code"]) <= set(table["local_code"])
    # CODE's offense_type is the table's label for the same code.
    pairs = set(zip(table["local_code"], table["local_label"], strict=True))
    assert set(zip(frame["offense_code"], frame["offense_type"], strict=True)) <= pairs


def test_memphis_file_has_no_offense_code_but_its_label_is_in_the_code_table(shared_data: Path) -> None:
    frame = read_text(shared_data / "memphis_robberies" / "memphis_robberies.csv")
    # The sfhotspot extract keeps only uid, offense_type, date_local_clock and coordinates.
    assert "offense_code" not in frame.columns and "date_single" not in frame.columns
    table = offences("code").set_index("local_label")["local_code"]
    assert set(frame["offense_type"]) == {"personal robbery"}
    assert table["personal robbery"] == "12A"


# -- end to end: import the real files with each preset ----------------------------------------------



BOX = '{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"box"}},\
"geometry":{{"type":"Polygon","coordinates":[[[{0},{1}],[{2},{1}],[{2},{3}],[{0},{3}],[{0},{1}]]]}}}}]}}'


def _workspace(tmp_path: Path, crs: str, timezone: str, areas: Path | None, box: tuple[float, ...] = ()):
    workspace = pytest.importorskip("safercities.workspace")
    ws = workspace.init(tmp_path / "ws", name="test", crs=crs, timezone=timezone)
    if areas is None:
        areas = tmp_path / "box.geojson"
        areas.write_text(BOX.format(*box), encoding="utf-8")
        ws.import_areas(areas, id="id")
    else:
        ws.import_areas(areas, id="area_numbe", name="community")
    return ws


def _counts_by(ws, result, source: pd.DataFrame, column: str, key: str) -> tuple[dict, dict]:
    """(incidents + rejects) per offence, and pandas' own count per offence in the source file."""
    incidents = ws.incidents()
    stored = incidents.groupby(key).size()
    rejects = ws.rejects(result.import_id).drop_duplicates("row_number")
    rejected = pd.Series([json.loads(raw)[column] for raw in rejects["raw"]], dtype=object).value_counts()
    total = stored.add(rejected, fill_value=0).astype(int)
    return total.to_dict(), source[column].value_counts().to_dict()


@pytest.mark.slow
def test_import_police_uk_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "policeuk_west_yorkshire" / "2018-07-west-yorkshire-street.csv"
    source = read_text(path)
    with _workspace(tmp_path, "EPSG:27700", "Europe/London", None, (-8.0, 49.9, 1.8, 60.9)) as ws:
        result = ws.import_incidents(path, preset_name="police-uk")
        assert result.rows_read == len(source) == 31635
        assert result.accepted + result.rejected == result.rows_read
        assert result.rejects_by_reason == {"missing_coordinates": 883}
        assert any("5442 rows without an id" in w for w in result.warnings)
        incidents = ws.incidents()
        assert incidents["incident_id"].is_unique
        # offence_label is the source's "Crime type": count it both ways.
        total, expected = _counts_by(ws, result, source, "Crime type", "offence_label")
        assert total == expected == POLICE_UK_2018_07
        asb = incidents[incidents["offence_label"] == "Anti-social behaviour"]
        assert set(asb["iccs_code"]) == {"0801"} and set(asb["offence_code"]) == {"anti-social-behaviour"}
        # A month is a window: from the first to the last instant of July 2018, London time.
        assert str(incidents["occurred_from"].min()) == "2018-07-01 00:00:00+01:00"
        assert str(incidents["occurred_to"].max()).startswith("2018-07-31 23:59:59")


@pytest.mark.slow
def test_import_chicago_ibm_sample_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "crime_chicago"
    path = folder / "chicago_crime_sample_ibm_533.csv"
    source = read_text(path)
    base = preset("chicago")
    # This extract writes D/M/YYYY dates without a time and names some columns differently.
    mapping = replace(
        base,
        dates=replace(base.dates, format="%d/%m/%Y"),
        columns=replace(
            base.columns,
            keep=("CASE_NUMBER", "BLOCK", "IUCR", "DESCRIPTION", "ARREST", "DOMESTIC", "BEAT", "DISTRICT",
                  "WARD", "COMMUNITY_AREA_NUMBER", "FBICODE"),
        ),
    )  # fmt: skip
    with _workspace(tmp_path, "EPSG:26971", "America/Chicago", folder / "chicago_community_areas.geojson") as ws:
        result = ws.import_incidents(path, mapping=mapping)
        assert result.rows_read == len(source) == 533
        assert result.accepted + result.rejected == result.rows_read
        assert result.rejects_by_reason.get("unknown_offence", 0) == 3  # the three non-criminal rows
        total, expected = _counts_by(ws, result, source, "PRIMARY_TYPE", "offence_label")
        assert total == expected
        incidents = ws.incidents()
        theft = incidents[incidents["offence_label"] == "THEFT"]
        assert set(theft["iccs_code"]) == {"0502"}


@pytest.mark.slow
def test_import_code_chicago_homicides_end_to_end(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "crime_chicago"
    path = folder / "chicago_homicides_2015_CODE.csv"
    source = read_text(path)
    with _workspace(tmp_path, "EPSG:26971", "America/Chicago", folder / "chicago_community_areas.geojson") as ws:
        result = ws.import_incidents(path, preset_name="code")
        assert result.rows_read == len(source) == 499
        assert result.accepted == 499 and result.rejected == 0  # all inside a community area (SOURCE.md)
        incidents = ws.incidents()
        assert set(incidents["iccs_code"]) == {"0101"}
        assert set(incidents["offence_code"]) == {"09A"}
        # Moments, except four homicides whose export dropped the time at midnight ("2015-02-10"): day windows.
        moment = incidents["occurred_from"] == incidents["occurred_to"]
        assert moment.sum() == 495
        assert ((incidents["occurred_to"] - incidents["occurred_from"])[~moment] > pd.Timedelta(hours=23)).all()


@pytest.mark.slow
def test_import_memphis_with_the_code_table_matched_by_label(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "memphis_robberies" / "memphis_robberies.csv"
    source = read_text(path)
    base = preset("code")
    # No offense_code and no date_single: match the offence by its label and read date_local_clock.
    mapping = replace(
        base,
        columns=replace(base.columns, occurred="date_local_clock", offence_code="", location_type="", keep=()),
        dates=replace(base.dates, format="%Y-%m-%dT%H:%M:%S"),
        offences=replace(base.offences, match="label"),
    )
    with _workspace(tmp_path, "EPSG:32615", "America/Chicago", None, (-90.4, 34.9, -89.6, 35.4)) as ws:
        result = ws.import_incidents(path, mapping=mapping)
        assert result.rows_read == len(source) == 2245
        assert result.accepted + result.rejected == result.rows_read
        incidents = ws.incidents()
        assert set(incidents["offence_code"]) == {"12A"}
        assert set(incidents["iccs_code"]) == {"0401"}
