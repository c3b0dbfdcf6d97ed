"""Global Moran's I and Geary's C: results, inference settings and the edge cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from safercities.errors import InputError
from safercities.stats.autocorrelation import geary, moran
from safercities.stats.neighbours import lattice
from safercities.stats.weights import SpatialWeights


def _smooth(w: SpatialWeights) -> np.ndarray:
    rows = np.arange(w.n) // 20
    return rows + np.random.default_rng(0).normal(scale=0.5, size=w.n)


def test_clustered_values_are_detected() -> None:
    w = lattice(20, 20)
    m = moran(_smooth(w), w, permutations=199, rng=1)
    g = geary(_smooth(w), w, permutations=199, rng=1)
    assert m.I > 0.5 and m.z_rand > 5 and m.p_sim == pytest.approx(2 / 200)
    assert g.C < 0.5 and g.z_rand < -5
    assert geary(_smooth(w), w, permutations=199, rng=1, alternative="less").p_sim == pytest.approx(1 / 200)


def test_result_is_frozen_and_reads_well() -> None:
    w = lattice(6, 6)
    m = moran(np.arange(36.0), w, permutations=99, rng=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.statistic = 0.0  # type: ignore[misc]
    frame = m.to_frame()
    assert list(frame.index) == ["normality", "randomisation", "permutation"]
    assert {"statistic", "expected", "variance", "z", "p"} <= set(frame.columns)
    assert "Moran's I" in m.summary() and "(k+1)/(R+1)" in m.summary()
    assert m.provenance["parameters"]["permutations"] == 99
    assert m.provenance["input_sha256"]


def test_plain_function_call_for_residuals() -> None:
    """``moran(values, weights)`` works with defaults (seeded by default, so it is reproducible)."""
    w = lattice(5, 8)
    residuals = np.random.default_rng(3).normal(size=w.n)
    assert moran(residuals, w).p_sim == moran(residuals, w).p_sim


def test_no_permutations() -> None:
    m = moran(np.arange(16.0), lattice(4, 4), permutations=0)
    assert np.isnan(m.p_sim) and m.permutations == 0


def test_constant_values_raise_a_clear_error() -> None:
    with pytest.raises(InputError, match="all equal"):
        moran(np.zeros(16), lattice(4, 4))
    with pytest.raises(InputError, match="all equal"):
        geary(np.full(16, 3.0), lattice(4, 4))


def test_bad_inputs() -> None:
    w = lattice(4, 4)
    with pytest.raises(InputError, match="one entry per area"):
        moran(np.arange(5.0), w)
    with pytest.raises(InputError, match="finite"):
        moran(np.r_[np.nan, np.arange(15.0)], w)
    with pytest.raises(InputError, match="'alternative' parameter of moran"):
        moran(np.arange(16.0), w, alternative="two_sided")
    with pytest.raises(InputError, match="'permutations' parameter"):
        moran(np.arange(16.0), w, permutations=-1)
    with pytest.raises(InputError, match="at least 3"):
        moran([1.0, 2.0], lattice(1, 2))


def test_island_counts_in_n_and_is_reported() -> None:
    base = lattice(4, 4)
    ids = np.arange(17)
    w = SpatialWeights.from_arrays(ids, base.focal, base.neighbor)  # area 16 has no neighbour
    m = moran(np.arange(17.0), w, permutations=9, rng=1)
    assert m.islands == 1 and m.n == 17 and np.isfinite(m.I)
    assert "island" in m.summary()


def test_single_non_zero_value() -> None:
    y = np.zeros(25)
    y[12] = 1.0
    m = moran(y, lattice(5, 5), permutations=99, rng=4)
    assert np.isfinite(m.z_rand) and m.I < 0
