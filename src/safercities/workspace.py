"""A city's workspace: the single door to its data.

``init`` makes one (``safercities.toml`` + an embedded DuckDB store); ``open_workspace`` finds
one in a folder or above it, as git does. Every import is one transaction, logged with the
file's SHA-256, its row counts, the user and the time.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
import shapely

from safercities.config import CONFIG_NAME, WorkspaceConfig, load_config, save_config
from safercities.errors import InputError, WorkspaceError
from safercities.geo.assign import AreaIndex, fingerprint_of
from safercities.iccs import validate_codes
from safercities.ingest.areas import AreaColumns, lineage, read_areas
from safercities.ingest.incidents import ImportContext, check_offence_table, prepare_incidents
from safercities.ingest.mapping import Mapping, load_mapping, preset
from safercities.ingest.readers import read_table
from safercities.stats.rates import poisson_rate
from safercities.store import PERIODS, DuckDBStore, PostgresStore, new_database, open_store

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ImportResult:
    """What one import did: counts, reasons for rejects, warnings, and whether it was a repeat."""

    import_id: int
    kind: str
    file: str
    sha256: str
    rows_read: int
    accepted: int
    rejected: int
    already_imported: bool = False
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def current_user() -> str:
    """Who is acting, for the audit log (``SAFERCITIES_USER`` overrides the login name)."""
    try:
        return os.environ.get("SAFERCITIES_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> datetime:
    return datetime.now(UTC)


class Workspace:
    """One city: its settings and its store."""

    def __init__(self, root: Path, config: WorkspaceConfig, read_only: bool = False) -> None:
        self.root = root
        self.config = config
        self.store: DuckDBStore | PostgresStore = open_store(root, config.database, config.name, read_only=read_only)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    def __repr__(self) -> str:
        return f"Workspace({self.config.name!r}, {self.root})"

    # -- reading ---------------------------------------------------------------------------------
    def areas(self, level: str | None = None) -> gpd.GeoDataFrame:
        """Areas as a GeoDataFrame in the workspace CRS (one level, or all)."""
        frame = self.store.areas()
        geometry = gpd.GeoSeries(shapely.from_wkb(frame.pop("geometry").to_numpy()), crs=self.config.crs)
        areas = gpd.GeoDataFrame(frame, geometry=geometry)
        if level is not None:
            levels = sorted(areas["level"].unique())
            if level not in levels:
                raise InputError(f"unknown area level '{level}'; the workspace has {', '.join(levels) or 'no areas'}")
            areas = areas[areas["level"] == level].reset_index(drop=True)
        return areas

    def incidents(self) -> gpd.GeoDataFrame:
        """Incidents with points in the workspace CRS and times in the city's time zone."""
        frame = self.store.read("incidents")
        for column in ("occurred_from", "occurred_to", "reported_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(self.config.timezone)
        points = gpd.points_from_xy(frame["x"], frame["y"], crs=self.config.crs)
        return gpd.GeoDataFrame(frame, geometry=points)

    def rejects(self, import_id: int | None = None) -> pd.DataFrame:
        """Every row an import could not use, with file, row, column and reason."""
        if import_id is None:
            return self.store.read("rejects")
        return self.store.read("rejects", "import_id = ?", [import_id])

    def imports(self) -> pd.DataFrame:
        return self.store.read("imports")

    def offence_codes(self) -> pd.DataFrame:
        return self.store.read("offence_codes")

    # -- areas -----------------------------------------------------------------------------------
    def finest_areas(self) -> pd.DataFrame:
        """The areas incidents are placed in: those with no children."""
        areas = self.store.areas()
        parents = set(areas["parent_id"].dropna())
        return areas[~areas["area_id"].isin(parents)].sort_values("area_id").reset_index(drop=True)

    def area_index(self) -> tuple[AreaIndex, np.ndarray, tuple[float, float, float, float] | None]:
        """The point -> area index of the finest areas (cached on disk), their ids and lon/lat bounds."""
        finest = self.finest_areas()
        if finest.empty:
            raise WorkspaceError("the workspace has no areas yet: run `safercities import areas FILE` first")
        geoms = shapely.from_wkb(finest["geometry"].to_numpy())
        cache = self.root / ".cache" / "area_index.bin"
        index = None
        if cache.exists():
            try:
                index = AreaIndex.from_bytes(cache.read_bytes(), expect_fingerprint=fingerprint_of(geoms))
            except (ValueError, InputError):
                index = None
        if index is None:
            index = AreaIndex.build(geoms)
            cache.parent.mkdir(exist_ok=True)
            cache.write_bytes(index.to_bytes())
        bounds = pyproj.Transformer.from_crs(self.config.crs, "EPSG:4326", always_xy=True).transform_bounds(
            *shapely.total_bounds(geoms)
        )
        return index, finest["area_id"].to_numpy(object), tuple(bounds)  # type: ignore[return-value]

    def import_areas(
        self,
        path: Path | str,
        *,
        id: str,  # noqa: A002 - the user's word for it
        name: str = "",
        population: str = "",
        level: str = "",
        parent: str = "",
        layer: str | None = None,
        source_crs: str | None = None,
        encoding: str | None = None,
        default_level: str = "area",
        replace: bool = False,
        progress: Progress = _quiet,
    ) -> ImportResult:
        """Import area boundaries (GeoJSON, GeoPackage, Shapefile, CSV with WKT) into the workspace CRS."""
        path = Path(path)
        if not path.exists():
            raise InputError("file not found", file=path)
        sha = file_sha256(path)
        repeat = self.repeated_import("areas", path, sha, replace)
        if repeat is not None:
            return repeat
        progress("reading areas")
        held = self.store.areas()
        result = read_areas(
            path,
            AreaColumns(id=id, name=name, population=population, level=level, parent=parent),
            self.config.crs,
            default_level=default_level,
            layer=layer,
            source_crs=source_crs,
            encoding=encoding,
            known_parents=frozenset(held["area_id"]),
        )
        areas = result.areas
        rejects = result.rejects.assign(reason_code=result.rejects.get("reason_code", "invalid_area"))
        clash = areas["area_id"].isin(set(held["area_id"]))
        if clash.any() and not replace:
            dup = pd.DataFrame(
                {
                    "row_number": areas.loc[clash, "source_row"].to_numpy(),
                    "column_name": id,
                    "reason_code": "duplicate_id",
                    "reason": "area id '" + areas.loc[clash, "area_id"].astype(str) + "' is already in the workspace",
                    "raw": None,
                }
            )
            rejects = pd.concat([rejects, dup], ignore_index=True)
            areas = areas[~clash]
        rows = pa.table(
            {
                "area_id": pa.array(areas["area_id"].astype(str).to_numpy(object), pa.string()),
                "name": pa.array(areas["name"].to_numpy(object), pa.string()),
                "level": pa.array(areas["level"].astype(str).to_numpy(object), pa.string()),
                "parent_id": pa.array(areas["parent_id"].to_numpy(object), pa.string()),
                "population": pa.array(areas["population"].to_numpy(float), pa.float64(), from_pandas=True),
                "geometry": pa.array(shapely.to_wkb(areas.geometry.to_numpy()), pa.binary()),
            }
        )
        return self.commit_import("areas", path, sha, replace, rows, rejects, result.rows_read, result.warnings, {})

    # -- incidents -------------------------------------------------------------------------------
    def import_offences(self, path: Path | str) -> int:
        """Add or update local offence codes -> ICCS (a CSV: local_code, local_label, iccs_code)."""
        path = Path(path)
        table = check_offence_table(self._read_offence_csv(path), path, validate_codes)
        with self.store.transaction():
            self._upsert_offences(table, None)
            self.record_change("import", "offence_codes", {"file": str(path), "codes": len(table)})
        return len(table)

    def _read_offence_csv(self, path: Path) -> pd.DataFrame:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", comment=None)
        except (FileNotFoundError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot read the offence table: {exc}", file=path) from exc

    def _upsert_offences(self, table: pd.DataFrame, import_id: int | None) -> None:
        rows = pa.table(
            {
                "local_code": pa.array(table["local_code"].to_numpy(object), pa.string()),
                "local_label": pa.array(table["local_label"].to_numpy(object), pa.string()),
                "iccs_code": pa.array(table["iccs_code"].to_numpy(object), pa.string()),
                "import_id": pa.array([import_id] * len(table), pa.int32()),
            }
        )
        self.store.replace_offence_codes(rows)

    def import_incidents(
        self,
        path: Path | str,
        *,
        mapping: Mapping | Path | str | None = None,
        preset_name: str | None = None,
        replace: bool = False,
        progress: Progress = _quiet,
    ) -> ImportResult:
        """Import a police file: every row stored or rejected with its reason, all in one transaction."""
        path = Path(path)
        if mapping is None and preset_name is None:
            raise InputError("give a mapping file (--mapping MAP.toml) or a preset (--preset NAME)")
        resolved = preset(preset_name) if preset_name else mapping if isinstance(mapping, Mapping) else None
        if resolved is None:
            resolved = load_mapping(Path(str(mapping)))
        if not path.exists():
            raise InputError("file not found", file=path)
        progress("hashing the file")
        sha = file_sha256(path)
        repeat = self.repeated_import("incidents", path, sha, replace)
        if repeat is not None:
            return repeat
        offences = self.store.read("offence_codes")[["local_code", "local_label", "iccs_code"]]
        if resolved.offences.table is not None:
            given = check_offence_table(
                self._read_offence_csv(resolved.offences.table), resolved.offences.table, validate_codes
            )
            offences = pd.concat([offences[~offences["local_code"].isin(given["local_code"])], given])
        else:
            given = None
        replacing = self.store.find_import("incidents", sha) if replace else None
        progress("reading the file")
        raw = read_table(path, resolved.source)
        index, area_ids, bounds = self.area_index()
        prepared_id = sha[:12]
        context = ImportContext(
            timezone=self.config.timezone,
            crs=self.config.pyproj_crs,
            offences=offences.reset_index(drop=True),
            area_index=index,
            area_ids=area_ids,
            city_lonlat_bounds=bounds,
            existing_ids=lambda ids: self.store.existing_incident_ids(ids, replacing).to_pandas(),
            id_prefix=prepared_id,
            now=np.datetime64(_now().replace(tzinfo=None), "us"),
        )
        progress("checking and placing incidents")
        prepared = prepare_incidents(raw, resolved, context)
        progress("writing to the store")
        options: dict[str, object] = {"mapping": resolved.origin, "encoding": raw.encoding, "delimiter": raw.delimiter}
        return self.commit_import(
            "incidents",
            path,
            sha,
            replace,
            prepared.incidents,
            prepared.rejects,
            prepared.rows_read,
            prepared.warnings,
            options,
            offences=given,
        )

    # -- the import ledger -----------------------------------------------------------------------
    def repeated_import(self, kind: str, path: Path, sha: str, replace: bool) -> ImportResult | None:
        """The earlier import of the same file (same kind, same SHA-256), unless ``replace``; else None."""
        earlier = self.store.find_import(kind, sha)
        if earlier is None or replace:
            return None
        log = self.store.read("imports", "import_id = ?", [earlier]).iloc[0]
        return ImportResult(
            import_id=earlier,
            kind=kind,
            file=str(path),
            sha256=sha,
            rows_read=int(log["rows_read"]),
            accepted=0,
            rejected=0,
            already_imported=True,
        )

    def commit_import(
        self,
        kind: str,
        path: Path,
        sha: str,
        replace: bool,
        rows: pa.Table,
        rejects: pd.DataFrame,
        rows_read: int,
        warnings: tuple[str, ...],
        options: dict[str, object],
        offences: pd.DataFrame | None = None,
        related: dict[str, pa.Table] | None = None,
    ) -> ImportResult:
        """Write an import in one transaction: its rows into table ``kind``, its rejects, the ledger row, the log.

        ``rejects`` has columns row_number, column_name, reason_code, reason, raw. ``related`` holds rows for
        other tables of the same import (an OCDS package's bids and awards, say), written in the same
        transaction and stamped with the same import_id. Every module that imports a
        file (indicators, surveys, fieldwork, procurement, plans) goes through here, so that a failed import
        leaves the store as it was and a repeated one is recognised by its SHA-256.
        """
        started = _now()
        with self.store.transaction():
            earlier = self.store.find_import(kind, sha)
            if earlier is not None:
                if not replace:  # another process imported the same file meanwhile
                    raise WorkspaceError(f"{path}: this file was imported meanwhile (import {earlier})")
                self.store.delete_import(earlier)
            import_id = self.store.next_import_id()
            if offences is not None:
                self._upsert_offences(offences, import_id)
            n_rows = rows.num_rows
            self.store.append(kind, rows.append_column("import_id", pa.array([import_id] * n_rows, pa.int32())))
            for table, extra in (related or {}).items():
                stamp = pa.array([import_id] * extra.num_rows, pa.int32())
                self.store.append(table, extra.append_column("import_id", stamp))
            if len(rejects):
                frame = rejects.assign(import_id=import_id, file=str(path))
                frame["raw"] = frame["raw"].astype(object).where(frame["raw"].notna(), None)
                self.store.append("rejects", pa.Table.from_pandas(frame, preserve_index=False))
            self.store.append(
                "imports",
                pa.table(
                    {
                        "import_id": pa.array([import_id], pa.int32()),
                        "kind": [kind],
                        "file": [str(path)],
                        "sha256": [sha],
                        "rows_read": pa.array([rows_read], pa.int64()),
                        "rows_accepted": pa.array([n_rows], pa.int64()),
                        "rows_rejected": pa.array([len(rejects)], pa.int64()),
                        "username": [current_user()],
                        "started_at": pa.array([started], pa.timestamp("us", tz="UTC")),
                        "finished_at": pa.array([_now()], pa.timestamp("us", tz="UTC")),
                        "options": [json.dumps(options)],
                        "warnings": [json.dumps(list(warnings), ensure_ascii=False)],
                        "status": ["committed"],
                    }
                ),
            )
            self.record_change(
                "replace" if earlier else "import", kind, {"import_id": import_id, "file": str(path), "sha256": sha}
            )
        if kind == "areas":
            (self.root / ".cache" / "area_index.bin").unlink(missing_ok=True)
        by_reason = rejects["reason_code"].value_counts().to_dict() if len(rejects) else {}
        return ImportResult(
            import_id=import_id,
            kind=kind,
            file=str(path),
            sha256=sha,
            rows_read=rows_read,
            accepted=n_rows,
            rejected=len(rejects),
            rejects_by_reason={str(k): int(v) for k, v in by_reason.items()},
            warnings=warnings,
        )

    def record_change(self, action: str, target: str, detail: dict[str, object]) -> None:
        """One row of the audit log: who (the current user), when, what (action, target, detail as JSON)."""
        self.store.append(
            "audit_log",
            pa.table(
                {
                    "changed_at": pa.array([_now()], pa.timestamp("us", tz="UTC")),
                    "username": [current_user()],
                    "action": [action],
                    "target": [target],
                    "detail": [json.dumps(detail, ensure_ascii=False)],
                }
            ),
        )

    # -- the count cube and rates ----------------------------------------------------------------
    def default_level(self) -> str:
        finest = self.finest_areas()
        if finest.empty:
            raise WorkspaceError("the workspace has no areas yet: run `safercities import areas FILE` first")
        return str(finest["level"].mode().iloc[0])

    def cube(self, by: str = "month", level: str | None = None) -> pd.DataFrame:
        """Incident counts by area x period x ICCS section, zeros included (periods in local time)."""
        if by not in PERIODS:
            raise InputError(f"The 'by' parameter of cube must be one of {', '.join(PERIODS)}. Got {by!r} instead.")
        level = level or self.default_level()
        areas = self.store.areas()
        links = lineage(areas, level).dropna(subset=["target_id"])
        sections = self.store.iccs_sections()
        return self.store.cube(by, links, sections, self.config.timezone)

    def populations(self, level: str) -> pd.Series:
        """Population of each area at ``level``: its own figure, else the sum of its finest areas'."""
        areas = self.store.areas().set_index("area_id")
        links = lineage(areas.reset_index(), level).dropna(subset=["target_id"])
        summed = (
            links.assign(population=areas["population"].reindex(links["area_id"]).to_numpy())
            .groupby("target_id")["population"]
            .sum(min_count=1)
        )
        own = areas.loc[areas["level"] == level, "population"]
        return own.fillna(summed.reindex(own.index))

    def rates(
        self, by: str = "year", level: str | None = None, per: float = 100_000, confidence: float = 0.95
    ) -> pd.DataFrame:
        """Rates per ``per`` inhabitants by area x period x ICCS section with exact Poisson intervals."""
        level = level or self.default_level()
        cube = self.cube(by=by, level=level)
        population = self.populations(level)
        pop = population.reindex(cube["area_id"]).to_numpy(dtype=float)
        result = poisson_rate(
            cube["count"].to_numpy(),
            np.nan_to_num(pop, nan=0.0),
            per=per,
            confidence=confidence,
            min_count=self.config.rates.min_count,
            min_population=self.config.rates.min_population,
        )
        frame = result.to_frame().drop(columns=["count"])
        return pd.concat([cube.reset_index(drop=True), frame], axis=1)


def init(
    folder: Path | str,
    *,
    name: str,
    crs: str,
    lang: str = "en",
    timezone: str = "UTC",
    database: str | None = None,
) -> Workspace:
    """Make a workspace in ``folder``: ``safercities.toml`` and an empty store.

    ``database`` is a DuckDB file name in the folder or a ``postgresql://`` URL (default: the
    ``SAFERCITIES_DATABASE`` environment variable, else ``store.duckdb``).
    """
    root = Path(folder)
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root} is already a workspace ({CONFIG_NAME} exists)")
    config = WorkspaceConfig(name=name, crs=crs, lang=lang, timezone=timezone)
    chosen = database or os.environ.get("SAFERCITIES_DATABASE") or config.database
    config = config.with_(database=new_database(root, chosen, name))
    root.mkdir(parents=True, exist_ok=True)
    save_config(root, config)
    workspace = Workspace(root, config)
    workspace.record_change("init", "workspace", {"name": name, "crs": crs, "lang": lang, "timezone": timezone})
    return workspace


def find_root(start: Path | str | None = None) -> Path:
    """The workspace folder: ``start`` or the first folder above it holding ``safercities.toml``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).exists():
            return folder
    raise WorkspaceError(f"no workspace in {here} or above it: run `safercities init DIR` or pass -w/--workspace DIR")


def open_workspace(folder: Path | str | None = None, read_only: bool = False) -> Workspace:
    """Open the workspace in ``folder`` (or the one the current folder is inside)."""
    root = find_root(folder)
    return Workspace(root, load_config(root), read_only=read_only)
