"""Importing incidents into the tiny city: every reject reason, all-or-nothing errors, lineage.

Each file is built row by row (``citykit.row``) so that the expected outcome of every row is known
before the import runs: which rows are accepted, which are rejected, with which reason and row number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import citykit as ck
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest

import safercities.workspace as sc
from safercities.errors import CRSError, InputError

ROW0 = 2  # spreadsheet row of the first data row


@pytest.fixture
def city(tmp_path: Path) -> tuple[sc.Workspace, Path]:
    ws = ck.make_city(tmp_path)
    yield ws, tmp_path / "src"
    ws.close()


def _import(
    ws: sc.Workspace, src: Path, rows: list[list[str]], name: str = "inc.csv", **mapping: str
) -> sc.ImportResult:
    path = ck.write_csv(src / name, rows)
    result = ws.import_incidents(path, mapping=ck.write_mapping(src, **mapping))
    _check_conservation(ws, result, rows)
    return result


def _check_conservation(ws: sc.Workspace, result: sc.ImportResult, rows: list[list[str]]) -> None:
    """accepted + rejected == rows read, and each reject's raw JSON holds its source row."""
    assert result.rows_read == len(rows)
    assert result.accepted + result.rejected == result.rows_read
    incidents = ws.store.read("incidents", "import_id = ?", [result.import_id])
    rejects = ws.rejects(result.import_id)
    assert len(incidents) == result.accepted and len(rejects) == result.rejected
    assert sorted(incidents["source_row"].tolist() + rejects["row_number"].tolist()) == list(
        range(ROW0, ROW0 + len(rows))
    )
    for _, reject in rejects.iterrows():
        source = rows[int(reject["row_number"]) - ROW0]
        assert json.loads(reject["raw"]) == dict(zip(ck.HEADER, source, strict=True))


def _reject(ws: sc.Workspace, result: sc.ImportResult) -> pd.Series:
    rejects = ws.rejects(result.import_id)
    assert len(rejects) == 1, rejects
    return rejects.iloc[0]


GOOD = [ck.row("g1", area="A1"), ck.row("g2", area="A2", clave="HUR"), ck.row("g3", area="A6", clave="LES")]


# ------------------------------------------------------------------------------------------ one test per reason


@pytest.mark.parametrize(
    ("bad", "code", "column", "words"),
    [
        (ck.row("x", fecha=""), "missing_date", "fecha", "missing"),
        (ck.row("x", fecha="31/02/2023 10:00"), "bad_date", "fecha", "31/02/2023"),
        (ck.row("x", fecha="15/03/2099 10:00"), "future_date", "fecha", "future"),
        (ck.row("x", clave="", delito=""), "missing_offence", "clave", "missing offence"),
        (ck.row("x", clave="XYZ"), "unknown_offence", "clave", "'XYZ'"),
        (ck.row("x")[:4] + ["", ck.row("x")[5]], "missing_coordinates", "lon/lat", "missing"),
        (ck.row("x")[:4] + ["cien", ck.row("x")[5]], "bad_coordinates", "lon", "cien"),
        (ck.row("x")[:4] + ["-100.39", "95.5"], "bad_coordinates", "lon/lat", "longitude/latitude"),
        (ck.row("x")[:4] + [ck.row("x")[5], ck.row("x")[4]], "swapped_coordinates", "lon/lat", "swapped"),
        (ck.row("x")[:4] + ["2.3522", "48.8566"], "outside_crs", "lon/lat", "EPSG:32614"),
        (ck.row("x", area="A1", fx=-0.5), "outside_areas", "lon/lat", "outside every area"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_reject_reason(
    city: tuple[sc.Workspace, Path], bad: list[str], code: str, column: str, words: str
) -> None:
    ws, src = city
    rows = [*GOOD[:2], bad, GOOD[2]]
    result = _import(ws, src, rows)
    assert result.accepted == 3 and result.rejected == 1
    assert result.rejects_by_reason == {code: 1}
    reject = _reject(ws, result)
    assert reject["reason_code"] == code
    assert reject["row_number"] == ROW0 + 2
    assert reject["column_name"] == column
    assert words in reject["reason"]
    assert reject["file"] == str(src / "inc.csv")
    assert set(ws.incidents()["incident_id"]) == {"g1", "g2", "g3"}


def test_bad_window(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    ck.write_offences(src)
    mapping = src / "window.toml"
    mapping.write_text(
        '[columns]\nid = "folio"\noccurred_from = "desde"\noccurred_to = "hasta"\noffence_code = "clave"\n'
        'x = "lon"\ny = "lat"\n[dates]\nformat = "%d/%m/%Y %H:%M"\n[offences]\ntable = "offences.csv"\n',
        encoding="utf-8",
    )
    lon, lat = ck.point_in("A3")
    header = ["folio", "desde", "hasta", "clave", "lon", "lat"]
    rows = [
        ["w1", "01/03/2023 22:00", "02/03/2023 07:00", "ALLAN", f"{lon}", f"{lat}"],
        ["w2", "02/03/2023 07:00", "01/03/2023 22:00", "ALLAN", f"{lon}", f"{lat}"],  # ends before it starts
        ["w3", "01/03/2023 22:00", "", "ALLAN", f"{lon}", f"{lat}"],  # no end: a moment
    ]
    path = ck.write_csv(src / "window.csv", rows, header=header)
    result = ws.import_incidents(path, mapping=mapping)
    assert (result.accepted, result.rejected) == (2, 1)
    reject = _reject(ws, result)
    assert (reject["reason_code"], reject["row_number"], reject["column_name"]) == ("bad_window", 3, "hasta")
    assert json.loads(reject["raw"]) == dict(zip(header, rows[1], strict=True))
    got = ws.incidents().set_index("incident_id")
    tz = ck.TIMEZONE
    assert got.loc["w1", "occurred_from"] == pd.Timestamp("2023-03-01 22:00", tz=tz)
    assert got.loc["w1", "occurred_to"] == pd.Timestamp("2023-03-02 07:00", tz=tz)
    assert got.loc["w3", "occurred_to"] == got.loc["w3", "occurred_from"]


def test_first_reason_wins_and_each_row_is_rejected_once(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    bad = ck.row("x", fecha="", clave="XYZ")
    result = _import(ws, src, [GOOD[0], bad])
    assert _reject(ws, result)["reason_code"] == "missing_date"


def test_duplicate_id_in_the_file_first_wins(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    rows = [
        ck.row("d1", area="A1"),
        ck.row("d2", area="A2"),
        ck.row("d1", area="A3", clave="HUR"),  # row 4: same id as row 2
        ck.row("d1", area="A4", clave="LES"),  # row 5: again
    ]
    result = _import(ws, src, rows)
    assert (result.accepted, result.rejected) == (2, 2)
    rejects = ws.rejects(result.import_id).sort_values("row_number")
    assert rejects["row_number"].tolist() == [4, 5]
    assert set(rejects["reason_code"]) == {"duplicate_id"}
    assert all("row 2" in r for r in rejects["reason"])
    kept = ws.incidents().set_index("incident_id")
    assert kept.loc["d1", "area_id"] == "A1" and kept.loc["d1", "offence_code"] == "ROB"


def test_duplicate_id_of_a_rejected_row_is_not_a_duplicate(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    rows = [ck.row("d1", fecha=""), ck.row("d1")]  # the first is rejected, so the second is the first usable one
    result = _import(ws, src, rows)
    assert (result.accepted, result.rejected) == (1, 1)
    assert _reject(ws, result)["reason_code"] == "missing_date"


def test_duplicate_id_against_the_store(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    first = _import(ws, src, [ck.row("s1"), ck.row("s2", area="A2")], name="jan.csv")
    assert first.accepted == 2
    second = _import(ws, src, [ck.row("s3", area="A3"), ck.row("s2", area="A5")], name="feb.csv")
    assert (second.accepted, second.rejected) == (1, 1)
    reject = _reject(ws, second)
    assert (reject["reason_code"], reject["row_number"]) == ("duplicate_id", 3)
    assert "already in the store" in reject["reason"]
    kept = ws.incidents().set_index("incident_id")
    assert kept.loc["s2", "area_id"] == "A2"  # the stored one is untouched
    assert len(kept) == 3


# ------------------------------------------------------------------------------------------ all or nothing


def test_projected_coordinates_declared_as_lonlat(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    before = ck.snapshot(ws)
    rows = []
    for i, area in enumerate(["A1", "A2", "A3", "A4"]):
        x, y = ck.point_utm(area)
        rows.append([f"p{i}", "15/03/2023 10:30", "Robo", "ROB", f"{x:.1f}", f"{y:.1f}"])
    path = ck.write_csv(src / "utm.csv", rows)
    with pytest.raises(CRSError) as info:
        ws.import_incidents(path, mapping=ck.write_mapping(src))
    text = str(info.value)
    assert "projected" in text and "utm.csv" in text and "[coordinates]" in text
    assert ck.snapshot(ws) == before


def test_projected_coordinates_declared_as_projected(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    rows = []
    for i, area in enumerate(["A1", "A2", "A3", "A4"]):
        x, y = ck.point_utm(area, 0.25, 0.75)
        rows.append([f"p{i}", "15/03/2023 10:30", "Robo", "ROB", f"{x:.1f}", f"{y:.1f}"])
    result = _import(ws, src, rows, crs="EPSG:32614")
    assert result.accepted == 4
    got = ws.incidents().set_index("incident_id")
    assert got["area_id"].to_dict() == {"p0": "A1", "p1": "A2", "p2": "A3", "p3": "A4"}
    assert got.loc["p0", "x"] == pytest.approx(ck.point_utm("A1", 0.25, 0.75)[0], abs=0.01)


def test_decimal_comma_not_declared(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    before = ck.snapshot(ws)
    rows = [[*r[:4], r[4].replace(".", ","), r[5].replace(".", ",")] for r in GOOD]
    path = ck.write_csv(src / "coma.csv", rows, delimiter=";")
    with pytest.raises(InputError) as info:
        ws.import_incidents(path, mapping=ck.write_mapping(src))
    assert 'decimal = ","' in str(info.value) and "coma.csv" in str(info.value)
    assert ck.snapshot(ws) == before
    # declared, the same file imports
    result = ws.import_incidents(path, mapping=ck.write_mapping(src, "coma.toml", decimal=","))
    assert (result.accepted, result.rejected) == (3, 0)


def test_missing_mapped_column_writes_nothing(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    before = ck.snapshot(ws)
    header = ["folio", "fecha_hechos", "delito", "clave", "lon", "lat"]
    path = ck.write_csv(src / "cols.csv", GOOD, header=header)
    with pytest.raises(InputError) as info:
        ws.import_incidents(path, mapping=ck.write_mapping(src))
    assert "fecha_hechos" in str(info.value)  # the columns found are listed
    assert ck.snapshot(ws) == before


def test_column_names_matched_ignoring_case_and_spacing(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    header = ["FOLIO", "Fecha", "Delito", "CLAVE", "Lon", "LAT"]
    path = ck.write_csv(src / "caps.csv", GOOD, header=header)
    result = ws.import_incidents(path, mapping=ck.write_mapping(src))
    assert (result.accepted, result.rejected) == (3, 0)


def test_ambiguous_dates_stop_the_import(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    before = ck.snapshot(ws)
    rows = [ck.row("a1", fecha="03/04/2023 10:00"), ck.row("a2", fecha="05/06/2023 10:00")]
    path = ck.write_csv(src / "amb.csv", rows)
    with pytest.raises(InputError, match="order"):
        ws.import_incidents(path, mapping=ck.write_mapping(src, order=""))
    assert ck.snapshot(ws) == before


# ------------------------------------------------------------------------------------------ repeat and replace


def test_reimport_of_the_same_file_is_a_noop(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    rows = [*GOOD, ck.row("bad", fecha="")]
    first = _import(ws, src, rows)
    before = ck.snapshot(ws)
    again = ws.import_incidents(src / "inc.csv", mapping=src / "mapping.toml")
    assert again.already_imported
    assert again.import_id == first.import_id
    assert (again.accepted, again.rejected) == (0, 0)
    assert ck.snapshot(ws) == before


def test_same_content_under_another_name_is_a_noop(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    _import(ws, src, GOOD)
    copy = src / "copia.csv"
    copy.write_bytes((src / "inc.csv").read_bytes())
    assert ws.import_incidents(copy, mapping=src / "mapping.toml").already_imported


def test_replace_replaces(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    rows = [*GOOD, ck.row("bad", clave="XYZ")]
    first = _import(ws, src, rows)
    second = ws.import_incidents(src / "inc.csv", mapping=src / "mapping.toml", replace=True)
    assert not second.already_imported and second.import_id != first.import_id
    assert (second.accepted, second.rejected) == (3, 1)
    incidents = ws.store.read("incidents")
    assert len(incidents) == 3 and set(incidents["import_id"]) == {second.import_id}
    assert set(ws.rejects()["import_id"]) == {second.import_id}
    status = ws.imports().set_index("import_id")["status"]
    assert status[first.import_id] == "replaced" and status[second.import_id] == "committed"
    actions = ws.store.read("audit_log")["action"].tolist()
    assert actions[-1] == "replace"


def test_replace_after_the_offence_table_is_completed(city: tuple[sc.Workspace, Path]) -> None:
    """The documented loop: an unknown code is rejected, the table is completed, the file imported again."""
    ws, src = city
    _import(ws, src, [*GOOD, ck.row("n1", clave="EXT")])
    table = pd.concat([ck.OFFENCES, pd.DataFrame([["EXT", "Extorsión", "0208"]], columns=ck.OFFENCES.columns)])
    table.to_csv(src / "offences.csv", index=False)
    result = ws.import_incidents(src / "inc.csv", mapping=src / "mapping.toml", replace=True)
    assert (result.accepted, result.rejected) == (4, 0)
    assert ws.incidents().set_index("incident_id").loc["n1", "iccs_code"] == "0208"


# ------------------------------------------------------------------------------------------ lineage


def test_import_log_hash_user_and_times(city: tuple[sc.Workspace, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    ws, src = city
    monkeypatch.setenv("SAFERCITIES_USER", "analista.ana")
    t0 = dt.datetime.now(dt.UTC)
    result = _import(ws, src, [*GOOD, ck.row("bad", fecha="")])
    t1 = dt.datetime.now(dt.UTC)
    log = ws.imports().set_index("import_id").loc[result.import_id]
    assert log["sha256"] == hashlib.sha256((src / "inc.csv").read_bytes()).hexdigest() == result.sha256
    assert log["username"] == "analista.ana"
    assert log["kind"] == "incidents" and log["file"] == str(src / "inc.csv") and log["status"] == "committed"
    assert (log["rows_read"], log["rows_accepted"], log["rows_rejected"]) == (4, 3, 1)
    started, finished = pd.Timestamp(log["started_at"]), pd.Timestamp(log["finished_at"])
    assert pd.Timestamp(t0) - pd.Timedelta(seconds=1) <= started <= finished <= pd.Timestamp(t1) + pd.Timedelta(
        seconds=1
    )
    audit = ws.store.read("audit_log")
    entry = audit[audit["target"] == "incidents"].iloc[-1]
    assert entry["action"] == "import" and entry["username"] == "analista.ana"
    detail = json.loads(entry["detail"])
    assert detail["import_id"] == result.import_id and detail["sha256"] == result.sha256


def test_times_stored_as_written_in_the_city_zone(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    _import(ws, src, [ck.row("t1", fecha="15/03/2023 22:05"), ck.row("t2", fecha="16/03/2023")])
    got = ws.store.read("incidents").set_index("incident_id")
    # Mexico City has kept UTC-6 all year since 2022
    assert pd.Timestamp(got.loc["t1", "occurred_from"]) == pd.Timestamp("2023-03-16 04:05", tz="UTC")
    assert pd.Timestamp(got.loc["t2", "occurred_from"]) == pd.Timestamp("2023-03-16 06:00", tz="UTC")
    assert pd.Timestamp(got.loc["t2", "occurred_to"]) == pd.Timestamp("2023-03-17 05:59:59", tz="UTC")


def test_areas_match_an_independent_sjoin(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    rng = np.random.default_rng(2024)
    to_lonlat = pyproj.Transformer.from_crs(ck.CRS, "EPSG:4326", always_xy=True)
    # points over the grid and a 300 m margin around it, none within 5 cm of an edge
    x = ck.X0 - 300 + rng.random(400) * (ck.NX * ck.SIDE + 600)
    y = ck.Y0 - 300 + rng.random(400) * (ck.NY * ck.SIDE + 600)
    far = (np.abs(((x - ck.X0) % ck.SIDE) - ck.SIDE / 2) < ck.SIDE / 2 - 0.05) & (
        np.abs(((y - ck.Y0) % ck.SIDE) - ck.SIDE / 2) < ck.SIDE / 2 - 0.05
    )
    x, y = x[far], y[far]
    lon, lat = to_lonlat.transform(x, y)
    codes = ck.OFFENCES["local_code"].tolist()
    rows = [
        [f"r{i}", "15/03/2023 10:30", "", codes[i % 4], f"{lo:.8f}", f"{la:.8f}"]
        for i, (lo, la) in enumerate(zip(lon, lat, strict=True))
    ]
    result = _import(ws, src, rows)
    # the reference: the written lon/lat, projected with pyproj and joined with geopandas
    wx, wy = pyproj.Transformer.from_crs("EPSG:4326", ck.CRS, always_xy=True).transform(
        [float(r[4]) for r in rows], [float(r[5]) for r in rows]
    )
    points = gpd.GeoDataFrame({"incident_id": [r[0] for r in rows]}, geometry=gpd.points_from_xy(wx, wy), crs=ck.CRS)
    joined = gpd.sjoin(points, ck.areas_utm(), how="left", predicate="within")
    expected = joined.set_index("incident_id")["area_id"]
    inside = expected.dropna()
    assert 0 < len(inside) < len(rows)
    got = ws.incidents().set_index("incident_id")["area_id"]
    assert got.sort_index().to_dict() == inside.sort_index().to_dict()
    rejects = ws.rejects(result.import_id)
    assert set(rejects["reason_code"]) == {"outside_areas"}
    outside = set(expected[expected.isna()].index)
    assert {rows[n - ROW0][0] for n in rejects["row_number"]} == outside
    # the ICCS code comes from the offence table
    iccs = dict(zip(ck.OFFENCES["local_code"], ck.OFFENCES["iccs_code"], strict=True))
    stored = ws.incidents()
    assert (stored["iccs_code"] == stored["offence_code"].map(iccs)).all()


def test_ragged_rows_are_rejected_not_lost(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    text = ck.csv_text(GOOD) + "r9,15/03/2023 10:30,Robo,ROB,-100.38\n" + ",".join(ck.row("g4", area="A4")) + "\n"
    path = src / "ragged.csv"
    path.write_text(text, encoding="utf-8")
    result = ws.import_incidents(path, mapping=ck.write_mapping(src))
    assert (result.rows_read, result.accepted, result.rejected) == (5, 4, 1)
    reject = _reject(ws, result)
    assert (reject["reason_code"], reject["row_number"]) == ("ragged_row", 5)
    assert reject["raw"] == "r9,15/03/2023 10:30,Robo,ROB,-100.38"


def test_empty_and_header_only_files(city: tuple[sc.Workspace, Path]) -> None:
    ws, src = city
    before = ck.snapshot(ws)
    empty = src / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        ws.import_incidents(empty, mapping=ck.write_mapping(src))
    assert ck.snapshot(ws) == before
    header_only = ck.write_csv(src / "header.csv", [])
    result = ws.import_incidents(header_only, mapping=src / "mapping.toml")
    assert (result.rows_read, result.accepted, result.rejected) == (0, 0, 0)
