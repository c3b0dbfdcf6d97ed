"""Shared fixtures: the real data in ../shared/data, skipped with a message where it is absent;
the backend of every workspace (DuckDB, or PostgreSQL when SAFERCITIES_TEST_BACKEND=postgres)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

import pgkit

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real data and published reference values (``../shared/data``)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent: these checks run in CI, where ../shared is present")
    return SHARED_DATA


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server of SAFERCITIES_TEST_PG")


@pytest.fixture(scope="session", autouse=True)
def workspace_backend() -> Iterator[str]:
    """Where new workspaces go: with SAFERCITIES_TEST_BACKEND=postgres, a schema each on the test server
    (those the session made are dropped at its end); else a DuckDB file in the workspace folder."""
    with pytest.MonkeyPatch.context() as patch:
        if not pgkit.on_postgres():
            patch.delenv("SAFERCITIES_DATABASE", raising=False)
            yield "duckdb"
            return
        url = pgkit.server_url()
        before = pgkit.schemas(url)
        patch.setenv("SAFERCITIES_DATABASE", url)
        yield "postgres"
        gc.collect()  # closes the connections of workspaces a test did not close
        pgkit.drop_schemas(url, pgkit.schemas(url) - before)


@pytest.fixture
def pg_url() -> str:
    """The URL of the test PostgreSQL server (the test skips, saying why, when there is none)."""
    return pgkit.server_url()
