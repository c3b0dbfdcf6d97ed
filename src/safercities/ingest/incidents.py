"""Incidents: from a police file to canonical rows and rejects, with nothing lost without a trace.

:func:`prepare_incidents` is pure: a read file and a mapping in, the rows to store and the
rows to reject (each with its row number, column and reason) out. The workspace writes both
in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyproj

from safercities.errors import InputError
from safercities.geo.assign import AreaIndex
from safercities.ingest.coords import check_decimal, parse_numbers, place_points
from safercities.ingest.dates import ParsedTimes, parse_times
from safercities.ingest.mapping import Mapping
from safercities.ingest.readers import RawTable, resolve_column

REJECT_COLUMNS = ["row_number", "column_name", "reason_code", "reason", "raw"]


@dataclass(frozen=True)
class ImportContext:
    """What the workspace knows that an import needs."""

    timezone: str
    crs: pyproj.CRS
    offences: pd.DataFrame
    """local_code, local_label, iccs_code: the workspace's table merged with the mapping's."""
    area_index: AreaIndex
    area_ids: np.ndarray
    city_lonlat_bounds: tuple[float, float, float, float] | None
    existing_ids: Callable[[pa.Array], pd.DataFrame]
    """Which of these ids the store already holds (incident_id, import_id)."""
    id_prefix: str
    now: np.datetime64


@dataclass(frozen=True)
class PreparedIncidents:
    incidents: pa.Table
    rejects: pd.DataFrame
    warnings: tuple[str, ...]
    rows_read: int


class _Ledger:
    """The first reason each row fails, set vectorised check by check."""

    def __init__(self, n: int) -> None:
        self.rejected = np.zeros(n, bool)
        self.code = np.full(n, "", dtype=object)
        self.column = np.full(n, "", dtype=object)
        self.reason = np.full(n, "", dtype=object)

    def flag(self, mask: np.ndarray, code: str, column: str, reason: str | np.ndarray) -> None:
        new = mask & ~self.rejected
        if not new.any():
            return
        self.rejected |= new
        self.code[new] = code
        self.column[new] = column
        self.reason[new] = reason[new] if isinstance(reason, np.ndarray) else reason


def _text(table: pa.Table, column: str) -> pa.Array:
    values = table.column(column).combine_chunks()
    return pc.utf8_trim_whitespace(pc.fill_null(values, ""))


def _quoted(prefix: str, values: pa.Array, suffix: str = "") -> np.ndarray:
    """Vectorised "prefix 'value' suffix" messages."""
    shown = pc.utf8_slice_codeunits(values, 0, 60)
    joined = pc.binary_join_element_wise(pa.scalar(f"{prefix} '"), shown, pa.scalar(f"'{suffix}"), "")
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def _times(raw: RawTable, mapping: Mapping, column: str, timezone: str, time_column: str = "") -> ParsedTimes:
    times = _text(raw.columns, time_column) if time_column else None
    return parse_times(
        _text(raw.columns, column),
        fmt=mapping.dates.format,
        order=mapping.dates.order,
        timezone=timezone,
        column=column,
        file=raw.path,
        native=column in raw.native_dates,
        times=times,
        time_format=mapping.dates.time_format,
    )


def _offences(raw: RawTable, mapping: Mapping, cols: dict[str, str], table: pd.DataFrame, ledger: _Ledger) -> tuple:
    """Local offence code and label of each row and its ICCS code via the workspace's table."""
    n = raw.columns.num_rows
    empty = pa.array([""] * n, pa.string())
    code = _text(raw.columns, cols["offence_code"]) if "offence_code" in cols else empty
    label = _text(raw.columns, cols["offence_label"]) if "offence_label" in cols else empty
    by_label = mapping.offences.match == "label" or "offence_code" not in cols
    key = label if by_label else code
    key_column = cols["offence_label"] if by_label else cols["offence_code"]
    key_np = np.asarray(key.to_numpy(zero_copy_only=False), dtype=object)
    ledger.flag(key_np == "", "missing_offence", key_column, "missing offence")
    if by_label:
        labels = table["local_label"].fillna("").astype(str).str.strip().str.casefold()
        first = ~labels.duplicated().to_numpy()  # several codes may share a label: the first one wins
        found = pd.Index(labels[first]).get_indexer(pd.Index(pd.Series(key_np, dtype=object).str.casefold()))
        position = np.where(found >= 0, np.flatnonzero(first)[np.maximum(found, 0)], -1)
    else:
        position = pd.Index(table["local_code"].astype(str).str.strip()).get_indexer(pd.Index(key_np))
    unknown = (position < 0) & (key_np != "")
    what = "label" if by_label else "code"
    ledger.flag(
        unknown,
        "unknown_offence",
        key_column,
        _quoted(f"offence {what}", key, " has no ICCS code in the offence table"),
    )
    safe = np.where(position < 0, 0, position)
    iccs = (
        np.where(position < 0, "", table["iccs_code"].astype(str).to_numpy(object)[safe])
        if len(table)
        else np.full(n, "", object)
    )
    code_np = np.asarray(code.to_numpy(zero_copy_only=False), dtype=object)
    if by_label and len(table):
        code_np = np.where(position >= 0, table["local_code"].astype(str).to_numpy(object)[safe], code_np)
    label_np = np.asarray(label.to_numpy(zero_copy_only=False), dtype=object)
    label_np[label_np == ""] = None
    return code_np, label_np, iccs


def _attributes(raw: RawTable, keep: list[str]) -> pa.Array | None:
    if not keep:
        return None
    frame = raw.columns.select(keep).to_pandas()
    lines = frame.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    return pa.array(lines, pa.string())


def _raw_rows(raw: RawTable, rows: np.ndarray) -> np.ndarray:
    """The source row of each rejected row as JSON, so that nothing read is lost."""
    if len(rows) == 0:
        return np.array([], dtype=object)
    frame = raw.columns.take(pa.array(rows)).to_pandas()
    return np.array(frame.to_json(orient="records", lines=True, force_ascii=False).splitlines(), dtype=object)


def prepare_incidents(raw: RawTable, mapping: Mapping, context: ImportContext) -> PreparedIncidents:
    """Validate, parse and place every row; return the rows to store and the rows to reject."""
    available = raw.columns.column_names
    cols = {f: resolve_column(c, available, raw.path, f) for f, c in mapping.columns.used().items()}
    keep = [resolve_column(c, available, raw.path, "keep") for c in mapping.columns.keep]
    n = raw.columns.num_rows
    ledger = _Ledger(n)
    warnings: list[str] = []
    timezone = mapping.source.timezone or context.timezone

    # Identity: the source id, or a stable id made from the file's hash and the row number.
    rows = raw.row_numbers
    if "id" in cols:
        ids = _text(raw.columns, cols["id"])
        ids_np = np.asarray(ids.to_numpy(zero_copy_only=False), dtype=object)
        generated = ids_np == ""
        if generated.any():
            warnings.append(
                f"{int(generated.sum())} rows without an id in '{cols['id']}' got one from their row number"
            )
    else:
        ids_np, generated = np.full(n, "", object), np.ones(n, bool)
    ids_np = np.where(generated, np.char.add(f"{context.id_prefix}-", rows.astype(str)).astype(object), ids_np)

    # Time: a moment, a moment with a separate time column, or a from-to window.
    if "occurred" in cols:
        occurred = _times(raw, mapping, cols["occurred"], timezone, cols.get("occurred_time", ""))
        start, end = occurred.start, occurred.end
        ledger.flag(occurred.missing, "missing_date", cols["occurred"], "missing occurrence date")
        ledger.flag(
            occurred.bad, "bad_date", cols["occurred"], _quoted("unreadable date", _text(raw.columns, cols["occurred"]))
        )
        parsed = [occurred]
    else:
        first = _times(raw, mapping, cols["occurred_from"], timezone)
        ledger.flag(first.missing, "missing_date", cols["occurred_from"], "missing occurrence date")
        ledger.flag(
            first.bad,
            "bad_date",
            cols["occurred_from"],
            _quoted("unreadable date", _text(raw.columns, cols["occurred_from"])),
        )
        start, end, parsed = first.start, first.end, [first]
        if "occurred_to" in cols:
            last = _times(raw, mapping, cols["occurred_to"], timezone)
            ledger.flag(
                last.bad,
                "bad_date",
                cols["occurred_to"],
                _quoted("unreadable date", _text(raw.columns, cols["occurred_to"])),
            )
            end = np.where(last.missing | last.bad, end, last.end)
            ledger.flag(end < start, "bad_window", cols["occurred_to"], "the window ends before it starts")
            parsed.append(last)
    date_column = cols.get("occurred") or cols["occurred_from"]
    ledger.flag(start > context.now, "future_date", date_column, "date in the future")
    reported = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if "reported" in cols:
        report = _times(raw, mapping, cols["reported"], timezone)
        ledger.flag(
            report.bad,
            "bad_date",
            cols["reported"],
            _quoted("unreadable report date", _text(raw.columns, cols["reported"])),
        )
        ledger.flag(report.start > context.now, "future_date", cols["reported"], "report date in the future")
        reported = report.start
        parsed.append(report)
    for p in parsed:
        if p.ambiguous:
            warnings.append(
                f"{p.ambiguous} times fell in the hour that repeats when clocks go back; the first was taken"
            )
        if p.nonexistent:
            warnings.append(f"{p.nonexistent} times fell in the hour skipped when clocks go forward; moved forward")

    code, label, iccs = _offences(raw, mapping, cols, context.offences, ledger)

    # Place: parse, check ranges and swaps, reproject, then find the area.
    raw_x, raw_y = _text(raw.columns, cols["x"]), _text(raw.columns, cols["y"])
    px, py = parse_numbers(raw_x, mapping.source.decimal), parse_numbers(raw_y, mapping.source.decimal)
    check_decimal(px, raw_x, mapping.source.decimal, raw.path, cols["x"])
    ledger.flag(px.missing | py.missing, "missing_coordinates", f"{cols['x']}/{cols['y']}", "missing coordinates")
    ledger.flag(px.bad, "bad_coordinates", cols["x"], _quoted("not a number:", raw_x))
    ledger.flag(py.bad, "bad_coordinates", cols["y"], _quoted("not a number:", raw_y))
    source_crs = raw.crs if raw.crs and cols["x"] == "geometry_x" else mapping.crs
    placed = place_points(
        px.values,
        py.values,
        source_crs=source_crs,
        target_crs=context.crs,
        city_lonlat_bounds=context.city_lonlat_bounds,
        file=raw.path,
        columns=(cols["x"], cols["y"]),
    )
    xy = f"{cols['x']}/{cols['y']}"
    ledger.flag(
        placed.swapped,
        "swapped_coordinates",
        xy,
        "latitude and longitude are swapped (the point falls in the city when exchanged)",
    )
    ledger.flag(placed.out_of_range, "bad_coordinates", xy, "not a valid longitude/latitude")
    ledger.flag(
        placed.outside_crs, "outside_crs", xy, f"outside the valid area of the workspace CRS {context.crs.to_string()}"
    )
    where = context.area_index.assign(
        np.where(ledger.rejected, np.nan, placed.x), np.where(ledger.rejected, np.nan, placed.y)
    )
    ledger.flag(where < 0, "outside_areas", xy, "the point falls outside every area")

    # Duplicates: in the file (the first row wins) and against the store.
    alive = ~ledger.rejected
    series = pd.Series(ids_np)
    first_row = pd.Series(rows).groupby(series).transform("min").to_numpy()
    duplicated_in_file = (
        alive & series.where(alive).duplicated(keep="first").to_numpy() & series.where(alive).notna().to_numpy()
    )
    ledger.flag(
        duplicated_in_file,
        "duplicate_id",
        cols.get("id", ""),
        np.char.add(np.char.add("duplicate incident id (first at row ", first_row.astype(str)), ")").astype(object),
    )
    alive = ~ledger.rejected
    held = context.existing_ids(pa.array(ids_np[alive], pa.string()))
    if len(held):
        in_store = np.isin(ids_np, held["incident_id"].to_numpy(object)) & alive
        ledger.flag(
            in_store, "duplicate_id", cols.get("id", ""), "incident id already in the store from an earlier import"
        )

    ok = ~ledger.rejected
    area_ids = context.area_ids[np.where(ok, where, 0)]
    incidents = pa.table(
        {
            "incident_id": pa.array(ids_np[ok], pa.string()),
            "occurred_from": pa.array(start[ok], pa.timestamp("us", tz="UTC")),
            "occurred_to": pa.array(end[ok], pa.timestamp("us", tz="UTC")),
            "reported_at": pa.array(reported[ok], pa.timestamp("us", tz="UTC")),
            "offence_code": pa.array(code[ok], pa.string()),
            "offence_label": pa.array(label[ok], pa.string()),
            "iccs_code": pa.array(iccs[ok], pa.string()),
            "x": pa.array(placed.x[ok]),
            "y": pa.array(placed.y[ok]),
            "area_id": pa.array(area_ids[ok], pa.string()),
            "location_type": (
                _text(raw.columns, cols["location_type"]).filter(pa.array(ok))
                if "location_type" in cols
                else pa.nulls(int(ok.sum()), pa.string())
            ),
            "source_row": pa.array(rows[ok], pa.int64()),
        }
    )
    attributes = _attributes(raw, keep)
    if attributes is not None:
        incidents = incidents.append_column("attributes", attributes.filter(pa.array(ok)))
    bad = np.flatnonzero(ledger.rejected)
    rejects = pd.DataFrame(
        {
            "row_number": rows[bad],
            "column_name": ledger.column[bad],
            "reason_code": ledger.code[bad],
            "reason": ledger.reason[bad],
            "raw": _raw_rows(raw, bad),
        }
    )
    if len(raw.ragged):
        ragged = raw.ragged.assign(column_name=None, reason_code="ragged_row")[REJECT_COLUMNS]
        rejects = pd.concat([ragged, rejects], ignore_index=True) if len(rejects) else ragged
    return PreparedIncidents(incidents, rejects[REJECT_COLUMNS], tuple(warnings), raw.rows_read)


def check_offence_table(table: pd.DataFrame, file: Path, is_valid: Callable[[pd.Series], pd.Series]) -> pd.DataFrame:
    """A local code -> ICCS table with the columns, unique codes and valid ICCS codes it needs."""
    missing = {"local_code", "iccs_code"} - set(table.columns)
    if missing:
        raise InputError(
            f"the offence table lacks columns {sorted(missing)}",
            file=file,
            hint="columns: local_code, local_label, iccs_code",
        )
    table = table.assign(
        local_code=table["local_code"].astype(str).str.strip(),
        iccs_code=table["iccs_code"].astype(str).str.strip(),
        local_label=table.get("local_label", pd.Series([None] * len(table))),
    )[["local_code", "local_label", "iccs_code"]]
    dup = table["local_code"].duplicated(keep=False)
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[1]) + 2
        raise InputError(
            f"local code '{table['local_code'][dup].iloc[0]}' appears twice", file=file, row=row, column="local_code"
        )
    valid = is_valid(table["iccs_code"]).to_numpy(bool)
    if not valid.all():
        i = int(np.flatnonzero(~valid)[0])
        raise InputError(
            f"'{table['iccs_code'].iloc[i]}' is not an ICCS code",
            file=file,
            row=i + 2,
            column="iccs_code",
            hint="see `safercities iccs` for the codes",
        )
    return table
