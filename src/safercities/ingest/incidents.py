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
from safercities.ingest.readers import GEOMETRY_X, RawTable, resolve_column

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


@dataclass(frozen=True)
class Quoted:
    """A reason that quotes the offending value: built only for the rows that are rejected."""

    prefix: str
    values: pa.Array
    suffix: str = ""

    def for_rows(self, rows: np.ndarray) -> np.ndarray:
        shown = pc.utf8_slice_codeunits(self.values.take(pa.array(rows)), 0, 60)
        joined = pc.binary_join_element_wise(pa.scalar(f"{self.prefix} '"), shown, pa.scalar(f"'{self.suffix}"), "")
        return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


class _Ledger:
    """The first reason each row fails, set vectorised check by check; messages built only for rejects."""

    def __init__(self, n: int) -> None:
        self.rejected = np.zeros(n, bool)
        self.parts: list[tuple[np.ndarray, str, str, np.ndarray | str]] = []

    def flag(self, mask: np.ndarray, code: str, column: str, reason: str | Quoted) -> None:
        new = np.flatnonzero(mask & ~self.rejected)
        if not len(new):
            return
        self.rejected[new] = True
        self.parts.append((new, code, column, reason.for_rows(new) if isinstance(reason, Quoted) else reason))

    def frame(self, row_numbers: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
        """Row positions of the rejects and their (row_number, column_name, reason_code, reason)."""
        if not self.parts:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS[:-1]})
            return np.array([], dtype=np.int64), empty
        frames = [
            pd.DataFrame({"position": rows, "column_name": column, "reason_code": code, "reason": reason})
            for rows, code, column, reason in self.parts
        ]
        found = pd.concat(frames, ignore_index=True).sort_values("position", kind="stable")
        positions = found.pop("position").to_numpy(np.int64)
        found.insert(0, "row_number", row_numbers[positions])
        return positions, found.reset_index(drop=True)


def _text(table: pa.Table, column: str) -> pa.Array:
    values = table.column(column).combine_chunks()
    return pc.utf8_trim_whitespace(pc.fill_null(values, ""))


def _blank(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.equal(values, "").to_numpy(zero_copy_only=False), dtype=bool)


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


def _offences(
    raw: RawTable, mapping: Mapping, cols: dict[str, str], table: pd.DataFrame, ledger: _Ledger
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Local offence code and label of each row, and its ICCS code through the workspace's table.

    The lookup runs on the distinct values only (a police file has tens of offences, not millions).
    """
    n = raw.columns.num_rows
    empty = pa.array(np.full(n, "", dtype=object), pa.string())
    code = _text(raw.columns, cols["offence_code"]) if "offence_code" in cols else empty
    label = _text(raw.columns, cols["offence_label"]) if "offence_label" in cols else empty
    by_label = mapping.offences.match == "label" or "offence_code" not in cols
    key = label if by_label else code
    key_column = cols["offence_label"] if by_label else cols["offence_code"]
    ledger.flag(_blank(key), "missing_offence", key_column, "missing offence")
    encoded = pc.dictionary_encode(key)
    distinct = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    if by_label:
        labels = table["local_label"].fillna("").astype(str).str.strip().str.casefold()
        first = ~labels.duplicated().to_numpy()  # several codes may share a label: the first one wins
        found = pd.Index(labels[first]).get_indexer(pd.Index(distinct.str.casefold()))
        position = np.where(found >= 0, np.flatnonzero(first)[np.maximum(found, 0)], -1)
    else:
        position = pd.Index(table["local_code"].astype(str).str.strip()).get_indexer(pd.Index(distinct))
    row_position = position[encoded.indices.to_numpy(zero_copy_only=False)]
    what = "label" if by_label else "code"
    ledger.flag(
        (row_position < 0) & ~_blank(key),
        "unknown_offence",
        key_column,
        Quoted(f"offence {what}", key, " has no ICCS code in the offence table"),
    )
    iccs_of = np.append(table["iccs_code"].astype(str).to_numpy(object), "")
    iccs = pa.DictionaryArray.from_arrays(encoded.indices, pa.array(iccs_of[position], pa.string()))
    if by_label:
        codes_of = np.append(table["local_code"].astype(str).to_numpy(object), "")
        local = np.where(position >= 0, codes_of[position], distinct.to_numpy(object))
        code = pa.DictionaryArray.from_arrays(encoded.indices, pa.array(local, pa.string()))
    label = pc.if_else(pc.equal(label, ""), None, label)
    return pc.cast(code, pa.string()), label, pc.cast(iccs, pa.string())


def _json_lines(frame: pd.DataFrame) -> list[str]:
    """One JSON object per row. Split on newlines only: JSON escapes them, but not U+0085 or U+2028."""
    return frame.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n").split("\n")


def _attributes(raw: RawTable, keep: list[str], rows: pa.Array) -> pa.Array | None:
    if not keep:
        return None
    frame = raw.columns.select(keep).take(rows).to_pandas()
    return pa.array(_json_lines(frame), pa.string())


def _raw_rows(raw: RawTable, rows: np.ndarray) -> np.ndarray:
    """The source row of each rejected row as JSON, so that nothing read is lost."""
    if len(rows) == 0:
        return np.array([], dtype=object)
    frame = raw.columns.take(pa.array(rows)).to_pandas()
    return np.array(_json_lines(frame), dtype=object)


def _unreadable(raw: RawTable, column: str, what: str = "date") -> Quoted:
    return Quoted(f"unreadable {what}", _text(raw.columns, column))


def _occurrence(raw: RawTable, mapping: Mapping, cols: dict[str, str], timezone: str, ledger: _Ledger) -> tuple:
    """Start and end of each incident's window: a moment, a moment with a time column, or from-to."""
    if "occurred" in cols:
        occurred = _times(raw, mapping, cols["occurred"], timezone, cols.get("occurred_time", ""))
        ledger.flag(occurred.missing, "missing_date", cols["occurred"], "missing occurrence date")
        ledger.flag(occurred.bad, "bad_date", cols["occurred"], _unreadable(raw, cols["occurred"]))
        return occurred.start, occurred.end, [occurred]
    first = _times(raw, mapping, cols["occurred_from"], timezone)
    ledger.flag(first.missing, "missing_date", cols["occurred_from"], "missing occurrence date")
    ledger.flag(first.bad, "bad_date", cols["occurred_from"], _unreadable(raw, cols["occurred_from"]))
    if "occurred_to" not in cols:
        return first.start, first.end, [first]
    last = _times(raw, mapping, cols["occurred_to"], timezone)
    ledger.flag(last.bad, "bad_date", cols["occurred_to"], _unreadable(raw, cols["occurred_to"]))
    end = np.where(last.missing | last.bad, first.end, last.end)
    ledger.flag(end < first.start, "bad_window", cols["occurred_to"], "the window ends before it starts")
    return first.start, end, [first, last]


def _identities(raw: RawTable, cols: dict[str, str], prefix: str, warnings: list[str]) -> pa.Array:
    """The source id, or a stable id made from the file's hash and the row number where there is none."""
    def made() -> pa.Array:
        return pa.array(np.char.add(f"{prefix}-", raw.row_numbers.astype(str)), pa.string())

    if "id" not in cols:
        return made()
    ids = _text(raw.columns, cols["id"])
    blank = pc.equal(ids, "")
    missing = int(pc.sum(pc.cast(blank, pa.int64())).as_py() or 0)
    if missing:
        warnings.append(f"{missing} rows without an id in '{cols['id']}' got one from their row number")
        return pc.if_else(blank, made(), ids)
    return ids


def _duplicates(ids: pa.Array, rows: np.ndarray, alive: np.ndarray, ledger: _Ledger, column: str) -> None:
    """Reject a repeated id (the first row wins), naming the first row."""
    living = ids.filter(pa.array(alive))
    if len(pc.unique(living)) == len(living):
        return
    series = pd.Series(ids.to_numpy(zero_copy_only=False), dtype=object).where(alive)
    repeated = series.duplicated(keep="first").to_numpy() & alive
    first_row = pd.Series(rows).groupby(series).transform("min").fillna(0).to_numpy()
    message = np.char.add(
        np.char.add("duplicate incident id (first at row ", first_row.astype(np.int64).astype(str)), ")"
    )
    ledger.flag(repeated, "duplicate_id", column, message.astype(object)[repeated])


def prepare_incidents(raw: RawTable, mapping: Mapping, context: ImportContext) -> PreparedIncidents:
    """Validate, parse and place every row; return the rows to store and the rows to reject."""
    available = raw.columns.column_names
    cols = {f: resolve_column(c, available, raw.path, f) for f, c in mapping.columns.used().items()}
    keep = [resolve_column(c, available, raw.path, "keep") for c in mapping.columns.keep]
    n = raw.columns.num_rows
    ledger = _Ledger(n)
    warnings: list[str] = []
    timezone = mapping.source.timezone or context.timezone
    rows = raw.row_numbers
    ids = _identities(raw, cols, context.id_prefix, warnings)

    start, end, parsed = _occurrence(raw, mapping, cols, timezone, ledger)
    date_column = cols.get("occurred") or cols["occurred_from"]
    ledger.flag(start > context.now, "future_date", date_column, "date in the future")
    reported = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    if "reported" in cols:
        report = _times(raw, mapping, cols["reported"], timezone)
        ledger.flag(report.bad, "bad_date", cols["reported"], _unreadable(raw, cols["reported"], "report date"))
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
    xy = f"{cols['x']}/{cols['y']}"
    ledger.flag(px.missing | py.missing, "missing_coordinates", xy, "missing coordinates")
    ledger.flag(px.bad, "bad_coordinates", cols["x"], Quoted("not a number:", raw_x))
    ledger.flag(py.bad, "bad_coordinates", cols["y"], Quoted("not a number:", raw_y))
    source_crs = raw.crs if raw.crs and cols["x"] == GEOMETRY_X else mapping.crs
    placed = place_points(
        px.values,
        py.values,
        source_crs=source_crs,
        target_crs=context.crs,
        city_lonlat_bounds=context.city_lonlat_bounds,
        file=raw.path,
        columns=(cols["x"], cols["y"]),
    )
    swapped = "latitude and longitude are swapped (the point falls in the city when exchanged)"
    ledger.flag(placed.swapped, "swapped_coordinates", xy, swapped)
    ledger.flag(placed.out_of_range, "bad_coordinates", xy, "not a valid longitude/latitude")
    outside = f"outside the valid area of the workspace CRS {context.crs.to_string()}"
    ledger.flag(placed.outside_crs, "outside_crs", xy, outside)
    usable = ~ledger.rejected
    where = context.area_index.assign(np.where(usable, placed.x, np.nan), np.where(usable, placed.y, np.nan))
    ledger.flag(where < 0, "outside_areas", xy, "the point falls outside every area")

    # Duplicates: in the file (the first row wins) and against the store.
    _duplicates(ids, rows, ~ledger.rejected, ledger, cols.get("id", ""))
    alive = ~ledger.rejected
    held = context.existing_ids(ids.filter(pa.array(alive)))
    if len(held):
        in_store = np.asarray(pc.is_in(ids, value_set=pa.array(held["incident_id"], pa.string())), bool) & alive
        ledger.flag(
            in_store, "duplicate_id", cols.get("id", ""), "incident id already in the store from an earlier import"
        )

    ok = ~ledger.rejected
    keep_rows = pa.array(np.flatnonzero(ok))
    mask = pa.array(ok)
    area = pa.array(context.area_ids, pa.string()).take(pa.array(where[ok]))
    incidents = pa.table(
        {
            "incident_id": ids.filter(mask),
            "occurred_from": pa.array(start[ok], pa.timestamp("us", tz="UTC")),
            "occurred_to": pa.array(end[ok], pa.timestamp("us", tz="UTC")),
            "reported_at": pa.array(reported[ok], pa.timestamp("us", tz="UTC")),
            "offence_code": code.filter(mask),
            "offence_label": label.filter(mask),
            "iccs_code": iccs.filter(mask),
            "x": pa.array(placed.x[ok]),
            "y": pa.array(placed.y[ok]),
            "area_id": area,
            "location_type": (
                pc.if_else(pc.equal(t := _text(raw.columns, cols["location_type"]), ""), None, t).filter(mask)
                if "location_type" in cols
                else pa.nulls(int(ok.sum()), pa.string())
            ),
            "source_row": pa.array(rows[ok], pa.int64()),
        }
    )
    attributes = _attributes(raw, keep, keep_rows)
    if attributes is not None:
        incidents = incidents.append_column("attributes", attributes)
    positions, rejects = ledger.frame(rows)
    rejects["raw"] = _raw_rows(raw, positions)
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
