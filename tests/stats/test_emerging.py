"""Emerging hot spots: Mann-Kendall edge cases, Gi* per slice, FDR per slice, every category built by construction."""

from __future__ import annotations

import numpy as np
import pytest

from safercities.errors import InputError
from safercities.stats.emerging import (
    CATEGORIES,
    RULES,
    classify,
    emerging_hotspots,
    gi_star_slices,
    mann_kendall,
)
from safercities.stats.hotspots import getis_ord
from safercities.stats.inference import fdr_bh
from safercities.stats.neighbours import lattice
from safercities.stats.weights import SpatialWeights

SIDE = 9
CENTRE = (SIDE // 2) * SIDE + SIDE // 2
BLOCK = np.array([r * SIDE + c for r in range(3, 6) for c in range(3, 6)])


# -- Mann-Kendall ----------------------------------------------------------------------------------------------


def test_mann_kendall_engines_agree_and_constant_series_give_z0_p1() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(50, 17)).astype(float)
    x[0] = 0.0
    a = mann_kendall(x, slope=True, engine="numba")
    b = mann_kendall(x, slope=True, engine="numpy")
    for name in ("s", "var_s", "z", "p", "tau", "slope", "intercept"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=1e-12)
    assert a.s[0] == 0 and a.var_s[0] == 0 and a.z[0] == 0 and a.p[0] == 1
    for alternative in ("greater", "less"):
        assert mann_kendall(np.zeros((1, 10)), alternative=alternative).p[0] == 1


def test_mann_kendall_one_sided_and_errors() -> None:
    up = np.arange(12.0).reshape(1, -1)
    assert mann_kendall(up, alternative="greater").p[0] < 1e-4
    assert mann_kendall(up, alternative="less").p[0] > 0.99
    with pytest.raises(InputError, match="at least 2 periods"):
        mann_kendall(np.ones((5, 1)))
    with pytest.raises(InputError, match="finite"):
        mann_kendall(np.array([[1.0, np.nan, 2.0]]))
    with pytest.raises(InputError, match="alternative"):
        mann_kendall(up, alternative="up")


# -- Gi* per slice -------------------------------------------------------------------------------------------


def test_gi_star_per_slice_is_getis_ord_on_each_slice() -> None:
    w = lattice(8, 8, rule="queen")
    counts = np.random.default_rng(5).poisson(3.0, size=(64, 6)).astype(float)
    z = gi_star_slices(counts, w)
    for t in range(6):
        np.testing.assert_allclose(z[:, t], getis_ord(counts[:, t], w, permutations=0).z, rtol=0, atol=1e-10)


def test_time_window_is_gi_star_on_the_space_time_neighbourhood() -> None:
    side, t, k = 5, 6, 2
    w = lattice(side, side, rule="rook")
    n = side * side
    counts = np.random.default_rng(8).poisson(2.0, size=(n, t)).astype(float)
    focal, neighbour = [], []
    for s in range(t):
        for lag in range(0, k + 1):
            if s - lag < 0:
                continue
            pairs = [(i, i) for i in range(n)] + list(zip(w.focal.tolist(), w.neighbor.tolist(), strict=True))
            for i, j in pairs:
                if lag == 0 and i == j:
                    continue  # getis_ord adds the self-weight itself
                focal.append(s * n + i)
                neighbour.append((s - lag) * n + j)
    cube = SpatialWeights.from_arrays(np.arange(n * t), focal, neighbour)
    want = getis_ord(counts.T.ravel(), cube, permutations=0).z.reshape(t, n).T
    np.testing.assert_allclose(gi_star_slices(counts, w, time_window=k), want, rtol=0, atol=1e-10)


# -- FDR -----------------------------------------------------------------------------------------------------


def test_fdr_is_applied_within_each_slice() -> None:
    w = lattice(12, 12, rule="queen")
    counts = np.random.default_rng(11).poisson(4.0, size=(144, 10)).astype(float)
    counts[:20, 5:] += 6  # a hot corner in the second half
    result = emerging_hotspots(counts, w, alpha=0.05)
    raw = emerging_hotspots(counts, w, alpha=0.05, adjust="none")
    for t in range(10):
        np.testing.assert_allclose(result.p_adjusted[:, t], fdr_bh(result.p[:, t]), rtol=0, atol=1e-15)
    assert np.array_equal(result.state != 0, result.p_adjusted <= 0.05)
    assert (result.state != 0).sum() <= (raw.state != 0).sum()
    assert np.all(np.sign(result.z[result.state != 0]) == result.state[result.state != 0])


# -- categories by construction ---------------------------------------------------------------------------------


def _cube(timeline: str, levels: list[float] | None = None) -> np.ndarray:
    """A 9 x 9 lattice whose 3 x 3 centre block is hot (H), cold (C) or like the rest (.) in each slice.

    Hot: block ``level`` (default 20) among 1-3s; cold: block ``level`` (default 0) among 10-12s (the same
    background noise in every slice, so that the block's z rises strictly with its level); '.': every cell 1
    (a slice where nobody stands out: z 0, p 1).
    """
    noise = np.random.default_rng(0).integers(0, 3, SIDE * SIDE).astype(float)  # the same in every slice
    cube = np.ones((SIDE * SIDE, len(timeline)))
    for t, mark in enumerate(timeline):
        if mark == "H":
            cube[:, t] = 1.0 + noise
            cube[BLOCK, t] = 20.0 if levels is None else levels[t]
        elif mark == "C":
            cube[:, t] = 10.0 + noise
            cube[BLOCK, t] = 0.0 if levels is None else levels[t]
    return cube


CASES = {
    "new hot spot": ("." * 19 + "H", None),
    "consecutive hot spot": ("." * 16 + "HHHH", None),
    "intensifying hot spot": ("H" * 20, list(np.linspace(5, 60, 20))),
    "persistent hot spot": ("H" * 20, None),
    "diminishing hot spot": ("H" * 20, list(np.linspace(60, 5, 20))),
    "sporadic hot spot": ("..H...H..H....HH...H", None),
    "oscillating hot spot": ("..C......H....H....H", None),
    "historical hot spot": ("H" * 18 + "..", None),
    "new cold spot": ("." * 19 + "C", None),
    "consecutive cold spot": ("." * 17 + "CCC", None),
    "intensifying cold spot": ("C" * 20, list(np.linspace(9, 0, 20))),
    "persistent cold spot": ("C" * 20, None),
    "diminishing cold spot": ("C" * 20, list(np.linspace(0, 9, 20))),
    "sporadic cold spot": ("C...C....C.....C...C", None),
    "oscillating cold spot": ("H.......C.......C..C", None),
    "historical cold spot": ("C" * 19 + ".", None),
    "no pattern": ("HHH" + "." * 17, None),
}


def test_the_cases_cover_every_category() -> None:
    assert set(CASES) == set(CATEGORIES)


@pytest.mark.parametrize("category", list(CASES))
def test_each_category_is_classified_as_constructed(category: str) -> None:
    timeline, levels = CASES[category]
    w = lattice(SIDE, SIDE, rule="queen")
    result = emerging_hotspots(_cube(timeline, levels), w)
    assert "".join({1: "H", -1: "C", 0: "."}[int(s)] for s in result.state[CENTRE]) == timeline
    assert result.category[CENTRE] == category, "\n".join(result.explain(CENTRE))
    trail = result.explain(CENTRE)
    assert trail[-1].endswith(f"-> {category}")
    row = result.to_frame().iloc[CENTRE]
    assert row["category"] == category and row["n_significant"] == sum(c != "." for c in timeline)


def test_classify_precedence_on_states() -> None:
    t = 10
    states = np.zeros((4, t), dtype=np.int8)
    states[0] = 1  # all hot, rising -> intensifying
    states[1, :9] = 1  # 90% hot, final cold -> the final slice decides: oscillating cold
    states[1, 9] = -1
    states[2, [0, 9]] = 1  # hot, gap, hot -> sporadic
    states[3, 8:] = 1  # final run of 2 -> consecutive
    got = classify(states, np.array([3.0, 0, 0, 0]), np.array([0.001, 1, 1, 1]))
    assert got.tolist() == ["intensifying hot spot", "oscillating cold spot", "sporadic hot spot",
                            "consecutive hot spot"]  # fmt: skip
    assert len(RULES) == 17


def test_islands_permutations_and_errors() -> None:
    w = SpatialWeights.from_arrays(np.arange(5), [0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2])  # area 4 is an island
    counts = np.random.default_rng(2).poisson(3.0, size=(5, 12)).astype(float)
    result = emerging_hotspots(counts, w)
    assert result.island.tolist() == [False, False, False, False, True]
    assert np.isnan(result.z[4]).all() and result.category[4] == "no pattern"
    assert any("island" in line for line in result.explain(4))
    big = lattice(6, 6, rule="queen")
    cube = np.random.default_rng(4).poisson(3.0, size=(36, 8)).astype(float)
    perm = emerging_hotspots(cube, big, permutations=99, rng=1)
    assert np.nanmin(perm.p) >= 1 / 100 and perm.permutations == 99
    with pytest.raises(InputError, match="at least 2 periods"):
        emerging_hotspots(cube[:, :1], big)
    with pytest.raises(InputError, match="one row per location"):
        emerging_hotspots(cube[:10], big)
    with pytest.raises(InputError, match="time_window=0 only"):
        emerging_hotspots(cube, big, permutations=9, time_window=1)
    with pytest.raises(InputError, match="no location"):
        perm.explain("nowhere")
    assert "emerging hot spots: 36 locations x 8 slices" in perm.summary()
