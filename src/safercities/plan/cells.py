"""Cells of the plan workbook as people type them: sheets read as text with the row numbers Excel shows, and dates
and numbers parsed the way officials write them (31/03/2025, 2025-03-31, a real date cell; 1.234,5 or 1,234.5).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities.audit.indicators import parse_numbers
from safercities.errors import InputError
from safercities.governance.files import normalise_column

_DAY_FIRST = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")


def cell_text(value: Any) -> str:
    """One cell as text: dates in ISO 8601 (without a midnight time), whole numbers without '.0', '' for empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not np.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def read_sheet(book: Any, name: str, path: Path) -> pd.DataFrame:
    """A worksheet as text cells under normalised headers, with ``row_number`` as Excel shows it (header = 1).

    Rows left wholly empty are dropped (their numbers are not reused), so that a reject names the row a person sees.
    """
    sheet = book[name]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return pd.DataFrame({"row_number": pd.Series(dtype=np.int64)})
    header = [cell_text(v) for v in rows[0]]
    named = [(i, normalise_column(h)) for i, h in enumerate(header) if h]
    seen: set[str] = set()
    for _, column in named:
        if column in seen:
            raise InputError(f"sheet '{name}' has two columns named '{column}'", file=path, column=column)
        seen.add(column)
    body = [[cell_text(r[i]) if i < len(r) else "" for i, _ in named] for r in rows[1:]]
    frame = pd.DataFrame(body, columns=[c for _, c in named], dtype=object)
    frame.insert(0, "row_number", np.arange(2, 2 + len(frame), dtype=np.int64))
    filled = frame.drop(columns="row_number").astype(bool).any(axis=1) if len(named) else pd.Series(False, frame.index)
    return frame[filled].reset_index(drop=True)


def parse_dates(texts: pd.Series) -> pd.Series:
    """Dates from text: ISO 8601 (2025-03-31, with or without a time) or day first (31/03/2025); NaT otherwise."""
    s = texts.astype(str).str.strip()
    iso = s.str.fullmatch(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?")
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    out[iso] = pd.to_datetime(s[iso].str[:10], format="%Y-%m-%d", errors="coerce")
    for form in _DAY_FIRST:
        todo = out.isna() & ~iso & s.ne("")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], format=form, errors="coerce")
    return out


def parse_amounts(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok) of numbers typed with a decimal point or a decimal comma; currency signs and spaces dropped."""
    cleaned = texts.astype(str).str.replace(r"^[^\d+\-.,]+|[^\d.,%]+$", "", regex=True)
    return parse_numbers(cleaned)


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def valid_ids(texts: pd.Series) -> np.ndarray:
    """Which ids use only letters, digits, '_', '.' and '-' (and start with a letter or digit)."""
    return np.asarray(texts.astype(str).str.match(_ID.pattern), dtype=bool)
