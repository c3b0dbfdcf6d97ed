"""St Louis county homicide rates 1988-93 (HR8893): global Moran's I with queen contiguity ``stl.gal``.

Reference: esda ``esda/tests/test_moran.py`` (pysal/esda HEAD 11450be3), data and weights from libpysal
``examples/stl`` (see ../shared/data/stlouis_homicide/SOURCE.md): ``Moran(HR8893, stl.gal, two_tailed=False)``
gives I = 0.24365582621771659 and the one-tailed p_norm 0.00013573931385468807; E[I] = -1/77.
Tolerance 1e-12 (I, E) and 1e-10 relative (p): the same double-precision formulas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.stats.autocorrelation import moran
from safercities.stats.neighbours import read_gal

I_PUBLISHED = 0.24365582621771659
P_NORM_ONE_TAILED = 0.00013573931385468807
EI_PUBLISHED = -0.012987012987012988


def test_stlouis_moran(shared_data: Path) -> None:
    folder = shared_data / "stlouis_homicide"
    table = pd.read_csv(folder / "stl_hom.csv")
    w = read_gal(folder / "stl.gal")  # ids 1..78 = rows of stl_hom.csv
    rate = table["HR8893"].to_numpy(dtype=float)[np.asarray(w.ids, dtype=int) - 1]
    result = moran(rate, w, permutations=0, alternative="greater")
    assert result.statistic == pytest.approx(I_PUBLISHED, abs=1e-12)
    assert result.expected == pytest.approx(EI_PUBLISHED, abs=1e-15)
    assert result.p_norm == pytest.approx(P_NORM_ONE_TAILED, rel=1e-10)
    assert moran(rate, w, permutations=0).p_norm == pytest.approx(2 * P_NORM_ONE_TAILED, rel=1e-10)
