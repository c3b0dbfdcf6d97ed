"""Gi, Gi* and local Moran: labels, FDR, islands and the edge cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from safercities.errors import InputError
from safercities.stats.hotspots import getis_ord, local_moran
from safercities.stats.inference import fdr_bh
from safercities.stats.neighbours import lattice
from safercities.stats.weights import SpatialWeights


def _planted() -> tuple[SpatialWeights, np.ndarray]:
    """A 20 x 20 grid of Poisson(2) counts with a 4 x 4 block of Poisson(12) in one corner."""
    w = lattice(20, 20, rule="queen")
    rng = np.random.default_rng(42)
    y = rng.poisson(2.0, w.n).astype(float)
    block = (np.arange(w.n) // 20 < 4) & (np.arange(w.n) % 20 < 4)
    y[block] = rng.poisson(12.0, block.sum())
    return w, y


def test_planted_hot_spot_is_found() -> None:
    w, y = _planted()
    # 400 tests at FDR 5% need p-values below 0.05/400 for the strongest: R = 9999 (min p 2e-4 two-sided)
    result = getis_ord(y, w, permutations=9999, rng=1)
    frame = result.to_frame()
    assert {"id", "value", "z", "p", "p_fdr", "label"} <= set(frame.columns)
    assert len(frame) == w.n
    hot = frame.loc[frame["label"] == "hot spot", "id"].to_numpy()
    assert {0, 1, 20, 21} <= set(hot.tolist())
    assert all(i // 20 < 6 and i % 20 < 6 for i in hot)  # no false hot spot far away (FDR 5%)
    np.testing.assert_allclose(result.p_fdr, fdr_bh(result.p))
    lisa = local_moran(y, w, permutations=9999, rng=1)
    assert (lisa.label[[0, 1, 20, 21]] == "HH").all()
    assert "HH" in lisa.summary()


def test_results_are_frozen() -> None:
    w, y = _planted()
    result = getis_ord(y, w, permutations=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.alpha = 0.1  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.z[0] = 1.0
    assert result.provenance["parameters"]["star"] is True
    assert result.p is result.p_norm or np.array_equal(result.p, result.p_norm)


def test_engines_agree() -> None:
    w, y = _planted()
    a = local_moran(y, w, permutations=199, rng=3, engine="numba")
    b = local_moran(y, w, permutations=199, rng=3, engine="numpy")
    np.testing.assert_array_equal(a.p_sim, b.p_sim)
    c = getis_ord(y, w, star=False, permutations=199, rng=3, engine="numba", alternative="folded")
    d = getis_ord(y, w, star=False, permutations=199, rng=3, engine="numpy", alternative="folded")
    np.testing.assert_array_equal(c.p_sim, d.p_sim)


def test_islands_are_nan_and_labelled() -> None:
    base = lattice(5, 5)
    w = SpatialWeights.from_arrays(np.arange(26), base.focal, base.neighbor)  # area 25: an island
    y = np.arange(26.0)
    for result in (getis_ord(y, w, permutations=99, rng=1), getis_ord(y, w, star=False, permutations=99, rng=1),
                   local_moran(y, w, permutations=99, rng=1)):  # fmt: skip
        assert result.label[25] == "island"
        assert np.isnan(result.z[25]) and np.isnan(result.p[25]) and np.isnan(result.p_fdr[25])
        assert np.isfinite(result.z[:25]).all()
        assert not result.significant[25]


def test_all_zero_values_raise_a_clear_error() -> None:
    with pytest.raises(InputError, match="all equal"):
        getis_ord(np.zeros(25), lattice(5, 5))
    with pytest.raises(InputError, match="all equal"):
        local_moran(np.zeros(25), lattice(5, 5))


def test_single_non_zero_value() -> None:
    y = np.zeros(25)
    y[12] = 5.0
    w = lattice(5, 5, rule="queen")
    star = getis_ord(y, w, permutations=99, rng=2)
    assert star.z[12] > 0 and np.isfinite(star.z).all()
    gi = getis_ord(y, w, star=False, permutations=99, rng=2)
    assert gi.label[12] == "undefined" and np.isnan(gi.z[12])  # the other areas sum to 0: G_12 is undefined
    assert np.isfinite(gi.z[np.arange(25) != 12]).all()
    lisa = local_moran(y, w, permutations=99, rng=2)
    assert lisa.quadrant[12] == 4  # high value, low neighbours: HL


def test_two_areas() -> None:
    w = lattice(1, 2)
    gi = getis_ord([1.0, 3.0], w, star=False, permutations=9, rng=1)
    assert np.isnan(gi.z).all() and (gi.label == "undefined").all()
    star = getis_ord([1.0, 3.0], w, permutations=9, rng=1)  # one possible arrangement: variance 0
    assert np.isnan(star.z).all() and (star.label == "undefined").all()
    lisa = local_moran([1.0, 3.0], w, permutations=9, rng=1)
    assert (lisa.statistic < 0).all() and np.isnan(lisa.z).all() and (lisa.label == "undefined").all()


def test_bad_inputs() -> None:
    w = lattice(3, 3)
    with pytest.raises(InputError, match="'alpha' parameter"):
        getis_ord(np.arange(9.0), w, alpha=5)
    with pytest.raises(InputError, match="'engine' parameter"):
        local_moran(np.arange(9.0), w, engine="cuda")
    with pytest.raises(InputError, match="one entry per area"):
        local_moran(np.arange(4.0), w)
    with pytest.raises(InputError, match="at least 2"):
        getis_ord([1.0], lattice(1, 1))


def test_bonferroni_is_stricter() -> None:
    w, y = _planted()
    fdr = getis_ord(y, w, permutations=0)
    bonf = getis_ord(y, w, permutations=0, adjust="bonferroni")
    assert bonf.significant.sum() <= fdr.significant.sum()
    assert (bonf.p_adjusted >= bonf.p_fdr - 1e-15).all()


def test_summary_warns_when_permutations_cannot_pass_fdr() -> None:
    w, y = _planted()
    assert "more permutations" in getis_ord(y, w, permutations=99, rng=1).summary()
    assert "more permutations" not in getis_ord(y, w, permutations=99_999, rng=1).summary()
