"""The embedded DuckDB store, with the spatial extension loaded offline from its wheel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import duckdb_extension_spatial
import pandas as pd
import pyarrow as pa

from safercities.errors import WorkspaceError, check_choice
from safercities.schema import SCHEMA_VERSION, TABLES, create_statements
from safercities.store.base import PERIODS


def spatial_extension_path() -> Path:
    """The ``spatial.duckdb_extension`` file shipped in the pinned wheel for this DuckDB version."""
    root = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = root / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.exists():
        found = sorted(root.glob("*/spatial.duckdb_extension"))
        raise WorkspaceError(
            f"DuckDB {duckdb.__version__} has no matching spatial extension (found {[p.parent.name for p in found]}); "
            "install duckdb and duckdb-extension-spatial at the same version."
        )
    return path


def connect(path: str | Path = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the spatial extension loaded and UTC as the session time zone."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        raise WorkspaceError(f"cannot open the store {path}: {exc}") from exc
    con.execute(f"LOAD '{spatial_extension_path()}'")
    con.execute("SET TimeZone = 'UTC'")
    return con


class DuckDBStore:
    """A workspace's tables in one DuckDB file."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.con = connect(path, read_only=read_only)
        if not read_only:
            for statement in create_statements():
                self.con.execute(statement)
            self.con.execute(
                "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", [str(SCHEMA_VERSION)]
            )

    # -- transactions and generic access -------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: everything inside commits together or rolls back together."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def append(self, table: str, rows: pa.Table) -> None:
        """Insert an Arrow table whose column names are a subset of the table's columns."""
        columns = [c for c in rows.column_names if c in TABLES[table]]
        select = ", ".join(
            f"ST_GeomFromWKB(new_rows.{c})" if TABLES[table][c].startswith("GEOMETRY") else f"new_rows.{c}"
            for c in columns
        )
        self.con.register("new_rows", rows)
        try:
            self.con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM new_rows")
        finally:
            self.con.unregister("new_rows")

    def read(self, table: str, where: str | None = None, params: list[object] | None = None) -> pd.DataFrame:
        """A canonical table as a data frame (geometry as WKB bytes)."""
        cols = ", ".join(f"ST_AsWKB({c}) AS {c}" if t.startswith("GEOMETRY") else c for c, t in TABLES[table].items())
        sql = f"SELECT {cols} FROM {table}" + (f" WHERE {where}" if where else "")
        return self.con.execute(sql, params or []).df()

    def count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def table_names(self) -> Iterator[str]:
        yield from TABLES

    def close(self) -> None:
        self.con.close()

    # -- imports ----------------------------------------------------------------------------------
    def next_import_id(self) -> int:
        row = self.con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
        return int(row[0]) if row else 1

    def find_import(self, kind: str, sha256: str) -> int | None:
        row = self.con.execute(
            "SELECT import_id FROM imports WHERE kind = ? AND sha256 = ? AND status = 'committed'", [kind, sha256]
        ).fetchone()
        return int(row[0]) if row else None

    def delete_import(self, import_id: int) -> None:
        """Remove what one import brought; its log entry stays, marked 'replaced'."""
        for table in ("incidents", "rejects", "areas", "offence_codes"):
            self.con.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
        self.con.execute("UPDATE imports SET status = 'replaced' WHERE import_id = ?", [import_id])

    def existing_incident_ids(self, ids: pa.Array) -> pa.Table:
        """Which of these incident ids the store already holds, with the import that brought them."""
        self.con.register("candidate_ids", pa.table({"incident_id": ids}))
        try:
            return self.con.execute(
                "SELECT DISTINCT i.incident_id, i.import_id FROM incidents i JOIN candidate_ids c USING (incident_id)"
            ).fetch_arrow_table()
        finally:
            self.con.unregister("candidate_ids")

    def replace_offence_codes(self, rows: pa.Table) -> None:
        """Insert local offence codes, replacing the ICCS code of those already known."""
        self.con.register("new_codes", rows)
        try:
            self.con.execute("DELETE FROM offence_codes WHERE local_code IN (SELECT local_code FROM new_codes)")
            self.con.execute("INSERT INTO offence_codes SELECT local_code, local_label, iccs_code, import_id FROM new_codes")
        finally:
            self.con.unregister("new_codes")

    def iccs_sections(self) -> list[str]:
        """The ICCS level-1 sections the city records (its offence table and its incidents)."""
        rows = self.con.execute(
            "SELECT DISTINCT substr(iccs_code, 1, 2) AS s FROM offence_codes "
            "UNION SELECT DISTINCT substr(iccs_code, 1, 2) FROM incidents ORDER BY 1"
        ).fetchall()
        return [r[0] for r in rows]

    # -- areas ------------------------------------------------------------------------------------
    def areas(self) -> pd.DataFrame:
        """Areas with their geometry as WKB ``bytes`` (shapely does not take DuckDB's bytearray)."""
        frame = self.read("areas")
        frame["geometry"] = [bytes(g) for g in frame["geometry"]]  # one per area, not per incident
        return frame

    # -- the count cube ---------------------------------------------------------------------------
    def cube(self, by: str, lineage: pd.DataFrame, sections: list[str], timezone: str) -> pd.DataFrame:
        """Counts by area x period x ICCS section, with a zero for every empty combination.

        ``lineage`` maps each finest-level area_id to the area_id of the level asked for;
        periods are in the city's local time (``timezone``), from the first to the last incident.
        """
        check_choice("by", by, PERIODS, "cube")
        self.con.register("lineage", pa.Table.from_pandas(lineage[["area_id", "target_id"]], preserve_index=False))
        self.con.register("sections", pa.table({"iccs_section": pa.array(sections, pa.string())}))
        step = {"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months", "year": "1 year"}[by]
        try:
            return self.con.execute(
                f"""
                WITH events AS (
                    SELECT l.target_id AS area_id,
                           date_trunc('{by}', timezone(?, i.occurred_from))::DATE AS period,
                           substr(i.iccs_code, 1, 2) AS iccs_section
                    FROM incidents i JOIN lineage l ON i.area_id = l.area_id
                ),
                counts AS (
                    SELECT area_id, period, iccs_section, count(*) AS count FROM events GROUP BY ALL
                ),
                periods AS (
                    SELECT unnest(generate_series(min(period), max(period), INTERVAL '{step}'))::DATE AS period
                    FROM events
                ),
                targets AS (SELECT DISTINCT target_id AS area_id FROM lineage)
                SELECT t.area_id, p.period, s.iccs_section, coalesce(c.count, 0)::BIGINT AS count
                FROM targets t CROSS JOIN periods p CROSS JOIN sections s
                LEFT JOIN counts c
                  ON c.area_id = t.area_id AND c.period = p.period AND c.iccs_section = s.iccs_section
                ORDER BY t.area_id, p.period, s.iccs_section
                """,
                [timezone],
            ).df()
        finally:
            self.con.unregister("lineage")
            self.con.unregister("sections")
