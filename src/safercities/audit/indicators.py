"""Indicator values: imported from a city's files, or computed by formula from the store.

:func:`import_indicators` reads a long file (one row per area, period and indicator) or a wide one (one row per
area and period, one column per indicator), checks every value against the framework and the workspace's areas,
and stores what passes in one transaction; every cell it cannot use is kept in ``rejects`` with its row, column
and reason. :func:`indicator_values` returns the values of a framework for every area of a level and every
period, in the long contract of the audit (area_id, period, indicator_id, value, lower, upper, se, source,
unit): a value that is not known is NaN, never zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from safercities.audit.formula import ICCS_FILTER, Aggregate, Estimate, Source, evaluate
from safercities.audit.framework import Framework, load_framework
from safercities.errors import InputError, check_choice
from safercities.ingest.areas import lineage
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import normalise_name, read_table
from safercities.workspace import ImportResult, Workspace, file_sha256

KIND = "indicator_values"
LAYOUTS = ("auto", "long", "wide")
DECIMALS = ("auto", ".", ",")
VALUE_COLUMNS = ["area_id", "period", "indicator_id", "value", "lower", "upper", "se", "source", "unit"]
"""The long contract of indicator values (docs/audit-framework.md)."""
MISSING_MARKERS = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "nd", "n/d", "s/d", "sd", "-", "--", "—", "..", "."}
)
"""Cell texts that mean "no value" (compared in lower case): stored as nothing, shown as NaN."""
LABEL_COLUMNS = frozenset({"name", "areaname", "nombre", "nom", "label"})
"""Columns of a wide file that name the area for people and are not indicators."""
TIME_COLUMNS = {"incidents": "occurred_from"}
"""The column that places a table's rows in time, where it is not a ``period`` column or the first date."""

_YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")
_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})[-\s]?[Qq]([1-4])$")


# -- periods ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A calendar year, quarter or month, in local time: [start, end)."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp


def normalise_period(text: object) -> str | None:
    """'2024', '2024-Q1' or '2024-03' from what people write ('2024.0', '2024q1', '2024/3'); None if not a period."""
    value = str(text).strip()
    if m := _YEAR.match(value):
        return m.group(1)
    if m := _QUARTER.match(value):
        return f"{m.group(1)}-Q{m.group(2)}"
    if (m := _MONTH.match(value)) and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None


def parse_period(text: str) -> Period:
    label = normalise_period(text)
    if label is None:
        raise InputError(
            f"The 'period' parameter must be a year (2024), a quarter (2024-Q1) or a month (2024-03). Got {text!r} "
            "instead."
        )
    year = int(label[:4])
    if "Q" in label:
        quarter = int(label[-1])
        start = pd.Timestamp(year=year, month=3 * quarter - 2, day=1)
        return Period(label, start, start + pd.DateOffset(months=3))
    if len(label) == 7:
        start = pd.Timestamp(year=year, month=int(label[5:]), day=1)
        return Period(label, start, start + pd.DateOffset(months=1))
    return Period(label, pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year + 1, month=1, day=1))


# -- numbers ------------------------------------------------------------------------------------------
def parse_numbers(texts: pd.Series, decimal: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """(values, ok): numbers read from text, decimal commas and thousands separators accepted.

    With ``decimal="auto"`` the last of '.' and ',' is the decimal mark when both appear ('1.234,5', '1,234.5');
    a single ',' is a decimal comma ('12,5'), several are thousands separators ('1,234,567'), as several dots are.
    A trailing '%' and spaces inside the number are dropped. Infinite values are not numbers.
    """
    check_choice("decimal", decimal, DECIMALS, "parse_numbers")
    s = texts.astype("string").fillna("").str.strip()
    s = s.str.replace(r"(?<=\d)[\s\u00a0\u202f']+(?=\d)", "", regex=True).str.replace(r"\s*%$", "", regex=True)
    commas, dots = s.str.count(",").to_numpy(), s.str.count(r"\.").to_numpy()
    if decimal == ",":
        thousands = np.where(dots > 0, ".", "")
        mark = np.full(len(s), ",")
    elif decimal == ".":
        thousands = np.where(commas > 0, ",", "")
        mark = np.full(len(s), ".")
    else:
        comma_last = (s.str.rfind(",") > s.str.rfind(".")).to_numpy()
        both = (commas > 0) & (dots > 0)
        mark = np.where(both, np.where(comma_last, ",", "."), np.where((commas > 1) | (dots == 1), ".", ","))
        mark = np.where(~both & (dots > 1), ",", mark)
        thousands = np.where(
            both, np.where(comma_last, ".", ","), np.where(commas > 1, ",", np.where(dots > 1, ".", ""))
        )
    out = pd.Series(np.nan, index=s.index, dtype=np.float64)
    for sep, point in ((",", "."), (".", ","), ("", "."), ("", ",")):
        rows = (thousands == sep) & (mark == point)
        if not rows.any():
            continue
        t, d = re.escape(sep), re.escape(point)
        whole = rf"(\d{{1,3}}({t}\d{{3}})+|\d+)" if sep else r"\d+"
        pattern = rf"[+-]?({whole}({d}\d*)?|{d}\d+)([eE][+-]?\d+)?"
        chosen = s[rows]
        good = chosen.str.fullmatch(pattern).fillna(False).to_numpy(bool)
        text = chosen[good].str.replace(sep, "", regex=False) if sep else chosen[good]
        out.loc[chosen.index[good]] = pd.to_numeric(text.str.replace(point, ".", regex=False), errors="coerce")
    array = out.to_numpy(dtype=np.float64, na_value=np.nan)
    return array, np.isfinite(array)


def is_missing(texts: pd.Series) -> np.ndarray:
    """Cells that say "no value"."""
    return np.asarray(texts.astype("string").fillna("").str.strip().str.lower().isin(MISSING_MARKERS), dtype=bool)


# -- import -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cells:
    """One candidate value per row: where it came from and its parts, all as text."""

    frame: pd.DataFrame  # row_number, column_name, area, period, indicator, value, lower, upper, se, source, unit


def _column(header: list[str], *names: str) -> str | None:
    """The header column whose normalised name is one of ``names`` (None when absent)."""
    wanted = [normalise_name(n) for n in names]
    for name in wanted:
        for column in header:
            if normalise_name(column) == name:
                return column
    return None


def _text(table: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series([""] * len(table), index=table.index, dtype="string")
    return table[column].astype("string").fillna("").str.strip()


def _cells(table: pd.DataFrame, rows: np.ndarray, layout: str, area_column: str, path: Path) -> _Cells:
    header = list(table.columns)
    area = _column(header, area_column, *(("area_id", "area", "area_code") if area_column == "area_id" else ()))
    if area is None:
        raise InputError(
            f"the file has no column '{area_column}' for the area id",
            file=path,
            hint=f"columns found: {', '.join(map(repr, header[:30]))}; name it with --area-column",
        )
    period = _column(header, "period", "periodo", "période", "year", "año", "annee")
    indicator = _column(header, "indicator_id", "indicator", "indicador", "indicateur")
    value = _column(header, "value", "valor", "valeur")
    if layout == "auto":
        layout = "long" if indicator is not None and value is not None else "wide"
    base = {
        "area": _text(table, area),
        "period": _text(table, period),
        "source": _text(table, _column(header, "source", "fuente")),
    }
    if layout == "long":
        if indicator is None or value is None:
            missing = [n for n, c in (("indicator_id", indicator), ("value", value)) if c is None]
            raise InputError(f"a long file needs the columns {' and '.join(missing)}", file=path, hint="or use --wide")
        frame = pd.DataFrame(
            base
            | {
                "row_number": rows,
                "column_name": value,
                "indicator": _text(table, indicator),
                "value": _text(table, value),
                "lower": _text(table, _column(header, "lower")),
                "upper": _text(table, _column(header, "upper")),
                "se": _text(table, _column(header, "se", "standard_error")),
                "unit": _text(table, _column(header, "unit", "unidad", "unité")),
            }
        )
        frame = frame[~is_missing(frame["value"])]
        return _Cells(frame.reset_index(drop=True))
    used = {c for c in (area, period, _column(header, "source", "fuente")) if c is not None}
    indicator_columns = [c for c in header if c not in used and normalise_name(c) not in LABEL_COLUMNS]
    if not indicator_columns:
        raise InputError("a wide file needs one column per indicator besides the area and period", file=path)
    n = len(table)
    frame = pd.DataFrame(
        {
            "row_number": np.tile(rows, len(indicator_columns)),
            "column_name": np.repeat(indicator_columns, n),
            "area": np.tile(base["area"].to_numpy(object), len(indicator_columns)),
            "period": np.tile(base["period"].to_numpy(object), len(indicator_columns)),
            "source": np.tile(base["source"].to_numpy(object), len(indicator_columns)),
            "indicator": np.repeat([c.strip() for c in indicator_columns], n),
            "value": np.concatenate([_text(table, c).to_numpy(object) for c in indicator_columns]),
        }
    )
    frame[["lower", "upper", "se", "unit"]] = ""
    frame = frame[~is_missing(frame["value"])].sort_values(["row_number"], kind="stable")
    return _Cells(frame.reset_index(drop=True))


def _reject(cells: pd.DataFrame, mask: np.ndarray, code: str, reason: pd.Series | str, raw: pd.Series) -> pd.DataFrame:
    reasons = reason if isinstance(reason, str) else reason[mask].to_numpy(object)
    return pd.DataFrame(
        {
            "row_number": cells.loc[mask, "row_number"].to_numpy(np.int64),
            "column_name": cells.loc[mask, "column_name"].to_numpy(object),
            "reason_code": code,
            "reason": reasons,
            "raw": raw[mask].to_numpy(object),
        }
    )


def import_indicators(
    ws: Workspace,
    path: Path | str,
    *,
    framework: str | Path | Framework = "default",
    layout: str = "auto",
    period: str | None = None,
    source: str | None = None,
    area_column: str = "area_id",
    decimal: str = "auto",
    replace: bool = False,
) -> ImportResult:
    """Import indicator values from a long or wide CSV, Excel or Parquet file, checked cell by cell.

    Rejected (kept in ``rejects`` with row, column and reason): an unknown indicator, an indicator that the
    framework computes by formula, an unknown area, a missing or invalid period, a value that is not a number,
    a unit other than the framework's, an interval that does not hold the value, and every row of an (area,
    period, indicator) that the file gives more than once. Empty cells and markers such as 'NA' are missing
    values: nothing is stored for them. ``period`` and ``source`` fill the file's empty or absent columns.
    A value for an (area, period, indicator) held from an earlier file supersedes it (a warning says how many).
    """
    path = Path(path)
    check_choice("layout", layout, LAYOUTS, "import_indicators")
    check_choice("decimal", decimal, DECIMALS, "import_indicators")
    fw = load_framework(framework)
    if period is not None and normalise_period(period) is None:
        parse_period(period)  # raises the message
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    repeat = ws.repeated_import(KIND, path, sha, replace)
    if repeat is not None:
        return repeat
    raw = read_table(path, SourceOptions())
    table = raw.columns.to_pandas()
    cells = _cells(table, raw.row_numbers, layout, area_column, path).frame
    if not len(cells) and table.empty:
        raise InputError("the file has no rows of values", file=path)
    accepted, rejects, warnings = _check(ws, fw, cells, period, source, decimal)
    ragged = raw.ragged.assign(column_name=None, reason_code="ragged_row")
    rejects = pd.concat([ragged[["row_number", "column_name", "reason_code", "reason", "raw"]], rejects])
    rejects = rejects.sort_values(["row_number"], kind="stable").reset_index(drop=True)
    held = ws.store.read(KIND)
    if len(held) and len(accepted):
        earlier = ws.store.find_import(KIND, sha) if replace else None
        keys = held.loc[held["import_id"] != (earlier or -1), ["area_id", "period", "indicator_id"]]
        clash = accepted.merge(keys.drop_duplicates(), on=["area_id", "period", "indicator_id"], how="inner")
        if len(clash):
            warnings.append(
                f"{len(clash):,} values supersede values of the same area, period and indicator held before"
            )
    rows = pa.table(
        {
            "area_id": pa.array(accepted["area_id"].to_numpy(object), pa.string()),
            "period": pa.array(accepted["period"].to_numpy(object), pa.string()),
            "indicator_id": pa.array(accepted["indicator_id"].to_numpy(object), pa.string()),
            "value": pa.array(accepted["value"].to_numpy(np.float64), pa.float64()),
            "lower": pa.array(accepted["lower"].to_numpy(np.float64), pa.float64(), from_pandas=True),
            "upper": pa.array(accepted["upper"].to_numpy(np.float64), pa.float64(), from_pandas=True),
            "se": pa.array(accepted["se"].to_numpy(np.float64), pa.float64(), from_pandas=True),
            "source": pa.array(accepted["source"].to_numpy(object), pa.string()),
            "unit": pa.array(accepted["unit"].to_numpy(object), pa.string()),
            "source_row": pa.array(accepted["row_number"].to_numpy(np.int64), pa.int64()),
        }
    )
    options: dict[str, object] = {
        "framework": fw.id,
        "framework_sha256": fw.sha256,
        "layout": layout,
        "period": period,
        "source": source,
        "decimal": decimal,
        "area_column": area_column,
    }
    return ws.commit_import(KIND, path, sha, replace, rows, rejects, raw.rows_read, tuple(warnings), options)


def _check(
    ws: Workspace,
    fw: Framework,
    cells: pd.DataFrame,
    period: str | None,
    source: str | None,
    decimal: str,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(accepted values, rejects, warnings): one reason per rejected cell, the first that applies."""
    areas = set(ws.store.areas()["area_id"])
    ids = set(fw.ids)
    formula_ids = {i.id for i in fw.indicators if not i.imported}
    units = {i.id: i.unit for i in fw.indicators}
    sources = {i.id: i.source for i in fw.indicators}
    given_period = cells["period"].where(cells["period"] != "", period or "")
    periods = given_period.map(normalise_period)
    value, value_ok = parse_numbers(cells["value"], decimal)
    bounds = {k: parse_numbers(cells[k], decimal) for k in ("lower", "upper", "se")}
    bound_given = {k: ~is_missing(cells[k]) for k in bounds}
    unit_given = cells["unit"] != ""
    checks: list[tuple[str, np.ndarray, Callable[[], pd.Series | str], str]] = [
        (
            "missing_period",
            (given_period == "").to_numpy(),
            lambda: "no period: add a period column or give --period",
            "period",
        ),
        (
            "invalid_period",
            periods.isna().to_numpy(),
            lambda: "period '" + given_period + "' is not a year (2024), a quarter (2024-Q1) or a month (2024-03)",
            "period",
        ),
        ("missing_area", (cells["area"] == "").to_numpy(), lambda: "no area id", "area"),
        (
            "unknown_area",
            ~cells["area"].isin(areas).to_numpy(),
            lambda: "unknown area '" + cells["area"] + "' (not in the workspace's areas)",
            "area",
        ),
        (
            "unknown_indicator",
            ~cells["indicator"].isin(ids).to_numpy(),
            lambda: "unknown indicator '" + cells["indicator"] + f"' (not in framework '{fw.id}')",
            "indicator",
        ),
        (
            "formula_indicator",
            cells["indicator"].isin(formula_ids).to_numpy(),
            lambda: (
                "indicator '" + cells["indicator"] + f"' is computed by formula in framework '{fw.id}', not imported"
            ),
            "indicator",
        ),
        (
            "not_a_number",
            ~value_ok,
            lambda: "value '" + cells["value"] + "' is not a number",
            "value",
        ),
        (
            "wrong_unit",
            (unit_given & (cells["unit"] != cells["indicator"].map(units).fillna(""))).to_numpy(),
            lambda: (
                "unit '"
                + cells["unit"]
                + "' differs from the framework's '"
                + cells["indicator"].map(units).fillna("")
                + "'"
            ),
            "unit",
        ),
    ]
    for key in ("lower", "upper", "se"):
        checks.append(
            (
                "not_a_number",
                bound_given[key] & ~bounds[key][1],
                _not_a_number(cells, key),
                key,
            )
        )
    lower = np.where(bound_given["lower"], bounds["lower"][0], np.nan)
    upper = np.where(bound_given["upper"], bounds["upper"][0], np.nan)
    se = np.where(bound_given["se"], bounds["se"][0], np.nan)
    outside = (lower > value) | (upper < value) | (se < 0)
    checks.append(
        ("invalid_interval", outside, lambda: "the interval or standard error does not fit the value", "value")
    )

    open_ = np.ones(len(cells), dtype=bool)
    rejected: list[pd.DataFrame] = []
    for code, failing, reason, raw_column in checks:
        hit = open_ & np.asarray(failing, dtype=bool)
        if hit.any():
            rejected.append(_reject(cells, hit, code, reason(), cells[raw_column]))
            open_ &= ~hit
    keys = pd.DataFrame({"area": cells["area"], "period": periods, "indicator": cells["indicator"]})
    duplicated = _duplicated_among(keys, open_)
    if duplicated.any():
        first_rows = (
            cells.loc[duplicated]
            .groupby([keys["area"], keys["period"], keys["indicator"]])["row_number"]
            .transform("min")
        )
        said = pd.Series("", index=cells.index, dtype=object)
        said[duplicated] = (
            "area '"
            + cells.loc[duplicated, "area"]
            + "', period '"
            + keys.loc[duplicated, "period"].astype(str)
            + "', indicator '"
            + cells.loc[duplicated, "indicator"]
            + "' is given more than once (first on row "
            + first_rows.astype(str)
            + ")"
        )
        rejected.append(_reject(cells, duplicated, "duplicate", said, cells["value"]))
        open_ &= ~duplicated
    ok = cells[open_]
    accepted = pd.DataFrame(
        {
            "area_id": ok["area"].to_numpy(object),
            "period": periods[open_].to_numpy(object),
            "indicator_id": ok["indicator"].to_numpy(object),
            "value": value[open_],
            "lower": lower[open_],
            "upper": upper[open_],
            "se": se[open_],
            "source": np.where(
                ok["source"] != "", ok["source"], source or ok["indicator"].map(sources).fillna("").to_numpy(object)
            ),
            "unit": ok["indicator"].map(units).to_numpy(object),
            "row_number": ok["row_number"].to_numpy(np.int64),
        }
    )
    columns = ["row_number", "column_name", "reason_code", "reason", "raw"]
    rejects = pd.concat(rejected, ignore_index=True) if rejected else pd.DataFrame(columns=columns)
    return accepted, rejects[columns], []


def _not_a_number(cells: pd.DataFrame, key: str) -> Callable[[], pd.Series | str]:
    return lambda: f"{key} '" + cells[key] + "' is not a number"


def _duplicated_among(keys: pd.DataFrame, open_: np.ndarray) -> np.ndarray:
    """Rows whose key repeats among the rows still open."""
    out = np.zeros(len(keys), dtype=bool)
    out[open_] = keys[open_].duplicated(keep=False).to_numpy()
    return out


# -- reading values -------------------------------------------------------------------------------------
def imported_values(ws: Workspace) -> pd.DataFrame:
    """The stored values, the latest import winning where two give the same area, period and indicator."""
    held = ws.store.read(KIND)
    held = held.sort_values("import_id", kind="stable").drop_duplicates(
        ["area_id", "period", "indicator_id"], keep="last"
    )
    return held.reset_index(drop=True)


class _StoreSource(Source):
    """What formulas read for one period at one level: incidents and other tables, areas, imported values."""

    def __init__(
        self,
        ws: Workspace,
        area_ids: np.ndarray,
        links: pd.Series,
        period: Period,
        area_columns: dict[str, np.ndarray],
        known: dict[str, Estimate],
        tables: dict[str, pd.DataFrame],
    ) -> None:
        self.ws = ws
        self.area_ids = area_ids
        self.n_areas = len(area_ids)
        self.links = links  # area_id of any level -> area_id at the level asked for
        self.period = period
        self.area_columns = area_columns
        self.known = known
        self.tables = tables

    def area_column(self, column: str) -> np.ndarray:
        return self.area_columns[column]

    def indicator(self, indicator_id: str) -> Estimate:
        return self.known[indicator_id]

    def _rows(self, table: str) -> pd.DataFrame:
        if table not in self.tables:
            self.tables[table] = _load_table(self.ws, table)
        return self.tables[table]

    def aggregate(self, node: Aggregate) -> np.ndarray:
        from safercities.schema import TABLES

        rows = self._rows(node.table)
        keep = np.ones(len(rows), dtype=bool)
        for name, values in node.filters:
            if name == ICCS_FILTER:
                codes = rows["iccs_code"].astype("string").fillna("")
                keep &= np.logical_or.reduce([codes.str.startswith(str(v)).to_numpy(bool) for v in values])
            elif TABLES[node.table][name].split()[0].upper().startswith(("DOUBLE", "BIGINT", "INTEGER")):
                keep &= pd.to_numeric(rows[name], errors="coerce").isin([float(v) for v in values]).to_numpy()
            else:
                keep &= rows[name].astype("string").isin([str(v) for v in values]).fillna(False).to_numpy(bool)
        covered = len(rows) > 0
        if "_when" in rows:
            keep &= ((rows["_when"] >= self.period.start) & (rows["_when"] < self.period.end)).to_numpy()
            first, last = rows.attrs["first_month"], rows.attrs["last_month"]
            covered = covered and first <= self.period.start and last >= self.period.end - pd.DateOffset(months=1)
        elif "period" in rows:
            in_period = (rows["period"] == self.period.label).to_numpy()
            keep &= in_period
            covered = bool(in_period.any())
        target = self.links.reindex(rows.loc[keep, "area_id"].to_numpy()).to_numpy(object)
        selected = rows.loc[keep].assign(_target=target).dropna(subset=["_target"])
        grouped = selected.groupby("_target")
        if node.func == "count":
            out = grouped.size().reindex(self.area_ids, fill_value=0).to_numpy(np.float64)
            return out if covered else np.full(self.n_areas, np.nan)
        column = pd.to_numeric(selected[node.column], errors="coerce")
        summary = (
            column.groupby(selected["_target"]).sum(min_count=1)
            if node.func == "sum"
            else (column.groupby(selected["_target"]).mean())
        )
        return summary.reindex(self.area_ids).to_numpy(np.float64)


def _load_table(ws: Workspace, table: str) -> pd.DataFrame:
    """A table's rows, with its time column in local time (``_when``) and its first and last months (attrs)."""
    from safercities.schema import TABLES

    rows = ws.store.read(table)
    columns = TABLES[table]
    time_column = TIME_COLUMNS.get(table) or next(
        (c for c, t in columns.items() if t.split()[0].upper() in ("DATE", "TIMESTAMPTZ") and "period" not in columns),
        None,
    )
    if time_column is None or time_column not in rows:
        return rows
    when = pd.to_datetime(rows[time_column], utc=True)
    local = when.dt.tz_convert(ws.config.timezone).dt.tz_localize(None)
    rows = rows.assign(_when=local)
    months = local.dt.to_period("M")
    rows.attrs["first_month"] = months.min().to_timestamp() if len(rows) else pd.NaT
    rows.attrs["last_month"] = months.max().to_timestamp() if len(rows) else pd.NaT
    return rows


def _level_areas(ws: Workspace, level: str) -> tuple[np.ndarray, pd.Series, dict[str, np.ndarray]]:
    """Area ids at ``level`` (sorted), the map of every area id to its area at ``level``, and area columns."""
    areas = ws.store.areas()
    at_level = areas[areas["level"] == level].sort_values("area_id")
    if at_level.empty:
        levels = sorted(areas["level"].unique())
        raise InputError(f"unknown area level '{level}'; the workspace has {', '.join(levels) or 'no areas'}")
    ids = at_level["area_id"].to_numpy(object)
    links = lineage(areas, level).dropna(subset=["target_id"])
    mapping = pd.concat(
        [
            pd.Series(links["target_id"].to_numpy(object), index=links["area_id"].to_numpy(object)),
            pd.Series(ids, index=ids),
        ]
    )
    mapping = mapping[~mapping.index.duplicated(keep="last")]
    population = ws.populations(level).reindex(ids).to_numpy(np.float64)
    km2 = shapely.area(shapely.from_wkb(at_level["geometry"].to_numpy())) / 1e6
    return ids, mapping, {"population": population, "area_km2": np.asarray(km2, dtype=np.float64)}


def _incident_periods(ws: Workspace) -> list[str]:
    """Calendar years that the incidents cover from their first to their last month."""
    first, last = ws.store.time_span(timezone=ws.config.timezone)
    if first is None or last is None:
        return []
    years = range(first.year + (first.month > 1), last.year + (0 if last.month == 12 else -1) + 1)
    return [str(y) for y in years]


def indicator_values(
    ws: Workspace,
    framework: str | Path | Framework = "default",
    period: str | Sequence[str] | None = None,
    *,
    level: str | None = None,
    confidence: float = 0.95,
    public: bool = False,
) -> pd.DataFrame:
    """Every indicator of ``framework`` for every area of ``level`` and every period, in the long contract.

    Columns: area_id, period, indicator_id, value, lower, upper, se, source, unit. ``period`` is one period (or
    several) such as '2024', '2024-Q1' or '2024-03'; by default, the periods of the imported values and the
    calendar years the incidents cover. Imported values come from the store (the latest import wins); formula
    values are computed from the store for each period, with the intervals of :mod:`safercities.audit.formula`.
    A value nobody gave, or a formula over a period its tables do not cover, is NaN: never zero.
    ``public=True`` applies the workspace's disclosure rule: a formula value that rests on a count from 1 to
    ``disclosure.min_count - 1`` is withheld (NaN, with the source saying so), for audiences that are not
    authorised analysts.
    """
    fw = load_framework(framework)
    level = level or ws.default_level()
    ids, links, area_columns = _level_areas(ws, level)
    held = imported_values(ws)
    held = held[held["indicator_id"].isin(fw.ids) & held["area_id"].isin(ids)]
    if period is None:
        reads_time = any(t in TIME_COLUMNS for i in fw.indicators if i.formula is not None for t in i.formula.tables)
        periods = sorted(set(held["period"]) | set(_incident_periods(ws) if reads_time else []))
    else:
        periods = [period] if isinstance(period, str) else list(period)
    parsed = [parse_period(p) for p in periods]
    frames = []
    tables: dict[str, pd.DataFrame] = {}
    for p in parsed:
        frames.append(
            _one_period(
                ws, fw, p, ids, links, area_columns, held[held["period"] == p.label], tables, confidence, public
            )
        )
    if not frames:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c in ("value", "lower", "upper", "se") else object) for c in VALUE_COLUMNS}
        )
    return pd.concat(frames, ignore_index=True)[VALUE_COLUMNS]


def _small(estimate: Estimate, min_count: int) -> np.ndarray:
    """Values that rest on a count from 1 to ``min_count - 1`` (small-cell suppression)."""
    smallest = estimate.smallest_count
    if smallest is None:
        return np.zeros(len(estimate.value), dtype=bool)
    return np.asarray((smallest >= 1) & (smallest < min_count), dtype=bool)


def _one_period(
    ws: Workspace,
    fw: Framework,
    period: Period,
    ids: np.ndarray,
    links: pd.Series,
    area_columns: dict[str, np.ndarray],
    held: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    confidence: float,
    public: bool,
) -> pd.DataFrame:
    known: dict[str, Estimate] = {}
    sources: dict[str, np.ndarray] = {}
    by_indicator = {k: g.set_index("area_id") for k, g in held.groupby("indicator_id")}
    source = _StoreSource(ws, ids, links, period, area_columns, known, tables)
    for indicator in fw.evaluation_order():
        if indicator.formula is None:
            got = by_indicator.get(indicator.id, pd.DataFrame(columns=["value", "lower", "upper", "se", "source"]))
            got = got.reindex(ids)
            lower, upper = got["lower"].to_numpy(np.float64), got["upper"].to_numpy(np.float64)
            has_interval = bool(np.any(~np.isnan(lower)))
            known[indicator.id] = Estimate(
                got["value"].to_numpy(np.float64),
                lower if has_interval else None,
                upper if has_interval else None,
                got["se"].to_numpy(np.float64) if has_interval else None,
            )
            sources[indicator.id] = got["source"].to_numpy(object)
        else:
            known[indicator.id] = evaluate(indicator.formula, source, confidence)
            sources[indicator.id] = np.full(len(ids), indicator.source, dtype=object)
    withheld = {
        i.id: _small(known[i.id], ws.config.disclosure.min_count) for i in fw.indicators if public and i.formula
    }
    for indicator_id, small in withheld.items():
        est = known[indicator_id]

        def hide(a: np.ndarray | None, small: np.ndarray = small) -> np.ndarray | None:
            return None if a is None else np.where(small, np.nan, a)

        known[indicator_id] = Estimate(
            np.where(small, np.nan, est.value), hide(est.lower), hide(est.upper), hide(est.se)
        )
        sources[indicator_id] = np.where(
            small, f"withheld: a count below {ws.config.disclosure.min_count}", sources[indicator_id]
        )
    parts = []
    nan = np.full(len(ids), np.nan)
    for indicator in fw.indicators:
        est = known[indicator.id]
        parts.append(
            pd.DataFrame(
                {
                    "area_id": ids,
                    "period": period.label,
                    "indicator_id": indicator.id,
                    "value": est.value,
                    "lower": est.lower if est.lower is not None else nan,
                    "upper": est.upper if est.upper is not None else nan,
                    "se": est.se if est.se is not None else nan,
                    "source": sources[indicator.id],
                    "unit": indicator.unit,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
