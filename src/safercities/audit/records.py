"""What the fieldwork imports share: columns found by their usual names, dates, areas, and the reject ledger.

Fieldwork files are typed by hand in the field (Excel sheets, Kobo exports), in Spanish, French or English:
a column is found by any of its usual names, ignoring case, accents and spacing; every row is either kept or
rejected with the column and the reason, vectorised check by check.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from safercities.errors import InputError
from safercities.ingest.dates import strptime
from safercities.ingest.readers import RawTable
from safercities.workspace import Workspace

REJECT_COLUMNS = ("row_number", "column_name", "reason_code", "reason", "raw")


def fold(text: str) -> str:
    """Text compared without case, accents, spaces or punctuation ('Jóvenes' == 'jovenes')."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def fold_series(values: pd.Series) -> pd.Series:
    """:func:`fold` over a column, vectorised through pandas' string methods."""
    plain = values.fillna("").astype(str).str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    return plain.str.lower().str.replace(r"[^0-9a-z]+", "", regex=True)


def find_columns(
    raw: RawTable, aliases: Mapping[str, Sequence[str]], required: Sequence[str], what: str
) -> dict[str, str]:
    """Canonical field -> the file's column, by any of the field's usual names; a missing required one is refused."""
    by_fold: dict[str, list[str]] = {}
    for name in raw.columns.column_names:
        by_fold.setdefault(fold(name), []).append(name)
    found: dict[str, str] = {}
    for field_name, names in aliases.items():
        hits = [col for alias in (field_name, *names) for col in by_fold.get(fold(alias), [])]
        if hits:
            found[field_name] = hits[0]
    missing = [f for f in required if f not in found]
    if missing:
        shown = ", ".join(repr(c) for c in raw.columns.column_names[:30])
        wanted = "; ".join(f"{f} (or {', '.join(aliases[f][:4])})" for f in missing)
        raise InputError(
            f"a {what} file needs the column(s) {wanted}",
            file=raw.path,
            column=missing[0],
            hint=f"columns found: {shown}",
        )
    return found


def text_column(raw: RawTable, column: str | None) -> pd.Series:
    """A column as stripped text ('' for empty cells); all '' when the column is absent."""
    if column is None:
        return pd.Series([""] * raw.columns.num_rows, dtype=object)
    values = raw.columns.column(column).combine_chunks().to_pandas()
    return values.fillna("").astype(str).str.strip()


class Ledger:
    """The first reason each row fails, set vectorised check by check."""

    def __init__(self, n: int) -> None:
        self.rejected = np.zeros(n, bool)
        self.parts: list[pd.DataFrame] = []

    @property
    def alive(self) -> np.ndarray:
        return ~self.rejected

    def flag(self, mask: np.ndarray | pd.Series, code: str, column: str, reason: str | pd.Series) -> None:
        """Reject the rows of ``mask`` not rejected yet, with a reason (one text, or one per row)."""
        new = np.flatnonzero(np.asarray(mask, bool) & ~self.rejected)
        if not len(new):
            return
        self.rejected[new] = True
        text = reason.to_numpy(object)[new] if isinstance(reason, pd.Series) else reason
        self.parts.append(pd.DataFrame({"position": new, "column_name": column, "reason_code": code, "reason": text}))

    def frame(self, raw: RawTable) -> pd.DataFrame:
        """The rejects (row_number, column_name, reason_code, reason, raw), unreadable rows of the file included."""
        ragged = raw.ragged.assign(column_name=None, reason_code="ragged_row")
        if not self.parts:
            found = pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        else:
            found = pd.concat(self.parts, ignore_index=True).sort_values("position", kind="stable")
            positions = found.pop("position").to_numpy(np.int64)
            found.insert(0, "row_number", raw.row_numbers[positions])
            found["raw"] = _row_text(raw, positions)
        frames = [f for f in (found, ragged[list(REJECT_COLUMNS)]) if len(f)]
        if not frames:
            return found
        out = pd.concat(frames, ignore_index=True)
        out["row_number"] = out["row_number"].astype(np.int64)
        return out


def _row_text(raw: RawTable, positions: np.ndarray) -> np.ndarray:
    """The rejected rows as 'column=value' text, so that the rejects table shows what was there."""
    table = raw.columns.take(pa.array(positions, pa.int64())).to_pandas().fillna("")
    parts = [name + "=" + table[name].astype(str) for name in table.columns]
    joined = parts[0].str.cat(parts[1:], sep="; ") if parts else pd.Series([""] * len(positions))
    return joined.to_numpy(object)


@dataclass(frozen=True)
class ParsedDates:
    values: np.ndarray  # datetime64[D], NaT where missing or bad
    missing: np.ndarray
    bad: np.ndarray
    future: np.ndarray


def date_formats(order: str) -> list[str]:
    """The formats tried on each date, in turn: ISO first, then day/month/year in ``order`` with /, - or ."""
    first, second, third = {"dmy": ("%d", "%m", "%Y"), "mdy": ("%m", "%d", "%Y"), "ymd": ("%Y", "%m", "%d")}[order]
    written = [f"{first}{sep}{second}{sep}{third}" for sep in "/-."]
    with_time = [f"{w} %H:%M:%S" for w in written] + [f"{w} %H:%M" for w in written]
    return ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d", *written, *with_time]


def parse_dates(raw: RawTable, column: str, order: str, today: dt.date | None = None) -> ParsedDates:
    """Dates as written (ISO, day/month/year in ``order``, Excel cells or serials; one file may mix them): the day,
    and which rows are missing, unreadable or after ``today`` (fieldwork cannot have happened in the future)."""
    values = text_column(raw, column)
    missing = (values == "").to_numpy()
    text = pa.array(values.where(~missing, None), pa.string())
    serial = pd.to_numeric(values.where(~missing), errors="coerce").to_numpy(float)
    if column not in raw.native_dates and (~missing).any() and np.isfinite(serial[~missing]).all():
        ok = np.isfinite(serial) & (serial > 0) & (serial < 2_958_466)  # Excel serial days: 1900-01-01 .. 9999
        days = np.where(ok, np.where(ok, serial, 0).astype(np.int64), 0).astype("timedelta64[D]")
        parsed = np.where(ok, np.datetime64("1899-12-30", "D") + days, np.datetime64("NaT"))
    else:
        parsed = strptime(text, date_formats(order)).astype("datetime64[D]")
    bad = np.isnat(parsed) & ~missing
    limit = np.datetime64(today or dt.date.today(), "D")
    future = ~np.isnat(parsed) & (parsed > limit)
    return ParsedDates(parsed.astype("datetime64[D]"), missing, bad, future)


def flag_dates(ledger: Ledger, dates: ParsedDates, column: str) -> None:
    ledger.flag(dates.missing, "missing_value", column, "the date is empty")
    ledger.flag(
        dates.bad,
        "bad_date",
        column,
        "not a date (write e.g. 2024-03-15 or 15/03/2024; for month/day/year import with --date-order mdy)",
    )
    ledger.flag(dates.future, "bad_date", column, "the date is in the future")


def translate(keys: pd.Series, table: pd.Series) -> pd.Series:
    """Each key's entry in ``table`` ('' where it has none), as text whatever pandas infers for an empty match."""
    found = keys.map(table).astype(object)
    return found.where(found.notna(), "").astype(str)


def optional_text(values: pd.Series) -> pa.Array:
    """Text for the store, with empty cells as NULL."""
    text = values.astype(str).to_numpy(object)
    return pa.array(text, pa.string(), mask=text == "")


def match_areas(values: pd.Series, areas: pd.DataFrame) -> pd.Series:
    """The workspace area id each value names: its id, else its name when exactly one area has it ('' if none)."""
    ids = areas["area_id"].astype(str)
    by_id = pd.Series(ids.to_numpy(), index=ids.to_numpy())
    direct = values.map(by_id).astype(object)
    names = pd.DataFrame({"key": fold_series(areas["name"].fillna("")), "area_id": ids.to_numpy()})
    names = names[names["key"] != ""]
    unique = names.drop_duplicates("key", keep=False).set_index("key")["area_id"]
    folded_ids = pd.DataFrame({"key": fold_series(ids), "area_id": ids.to_numpy()}).drop_duplicates("key", keep=False)
    by_folded_id = folded_ids.set_index("key")["area_id"]
    keys = fold_series(values)
    found = direct.where(direct.notna(), keys.map(by_folded_id).astype(object))
    found = found.where(found.notna(), keys.map(unique).astype(object))
    return found.where(found.notna(), "").astype(str)


def make_ids(given: pd.Series, prefix: str, row_numbers: np.ndarray) -> pd.Series:
    """The file's ids where given, else ``prefix-row`` (stable: the same file gives the same ids)."""
    made = (prefix + "-" + pd.Series(row_numbers, index=given.index).astype(str)).astype(object)
    return given.where(given != "", made)


def check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", file=path)


def check_date_order(order: str) -> None:
    if order not in ("dmy", "mdy", "ymd"):
        raise InputError(f"The 'date_order' parameter must be one of 'dmy', 'mdy', 'ymd'. Got {order!r} instead.")


def held_ids(ws: Workspace, kind: str, column: str, sha: str, replace: bool) -> frozenset[str]:
    """Ids other imports already stored in table ``kind`` (the import being replaced does not count)."""
    replacing = ws.store.find_import(kind, sha) if replace else None
    return frozenset(ws.store.read(kind, "import_id IS DISTINCT FROM ?", [replacing])[column])
