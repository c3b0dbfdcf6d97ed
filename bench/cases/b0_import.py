"""B0: import an incidents CSV into the store, with validation and area assignment (1,000 areas).

Inputs (written once per size to a cache folder under the system temp dir, not timed): the B1
generator's Voronoi areas moved to Mexico City in EPSG:32614 (a GeoJSON ``areas.geojson``), and a
police export ``police.csv`` (``id,fecha,clave,lon,lat``; dates ``dd/mm/yyyy HH:MM``; lon/lat with 6
decimals; 2% of the points beyond the city's edge; ~0.1% each of missing dates, impossible dates
and unknown offence codes) with its offence table and mapping TOML (``bench.inputs``). A template
workspace (``sc.init`` + ``import_areas`` + ``area_index()`` cached on disk) is built once.

Ours: ``ws.import_incidents(csv, mapping=toml)`` then ``ws.close()`` (the commit is durable on
disk, as the peer's close is), into a fresh copy of the template (copied and opened beforehand,
untimed; a repeat of the same file is a no-op by design, so each call pops its own copy).
Peer: ``pandas.read_csv`` + ``pd.to_datetime(format=..., errors="coerce")`` + localisation to
America/Mexico_City and conversion to UTC + offence table merge + geopandas ``points_from_xy`` +
``to_crs`` + ``sjoin(predicate="within")`` + the same columns written into a fresh DuckDB file.
Exactness: the same number of rows per area_id in both stores and the same total.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import Prepared

ID = "B0"
TITLE = "import incidents CSV → store"
GOAL = 0.33
PEER = "pandas read_csv + geopandas sjoin + DuckDB write"
ROWS = {"S": 100_000, "M": 1_000_000, "L": 10_000_000}
VERSION = 1  # bump when the inputs change, so that cached folders are rebuilt
POOL = 12  # fresh workspaces prepared in advance (warm-up + repeats); more are copied on demand


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"rows": ROWS[size], "areas": 1_000}]


def _label(param: dict[str, Any]) -> str:
    return f"{param['rows']:.0e} rows, {param['areas'] // 1000}k areas".replace("e+0", "e")


def cache_root() -> Path:
    root = Path(tempfile.gettempdir()) / "safercities-bench"
    root.mkdir(exist_ok=True)
    return root


def inputs_folder(param: dict[str, Any]) -> Path:
    """The folder of inputs and the template workspace for ``param``, built once (atomic rename)."""
    from bench.inputs import TIMEZONE, WORKSPACE_CRS, write_police_files

    folder = cache_root() / f"b0-v{VERSION}-{param['rows']}-{param['areas']}"
    if (folder / "done").exists():
        return folder
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=cache_root()))
    write_police_files(work, param["rows"], param["areas"])
    import safercities.workspace as sc

    with sc.init(work / "template", name="bench", crs=WORKSPACE_CRS, timezone=TIMEZONE) as ws:
        ws.import_areas(work / "areas.geojson", id="area_id", population="population", source_crs=WORKSPACE_CRS)
        ws.area_index()  # cached on disk in template/.cache
    (work / "done").write_text("ok")
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return folder


class StoreCounts:
    """Rows per area in a DuckDB table, read back after the timed call (``tobytes`` for the harness digest)."""

    def __init__(self, path: Path, spatial: bool) -> None:
        self.path = path
        self.spatial = spatial
        self._counts: dict[str, int] | None = None

    def counts(self) -> dict[str, int]:
        if self._counts is None:
            if self.spatial:  # our store holds GEOMETRY columns
                from safercities.store.duckdb import connect

                con = connect(self.path, read_only=True)
            else:
                import duckdb

                con = duckdb.connect(str(self.path), read_only=True)
            try:
                rows = con.execute("SELECT area_id, count(*) FROM incidents GROUP BY area_id ORDER BY 1").fetchall()
            finally:
                con.close()
            self._counts = {str(a): int(n) for a, n in rows}
        return self._counts

    def tobytes(self) -> bytes:
        return json.dumps(self.counts(), sort_keys=True).encode()


def check(ours: StoreCounts, peer: StoreCounts) -> None:
    a, b = ours.counts(), peer.counts()
    ta, tb = sum(a.values()), sum(b.values())
    assert ta == tb, f"total accepted differs: ours {ta}, peer {tb}"
    differ = sorted(k for k in a.keys() | b.keys() if a.get(k, 0) != b.get(k, 0))
    assert not differ, (
        f"{len(differ)} areas differ, e.g. {differ[0]}: ours {a.get(differ[0], 0)}, peer {b.get(differ[0], 0)}"
        if differ
        else ""
    )


# -- ours --------------------------------------------------------------------------------------------------------------
class FreshWorkspaces:
    """Copies of the template workspace, opened in advance; each call takes the next one."""

    def __init__(self, template: Path, run_dir: Path, n: int) -> None:
        self.template = template
        self.run_dir = run_dir
        self.made = 0
        self.ready = [self._make() for _ in range(n)]

    def _make(self) -> Any:
        from safercities.workspace import open_workspace

        self.made += 1
        folder = self.run_dir / f"ws{self.made:03d}"
        shutil.copytree(self.template, folder)
        return open_workspace(folder)

    def pop(self) -> Any:
        return self.ready.pop(0) if self.ready else self._make()  # on demand: only past the pool (timed)


def _ours(ws: Any, files: Path) -> StoreCounts:
    result = ws.import_incidents(files / "police.csv", mapping=files / "mapping.toml")
    assert not result.already_imported, "the workspace already held this file: not a fresh copy"
    path = ws.store.path
    ws.close()
    return StoreCounts(path, spatial=True)


# -- peer --------------------------------------------------------------------------------------------------------------
def peer_areas(files: Path) -> Any:
    import geopandas as gpd

    from bench.inputs import WORKSPACE_CRS

    areas = gpd.read_file(files / "areas.geojson")[["area_id", "geometry"]]
    return areas.set_crs(WORKSPACE_CRS, allow_override=True)


def _peer(files: Path, areas: Any, db_path: Path) -> StoreCounts:
    import duckdb
    import geopandas as gpd
    import pandas as pd

    from bench.inputs import TIMEZONE, WORKSPACE_CRS

    df = pd.read_csv(files / "police.csv", dtype={"id": str, "fecha": str, "clave": str})
    offences = pd.read_csv(files / "offences.csv", dtype=str)
    occurred = pd.to_datetime(df["fecha"], format="%d/%m/%Y %H:%M", errors="coerce")
    df["occurred"] = occurred.dt.tz_localize(TIMEZONE, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert(
        "UTC"
    )
    df = df.merge(offences[["local_code", "iccs_code"]], left_on="clave", right_on="local_code", how="inner")
    df = df.dropna(subset=["occurred", "lon", "lat"])
    points = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    points = points.to_crs(WORKSPACE_CRS)
    joined = gpd.sjoin(points, areas, how="inner", predicate="within")
    out = pd.DataFrame(
        {
            "incident_id": joined["id"],
            "occurred_from": joined["occurred"],  # datetime64[ns, UTC]: no per-row Timestamp objects
            "offence_code": joined["clave"],
            "iccs_code": joined["iccs_code"],
            "x": joined.geometry.x,
            "y": joined.geometry.y,
            "area_id": joined["area_id"],
        }
    ).reset_index(drop=True)
    con = duckdb.connect(str(db_path))
    try:
        con.execute(
            "CREATE TABLE incidents (incident_id VARCHAR NOT NULL, occurred_from TIMESTAMPTZ NOT NULL, "
            "offence_code VARCHAR NOT NULL, iccs_code VARCHAR NOT NULL, x DOUBLE NOT NULL, y DOUBLE NOT NULL, "
            "area_id VARCHAR NOT NULL)"
        )
        con.register("out_frame", out)
        con.execute("INSERT INTO incidents SELECT * FROM out_frame")
        con.unregister("out_frame")
    finally:
        con.close()
    return StoreCounts(db_path, spatial=False)


class FreshFiles:
    """Paths of new DuckDB files, one per peer call."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.made = 0

    def next(self) -> Path:
        self.made += 1
        return self.run_dir / f"peer{self.made:03d}.duckdb"


def _run_dir() -> Path:
    run_dir = Path(tempfile.mkdtemp(prefix="b0-run-", dir=cache_root()))
    atexit.register(shutil.rmtree, run_dir, True)
    return run_dir


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    files = inputs_folder(param)
    run_dir = _run_dir()
    pool = FreshWorkspaces(files / "template", run_dir, POOL)
    dbs = FreshFiles(run_dir)
    areas = peer_areas(files)
    mib = (files / "police.csv").stat().st_size / 2**20
    return Prepared(
        label=_label(param),
        ours=lambda: _ours(pool.pop(), files),
        peer=lambda: _peer(files, areas, dbs.next()),
        check=check,
        notes={"csv": f"{mib:.0f} MiB"},
    )


def cold_import(side: str) -> None:
    if side == "ours":
        import safercities.workspace  # noqa: F401
    else:
        import duckdb  # noqa: F401
        import geopandas  # noqa: F401
        import pandas  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    files = inputs_folder(param)
    folder = _run_dir() / "ws"
    shutil.copytree(files / "template", folder)
    return files, folder, peer_areas(files), folder.parent / "peer.duckdb"


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    files, folder, areas, db_path = inputs
    if side == "ours":
        from safercities.workspace import open_workspace

        return _ours(open_workspace(folder), files)  # opening the workspace is part of a cold CLI run
    return _peer(files, areas, db_path)
