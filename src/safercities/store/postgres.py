"""The PostgreSQL + PostGIS store: one workspace per PostgreSQL schema, for several people at once.

The same methods as :class:`~safercities.store.duckdb.DuckDBStore`, with the same results (same
Arrow types, same rows in the same order). Rows travel by ``COPY`` in CSV both ways, parsed and
written by Arrow's C++ CSV codec, so that a million incidents never pass through a Python loop.

A workspace's database setting is a URL, ``postgresql://user@host:port/dbname?schema=NAME``;
``schema`` is ours (libpq never sees it), the rest goes to libpq as it is, so passwords belong in
``~/.pgpass`` or ``PGPASSWORD``, not in ``safercities.toml``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import sql

from safercities.errors import WorkspaceError, check_choice
from safercities.schema import SCHEMA_VERSION, TABLES, create_statements
from safercities.store.base import PERIODS

URL_SCHEMES = ("postgresql", "postgres")
STEPS = {"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months", "year": "1 year"}
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def is_url(database: str) -> bool:
    """Whether a workspace's ``database`` setting names a PostgreSQL server rather than a DuckDB file."""
    return urlsplit(database).scheme in URL_SCHEMES


def split_url(url: str) -> tuple[str, str | None]:
    """(libpq connection URL, workspace schema or None): ``?schema=`` is taken out of the URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def with_schema(url: str, schema: str) -> str:
    """The URL with ``?schema=`` set (the form written to ``safercities.toml``)."""
    conninfo, _ = split_url(url)
    parts = urlsplit(conninfo)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("schema", schema)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def check_schema_name(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise WorkspaceError(
            f"'{schema}' is not a usable schema name: use lower-case letters, digits and _ (at most 63), "
            "not starting with a digit"
        )
    return schema


def pg_type(sqltype: str) -> str:
    """A column type of :data:`~safercities.schema.TABLES` in PostgreSQL's words (DOUBLE is DOUBLE PRECISION)."""
    return re.sub(r"\bDOUBLE\b(?!\s+PRECISION)", "DOUBLE PRECISION", sqltype)


def arrow_type(sqltype: str) -> pa.DataType:
    """The Arrow type DuckDB gives a column of this SQL type (so that both stores return the same frames)."""
    base = sqltype.split()[0].upper()
    return {
        "VARCHAR": pa.string(),
        "TEXT": pa.string(),
        "DOUBLE": pa.float64(),
        "BIGINT": pa.int64(),
        "INTEGER": pa.int32(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
        "TIMESTAMP": pa.timestamp("us"),
        "GEOMETRY": pa.binary(),
    }[base]


def _plain(value: object) -> object:
    """numpy and pandas scalars as the Python values psycopg adapts."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


class PostgresStore:
    """A workspace's tables in one schema of a PostgreSQL database with PostGIS."""

    def __init__(self, url: str, schema: str, read_only: bool = False, create: bool = True) -> None:
        self.url = url
        self.schema = check_schema_name(schema)
        self.read_only = read_only
        conninfo, _ = split_url(url)
        try:
            self.con = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise WorkspaceError(f"cannot reach the PostgreSQL server of {conninfo}: {exc}".strip()) from exc
        try:
            self._setup(create and not read_only)
        except BaseException:
            self.con.close()
            raise

    def _setup(self, create: bool) -> None:
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET DateStyle = 'ISO, YMD'")
        self.con.execute("SET IntervalStyle = 'postgres'")
        self.con.execute("SET extra_float_digits = 1")
        if create:
            with self.con.transaction():
                # one creator at a time: CREATE ... IF NOT EXISTS races between sessions
                self.con.execute("SELECT pg_advisory_xact_lock(hashtext('safercities:create'))")
                if not self._has_postgis():
                    try:
                        with self.con.transaction():
                            self.con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                    except psycopg.Error as exc:
                        raise WorkspaceError(
                            f"PostGIS is not installed in this database and this user may not install it ({exc}); "
                            "ask its administrator to run CREATE EXTENSION postgis"
                        ) from exc
                self.con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                self._use_schema()
                for statement in create_statements():
                    self.con.execute(pg_type(statement).encode())
                self.con.execute(
                    "INSERT INTO meta VALUES ('schema_version', %s) ON CONFLICT DO NOTHING", [str(SCHEMA_VERSION)]
                )
        else:
            found = self.con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [self.schema]).fetchone()
            if not found:
                raise WorkspaceError(
                    f"the database of {split_url(self.url)[0]} has no workspace schema '{self.schema}'"
                )
            self._use_schema()
        if self.read_only:
            self.con.execute("SET default_transaction_read_only = on")

    @staticmethod
    def holds_workspace(url: str, schema: str) -> bool:
        """Whether ``schema`` in the database of ``url`` already holds a workspace (its ``meta`` table)."""
        conninfo, _ = split_url(url)
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as con:
                row = con.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{schema}".meta']).fetchone()
        except psycopg.OperationalError as exc:
            raise WorkspaceError(f"cannot reach the PostgreSQL server of {conninfo}: {exc}".strip()) from exc
        return bool(row and row[0])

    def _has_postgis(self) -> bool:
        return self.con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone() is not None

    def _use_schema(self) -> None:
        where = self.con.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'postgis'"
        ).fetchone()
        path = [self.schema, where[0] if where else "public"]
        self.con.execute(sql.SQL("SET search_path TO {}").format(sql.SQL(", ").join(map(sql.Identifier, path))))

    def __del__(self) -> None:  # a workspace nobody closed must not leave a server connection behind
        con = getattr(self, "con", None)
        if con is not None and not con.closed:
            con.close()

    # -- low level ------------------------------------------------------------------------------
    def execute(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (``%s`` placeholders); the rows it returns, if any."""
        cursor = self.con.execute(statement, [_plain(p) for p in params] if params else None)
        return cursor.fetchall() if cursor.description else []

    def _literal(self, statement: str, params: Sequence[object]) -> str:
        """The statement with its parameters bound client-side (COPY takes no parameters)."""
        return psycopg.ClientCursor(self.con).mogrify(statement, [_plain(p) for p in params])

    def _arrow(self, query: str, params: Sequence[object], types: dict[str, pa.DataType]) -> pa.Table:
        """Run a query and return its rows as Arrow with the given column types.

        Timestamps arrive as microseconds since the epoch (select them with :func:`_epoch`), geometry as
        hex WKB: both are turned into the types DuckDB returns.
        """
        statement = self._literal(query, params)
        buffer = io.BytesIO()
        with self.con.cursor().copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER true)".encode()) as copy:
            for block in copy:
                buffer.write(block)
        read_types = {
            name: pa.int64() if pa.types.is_timestamp(t) else pa.string() if pa.types.is_binary(t) else t
            for name, t in types.items()
        }
        table = pacsv.read_csv(
            io.BytesIO(buffer.getvalue()),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=read_types,
                null_values=[""],  # COPY writes NULL as an unquoted empty field; the text 'NULL' is text
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                true_values=["t"],
                false_values=["f"],
            ),
            read_options=pacsv.ReadOptions(block_size=1 << 24),
        )
        columns = []
        for name, wanted in types.items():
            column = table.column(name)
            if pa.types.is_timestamp(wanted):
                column = column.cast(wanted)
            elif pa.types.is_binary(wanted):
                column = pa.array(
                    [None if v is None else bytes.fromhex(v) for v in column.to_pylist()], pa.binary()
                )  # geometry: one value per area, never per incident
            columns.append(column)
        return pa.table(columns, names=list(types))

    def _frame(self, query: str, params: Sequence[object], types: dict[str, pa.DataType]) -> pd.DataFrame:
        return self._arrow(query, params, types).to_pandas(date_as_object=False)

    @staticmethod
    def _where(where: str) -> str:
        """A caller's WHERE clause with DuckDB's ``?`` placeholders as psycopg's ``%s``."""
        return where.replace("%", "%%").replace("?", "%s")

    # -- transactions and generic access -------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; other sessions see everything inside or nothing of it (nested ones are savepoints).

        A connection lost on the way (a server restarted or killed) is a :class:`WorkspaceError` saying so.
        """
        try:
            with self.con.transaction():
                yield
        except psycopg.OperationalError as exc:
            raise WorkspaceError(
                f"the connection to the PostgreSQL server was lost ({' '.join(str(exc).split())}); the change was not "
                "confirmed, so it is either wholly in the store or not at all: `safercities imports` shows which; "
                "run it again (a file imported already is recognised)"
            ) from exc

    def append(self, table: str, rows: pa.Table) -> None:
        """Insert an Arrow table whose column names are a subset of the table's columns (by COPY)."""
        if rows.num_rows == 0:
            return
        columns = [c for c in rows.column_names if c in TABLES[table]]
        arrays = []
        for name in columns:
            column = rows.column(name)
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
            if TABLES[table][name].upper().startswith("GEOMETRY") or pa.types.is_binary(column.type):
                column = pa.array([None if v is None else v.hex() for v in column.to_pylist()], pa.string())
            elif pa.types.is_null(column.type):
                column = column.cast(pa.string())
            elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                column = _without_nul(column)
            arrays.append(column)
        data = io.BytesIO()
        pacsv.write_csv(pa.table(arrays, names=columns), data, pacsv.WriteOptions(include_header=False))
        statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        with self.con.cursor().copy(statement) as copy:
            view = data.getbuffer()
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start : start + (1 << 20)])

    def read(self, table: str, where: str | None = None, params: list[object] | None = None) -> pd.DataFrame:
        """A canonical table as a data frame (geometry as WKB bytes)."""
        columns = TABLES[table]
        select = ", ".join(_column_out(c, t) for c, t in columns.items())
        query = f"SELECT {select} FROM {table}" + (f" WHERE {self._where(where)}" if where else "")
        return self._frame(query, params or [], {c: arrow_type(t) for c, t in columns.items()})

    def delete(self, table: str, where: str, params: list[object]) -> int:
        """Delete the rows of a canonical table that match ``where``; how many went."""
        if table not in TABLES:
            raise KeyError(table)
        cursor = self.con.execute(f"DELETE FROM {table} WHERE {self._where(where)}", [_plain(p) for p in params])
        return cursor.rowcount

    def update(self, table: str, values: dict[str, object], where: str, params: list[object]) -> int:
        """Set columns of the rows that match ``where``; how many changed."""
        if table not in TABLES or not set(values) <= set(TABLES[table]):
            raise KeyError(f"{table}: {sorted(values)}")
        assignments = ", ".join(f"{column} = %s" for column in values)
        cursor = self.con.execute(
            f"UPDATE {table} SET {assignments} WHERE {self._where(where)}",
            [_plain(v) for v in [*values.values(), *params]],
        )
        return cursor.rowcount

    def count(self, table: str) -> int:
        row = self.con.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
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
        """The committed import of this file, if any.

        Inside a transaction (the commit of an import) this first takes the workspace's import lock, so
        that two sessions committing the same file one after the other see each other: the second finds
        the first's ledger row and stops, and import ids never clash.
        """
        if self.con.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            self.con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"safercities:{self.schema}:imports"])
        row = self.con.execute(
            "SELECT import_id FROM imports WHERE kind = %s AND sha256 = %s AND status = 'committed'", [kind, sha256]
        ).fetchone()
        return int(row[0]) if row else None

    def delete_import(self, import_id: int) -> None:
        """Remove what one import brought; its log entry stays, marked 'replaced'."""
        for table in (t for t, columns in TABLES.items() if "import_id" in columns and t != "imports"):
            self.con.execute(sql.SQL("DELETE FROM {} WHERE import_id = %s").format(sql.Identifier(table)), [import_id])
        self.con.execute("UPDATE imports SET status = 'replaced' WHERE import_id = %s", [import_id])

    def existing_incident_ids(self, ids: pa.Array, ignore_import: int | None = None) -> pa.Table:
        """Which of these incident ids the store already holds (outside ``ignore_import``), and from which import."""
        self.con.execute("CREATE TEMP TABLE IF NOT EXISTS candidate_ids (incident_id text)")
        self.con.execute("TRUNCATE candidate_ids")
        data = io.BytesIO()
        candidates = pa.table({"incident_id": _without_nul(pc.cast(ids, pa.string()))})
        pacsv.write_csv(candidates, data, pacsv.WriteOptions(include_header=False))
        with self.con.cursor().copy("COPY candidate_ids FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(data.getvalue())
        return self._arrow(
            "SELECT DISTINCT i.incident_id, i.import_id FROM incidents i JOIN candidate_ids c USING (incident_id) "
            "WHERE i.import_id IS DISTINCT FROM %s::integer",
            [ignore_import],
            {"incident_id": pa.string(), "import_id": pa.int32()},
        )

    def replace_offence_codes(self, rows: pa.Table) -> None:
        """Insert local offence codes, replacing the ICCS code of those already known."""
        codes = rows.column("local_code").to_pylist()
        self.con.execute("DELETE FROM offence_codes WHERE local_code = ANY(%s::text[])", [codes])
        self.append("offence_codes", rows.select(["local_code", "local_label", "iccs_code", "import_id"]))

    def iccs_sections(self) -> list[str]:
        """The ICCS level-1 sections the city records (its offence table and its incidents)."""
        rows = self.con.execute(
            "SELECT s FROM (SELECT DISTINCT substr(iccs_code, 1, 2) AS s FROM offence_codes "
            'UNION SELECT DISTINCT substr(iccs_code, 1, 2) FROM incidents) AS u ORDER BY s COLLATE "C"'
        ).fetchall()
        return [r[0] for r in rows]

    # -- areas ------------------------------------------------------------------------------------
    def areas(self) -> pd.DataFrame:
        """Areas with their geometry as WKB ``bytes``."""
        return self.read("areas")

    # -- the count cube ---------------------------------------------------------------------------
    def cube(self, by: str, lineage: pd.DataFrame, sections: list[str], timezone: str) -> pd.DataFrame:
        """Counts by area x period x ICCS section, with a zero for every empty combination.

        ``lineage`` maps each finest-level area_id to the area_id of the level asked for;
        periods are in the city's local time (``timezone``), from the first to the last incident.
        """
        check_choice("by", by, PERIODS, "cube")
        query = f"""
            WITH lineage AS (
                SELECT * FROM unnest(%s::text[], %s::text[]) AS l(area_id, target_id)
            ),
            sections AS (SELECT unnest(%s::text[]) AS iccs_section),
            finest AS (
                SELECT area_id, date_trunc('{by}', occurred_from AT TIME ZONE %s)::date AS period,
                       substr(iccs_code, 1, 2) AS iccs_section, count(*) AS count
                FROM incidents GROUP BY 1, 2, 3
            ),
            counts AS (  -- rolled up to the level asked for after counting
                SELECT l.target_id AS area_id, period, iccs_section, sum(count) AS count
                FROM finest JOIN lineage l USING (area_id) GROUP BY 1, 2, 3
            ),
            periods AS (
                SELECT generate_series(min(period)::timestamp, max(period)::timestamp,
                                       interval '{STEPS[by]}')::date AS period
                FROM counts
            ),
            targets AS (SELECT DISTINCT target_id AS area_id FROM lineage)
            SELECT t.area_id, p.period, s.iccs_section, coalesce(c.count, 0)::bigint AS count
            FROM targets t CROSS JOIN periods p CROSS JOIN sections s
            LEFT JOIN counts c
              ON c.area_id = t.area_id AND c.period = p.period AND c.iccs_section = s.iccs_section
            ORDER BY t.area_id COLLATE "C", p.period, s.iccs_section COLLATE "C"
        """
        params = [
            lineage["area_id"].astype(str).tolist(),
            lineage["target_id"].astype(str).tolist(),
            list(sections),
            timezone,
        ]
        types = {"area_id": pa.string(), "period": pa.date32(), "iccs_section": pa.string(), "count": pa.int64()}
        return self._frame(query, params, types)

    # -- selections for the analytics -------------------------------------------------------------
    @staticmethod
    def _selection(iccs: str | None, start: str | None, end: str | None, timezone: str) -> tuple[str, list[object]]:
        """WHERE clause for an ICCS code prefix and a local-time [start, end) window."""
        clauses: list[str] = ["TRUE"]
        params: list[object] = []
        if iccs:
            clauses.append("starts_with(iccs_code, %s)")
            params.append(iccs)
        if start:
            clauses.append("(occurred_from AT TIME ZONE %s) >= %s::timestamp")
            params += [timezone, start]
        if end:
            clauses.append("(occurred_from AT TIME ZONE %s) < %s::timestamp")
            params += [timezone, end]
        return " AND ".join(clauses), params

    def incident_points(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> pa.Table:
        """x, y (workspace CRS), area_id and occurred_from of the selected incidents."""
        where, params = self._selection(iccs, start, end, timezone)
        return self._arrow(
            f"SELECT x, y, area_id, {_epoch('occurred_from')} AS occurred_from FROM incidents WHERE {where}",
            params,
            {
                "x": pa.float64(),
                "y": pa.float64(),
                "area_id": pa.string(),
                "occurred_from": pa.timestamp("us", tz="UTC"),
            },
        )

    def time_span(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last occurrence (local time) of the selected incidents."""
        where, params = self._selection(iccs, start, end, timezone)
        row = self.con.execute(
            f"SELECT min(occurred_from AT TIME ZONE %s), max(occurred_from AT TIME ZONE %s) FROM incidents "
            f"WHERE {where}",
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
        return self._arrow(
            f"SELECT {_epoch('occurred_from AT TIME ZONE %s')} AS occurred_from, "
            f"{_epoch('occurred_to AT TIME ZONE %s')} AS occurred_to FROM incidents WHERE {where}",
            [timezone, timezone, *params],
            {"occurred_from": pa.timestamp("us"), "occurred_to": pa.timestamp("us")},
        ).to_pandas()

    def area_counts(
        self, iccs: str | None = None, start: str | None = None, end: str | None = None, timezone: str = "UTC"
    ) -> pd.DataFrame:
        """Selected incidents per finest area (areas without any are absent)."""
        where, params = self._selection(iccs, start, end, timezone)
        return self._arrow(
            f"SELECT area_id, count(*) AS count FROM incidents WHERE {where} GROUP BY area_id",
            params,
            {"area_id": pa.string(), "count": pa.int64()},
        ).to_pandas()

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
        query = f"""
            WITH lineage AS (
                SELECT * FROM unnest(%s::text[], %s::text[]) AS l(area_id, target_id)
            ),
            span AS (
                SELECT date_trunc('{by}', coalesce(%s::timestamp, min(occurred_from AT TIME ZONE %s)))::date AS first,
                       date_trunc('{by}', coalesce(%s::timestamp - interval '1 second',
                                                   max(occurred_from AT TIME ZONE %s)))::date AS last
                FROM incidents
            ),
            periods AS (
                SELECT generate_series(first::timestamp, last::timestamp, interval '{STEPS[by]}')::date AS period
                FROM span
            ),
            counts AS (
                SELECT l.target_id AS area_id,
                       date_trunc('{by}', i.occurred_from AT TIME ZONE %s)::date AS period, count(*) AS count
                FROM incidents i JOIN lineage l USING (area_id)
                WHERE {where}
                GROUP BY 1, 2
            ),
            targets AS (SELECT DISTINCT target_id AS area_id FROM lineage)
            SELECT t.area_id, p.period, coalesce(c.count, 0)::bigint AS count
            FROM targets t CROSS JOIN periods p
            LEFT JOIN counts c ON c.area_id = t.area_id AND c.period = p.period
            ORDER BY t.area_id COLLATE "C", p.period
        """
        links = [lineage["area_id"].astype(str).tolist(), lineage["target_id"].astype(str).tolist()]
        return self._frame(
            query,
            [*links, start, timezone, end, timezone, timezone, *params],
            {"area_id": pa.string(), "period": pa.date32(), "count": pa.int64()},
        )

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
        Window lengths are measured on the local wall clock of ``timezone``.
        """
        row = self.con.execute(
            """
            WITH w AS (
                SELECT *, (occurred_to AT TIME ZONE %s) - (occurred_from AT TIME ZONE %s) AS span FROM incidents
            )
            SELECT count(*),
                   count(reported_at),
                   count(*) FILTER (WHERE nullif(trim(location_type), '') IS NOT NULL),
                   count(*) FILTER (WHERE nullif(trim(offence_label), '') IS NOT NULL),
                   count(*) FILTER (WHERE attributes LIKE '{%%' AND EXISTS (
                       SELECT 1 FROM json_each_text(attributes::json) e
                       WHERE nullif(trim(e.value), '') IS NOT NULL)),
                   count(*) FILTER (WHERE occurred_to <= occurred_from),
                   count(*) FILTER (WHERE occurred_to > occurred_from AND span <= interval '1 day'),
                   count(*) FILTER (WHERE span > interval '1 day' AND span <= interval '7 days'),
                   count(*) FILTER (WHERE span > interval '7 days' AND span <= interval '31 days'),
                   count(*) FILTER (WHERE span > interval '31 days')
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
        first = "(array_agg(r.{0} ORDER BY r.import_id, r.row_number))[1] AS {0}"
        return self._frame(
            f"""
            SELECT r.reason_code, count(*) AS count, {first.format("import_id")}, {first.format("file")},
                   {first.format("row_number")}, {first.format("reason")}
            FROM rejects r JOIN imports m USING (import_id)
            WHERE m.kind = 'incidents'
            GROUP BY r.reason_code
            ORDER BY count DESC, r.reason_code COLLATE "C"
            """,
            [],
            {
                "reason_code": pa.string(),
                "count": pa.int64(),
                "import_id": pa.int32(),
                "file": pa.string(),
                "row_number": pa.int64(),
                "reason": pa.string(),
            },
        )

    def quality_exact_duplicates(self) -> dict[str, int]:
        """Accepted incidents sharing x, y, occurred_from and offence_code: groups, rows in them, extra rows."""
        row = self.con.execute(
            """
            SELECT count(*), coalesce(sum(n), 0), coalesce(sum(n - 1), 0) FROM (
                SELECT count(*) AS n FROM incidents GROUP BY x, y, occurred_from, offence_code HAVING count(*) > 1
            ) AS g
            """
        ).fetchone()
        values = [int(v) for v in row] if row else [0, 0, 0]
        return dict(zip(("groups", "rows", "surplus"), values, strict=True))

    def quality_monthly(self, timezone: str) -> pd.DataFrame:
        """Incidents per local month (by occurred_from) from the first month to the last, zeros included."""
        return self._frame(
            """
            WITH m AS (SELECT date_trunc('month', occurred_from AT TIME ZONE %s)::date AS month FROM incidents),
            counts AS (SELECT month, count(*) AS count FROM m GROUP BY month),
            months AS (
                SELECT generate_series(min(month)::timestamp, max(month)::timestamp, interval '1 month')::date
                       AS month FROM m
            )
            SELECT months.month, coalesce(counts.count, 0)::bigint AS count
            FROM months LEFT JOIN counts USING (month)
            ORDER BY months.month
            """,
            [timezone],
            {"month": pa.date32(), "count": pa.int64()},
        )

    def quality_delays(self, quantiles: list[float], long_days: float) -> dict[str, object]:
        """Reporting delay (reported_at - occurred_to, days): count, quantiles, negatives and long delays."""
        row = self.con.execute(
            """
            WITH d AS (
                SELECT ((extract(epoch FROM reported_at) - extract(epoch FROM occurred_to)) * 1000000)::float8
                       / 86400e6::float8 AS days
                FROM incidents WHERE reported_at IS NOT NULL
            )
            SELECT count(*), percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY days),
                   count(*) FILTER (WHERE days < 0), count(*) FILTER (WHERE days > %s),
                   min(days), max(days), avg(days)
            FROM d
            """,
            [list(quantiles), long_days],
        ).fetchone()
        if row is None:
            row = (0, None, 0, 0, None, None, None)
        keys = ("count", "quantiles", "negative", "long", "min", "max", "mean")
        return dict(zip(keys, row, strict=True))

    def quality_offence_mix(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Incidents by ICCS section (section, count) and by local offence (code, label, iccs_code, count)."""
        sections = self._frame(
            "SELECT substr(iccs_code, 1, 2) AS section, count(*) AS count FROM incidents "
            'GROUP BY section ORDER BY count DESC, substr(iccs_code, 1, 2) COLLATE "C"',
            [],
            {"section": pa.string(), "count": pa.int64()},
        )
        local = self._frame(
            """
            SELECT i.offence_code,
                   coalesce(mode() WITHIN GROUP (ORDER BY nullif(trim(i.offence_label), '')), min(o.local_label))
                       AS offence_label,
                   mode() WITHIN GROUP (ORDER BY i.iccs_code) AS iccs_code, count(*) AS count
            FROM incidents i LEFT JOIN offence_codes o ON o.local_code = i.offence_code
            GROUP BY i.offence_code ORDER BY count DESC, i.offence_code COLLATE "C"
            """,
            [],
            {"offence_code": pa.string(), "offence_label": pa.string(), "iccs_code": pa.string(), "count": pa.int64()},
        )
        return sections, local


def _without_nul(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """PostgreSQL text cannot hold U+0000: the store writes U+FFFD (the replacement character) in its place."""
    return pc.replace_substring(column, "\x00", "\ufffd")


def _epoch(expression: str) -> str:
    """A timestamp as whole microseconds since 1970-01-01 (how :meth:`PostgresStore._arrow` reads them)."""
    return f"(extract(epoch FROM {expression}) * 1000000)::bigint"


def _column_out(column: str, sqltype: str) -> str:
    base = sqltype.split()[0].upper()
    if base == "GEOMETRY":
        return f"encode(ST_AsBinary({column}), 'hex') AS {column}"
    if base in ("TIMESTAMPTZ", "TIMESTAMP"):
        return f"{_epoch(column)} AS {column}"
    return column
