"""A workspace written by an older safercities opens, and is brought up to the current schema, on both backends.

The old workspace is made the way an old version left it: today's layout minus a table and a column that
came later, ``meta.schema_version`` 1, and the one defect version 2 repairs (the same file committed
twice, which two simultaneous imports could do before).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import analysiskit as ak
from safercities.errors import WorkspaceError
from safercities.schema import SCHEMA_VERSION
from safercities.store import PostgresStore
from safercities.store.migrations import MIGRATIONS, Migration, stored_version, upgrade
from safercities.store.postgres import with_schema
from safercities.workspace import Workspace, open_workspace

BACKENDS = ["duckdb", "postgres"]


def _raw(ws: Workspace, statement: str) -> None:
    """DDL behind the store's back, as an old version's layout would be."""
    if isinstance(ws.store, PostgresStore):
        ws.store.execute(statement)
    else:
        ws.store.con.execute(statement)


@pytest.fixture(params=BACKENDS)
def old_workspace(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ak.City:
    """The hand-built city, then aged: no ``sessions`` table, no ``incidents.location_type``, version 1,
    and its incident file committed a second time (import 3, a copy of import 2's rows)."""
    if request.param == "postgres":
        import pgkit

        url = pgkit.server_url()
        schema = f"test_migration_{abs(hash(str(tmp_path))) % 10**8}"
        monkeypatch.setenv("SAFERCITIES_DATABASE", with_schema(url, schema))
        request.addfinalizer(lambda: pgkit.drop_schemas(url, {schema}))
    else:
        monkeypatch.delenv("SAFERCITIES_DATABASE", raising=False)
    city = ak.build(tmp_path)
    with open_workspace(city.root) as ws:
        _raw(ws, "DROP INDEX IF EXISTS imports_one_committed")
        incidents = ws.store.read("incidents")
        ledger = ws.store.read("imports")
        copy = ledger[ledger["kind"] == "incidents"].assign(import_id=3)
        ws.store.append("imports", pa.Table.from_pandas(copy, preserve_index=False))
        ws.store.append("incidents", pa.Table.from_pandas(incidents.assign(import_id=3), preserve_index=False))
        _raw(ws, "DROP TABLE sessions")
        _raw(ws, "DROP INDEX IF EXISTS incidents_incident_id")
        _raw(ws, "ALTER TABLE incidents DROP COLUMN location_type")
        ws.store.update("meta", {"value": "1"}, "key = ?", ["schema_version"])
    return city


def _columns(ws: Workspace, table: str) -> set[str]:
    if isinstance(ws.store, PostgresStore):
        rows = ws.store.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            [ws.store.schema, table],
        )
    else:
        rows = ws.store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        ).fetchall()
    return {r[0] for r in rows}


def test_an_old_workspace_is_upgraded_when_opened(old_workspace: ak.City) -> None:
    with open_workspace(old_workspace.root, read_only=True) as ws:
        assert stored_version(ws.store) == 1  # a read-only open changes nothing
        assert "location_type" not in _columns(ws, "incidents")
    with open_workspace(old_workspace.root) as ws:
        assert stored_version(ws.store) == SCHEMA_VERSION == MIGRATIONS[-1].version
        assert "location_type" in _columns(ws, "incidents") and ws.store.count("sessions") == 0
        incidents = ws.store.read("incidents")
        assert incidents["location_type"].isna().all()  # rows stored before the column existed have no value
        ledger = ws.store.read("imports").set_index("import_id")["status"]
        assert ledger.to_dict() == {1: "committed", 2: "committed", 3: "replaced"}
        assert set(incidents["import_id"]) == {2}  # the second commit of the same file is undone
        # and the analysis sees the city as built
        counts = ws.store.area_counts().set_index("area_id")["count"]
        truth = old_workspace.counts()
        pd.testing.assert_series_equal(counts.reindex(truth.index, fill_value=0), truth, check_names=False)
    with open_workspace(old_workspace.root) as ws:  # a second open has nothing left to do
        assert upgrade(ws.store) == []


def test_a_workspace_from_a_newer_version_is_refused(old_workspace: ak.City) -> None:
    with open_workspace(old_workspace.root) as ws:
        ws.store.update("meta", {"value": str(SCHEMA_VERSION + 1)}, "key = ?", ["schema_version"])
    with pytest.raises(WorkspaceError, match="newer safercities"):
        open_workspace(old_workspace.root)


def test_steps_run_in_order_once_and_a_failed_step_changes_nothing(
    old_workspace: ak.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("safercities.store.migrations.SCHEMA_VERSION", 10)  # as if three more steps existed
    seen: list[int] = []

    def note(version: int) -> Migration:
        return Migration(version, f"note {version}", lambda store: seen.append(version))

    def broken(store) -> None:  # type: ignore[no-untyped-def]
        store.append(
            "audit_log",
            pa.table(
                {
                    "changed_at": [pd.Timestamp.now(tz="UTC")],
                    "username": ["x"],
                    "action": ["half"],
                    "target": ["x"],
                    "detail": [None],
                }
            ),
        )
        raise RuntimeError("step 3 fails half-way")

    with open_workspace(old_workspace.root, read_only=True) as ws:
        logged = ws.store.count("audit_log")
    with open_workspace(old_workspace.root) as ws:
        ws.store.update("meta", {"value": "1"}, "key = ?", ["schema_version"])
        with pytest.raises(RuntimeError, match="half-way"):
            upgrade(ws.store, (note(3), note(2), Migration(4, "broken", broken)))
        assert seen == [2, 3] and stored_version(ws.store) == 3
        assert ws.store.count("audit_log") == logged  # the broken step's write was rolled back with it
        upgrade(ws.store, (note(2), note(3)))
        assert seen == [2, 3] and stored_version(ws.store) == 10
