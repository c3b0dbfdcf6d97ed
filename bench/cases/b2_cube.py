"""B2: the cube, area (or grid) × month counts and rates.

Registered, skipped until ``safercities.workspace`` offers ``ws.cube(by="month")`` over imported
incidents.

To write: a workspace with the B1 generator's areas and 1e6 / 1e7 / 1e8 incidents (dates drawn
seeded over two years), imported once (not timed). Ours: ``ws.cube(by="month")``. Peer: the
hand-written ``SELECT area_id, date_trunc('month', occurred_from) AS month, count(*) ... GROUP BY
ALL`` on the same DuckDB file. Exactness: identical counts per (area, month). Goal ≤ 1.0 (we are
DuckDB plus checks).
Note for the writer: ``Workspace.cube`` returns area × period × ICCS section with zeros included and
periods in the workspace's local time zone; the peer query must do the same (or the check must compare
the non-zero cells) for the exactness check to be fair.
"""

from __future__ import annotations

from typing import Any

from bench.cases._pending import not_written, workspace_missing
from bench.harness import Prepared

ID = "B2"
TITLE = "cube: area × month counts"
GOAL = 1.0
PEER = "DuckDB GROUP BY by hand"
ROWS = {"S": 1_000_000, "M": 10_000_000, "L": 100_000_000}


def skip_reason() -> str | None:
    return workspace_missing() or (
        "safercities.workspace exists now, but the B2 workload (seeded workspace + hand-written GROUP BY) is not "
        "written yet: see bench/cases/b2_cube.py"
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
