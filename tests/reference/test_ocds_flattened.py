"""Flattened OCDS (flatten-tool's CSV folder and XLSX book, as OCDS Kit users publish it) reads back to the same
processes, tenders, bids, awards, contracts and amendments as the JSON it was flattened from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.procurement import extract as ex
from safercities.procurement.compile import compile_releases
from safercities.procurement.ocds import read_publication

flattentool = pytest.importorskip("flattentool")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def _tables(path: Path) -> ex.ProcurementTables:
    return ex.extract(compile_releases(read_publication(path).releases))


def _same(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    columns = [c for c in a.columns if c not in ("compiled", "source_row")]
    left = a[columns].replace({None: np.nan}).reset_index(drop=True)
    right = b[columns].replace({None: np.nan}).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_flattened_releases_read_back_to_the_same_tables(shared_data: Path, tmp_path: Path, form: str) -> None:
    source = shared_data / "ocds_real_cdmx_mx_py" / "release-package-1.json"
    out = tmp_path / ("book.xlsx" if form == "xlsx" else "sheets")
    flattentool.flatten(str(source), output_name=str(out), output_format=form, root_list_path="releases",
                        main_sheet_name="main", root_id="ocid", id_name="id")  # fmt: skip
    flat = out if form == "xlsx" else out / "main.csv"
    original, read_back = _tables(source), _tables(flat)
    for name in ("processes", "tenders", "parties", "bids", "awards", "contracts", "amendments"):
        _same(getattr(original, name), getattr(read_back, name), name)
