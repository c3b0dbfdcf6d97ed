"""St Louis homicides (NCOVR, 78 counties): empirical Bayes rates and excess risk against esda.

Data: ../shared/data/stlouis_homicide (libpysal example 'stl'; see its SOURCE.md). Counts HC7984,
population PO7984, queen contiguity stl.gal, exactly as in esda's smoothing doctests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.stats.smoothing import empirical_bayes, excess_risk, spatial_empirical_bayes
from safercities.stats.weights import SpatialWeights

# esda/smoothing.py docstrings (pysal/esda 11450be3), printed to 8-9 significant digits: rtol 1e-7.
ESDA_DOCSTRING_FIRST10 = {
    "excess_risk": [0.20665681, 0.43613787, 0.42078261, 0.22066928, 0.57981596,
                    0.35301709, 0.56407549, 0.17020994, 0.3052372, 0.25821905],
    "empirical_bayes": [2.36718950e-05, 4.54539167e-05, 4.78114019e-05, 2.76907146e-05, 6.58989323e-05,
                        3.66494122e-05, 5.79952721e-05, 2.03064590e-05, 3.31152999e-05, 3.02748380e-05],
    "spatial_empirical_bayes": [4.01485749e-05, 3.62437513e-05, 4.93034844e-05, 5.09387329e-05, 3.72735210e-05,
                                3.69333797e-05, 5.40245456e-05, 2.99806055e-05, 3.73034109e-05, 3.47270722e-05],
}  # fmt: skip
DOCSTRING_RTOL = 1e-7
PEER_RTOL = 1e-10  # esda 2.9 run on the same arrays in this test


@pytest.fixture(scope="module")
def stl(shared_data: Path) -> dict[str, object]:
    folder = shared_data / "stlouis_homicide"
    frame = pd.read_csv(folder / "stl_hom.csv")
    # stl.gal: "78", then per area "id n" and a line of neighbour ids; ids 1..78 are the csv's row order
    lines = (folder / "stl.gal").read_text().split("\n")
    n = int(lines[0].split()[0])
    focal: list[int] = []
    neighbor: list[int] = []
    for k in range(n):  # 78 header lines of a reference file, not incidents
        area, _ = lines[1 + 2 * k].split()
        members = [int(v) - 1 for v in lines[2 + 2 * k].split()]
        focal += [int(area) - 1] * len(members)
        neighbor += members
    weights = SpatialWeights.from_arrays(np.arange(1, n + 1), focal, neighbor, kind="queen (stl.gal)")
    reference = json.loads((shared_data / "reference_values.json").read_text())["stlouis_homicide"]
    return {"e": frame["HC7984"].to_numpy(), "b": frame["PO7984"].to_numpy(), "w": weights, "json": reference}


def test_empirical_bayes_published(stl: dict) -> None:
    ours = empirical_bayes(stl["e"], stl["b"], per=1).smoothed
    np.testing.assert_allclose(ours[:10], ESDA_DOCSTRING_FIRST10["empirical_bayes"], rtol=DOCSTRING_RTOL)
    np.testing.assert_allclose(ours[:3], stl["json"]["empirical_bayes_first3"], rtol=DOCSTRING_RTOL)


def test_spatial_empirical_bayes_published(stl: dict) -> None:
    ours = spatial_empirical_bayes(stl["e"], stl["b"], stl["w"], per=1).smoothed
    np.testing.assert_allclose(ours[:10], ESDA_DOCSTRING_FIRST10["spatial_empirical_bayes"], rtol=DOCSTRING_RTOL)
    np.testing.assert_allclose(ours[:3], stl["json"]["spatial_eb_stl.gal_first3"], rtol=DOCSTRING_RTOL)


def test_excess_risk_published(stl: dict) -> None:
    ours = excess_risk(stl["e"], stl["b"]).ratio
    np.testing.assert_allclose(ours[:10], ESDA_DOCSTRING_FIRST10["excess_risk"], rtol=DOCSTRING_RTOL)
    np.testing.assert_allclose(ours[:3], stl["json"]["excess_risk_HC7984_PO7984_first3"], rtol=DOCSTRING_RTOL)


def test_all_78_against_esda(stl: dict) -> None:
    import libpysal
    from esda.smoothing import Empirical_Bayes, Excess_Risk, Spatial_Empirical_Bayes

    e, b = stl["e"], stl["b"]
    # the same stl.gal links as a libpysal W (libpysal's GAL reader leaves its file open under pytest)
    links = stl["w"].to_frame()
    neighbours = {int(k): [int(v) for v in g["neighbor"]] for k, g in links.groupby("focal")}
    w = libpysal.weights.W(neighbours, id_order=list(range(1, len(e) + 1)))
    np.testing.assert_allclose(
        empirical_bayes(e, b, per=1).smoothed, Empirical_Bayes(e, b).r.ravel(), rtol=PEER_RTOL, atol=0
    )
    np.testing.assert_allclose(
        spatial_empirical_bayes(e, b, stl["w"], per=1).smoothed,
        Spatial_Empirical_Bayes(e, b, w).r.ravel(),
        rtol=PEER_RTOL,
        atol=0,
    )
    np.testing.assert_allclose(excess_risk(e, b).ratio, Excess_Risk(e, b).r.ravel(), rtol=PEER_RTOL, atol=0)
