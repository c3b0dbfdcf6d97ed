"""Backup and restore: a workspace comes back equal (counts, content hashes, the cube), on and across backends;
a damaged archive is refused and a failed restore leaves nothing."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import analysiskit as ak
from safercities.backup import Manifest, backup, content_hash, read_archive, restore, verify
from safercities.cli import backup_cmds
from safercities.errors import InputError, WorkspaceError
from safercities.schema import TABLES
from safercities.store import PostgresStore
from safercities.store.postgres import with_schema
from safercities.workspace import Workspace, open_workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> ak.City:
    """The hand-built city in DuckDB, with a user account (a table of another module) besides its data."""
    city = ak.build(tmp_path_factory.mktemp("backup-city"), plain=False)
    from safercities.web.accounts import create_user

    with open_workspace(city.root) as ws:
        create_user(ws, "ana", "a long passphrase 42", "analyst", by="test")
    return city


def _tables(ws: Workspace) -> dict[str, pd.DataFrame]:
    out = {}
    for table in TABLES:
        frame = ws.store.read(table)
        out[table] = frame.sort_values(list(frame.columns[:3]), kind="stable").reset_index(drop=True)
    return out


def _assert_same(a: Workspace, b: Workspace) -> None:
    ta, tb = _tables(a), _tables(b)
    for table in TABLES:
        pd.testing.assert_frame_equal(ta[table], tb[table], obj=table)
    pd.testing.assert_frame_equal(a.cube(by="month"), b.cube(by="month"))


def test_content_hash_ignores_row_order_but_not_content() -> None:
    frame = pd.DataFrame({"a": ["x", "y", None], "b": [1.0, 2.0, 3.0], "g": [b"\x01", None, b"\x02"]})
    assert content_hash(frame) == content_hash(frame.iloc[::-1].reset_index(drop=True))
    assert content_hash(frame) != content_hash(frame.assign(b=[1.0, 2.0, 3.5]))
    assert content_hash(frame) != content_hash(frame.iloc[:2])
    assert content_hash(frame) != content_hash(pd.concat([frame, frame.iloc[:1]], ignore_index=True))


def test_duckdb_backup_restores_equal(built: ak.City, tmp_path: Path) -> None:
    archive = tmp_path / "city.zip"
    with open_workspace(built.root, read_only=True) as ws:
        manifest = backup(ws, archive)
    with open_workspace(built.root, read_only=True) as ws:
        backend = "postgresql" if isinstance(ws.store, PostgresStore) else "duckdb"
    assert manifest.backend == backend and set(manifest.tables) == set(TABLES)
    assert manifest.tables["incidents"].rows == len(built.incidents)
    assert manifest.tables["users"].rows == 1
    result = restore(archive, tmp_path / "restored")
    assert result.rows == sum(e.rows for e in manifest.tables.values())
    with open_workspace(built.root, read_only=True) as a, open_workspace(result.root, read_only=True) as b:
        _assert_same(a, b)
        assert b.config.name == a.config.name and b.config.timezone == a.config.timezone
        assert all(same for _, _, same in verify(b, archive).values())


@pytest.mark.postgres
def test_backups_cross_backends_and_keep_their_hashes(built: ak.City, tmp_path: Path) -> None:
    """DuckDB -> PostgreSQL -> DuckDB: every table equal at each step, and the three manifests agree."""
    import pgkit

    url = pgkit.server_url()
    schema = "test_backup_cross"
    try:
        first = tmp_path / "first.zip"
        with open_workspace(built.root, read_only=True) as ws:
            m1 = backup(ws, first)
        restored = restore(first, tmp_path / "pg", database=with_schema(url, schema))
        with open_workspace(restored.root) as pg:
            assert isinstance(pg.store, PostgresStore)
            with open_workspace(built.root, read_only=True) as duck:
                _assert_same(duck, pg)
            m2 = backup(pg, tmp_path / "second.zip")
        back = restore(tmp_path / "second.zip", tmp_path / "duck-again")
        with open_workspace(back.root, read_only=True) as again, open_workspace(built.root, read_only=True) as duck:
            _assert_same(duck, again)
        assert m2.backend == "postgresql"
        assert {t: (e.rows, e.content_sha256) for t, e in m1.tables.items()} == {
            t: (e.rows, e.content_sha256) for t, e in m2.tables.items()
        }
    finally:
        pgkit.drop_schemas(url, {schema})


def _rewrite(archive: Path, target: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            dst.writestr(item.filename, change.get(item.filename, src.read(item.filename)))


@pytest.fixture(scope="module")
def archive(built: ak.City, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive") / "city.zip"
    with open_workspace(built.root, read_only=True) as ws:
        backup(ws, out)
    return out


def test_a_flipped_byte_is_refused(archive: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(archive) as z:
        data = bytearray(z.read("tables/incidents.parquet"))
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    _rewrite(archive, damaged, {"tables/incidents.parquet": bytes(data)})
    with pytest.raises(InputError, match=r"damaged backup: tables/incidents.parquet does not match its SHA-256"):
        restore(damaged, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_truncated_archive_is_refused(archive: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "truncated.zip"
    damaged.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(InputError, match="damaged"):
        restore(damaged, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_restore_that_would_differ_leaves_nothing(archive: Path, tmp_path: Path) -> None:
    """A manifest that promises other rows than its files hold: the check before commit catches it."""
    manifest = Manifest.from_json(zipfile.ZipFile(archive).read("manifest.json").decode())
    data = json.loads(manifest.to_json())
    data["tables"]["incidents"]["rows"] += 1
    lying = tmp_path / "lying.zip"
    _rewrite(archive, lying, {"manifest.json": json.dumps(data).encode()})
    target = tmp_path / "existing"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(WorkspaceError, match="restored table incidents differs from the original"):
        restore(lying, target)
    assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]  # what was there before stays, alone


def test_read_archive_checks_the_format(tmp_path: Path) -> None:
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    with pytest.raises(InputError, match="not a safercities backup"):
        read_archive(not_zip)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(InputError, match="no readable manifest.json"):
        read_archive(empty)


def _cli() -> typer.Typer:
    app = typer.Typer()
    backup_cmds.register(app, typer.Typer())
    return app


def test_the_cli_backs_up_checks_and_restores(built: ak.City, tmp_path: Path) -> None:
    runner, app = CliRunner(), _cli()
    out = tmp_path / "cli.zip"
    result = runner.invoke(app, ["backup", str(out), "-w", str(built.root)])
    assert result.exit_code == 0, result.output
    assert "backup" in result.output and out.exists()
    result = runner.invoke(app, ["backup-check", str(out), "-w", str(built.root)])
    assert result.exit_code == 0 and "equals it" in result.output, result.output
    result = runner.invoke(app, ["restore", str(out), str(tmp_path / "ws")])
    assert result.exit_code == 0 and "content hashes equal" in " ".join(result.output.split()), result.output
    again = runner.invoke(app, ["restore", str(out), str(tmp_path / "ws")])
    assert again.exit_code == 2 and "already a workspace" in again.output
    assert "Traceback" not in again.output
    exists = runner.invoke(app, ["backup", str(out), "-w", str(built.root)])
    assert exists.exit_code == 2 and "exists already" in exists.output
