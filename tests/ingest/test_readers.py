"""Reading source files as text: encodings, delimiters, ragged rows, sizes and every format.

Expected values are the values written into each file (by construction); row numbers are those a
spreadsheet shows: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point

from safercities.errors import InputError, SafercitiesError
from safercities.ingest.coords import parse_numbers
from safercities.ingest.dates import parse_times
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import GEOMETRY_X, GEOMETRY_Y, RawTable, read_table, resolve_column

ROWS = [
    ["1", "Peñuelas", "15/03/2023", "-100.39"],
    ["2", "Querétaro Centro", "16/03/2023", "-100.38"],
    ["3", "El Pueblito – Corregidora", "17/03/2023", "-100.45"],
]
HEADER = ["folio", "colonia", "fecha", "lon"]


def _write(tmp_path: Path, data: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read(path: Path, **options: object) -> RawTable:
    return read_table(path, SourceOptions(**options))  # type: ignore[arg-type]


def _records(raw: RawTable) -> list[list[str]]:
    return [list(r.values()) for r in raw.columns.to_pylist()]


def _csv(rows: list[list[str]], delimiter: str = ",", header: list[str] = HEADER) -> str:
    return "\n".join(delimiter.join(r) for r in [header, *rows]) + "\n"


# ------------------------------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("codec", "declared"),
    [
        ("utf-8", "auto"),
        ("utf-8-sig", "auto"),
        ("utf-16", "auto"),  # Python's utf-16 writes a BOM
        ("latin-1", "latin-1"),
    ],
)
def test_encodings(tmp_path: Path, codec: str, declared: str) -> None:
    rows = [[v.replace("–", "-") for v in r] for r in ROWS] if codec == "latin-1" else ROWS
    path = _write(tmp_path, _csv(rows).encode(codec))
    if codec == "utf-16":
        assert path.read_bytes()[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    raw = _read(path, encoding=declared)
    assert raw.columns.column_names == HEADER  # no BOM glued to the first name
    assert _records(raw) == rows
    assert raw.row_numbers.tolist() == [2, 3, 4]


def test_latin1_named_in_the_mapping_is_used(tmp_path: Path) -> None:
    # bytes 0xF1 (ñ) and 0xE9 (é) in latin-1; decoded as UTF-8 these are invalid
    path = _write(tmp_path, "folio,colonia\n1,Peñuelas\n2,Querétaro\n".encode("latin-1"))
    raw = _read(path, encoding="latin-1")
    assert raw.encoding == "latin-1"
    assert raw.columns.column("colonia").to_pylist() == ["Peñuelas", "Querétaro"]


def test_cp1252_with_euro_sign_detected(tmp_path: Path) -> None:
    rows = [["1", "Peñuelas", "5 €"], ["2", "Querétaro", "7 €"]]
    path = _write(tmp_path, _csv(rows, header=["folio", "colonia", "monto"]).encode("cp1252"))
    raw = _read(path)
    assert _records(raw) == rows


def test_cp1252_with_euro_sign_declared(tmp_path: Path) -> None:
    rows = [["1", "Peñuelas", "5 €"], ["2", "Querétaro", "7 €"]]
    path = _write(tmp_path, _csv(rows, header=["folio", "colonia", "monto"]).encode("cp1252"))
    assert _records(_read(path, encoding="cp1252")) == rows


def test_cp1252_longer_police_file_detected(tmp_path: Path) -> None:
    """A file with enough accented text, the way police exports from Windows come."""
    places = ["Peñuelas", "Querétaro", "Jurica Campestre", "Santa Rosa Jáuregui", "Cañadas del Lago", "Álamos"]
    rows = [[str(i), places[i % len(places)], f"{i % 9 + 1} €", "Robo a transeúnte"] for i in range(200)]
    path = _write(tmp_path, _csv(rows, header=["folio", "colonia", "monto", "delito"]).encode("cp1252"))
    assert _records(_read(path)) == rows


def test_unknown_declared_encoding(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b\n1,2\n")
    with pytest.raises(InputError, match="unknown encoding 'klingon'"):
        _read(path, encoding="klingon")


# ------------------------------------------------------------------------------------------ delimiters


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_delimiters_sniffed(tmp_path: Path, delimiter: str) -> None:
    rows = [[r[0], r[1], r[2], r[3].replace(".", ",") if delimiter != "," else r[3]] for r in ROWS]
    path = _write(tmp_path, _csv(rows, delimiter).encode("utf-8"))
    raw = _read(path)
    assert raw.delimiter == delimiter
    assert raw.columns.column_names == HEADER
    assert _records(raw) == rows


def test_semicolon_with_decimal_comma(tmp_path: Path) -> None:
    """Spanish Excel exports: ';' between fields, ',' inside numbers."""
    rows = [["1", "-100,391234", "20,591013"], ["2", "-100,38", "20,6"]]
    path = _write(tmp_path, _csv(rows, ";", ["folio", "lon", "lat"]).encode("utf-8"))
    raw = _read(path)
    assert raw.delimiter == ";"
    assert _records(raw) == rows
    lon = parse_numbers(raw.columns.column("lon"), ",")
    lat = parse_numbers(raw.columns.column("lat"), ",")
    np.testing.assert_array_equal(lon.values, [-100.391234, -100.38])
    np.testing.assert_array_equal(lat.values, [20.591013, 20.6])
    assert not lon.bad.any() and not lat.bad.any()


def test_delimiter_given(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a|b;c\n1|2;3\n")
    raw = _read(path, delimiter=";")
    assert raw.columns.column_names == ["a|b", "c"]
    assert _records(raw) == [["1|2", "3"]]


# ------------------------------------------------------------------------------------------ rows


def test_ragged_rows_kept_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    lines = [
        "a,b,c",  # row 1
        "1,2,3",  # row 2
        "4,5,6,7",  # row 3: one field too many
        "8,9",  # row 4: one too few
        '"x\ny",1,2',  # row 5: a quoted field over two lines is one row
        "10,11,12,13",  # row 6: too many
        "14,15,16",  # row 7
    ]
    raw = _read(_write(tmp_path, ("\n".join(lines) + "\n").encode()))
    assert raw.row_numbers.tolist() == [2, 5, 7]
    assert _records(raw) == [["1", "2", "3"], ["x\ny", "1", "2"], ["14", "15", "16"]]
    ragged = raw.ragged.sort_values("row_number")
    assert ragged["row_number"].tolist() == [3, 4, 6]
    assert ragged["raw"].tolist() == ["4,5,6,7", "8,9", "10,11,12,13"]
    assert all("field" in reason for reason in ragged["reason"])
    assert raw.rows_read == 6


def test_quoted_fields_with_newlines_delimiters_and_quotes(tmp_path: Path) -> None:
    text = 'folio,relato,lugar\n1,"Dijo: ""alto""\nY huyó, a pie",calle\n2,"uno;dos|tres",esquina\n'
    raw = _read(_write(tmp_path, text.encode()))
    assert raw.delimiter == ","
    assert _records(raw) == [["1", 'Dijo: "alto"\nY huyó, a pie', "calle"], ["2", "uno;dos|tres", "esquina"]]
    assert raw.row_numbers.tolist() == [2, 3]


def test_crlf_line_ends(tmp_path: Path) -> None:
    raw = _read(_write(tmp_path, b"a,b\r\n1,2\r\n3,4\r\n"))
    assert _records(raw) == [["1", "2"], ["3", "4"]]


def test_skip_rows_shift_row_numbers(tmp_path: Path) -> None:
    raw = _read(_write(tmp_path, b"Informe mensual\nGenerado 2024\na,b\n1,2\n3,4\n"), skip_rows=2)
    assert raw.columns.column_names == ["a", "b"]
    assert raw.row_numbers.tolist() == [4, 5]  # header on line 3


def test_empty_cells_are_empty_text(tmp_path: Path) -> None:
    raw = _read(_write(tmp_path, b'a,b,c\n1,,3\n,"",\n'))
    assert _records(raw) == [["1", "", "3"], ["", "", ""]]


@pytest.mark.parametrize("content", [b"", b"   \n\n  \n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(InputError, match="empty") as info:
        _read(path)
    assert str(path) in str(info.value)


def test_header_only(tmp_path: Path) -> None:
    raw = _read(_write(tmp_path, b"folio,fecha,lon,lat\n"))
    assert raw.columns.column_names == ["folio", "fecha", "lon", "lat"]
    assert raw.columns.num_rows == 0 and raw.rows_read == 0
    assert raw.row_numbers.tolist() == []


def test_repeated_header_names(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b,a\n1,2,3\n")
    with pytest.raises(InputError, match="repeats column names") as info:
        _read(path)
    assert str(path) in str(info.value)


def test_field_far_larger_than_16_mib(tmp_path: Path) -> None:
    """pyarrow reads a row up to twice its 16 MiB block; a 40 MiB field must be refused, naming the file."""
    big = b"x" * (40 * 1024 * 1024)
    path = _write(tmp_path, b"folio,relato\n" + b"1,short\n" * 1000 + b"2," + big + b"\n3,short\n")
    with pytest.raises(InputError, match="16 MiB") as info:
        _read(path)
    assert str(path) in str(info.value)


def test_field_larger_than_16_mib_first_is_read_whole_or_refused(tmp_path: Path) -> None:
    big = b"x" * (17 * 1024 * 1024)
    path = _write(tmp_path, b"folio,relato\n1,short\n2," + big + b"\n3,short\n")
    try:
        raw = _read(path)
    except InputError as exc:
        assert str(path) in str(exc) and "16 MiB" in str(exc)
        return
    assert raw.columns.column("folio").to_pylist() == ["1", "2", "3"]  # nothing cut, nothing lost
    assert len(raw.columns.column("relato")[1].as_py()) == len(big)
    assert raw.row_numbers.tolist() == [2, 3, 4]


def test_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        _read(tmp_path / "nope.csv")


def test_binary_garbage_is_an_input_error_or_text(tmp_path: Path) -> None:
    data = bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8))
    path = _write(tmp_path, data)
    try:
        raw = _read(path)
    except SafercitiesError:
        return
    assert raw.rows_read >= 0


# ------------------------------------------------------------------------------------------ Excel


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Delitos"
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


def test_excel_text_numbers_and_serials(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "in.xlsx",
        [["folio", "serial", "lon", "delito"], [1, 45000.5, -100.39, "Robo"], [2, 45001, -100.38, "Hurto"]],
    )
    raw = _read(path)
    assert raw.columns.column_names == ["folio", "serial", "lon", "delito"]
    assert raw.row_numbers.tolist() == [2, 3]
    assert raw.columns.column("delito").to_pylist() == ["Robo", "Hurto"]
    assert [float(v) for v in raw.columns.column("lon").to_pylist()] == [-100.39, -100.38]
    # Excel serial days since 1899-12-30, computed with datetime
    parsed = parse_times(
        raw.columns.column("serial").combine_chunks(),
        fmt="excel",
        order="",
        timezone="UTC",
        column="serial",
        file=path,
    )
    epoch = dt.datetime(1899, 12, 30)
    expected = [epoch + dt.timedelta(days=45000.5), epoch + dt.timedelta(days=45001)]
    assert parsed.start.astype("datetime64[us]").tolist() == expected


def test_excel_sheet_by_name(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.append(["resumen"])
    second = book.create_sheet("Delitos")
    second.append(["folio", "delito"])
    second.append(["7", "Robo"])
    book.save(path)
    raw = _read(path, sheet="Delitos")
    assert _records(raw) == [["7", "Robo"]]
    with pytest.raises(InputError):
        _read(path, sheet="No existe")


def test_excel_real_date_cells_are_native(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "in.xlsx",
        [["folio", "fecha"], [1, dt.datetime(2023, 3, 15, 10, 30)], [2, dt.datetime(2023, 3, 16)]],
    )
    raw = _read(path)
    assert raw.native_dates == frozenset({"fecha"})
    assert raw.columns.column("fecha").to_pylist() == ["2023-03-15T10:30:00", "2023-03-16T00:00:00"]


def test_excel_real_date_cells_parse_to_the_written_instants(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "in.xlsx",
        [["folio", "fecha"], [1, dt.datetime(2023, 3, 15, 10, 30)], [2, dt.datetime(2023, 3, 16, 8, 5, 9)]],
    )
    raw = _read(path)
    parsed = parse_times(
        raw.columns.column("fecha").combine_chunks(),
        fmt="auto",
        order="",
        timezone="UTC",
        column="fecha",
        file=path,
        native="fecha" in raw.native_dates,
    )
    assert parsed.start.tolist() == [dt.datetime(2023, 3, 15, 10, 30), dt.datetime(2023, 3, 16, 8, 5, 9)]


def test_excel_empty_cells(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "in.xlsx", [["folio", "delito", "lon"], [1, "Robo", -100.39], [2, None, -100.38]])
    raw = _read(path)
    assert raw.columns.column("delito").to_pylist()[0] == "Robo"
    assert raw.columns.column("delito").to_pylist()[1] in (None, "")


def test_excel_blank_row_keeps_row_numbers(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "in.xlsx", [["folio", "delito"], [1, "Robo"], [None, None], [3, "Hurto"]])
    raw = _read(path)
    numbers = dict(zip(raw.columns.column("folio").to_pylist(), raw.row_numbers.tolist(), strict=True))
    assert numbers["1"] == 2 and numbers["3"] == 4  # the spreadsheet's row numbers, blank row or not


def test_excel_not_really_excel(tmp_path: Path) -> None:
    path = _write(tmp_path, b"folio,fecha\n1,2\n", "fake.xlsx")
    with pytest.raises(SafercitiesError):
        _read(path)


# ------------------------------------------------------------------------------------------ Parquet, GeoJSON


def test_parquet_types_become_text_and_dates_native(tmp_path: Path) -> None:
    table = pa.table(
        {
            "folio": pa.array([10, 11], pa.int64()),
            "fecha": pa.array([dt.datetime(2023, 3, 15, 10, 30), dt.datetime(2023, 3, 16)], pa.timestamp("us")),
            "dia": pa.array([dt.date(2023, 3, 15), dt.date(2023, 3, 16)], pa.date32()),
            "lon": pa.array([-100.39, -100.375], pa.float64()),
            "delito": pa.array(["Robo", None], pa.string()),
        }
    )
    path = tmp_path / "in.parquet"
    pq.write_table(table, path)
    raw = _read(path)
    assert raw.columns.column_names == ["folio", "fecha", "dia", "lon", "delito"]
    assert raw.row_numbers.tolist() == [2, 3]
    assert raw.native_dates == frozenset({"fecha", "dia"})
    assert raw.columns.column("folio").to_pylist() == ["10", "11"]
    # ISO 8601 text (a fraction of a second may follow)
    fecha = [v[:19] for v in raw.columns.column("fecha").to_pylist()]
    assert fecha == ["2023-03-15T10:30:00", "2023-03-16T00:00:00"]
    assert [v[:19] for v in raw.columns.column("dia").to_pylist()] == ["2023-03-15T00:00:00", "2023-03-16T00:00:00"]
    assert [float(v) for v in raw.columns.column("lon").to_pylist()] == [-100.39, -100.375]
    assert raw.columns.column("delito").to_pylist() == ["Robo", None]


def test_parquet_timestamps_parse_to_the_written_instants(tmp_path: Path) -> None:
    written = [dt.datetime(2023, 3, 15, 10, 30), dt.datetime(2023, 3, 16, 8, 5, 9)]
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"fecha": pa.array(written, pa.timestamp("us"))}), path)
    raw = _read(path)
    parsed = parse_times(
        raw.columns.column("fecha").combine_chunks(),
        fmt="auto",
        order="",
        timezone="UTC",
        column="fecha",
        file=path,
        native="fecha" in raw.native_dates,
    )
    assert not parsed.bad.any()
    assert parsed.start.tolist() == written


def test_parquet_corrupt(tmp_path: Path) -> None:
    path = _write(tmp_path, b"PAR1 this is not parquet PAR1", "bad.parquet")
    with pytest.raises(InputError) as info:
        _read(path)
    assert str(path) in str(info.value)


def test_geojson_points_give_geometry_x_y(tmp_path: Path) -> None:
    points = [(-100.39, 20.59), (-100.375, 20.6)]
    frame = gpd.GeoDataFrame(
        {"folio": ["a", "b"], "delito": ["Robo", "Hurto"]}, geometry=[Point(p) for p in points], crs="EPSG:4326"
    )
    path = tmp_path / "in.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    raw = _read(path)
    assert raw.columns.column("folio").to_pylist() == ["a", "b"]
    assert [float(v) for v in raw.columns.column(GEOMETRY_X).to_pylist()] == [p[0] for p in points]
    assert [float(v) for v in raw.columns.column(GEOMETRY_Y).to_pylist()] == [p[1] for p in points]
    assert raw.crs is not None and "4326" in raw.crs
    assert raw.row_numbers.tolist() == [2, 3]


def test_geojson_polygons_refused(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"folio": ["a"]}, geometry=[Point(0, 0).buffer(1)], crs="EPSG:4326")
    path = tmp_path / "poly.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(InputError, match="points"):
        _read(path)


# ------------------------------------------------------------------------------------------ column names


@pytest.mark.parametrize("wanted", ["fecha_hechos", "Fecha Hechos", "FECHA_HECHOS", "fechahechos", "Fecha-Hechos"])
def test_columns_matched_ignoring_case_spaces_underscores(wanted: str) -> None:
    assert resolve_column(wanted, ["folio", "Fecha  Hechos", "delito"], Path("x.csv"), "occurred") == "Fecha  Hechos"


def test_exact_match_wins_over_a_normalised_one() -> None:
    assert resolve_column("Fecha", ["fecha", "Fecha"], Path("x.csv"), "occurred") == "Fecha"


def test_missing_mapped_column_lists_the_columns_found() -> None:
    with pytest.raises(InputError) as info:
        resolve_column("fecha_hechos", ["folio", "delito", "longitud"], Path("police.csv"), "occurred")
    text = str(info.value)
    assert "police.csv" in text and "fecha_hechos" in text and "occurred" in text
    for name in ("folio", "delito", "longitud"):
        assert name in text


def test_two_columns_matching_the_same_name_are_not_guessed() -> None:
    with pytest.raises(InputError):
        resolve_column("fecha hechos", ["Fecha_Hechos", "fecha-hechos"], Path("x.csv"), "occurred")


# ------------------------------------------------------------------------------------------ found by test_robustness


def test_cp1252_file_whose_only_accent_is_near_its_end(tmp_path: Path) -> None:
    """A small file is read whole: an invalid UTF-8 byte near its end is not a character cut by the sample."""
    path = _write(tmp_path, "folio,colonia\n1,Centro\n2,Peña\n".encode("cp1252"))
    raw = _read(path)
    assert raw.columns.column("colonia").to_pylist() == ["Centro", "Peña"]


def test_ragged_row_with_bytes_invalid_in_the_declared_encoding(tmp_path: Path) -> None:
    """The ragged-row handler must not raise inside pyarrow (Python reports that as 'Exception ignored')."""
    path = _write(tmp_path, b"a,b,c\n1,2,3\n4,\xa7\n5,6,7\n")
    try:
        raw = _read(path, encoding="utf-8")
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert raw.rows_read == 3
