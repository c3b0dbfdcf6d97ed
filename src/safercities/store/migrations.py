"""Schema versions: a workspace made by an older safercities is brought up to date when it is opened.

Not Alembic: the tables are declared once as data (:data:`safercities.schema.TABLES`) for two
databases, and nearly every change is additive (a module adds a table or a column). What the
declaration cannot say is written here as numbered steps. Opening a store for writing

1. creates missing tables (the store does, ``CREATE TABLE IF NOT EXISTS``),
2. adds missing columns (nullable: rows already stored have no value for them),
3. runs every step whose version is above the store's ``meta.schema_version``, in order, each in one
   transaction together with the new version number,
4. makes the indexes of the backend (on PostgreSQL, one committed import per kind and file).

A store newer than this code is refused rather than guessed at. A new store starts at
:data:`~safercities.schema.SCHEMA_VERSION`: it has no old data for a step to change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

from safercities.errors import WorkspaceError
from safercities.schema import SCHEMA_VERSION, TABLES
from safercities.store.duckdb import DuckDBStore
from safercities.store.postgres import PostgresStore, pg_type

AnyStore = DuckDBStore | PostgresStore


@dataclass(frozen=True)
class Migration:
    """One numbered step: what it does to a store whose schema version is below ``version``."""

    version: int
    description: str
    apply: Callable[[AnyStore], None]


def _one_committed_import_per_file(store: AnyStore) -> None:
    """Version 2: at most one committed import of a file per kind.

    Before version 2, two sessions committing the same file at once could both succeed; the later
    ones are undone (their rows removed, their ledger rows marked 'replaced'), the first kept.
    """
    imports = store.read("imports", "status = 'committed'")
    later = imports.sort_values("import_id").duplicated(["kind", "sha256"], keep="first")
    for import_id in imports.sort_values("import_id").loc[later, "import_id"]:
        store.delete_import(int(import_id))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "one committed import per kind and file", _one_committed_import_per_file),
)


def _execute(store: AnyStore, statement: str) -> list[tuple[object, ...]]:
    if isinstance(store, PostgresStore):
        return store.execute(pg_type(statement))
    return store.con.execute(statement).fetchall()


def _columns(store: AnyStore) -> dict[str, set[str]]:
    """The columns each table of the store has now."""
    if isinstance(store, PostgresStore):
        rows = store.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s", [store.schema]
        )
    else:
        rows = _execute(
            store,
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()",
        )
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(str(table), set()).add(str(column))
    return found


def _bare_type(sqltype: str) -> str:
    """The type without its constraints: a column added to a filled table cannot be NOT NULL at once."""
    return re.split(r"\s+(?:NOT\s+NULL|PRIMARY\s+KEY|UNIQUE|DEFAULT|REFERENCES)\b", sqltype, flags=re.I)[0]


def stored_version(store: AnyStore) -> int:
    """The schema version written in the store's ``meta`` table (1 where none is)."""
    meta = store.read("meta", "key = ?", ["schema_version"])
    return int(meta["value"].iloc[0]) if len(meta) else 1


def check_version(store: AnyStore) -> int:
    """The store's version; a store made by a newer safercities is refused with a clear message."""
    version = stored_version(store)
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            f"this workspace was written by a newer safercities (schema version {version}; this one knows "
            f"{SCHEMA_VERSION}): upgrade safercities to open it"
        )
    return version


def add_missing_columns(store: AnyStore) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for every declared column the store lacks; what was added."""
    have = _columns(store)
    added = []
    for table, columns in TABLES.items():
        for column, sqltype in columns.items():
            if table in have and column not in have[table]:
                _execute(store, f"ALTER TABLE {table} ADD COLUMN {column} {_bare_type(sqltype)}")
                added.append(f"{table}.{column}")
    return added


def make_indexes(store: AnyStore) -> None:
    """Indexes of the server backend (DuckDB has one writer at a time and no partial indexes)."""
    if not isinstance(store, PostgresStore):
        return
    wanted = {
        "imports_one_committed": "CREATE UNIQUE INDEX imports_one_committed ON imports (kind, sha256) "
        "WHERE status = 'committed'",
        "incidents_incident_id": "CREATE INDEX incidents_incident_id ON incidents (incident_id)",
        "incidents_import_id": "CREATE INDEX incidents_import_id ON incidents (import_id)",
    }
    # look first: CREATE INDEX, even IF NOT EXISTS, waits for every import in progress on the table
    have = {r[0] for r in store.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [store.schema])}
    for name, statement in wanted.items():
        if name not in have:
            store.execute(statement)


def upgrade(store: AnyStore, steps: tuple[Migration, ...] | None = None) -> list[str]:
    """Bring a store opened for writing up to :data:`SCHEMA_VERSION`; what was done, in words."""
    steps = MIGRATIONS if steps is None else steps
    version = check_version(store)
    done = [f"added column {c}" for c in add_missing_columns(store)]
    for step in sorted(steps, key=lambda s: s.version):
        if step.version <= version:
            continue
        with store.transaction():
            step.apply(store)
            _set_version(store, step.version)
        done.append(f"schema version {step.version}: {step.description}")
        version = step.version
    if version < SCHEMA_VERSION:
        _set_version(store, SCHEMA_VERSION)
    make_indexes(store)
    return done


def _set_version(store: AnyStore, version: int) -> None:
    if not store.update("meta", {"value": str(version)}, "key = ?", ["schema_version"]):
        store.append("meta", pa.table({"key": ["schema_version"], "value": [str(version)]}))
