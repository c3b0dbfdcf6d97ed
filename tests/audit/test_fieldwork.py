"""Fieldwork imports on the synthetic city: focus-group segments and safety walks, their rejects and outputs.

Checked against the simulator's truth (the defective rows it planted, the community each walk point was drawn
in) and against counts made directly from the source files with pandas.
"""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import pytest
from fieldworkkit import FieldworkCity, shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safercities.audit import fieldwork as fw
from safercities.audit import walks as wk
from safercities.audit.codebook import load_codebook
from safercities.errors import InputError
from safercities.geo.assign import AreaIndex
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import read_table
from safercities.workspace import init


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> FieldworkCity:
    return shared(tmp_path_factory)


def _source(city: FieldworkCity, name: str) -> Path:
    return city.city.outdir / city.truth["files"][name]


# ---------------------------------------------------------------- focus groups and interviews


def test_every_segment_is_kept_and_every_planted_defect_rejected(city: FieldworkCity) -> None:
    result = city.fieldwork_import
    assert result.accepted == city.truth["segments"]
    assert result.rejects_by_reason == city.truth["defects"]["fieldwork"]
    with city.open() as ws:
        rejects = ws.rejects(result.import_id).set_index("reason_code")
        held = fw.segments(ws)
    source = pd.read_csv(_source(city, "fieldwork"), dtype=str)
    bad_date_row = int(np.flatnonzero(source["fecha"] == "31/02/2024")[0]) + 2  # header is row 1
    assert rejects.loc["bad_date", "row_number"] == bad_date_row
    assert rejects.loc["bad_date", "column_name"] == "fecha"
    assert rejects.loc["unknown_code", "column_name"] == "codigos"
    assert "robo_de_celular" in rejects.loc["unknown_code", "reason"]
    assert "C999" in rejects.loc["unknown_area", "reason"]
    assert len(held) == city.truth["segments"]
    assert set(held["participant_group"]) == {"women", "youth", "elders", "business", "other"}
    assert set(held["session_kind"]) == {"focus_group", "interview"}
    assert held["session_id"].nunique() == city.truth["sessions"]


def test_code_frequencies_match_a_count_made_from_the_file(city: FieldworkCity) -> None:
    source = pd.read_csv(_source(city, "fieldwork"), dtype=str)
    source = source[source["id_cita"].str.startswith("Q0")]  # the planted defects are Q9xxx
    tokens = source.assign(code=source["codigos"].str.split("; ")).explode("code")
    expected = tokens.groupby(["colonia", "code"])["id_cita"].nunique()
    expected_sessions = tokens.groupby(["colonia", "code"])["sesion"].nunique()
    with city.open() as ws:
        frequencies = fw.code_frequencies(fw.segments(ws), by=("area_id",))
    got = frequencies.set_index(["area_id", "code"])
    assert got["segments"].sort_index().to_dict() == expected.sort_index().to_dict()
    assert got["sessions"].sort_index().to_dict() == expected_sessions.sort_index().to_dict()
    assert (got["share"] <= 1).all() and (got["share"] > 0).all()
    city_wide = fw.code_frequencies(fw.segments(city.open()), by=())
    assert city_wide["segments"].sum() == len(tokens)


def test_the_planted_community_talks_of_robbery_and_poor_lighting(city: FieldworkCity) -> None:
    planted = city.truth["planted"]["robbery_lighting"]["area_id"]
    with city.open() as ws:
        held = fw.segments(ws)
    counts = fw.code_frequencies(held, by=("area_id",)).set_index(["area_id", "code"])["segments"]
    here = counts.loc[planted].sort_values(ascending=False)
    assert {"robbery", "poor_lighting"} <= set(here.index[:3])
    quotes = fw.quotes(held, "robbery", planted)
    assert len(quotes) == here["robbery"]
    assert quotes["codes"].str.contains("robbery").all()
    assert (quotes["area_id"] == planted).all()
    by_group = fw.code_frequencies(held[held["area_id"] == planted])
    assert set(by_group["participant_group"]) == {"women", "youth", "elders", "business", "other"}


def test_quotes_of_an_unknown_code_are_refused(city: FieldworkCity) -> None:
    with city.open() as ws, pytest.raises(InputError, match="unknown code 'robo'"):
        fw.quotes(fw.segments(ws), "robo")
    with city.open() as ws, pytest.raises(InputError, match="cannot count codes by"):
        fw.code_frequencies(fw.segments(ws), by=("colonia",))


def test_an_excel_copy_with_real_date_cells_reads_the_same(city: FieldworkCity, tmp_path: Path) -> None:
    source = pd.read_csv(_source(city, "fieldwork"), dtype=str)
    dated = source.assign(fecha=pd.to_datetime(source["fecha"], format="%d/%m/%Y", errors="coerce"))
    dated.loc[dated["fecha"].isna(), "fecha"] = pd.NaT
    path = tmp_path / "fieldwork.xlsx"
    dated.to_excel(path, index=False)
    raw = read_table(path, SourceOptions())
    with city.open() as ws:
        areas = ws.store.areas()[["area_id", "name"]]
        held = fw.segments(ws)
    prepared = fw.prepare_segments(raw, load_codebook(), areas, id_prefix="x")
    rows = prepared.rows.to_pandas()
    assert len(rows) == city.truth["segments"]
    assert rows["segment_id"].tolist() == sorted(rows["segment_id"])
    merged = rows.merge(held, on="segment_id", suffixes=("", "_csv"))
    assert (pd.to_datetime(merged["session_date"]) == merged["session_date_csv"]).all()
    assert (merged["codes"] == merged["codes_csv"]).all()
    # the impossible date became an empty cell: now a missing value, in the same row
    assert set(prepared.rejects["reason_code"]) == {"unknown_code", "unknown_area", "missing_value"}


def test_a_repeated_file_changes_nothing_and_a_failed_import_leaves_the_store(tmp_path: Path, city: FieldworkCity):
    with init(tmp_path / "ws", name="t", crs=city.city.crs, timezone=city.city.timezone) as ws:
        ws.import_areas(city.city.areas, id="area_id", name="name", level="level", parent="parent_id")
        first = fw.import_fieldwork(ws, _source(city, "fieldwork"))
        again = fw.import_fieldwork(ws, _source(city, "fieldwork"))
        assert again.already_imported and len(fw.segments(ws)) == first.accepted
        replaced = fw.import_fieldwork(ws, _source(city, "fieldwork"), replace=True)
        assert replaced.accepted == first.accepted and len(fw.segments(ws)) == first.accepted
        broken = tmp_path / "broken.csv"
        pd.read_csv(_source(city, "fieldwork"), dtype=str).drop(columns="grupo").to_csv(broken, index=False)
        imports_before = len(ws.imports())
        with pytest.raises(InputError, match="participant_group") as caught:
            fw.import_fieldwork(ws, broken)
        assert caught.value.file == str(broken) and caught.value.column == "participant_group"
        assert len(ws.imports()) == imports_before and len(fw.segments(ws)) == first.accepted
        with pytest.raises(InputError, match="date_order"):
            fw.import_fieldwork(ws, _source(city, "fieldwork"), date_order="dym")


# ---------------------------------------------------------------- safety walks


def test_every_walk_point_lands_in_the_community_it_was_drawn_in(city: FieldworkCity) -> None:
    result = city.walks_import
    assert result.accepted == city.truth["observations"]
    assert result.rejects_by_reason == city.truth["defects"]["walks"]
    source = pd.read_csv(_source(city, "walks"), dtype=str).set_index("id")
    with city.open() as ws:
        held = wk.observations(ws).set_index("observation_id")
        rejects = ws.rejects(result.import_id).set_index("reason_code")
    drawn_in = source.loc[held.index, "recorrido"].str.split("-").str[0]
    assert (held["area_id"] == drawn_in).all()
    assert rejects.loc["bad_rating", "column_name"] == "calificacion"
    assert rejects.loc["outside_city", "column_name"] == "longitud"
    assert rejects.loc["unknown_category", "row_number"] == int(np.flatnonzero(source.index == "W9002")[0]) + 2
    back = pyproj.Transformer.from_crs(city.city.crs, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(held["x"].to_numpy(), held["y"].to_numpy())
    assert np.allclose(lon, source.loc[held.index, "longitud"].astype(float), atol=1e-6)
    assert np.allclose(lat, source.loc[held.index, "latitud"].astype(float), atol=1e-6)


def test_walk_summary_matches_the_file_and_the_planted_darkness(city: FieldworkCity) -> None:
    source = pd.read_csv(_source(city, "walks"), dtype={"calificacion": float})
    source = source[source["id"].str.startswith("W0")]
    source["area_id"] = source["recorrido"].str.split("-").str[0]
    expected = source.groupby(["area_id", "categoria"])["calificacion"].agg(["mean", "std", "count"])
    with city.open() as ws:
        summary = wk.walk_summary(wk.observations(ws))
    labels = {s.id: s.label["es"] for s in load_codebook().walk_categories.values()}
    summary["categoria"] = summary["category"].map(labels)
    got = summary.set_index(["area_id", "categoria"]).sort_index()
    expected = expected.sort_index()
    assert np.allclose(got["mean_rating"], expected["mean"])
    assert np.allclose(got["sd"], expected["std"], equal_nan=True)
    assert (got["n"] == expected["count"]).all()
    assert ((got["lower"] <= got["mean_rating"]) & (got["mean_rating"] <= got["upper"])).all()
    lighting = summary[summary["category"] == "lighting"].set_index("area_id")["mean_rating"]
    planted = city.truth["planted"]
    assert lighting[planted["robbery_lighting"]["area_id"]] == lighting.min()
    assert lighting[planted["lighting_walks_vs_indicator"]["area_id"]] < lighting.median()


def test_walk_points_for_the_map(city: FieldworkCity) -> None:
    with city.open() as ws:
        points = wk.walk_points(ws)
        communities = ws.areas("community").set_index("area_id")
    assert str(points.crs) == city.city.crs
    inside = points.geometry.within(communities.geometry.reindex(points["area_id"]).set_axis(points.index))
    assert inside.all()


def test_a_walk_file_without_coordinates_or_with_a_bad_confidence_is_refused(city: FieldworkCity, tmp_path: Path):
    path = tmp_path / "walks.csv"
    pd.DataFrame({"category": ["lighting"], "rating": [3], "date": ["2024-01-05"]}).to_csv(path, index=False)
    with city.open() as ws, pytest.raises(InputError, match="needs coordinates"):
        wk.import_walks(ws, path)
    with pytest.raises(InputError, match="confidence"):
        wk.walk_summary(pd.DataFrame(columns=["area_id", "category", "rating", "observation_id"]), confidence=1.5)


# ---------------------------------------------------------------- messy files (hypothesis)

AREAS = pd.DataFrame({"area_id": ["C001", "C002", "C003"], "name": ["Centro", "San Pablo", "Santa Rosa"]})
TODAY = dt.date(2026, 11, 25)
_codes = st.sampled_from(["robbery", "Robo con violencia", "POOR_LIGHTING", " fear_of_crime ", "robbery;poverty"])
_KNOWN = set(fw.code_lookup(load_codebook()).index)
_bad_codes = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=8).filter(lambda s: fw.fold(s) not in _KNOWN)
_groups = st.sampled_from(["women", "Mujeres", "JÓVENES", "aînés", "business", "other"])
_areas = st.sampled_from(["C001", "c002", "Santa Rosa", "san pablo"])
_dates = st.sampled_from(["2024-03-05", "05/03/2024", "31/12/2023", "5-3-2024", "2024-03-05 10:30"])
_bad_dates = st.sampled_from(["2024-02-30", "yesterday", "2031-01-01", "13/13/2024"])


@st.composite
def segment_rows(draw: Any) -> tuple[list[dict[str, str]], list[str | None]]:
    """Rows of a fieldwork file, each either good or broken in one known way (and the expected reason)."""
    rows, expected = [], []
    for _ in range(draw(st.integers(1, 12))):
        row = {
            "community": draw(_areas),
            "group": draw(_groups),
            "date": draw(_dates),
            "codes": draw(_codes),
            "quote": draw(st.text(alphabet=string.ascii_letters + ' ,;áé"', max_size=30)),
        }
        fault = draw(st.sampled_from([None, None, "unknown_code", "unknown_area", "unknown_group", "bad_date"]))
        if fault == "unknown_code":
            row["codes"] = row["codes"] + ";" + draw(_bad_codes)
        elif fault == "unknown_area":
            row["community"] = "Z" + draw(st.text(alphabet=string.digits, min_size=1, max_size=3))
        elif fault == "unknown_group":
            row["group"] = "martians"
        elif fault == "bad_date":
            row["date"] = draw(_bad_dates)
        rows.append(row)
        expected.append(fault)
    return rows, expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=segment_rows(), excel=st.booleans())
def test_messy_fieldwork_files_keep_or_reject_every_row_for_the_planted_reason(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[list[dict[str, str]], list[str | None]], excel: bool
) -> None:
    rows, expected = case
    folder = tmp_path_factory.mktemp("messy")
    frame = pd.DataFrame(rows)
    path = folder / ("f.xlsx" if excel else "f.csv")
    if excel:
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, sep=";")
    raw = read_table(path, SourceOptions())
    prepared = fw.prepare_segments(raw, load_codebook(), AREAS, id_prefix="p", today=TODAY)
    got = prepared.rejects.set_index("row_number")["reason_code"]
    assert prepared.rows.num_rows + len(got) == len(rows)
    for i, fault in enumerate(expected):
        assert got.get(i + 2) == fault, (rows[i], got.get(i + 2), prepared.rejects)
    kept = prepared.rows.to_pandas()
    assert set(kept["area_id"]) <= set(AREAS["area_id"])
    assert kept["codes"].str.split(";").explode().isin(load_codebook().ids()).all()


X0, Y0 = 350_000.0, 2_280_000.0  # UTM 14N, near Querétaro


def _small_index() -> tuple[AreaIndex, np.ndarray, pyproj.CRS]:
    import shapely

    crs = pyproj.CRS("EPSG:32614")
    squares = np.array([shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)])
    return AreaIndex.build(squares), np.array(["A", "B"], dtype=object), crs


_ratings = st.one_of(
    st.integers(-2, 8).map(str), st.sampled_from(["", "3.0", "2,0", "4.5", "bueno", " 5 ", "1e0", "nan"])
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ratings=st.lists(_ratings, min_size=1, max_size=15),
    xs=st.lists(st.floats(-500, 2500, allow_nan=False), min_size=15, max_size=15),
)
def test_messy_walk_ratings_and_points(
    tmp_path_factory: pytest.TempPathFactory, ratings: list[str], xs: list[float]
) -> None:
    index, ids, crs = _small_index()
    n = len(ratings)
    frame = pd.DataFrame(
        {
            "categoria": "Iluminación",
            "puntaje": ratings,
            "x": X0 + np.asarray(xs[:n]),
            "y": Y0 + 500,
            "fecha": "2024-06-01",
        }
    )
    path = tmp_path_factory.mktemp("walks") / "w.csv"
    frame.to_csv(path, index=False)
    raw = read_table(path, SourceOptions())
    prepared = wk.prepare_walks(
        raw, load_codebook(), index=index, area_ids=ids, lonlat_bounds=None, crs=crs, id_prefix="w", today=TODAY
    )
    got = prepared.rejects.set_index("row_number")["reason_code"]
    assert prepared.rows.num_rows + len(got) == n
    value = pd.to_numeric(pd.Series(ratings).str.strip().str.replace(",", "."), errors="coerce")
    good_rating = value.notna() & (value % 1 == 0) & value.between(1, 5)
    x = X0 + np.asarray(xs[:n])
    inside = pd.Series((x >= X0) & (x <= X0 + 2000))
    for i in range(n):
        reason = got.get(i + 2)
        if ratings[i].strip() == "":
            assert reason == "missing_value"
        elif not good_rating[i]:
            assert reason == "bad_rating", (ratings[i], reason)
        elif not inside[i]:
            assert reason == "outside_city"
        else:
            assert reason is None
    kept = prepared.rows.to_pandas()
    assert kept["area_id"].tolist() == np.where(x[good_rating & inside] <= X0 + 1000, "A", "B").tolist()
    assert kept["category"].eq("lighting").all()
