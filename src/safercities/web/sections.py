"""Pages made of tables: a column says how its values are written, a section holds rows (records).

The survey, procurement, audit and plan pages are built from the same service functions as their CLI verbs
and reports; this module only says which columns a page shows and how (number, percent, interval, flag)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "number"  # text | number | percent | interval | flag
    digits: int = 0
    lower: str = ""
    upper: str = ""
    percent: bool = False
    link: str = ""
    link_key: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    csv: str = ""
    empty: str = ""


def records(frame: pd.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows for a section, missing values as None (so that the page writes a dash, not 'nan')."""
    frame = frame if limit is None else frame.head(limit)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and math.isnan(value):
                row[key] = None
    return rows  # type: ignore[return-value]
