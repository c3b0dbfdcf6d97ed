"""The embedded DuckDB store, with the spatial extension loaded offline from its wheel."""

from __future__ import annotations

import contextlib
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
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
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
        """All or nothing: everything inside commits together or rolls back together. A failure of the
        database itself (a full disk, say) becomes one clear WorkspaceError, the store left as it was."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except duckdb.Error as exc:
            self._rollback()
            raise WorkspaceError(f"the store {self.path} could not write the change, nothing was kept: {exc}") from exc
        except BaseException:
            self._rollback()
            raise
        try:
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            self._rollback()
            raise WorkspaceError(f"the store {self.path} could not commit the change, nothing was kept: {exc}") from exc

    def _rollback(self) -> None:
        with contextlib.suppress(duckdb.Error):  # the transaction may be gone already (DuckDB aborted it)
            self.con.execute("ROLLBACK")

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
        return self.con.execute(sql, params or []).to_arrow_table().to_pandas(date_as_object=False)

    def delete(self, table: str, where: str, params: list[object]) -> int:
        """Delete the rows of a canonical table that match ``where``; how many went."""
        if table not in TABLES:
            raise KeyError(table)
        row = self.con.execute(f"DELETE FROM {table} WHERE {where} RETURNING 1", params).fetchall()
        return len(row)

    def update(self, table: str, values: dict[str, object], where: str, params: list[object]) -> int:
        """Set columns of the rows that match ``where``; how many changed."""
        if table not in TABLES or not set(values) <= set(TABLES[table]):
            raise KeyError(f"{table}: {sorted(values)}")
        assignments = ", ".join(f"{column} = ?" for column in values)
        rows = self.con.execute(
            f"UPDATE {table} SET {assignments} WHERE {where} RETURNING 1", [*values.values(), *params]
        ).fetchall()
        return len(rows)

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
        for table in (t for t, columns in TABLES.items() if "import_id" in columns and t != "imports"):
            self.con.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id])
        self.con.execute("UPDATE imports SET status = 'replaced' WHERE import_id = ?", [import_id])

    def existing_incident_ids(self, ids: pa.Array, ignore_import: int | None = None) -> pa.Table:
        """Which of these incident ids the store already holds (outside ``ignore_import``), and from which import."""
        self.con.register("candidate_ids", pa.table({"incident_id": ids}))
        try:
            return self.con.execute(
                "SELECT DISTINCT i.incident_id, i.import_id FROM incidents i JOIN candidate_ids c USING (incident_id) "
                "WHERE i.import_id IS DISTINCT FROM ?",
                [ignore_import],
            ).to_arrow_table()
        finally:
            self.con.unregister("candidate_ids")

    def replace_offence_codes(self, rows: pa.Table) -> None:
        """Insert local offence codes, replacing the ICCS code of those already known."""
        self.con.register("new_codes", rows)
        try:
            self.con.execute("DELETE FROM offence_codes WHERE local_code IN (SELECT local_code FROM new_codes)")
            self.con.execute(
                "INSERT INTO offence_codes SELECT local_code, local_label, iccs_code, import_id FROM new_codes"
            )
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
            return (
                self.con.execute(
                    f"""
                WITH buckets AS NOT MATERIALIZED (  -- quarter hours (UTC): every UTC offset is a multiple of 15 minutes
                    SELECT area_id, substr(iccs_code, 1, 2) AS iccs_section,
                           epoch_us(occurred_from) // 900000000 AS q15
                    FROM incidents
                ),
                local AS (  -- local time computed once per distinct quarter hour, not once per incident
                    SELECT q15, date_trunc('{by}', timezone(?, to_timestamp(q15 * 900)))::DATE AS period
                    FROM (SELECT DISTINCT q15 FROM buckets)
                ),
                finest AS (
                    SELECT area_id, period, iccs_section, count(*) AS count
                    FROM buckets JOIN local USING (q15) GROUP BY ALL
                ),
                counts AS (  -- rolled up to the level asked for after counting
                    SELECT l.target_id AS area_id, period, iccs_section, sum(count) AS count
                    FROM finest JOIN lineage l USING (area_id) GROUP BY ALL
                ),
                periods AS (
                    SELECT unnest(generate_series(min(period), max(period), INTERVAL '{step}'))::DATE AS period
                    FROM counts
                ),
                targets AS (SELECT DISTINCT target_id AS area_id FROM lineage)
                SELECT t.area_id, p.period, s.iccs_section, coalesce(c.count, 0)::BIGINT AS count
                FROM targets t CROSS JOIN periods p CROSS JOIN sections s
                LEFT JOIN counts c
                  ON c.area_id = t.area_id AND c.period = p.period AND c.iccs_section = s.iccs_section
                ORDER BY t.area_id, p.period, s.iccs_section
                """,
                    [timezone],
                )
                .to_arrow_table()
                .to_pandas(date_as_object=False)
            )
        finally:
            self.con.unregister("lineage")
            self.con.unregister("sections")

    # -- selections for the analytics -------------------------------------------------------------
    @staticmethod
    def _selection(iccs: str | None, start: str | None, end: str | None, timezone: str) -> tuple[str, list[object]]:
        """WHERE clause for an ICCS code prefix and a local-time [start, end) window."""
        clauses: list[str] = ["TRUE"]
        params: list[object] = []
        if iccs:
            clauses.append("starts_with(iccs_code, ?)")
            params.append(iccs)
        if start:
            clauses.append("timezone(?, occurred_from) >= ?::TIMESTAMP")
            params += [timezone, start]
        if end:
            clauses.append("timezone(?, occurred_from) < ?::TIMESTAMP")
            params += [timezone, end]
        return " AND ".join(clauses), params

    def incident_points(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> pa.Table:
        """x, y (workspace CRS), area_id and occurred_from of the selected incidents."""
        where, params = self._selection(iccs, start, end, timezone)
        return self.con.execute(
            f"SELECT x, y, area_id, occurred_from FROM incidents WHERE {where}", params
        ).to_arrow_table()

    def time_span(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last occurrence (local time) of the selected incidents."""
        where, params = self._selection(iccs, start, end, timezone)
        row = self.con.execute(
            f"SELECT min(timezone(?, occurred_from)), max(timezone(?, occurred_from)) FROM incidents WHERE {where}",
            [timezone, timezone, *params],
        ).fetchone()
        if row is None or row[0] is None:
            return None, None
        return pd.Timestamp(row[0]), pd.Timestamp(row[1])

    def incident_times(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> pd.DataFrame:
        """Local (wall-clock) occurred_from and occurred_to of the selected incidents."""
        where, params = self._selection(iccs, start, end, timezone)
        return (
            self.con.execute(
                f"SELECT timezone(?, occurred_from) AS occurred_from, timezone(?, occurred_to) AS occurred_to "
                f"FROM incidents WHERE {where}",
                [timezone, timezone, *params],
            )
            .to_arrow_table()
            .to_pandas()
        )

    def area_counts(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> pd.DataFrame:
        """Selected incidents per finest area (areas without any are absent)."""
        where, params = self._selection(iccs, start, end, timezone)
        return (
            self.con.execute(f"SELECT area_id, count(*) AS count FROM incidents WHERE {where} GROUP BY ALL", params)
            .to_arrow_table()
            .to_pandas()
        )

    def period_counts(
        self,
        by: str,
        lineage: pd.DataFrame,
        timezone: str,
        iccs: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> pd.DataFrame:
        """Selected incidents by area x local period (area_id, period, count), zeros included, from the first
        to the last period of the data (or of [start, end) when given)."""
        check_choice("by", by, PERIODS, "period_counts")
        where, params = self._selection(iccs, start, end, timezone)
        step = {"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months", "year": "1 year"}[by]
        self.con.register("lineage", pa.Table.from_pandas(lineage[["area_id", "target_id"]], preserve_index=False))
        try:
            return (
                self.con.execute(
                    f"""
                WITH span AS (
                    SELECT date_trunc('{by}', coalesce(?::TIMESTAMP, min(timezone(?, occurred_from))))::DATE AS first,
                           date_trunc('{by}', coalesce(?::TIMESTAMP - INTERVAL 1 SECOND,
                                                       max(timezone(?, occurred_from))))::DATE AS last
                    FROM incidents
                ),
                periods AS (
                    SELECT unnest(generate_series(first, last, INTERVAL '{step}'))::DATE AS period FROM span
                ),
                counts AS (
                    SELECT l.target_id AS area_id,
                           date_trunc('{by}', timezone(?, i.occurred_from))::DATE AS period, count(*) AS count
                    FROM incidents i JOIN lineage l USING (area_id)
                    WHERE {where}
                    GROUP BY ALL
                ),
                targets AS (SELECT DISTINCT target_id AS area_id FROM lineage)
                SELECT t.area_id, p.period, coalesce(c.count, 0)::BIGINT AS count
                FROM targets t CROSS JOIN periods p
                LEFT JOIN counts c ON c.area_id = t.area_id AND c.period = p.period
                ORDER BY t.area_id, p.period
                """,
                    [start, timezone, end, timezone, timezone, *params],
                )
                .to_arrow_table()
                .to_pandas(date_as_object=False)
            )
        finally:
            self.con.unregister("lineage")

    # -- data quality -----------------------------------------------------------------------------
    # Aggregations for `safercities quality` (safercities.quality): each returns a few rows, however
    # many incidents the store holds. Rejects and imports are those of incident files only.
    def quality_totals(self) -> dict[str, int]:
        """Rows read, accepted and rejected over the committed incident imports, and what the tables hold."""
        row = self.con.execute(
            """
            SELECT coalesce(sum(rows_read), 0), coalesce(sum(rows_accepted), 0), coalesce(sum(rows_rejected), 0),
                   (SELECT count(*) FROM incidents),
                   (SELECT count(*) FROM rejects r JOIN imports m USING (import_id) WHERE m.kind = 'incidents')
            FROM imports WHERE kind = 'incidents' AND status = 'committed'
            """
        ).fetchone()
        values = [int(v) for v in row] if row else [0] * 5
        keys = ("rows_read", "rows_accepted", "rows_rejected", "incidents", "rejects")
        return dict(zip(keys, values, strict=True))

    def quality_completeness(self, timezone: str) -> dict[str, int]:
        """Non-empty counts of the optional incident fields and counts by occurrence window length.

        ``attributes`` (the kept source columns, a JSON object) counts as filled when one value is not empty.

        Window lengths are measured on the local wall clock of ``timezone``, so that a local day is
        one day long on the days clocks change.
        """
        row = self.con.execute(
            """
            WITH w AS (
                SELECT *, timezone(?, occurred_to) - timezone(?, occurred_from) AS span FROM incidents
            )
            SELECT count(*),
                   count(reported_at),
                   count(*) FILTER (WHERE nullif(trim(location_type), '') IS NOT NULL),
                   count(*) FILTER (WHERE nullif(trim(offence_label), '') IS NOT NULL),
                   count(*) FILTER (WHERE coalesce(try(len(list_filter(
                       map_values(json_transform(attributes, '"MAP(VARCHAR, VARCHAR)"')),
                       v -> nullif(trim(v), '') IS NOT NULL))), 0) > 0),
                   count(*) FILTER (WHERE occurred_to <= occurred_from),
                   count(*) FILTER (WHERE occurred_to > occurred_from AND span <= INTERVAL 1 DAY),
                   count(*) FILTER (WHERE span > INTERVAL 1 DAY AND span <= INTERVAL 7 DAY),
                   count(*) FILTER (WHERE span > INTERVAL 7 DAY AND span <= INTERVAL 31 DAY),
                   count(*) FILTER (WHERE span > INTERVAL 31 DAY)
            FROM w
            """,
            [timezone, timezone],
        ).fetchone()
        keys = (
            "incidents",
            "reported_at",
            "location_type",
            "offence_label",
            "attributes",
            "moment",
            "window_1d",
            "window_7d",
            "window_31d",
            "window_longer",
        )
        return dict(zip(keys, [int(v) for v in row] if row else [0] * len(keys), strict=True))

    def quality_rejects_by_reason(self) -> pd.DataFrame:
        """reason_code, count, and the first such reject (import_id, file, row_number, reason)."""
        return (
            self.con.execute(
                """
            SELECT r.reason_code, count(*) AS count,
                   arg_min(r.import_id, (r.import_id, r.row_number)) AS import_id,
                   arg_min(r.file, (r.import_id, r.row_number)) AS file,
                   arg_min(r.row_number, (r.import_id, r.row_number)) AS row_number,
                   arg_min(r.reason, (r.import_id, r.row_number)) AS reason
            FROM rejects r JOIN imports m USING (import_id)
            WHERE m.kind = 'incidents'
            GROUP BY r.reason_code
            ORDER BY count DESC, r.reason_code
            """
            )
            .to_arrow_table()
            .to_pandas(date_as_object=False)
        )

    def quality_exact_duplicates(self) -> dict[str, int]:
        """Accepted incidents sharing x, y, occurred_from and offence_code: groups, rows in them, extra rows."""
        row = self.con.execute(
            """
            SELECT count(*), coalesce(sum(n), 0), coalesce(sum(n - 1), 0) FROM (
                SELECT count(*) AS n FROM incidents GROUP BY x, y, occurred_from, offence_code HAVING count(*) > 1
            )
            """
        ).fetchone()
        values = [int(v) for v in row] if row else [0, 0, 0]
        return dict(zip(("groups", "rows", "surplus"), values, strict=True))

    def quality_monthly(self, timezone: str) -> pd.DataFrame:
        """Incidents per local month (by occurred_from) from the first month to the last, zeros included."""
        return (
            self.con.execute(
                """
            WITH m AS (SELECT date_trunc('month', timezone(?, occurred_from))::DATE AS month FROM incidents),
            counts AS (SELECT month, count(*) AS count FROM m GROUP BY month),
            months AS (
                SELECT unnest(generate_series(min(month), max(month), INTERVAL 1 MONTH))::DATE AS month FROM m
            )
            SELECT months.month, coalesce(counts.count, 0)::BIGINT AS count
            FROM months LEFT JOIN counts USING (month)
            ORDER BY months.month
            """,
                [timezone],
            )
            .to_arrow_table()
            .to_pandas(date_as_object=False)
        )

    def quality_delays(self, quantiles: list[float], long_days: float) -> dict[str, object]:
        """Reporting delay (reported_at - occurred_to, days): count, quantiles, negatives and long delays."""
        row = self.con.execute(
            """
            WITH d AS (
                SELECT (epoch_us(reported_at) - epoch_us(occurred_to)) / 86400e6 AS days
                FROM incidents WHERE reported_at IS NOT NULL
            )
            SELECT count(*), quantile_cont(days, ?::DOUBLE[]), count(*) FILTER (WHERE days < 0),
                   count(*) FILTER (WHERE days > ?), min(days), max(days), avg(days)
            FROM d
            """,
            [quantiles, long_days],
        ).fetchone()
        if row is None:
            row = (0, None, 0, 0, None, None, None)
        keys = ("count", "quantiles", "negative", "long", "min", "max", "mean")
        return dict(zip(keys, row, strict=True))

    def quality_offence_mix(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Incidents by ICCS section (section, count) and by local offence (code, label, iccs_code, count)."""
        sections = (
            self.con.execute(
                "SELECT substr(iccs_code, 1, 2) AS section, count(*) AS count FROM incidents "
                "GROUP BY section ORDER BY count DESC, section"
            )
            .to_arrow_table()
            .to_pandas(date_as_object=False)
        )
        local = (
            self.con.execute(
                """
            SELECT i.offence_code, coalesce(mode(nullif(trim(i.offence_label), '')), any_value(o.local_label))
                       AS offence_label,
                   mode(i.iccs_code) AS iccs_code, count(*) AS count
            FROM incidents i LEFT JOIN offence_codes o ON o.local_code = i.offence_code
            GROUP BY i.offence_code ORDER BY count DESC, i.offence_code
            """
            )
            .to_arrow_table()
            .to_pandas(date_as_object=False)
        )
        return sections, local
