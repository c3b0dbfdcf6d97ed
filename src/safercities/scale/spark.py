"""The count cube and the formula indicators on Apache Spark, from a GeoParquet export.

The same numbers as :meth:`safercities.workspace.Workspace.cube` and
:func:`safercities.audit.indicators.indicator_values`, computed where the incidents are: the work that grows
with the number of incidents (reading, converting each occurrence to the city's wall clock, counting) runs
as Spark SQL on the executors; what grows only with the number of areas (the lineage of areas, the zeros of
the cube, the intervals of the formulas) runs on the driver, through the very code the workspace uses
(:func:`safercities.audit.formula.evaluate`).

Local time is Spark's ``from_utc_timestamp(occurred_from, tz)`` with the session in UTC, so a period is a
calendar period on the city's clock, across clock changes, as in DuckDB. ``folder`` may be a local path or
an object-storage URI (``s3a://bucket/city``); everything is read through Spark.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from safercities.audit.formula import ICCS_FILTER, Aggregate, Estimate, Source, evaluate, walk
from safercities.audit.framework import Framework, Indicator, load_framework
from safercities.audit.indicators import TIME_COLUMNS, VALUE_COLUMNS, Period, parse_period
from safercities.errors import InputError, WorkspaceError, check_choice
from safercities.scale.export import INCIDENTS, MANIFEST, PARTITION, Manifest, area_km2, parse_manifest
from safercities.schema import TABLES
from safercities.store.base import PERIODS

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

STEPS = {"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months", "year": "1 year"}
NUMERIC = ("DOUBLE", "BIGINT", "INTEGER")


# -- the session ----------------------------------------------------------------------------------------
def java_missing() -> str | None:
    """Why Spark cannot start here (no Java), or None."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return (
        "Spark needs a Java runtime (17 or later) and none was found: install one "
        "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
    )


def local_session(
    cores: int = 2, shuffle_partitions: int = 4, driver_memory: str = "1g", app_name: str = "safercities"
) -> SparkSession:
    """A small Spark session on this machine (``local[cores]``), UI off, session time zone UTC.

    On a cluster, ``spark-submit`` makes the session; :func:`configure` sets what the functions rely on.
    """
    reason = java_missing()
    if reason:
        raise WorkspaceError(reason)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return configure(spark)


def configure(spark: SparkSession) -> SparkSession:
    """Set the session time zone to UTC: timestamps are instants, local time is always explicit."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


# -- reading the export -----------------------------------------------------------------------------------
def _uri(folder: str | Path, *parts: str) -> str:
    base = str(folder)
    base = base if "://" in base else str(Path(base).resolve())
    return "/".join([base.rstrip("/"), *parts])


def manifest(spark: SparkSession, folder: str | Path) -> Manifest:
    """The export's manifest, read through Spark (so that object storage works as a local folder)."""
    from pyspark.errors import AnalysisException

    uri = _uri(folder, MANIFEST)
    try:
        row = spark.read.text(uri, wholetext=True).first()
    except AnalysisException as exc:
        raise InputError(
            "not a safercities GeoParquet export (no manifest.json)",
            file=str(folder),
            hint="write one with safercities.scale.export.export_geoparquet(ws, folder)",
        ) from exc
    if row is None:
        raise InputError("manifest.json is empty", file=uri)
    return parse_manifest(str(row[0]), uri)


_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "TIMESTAMPTZ": "TIMESTAMP",
    "DOUBLE": "DOUBLE",
    "INTEGER": "INT",
    "BIGINT": "BIGINT",
}


def incidents(spark: SparkSession, folder: str | Path, known: Manifest | None = None) -> DataFrame:
    """The incidents as a Spark DataFrame (the ``year`` partition is a column; Spark skips unread years).

    An export without incidents (a workspace with areas only) gives an empty frame of the same columns.
    """
    if known is not None and known.incidents == 0:
        columns = [f"{c} {_SPARK_TYPES[t.split()[0]]}" for c, t in TABLES[INCIDENTS].items()]
        return spark.createDataFrame([], ", ".join([*columns, "geometry BINARY", f"{PARTITION} INT"]))
    return spark.read.option("basePath", _uri(folder, INCIDENTS)).parquet(_uri(folder, INCIDENTS))


def _small(spark: SparkSession, folder: str | Path, name: str) -> pd.DataFrame:
    """A small table of the export, brought to the driver."""
    return spark.read.parquet(_uri(folder, f"{name}.parquet")).toArrow().to_pandas()


def _lineage(spark: SparkSession, folder: str | Path, level: str, known: Manifest) -> DataFrame:
    from pyspark.sql import functions as sf

    if level not in known.levels:
        raise InputError(f"unknown area level '{level}'; the export has {', '.join(known.levels)}")
    links = spark.read.parquet(_uri(folder, "lineage.parquet"))
    return links.where(sf.col("level") == level).select("area_id", "target_id")


def _local_time(timezone: str) -> Column:
    from pyspark.sql import functions as sf

    return sf.from_utc_timestamp(sf.col("occurred_from"), timezone)


# -- the count cube ---------------------------------------------------------------------------------------
def spark_cube(
    spark: SparkSession,
    folder: str | Path,
    by: str = "month",
    level: str | None = None,
    timezone: str | None = None,
) -> pd.DataFrame:
    """Incident counts by area x period x ICCS section, zeros included, periods in local time.

    The frame of ``ws.cube(by, level)`` (area_id, period, iccs_section, count; ordered), from the export
    in ``folder``. ``level`` defaults to the workspace's finest level, ``timezone`` to the workspace's.
    """
    from pyspark.sql import functions as sf

    check_choice("by", by, PERIODS, "spark_cube")
    known = manifest(spark, folder)
    level = level or known.default_level
    timezone = timezone or known.timezone
    links = sf.broadcast(_lineage(spark, folder, level, known))
    section = sf.substring(sf.col("iccs_code"), 1, 2)
    finest = (
        incidents(spark, folder, known)
        .select(
            "area_id",
            sf.to_date(sf.date_trunc(by, _local_time(timezone))).alias("period"),
            section.alias("iccs_section"),
        )
        .groupBy("area_id", "period", "iccs_section")
        .agg(sf.count(sf.lit(1)).alias("count"))
        .cache()  # read once: counted, and its sections listed
    )
    try:
        counts = (
            finest.join(links, "area_id")
            .groupBy(sf.col("target_id").alias("area_id"), "period", "iccs_section")
            .agg(sf.sum("count").alias("count"))
        )
        periods = counts.agg(sf.min("period").alias("first"), sf.max("period").alias("last")).select(
            sf.explode(sf.expr(f"sequence(first, last, INTERVAL {STEPS[by]})")).alias("period")
        )
        codes = spark.read.parquet(_uri(folder, "offence_codes.parquet"))
        sections = (
            codes.select(sf.substring("iccs_code", 1, 2).alias("iccs_section"))
            .union(finest.select("iccs_section"))
            .distinct()
        )
        targets = links.select(sf.col("target_id").alias("area_id")).distinct()
        cube = (
            targets.crossJoin(periods)
            .crossJoin(sections)
            .join(counts, ["area_id", "period", "iccs_section"], "left")
            .select(
                "area_id", "period", "iccs_section", sf.coalesce(sf.col("count"), sf.lit(0)).cast("long").alias("count")
            )
            .orderBy("area_id", "period", "iccs_section")
        )
        return cube.toArrow().to_pandas(date_as_object=False)
    finally:
        finest.unpersist()


# -- the formula indicators -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Span:
    """First and last local month of the incidents (for whether a period is covered), and whether any exist."""

    any_rows: bool
    first_month: pd.Timestamp | None
    last_month: pd.Timestamp | None

    def covers(self, period: Period) -> bool:
        if not self.any_rows or self.first_month is None or self.last_month is None:
            return False
        return bool(self.first_month <= period.start and self.last_month >= period.end - pd.DateOffset(months=1))


def _span(spark: SparkSession, folder: str | Path, known: Manifest) -> _Span:
    """The local time span, read from the first and the last year's partitions only."""
    from pyspark.sql import functions as sf

    years = sorted(int(y) for y, n in known.incidents_by_year.items() if n)
    if not years:
        return _Span(False, None, None)
    local = _local_time(known.timezone)
    row = (
        incidents(spark, folder)
        .where(sf.col(PARTITION).isin(years[0], years[-1]))
        .agg(sf.min(local).alias("first"), sf.max(local).alias("last"))
        .toArrow()
        .to_pandas()
        .iloc[0]
    )
    first, last = pd.Timestamp(row["first"]).tz_localize(None), pd.Timestamp(row["last"]).tz_localize(None)
    return _Span(True, first.to_period("M").to_timestamp(), last.to_period("M").to_timestamp())


def _stamp(moment: pd.Timestamp) -> Column:
    """A wall-clock timestamp literal (the session is in UTC, so it is read as written)."""
    from pyspark.sql import functions as sf

    return sf.expr(f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S}'")


def _filter(node: Aggregate) -> Column:
    """The rows an aggregate keeps, as :class:`safercities.audit.indicators._StoreSource` selects them."""
    from pyspark.sql import functions as sf

    keep = sf.lit(True)
    for name, values in node.filters:
        if name == ICCS_FILTER:
            hit = sf.lit(False)
            for value in values:
                hit = hit | sf.col("iccs_code").startswith(str(value))
            keep = keep & hit
        elif TABLES[INCIDENTS][name].split()[0].upper().startswith(NUMERIC):
            keep = keep & sf.col(name).cast("double").isin([float(v) for v in values])
        else:
            keep = keep & sf.coalesce(sf.col(name).cast("string").isin([str(v) for v in values]), sf.lit(False))
    return keep


def _period_years(period: Period) -> set[int]:
    last = period.end - pd.Timedelta(microseconds=1)
    return set(range(period.start.year, last.year + 1))


def _aggregates(
    spark: SparkSession,
    folder: str | Path,
    known: Manifest,
    nodes: list[Aggregate],
    periods: list[Period],
    mapping: pd.DataFrame,
) -> pd.DataFrame:
    """One pass over the incidents of the periods' years: every aggregate x period, per target area.

    Columns ``a{i}_{j}`` for node i and period j, indexed by the target area id.
    """
    from pyspark.sql import functions as sf

    years = sorted(set().union(*(_period_years(p) for p in periods)))
    rows = (
        incidents(spark, folder, known)
        .where(sf.col(PARTITION).isin(years))
        .withColumn("_when", _local_time(known.timezone))
    )
    links = spark.createDataFrame(
        pa.Table.from_pandas(mapping[["area_id", "_target"]].astype(str), preserve_index=False)
    )
    rows = rows.join(sf.broadcast(links), "area_id")
    columns = []
    for j, period in enumerate(periods):
        inside = (sf.col("_when") >= _stamp(period.start)) & (sf.col("_when") < _stamp(period.end))
        for i, node in enumerate(nodes):
            keep = inside & _filter(node)
            name = f"a{i}_{j}"
            if node.func == "count":
                columns.append(sf.sum(sf.when(keep, sf.lit(1)).otherwise(sf.lit(0))).cast("double").alias(name))
            elif node.func == "sum":
                columns.append(sf.sum(sf.when(keep, sf.col(str(node.column)).cast("double"))).alias(name))
            else:
                columns.append(sf.avg(sf.when(keep, sf.col(str(node.column)).cast("double"))).alias(name))
    grouped = rows.groupBy("_target").agg(*columns)
    return grouped.toArrow().to_pandas().set_index("_target")


class _SparkSource(Source):
    """What a formula reads for one period: the aggregates computed by Spark, the areas, other indicators."""

    def __init__(
        self,
        ids: np.ndarray,
        values: dict[Aggregate, np.ndarray],
        area_columns: dict[str, np.ndarray],
        known: dict[str, Estimate],
    ) -> None:
        self.n_areas = len(ids)
        self.values = values
        self.area_columns = area_columns
        self.known = known

    def aggregate(self, node: Aggregate) -> np.ndarray:
        return self.values[node]

    def area_column(self, column: str) -> np.ndarray:
        return self.area_columns[column]

    def indicator(self, indicator_id: str) -> Estimate:
        return self.known[indicator_id]


def _closure(fw: Framework, wanted: Sequence[str]) -> list[Indicator]:
    """The indicators asked for and those their formulas refer to, in evaluation order."""
    needed: set[str] = set()
    stack = list(wanted)
    while stack:
        indicator = fw.indicator(stack.pop())
        if indicator.id not in needed:
            needed.add(indicator.id)
            stack += sorted(indicator.formula.indicators) if indicator.formula else []
    return [i for i in fw.evaluation_order() if i.id in needed]


def _nodes(chosen: list[Indicator]) -> list[Aggregate]:
    nodes: list[Aggregate] = []
    for indicator in chosen:
        for node in walk(indicator.formula.tree) if indicator.formula else []:
            if not isinstance(node, Aggregate) or node in nodes:
                continue
            if node.table != INCIDENTS:
                raise InputError(
                    f"indicator '{indicator.id}' reads table '{node.table}': on Spark the formulas read the incidents "
                    "only (the other tables are small: compute them with `safercities audit indicators`)"
                )
            nodes.append(node)
    return nodes


def _level(
    spark: SparkSession, folder: str | Path, known: Manifest, level: str
) -> tuple[np.ndarray, pd.DataFrame, dict[str, np.ndarray]]:
    """Area ids at ``level`` (sorted), every area id -> its area at ``level``, and the areas' figures."""
    areas = _small(spark, folder, "areas")
    at_level = areas[areas["level"] == level].sort_values("area_id")
    if at_level.empty:
        raise InputError(f"unknown area level '{level}'; the export has {', '.join(known.levels)}")
    ids = at_level["area_id"].to_numpy(object)
    links = _lineage(spark, folder, level, known).toArrow().to_pandas()
    mapping = pd.concat(
        [
            pd.DataFrame({"area_id": links["area_id"], "_target": links["target_id"]}),
            pd.DataFrame({"area_id": ids, "_target": ids}),
        ]
    ).drop_duplicates("area_id", keep="last")
    figures = {
        "population": at_level["level_population"].to_numpy(np.float64),
        "area_km2": area_km2(at_level["geometry"].to_numpy()),
    }
    return ids, mapping, figures


def _default_periods(chosen: list[Indicator], held: pd.DataFrame, span: _Span) -> list[str]:
    """The periods of the imported values and the calendar years the incidents cover (as the audit does)."""
    reads_time = any(t in TIME_COLUMNS for i in chosen if i.formula is not None for t in i.formula.tables)
    years: list[str] = []
    if reads_time and span.first_month is not None and span.last_month is not None:
        first, last = span.first_month, span.last_month
        years = [str(y) for y in range(first.year + (first.month > 1), last.year + (0 if last.month == 12 else -1) + 1)]
    return sorted(set(held["period"]) | set(years))


def spark_indicator_values(
    spark: SparkSession,
    folder: str | Path,
    framework: str | Path | Framework = "default",
    period: str | Sequence[str] | None = None,
    *,
    level: str | None = None,
    indicators: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Indicator values of ``framework`` from the export, in the audit's long contract, computed on Spark.

    As :func:`safercities.audit.indicators.indicator_values` (analysts' view; no small-cell suppression):
    formulas over the incidents are counted on Spark in one pass per call, their intervals computed by
    :func:`safercities.audit.formula.evaluate`; imported values come from the export. ``indicators`` limits
    the result to some ids (the indicators they refer to are computed too).
    """
    fw = load_framework(framework)
    known = manifest(spark, folder)
    level = level or known.default_level
    wanted = list(indicators) if indicators is not None else list(fw.ids)
    chosen = _closure(fw, wanted)
    nodes = _nodes(chosen)
    ids, mapping, figures = _level(spark, folder, known, level)
    held = _small(spark, folder, "indicator_values")
    held = held[held["indicator_id"].isin([i.id for i in chosen]) & held["area_id"].isin(ids)]
    span = _span(spark, folder, known)
    labels = (
        _default_periods(chosen, held, span)
        if period is None
        else [period]
        if isinstance(period, str)
        else list(period)
    )
    periods = [parse_period(p) for p in labels]
    if not periods:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c in ("value", "lower", "upper", "se") else object) for c in VALUE_COLUMNS}
        )
    sums = _aggregates(spark, folder, known, nodes, periods, mapping) if nodes else pd.DataFrame()
    frames = []
    for j, p in enumerate(periods):
        values: dict[Aggregate, np.ndarray] = {}
        for i, node in enumerate(nodes):
            column = sums[f"a{i}_{j}"] if len(sums) else pd.Series(dtype=np.float64)
            if node.func == "count":
                got = column.reindex(ids, fill_value=0.0).to_numpy(np.float64)
                values[node] = got if span.covers(p) else np.full(len(ids), np.nan)
            else:
                values[node] = column.reindex(ids).to_numpy(np.float64)
        frames.append(_one_period(fw, chosen, p, ids, values, figures, held[held["period"] == p.label], confidence))
    out = pd.concat(frames, ignore_index=True)[VALUE_COLUMNS]
    out["source"] = out["source"].astype(object)  # may hold None: an imported value given without its source
    return out[out["indicator_id"].isin(wanted)].reset_index(drop=True)


def spark_indicator(
    spark: SparkSession,
    folder: str | Path,
    indicator_id: str,
    period: str | Sequence[str] | None = None,
    *,
    framework: str | Path | Framework = "default",
    level: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One indicator of ``framework`` for every area of ``level`` and period, computed on Spark."""
    return spark_indicator_values(
        spark, folder, framework, period, level=level, indicators=[indicator_id], confidence=confidence
    )


def _one_period(
    fw: Framework,
    chosen: list[Indicator],
    period: Period,
    ids: np.ndarray,
    values: dict[Aggregate, np.ndarray],
    figures: dict[str, np.ndarray],
    held: pd.DataFrame,
    confidence: float,
) -> pd.DataFrame:
    """The long rows of one period: imported values as held, formulas evaluated in dependency order."""
    known: dict[str, Estimate] = {}
    sources: dict[str, np.ndarray] = {}
    by_indicator = {k: g.set_index("area_id") for k, g in held.groupby("indicator_id")}
    source = _SparkSource(ids, values, figures, known)
    empty = pd.DataFrame(columns=["value", "lower", "upper", "se", "source"], dtype=object)
    for indicator in chosen:
        if indicator.formula is None:
            got = by_indicator.get(indicator.id, empty).reindex(ids)
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
    nan = np.full(len(ids), np.nan)
    parts: list[pd.DataFrame] = []
    for indicator in (i for i in fw.indicators if i.id in known):  # in the framework's order, as the audit
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
