"""B2: the cube, area × month × ICCS section counts.

Input (built once per size into a cache folder under the system temp dir, not timed): a workspace
with the B1 generator's 1,000 Voronoi areas (moved to Mexico City, EPSG:32614), the offence table
of ``bench.inputs`` and 1e6 / 1e7 / 1e8 incidents inserted directly as an Arrow table with
``ws.store.append("incidents", ...)`` (importing 1e7 rows through the importer would take minutes
of set-up): points from :func:`bench.inputs.incident_points` placed with the workspace's area
index (the ~2% outside every area are dropped), times uniform over 2023-2024, offences drawn from
the offence table.

Ours: ``ws.cube(by="month")`` (every area × month × section, zeros included, local months).
Peer: the hand-written ``GROUP BY area_id, date_trunc('month', timezone('America/Mexico_City',
occurred_from)), substr(iccs_code, 1, 2)`` on the same DuckDB file (no zeros, no ordering).
Warm: both on the workspace's open read-only connection (ours through the workspace, the peer a
cursor of it). Cold: ours opens the workspace read-only and calls ``cube``; the peer opens the file
with plain ``duckdb`` and runs its query.
Exactness: ours' non-zero cells == the peer's rows with identical counts; ours' total == the peer's.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import Prepared

ID = "B2"
TITLE = "cube: area × month counts"
GOAL = 1.0
PEER = "DuckDB GROUP BY by hand"
ROWS = {"S": 1_000_000, "M": 10_000_000, "L": 100_000_000}
VERSION = 1
CHUNK = 10_000_000

PEER_SQL = """
SELECT area_id,
       date_trunc('month', timezone('America/Mexico_City', occurred_from))::DATE AS period,
       substr(iccs_code, 1, 2) AS iccs_section,
       count(*) AS count
FROM incidents
GROUP BY area_id, date_trunc('month', timezone('America/Mexico_City', occurred_from)), substr(iccs_code, 1, 2)
"""


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"rows": ROWS[size], "areas": 1_000}]


def _label(param: dict[str, Any]) -> str:
    return f"{param['rows']:.0e} incidents × month, {param['areas'] // 1000}k areas".replace("e+0", "e")


def _incidents(ws: Any, start: int, n: int, seed: int) -> Any:
    """``n`` generated incidents (rows ``start`` …) placed in the workspace's areas."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from bench.inputs import DAYS, OFFENCE_WEIGHTS, OFFENCES, ORIGIN, incident_points

    rng = np.random.default_rng(seed)
    index, area_ids, _ = ws.area_index()
    x, y = incident_points(n, seed=seed)
    x, y = x + ORIGIN[0], y + ORIGIN[1]
    where = index.assign(x, y)
    inside = where >= 0
    m = int(inside.sum())
    first = np.datetime64("2023-01-01T06:00", "us")  # local midnight in Mexico City (UTC-6)
    when = first + rng.integers(0, DAYS * 86_400, m).astype("timedelta64[s]")
    offence = rng.choice(len(OFFENCES), m, p=np.array(OFFENCE_WEIGHTS) / sum(OFFENCE_WEIGHTS))
    codes = pa.array([c for c, _, _ in OFFENCES], pa.string())
    iccs = pa.array([i for _, _, i in OFFENCES], pa.string())
    occurred = pa.array(when, pa.timestamp("us", tz="UTC"))
    return pa.table(
        {
            "incident_id": pc.cast(pa.array(np.arange(start, start + m)), pa.string()),
            "occurred_from": occurred,
            "occurred_to": occurred,
            "offence_code": codes.take(pa.array(offence)),
            "iccs_code": iccs.take(pa.array(offence)),
            "x": pa.array(x[inside]),
            "y": pa.array(y[inside]),
            "area_id": pa.array(area_ids, pa.string()).take(pa.array(where[inside])),
            "import_id": pa.array(np.full(m, 2, np.int32)),
            "source_row": pa.array(np.arange(start, start + m) + 2),
        }
    )


def workspace_folder(param: dict[str, Any]) -> Path:
    """The workspace for ``param``, built once (atomic rename) under the system temp dir."""
    from bench.cases.b0_import import cache_root
    from bench.inputs import TIMEZONE, WORKSPACE_CRS, offence_table, write_areas_geojson

    folder = cache_root() / f"b2-v{VERSION}-{param['rows']}-{param['areas']}"
    if (folder / "done").exists():
        return folder
    import safercities.workspace as sc

    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=cache_root()))
    write_areas_geojson(work / "areas.geojson", param["areas"])
    offence_table().to_csv(work / "offences.csv", index=False)
    with sc.init(work / "ws", name="bench", crs=WORKSPACE_CRS, timezone=TIMEZONE) as ws:
        ws.import_areas(work / "areas.geojson", id="area_id", population="population", source_crs=WORKSPACE_CRS)
        ws.import_offences(work / "offences.csv")
        done = 0
        for k, start in enumerate(range(0, param["rows"], CHUNK)):
            n = min(CHUNK, param["rows"] - start)
            ws.store.append("incidents", _incidents(ws, done, n, seed=1000 + k))
            done += n
    (work / "done").write_text("ok")
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return folder


class Cube:
    """A cube frame; ``tobytes`` (for the harness digest) hashes its content, sorted."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def cells(self) -> Any:
        f = self.frame[["area_id", "period", "iccs_section", "count"]].copy()
        f["period"] = f["period"].astype("datetime64[s]")
        f["count"] = f["count"].astype("int64")
        return f.sort_values(["area_id", "period", "iccs_section"]).reset_index(drop=True)

    def tobytes(self) -> bytes:
        import pandas as pd

        return pd.util.hash_pandas_object(self.cells(), index=False).to_numpy().tobytes()


def check(ours: Cube, peer: Cube) -> None:
    a, b = ours.cells(), peer.cells()
    ta, tb = int(a["count"].sum()), int(b["count"].sum())
    assert ta == tb, f"totals differ: ours {ta}, peer {tb}"
    nz = a[a["count"] > 0].reset_index(drop=True)
    assert len(nz) == len(b), f"ours has {len(nz)} non-zero cells, the peer {len(b)} rows"
    diff = (nz != b).any(axis=1)
    assert not diff.any(), f"{int(diff.sum())} cells differ, e.g. ours {nz[diff].iloc[0].to_dict()}"


def _ours(ws: Any) -> Cube:
    return Cube(ws.cube(by="month"))


def _peer(con: Any) -> Cube:
    return Cube(con.execute(PEER_SQL).df())


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    from safercities.workspace import open_workspace

    ws = open_workspace(workspace_folder(param) / "ws", read_only=True)
    con = ws.store.con.cursor()
    n = ws.store.count("incidents")
    return Prepared(
        label=_label(param),
        ours=lambda: _ours(ws),
        peer=lambda: _peer(con),
        check=check,
        notes={"incidents": f"{n:,}"},
    )


def cold_import(side: str) -> None:
    if side == "ours":
        import safercities.workspace  # noqa: F401
    else:
        import duckdb  # noqa: F401
        import pandas  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return workspace_folder(param) / "ws"


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    if side == "ours":
        from safercities.workspace import open_workspace

        with open_workspace(inputs, read_only=True) as ws:
            return _ours(ws)
    import duckdb

    with duckdb.connect(str(next(inputs.glob("*.duckdb"))), read_only=True) as con:
        return _peer(con)
