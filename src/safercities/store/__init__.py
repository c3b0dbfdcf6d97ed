"""The store: the only code that talks SQL to a database.

DuckDB with its spatial extension is the embedded default (:mod:`.duckdb`); PostgreSQL with PostGIS
is the server backend (:mod:`.postgres`). A workspace's ``database`` setting picks one: a file name
(relative to the workspace folder) for DuckDB, a ``postgresql://`` URL for the server.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from safercities.errors import WorkspaceError
from safercities.store.base import PERIODS, Store
from safercities.store.duckdb import DuckDBStore
from safercities.store.postgres import PostgresStore, is_url, split_url, with_schema

__all__ = ["PERIODS", "DuckDBStore", "PostgresStore", "Store", "new_database", "open_store"]


def default_schema(name: str, root: Path) -> str:
    """A workspace's PostgreSQL schema when its URL names none: the city's name and a hash of its folder."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "workspace"
    if slug[0].isdigit():
        slug = f"w_{slug}"
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
    return f"{slug}_{digest}"


def new_database(root: Path, database: str, name: str) -> str:
    """The ``database`` setting of a new workspace: a URL gets its schema, which must not hold a workspace yet."""
    if not is_url(database):
        return database
    schema = split_url(database)[1] or default_schema(name, root)
    url = with_schema(database, schema)
    if PostgresStore.holds_workspace(url, schema):
        raise WorkspaceError(
            f"schema '{schema}' of {split_url(database)[0]} already holds a workspace: to work on it, copy its "
            "safercities.toml; for a new one, name another schema (?schema=NAME in the URL)"
        )
    return url


def open_store(root: Path, database: str, name: str, read_only: bool = False) -> DuckDBStore | PostgresStore:
    """A workspace's store, brought up to the current schema version when opened for writing."""
    from safercities.store.migrations import check_version, upgrade

    store: DuckDBStore | PostgresStore
    if is_url(database):
        store = PostgresStore(database, split_url(database)[1] or default_schema(name, root), read_only=read_only)
    else:
        store = DuckDBStore(root / database, read_only=read_only)
    try:
        if read_only:
            check_version(store)
        else:
            upgrade(store)
    except BaseException:
        store.close()
        raise
    return store
