"""Read a source file as it comes: every cell as text, every row numbered as a spreadsheet shows it.

Rows are numbered as a spreadsheet shows them: the header is row 1 and the first data
row is row 2 (plus any skipped lines). Rows that cannot be split into the header's
columns are not dropped: they come back in :attr:`RawTable.ragged` with their text.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

import charset_normalizer
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from safercities.errors import InputError
from safercities.ingest.mapping import SourceOptions

GEOMETRY_X, GEOMETRY_Y = "geometry_x", "geometry_y"
_DELIMITERS = (",", ";", "\t", "|")
_BLOCK = 1 << 24  # 16 MiB: the largest row pyarrow can read
_WESTERN = set("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿŒœŠšŽžŸ€‘’‚“”„–—…«»¿¡°ºª·²³µ§©®™×÷¨´¸ \xa0")


@dataclass(frozen=True)
class RawTable:
    """A source file as text columns, with spreadsheet row numbers and what could not be split."""

    path: Path
    columns: pa.Table
    row_numbers: np.ndarray
    ragged: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row_number", "reason", "raw"]))
    encoding: str = ""
    delimiter: str = ""
    crs: str | None = None
    native_dates: frozenset[str] = frozenset()
    """Columns that held real date cells (Excel, Parquet): their text is ISO 8601."""

    @property
    def rows_read(self) -> int:
        return self.columns.num_rows + len(self.ragged)


def normalise_name(name: str) -> str:
    """Column names compared without case, spaces, underscores or punctuation."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def resolve_column(wanted: str, available: list[str], file: Path, field_name: str) -> str:
    """The source column that ``wanted`` names: exact match first, then ignoring case and spacing."""
    if wanted in available:
        return wanted
    matches = [c for c in available if normalise_name(c) == normalise_name(wanted)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise InputError(
            f"the column '{wanted}' given for {field_name} matches several columns ({', '.join(map(repr, matches))})",
            file=file,
            column=wanted,
            hint="give the exact name",
        )
    shown = ", ".join(repr(c) for c in available[:40]) + (" …" if len(available) > 40 else "")
    raise InputError(
        f"the file has no column '{wanted}' (given for {field_name})",
        file=file,
        column=wanted,
        hint=f"columns found: {shown}",
    )


def detect_encoding(head: bytes, declared: str, complete: bool = False) -> str:
    """The encoding to decode with: the declared one, else UTF-8 (BOM aware), else what the bytes look like."""
    if declared and declared != "auto":
        try:
            codecs.lookup(declared)
        except LookupError as exc:
            raise InputError(f"unknown encoding '{declared}'", hint="use e.g. utf-8, latin-1, cp1252") from exc
        return declared
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8-sig")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if not complete and len(head) - exc.start <= 3:  # a multi-byte character cut by the sample's end
            return "utf-8"
    try:
        western = set(head.decode("cp1252")) - set(map(chr, range(128)))
    except UnicodeDecodeError:
        western = {"\ufffd"}
    if western <= _WESTERN:
        # Spanish, French and English police exports from Windows: short files fool statistical guessers.
        return "cp1252"
    best = charset_normalizer.from_bytes(head).best()
    return best.encoding if best is not None else "cp1252"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1
    for delim in _DELIMITERS:
        counts = [line.count(delim) for line in lines]
        if counts[0] == 0:
            continue
        consistent = sum(c == counts[0] for c in counts)
        score = consistent * 1000 + counts[0]
        if score > best_score:
            best, best_score = delim, score
    return best


def _as_text(table: pa.Table) -> tuple[pa.Table, frozenset[str]]:
    """Cast every column to text; timestamps and dates become ISO 8601 and are remembered as real dates."""
    columns, native = [], set()
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            native.add(name)
            tz = column.type.tz if pa.types.is_timestamp(column.type) else None
            seconds = pc.cast(column, pa.timestamp("s", tz=tz), safe=False)  # no fractional seconds in the text
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S")
        elif not pa.types.is_string(column.type):
            column = pc.cast(column, pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names), frozenset(native)


def _cell_text(value: object) -> str | None:
    """One Excel cell as text: dates in ISO 8601, whole numbers without '.0', empty cells as None."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or value is pd.NaT:
        return None
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_utf8(path: Path) -> None:
    """Refuse, with the line, a file that says UTF-8 and holds bytes that are not."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
            file=path,
            row=line,
            hint="name the file's encoding in the mapping: [source] encoding = \"cp1252\" or \"latin-1\"",
        ) from exc


def _read_csv(path: Path, source: SourceOptions) -> RawTable:
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if not head.strip():
        raise InputError("the file is empty", file=path)
    encoding = detect_encoding(head, source.encoding, complete=len(head) < 1 << 20)
    if encoding in ("utf-8", "utf-8-sig"):
        _check_utf8(path)  # else pyarrow fails inside its row handler, where the error cannot be caught
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[source.skip_rows :]
    delimiter = sniff_delimiter("\n".join(lines)) if source.delimiter == "auto" else source.delimiter
    if len(lines) < 1 or not lines[0].strip():
        raise InputError("the file has no header row", file=path)
    header_line = 1 + source.skip_rows
    header_names = next(csv.reader([lines[0]], delimiter=delimiter))
    ragged: list[tuple[int | None, str, str]] = []

    def keep_ragged(row: pacsv.InvalidRow) -> str:
        reason = f"has {row.actual_columns} fields, the header has {row.expected_columns}"
        try:
            text = row.text
        except UnicodeDecodeError:  # bytes that are not valid in the file's encoding: keep them visible
            text = "<the row's bytes are not valid in the file's encoding>"
        ragged.append((row.number, reason, text))
        return "skip"

    def read(use_threads: bool) -> pa.Table:
        ragged.clear()
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding=encoding if encoding not in ("utf-8", "utf-8-sig") else "utf8",
                skip_rows=source.skip_rows,
                block_size=_BLOCK,
                use_threads=use_threads,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=keep_ragged, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header_names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = read(use_threads=True)
        if ragged and any(number is None for number, _, _ in ragged):
            table = read(use_threads=False)  # only the single-threaded reader knows the line numbers
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        message = str(exc).splitlines()[0]
        if "straddling" in message or "block size" in message:
            message = "a field or row is larger than 16 MiB"
        raise InputError(f"cannot read as CSV ({encoding}, delimiter {delimiter!r}): {message}", file=path) from exc
    header = table.column_names
    blank = [i for i, name in enumerate(header) if not name.strip()]
    if blank and table.num_rows == 0 and len(header) == 1:
        raise InputError("the file has no header row", file=path)
    duplicated = {n for n in header if header.count(n) > 1}
    if duplicated:
        raise InputError(f"the header repeats column names {sorted(duplicated)}", file=path, row=header_line)
    table, native = _as_text(table)
    bad_lines = np.array(sorted(n for n, _, _ in ragged if n is not None), dtype=np.int64)
    total = table.num_rows + len(ragged)
    all_rows = np.arange(header_line + 1, header_line + 1 + total, dtype=np.int64)
    row_numbers = all_rows[~np.isin(all_rows, bad_lines)] if len(bad_lines) else all_rows
    rejected = pd.DataFrame(
        {
            "row_number": [n if n is not None else -1 for n, _, _ in ragged],
            "reason": [f"row {reason}" for _, reason, _ in ragged],
            "raw": [text for _, _, text in ragged],
        }
    )
    return RawTable(path, table, row_numbers, rejected, encoding, delimiter, None, native)


def _read_excel(path: Path, source: SourceOptions) -> RawTable:
    try:
        frame = pd.read_excel(
            path, sheet_name=source.sheet or 0, dtype=object, skiprows=source.skip_rows, engine="openpyxl"
        )
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a file that is not a workbook
        raise InputError(f"cannot read as an Excel workbook: {exc}", file=path) from exc
    names = [str(c) for c in frame.columns]
    cells = {name: [_cell_text(v) for v in frame[column]] for name, column in zip(names, frame.columns, strict=True)}
    native = {
        name
        for name, column in zip(names, frame.columns, strict=True)
        if any(isinstance(v, datetime.datetime | datetime.date) for v in frame[column])
    }
    table = pa.table({name: pa.array(values, pa.string()) for name, values in cells.items()})
    start = 2 + source.skip_rows
    rows = np.arange(start, start + table.num_rows, dtype=np.int64)
    return RawTable(path, table, rows, native_dates=frozenset(native))


def _read_parquet(path: Path, source: SourceOptions) -> RawTable:
    try:
        table, native = _as_text(pq.read_table(path))
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot read as Parquet: {exc}", file=path) from exc
    rows = np.arange(2, 2 + table.num_rows, dtype=np.int64)
    return RawTable(path, table, rows, native_dates=native)


def _read_geojson(path: Path, source: SourceOptions) -> RawTable:
    import pyogrio

    try:
        frame = pyogrio.read_dataframe(path, encoding=None if source.encoding == "auto" else source.encoding)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputError(f"cannot read with GDAL: {exc}", file=path) from exc
    points = frame.geometry
    kinds = set(points.geom_type.dropna().unique())
    if kinds - {"Point"}:
        raise InputError(f"incidents must be points; the file holds {sorted(kinds)}", file=path)
    data = {str(c): frame[c] for c in frame.columns if c != frame.geometry.name}
    table, native = _as_text(pa.table({c: pa.array(v.to_numpy(), from_pandas=True) for c, v in data.items()}))
    x = pa.array(points.x.to_numpy(), pa.float64()).cast(pa.string())
    y = pa.array(points.y.to_numpy(), pa.float64()).cast(pa.string())
    table = table.append_column(GEOMETRY_X, x).append_column(GEOMETRY_Y, y)
    crs = frame.crs.to_string() if frame.crs is not None else None
    rows = np.arange(2, 2 + table.num_rows, dtype=np.int64)
    return RawTable(path, table, rows, crs=crs, native_dates=native)


def read_table(path: Path, source: SourceOptions) -> RawTable:
    """Read CSV, Excel, Parquet or GeoJSON (by ``source.format`` or the extension) as text columns."""
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.stat().st_size == 0:
        raise InputError("the file is empty", file=path)
    kind = source.format
    if kind == "auto":
        suffix = path.suffix.lower()
        kind = {
            ".xlsx": "excel",
            ".xlsm": "excel",
            ".xls": "excel",
            ".parquet": "parquet",
            ".pq": "parquet",
            ".geojson": "geojson",
            ".json": "geojson",
            ".gpkg": "geojson",
        }.get(suffix, "csv")
    reader = {"csv": _read_csv, "excel": _read_excel, "parquet": _read_parquet, "geojson": _read_geojson}[kind]
    return reader(path, source)
