"""Columbus (Anselin 1988): global Moran's I and Geary's C of CRIME, against published values.

References (see ../shared/data/columbus/SOURCE.md and reference_values.json):

* A. R spdep documentation, ``moran.test`` / ``geary.test`` on ``COL.nb`` (Anselin's 1988 contiguity,
  ids = NEIG), row-standardised (style "W"); spdep docs/reference/moran.test.md and geary.test.md,
  r-spatial/spdep commit 6ed4b465 (e65b803d). Command:
  ``moran.test(COL.OLD$CRIME, nb2listw(COL.nb, style="W"))`` (randomisation=TRUE, the default;
  randomisation=FALSE for the normality variance), ``style="B"`` for the binary line, and
  ``geary.test(...)`` likewise. Printed to 9-10 significant digits; tolerance half a unit of the last
  printed digit.
* C. esda 2.9 ``esda/tests/test_geary.py`` (pysal/esda): rook contiguity from the polygons,
  row-standardised, Geary's C and its z-scores; tolerance 1e-9.
* D. Queen contiguity from the polygons (libpysal ``columbus.gal``): I = 0.500188557, Var(rand)
  0.008689289, z 5.5894 (public spdep ``poly2nb`` outputs, reproduced by esda; "cross-checked").

spdep prints Geary's z as (1 - C)/sd; ours is (C - 1)/sd (esda's sign), so the tests compare -z.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safercities.stats.autocorrelation import geary, moran
from safercities.stats.neighbours import read_gal

PUBLISHED = {  # value, absolute tolerance
    "COLnb_W": {
        "I": (0.510951264, 5e-10),
        "EI": (-0.020833333, 5e-10),
        "var_rand": (0.008908762, 5e-10),
        "z_rand": (5.6341, 5e-5),
        "var_norm": (0.008779831, 5e-10),
        "z_norm": (5.6754, 5e-5),
    },
    "COLnb_B": {"I": (0.52063815, 5e-9), "var_rand": (0.00759872, 5e-9), "z_rand": (6.2116, 5e-5)},
    "geary_COLnb_W": {
        "C": (0.52986993, 5e-9),
        "var_rand": (0.00975278, 5e-9),
        "z_rand": (4.7605, 5e-5),
        "var_norm": (0.01027137, 5e-9),
        "z_norm": (4.6388, 5e-5),
    },
    "queen_W": {"I": (0.500188557, 5e-10), "var_rand": (0.008689289, 5e-10), "z_rand": (5.5894, 5e-5)},
    "geary_rook_W_esda": {
        "C": (0.5154408058652411, 1e-12),
        "var_norm": (0.011403109626468939, 1e-12),
        "var_rand": (0.010848882767131886, 1e-12),
        "z_norm": (-4.5376938201608, 1e-9),
        "z_rand": (-4.652156651668989, 1e-9),
    },
}


def _columbus(shared_data: Path) -> dict[str, dict[int, float]]:
    features = json.loads((shared_data / "columbus" / "columbus.json").read_text())["features"]
    props = [f["properties"] for f in features]
    return {
        "by_neig": {int(p["NEIG"]): float(p["CRIME"]) for p in props},
        "by_polyid": {int(p["POLYID"]): float(p["CRIME"]) for p in props},
    }


def _aligned(weights_ids: np.ndarray, by_id: dict[int, float]) -> np.ndarray:
    return np.array([by_id[int(i)] for i in weights_ids])


def _check(result: object, expected: dict[str, tuple[float, float]], sign: dict[str, float] | None = None) -> None:
    names = {"I": "statistic", "C": "statistic", "EI": "expected"}
    for key, (value, tol) in expected.items():
        ours = getattr(result, names.get(key, key)) * (sign or {}).get(key, 1.0)
        assert ours == pytest.approx(value, abs=tol), f"{key}: ours {ours!r}, published {value!r} (tol {tol})"


def test_moran_col_nb_row_standardised(shared_data: Path) -> None:
    w = read_gal(shared_data / "columbus" / "columbus_COL.nb_anselin1988.gal")
    crime = _aligned(w.ids, _columbus(shared_data)["by_neig"])
    result = moran(crime, w, transform="R", permutations=0)
    _check(result, PUBLISHED["COLnb_W"])
    # the published (one-sided, greater) p-value under randomisation: 8.797e-09
    assert moran(crime, w, permutations=0, alternative="greater").p_rand == pytest.approx(8.797e-09, rel=1e-3)


def test_moran_col_nb_binary(shared_data: Path) -> None:
    w = read_gal(shared_data / "columbus" / "columbus_COL.nb_anselin1988.gal")
    crime = _aligned(w.ids, _columbus(shared_data)["by_neig"])
    _check(moran(crime, w, transform="B", permutations=0), PUBLISHED["COLnb_B"])


def test_geary_col_nb(shared_data: Path) -> None:
    w = read_gal(shared_data / "columbus" / "columbus_COL.nb_anselin1988.gal")
    crime = _aligned(w.ids, _columbus(shared_data)["by_neig"])
    _check(geary(crime, w, permutations=0), PUBLISHED["geary_COLnb_W"], sign={"z_rand": -1.0, "z_norm": -1.0})


def test_moran_queen_gal(shared_data: Path) -> None:
    w = read_gal(shared_data / "columbus" / "columbus.gal")
    crime = _aligned(w.ids, _columbus(shared_data)["by_polyid"])
    _check(moran(crime, w, permutations=0), PUBLISHED["queen_W"])


def test_polygon_contiguity_gives_the_same(shared_data: Path) -> None:
    """Queen and rook weights built from the polygons themselves reproduce D and C."""
    shapely = pytest.importorskip("shapely")
    from safercities.stats.neighbours import contiguity

    features = json.loads((shared_data / "columbus" / "columbus.json").read_text())["features"]
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    crime = np.array([f["properties"]["CRIME"] for f in features], dtype=float)
    _check(moran(crime, contiguity(geoms, rule="queen"), permutations=0), PUBLISHED["queen_W"])
    _check(geary(crime, contiguity(geoms, rule="rook"), permutations=0), PUBLISHED["geary_rook_W_esda"])


def test_permutation_p_agrees_with_randomisation(shared_data: Path) -> None:
    """With z = 5.6 no permutation reaches I: p = 1/(R+1) one-sided, the smaller tail doubled two-sided."""
    w = read_gal(shared_data / "columbus" / "columbus_COL.nb_anselin1988.gal")
    crime = _aligned(w.ids, _columbus(shared_data)["by_neig"])
    result = moran(crime, w, permutations=999, rng=np.random.default_rng(1988))
    assert result.p_sim == pytest.approx(2 / 1000)
    one_sided = moran(crime, w, permutations=999, alternative="greater", rng=np.random.default_rng(1988))
    assert one_sided.p_sim == pytest.approx(1 / 1000)
    assert result.reference_mean == pytest.approx(result.expected, abs=3 * np.sqrt(result.var_rand / 999) + 1e-3)
    assert result.reference_sd**2 == pytest.approx(result.var_rand, rel=0.15)
