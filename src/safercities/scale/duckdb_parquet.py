"""The count cube with DuckDB over a GeoParquet export: the one-machine engine on the files Spark reads.

A store in memory whose ``incidents`` and ``offence_codes`` tables are views over the export's Parquet
files runs the workspace's own cube query (:meth:`safercities.store.duckdb.DuckDBStore.cube`) unchanged, so
the comparison with Spark is like with like: same files, same question, same answer expected.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from safercities.errors import InputError, check_choice
from safercities.scale.export import INCIDENTS, read_lineage, read_manifest
from safercities.store.base import PERIODS
from safercities.store.duckdb import DuckDBStore


def _quoted(path: Path) -> str:
    return "'" + str(path.resolve()).replace("'", "''") + "'"


def parquet_store(folder: Path | str, threads: int | None = None, memory_limit: str | None = None) -> DuckDBStore:
    """An in-memory DuckDB store reading the export's incidents and offence codes in place (no copy)."""
    folder = Path(folder)
    read_manifest(folder)  # a clear error when the folder is not an export
    store = DuckDBStore(Path(":memory:"))
    con = store.con
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        con.execute("SET memory_limit = ?", [memory_limit])
    pattern = folder / INCIDENTS / "*" / "*.parquet"
    has_incidents = any((folder / INCIDENTS).glob("*/*.parquet"))
    con.execute("DROP TABLE incidents")
    con.execute("DROP TABLE offence_codes")
    if has_incidents:
        con.execute(
            f"CREATE VIEW incidents AS SELECT * EXCLUDE (geometry) "
            f"FROM read_parquet({_quoted(pattern)}, hive_partitioning = true)"
        )
    else:  # an export of a workspace without incidents: an empty table of the right shape
        con.execute("CREATE TABLE incidents (area_id VARCHAR, iccs_code VARCHAR, occurred_from TIMESTAMPTZ)")
    con.execute(f"CREATE VIEW offence_codes AS SELECT * FROM read_parquet({_quoted(folder / 'offence_codes.parquet')})")
    return store


def duckdb_cube(
    folder: Path | str,
    by: str = "month",
    level: str | None = None,
    timezone: str | None = None,
    *,
    store: DuckDBStore | None = None,
) -> pd.DataFrame:
    """The cube of ``ws.cube(by, level)`` computed by DuckDB from the export in ``folder``.

    Pass a ``store`` from :func:`parquet_store` to reuse one connection across calls.
    """
    check_choice("by", by, PERIODS, "duckdb_cube")
    manifest = read_manifest(folder)
    level = level or manifest.default_level
    if level not in manifest.levels:
        raise InputError(f"unknown area level '{level}'; the export has {', '.join(manifest.levels)}")
    own = store is None
    store = store or parquet_store(folder)
    try:
        return store.cube(by, read_lineage(folder, level), store.iccs_sections(), timezone or manifest.timezone)
    finally:
        if own:
            store.close()
