"""A workspace written out as GeoParquet, for engines that run beyond one machine (Spark, DuckDB, Sedona).

Layout of an export folder::

    manifest.json                 what, from which workspace, CRS, time zone, counts per year
    incidents/year=2023/part-2023-01.parquet   one file per local month, partitioned by local year
    areas.parquet                 GeoParquet: every area with its geometry and its population at its level
    lineage.parquet               level, area_id (finest), target_id: the finest area's ancestor at each level
    offence_codes.parquet         local code -> ICCS code
    indicator_values.parquet      the imported indicator values (the latest import of each)
    imports.parquet               the import ledger: which file (SHA-256) brought the rows, when, who

The incidents are GeoParquet 1.0 (https://geoparquet.org/releases/v1.0.0/): a ``geometry`` column of WKB
points in the workspace's projected CRS, declared in the ``geo`` key of every file's metadata, with the CRS
as PROJJSON. ``year`` is the calendar year of ``occurred_from`` on the city's wall clock, a Hive-style
partition that Spark, DuckDB and Arrow read as a column and use to skip whole years.

Rows are read from the store one local month at a time, through the store interface, so an export of tens
of millions of incidents needs the memory of one month, and works from DuckDB and PostgreSQL alike.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from safercities.errors import InputError, WorkspaceError
from safercities.ingest.areas import lineage
from safercities.schema import TABLES
from safercities.workspace import Workspace

FORMAT = "safercities-geoparquet"
FORMAT_VERSION = 1
GEOPARQUET_VERSION = "1.0.0"
MANIFEST = "manifest.json"
INCIDENTS = "incidents"
PARTITION = "year"
"""The Hive partition column of the incidents: the local calendar year of occurrence."""

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class Manifest:
    """What an export folder holds (``manifest.json``)."""

    workspace: str
    crs: str
    timezone: str
    default_level: str
    levels: tuple[str, ...]
    incidents: int
    incidents_by_year: dict[str, int]
    exported_at: str
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    safercities_version: str = ""
    files: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        payload = {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}
        return json.dumps(payload, indent=2, ensure_ascii=False)


def read_manifest(folder: Path | str) -> Manifest:
    """The manifest of an export folder, or an :class:`InputError` saying why the folder is not one."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise InputError(
            "not a safercities GeoParquet export (no manifest.json)",
            file=Path(folder),
            hint="write one with safercities.scale.export.export_geoparquet(ws, folder)",
        )
    return parse_manifest(path.read_text(encoding="utf-8"), str(path))


def parse_manifest(text: str, where: str) -> Manifest:
    """A manifest from its JSON text (read from a local file or from object storage)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"manifest.json does not parse: {exc.msg}", file=where, row=exc.lineno) from exc
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or int(data.get("format_version", 0)) > FORMAT_VERSION
    ):
        got = data if not isinstance(data, dict) else f"{data.get('format')!r} version {data.get('format_version')!r}"
        raise InputError(
            f"manifest.json is of format {got}; this safercities reads {FORMAT!r} up to version {FORMAT_VERSION}",
            file=where,
        )
    known = set(Manifest.__dataclass_fields__)
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    try:
        return Manifest(**values)
    except TypeError as exc:
        raise InputError(f"manifest.json lacks a field: {exc}", file=where) from exc


# -- GeoParquet pieces ------------------------------------------------------------------------------------
def geo_metadata(crs: Any, geometry_types: list[str], bbox: list[float] | None = None) -> dict[str, Any]:
    """The ``geo`` file metadata of GeoParquet 1.0 for one WKB column named ``geometry`` in ``crs``."""
    import pyproj

    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": sorted(geometry_types),
        "crs": pyproj.CRS.from_user_input(crs).to_json_dict(),
    }
    if bbox is not None:
        column["bbox"] = [float(v) for v in bbox]
    return {"version": GEOPARQUET_VERSION, "primary_column": "geometry", "columns": {"geometry": column}}


def point_wkb(x: np.ndarray, y: np.ndarray) -> pa.Array:
    """WKB points (little-endian, 21 bytes each) for coordinate arrays, built without a loop over points."""
    n = len(x)
    record = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])  # packed: 21 bytes
    points = np.empty(n, dtype=record)
    points["order"], points["kind"], points["x"], points["y"] = 1, 1, x, y
    offsets = np.arange(0, record.itemsize * (n + 1), record.itemsize, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(points.tobytes())])


def incident_schema(crs: str) -> pa.Schema:
    """The Arrow schema of the incident files: the canonical columns, then the WKB ``geometry`` (with ``geo``)."""
    fields = [
        pa.field(c, _ARROW_TYPES[t.split()[0]], nullable="NOT NULL" not in t) for c, t in TABLES[INCIDENTS].items()
    ]
    fields.append(pa.field("geometry", pa.binary(), nullable=False))
    geo = geo_metadata(crs, ["Point"])
    return pa.schema(fields, metadata={b"geo": json.dumps(geo).encode()})


# -- the export ---------------------------------------------------------------------------------------------
def _month_windows(
    first: pd.Timestamp, last: pd.Timestamp, timezone: str
) -> list[tuple[pd.Timestamp, datetime, datetime]]:
    """Local months from ``first`` to ``last`` (wall-clock times) as (month, start UTC, end UTC), contiguous."""
    months = pd.date_range(first.to_period("M").to_timestamp(), last.to_period("M").to_timestamp(), freq="MS")
    bounds = pd.DatetimeIndex([*months, months[-1] + pd.DateOffset(months=1)])
    # a month that starts in a clock change starts at its first instant: the first of two midnights, or the
    # first minute after a skipped one
    utc = bounds.tz_localize(timezone, ambiguous=np.ones(len(bounds), dtype=bool), nonexistent="shift_forward")
    utc = utc.tz_convert("UTC")
    return [(months[k], utc[k].to_pydatetime(), utc[k + 1].to_pydatetime()) for k in range(len(months))]


def _incident_table(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    columns = [pa.array(frame[f.name], f.type, from_pandas=True) for f in schema if f.name != "geometry"]
    geometry = point_wkb(frame["x"].to_numpy(np.float64), frame["y"].to_numpy(np.float64))
    return pa.Table.from_arrays([*columns, geometry], schema=schema)


def _clear(folder: Path, overwrite: bool) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise InputError(
                "the export folder is not empty", file=folder, hint="choose an empty folder, or pass overwrite=True"
            )
        if not (folder / MANIFEST).exists():
            raise InputError(
                "the folder holds files that are not a safercities export: refusing to overwrite them", file=folder
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def _write_areas(ws: Workspace, path: Path) -> list[str]:
    """Areas as GeoParquet (geopandas writes the ``geo`` metadata), with each area's population at its level.

    Returns the levels."""
    areas = ws.areas()
    levels = sorted(areas["level"].unique())
    if not levels:
        raise WorkspaceError("the workspace has no areas yet: run `safercities import areas FILE` first")
    level_population = pd.concat([ws.populations(level) for level in levels])
    areas["level_population"] = level_population.reindex(areas["area_id"]).to_numpy(np.float64)
    areas.to_parquet(path, index=False, schema_version=GEOPARQUET_VERSION)
    return [str(level) for level in levels]


def _lineage_table(ws: Workspace, levels: list[str]) -> pa.Table:
    areas = ws.store.areas()
    frames = [lineage(areas, level).dropna(subset=["target_id"]).assign(level=level) for level in levels]
    frame = pd.concat(frames, ignore_index=True)[["level", "area_id", "target_id"]]
    return pa.Table.from_pandas(frame.astype(str), preserve_index=False)


def _canonical(frame: pd.DataFrame, table: str) -> pa.Table:
    """A small canonical table with the Arrow types of its SQL columns (so that an empty one keeps them)."""
    types = {c: _ARROW_TYPES[t.split()[0]] for c, t in TABLES[table].items() if not t.startswith("GEOMETRY")}
    return pa.table({c: pa.array(frame[c], t, from_pandas=True) for c, t in types.items()})


def export_geoparquet(
    ws: Workspace, folder: Path | str, *, overwrite: bool = False, record: bool = True, progress: Progress = _quiet
) -> Manifest:
    """Write the workspace's incidents (GeoParquet, by local year) and its areas, lineage and ledger.

    The incidents are read one local month at a time; the export checks that every incident was written
    once (the per-year counts add up to the store's count) and records them in ``manifest.json``. With
    ``record`` (the default) the export is logged in the workspace's audit log, as data leaving it; a
    workspace opened read-only needs ``record=False``.
    """
    from safercities import __version__
    from safercities.audit.indicators import imported_values

    folder = Path(folder)
    _clear(folder, overwrite)
    timezone, crs = ws.config.timezone, ws.config.crs
    levels = _write_areas(ws, folder / "areas.parquet")
    pq.write_table(_lineage_table(ws, levels), folder / "lineage.parquet")
    pq.write_table(_canonical(ws.offence_codes(), "offence_codes"), folder / "offence_codes.parquet")
    pq.write_table(_canonical(imported_values(ws), "indicator_values"), folder / "indicator_values.parquet")
    pq.write_table(_canonical(ws.imports(), "imports"), folder / "imports.parquet")

    schema = incident_schema(crs)
    first, last = ws.store.time_span(timezone=timezone)
    by_year: dict[str, int] = {}
    files: list[str] = []
    if first is not None and last is not None:
        for month, start, end in _month_windows(first, last, timezone):
            frame = ws.store.read(INCIDENTS, "occurred_from >= ? AND occurred_from < ?", [start, end])
            if frame.empty:
                continue
            progress(f"incidents of {month:%Y-%m}: {len(frame):,}")
            year = f"{month.year:04d}"
            part = folder / INCIDENTS / f"{PARTITION}={year}" / f"part-{month:%Y-%m}.parquet"
            part.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(_incident_table(frame, schema), part, compression="zstd")
            by_year[year] = by_year.get(year, 0) + len(frame)
            files.append(str(part.relative_to(folder)))
    total = ws.store.count(INCIDENTS)
    if sum(by_year.values()) != total:
        raise WorkspaceError(
            f"the export wrote {sum(by_year.values()):,} incidents but the store holds {total:,}: "
            "the store changed during the export; run it again"
        )
    manifest = Manifest(
        workspace=ws.config.name,
        crs=crs,
        timezone=timezone,
        default_level=ws.default_level(),
        levels=tuple(levels),
        incidents=total,
        incidents_by_year=by_year,
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        safercities_version=__version__,
        files=tuple(files),
    )
    (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    if record:
        ws.record_change("export", "geoparquet", {"folder": str(folder), "incidents": total, "years": sorted(by_year)})
    return manifest


# -- reading the small tables back --------------------------------------------------------------------------
def read_lineage(folder: Path | str, level: str) -> pd.DataFrame:
    """area_id (finest) -> target_id at ``level``, as :func:`safercities.ingest.areas.lineage` gave at export."""
    manifest = read_manifest(folder)
    if level not in manifest.levels:
        raise InputError(f"unknown area level '{level}'; the export has {', '.join(manifest.levels)}")
    frame = pq.read_table(Path(folder) / "lineage.parquet").to_pandas()
    return frame.loc[frame["level"] == level, ["area_id", "target_id"]].reset_index(drop=True)


def read_areas(folder: Path | str) -> pd.DataFrame:
    """The exported areas (geometry as WKB bytes, in the workspace CRS)."""
    return pq.read_table(Path(folder) / "areas.parquet").to_pandas()


def read_table(folder: Path | str, name: str) -> pd.DataFrame:
    """One of the small tables of an export (offence_codes, indicator_values, imports)."""
    return pq.read_table(Path(folder) / f"{name}.parquet").to_pandas()


def area_km2(geometry_wkb: np.ndarray) -> np.ndarray:
    """Areas in square kilometres from WKB polygons in a projected CRS (metres), as the audit computes them."""
    return np.asarray(shapely.area(shapely.from_wkb(geometry_wkb)) / 1e6, dtype=np.float64)
