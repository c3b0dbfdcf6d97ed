"""The PostgreSQL server of the tests: its URL, a check that it answers, and cleaning up after a test.

``SAFERCITIES_TEST_PG`` holds the URL of a database the tests may fill and empty
(``.ci/run`` starts a server on loopback and sets it). ``SAFERCITIES_TEST_BACKEND=postgres``
runs every test with its workspaces on that server instead of in DuckDB files.
"""

from __future__ import annotations

import contextlib
import functools
import os

import psycopg
import pytest

PG_ENV = "SAFERCITIES_TEST_PG"
BACKEND_ENV = "SAFERCITIES_TEST_BACKEND"
KEEP = ("public", "information_schema", "pg_catalog", "pg_toast", "tiger", "tiger_data", "topology")


def on_postgres() -> bool:
    """Whether this test run puts every workspace on the PostgreSQL server."""
    return os.environ.get(BACKEND_ENV, "duckdb") == "postgres"


@functools.cache
def _reachable(url: str) -> str | None:
    """None when the server answers and has PostGIS, else why not."""
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as con:
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        return str(exc).strip()
    return None


def server_url() -> str:
    """The test server's URL, or skip the test saying how to get one."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"no PostgreSQL server for the tests: set {PG_ENV}=postgresql://user:password@127.0.0.1/db "
            "(.ci/run starts one on loopback)"
        )
    problem = _reachable(url)
    if problem:
        pytest.skip(f"the PostgreSQL server of {PG_ENV} does not answer or lacks PostGIS: {problem}")
    return url


def schemas(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as con:
        rows = con.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {r[0] for r in rows if r[0] not in KEEP and not r[0].startswith("pg_")}


def drop_schemas(url: str, names: set[str]) -> None:
    """Drop the workspaces a test made (waiting at most a few seconds for sessions it left open)."""
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET lock_timeout = '5s'")
        for name in sorted(names):
            # a session the test left open may hold it; the next run's cleanup takes it then
            with contextlib.suppress(psycopg.errors.LockNotAvailable):
                con.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(name)))
