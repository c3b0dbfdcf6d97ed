"""Reading OCDS publications: release and record packages, JSON Lines, and flattened CSV/XLSX.

Whatever the container, the result is the same: the releases it holds (dicts, as published) and,
for records that carry no releases, their compiled release. Text is read as UTF-8 (with or without
a byte-order mark) and, failing that, as Latin-1, which many municipal portals still write.

Flattened data are read as ``flatten-tool`` (and so OCDS Kit and the OCDS Data Review Tool) writes
them: one sheet per array, columns named by JSON pointer paths (``tender/value/amount``,
``awards/0/suppliers/0/id``), rows tied to their release by ``ocid`` and ``id`` and to their parent
array item by that item's ``id``. Column titles (``--use-titles``) are not supported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safercities.errors import InputError

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz")
FLAT_SUFFIXES = (".csv", ".xlsx")

NUMERIC_LEAVES = frozenset({"amount", "numberOfTenderers", "quantity", "rate", "numberOfBidders", "latitude"})
"""Fields that flatten-tool writes as text when it works without the schema; read back as numbers."""
LIST_OF_STRINGS = frozenset({"tag", "roles", "submissionMethod", "additionalProcurementCategories", "coordinates"})
"""Arrays of strings that flatten-tool joins with ';' in one cell."""


@dataclass(frozen=True)
class Publication:
    """What one OCDS file held: its releases, compiled releases of records without releases, and how it was read."""

    path: Path
    form: str
    """'release package', 'record package', 'json lines', 'release', 'record', 'flattened csv', 'flattened xlsx'."""
    releases: list[dict[str, Any]]
    compiled: list[dict[str, Any]] = field(default_factory=list)
    """Compiled releases taken as published (records whose releases are only linked)."""
    linked: list[dict[str, Any]] = field(default_factory=list)
    """Linked releases of records ({ocid, date, tag}): publication dates without the release bodies."""
    encoding: str = "utf-8"
    version: str | None = None
    publisher: str | None = None


def decode(raw: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """The text of ``raw`` and the encoding used: ``encoding`` if given, else UTF-8, else Latin-1."""
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"cannot read the file as {encoding}: {exc}", file=path) from exc
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def read_publication(path: Path | str, encoding: str | None = None) -> Publication:
    """Read one OCDS file of any supported form (chosen by its extension and, for JSON, its content)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    suffix = path.suffix.lower()
    if suffix in FLAT_SUFFIXES:
        return read_flattened(path, encoding=encoding)
    raw = path.read_bytes()
    if suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    text, used = decode(raw, path, encoding)
    stripped = text.lstrip()
    if not stripped:
        raise InputError("the file is empty", file=path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg.startswith("Extra data"):
            return _from_lines(path, text, used)
        raise InputError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            file=path,
            row=exc.lineno,
            hint="OCDS comes as a release package, a record package or JSON Lines (one release per line)",
        ) from exc
    return _from_document(path, data, used)


def _from_lines(path: Path, text: str, encoding: str) -> Publication:
    releases: list[dict[str, Any]] = []
    compiled: list[dict[str, Any]] = []
    linked: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", file=path, row=number) from exc
        part = _from_document(path, item, encoding, row=number)
        releases += part.releases
        compiled += part.compiled
        linked += part.linked
    return Publication(path, "json lines", releases, compiled, linked, encoding)


def _from_document(path: Path, data: Any, encoding: str, row: int | None = None) -> Publication:
    if isinstance(data, list):
        releases = [r for r in data if isinstance(r, dict)]
        return Publication(path, "json array", _checked(path, releases, row), encoding=encoding)
    if not isinstance(data, dict):
        raise InputError("expected a JSON object (a package, a release or a record)", file=path, row=row)
    version = data.get("version") if isinstance(data.get("version"), str) else None
    publisher = (data.get("publisher") or {}).get("name") if isinstance(data.get("publisher"), dict) else None
    if isinstance(data.get("releases"), list) and "ocid" not in data:
        releases = _checked(path, data["releases"], row)
        return Publication(path, "release package", releases, encoding=encoding, version=version, publisher=publisher)
    if isinstance(data.get("records"), list):
        releases, compiled, linked = [], [], []
        for record in data["records"]:
            r, c, k = _from_record(path, record, row)
            releases += r
            compiled += c
            linked += k
        return Publication(path, "record package", releases, compiled, linked, encoding, version, publisher)
    if "ocid" in data and ("releases" in data or "compiledRelease" in data):
        r, c, k = _from_record(path, data, row)
        return Publication(path, "record", r, c, k, encoding)
    if "ocid" in data:
        return Publication(path, "release", _checked(path, [data], row), encoding=encoding)
    raise InputError(
        "this JSON is not OCDS: no 'releases', 'records' or 'ocid' at its top level",
        file=path,
        row=row,
        hint="export a release package, a record package or JSON Lines of releases",
    )


def _from_record(
    path: Path, record: Any, row: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Embedded releases of a record; else its compiled release, with the linked releases' dates."""
    if not isinstance(record, dict) or not isinstance(record.get("ocid"), str):
        raise InputError("a record without a text 'ocid'", file=path, row=row)
    listed = [r for r in record.get("releases") or [] if isinstance(r, dict)]
    embedded = [r for r in listed if set(r) - {"url", "date", "tag", "ocid"}]
    if embedded:
        return _checked(path, embedded, row), [], []
    linked = [{"ocid": record["ocid"], "date": r.get("date"), "tag": r.get("tag")} for r in listed]
    compiled = record.get("compiledRelease")
    if not isinstance(compiled, dict):
        raise InputError(
            f"record {record['ocid']!r} has neither embedded releases nor a compiled release", file=path, row=row
        )
    return [], [compiled], linked


def _checked(path: Path, releases: list[Any], row: int | None) -> list[dict[str, Any]]:
    for number, release in enumerate(releases, start=1):
        if not isinstance(release, dict) or not isinstance(release.get("ocid"), str) or not release["ocid"]:
            where = f"release {number}" + (f" of line {row}" if row else "")
            raise InputError(f"{where} has no text 'ocid'", file=path, row=row, column="ocid")
    return releases


# -- flattened (flatten-tool) ---------------------------------------------------------------------
def read_flattened(path: Path, encoding: str | None = None) -> Publication:
    """Releases from flatten-tool output: a CSV folder's main sheet (``main.csv`` + siblings) or an XLSX book."""
    sheets = _xlsx_sheets(path) if path.suffix.lower() == ".xlsx" else _csv_sheets(path, encoding)
    if not sheets:
        raise InputError("no sheets found", file=path)
    names = list(sheets)
    main = "main" if "main" in sheets else names[0]
    if "ocid" not in sheets[main][0]:
        raise InputError("the main sheet has no 'ocid' column", file=path, column="ocid")
    releases: dict[tuple[str, str], dict[str, Any]] = {}
    order = [main] + [n for n in names if n != main]
    for name in order:
        header, rows = sheets[name]
        if "ocid" not in header:
            continue
        for number, cells in enumerate(rows, start=2):
            values = dict(zip(header, cells, strict=False))
            ocid = values.get("ocid") or ""
            if not ocid:
                continue
            key = (ocid, values.get("id") or "")
            release = releases.setdefault(key, {"ocid": ocid})
            try:
                _place_row(release, values)
            except ValueError as exc:
                raise InputError(str(exc), file=path, row=number, hint=f"sheet '{name}'") from exc
    form = "flattened xlsx" if path.suffix.lower() == ".xlsx" else "flattened csv"
    return Publication(path, form, list(releases.values()), encoding=encoding or "utf-8")


def _csv_sheets(path: Path, encoding: str | None) -> dict[str, tuple[list[str], list[list[str]]]]:
    folder = path.parent
    files = [path] + sorted(p for p in folder.glob("*.csv") if p != path) if path.name == "main.csv" else [path]
    sheets = {}
    for file in files:
        text, _ = decode(file.read_bytes(), file, encoding)
        rows = list(csv.reader(io.StringIO(text)))
        if rows:
            sheets[file.stem] = (rows[0], rows[1:])
    return sheets


def _xlsx_sheets(path: Path) -> dict[str, tuple[list[str], list[list[str]]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged book
        raise InputError(f"cannot open the workbook: {exc}", file=path) from exc
    sheets = {}
    for sheet in book.worksheets:
        rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        if rows:
            sheets[sheet.title] = ([c.strip() for c in rows[0]], rows[1:])
    book.close()
    return sheets


def _typed(leaf: str, text: str) -> Any:
    if leaf in LIST_OF_STRINGS:
        return [part for part in text.split(";") if part]
    if leaf in NUMERIC_LEAVES or leaf in {"longitude"}:
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number
    if text in ("True", "False") and leaf.startswith(("has", "is")):
        return text == "True"
    return text


def _place_row(release: dict[str, Any], values: dict[str, str]) -> None:
    """Put one flattened row into its release: array items found by their ``id``, else appended."""
    item: dict[str, Any] = {}
    for column, text in values.items():
        if column in ("ocid",) or text == "" or not column:
            continue
        parts = column.split("/")
        node = item
        for part, following in zip(parts[:-1], parts[1:], strict=True):
            if part.isdigit():
                continue
            default: Any = [{}] if following.isdigit() else {}
            node = node.setdefault(part, default)
            if isinstance(node, list):
                node = node[0]
        if parts[-1].isdigit():
            raise ValueError(f"column '{column}' ends in an array index")
        node[parts[-1]] = _typed(parts[-1], text)
    _merge_rows(release, item)


def _merge_rows(target: dict[str, Any], item: dict[str, Any]) -> None:
    for key, value in item.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            existing = target.setdefault(key, [])
            child = value[0]
            match = next((e for e in existing if "id" in child and e.get("id") == child["id"]), None)
            if match is None:
                match = {}
                existing.append(match)
            _merge_rows(match, child)
        elif isinstance(value, dict):
            _merge_rows(target.setdefault(key, {}), value)
        else:
            target[key] = value


def iter_files(path: Path) -> Iterator[Path]:
    """The OCDS files of ``path``: itself, or the JSON files of a folder (sorted)."""
    if path.is_dir():
        yield from sorted(p for p in path.iterdir() if p.suffix.lower() in JSON_SUFFIXES)
    else:
        yield path
