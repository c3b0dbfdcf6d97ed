"""Getis & Ord (1996) remote-sensing grid: Gi and Gi* z-scores for one cell, binary distance bands.

Reference: R spdep ``docs/reference/localG.md`` (r-spatial/spdep commit 6ed4b465), data ``go_xyz`` of
spData (../shared/data/getisord_1996, SOURCE.md). Command:
``localG(go_xyz$val, nb2listw(dnearneigh(coords, 0, d), style="B"))[length(val) - 136]`` for
d = 30 ... 150 m, i.e. row 120 (1-based) of our CSV; ``include.self`` for Gi*. Printed to 7 significant
digits; tolerance 5e-7 (5e-6 for the 6-digit Gi* value). Getis & Ord's own table (p. 267) prints
1.447943 for Gi* at 30 m because it uses n - 1 in the variance of the values: checked as
z * sqrt((n - 1) / n).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.stats.hotspots import getis_ord
from safercities.stats.neighbours import distance_band

ROW = 120 - 1
GI = {30: 1.221979, 60: 1.748098, 90: 1.986135, 120: 1.893374, 150: 1.237454}
GI_STAR_30 = 1.45078
GI_STAR_30_N_MINUS_1 = 1.447943  # Getis & Ord (1996), p. 267


@pytest.fixture(scope="module")
def grid(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "getisord_1996" / "getisord_xyz.csv")


@pytest.mark.parametrize("d", sorted(GI))
def test_gi(grid: pd.DataFrame, d: int) -> None:
    w = distance_band(grid[["x", "y"]].to_numpy(), d + 1e-6)
    result = getis_ord(grid["val"].to_numpy(), w, star=False, permutations=0)
    assert result.z[ROW] == pytest.approx(GI[d], abs=5e-7)
    row = getis_ord(grid["val"].to_numpy(), w, star=False, transform="R", permutations=0)
    assert row.z[ROW] == pytest.approx(GI[d], abs=5e-7)  # row-standardising only rescales G


def test_gi_star(grid: pd.DataFrame) -> None:
    w = distance_band(grid[["x", "y"]].to_numpy(), 30 + 1e-6)
    result = getis_ord(grid["val"].to_numpy(), w, star=True, permutations=0)
    assert result.z[ROW] == pytest.approx(GI_STAR_30, abs=5e-6)
    n = len(grid)
    assert result.z[ROW] * np.sqrt((n - 1) / n) == pytest.approx(GI_STAR_30_N_MINUS_1, abs=5e-6)
