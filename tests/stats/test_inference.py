"""The inference module: p = (k+1)/(R+1), alternatives, generators, conditional permutation, FDR."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from safercities.errors import InputError
from safercities.stats import inference
from safercities.stats.neighbours import lattice


def test_p_is_k_plus_one_over_r_plus_one() -> None:
    reference = np.array([[1.0, 2.0, 3.0, 4.0]])
    assert inference.pvalues_from_reference([3.0], reference, "greater")[0] == pytest.approx(3 / 5)
    assert inference.pvalues_from_reference([3.0], reference, "less")[0] == pytest.approx(4 / 5)
    assert inference.pvalues_from_reference([9.0], reference, "greater")[0] == pytest.approx(1 / 5)
    assert inference.pvalues_from_reference([9.0], reference, "two-sided")[0] == pytest.approx(2 / 5)
    assert inference.pvalues_from_reference([3.0], reference, "two-sided")[0] == 1.0  # capped
    # folded about the reference mean 2.5: |x - 2.5| >= 2.5 for x = 0 -> none of the four
    assert inference.pvalues_from_reference([0.0], reference, "folded")[0] == pytest.approx(1 / 5)
    # esda's legacy "directed": the smaller tail, not doubled
    assert inference.pvalues_from_counts([1], [4], 4, "directed")[0] == pytest.approx(2 / 5)


def test_alternative_is_checked() -> None:
    with pytest.raises(InputError, match="'alternative' parameter"):
        inference.pvalues_from_counts([1], [1], 9, "lesser")


def test_generators() -> None:
    state = np.random.get_state()[1].copy()  # type: ignore[index]
    a = inference.as_generator(5).integers(0, 1000, 5)
    b = inference.as_generator(np.random.default_rng(5)).integers(0, 1000, 5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        inference.as_generator(None).integers(0, 1000, 5),
        np.random.default_rng(inference.DEFAULT_SEED).integers(0, 1000, 5),
    )
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # type: ignore[index]
    with pytest.raises(InputError, match="'rng' parameter"):
        inference.as_generator(1.5)  # type: ignore[arg-type]
    assert inference.describe_generator(7) == "seed 7"


def test_draws_are_distinct_and_uniform() -> None:
    rng = np.random.default_rng(1)
    for n, size in [(5, 3), (1000, 9)]:
        draws = inference.draw_neighbour_sets(rng, n, size, 4000)
        assert draws.shape == (4000, size)
        assert np.all(np.diff(np.sort(draws, axis=1), axis=1) > 0)
    counts = np.bincount(inference.draw_neighbour_sets(rng, 5, 3, 20000)[:, 0], minlength=5)
    assert np.abs(counts / 20000 - 0.2).max() < 0.015  # sd 0.003


def _case(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    w = lattice(12, 15, rule="queen")
    y = np.random.default_rng(seed).poisson(3, w.n).astype(float)
    return y, w.focal, w.neighbor, w.weight


@pytest.mark.parametrize("weighted", [False, True])
def test_numba_equals_numpy_for_the_same_draws(weighted: bool) -> None:
    y, f, j, w = _case()
    if weighted:
        w = np.random.default_rng(9).uniform(0.5, 2.0, len(w))
    scale = np.where(np.arange(len(y)) % 3 == 0, -1.0, 1.0)
    out = [
        inference.conditional_permutation(y, f, j, w, scale, permutations=199, rng=4, engine=e, folded=True)
        for e in ("numba", "numpy")
    ]
    assert out[0].engine == "numba" and out[1].engine == "numpy"
    for name in ("greater_equal", "less_equal", "folded"):
        np.testing.assert_array_equal(getattr(out[0], name), getattr(out[1], name))
    np.testing.assert_allclose(out[0].reference_mean, out[1].reference_mean, rtol=1e-12)
    np.testing.assert_allclose(out[0].reference_sd, out[1].reference_sd, rtol=1e-9)


def test_equal_weights_path_equals_general_path() -> None:
    """The prefix-sum shortcut for equal weights counts exactly as the general per-link sum."""
    y, f, j, w = _case()
    rng = np.random.default_rng(2)
    n = len(y)
    indptr, nbr, wts, card = inference._csr(n, f, j, w)  # noqa: SLF001
    draws = inference.draw_neighbour_sets(rng, n, int(card.max()) + 1, 299)
    t_obs = np.bincount(np.repeat(np.arange(n), card), weights=y[nbr], minlength=n)
    fast = inference._uniform_numpy(y, card, draws, t_obs, True)  # noqa: SLF001
    general = inference._weighted_numpy(y, indptr, wts, card, draws, t_obs, True)  # noqa: SLF001
    for a, b in zip(fast, general, strict=True):
        np.testing.assert_array_equal(a, b)


def test_conditional_distribution_is_exact() -> None:
    """Area 0 with 2 neighbours among n = 6: every pair of the other 5 is equally likely (10 pairs)."""
    y = np.array([0.0, 1.0, 2.0, 4.0, 8.0, 16.0])
    f, j = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 0])
    sums = sorted(a + b for a, b in combinations(y[1:], 2))
    observed = y[1] + y[2]  # 3: the smallest pair sum
    out = inference.conditional_permutation(y, f, j, np.ones(4), 1.0, permutations=20000, rng=8)
    exact_ge = sum(s >= observed for s in sums) / len(sums)
    assert out.greater_equal[0] / 20000 == pytest.approx(exact_ge, abs=0.01)
    assert out.reference_mean[0] == pytest.approx(np.mean(sums), rel=0.01)
    assert out.reference_sd[0] == pytest.approx(np.std(sums), rel=0.02)


def test_pvalues_are_valid_under_the_null() -> None:
    """iid values: P(p <= 0.05) is 0.05 (the (k+1)/(R+1) test is exact); 1,800 p-values, sd 0.005 ..."""
    w = lattice(30, 60, rule="rook")
    y = np.random.default_rng(11).normal(size=w.n)
    out = inference.conditional_permutation(y, w.focal, w.neighbor, w.weight, 1.0, permutations=199, rng=12)
    p = out.pvalues("greater")
    # ... but areas share one set of draws, so allow for their dependence: 0.05 +- 0.025
    assert abs((p <= 0.05).mean() - 0.05) < 0.025


def test_seeds() -> None:
    y, f, j, w = _case()
    a = inference.conditional_permutation(y, f, j, w, 1.0, permutations=99, rng=1)
    b = inference.conditional_permutation(y, f, j, w, 1.0, permutations=99, rng=np.random.default_rng(1))
    c = inference.conditional_permutation(y, f, j, w, 1.0, permutations=99, rng=2)
    np.testing.assert_array_equal(a.greater_equal, b.greater_equal)
    assert not np.array_equal(a.greater_equal, c.greater_equal)


def test_fdr_and_bonferroni() -> None:
    p = np.random.default_rng(5).uniform(size=200) ** 3
    np.testing.assert_allclose(inference.fdr_bh(p), false_discovery_control(p, method="bh"), rtol=1e-12)
    with_nan = np.concatenate([p, [np.nan, np.nan]])
    adjusted = inference.fdr_bh(with_nan)
    assert np.isnan(adjusted[-2:]).all()
    np.testing.assert_allclose(adjusted[:-2], inference.fdr_bh(p))
    np.testing.assert_allclose(inference.bonferroni(with_nan)[:-2], np.minimum(1, p * 200))
    assert inference.fdr_bh([np.nan]).shape == (1,)
    with pytest.raises(InputError, match="'adjust' parameter"):
        inference.adjust_pvalues(p, "holm")
