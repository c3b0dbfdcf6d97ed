"""Empirical Bayes rates, excess risk and location quotients: hand-checked values and edge cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from safercities.errors import InputError
from safercities.stats.rates import exact_poisson_interval
from safercities.stats.smoothing import (
    empirical_bayes,
    excess_risk,
    location_quotients,
    spatial_empirical_bayes,
)
from safercities.stats.weights import SpatialWeights

COUNTS = np.array([2, 30, 5, 0, 12])
POPULATION = np.array([1_000.0, 20_000.0, 2_500.0, 800.0, 9_000.0])


def marshall_by_hand(count: np.ndarray, pop: np.ndarray) -> np.ndarray:
    """Marshall (1991) written out term by term, independently of the module."""
    m = count.sum() / pop.sum()
    r = count / pop
    s2 = max((pop * (r - m) ** 2).sum() / pop.sum() - m / pop.mean(), 0.0)
    w = s2 / (s2 + m / pop)
    return w * r + (1 - w) * m


def chain(n: int) -> SpatialWeights:
    """Areas 0-1-2-...-(n-1) in a line (rook neighbours)."""
    focal = np.r_[np.arange(n - 1), np.arange(1, n)]
    neighbor = np.r_[np.arange(1, n), np.arange(n - 1)]
    return SpatialWeights.from_arrays(np.arange(n), focal, neighbor, kind="chain")


def test_global_eb_matches_the_formula_by_hand() -> None:
    result = empirical_bayes(COUNTS, POPULATION, per=1)
    np.testing.assert_allclose(result.smoothed, marshall_by_hand(COUNTS, POPULATION), rtol=1e-12)
    assert result.method == "global"
    assert result.provenance["function"].endswith("empirical_bayes")


def test_rates_are_per_hundred_thousand_by_default() -> None:
    per_person = empirical_bayes(COUNTS, POPULATION, per=1)
    default = empirical_bayes(COUNTS, POPULATION)
    np.testing.assert_allclose(default.smoothed, per_person.smoothed * 100_000, rtol=1e-12)
    np.testing.assert_allclose(default.crude, COUNTS / POPULATION * 100_000)


def test_negative_variance_shrinks_every_area_to_the_city_rate() -> None:
    # identical rates: the between-area variance estimate is negative, truncated to 0
    count, pop = np.array([10, 20, 30]), np.array([10_000.0, 20_000.0, 30_000.0])
    result = empirical_bayes(count, pop, per=1)
    assert result.variance_truncated.all()
    np.testing.assert_allclose(result.smoothed, 60 / 60_000)
    assert np.all(result.shrinkage == 0)


def test_zero_population_is_nan_with_a_flag_and_left_out_of_the_prior() -> None:
    count = np.r_[COUNTS, 3]  # incidents with no residents (an industrial estate)
    pop = np.r_[POPULATION, 0.0]
    with_zero = empirical_bayes(count, pop, per=1)
    assert np.isnan(with_zero.smoothed[-1]) and np.isnan(with_zero.crude[-1])
    assert with_zero.zero_population.tolist() == [False] * 5 + [True]
    np.testing.assert_allclose(with_zero.smoothed[:-1], marshall_by_hand(COUNTS, POPULATION), rtol=1e-12)
    assert not np.isinf(with_zero.to_frame().select_dtypes("number").to_numpy()).any()
    assert "1 with zero population" in with_zero.summary()


def test_missing_population_counts_as_zero() -> None:
    result = excess_risk([1, 2], [np.nan, 100.0])
    assert result.zero_population.tolist() == [True, False]
    assert np.isnan(result.ratio[0])


def test_all_zero_counts_give_zero_rates_without_warnings() -> None:
    result = spatial_empirical_bayes(np.zeros(5), POPULATION, chain(5))
    np.testing.assert_array_equal(result.smoothed, 0.0)
    global_result = empirical_bayes(np.zeros(5), POPULATION)
    np.testing.assert_array_equal(global_result.smoothed, 0.0)


def test_spatial_eb_window_is_neighbours_plus_self() -> None:
    w = chain(5)
    result = spatial_empirical_bayes(COUNTS, POPULATION, w, per=1)
    assert result.window_size.tolist() == [2, 3, 3, 3, 2]
    # area 1's window is areas 0, 1, 2
    window = [0, 1, 2]
    m = COUNTS[window].sum() / POPULATION[window].sum()
    r = COUNTS / POPULATION
    s2 = (POPULATION[window] * (r[window] - m) ** 2).sum() / POPULATION[window].sum() - m / POPULATION[window].mean()
    s2 = max(s2, 0.0)
    expected = m + s2 / (s2 + m / POPULATION[1]) * (r[1] - m)
    assert result.smoothed[1] == pytest.approx(expected, rel=1e-12)
    assert result.prior_mean[1] == pytest.approx(m)


def test_spatial_eb_ignores_the_weights_transform() -> None:
    w = chain(5)
    a = spatial_empirical_bayes(COUNTS, POPULATION, w).smoothed
    b = spatial_empirical_bayes(COUNTS, POPULATION, w.transformed("R")).smoothed
    np.testing.assert_allclose(a, b)


def test_spatial_eb_island_keeps_its_crude_rate() -> None:
    w = SpatialWeights.from_arrays(np.arange(3), [0, 1], [1, 0])  # area 2 is an island
    result = spatial_empirical_bayes([4, 1, 7], [1000.0, 1500.0, 2000.0], w)
    assert result.window_size[2] == 1
    assert result.smoothed[2] == pytest.approx(7 / 2000 * 100_000)
    assert result.variance_truncated[2]


def test_spatial_eb_zero_population_neighbour_drops_out_of_windows() -> None:
    pop = POPULATION.copy()
    pop[2] = 0.0
    result = spatial_empirical_bayes(COUNTS, pop, chain(5), per=1)
    assert np.isnan(result.smoothed[2]) and result.zero_population[2]
    assert result.window_size.tolist() == [2, 2, 0, 2, 2]
    assert result.prior_mean[1] == pytest.approx((COUNTS[0] + COUNTS[1]) / (pop[0] + pop[1]))


def test_spatial_eb_checks_the_weights_size() -> None:
    with pytest.raises(InputError, match="cover 4 areas"):
        spatial_empirical_bayes(COUNTS, POPULATION, chain(4))


@pytest.mark.parametrize(
    ("count", "pop", "message"),
    [
        ([1, -1], [10.0, 10.0], "non-negative integers"),
        ([1.5, 1], [10.0, 10.0], "non-negative integers"),
        ([1, 1], [10.0, -10.0], "non-negative"),
        ([1, 1, 1], [10.0, 10.0], "one entry per area"),
    ],
)
def test_bad_input_is_an_input_error(count: list[float], pop: list[float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        empirical_bayes(count, pop)


def test_result_is_frozen() -> None:
    result = empirical_bayes(COUNTS, POPULATION)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.per = 1  # type: ignore[misc]


def test_excess_risk_is_observed_over_expected_with_the_exact_interval() -> None:
    result = excess_risk(COUNTS, POPULATION)
    city = COUNTS.sum() / POPULATION.sum()
    expected = POPULATION * city
    np.testing.assert_allclose(result.ratio, COUNTS / expected)
    lower, upper = exact_poisson_interval(COUNTS)
    np.testing.assert_allclose(result.lower, lower / expected)
    np.testing.assert_allclose(result.upper, upper / expected)
    # population-weighted mean of the ratios is 1 by construction
    assert (result.ratio * expected).sum() / expected.sum() == pytest.approx(COUNTS.sum() / expected.sum())
    assert result.lower[3] == 0.0  # zero count: lower bound 0
    assert "excess risk" in result.summary()


def test_excess_risk_against_a_given_rate_and_zero_population() -> None:
    result = excess_risk([5, 0], [10_000.0, 0.0], reference_rate=1e-3)
    assert result.expected[0] == pytest.approx(10.0)
    assert result.ratio[0] == pytest.approx(0.5)
    assert np.isnan(result.ratio[1]) and result.zero_population[1]
    with pytest.raises(InputError, match="reference_rate"):
        excess_risk([1], [10.0], reference_rate=-1)
    with pytest.raises(InputError, match="confidence"):
        excess_risk([1], [10.0], confidence=1.5)


def test_location_quotients_by_hand() -> None:
    table = pd.DataFrame(
        {"burglary": [10, 0, 5], "robbery": [10, 4, 5], "theft": [0, 0, 0]},
        index=pd.Index(["north", "south", "east"]),
    )
    result = location_quotients(table)
    # north: burglary share 10/20 in the area, 15/34 in the city
    assert result.wide().loc["north", "burglary"] == pytest.approx((10 / 20) / (15 / 34))
    assert result.wide().loc["south", "robbery"] == pytest.approx(1 / (19 / 34))
    assert result.wide().loc["south", "burglary"] == 0.0
    frame = result.to_frame()
    assert len(frame) == 9
    assert frame["lq"][frame["offence"] == "theft"].isna().all()  # no theft anywhere: undefined
    south_burglary = frame[(frame["area"] == "south") & (frame["offence"] == "burglary")].iloc[0]
    assert south_burglary["lower"] == 0.0 and south_burglary["upper"] > 0
    # Clopper-Pearson for 10 of 20 over the city share
    from scipy import stats

    lo = stats.beta.ppf(0.025, 10, 11) / (15 / 34)
    assert result.wide().loc["north", "burglary"] > lo
    assert frame.loc[0, "lower"] == pytest.approx(lo)
    assert "location quotients" in result.summary()


def test_location_quotients_empty_area_and_array_input() -> None:
    result = location_quotients(np.array([[3, 1], [0, 0], [1, 3]]))
    assert result.empty_area.tolist() == [False, True, False]
    assert np.isnan(result.lq[1]).all()
    assert not np.isinf(result.upper[~np.isnan(result.upper)]).any()
    with pytest.raises(InputError, match="2-D"):
        location_quotients(np.array([1, 2, 3]))
