"""Dates and times as police files write them, placed on the UTC time line.

A value with a time of day is a moment. A date alone is a window covering that local day,
a month (``%Y-%m``) a window covering that month: ``start`` is its first instant and ``end``
its last (inclusive, to the second). Local clock times are placed in the city's time zone;
an hour skipped when clocks go forward moves forward, an hour that happens twice takes the
first, and both are counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from safercities.errors import InputError

EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")
ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%T", "%R", "%X", "%c", "%p")
_SLASH = re.compile(r"^\s*(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{2,4})")
_engine = duckdb.connect()  # a strict strptime; no data is stored here


@dataclass(frozen=True)
class ParsedTimes:
    """Parsed instants (UTC, microseconds) with the rows that were missing or unreadable."""

    start: np.ndarray
    end: np.ndarray
    missing: np.ndarray
    bad: np.ndarray
    format: str
    ambiguous: int = 0
    nonexistent: int = 0


def granularity(fmt: str) -> str:
    """'moment', 'day', 'month' or 'year': the window that a value written with ``fmt`` covers."""
    if fmt in ("excel", "iso"):
        return "moment"
    if any(d in fmt for d in _TIME_DIRECTIVES):
        return "moment"
    if any(d in fmt for d in ("%d", "%j", "%e")):
        return "day"
    if any(d in fmt for d in ("%m", "%b", "%B")):
        return "month"
    return "year"


def strptime(values: pa.Array, formats: list[str]) -> np.ndarray:
    """Strictly parse text with the first matching format (31/02 is an error, not 2 March); NaT where none does."""
    con = _engine.cursor()
    con.register("raw_values", pa.table({"v": values}))
    result = con.execute("SELECT try_strptime(v, ?::VARCHAR[]) AS t FROM raw_values", [formats]).to_arrow_table()
    con.close()
    return result.column("t").to_numpy().astype("datetime64[us]")


def _slash_order(values: pa.Array, column: str, file: Path, order: str) -> str:
    """'dmy' or 'mdy' for dates like 03/04/2024, refusing to guess when the data cannot tell."""
    parts = pc.extract_regex(values, _SLASH.pattern)
    first = pc.cast(pc.struct_field(parts, [0]), pa.int32())
    second = pc.cast(pc.struct_field(parts, [1]), pa.int32())
    # A value with both parts above 12 is no date in either order: it is rejected later, and decides nothing.
    possible = pc.or_(pc.less_equal(first, 12), pc.less_equal(second, 12))
    first_max = pc.max(pc.filter(first, possible)).as_py() or 0
    second_max = pc.max(pc.filter(second, possible)).as_py() or 0
    if first_max > 12 and second_max > 12:
        raise InputError(
            "dates mix day-first and month-first orders (both parts exceed 12 in some rows)", file=file, column=column
        )
    seen = "dmy" if first_max > 12 else "mdy" if second_max > 12 else ""
    if order:
        if seen and seen != order:
            example = next(v for v in values.to_pylist() if v and _SLASH.match(v))
            raise InputError(
                f"the mapping says dates.order = '{order}', but the data is '{seen}' (e.g. '{example}')",
                file=file,
                column=column,
            )
        return order
    if not seen:
        example = next((v for v in values.to_pylist() if v and _SLASH.match(v)), "")
        raise InputError(
            f"dates such as '{example}' are ambiguous: day/month or month/day cannot be told from the data",
            file=file,
            column=column,
            hint='set [dates] order = "dmy" or "mdy" in the mapping',
        )
    return seen


def detect_format(values: pa.Array, column: str, file: Path, order: str) -> str:
    """The date format of a column: ISO, Excel serial, or dd/mm / mm/dd with optional time."""
    present = pc.drop_null(pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), None, values))
    if len(present) == 0:
        return "iso"
    sample = present.slice(0, 5000)
    if pc.all(pc.match_substring_regex(sample, r"^\s*\d+(\.\d+)?\s*$")).as_py():
        return "excel"
    if pc.any(pc.match_substring_regex(sample, _SLASH.pattern)).as_py():
        date = {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y", "ymd": "%Y/%m/%d"}[_slash_order(present, column, file, order)]
        first = next(v for v in sample.to_pylist() if _SLASH.match(v))
        sep = re.match(r"^\s*\d{1,2}([/.\-])", first).group(1)  # type: ignore[union-attr]
        date = date.replace("/", sep)
        date_only = date
        candidates = [f"{date} %H:%M:%S", f"{date} %H:%M", f"{date} %I:%M:%S %p", f"{date} %I:%M %p", date]
    else:
        date_only = "%Y-%m-%d"
        candidates = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%Y-%m", *ISO_FORMATS]
    parsed = {fmt: int(np.count_nonzero(~np.isnat(strptime(sample, [fmt])))) for fmt in candidates}
    best = max(candidates, key=lambda f: parsed[f])
    if granularity(best) == "moment" and date_only:
        best = f"{best}|{date_only}"  # rows without a time of day are day windows, not errors
    if np.count_nonzero(~np.isnat(strptime(sample, best.split("|")))) < 0.5 * len(sample):
        raise InputError(
            f"cannot recognise the date format (e.g. '{sample[0].as_py()}')",
            file=file,
            column=column,
            hint='set [dates] format in the mapping, e.g. format = "%d/%m/%Y %H:%M"',
        )
    return best


def _excel_serial(values: pa.Array) -> np.ndarray:
    days = pc.cast(pc.if_else(pc.equal(pc.utf8_trim_whitespace(values), ""), None, values), pa.float64(), safe=False)
    serial = days.to_numpy(zero_copy_only=False)
    ok = np.isfinite(serial) & (serial > 0) & (serial < 2_958_466)  # 1900-01-01 .. 9999-12-31
    micro = np.where(ok, np.round(serial * 86_400) * 1_000_000, 0).astype(np.int64)
    return np.where(ok, EXCEL_EPOCH + micro.astype("timedelta64[us]"), np.datetime64("NaT"))


def _to_utc(local: np.ndarray, timezone: str) -> tuple[np.ndarray, int, int]:
    """Local clock times -> UTC, with counts of ambiguous (took the first) and nonexistent (moved forward)."""
    if timezone == "UTC":
        return local, 0, 0
    index = pd.DatetimeIndex(local)
    strict = index.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    trouble = np.asarray(strict.isna()) & ~np.asarray(index.isna())
    if not trouble.any():
        return strict.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[us]"), 0, 0
    odd = index[trouble]
    forward = odd.tz_localize(timezone, ambiguous=np.ones(len(odd), bool), nonexistent="shift_forward")
    gap = odd.tz_localize(timezone, ambiguous=np.ones(len(odd), bool), nonexistent="NaT")
    nonexistent = int(np.asarray(gap.isna()).sum())
    utc = strict.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[us]").copy()
    utc[trouble] = forward.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[us]")
    return utc, len(odd) - nonexistent, nonexistent


def _window_end(local: np.ndarray, kind: str) -> np.ndarray:
    if kind == "moment":
        return local
    unit = {"day": "D", "month": "M", "year": "Y"}[kind]
    following = (local.astype(f"datetime64[{unit}]") + 1).astype("datetime64[us]")
    return following - np.timedelta64(1, "s")


def parse_times(
    values: pa.Array,
    *,
    fmt: str,
    order: str,
    timezone: str,
    column: str,
    file: Path,
    native: bool = False,
    times: pa.Array | None = None,
    time_format: str = "%H:%M",
) -> ParsedTimes:
    """Parse a date column (optionally with a separate time-of-day column) into UTC windows."""
    values = pc.utf8_trim_whitespace(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
    missing = np.asarray(pc.fill_null(pc.equal(values, ""), True).to_numpy(zero_copy_only=False))
    if native:
        fmt = "%Y-%m-%dT%H:%M:%S"
    elif fmt == "auto":
        fmt = detect_format(values, column, file, order)
    elif fmt == "iso":
        fmt = "|".join(ISO_FORMATS)
    elif "%" not in fmt and fmt != "excel":
        raise InputError(f"dates.format '{fmt}' is not a strptime pattern, 'iso', 'excel' or 'auto'", column=column)
    if fmt == "excel":
        local = _excel_serial(values)
        kinds = np.where(local.astype("datetime64[D]") == local, "day", "moment")
    else:
        formats = fmt.split("|")
        local = strptime(values, formats)
        kinds = np.full(len(values), granularity(fmt), dtype=object)
        if len(formats) > 1:  # several formats: a value with a time of day is a moment
            with_clock = pc.fill_null(pc.match_substring(values, ":"), False).to_numpy(zero_copy_only=False)
            kinds = np.where(with_clock, "moment", granularity(formats[-1]))
        if native:
            kinds = np.where(local.astype("datetime64[D]") == local, "day", "moment")
    if times is not None:
        times = pc.utf8_trim_whitespace(times.combine_chunks() if isinstance(times, pa.ChunkedArray) else times)
        has_time = ~np.asarray(pc.fill_null(pc.equal(times, ""), True).to_numpy(zero_copy_only=False)) & ~missing
        clock = strptime(pc.binary_join_element_wise("1970-01-01", times, " "), [f"%Y-%m-%d {time_format}"])
        clock_bad = has_time & np.isnat(clock)
        offset = np.where(has_time & ~clock_bad, clock - np.datetime64("1970-01-01", "us"), np.timedelta64(0, "us"))
        local = np.where(has_time, local + offset, local)
        kinds = np.where(has_time, "moment", kinds)
    else:
        clock_bad = np.zeros(len(values), bool)
    bad = (np.isnat(local) & ~missing) | clock_bad
    local = np.where(bad, np.datetime64("NaT"), local)
    ends = local.copy()
    for kind in ("day", "month", "year"):
        rows = kinds == kind
        if rows.any():
            ends[rows] = _window_end(local[rows], kind)
    start, ambiguous, nonexistent = _to_utc(local, timezone)
    end, _, _ = _to_utc(ends, timezone)
    return ParsedTimes(start, end, missing, bad, fmt, ambiguous, nonexistent)
