"""Reading the small tables of the assessment (answers, actors, relations, practices) from CSV, Excel or YAML.

Every cell comes back as stripped text and every row keeps the number a spreadsheet shows (header = row 1), so
that a reject or an error names the row the user sees.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from safercities.errors import InputError
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import read_table

TABULAR = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
YAML = (".yaml", ".yml")


def read_rows(path: Path, sheet: str = "") -> pd.DataFrame:
    """A CSV or Excel sheet as text (``""`` for empty cells) with its spreadsheet ``row_number``."""
    if path.suffix.lower() not in TABULAR:
        raise InputError(f"unknown file type '{path.suffix}'", file=path, hint="use .csv or .xlsx")
    raw = read_table(path, SourceOptions(sheet=sheet))
    frame = raw.columns.to_pandas().fillna("")
    frame = frame.apply(lambda column: column.astype(str).str.strip())
    frame.columns = [normalise_column(c) for c in frame.columns]
    frame.insert(0, "row_number", raw.row_numbers)
    return frame


def normalise_column(name: str) -> str:
    """Column names compared without case or spacing: 'Item ID' -> 'item_id'."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def sheet_names(path: Path) -> list[str]:
    """The sheets of an Excel workbook (empty for any other file)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return []
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            return [str(s) for s in book.sheet_names]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(f"cannot read as an Excel workbook: {exc}", file=path) from exc


def read_yaml(path: Path) -> Any:
    """A YAML document, with a parse error named by file and line."""
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("the file is not UTF-8 text", file=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=path, row=row) from exc


def require_columns(frame: pd.DataFrame, wanted: tuple[str, ...], path: Path, what: str) -> None:
    """Refuse a table that lacks a column the reader needs, listing the columns it has."""
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != "row_number")
        raise InputError(
            f"the {what} table has no column {', '.join(map(repr, missing))}",
            file=path,
            column=missing[0],
            hint=f"columns found: {found}",
        )
