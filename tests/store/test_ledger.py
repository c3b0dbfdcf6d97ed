"""The import ledger that every module uses: one transaction for an import's rows, its related tables,
its rejects and its ledger row; a failure anywhere leaves the store as it was."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import shapely

import safercities as sc


def _ws(tmp_path: Path) -> sc.Workspace:
    return sc.init(tmp_path / "ws", name="Ledger", crs="EPSG:32614")


def _area_rows() -> pa.Table:
    return pa.table(
        {
            "area_id": ["A"],
            "name": ["Alpha"],
            "level": ["area"],
            "parent_id": pa.array([None], pa.string()),
            "population": [10.0],
            "geometry": [shapely.to_wkb(shapely.box(0, 0, 1, 1))],
        }
    )


def _codes(column: str = "local_code") -> pa.Table:
    return pa.table({column: ["X1"], "local_label": ["x"], "iccs_code": ["0501"]})


NO_REJECTS = pd.DataFrame(columns=["row_number", "column_name", "reason_code", "reason", "raw"])


def test_related_tables_share_the_import_and_its_fate(tmp_path: Path) -> None:
    source = tmp_path / "file.txt"
    source.write_text("x")
    with _ws(tmp_path) as ws:
        result = ws.commit_import("areas", source, "abc", False, _area_rows(), NO_REJECTS, 1, (), {},
                                  related={"offence_codes": _codes()})  # fmt: skip
        codes = ws.store.read("offence_codes")
        assert codes["import_id"].tolist() == [result.import_id]
        ws.commit_import("areas", source, "abc", True, _area_rows(), NO_REJECTS, 1, (), {},
                         related={"offence_codes": _codes()})  # fmt: skip
        assert ws.store.count("offence_codes") == 1  # the replaced import's related rows went with it


def test_a_failing_related_table_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "file.txt"
    source.write_text("x")
    with _ws(tmp_path) as ws:
        before = {t: ws.store.count(t) for t in ("areas", "offence_codes", "imports", "audit_log")}
        with pytest.raises(Exception, match="local_code"):
            ws.commit_import("areas", source, "abc", False, _area_rows(), NO_REJECTS, 1, (), {},
                             related={"offence_codes": _codes("no_such_column")})  # fmt: skip
        assert {t: ws.store.count(t) for t in before} == before
