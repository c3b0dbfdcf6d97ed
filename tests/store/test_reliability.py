"""Bad days, on loopback and bounded in time: imports killed, a server restarted or killed, a full disk.

Every fault hits an import of the synthetic city's second half (file B) after import A (the first half)
was committed. An import is caught "mid-way" deterministically: the test holds a lock on ``audit_log``,
which the import writes last in its transaction, so the import stops there with its incidents, rejects
and ledger row written but not committed (the test checks it holds a write lock on ``incidents``).
Then the fault is injected, and the test checks that

* nothing half-written is visible and nothing committed is lost: every table's row count and content
  hash equal those before the import began;
* the importer failed with a message, not a traceback (for the server faults);
* importing B again succeeds.

Each test prints what it injected and what it found. The server faults need ``SAFERCITIES_TEST_PG_CTL``
(a script taking start|stop|restart|kill; ``.ci/run`` writes one for its loopback server).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

import pgkit
from safercities.backup import content_hash
from safercities.schema import TABLES
from safercities.sim import simulate
from safercities.store.postgres import split_url, with_schema
from safercities.workspace import Workspace, init, open_workspace

pytestmark = pytest.mark.postgres
WAIT_S = 60.0


@dataclass(frozen=True)
class Files:
    areas: Path
    mapping: Path
    a: Path
    b: Path
    rows_a: int
    rows_b: int


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """The synthetic city (seed 0) with its incident file cut in two halves, A and B."""
    city = simulate(tmp_path_factory.mktemp("reliability-city"), seed=0)
    header, *lines = city.incidents.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    a, b = city.mapping.parent / "incidents_a.csv", city.mapping.parent / "incidents_b.csv"
    a.write_bytes(header + b"".join(lines[:half]))
    b.write_bytes(header + b"".join(lines[half:]))
    return Files(city.areas, city.mapping, a, b, half, len(lines) - half)


def _say(capsys: pytest.CaptureFixture[str], message: str) -> None:
    with capsys.disabled():
        print(f"\n  [fault] {message}", end="")


def state(root: Path) -> dict[str, tuple[int, str]]:
    """Row count and content hash of every table."""
    with open_workspace(root, read_only=True) as ws:
        return {table: (ws.store.count(table), content_hash(ws.store.read(table))) for table in TABLES}


def spawn_import(root: Path, files: Files, path: Path, name: str) -> subprocess.Popen[str]:
    """`safercities import incidents` in a process of its own, known to the server as ``name``."""
    command = [sys.executable, "-c", "from safercities.cli.app import main; main()"]
    command += ["import", "incidents", str(path), "--mapping", str(files.mapping), "-w", str(root)]
    env = {**os.environ, "PGAPPNAME": name, "COLUMNS": "200"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run_import(root: Path, files: Files, path: Path) -> tuple[int, str]:
    process = spawn_import(root, files, path, "safercities-retry")
    out, _ = process.communicate(timeout=WAIT_S * 2)
    return process.returncode, out


@contextlib.contextmanager
def audit_log_held(url: str, schema: str) -> Iterator[psycopg.Connection]:
    """Hold a lock that stops every writer of ``audit_log`` (the last table an import writes)."""
    con = psycopg.connect(split_url(url)[0])
    try:
        con.execute(f'LOCK TABLE "{schema}".audit_log IN SHARE ROW EXCLUSIVE MODE')
        yield con
    finally:
        with contextlib.suppress(psycopg.Error):
            con.rollback()
        con.close()


def wait_for(url: str, name: str, condition: str, process: subprocess.Popen[str] | None = None) -> int:
    """The server pid of session ``name`` once it meets ``condition`` (SQL over pg_stat_activity)."""
    deadline = time.monotonic() + WAIT_S
    with psycopg.connect(split_url(url)[0], autocommit=True) as con:
        while time.monotonic() < deadline:
            row = con.execute(
                f"SELECT pid FROM pg_stat_activity WHERE application_name = %s AND {condition}", [name]
            ).fetchone()
            if row:
                return int(row[0])
            if process is not None and process.poll() is not None:
                raise AssertionError(f"{name} ended before the fault: {process.communicate()[0]}")
            time.sleep(0.05)
    raise AssertionError(f"session {name} never met {condition} within {WAIT_S} s")


def blocked_mid_import(url: str, schema: str, name: str, process: subprocess.Popen[str]) -> int:
    """Wait until the import is stuck on audit_log with its incidents written (uncommitted); its server pid."""
    pid = wait_for(url, name, "wait_event_type = 'Lock' AND query LIKE 'COPY \"audit_log\"%%'", process)
    with psycopg.connect(split_url(url)[0], autocommit=True) as con:
        held = con.execute(
            "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE l.pid = %s AND n.nspname = %s AND c.relname = 'incidents' AND l.granted",
            [pid, schema],
        ).fetchall()
    assert ("RowExclusiveLock",) in held, held  # it has written incidents
    return pid


def gone(url: str, pid: int) -> None:
    deadline = time.monotonic() + WAIT_S
    with psycopg.connect(split_url(url)[0], autocommit=True) as con:
        while con.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, f"server session {pid} outlived its client"
            time.sleep(0.05)


@pytest.fixture
def workspace(files: Files, tmp_path: Path, pg_url: str) -> Iterator[tuple[Path, str, str]]:
    """A PostgreSQL workspace holding the areas and import A: (folder, URL, schema)."""
    schema = f"test_fault_{os.getpid()}_{abs(hash(tmp_path.name)) % 10**6}"
    with init(tmp_path / "ws", name="Fallas", crs="EPSG:32614", database=with_schema(pg_url, schema)) as ws:
        ws.import_areas(
            files.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(files.a, mapping=files.mapping)
    yield tmp_path / "ws", pg_url, schema
    _server("start", check=False)
    pgkit.drop_schemas(pg_url, {schema})


def import_areas(ws: Workspace, files: Files) -> None:
    ws.import_areas(files.areas, id="area_id", name="name", population="population", level="level", parent="parent_id")


def _server(action: str, check: bool = True) -> None:
    script = os.environ.get("SAFERCITIES_TEST_PG_CTL")
    if not script:
        if check:
            pytest.skip("SAFERCITIES_TEST_PG_CTL (a script: start|stop|restart|kill of the test server) is not set")
        return
    subprocess.run([script, action], check=check, timeout=120, capture_output=True)


def _accepted(root: Path) -> int:
    with open_workspace(root, read_only=True) as ws:
        return ws.store.count("incidents")


def test_sigkill_of_an_import_mid_way(workspace, files: Files, capsys) -> None:  # type: ignore[no-untyped-def]
    root, url, schema = workspace
    before = state(root)
    with audit_log_held(url, schema):
        process = spawn_import(root, files, files.b, "safercities-victim")
        pid = blocked_mid_import(url, schema, "safercities-victim", process)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=WAIT_S)
    gone(url, pid)
    after = state(root)
    _say(
        capsys,
        f"SIGKILL of an import holding {files.rows_b:,} rows uncommitted -> tables equal before: "
        f"{after == before}; incidents {after['incidents'][0]:,}",
    )
    assert after == before
    code, out = run_import(root, files, files.b)
    assert code == 0, out
    assert _accepted(root) > before["incidents"][0]


@pytest.mark.parametrize("fault", ["restart", "kill"])
def test_the_server_restarted_or_killed_during_an_import(workspace, files: Files, fault: str, capsys) -> None:  # type: ignore[no-untyped-def]
    root, url, schema = workspace
    if not os.environ.get("SAFERCITIES_TEST_PG_CTL"):
        pytest.skip("SAFERCITIES_TEST_PG_CTL (a script: start|stop|restart|kill of the test server) is not set")
    before = state(root)
    with audit_log_held(url, schema):
        process = spawn_import(root, files, files.b, "safercities-victim")
        blocked_mid_import(url, schema, "safercities-victim", process)
        _server(fault)
        if fault == "kill":
            _server("start")  # crash recovery
        out, _ = process.communicate(timeout=WAIT_S)
    lines = [line for line in out.splitlines() if line.strip()]
    assert process.returncode == 2 and "Traceback" not in out, out
    assert lines[-1].startswith("error:") and "connection to the PostgreSQL server was lost" in out, out
    after = state(root)
    _say(
        capsys,
        f"server {fault} during an import -> importer said {lines[-1][:70]!r}...; "
        f"tables equal before: {after == before}",
    )
    assert after == before
    code, out = run_import(root, files, files.b)
    assert code == 0, out


def test_a_reader_never_sees_half_an_import(workspace, files: Files, capsys) -> None:  # type: ignore[no-untyped-def]
    root, url, schema = workspace
    before = state(root)
    with open_workspace(root, read_only=True) as reader:
        with audit_log_held(url, schema) as lock:
            process = spawn_import(root, files, files.b, "safercities-writer")
            blocked_mid_import(url, schema, "safercities-writer", process)
            seen_mid = (reader.store.count("incidents"), reader.store.count("imports"), reader.cube(by="year"))
            lock.rollback()  # let it commit
            out, _ = process.communicate(timeout=WAIT_S)
        assert process.returncode == 0, out
        seen_after = (reader.store.count("incidents"), reader.store.count("imports"))
    assert seen_mid[:2] == (before["incidents"][0], before["imports"][0])
    assert seen_mid[2]["count"].sum() == before["incidents"][0]
    assert seen_after[0] > before["incidents"][0] and seen_after[1] == before["imports"][0] + 1
    _say(
        capsys,
        f"a reader during an uncommitted import saw {seen_mid[0]:,} incidents (before: "
        f"{before['incidents'][0]:,}), after its commit {seen_after[0]:,}",
    )


def test_two_imports_of_the_same_file_at_once_make_one(workspace, files: Files, capsys) -> None:  # type: ignore[no-untyped-def]
    root, url, schema = workspace
    before = state(root)
    with audit_log_held(url, schema) as lock:
        first = spawn_import(root, files, files.b, "safercities-first")
        blocked_mid_import(url, schema, "safercities-first", first)
        second = spawn_import(root, files, files.b, "safercities-second")
        # the second reaches the commit and waits on the workspace's import lock
        wait_for(url, "safercities-second", "wait_event_type = 'Lock' AND wait_event = 'advisory'", second)
        lock.rollback()
        out1, _ = first.communicate(timeout=WAIT_S)
        out2, _ = second.communicate(timeout=WAIT_S)
    assert first.returncode == 0, out1
    assert second.returncode == 2 and "imported meanwhile" in " ".join(out2.split()), out2
    with open_workspace(root, read_only=True) as ws:
        ledger = ws.store.read("imports", "kind = ? AND status = 'committed'", ["incidents"])
        assert ledger["sha256"].is_unique and len(ledger) == 2  # A and B, once each
        ids = ws.store.read("incidents")["incident_id"]
        assert ids.is_unique and len(ids) > before["incidents"][0]
    _say(
        capsys,
        f"two imports of one file at once -> one committed ({len(ids):,} incidents); the other said "
        f"{out2.strip().splitlines()[-1][:60]!r}...",
    )


def test_the_ledger_refuses_a_second_committed_row_for_a_file(workspace) -> None:  # type: ignore[no-untyped-def]
    root, _, _ = workspace
    with open_workspace(root) as ws:
        row = ws.store.read("imports", "kind = ?", ["incidents"]).assign(import_id=99)
        import pyarrow as pa

        with pytest.raises(psycopg.errors.UniqueViolation), ws.store.con.transaction():
            ws.store.append("imports", pa.Table.from_pandas(row, preserve_index=False))


# -- a full disk, for a DuckDB workspace -------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs of our own (needs root or CAP_SYS_ADMIN; skips otherwise)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, capture_output=True)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the file system of ``folder`` until only ``leave`` bytes are free."""
    filler = folder / "filler.bin"
    block = b"\0" * (1 << 20)
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(block)
            handle.flush()
    stat = os.statvfs(folder)
    size = filler.stat().st_size - max(0, leave - stat.f_bavail * stat.f_frsize)
    os.truncate(filler, max(0, size))
    return filler


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_import_onto_a_full_disk_fails_cleanly(small_disk: Path, files: Files, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SAFERCITIES_DATABASE", raising=False)
    root = small_disk / "ws"
    with init(root, name="Disco", crs="EPSG:32614", database="store.duckdb") as ws:
        ws.import_areas(
            files.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(files.a, mapping=files.mapping)
    before = state(root)
    filler = _fill(small_disk, leave=256 * 1024)
    code, out = run_import(root, files, files.b)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.unlink()
    last = [line for line in out.splitlines() if line.strip()][-1:]
    _say(capsys, f"import onto a full disk ({free // 1024} KiB free) -> exit {code}, {last[0][:80] if last else ''!r}")
    assert code == 2 and "Traceback" not in out and last and last[0].startswith("error:"), out  # one clear line
    after = state(root)
    assert after == before
    code, out = run_import(root, files, files.b)
    assert code == 0, out
