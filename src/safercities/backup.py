"""Backup and restore: a workspace as one portable archive, and back, checked table by table.

The archive is a zip file that any tool opens: ``manifest.json``, the workspace's ``safercities.toml``
and ``tables/<table>.parquet`` (one Parquet file per canonical table, geometry as WKB, times in UTC).
It does not depend on the backend: a DuckDB workspace restores into PostgreSQL and back.

The manifest holds, per table, the row count, the SHA-256 of its Parquet file (is the archive intact?)
and a content hash (does the restored store hold the same rows?). The content hash does not depend on
row order or on the backend: each row is hashed (pandas' ``hash_pandas_object``, a keyed SipHash of
every column), the row hashes are sorted, and the sorted array is hashed with SHA-256.

A backup reads every table in one snapshot (a read-only repeatable-read transaction on PostgreSQL),
so that an import committing meanwhile is either wholly in it or not at all. A restore writes every
table in one transaction and compares counts and content hashes before it commits: a damaged archive
or a store that would differ leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import safercities
from safercities.config import CONFIG_NAME, load_config, save_config
from safercities.errors import InputError, WorkspaceError
from safercities.schema import SCHEMA_VERSION, TABLES
from safercities.store import DuckDBStore, PostgresStore, new_database, open_store
from safercities.store.migrations import stored_version, upgrade
from safercities.store.postgres import arrow_type
from safercities.workspace import Workspace

FORMAT = "safercities-backup/1"
CONTENT_HASH = "sorted-row-siphash-sha256/1"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class TableEntry:
    """One table in the archive."""

    rows: int
    content_sha256: str
    file: str
    file_sha256: str


@dataclass(frozen=True)
class Manifest:
    """What an archive holds and how to check it."""

    format: str
    safercities: str
    schema_version: int
    created_at: str
    workspace: str
    backend: str
    content_hash: str
    tables: dict[str, TableEntry]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        tables = {name: TableEntry(**entry) for name, entry in data.pop("tables").items()}
        return cls(**data, tables=tables)


def content_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of the sorted row hashes: the same rows give the same hash, in any order and from any backend."""
    if frame.empty:
        rows = np.array([], dtype=np.uint64)
    else:
        rows = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64))
    digest = hashlib.sha256(",".join(frame.columns).encode())
    digest.update(rows.astype("<u8").tobytes())
    return digest.hexdigest()


def _arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """A table as read from a store, with the Arrow types of its declared columns."""
    columns = []
    for name, sqltype in TABLES[table].items():
        wanted = arrow_type(sqltype)
        values = frame[name]
        if pa.types.is_binary(wanted):
            column = pa.array([None if v is None or v is pd.NA else bytes(v) for v in values], pa.binary())
        else:
            column = pa.array(values, from_pandas=True)
            column = column.cast(wanted) if column.type != wanted else column
        columns.append(column)
    return pa.table(columns, names=list(TABLES[table]))


@contextlib.contextmanager
def _snapshot(store: DuckDBStore | PostgresStore) -> Iterator[None]:
    """Every read inside sees the store at one instant."""
    if isinstance(store, PostgresStore):
        with store.con.transaction():
            store.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        with store.transaction():
            yield


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def backup(ws: Workspace, out: Path | str) -> Manifest:
    """Write the whole workspace into the archive ``out`` (a new ``.zip`` file); its manifest."""
    out = Path(out)
    if out.exists():
        raise InputError("the backup file exists already; choose another name", file=out)
    if not out.parent.is_dir():
        raise InputError("the folder of the backup file does not exist", file=out)
    entries: dict[str, TableEntry] = {}
    partial = out.with_name(out.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive, _snapshot(ws.store):
            version = stored_version(ws.store)
            for table in TABLES:
                frame = ws.store.read(table)
                buffer = io.BytesIO()
                pq.write_table(_arrow(table, frame), buffer, compression="zstd")
                data = buffer.getvalue()
                name = f"tables/{table}.parquet"
                archive.writestr(name, data)
                entries[table] = TableEntry(len(frame), content_hash(frame), name, _sha256(data))
            manifest = Manifest(
                format=FORMAT,
                safercities=safercities.__version__,
                schema_version=version,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                workspace=ws.config.name,
                backend="postgresql" if isinstance(ws.store, PostgresStore) else "duckdb",
                content_hash=CONTENT_HASH,
                tables=entries,
            )
            archive.writestr(CONFIG_NAME, (ws.root / CONFIG_NAME).read_bytes())
            archive.writestr(MANIFEST, manifest.to_json())
        partial.replace(out)  # the archive appears whole or not at all
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def read_archive(archive: Path | str) -> tuple[Manifest, zipfile.ZipFile]:
    """Open an archive and check it: format, and every file against its SHA-256 in the manifest."""
    path = Path(archive)
    if not path.is_file():
        raise InputError("backup file not found", file=path)
    try:
        opened = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(f"not a safercities backup or a damaged one: {exc}", file=path) from exc
    try:
        manifest = Manifest.from_json(opened.read(MANIFEST).decode("utf-8"))
    except (KeyError, ValueError, TypeError) as exc:
        opened.close()
        raise InputError(f"the backup has no readable {MANIFEST} ({exc}): damaged or not a backup", file=path) from exc
    if manifest.format != FORMAT or manifest.content_hash != CONTENT_HASH:
        opened.close()
        raise InputError(f"unknown backup format {manifest.format!r}; this safercities reads {FORMAT!r}", file=path)
    if manifest.schema_version > SCHEMA_VERSION:
        opened.close()
        raise InputError(
            f"the backup comes from a newer safercities (schema {manifest.schema_version} > {SCHEMA_VERSION}); "
            "upgrade safercities to restore it",
            file=path,
        )
    for table, entry in manifest.tables.items():
        try:
            data = opened.read(entry.file)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
            opened.close()
            raise InputError(f"damaged backup: cannot read {entry.file} ({exc})", file=path) from exc
        if _sha256(data) != entry.file_sha256:
            opened.close()
            raise InputError(
                f"damaged backup: {entry.file} does not match its SHA-256 in the manifest (table {table})", file=path
            )
    return manifest, opened


@dataclass(frozen=True)
class RestoreResult:
    """A restored workspace's folder, its store, and what was checked."""

    root: Path
    database: str
    tables: int
    rows: int
    upgraded: tuple[str, ...]


def restore(archive: Path | str, folder: Path | str, database: str | None = None) -> RestoreResult:
    """Make a new workspace in ``folder`` from an archive, check it equals the original, then commit.

    ``database`` chooses the new store (a DuckDB file name or a ``postgresql://`` URL; default: the
    ``SAFERCITIES_DATABASE`` environment variable, as for ``init``, else ``store.duckdb``). Nothing is left
    in ``folder`` or the database when any check fails.
    """
    root = Path(folder)
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root} is already a workspace: restore into a new folder")
    manifest, opened = read_archive(archive)
    with opened:
        config_text = opened.read(CONFIG_NAME).decode("utf-8")
        made_folder = not root.exists()
        root.mkdir(parents=True, exist_ok=True)
        store: DuckDBStore | PostgresStore | None = None
        try:
            (root / CONFIG_NAME).write_text(config_text, encoding="utf-8")
            config = load_config(root)
            chosen = database or os.environ.get("SAFERCITIES_DATABASE") or "store.duckdb"
            config = config.with_(database=new_database(root, chosen, config.name))
            save_config(root, config)
            store = open_store(root, config.database, config.name)
            rows = _load(store, manifest, opened, Path(archive))
            upgraded = tuple(upgrade(store)) if manifest.schema_version < SCHEMA_VERSION else ()
        except BaseException:
            _remove(root, made_folder, store, config_text)
            raise
        store.close()
    return RestoreResult(root, config.database, len(manifest.tables), rows, upgraded)


def _load(store: DuckDBStore | PostgresStore, manifest: Manifest, opened: zipfile.ZipFile, path: Path) -> int:
    """Write every table of the archive and compare the store's counts and hashes with the manifest."""
    total = 0
    with store.transaction():
        store.delete("meta", "TRUE", [])
        for table, entry in manifest.tables.items():
            if table not in TABLES:
                raise InputError(f"the backup holds a table this safercities does not know: {table}", file=path)
            rows = pq.read_table(io.BytesIO(opened.read(entry.file)))
            store.append(table, rows)
        for table, entry in manifest.tables.items():
            frame = store.read(table)
            archived = set(pq.read_schema(io.BytesIO(opened.read(entry.file))).names)
            columns = [c for c in frame.columns if c in archived]  # an older archive lacks the newer columns
            got = (len(frame), content_hash(frame[columns]))
            if got != (entry.rows, entry.content_sha256):
                raise WorkspaceError(
                    f"the restored table {table} differs from the original ({got[0]} rows, hash {got[1][:12]}; "
                    f"expected {entry.rows} rows, hash {entry.content_sha256[:12]}): nothing was restored"
                )
            total += entry.rows
    return total


def _remove(root: Path, made_folder: bool, store: DuckDBStore | PostgresStore | None, config_text: str) -> None:
    """Undo a failed restore: the new store, its schema on a server, the settings file, the folder we made."""
    if store is not None:
        if isinstance(store, PostgresStore):
            with contextlib.suppress(Exception):
                from psycopg import sql

                store.con.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(store.schema)))
        store.close()
        if isinstance(store, DuckDBStore):
            for leftover in (store.path, store.path.with_name(store.path.name + ".wal")):
                leftover.unlink(missing_ok=True)
    (root / CONFIG_NAME).unlink(missing_ok=True)
    if made_folder:
        shutil.rmtree(root, ignore_errors=True)


def verify(ws: Workspace, archive: Path | str) -> dict[str, tuple[int, int, bool]]:
    """Compare a workspace with an archive: per table (rows now, rows in the archive, same content?)."""
    manifest, opened = read_archive(archive)
    opened.close()
    out = {}
    with _snapshot(ws.store):
        for table, entry in manifest.tables.items():
            frame = ws.store.read(table) if table in TABLES else pd.DataFrame()
            out[table] = (len(frame), entry.rows, content_hash(frame) == entry.content_sha256)
    return out


__all__ = ["Manifest", "RestoreResult", "backup", "content_hash", "read_archive", "restore", "verify"]
