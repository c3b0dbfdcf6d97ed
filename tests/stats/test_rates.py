"""Exact Poisson rates against R's poisson.test (published output) and statsmodels."""

import numpy as np
import pytest

from safercities.errors import InputError
from safercities.stats.rates import exact_poisson_interval, poisson_rate

# R 4.x: poisson.test(k)$conf.int, 95%; these are the printed values of R's stats package.
R_POISSON_TEST = {
    0: (0.0, 3.688879),
    1: (0.02531781, 5.571643),
    10: (4.795389, 18.390356),
}


@pytest.mark.parametrize("k", [0, 1, 10])
def test_interval_matches_r_poisson_test(k: int) -> None:
    lower, upper = exact_poisson_interval([k])
    assert lower[0] == pytest.approx(R_POISSON_TEST[k][0], rel=1e-6, abs=1e-9)
    assert upper[0] == pytest.approx(R_POISSON_TEST[k][1], rel=1e-6)


def test_interval_matches_statsmodels_exact() -> None:
    from statsmodels.stats.rates import confint_poisson

    counts = np.array([0, 1, 3, 17, 250, 4000])
    lower, upper = exact_poisson_interval(counts)
    for k, lo, hi in zip(counts, lower, upper, strict=True):
        ref_lo, ref_hi = confint_poisson(int(k), 1.0, method="exact-c")
        assert lo == pytest.approx(ref_lo, rel=1e-9, abs=1e-12)
        assert hi == pytest.approx(ref_hi, rel=1e-9)


def test_rate_scales_and_flags() -> None:
    result = poisson_rate([10, 500, 3], [50_000, 1_000_000, 400])
    frame = result.to_frame()
    assert frame["rate"].tolist() == pytest.approx([20.0, 50.0, 750.0])
    assert frame["lower"][0] == pytest.approx(4.795389 * 2, rel=1e-6)
    assert frame["unstable"].tolist() == [True, False, True]


def test_zero_population_gives_nan_not_inf() -> None:
    result = poisson_rate([2], [0])
    assert np.isnan(result.rate[0]) and np.isnan(result.upper[0])


def test_bad_input_is_named() -> None:
    with pytest.raises(InputError, match="confidence"):
        poisson_rate([1], [10], confidence=1.5)
    with pytest.raises(InputError, match="non-negative"):
        poisson_rate([-1], [10])
