"""Reading area boundaries: every format, every row check, the hierarchy helpers and the real boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from safercities.errors import CRSError, InputError
from safercities.ingest.areas import (
    AreaColumns,
    AreasRead,
    finest_level_ids,
    lineage,
    parse_numbers,
    read_areas,
    sniff_delimiter,
)

UTM14 = "EPSG:32614"  # Mexico City's UTM zone
X0, Y0 = -99.20, 19.40  # south-west corner of the fixture city (lon/lat)
STEP = 0.05
COLS = AreaColumns(id="code", name="name", population="pop", level="level", parent="parent")


def _nested() -> gpd.GeoDataFrame:
    """A city of two districts of two communities each, in lon/lat."""
    rows = [("C", "Ciudad", "city", None, 400.0, box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP))]
    for d, dx in (("D1", 0), ("D2", 1)):
        x = X0 + dx * STEP
        rows.append((d, f"Distrito {d}", "district", "C", 200.0, box(x, Y0, x + STEP, Y0 + 2 * STEP)))
        for k, dy in ((1, 0), (2, 1)):
            y = Y0 + dy * STEP
            rows.append((f"{d}K{k}", f"Colonia {d}{k}", "community", d, 100.0, box(x, y, x + STEP, y + STEP)))
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent", "pop", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def _read(path: Path, columns: AreaColumns = COLS, **kwargs: object) -> AreasRead:
    return read_areas(path, columns, UTM14, **kwargs)  # type: ignore[arg-type]


def _csv(tmp_path: Path, rows: list[str], header: str = "code;name;pop;level;parent;wkt", enc: str = "utf-8") -> Path:
    path = tmp_path / "areas.csv"
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(enc))
    return path


SQUARE = "POLYGON ((0 0, 100 0, 100 100, 0 100, 0 0))"


# ------------------------------------------------------------------------------------------ formats


def test_geojson_nested_levels_and_lineage(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"
    _nested().to_file(path, driver="GeoJSON", engine="pyogrio")
    got = _read(path)
    assert got.rows_read == 7 and got.rejects.empty and got.warnings == ()
    areas = got.areas
    assert list(areas.columns) == ["area_id", "name", "level", "parent_id", "population", "geometry", "source_row"]
    assert areas.crs == pyproj.CRS(UTM14)
    assert areas["source_row"].tolist() == list(range(2, 9))  # spreadsheet rows
    assert dict(zip(areas["area_id"], areas["level"], strict=True))["D2K1"] == "community"
    assert areas.loc[areas["area_id"] == "C", "parent_id"].iloc[0] is None
    assert shapely.is_valid(areas.geometry.values).all()
    # the children tile their parent
    city = areas.loc[areas["area_id"] == "C", "geometry"].iloc[0]
    assert areas.loc[areas["level"] == "community"].area.sum() == pytest.approx(city.area, rel=1e-6)

    assert finest_level_ids(areas) == {"D1K1", "D1K2", "D2K1", "D2K2"}
    up = lineage(areas, "district").set_index("area_id")["target_id"].to_dict()
    assert up == {"D1K1": "D1", "D1K2": "D1", "D2K1": "D2", "D2K2": "D2"}
    assert set(lineage(areas, "city")["target_id"]) == {"C"}
    same = lineage(areas, "community")
    assert (same["area_id"] == same["target_id"]).all()
    with pytest.raises(InputError, match=r"unknown level 'ward'.*'city', 'community', 'district'"):
        lineage(areas, "ward")


def test_lineage_finest_area_without_ancestor_at_level() -> None:
    areas = pd.DataFrame(
        {
            "area_id": ["C", "D1", "K1", "D2"],
            "level": ["city", "district", "community", "district"],
            "parent_id": [None, "C", "D1", "C"],
        }
    )
    assert finest_level_ids(areas) == {"K1", "D2"}
    got = lineage(areas, "community").set_index("area_id")["target_id"]
    assert got["K1"] == "K1" and got["D2"] is None
    assert lineage(areas, "district").set_index("area_id")["target_id"].to_dict() == {"D2": "D2", "K1": "D1"}


def test_gpkg_several_layers_warns_and_layer_picks(tmp_path: Path) -> None:
    path = tmp_path / "areas.gpkg"
    nested = _nested()
    nested.to_file(path, layer="communities", driver="GPKG", engine="pyogrio")
    nested.iloc[:1].to_file(path, layer="city", driver="GPKG", engine="pyogrio")
    got = _read(path)
    assert len(got.areas) == 7
    assert len(got.warnings) == 1 and "'communities'" in got.warnings[0] and "'city'" in got.warnings[0]
    one = _read(path, layer="city")
    assert one.areas["area_id"].tolist() == ["C"] and one.warnings == ()
    with pytest.raises(InputError, match=r"no layer 'wards'; the layers are: 'communities', 'city'"):
        _read(path, layer="wards")


def test_shapefile_and_missing_crs(tmp_path: Path) -> None:
    path = tmp_path / "areas.shp"
    _nested().to_file(path, driver="ESRI Shapefile", engine="pyogrio")
    assert len(_read(path).areas) == 7
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"areas\.shp: the file has no CRS.*--source-crs"):
        _read(path)
    again = _read(path, source_crs="EPSG:4326")
    assert len(again.areas) == 7 and again.rejects.empty


def test_csv_semicolon_latin1_wkt(tmp_path: Path) -> None:
    wkt = box(X0, Y0, X0 + STEP, Y0 + STEP).wkt
    path = _csv(
        tmp_path,
        [
            f"01;Colonia Peñuelas;1.234;;;{wkt}",
            f"02;Barrio Ñuñoa;1234,5;;;{wkt}",
            f"03;Quartier Élysée;12 345;;;{wkt}",
        ],
        enc="latin-1",
    )
    got = _read(path, source_crs="EPSG:4326", default_level="colonia")
    assert got.rejects.empty
    assert got.areas["area_id"].tolist() == ["01", "02", "03"]  # text ids keep their leading zeros
    assert got.areas["name"].tolist() == ["Colonia Peñuelas", "Barrio Ñuñoa", "Quartier Élysée"]
    assert got.areas["population"].tolist() == [1234.0, 1234.5, 12345.0]
    assert set(got.areas["level"]) == {"colonia"}
    with pytest.raises(CRSError, match=r"areas\.csv: a CSV with WKT carries no CRS.*--source-crs"):
        _read(path)
    given = _read(path, source_crs="EPSG:4326", encoding="latin-1")
    assert given.areas["name"].iloc[0] == "Colonia Peñuelas"


def test_csv_comma_with_quoted_wkt_and_named_geometry_column(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text(f'ID,Shape\nA,"{SQUARE}"\n', encoding="utf-8")
    got = read_areas(path, AreaColumns(id="id", geometry="shape"), UTM14, source_crs=UTM14)
    assert got.areas["area_id"].tolist() == ["A"] and got.areas.area.iloc[0] == pytest.approx(10_000)
    with pytest.raises(InputError, match=r"no WKT geometry column \(tried wkt, geometry, geom, the_geom\).*'Shape'"):
        read_areas(path, AreaColumns(id="id"), UTM14, source_crs=UTM14)


def test_sniff_delimiter_uses_header_outside_quotes() -> None:
    assert sniff_delimiter("id;name;wkt") == ";"
    assert sniff_delimiter("id\tname\twkt") == "\t"
    assert sniff_delimiter('id,"a;b;c",wkt') == ","
    assert sniff_delimiter("wkt") == ","


# ------------------------------------------------------------------------------------------ row checks


def test_bowtie_repaired_with_warning(tmp_path: Path) -> None:
    bowtie = "POLYGON ((0 0, 100 100, 100 0, 0 100, 0 0))"
    path = _csv(tmp_path, [f"A;a;;;;{SQUARE}", f"B;b;;;;{bowtie}"])
    got = _read(path, source_crs=UTM14)
    assert got.rejects.empty
    assert got.warnings == ("1 invalid geometry repaired with make_valid (rows 3)",)
    fixed = got.areas.geometry.iloc[1]
    assert fixed.geom_type == "MultiPolygon" and fixed.is_valid and len(fixed.geoms) == 2
    assert fixed.area == pytest.approx(5_000)


def test_repair_that_leaves_no_polygon_is_rejected(tmp_path: Path) -> None:
    flat = "POLYGON ((0 0, 100 0, 200 0, 0 0))"  # collapses to a line
    path = _csv(tmp_path, [f"A;a;;;;{SQUARE}", f"B;b;;;;{flat}"])
    got = _read(path, source_crs=UTM14)
    assert got.areas["area_id"].tolist() == ["A"]
    assert got.rejects["row_number"].tolist() == [3]
    assert (
        got.rejects["reason"].iloc[0].startswith("invalid geometry (") and "no polygon" in got.rejects["reason"].iloc[0]
    )


def test_point_empty_and_unparseable_geometries_rejected(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        [
            f"A;a;;;;{SQUARE}",
            "B;b;;;;POINT (1 2)",
            "C;c;;;;",
            "D;d;;;;POLYGON ((0 0, 1",
            "E;e;;;;LINESTRING (0 0, 1 1)",
        ],
    )
    got = _read(path, source_crs=UTM14)
    assert got.areas["area_id"].tolist() == ["A"]
    reasons = got.rejects.set_index("row_number")["reason"].to_dict()
    assert reasons == {
        3: "Point geometry is not a polygon",
        4: "missing or empty geometry",
        5: "geometry is not valid WKT",
        6: "LineString geometry is not a polygon",
    }
    assert set(got.rejects["column_name"]) == {"wkt"}
    raw = json.loads(got.rejects["raw"].iloc[0])
    assert raw == {"code": "B", "name": "b", "pop": "", "level": "", "parent": "", "wkt": "POINT (1 2)"}


def test_geojson_point_rejected_with_wkt_in_raw(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"code": ["A", "B"], "geometry": [box(X0, Y0, X0 + STEP, Y0 + STEP), Point(X0, Y0)]}, crs="EPSG:4326"
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    got = read_areas(path, AreaColumns(id="code"), UTM14)
    assert got.areas["area_id"].tolist() == ["A"]
    assert got.rejects["reason"].tolist() == ["Point geometry is not a polygon"]
    assert json.loads(got.rejects["raw"].iloc[0])["geometry"].startswith("POINT (-99.2 19.4")


def test_missing_and_duplicate_ids(tmp_path: Path) -> None:
    path = _csv(tmp_path, [f"A;a;;;;{SQUARE}", f";nameless;;;;{SQUARE}", f"A;again;;;;{SQUARE}", f" B ;b;;;;{SQUARE}"])
    got = _read(path, source_crs=UTM14)
    assert got.areas["area_id"].tolist() == ["A", "B"]
    assert got.areas["name"].tolist() == ["a", "b"]  # the first of the duplicates is kept
    assert got.rejects[["row_number", "column_name", "reason"]].values.tolist() == [
        [3, "code", "missing id"],
        [4, "code", "duplicate id 'A' (first in row 2)"],
    ]


def test_bad_population_rejected_naming_the_value(tmp_path: Path) -> None:
    path = _csv(
        tmp_path, [f"A;a;12abc;;;{SQUARE}", f"B;b;-5;;;{SQUARE}", f"C;c;;;;{SQUARE}", f"D;d;1.234,5;;;{SQUARE}"]
    )
    got = _read(path, source_crs=UTM14)
    assert got.rejects["reason"].tolist() == ["population '12abc' is not a number", "population '-5' is negative"]
    assert got.rejects["column_name"].tolist() == ["pop", "pop"]
    assert got.areas["area_id"].tolist() == ["C", "D"]
    assert np.isnan(got.areas["population"].iloc[0]) and got.areas["population"].iloc[1] == 1234.5
    assert got.rows_read == 4 and got.rows_rejected == 2


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1234", 1234.0),
        ("1234.5", 1234.5),
        ("1234,5", 1234.5),
        ("12.345", 12345.0),
        ("12,345", 12345.0),
        ("1.234.567", 1234567.0),
        ("1,234,567", 1234567.0),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("12 345", 12345.0),
        ("12\u202f345", 12345.0),
        ("1'234", 1234.0),
        ("0,5", 0.5),
        ("", np.nan),
    ],
)
def test_parse_numbers_rule(text: str, value: float) -> None:
    got, bad = parse_numbers(pd.Series([text], dtype="str"))
    assert not bad[0]
    np.testing.assert_equal(got[0], value)


def test_parse_numbers_rejects_and_numeric_columns() -> None:
    _, bad = parse_numbers(pd.Series(["1.2.3", "1,23,4", "abc", "1.234,5,6"], dtype="str"))
    assert bad.all()
    got, bad = parse_numbers(pd.Series([1, 2, None], dtype="Int64"))
    assert not bad.any() and got[:2].tolist() == [1.0, 2.0] and np.isnan(got[2])


def test_unknown_parent_rejected_known_parent_accepted_and_cascade(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        [
            f"D1;d1;;district;CITY;{SQUARE}",
            f"D2;d2;;district;NOWHERE;{SQUARE}",
            f"K1;k1;;community;D2;{SQUARE}",
            f"K2;k2;;community;K1;{SQUARE}",
            f"K3;k3;;community;D1;{SQUARE}",
        ],
    )
    got = _read(path, source_crs=UTM14, known_parents={"CITY"})
    assert got.areas["area_id"].tolist() == ["D1", "K3"]
    assert got.rejects[["row_number", "column_name", "reason"]].values.tolist() == [
        [3, "parent", "parent_id 'NOWHERE' refers to no area in this file nor in the store"],
        [4, "parent", "parent 'D2' (row 3) was rejected"],
        [5, "parent", "parent 'K1' (row 4) was rejected"],
    ]
    without = _read(path, source_crs=UTM14)
    assert "parent_id 'CITY' refers to no area" in without.rejects["reason"].iloc[0]
    assert without.areas.empty


@pytest.mark.parametrize(
    ("rows", "named"),
    [
        ([f"A;a;;;B;{SQUARE}", f"B;b;;;C;{SQUARE}", f"C;c;;;A;{SQUARE}", f"K;k;;;A;{SQUARE}"], "'A', 'B', 'C'"),
        ([f"A;a;;;A;{SQUARE}"], "'A'"),
    ],
)
def test_cycle_in_parent_links_raises(tmp_path: Path, rows: list[str], named: str) -> None:
    path = _csv(tmp_path, rows)
    with pytest.raises(InputError, match=f"parent links form a cycle through {named} \\("):
        _read(path, source_crs=UTM14)


def test_missing_column_message_and_loose_matching(tmp_path: Path) -> None:
    path = _csv(tmp_path, [f"A;a;10;;;{SQUARE}"], header="Area Code;NAME;pop;level;parent;wkt")
    got = read_areas(path, AreaColumns(id="area_code", name="name"), UTM14, source_crs=UTM14)
    assert got.areas["area_id"].tolist() == ["A"] and got.areas["name"].tolist() == ["a"]
    with pytest.raises(InputError) as info:
        read_areas(path, AreaColumns(id="Area Code", population="poblacion"), UTM14, source_crs=UTM14)
    text = str(info.value)
    assert "areas.csv" in text and "'poblacion'" in text
    assert "columns found: 'Area Code', 'NAME', 'pop', 'level', 'parent', 'wkt'" in text
    assert info.value.column == "poblacion"


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        _read(tmp_path / "nope.geojson")
    path = _csv(tmp_path, [])
    with pytest.raises(InputError, match="no rows"):
        _read(path, source_crs=UTM14)


# ------------------------------------------------------------------------------------------ CRS


def test_reprojection_matches_pyproj(tmp_path: Path) -> None:
    lon, lat = -99.1332, 19.4326  # Zócalo, Mexico City
    poly = Polygon([(lon, lat), (lon + 0.01, lat), (lon + 0.01, lat + 0.01), (lon, lat + 0.01)])
    path = tmp_path / "one.geojson"
    gpd.GeoDataFrame({"code": ["Z"]}, geometry=[poly], crs="EPSG:4326").to_file(
        path, driver="GeoJSON", engine="pyogrio"
    )
    got = read_areas(path, AreaColumns(id="code"), UTM14)
    x, y = pyproj.Transformer.from_crs("EPSG:4326", UTM14, always_xy=True).transform(lon, lat)
    assert (x, y) == pytest.approx((486_017.3, 2_148_700.2), abs=1)  # 14 km west of the zone's meridian
    first = shapely.get_coordinates(got.areas.geometry.iloc[0])[0]
    assert first == pytest.approx((x, y), abs=1e-6)


def test_lonlat_file_with_projected_coordinates_is_a_crs_error(tmp_path: Path) -> None:
    path = tmp_path / "wrong.geojson"
    frame = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(485_000, 2_148_000, 486_000, 2_149_000)], crs="EPSG:4326")
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(CRSError, match=r"wrong\.geojson.*looks projected"):
        read_areas(path, AreaColumns(id="code"), UTM14)
    fixed = read_areas(path, AreaColumns(id="code"), UTM14, source_crs=UTM14)
    assert fixed.areas.area.iloc[0] == pytest.approx(1e6)
    assert "read as" in fixed.warnings[0]


def test_unknown_target_crs() -> None:
    with pytest.raises(CRSError, match="Unknown target CRS"):
        read_areas(Path(__file__), AreaColumns(id="x"), "EPSG:999999")


# ------------------------------------------------------------------------------------------ real data


def test_chicago_community_areas(shared_data: Path) -> None:
    path = shared_data / "crime_chicago" / "chicago_community_areas.geojson"
    got = read_areas(path, AreaColumns(id="area_numbe", name="community"), "EPSG:26971", default_level="community")
    assert got.rows_read == 77 and len(got.areas) == 77 and got.rejects.empty and got.warnings == ()
    assert sorted(got.areas["area_id"].astype(int)) == list(range(1, 78))
    total_km2 = got.areas.area.sum() / 1e6
    raw = gpd.read_file(path, engine="pyogrio").to_crs("EPSG:26971")
    assert total_km2 == pytest.approx(raw.area.sum() / 1e6, rel=1e-9)  # same library: must agree exactly
    # Published (US Census 2010): land 227.6 sq mi = 589.6 km², land + water 234.1 sq mi = 606.4 km².
    # The community areas cover the land and some shoreline water (598.1 km²): between the two, 1% slack.
    assert 589.6 * 0.99 < total_km2 < 606.4 * 1.01


def test_sf_block_groups(shared_data: Path) -> None:
    path = shared_data / "sf_crime_2012" / "SFCrime_blocks.gpkg"
    got = read_areas(path, AreaColumns(id="GEO_ID", name="NAME", population="population"), "EPSG:26910")
    assert got.rows_read == 579 and len(got.areas) == 579 and got.rejects.empty and got.warnings == ()
    raw = gpd.read_file(path, engine="pyogrio")
    assert raw.crs == pyproj.CRS("EPSG:4269")
    assert got.areas["population"].sum() == raw["Population"].sum()
    assert got.areas.area.sum() == pytest.approx(raw.to_crs("EPSG:26910").area.sum(), rel=1e-9)
    assert set(got.areas.geom_type) <= {"Polygon", "MultiPolygon"}


def test_raw_truncates_long_wkt_and_ewkt_and_ragged_rows(tmp_path: Path) -> None:
    ring = ", ".join(f"{i} 0" for i in range(100))
    long_line = f"POLYGON (({ring}, 0 0))"  # collapses to a line: rejected, with a long WKT
    path = _csv(tmp_path, [f'"SRID=32614;{SQUARE}";A', f"{long_line};B", "x"], header="wkt;code")
    got = read_areas(path, AreaColumns(id="code"), UTM14, source_crs=UTM14)
    assert got.areas["area_id"].tolist() == ["A"]
    assert got.rejects["row_number"].tolist() == [3, 4, 4]
    raw = json.loads(got.rejects["raw"].iloc[0])
    assert raw["code"] == "B" and len(raw["wkt"]) == 201 and raw["wkt"].endswith("…")
    assert json.loads(got.rejects["raw"].iloc[1]) == {"wkt": "x", "code": ""}


def test_same_crs_spelled_differently_does_not_warn(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"  # GeoJSON says OGC:CRS84, the user says EPSG:4326
    _nested().to_file(path, driver="GeoJSON", engine="pyogrio")
    assert _read(path, source_crs="EPSG:4326").warnings == ()


def test_lineage_cycle_and_duplicate_ids_raise() -> None:
    cyclic = pd.DataFrame(
        {"area_id": ["A", "B", "K", "W"], "parent_id": ["B", "A", "A", None], "level": ["x", "x", "z", "w"]}
    )
    with pytest.raises(InputError, match="cycle"):
        lineage(cyclic, "w")
    repeated = pd.DataFrame({"area_id": ["A", "A"], "parent_id": [None, None], "level": ["x", "x"]})
    with pytest.raises(InputError, match="unique; repeated: 'A'"):
        finest_level_ids(repeated)
