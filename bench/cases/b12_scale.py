"""B12: the count cube beyond one machine: Spark (local mode) and DuckDB over GeoParquet vs the workspace store.

Input (built once per size into a cache folder under the system temp dir, not timed): B2's workspace
(1,000 Voronoi areas in Mexico City, EPSG:32614; 1e6 / 1e7 / 5e7 incidents uniform over 2023-2024,
inserted directly with ``ws.store.append``; :func:`bench.cases.b2_cube.workspace_folder`), exported with
:func:`safercities.scale.export.export_geoparquet` (GeoParquet, one file per local month, partitioned by
local year, zstd).

Two workloads per size, each against the same peer:

* ``engine=spark``: ours is :func:`safercities.scale.spark.spark_cube` in a ``local[2]`` session (2 cores,
  the whole of this machine; driver memory 4 GiB; 4 shuffle partitions), started in ``prepare`` (warm) or
  in the call (cold);
* ``engine=duckdb-parquet``: ours is :func:`safercities.scale.duckdb_parquet.duckdb_cube`, the workspace's
  own cube query run by DuckDB over the exported files (no copy into a database).

Peer: ``ws.cube(by="month")`` on the workspace's DuckDB file: one machine, the default deployment.
Exactness: the two cubes are equal cell for cell, zeros included (area × month × ICCS section).
Memory: the harness measures the Python process; Spark's work happens in its JVM, whose peak resident set
(``VmHWM`` of the JVM process after one cube) is given in the notes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.harness import Prepared

ID = "B12"
TITLE = "cube at scale: Spark / DuckDB over GeoParquet"
GOAL = 10.0
"""On one machine Spark is not expected to beat DuckDB: the goal bounds its overhead (JVM, shuffle) at ×10."""
PEER = "ws.cube on the DuckDB store"
ROWS = {"S": 1_000_000, "M": 10_000_000, "L": 50_000_000}
VERSION = 1
ENGINES = ("spark", "duckdb-parquet")
SPARK = {"cores": 2, "shuffle_partitions": 4, "driver_memory": "4g"}


def _java_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    from safercities.scale.spark import java_missing

    return java_missing()


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    engines = [e for e in ENGINES if e != "spark" or _java_missing() is None]
    return [{"rows": ROWS[size], "areas": 1_000, "engine": engine} for engine in engines]


def _label(param: dict[str, Any]) -> str:
    rows = f"{param['rows']:.0e}".replace("e+0", "e")
    return f"{rows} incidents × month, {param['areas'] // 1000}k areas, {param['engine']}"


def export_folder(param: dict[str, Any]) -> Path:
    """The GeoParquet export of B2's workspace for ``param``, built once (atomic rename)."""
    import shutil
    import tempfile

    from bench.cases.b0_import import cache_root
    from bench.cases.b2_cube import workspace_folder
    from safercities.scale.export import export_geoparquet
    from safercities.workspace import open_workspace

    folder = cache_root() / f"b12-v{VERSION}-{param['rows']}-{param['areas']}"
    if (folder / "done").exists():
        return folder / "export"
    source = workspace_folder({"rows": param["rows"], "areas": param["areas"]}) / "ws"
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=cache_root()))
    try:
        with open_workspace(source) as ws:  # writable: brings B2's cached store up to the current schema
            export_geoparquet(ws, work / "export", record=False)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    (work / "done").write_text("ok")
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return folder / "export"


class Cube:
    """A cube frame; ``tobytes`` (for the harness digest) hashes its content."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def tobytes(self) -> bytes:
        import pandas as pd

        return pd.util.hash_pandas_object(self.frame, index=False).to_numpy().tobytes()


def check(ours: Cube, peer: Cube) -> None:
    import pandas as pd

    a, b = ours.frame, peer.frame
    assert len(a) == len(b), f"ours has {len(a)} cells, the peer {len(b)}"
    try:
        pd.testing.assert_frame_equal(a, b)
    except AssertionError as exc:
        raise AssertionError(f"the cubes differ: {str(exc)[:300]}") from None


def _session() -> Any:
    from safercities.scale.spark import local_session

    return local_session(app_name="safercities-bench", **SPARK)  # type: ignore[arg-type]


def _jvm_peak_bytes(spark: Any) -> int | None:
    """Peak resident set of the Spark driver's JVM (local mode: the whole of Spark)."""
    try:
        pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, AttributeError):
        return None
    return None


def _disk(folder: Path) -> str:
    size = sum(p.stat().st_size for p in folder.rglob("*.parquet"))
    return f"{size / 2**20:.0f} MiB"


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    from bench.cases.b2_cube import workspace_folder
    from safercities.workspace import open_workspace

    export = export_folder(param)
    ws = open_workspace(workspace_folder({"rows": param["rows"], "areas": param["areas"]}) / "ws", read_only=True)
    notes = {"incidents": f"{ws.store.count('incidents'):,}", "GeoParquet": _disk(export)}
    if param["engine"] == "spark":
        from safercities.scale.spark import spark_cube

        t0 = time.perf_counter()
        spark = _session()
        notes["Spark start"] = f"{time.perf_counter() - t0:.1f}s"
        t0 = time.perf_counter()
        spark_cube(spark, export)  # the first cube compiles Spark's code: noted, not in the median
        notes["first Spark cube"] = f"{time.perf_counter() - t0:.1f}s"
        peak = _jvm_peak_bytes(spark)
        notes["JVM peak RSS"] = "?" if peak is None else f"{peak / 2**20:.0f} MiB"

        def ours() -> Cube:
            return Cube(spark_cube(spark, export))
    else:
        from safercities.scale.duckdb_parquet import duckdb_cube, parquet_store

        store = parquet_store(export)

        def ours() -> Cube:
            return Cube(duckdb_cube(export, store=store))

    return Prepared(label=_label(param), ours=ours, peer=lambda: Cube(ws.cube(by="month")), check=check, notes=notes)


def cold_import(side: str) -> None:
    if side == "ours":  # pyspark itself is imported in the call, with the JVM (it does not know the engine here)
        import safercities.scale.duckdb_parquet  # noqa: F401
        import safercities.scale.spark  # noqa: F401
    else:
        import safercities.workspace  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    from bench.cases.b2_cube import workspace_folder

    return {"export": export_folder(param), "ws": workspace_folder(param) / "ws"}


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    if side == "peer":
        from safercities.workspace import open_workspace

        with open_workspace(inputs["ws"], read_only=True) as ws:
            return Cube(ws.cube(by="month"))
    if param["engine"] == "spark":  # cold: the JVM starts inside the call
        from safercities.scale.spark import spark_cube

        spark = _session()
        try:
            return Cube(spark_cube(spark, inputs["export"]))
        finally:
            spark.stop()
    from safercities.scale.duckdb_parquet import duckdb_cube

    return Cube(duckdb_cube(inputs["export"]))
