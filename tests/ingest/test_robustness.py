"""Property-based: whatever a file holds, the importer answers with a domain error or an honest count.

For every generated file: the import either raises a :class:`SafercitiesError` (and then the store
is exactly as before: row counts and content hashes of every table), or succeeds with
accepted + rejected == rows read. Nothing else (no ArrowInvalid, no UnicodeError, no KeyError) may
escape. Examples are derandomized so that CI sees the same cases every run.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import citykit as ck
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import safercities.workspace as sc
from safercities.errors import SafercitiesError

settings.register_profile(
    "ingest-robustness",
    derandomize=True,
    max_examples=20,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: CI time; the failure is printed whole
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("ingest-robustness")

_counter = itertools.count()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sc.Workspace, Path]]:
    folder = tmp_path_factory.mktemp("robust")
    ws = ck.make_city(folder)
    src = folder / "src"
    ck.write_mapping(src)
    yield ws, src
    ws.close()


def _attempt(ws: sc.Workspace, path: Path, mapping: Path) -> sc.ImportResult | None:
    """Import; on a domain error check that nothing changed. Any other exception fails the test."""
    before = ck.snapshot(ws)
    try:
        result = ws.import_incidents(path, mapping=mapping)
    except SafercitiesError as exc:
        assert str(exc)  # a message to show
        assert ck.snapshot(ws) == before
        return None
    if result.already_imported:
        assert ck.snapshot(ws) == before
        return result
    assert result.accepted + result.rejected == result.rows_read
    assert ws.store.count("incidents") == before["incidents"][0] + result.accepted
    assert ws.store.count("rejects") == before["rejects"][0] + result.rejected
    return result


def _file(src: Path, data: bytes, suffix: str = ".csv") -> Path:
    path = src / f"gen{next(_counter)}{suffix}"
    path.write_bytes(data)
    return path


def _csv_bytes(rows: list[list[str]], header: list[str] = ck.HEADER, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    # Quote every field: Python's writer leaves a lone carriage return unquoted, and by RFC 4180 that ends a row.
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="surrogatepass")


# ------------------------------------------------------------------------------------------ strategies

text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30)
dates = st.one_of(
    st.sampled_from(
        [
            "15/03/2023 10:30",
            "31/02/2023",
            "15/03/2099 10:00",
            "",
            "  ",
            "2023-03-15",
            "45000",
            "00/00/0000",
            "15/03/2023 25:00",
            "ayer",
            "15/03/2023 11:30:00 PM",
            "-1",
            "1e400",
        ]
    ),
    text,
)
numbers = st.one_of(
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e308", "1e309", "-1e999", "0", "-0", "1,5", "--1", "0x10"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e6, max_value=1e6).map(lambda v: f"{v:.3f}"),
    text,
)
offences = st.one_of(st.sampled_from(["ROB", "HUR", "LES", "ALLAN", "", "XYZ", " rob "]), text)


@st.composite
def messy_rows(draw: st.DrawFn) -> list[list[str]]:
    n = draw(st.integers(min_value=0, max_value=25))
    rows = []
    for i in range(n):
        good = ck.row(f"h{i}", area=draw(st.sampled_from(list(ck.GRID))))
        row = [
            draw(st.one_of(st.just(good[0]), st.just(""), text)),
            draw(st.one_of(st.just(good[1]), dates)),
            draw(st.one_of(st.just(good[2]), text)),
            draw(st.one_of(st.just(good[3]), offences)),
            draw(st.one_of(st.just(good[4]), numbers)),
            draw(st.one_of(st.just(good[5]), numbers)),
        ]
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------------ properties


@PROFILE
@given(rows=messy_rows())
def test_random_values_in_every_column(city: tuple[sc.Workspace, Path], rows: list[list[str]]) -> None:
    ws, src = city
    result = _attempt(ws, _file(src, _csv_bytes(rows)), src / "mapping.toml")
    if result is not None and not result.already_imported:
        assert result.rows_read == len(rows)


@PROFILE
@given(
    coords=st.lists(st.tuples(numbers, numbers), min_size=1, max_size=20),
    valid=st.integers(min_value=0, max_value=20),
)
def test_nan_inf_huge_and_empty_coordinates(
    city: tuple[sc.Workspace, Path], coords: list[tuple[str, str]], valid: int
) -> None:
    ws, src = city
    rows = [ck.row(f"c{i}", area="A2") for i in range(valid)]
    rows += [[f"k{i}", "15/03/2023 10:30", "Robo", "ROB", x, y] for i, (x, y) in enumerate(coords)]
    result = _attempt(ws, _file(src, _csv_bytes(rows)), src / "mapping.toml")
    if result is not None and not result.already_imported:
        assert result.rows_read == len(rows)


@PROFILE
@given(lines=st.lists(st.lists(st.one_of(text, st.sampled_from(ck.row("z"))), max_size=9), max_size=20))
def test_ragged_csv(city: tuple[sc.Workspace, Path], lines: list[list[str]]) -> None:
    ws, src = city
    body = "\n".join(",".join(v.replace("\n", " ").replace("\r", " ").replace('"', "") for v in line) for line in lines)
    data = (",".join(ck.HEADER) + "\n" + body + "\n").encode("utf-8")
    _attempt(ws, _file(src, data), src / "mapping.toml")


@PROFILE
@given(data=st.binary(max_size=3000))
def test_random_bytes(city: tuple[sc.Workspace, Path], data: bytes) -> None:
    ws, src = city
    _attempt(ws, _file(src, data), src / "mapping.toml")


@PROFILE
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".xlsx", ".parquet", ".geojson"]))
def test_random_bytes_named_as_other_formats(city: tuple[sc.Workspace, Path], data: bytes, suffix: str) -> None:
    ws, src = city
    _attempt(ws, _file(src, data, suffix), src / "mapping.toml")


@PROFILE
@given(
    rows=messy_rows(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]),
    declared=st.sampled_from(["auto", "utf-8", "latin-1", "cp1252"]),
)
def test_encodings_declared_right_or_wrong(
    city: tuple[sc.Workspace, Path], rows: list[list[str]], encoding: str, declared: str
) -> None:
    ws, src = city
    try:
        data = _csv_bytes(rows, encoding=encoding)
    except UnicodeEncodeError:
        data = _csv_bytes([[v.encode("ascii", "replace").decode() for v in r] for r in rows], encoding=encoding)
    mapping = ck.write_mapping(src, f"enc-{declared}.toml", encoding=declared)
    _attempt(ws, _file(src, data), mapping)


@PROFILE
@given(
    blank=st.sampled_from([b"", b"\n", b"\r\n\r\n", b"   ", b"\xef\xbb\xbf", b"\xff\xfe", b",,,,,\n"]),
    header_only=st.booleans(),
)
def test_empty_files(city: tuple[sc.Workspace, Path], blank: bytes, header_only: bool) -> None:
    ws, src = city
    data = (",".join(ck.HEADER) + "\n").encode() + blank if header_only else blank
    _attempt(ws, _file(src, data), src / "mapping.toml")


@settings(PROFILE, max_examples=5)
@given(size=st.integers(min_value=100_000, max_value=3_000_000), column=st.integers(min_value=0, max_value=5))
def test_huge_fields(city: tuple[sc.Workspace, Path], size: int, column: int) -> None:
    ws, src = city
    rows = [ck.row(f"b{i}", area="A4") for i in range(3)]
    rows[1][column] = "9" * size
    result = _attempt(ws, _file(src, _csv_bytes(rows)), src / "mapping.toml")
    if result is not None and not result.already_imported:
        assert result.rows_read == 3
