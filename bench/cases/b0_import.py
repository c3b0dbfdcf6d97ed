"""B0: import an incidents CSV into the store, with validation and area assignment (1,000 areas).

Registered, skipped until ``safercities.workspace`` offers ``sc.init(path, name=..., crs=..., lang=...)``,
``ws.import_areas(...)`` and ``ws.import_incidents(path, mapping=...)``.

To write: inputs = the B1 generator's points and Voronoi areas, written once (not timed) as a CSV of
1e5 / 1e6 / 1e7 rows (incident_id, date, offence, x, y) plus an areas GeoJSON, into a temp folder.
Ours: ``sc.init`` a fresh workspace (areas imported beforehand, not timed), then time
``ws.import_incidents(csv, mapping=...)``. Peer: ``pandas.read_csv`` + date parsing + geopandas
``sjoin`` + write the same columns to the same DuckDB table (or Parquet). Exactness: the same
rows per area_id in both stores. Goal ≤ 0.33 and peak memory < 2 GiB at M.
Note for the writer: the API is ``ws.import_areas(path, id=COLUMN, ...)`` and
``ws.import_incidents(path, mapping=Mapping | path | None, preset_name=...)``; an import is one transaction
and a repeat of the same file is a no-op, so each timed run needs a fresh workspace (or ``replace=True``).
"""

from __future__ import annotations

from typing import Any

from bench.cases._pending import not_written, workspace_missing
from bench.harness import Prepared

ID = "B0"
TITLE = "import incidents CSV → store"
GOAL = 0.33
PEER = "pandas read_csv + geopandas sjoin + DuckDB write"
ROWS = {"S": 100_000, "M": 1_000_000, "L": 10_000_000}


def skip_reason() -> str | None:
    return workspace_missing() or (
        "safercities.workspace exists now, but the B0 workload (CSV + mapping + peer) is not written yet: "
        "see bench/cases/b0_import.py"
    )


def params(size: str) -> list[dict[str, Any]]:
    return [{"rows": ROWS[size], "areas": 1_000}]


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    return not_written(ID)  # type: ignore[no-any-return]


def cold_import(side: str) -> None:
    not_written(ID)


def cold_inputs(param: dict[str, Any]) -> Any:
    return not_written(ID)


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    return not_written(ID)
