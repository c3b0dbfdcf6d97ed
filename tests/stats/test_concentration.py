"""Lorenz curve, Gini, generalised Gini and the law-of-concentration shares: hand examples and edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from safercities.errors import InputError
from safercities.stats.concentration import concentration, generalized_gini, gini, lorenz_curve


def test_gini_by_hand() -> None:
    # 4 places, counts 0, 0, 1, 3: sum (2i - N - 1) x_(i) = (6 - 5)*1 + (8 - 5)*3 = 10; G = 10 / (N C) = 10 / 16
    assert gini([3, 0, 1, 0]) == pytest.approx(10 / 16)


def test_gini_equal_counts_is_zero_and_one_place_takes_all() -> None:
    assert gini([5, 5, 5, 5]) == 0.0
    assert gini([0, 0, 0, 8]) == pytest.approx(3 / 4)  # the biased Gini's maximum (N - 1) / N
    assert gini([0, 0, 0, 8], unbiased=True) == pytest.approx(1.0)


def test_generalized_gini_is_zero_when_every_crime_is_in_its_own_place() -> None:
    # the most equal spread possible with 3 crimes over 10 places
    counts = [1, 1, 1] + [0] * 7
    assert gini(counts) == pytest.approx(0.7)
    assert generalized_gini(counts) == pytest.approx(0.0, abs=1e-12)


def test_generalized_gini_equals_gini_when_crimes_outnumber_places() -> None:
    counts = [7, 3, 0, 12, 1]
    assert generalized_gini(counts) == pytest.approx(gini(counts))


def test_ties_and_order_do_not_matter() -> None:
    rng = np.random.default_rng(7)
    counts = rng.poisson(0.4, 500)
    a = concentration(counts)
    b = concentration(rng.permutation(counts))
    assert a.gini == b.gini and a.generalized_gini == b.generalized_gini
    assert a.top_share == b.top_share and a.places_for_share == b.places_for_share


def test_top_shares_and_places_for_shares_by_hand() -> None:
    # 100 places: one with 50 crimes, four with 10, five with 2, ninety with 0; 100 crimes
    counts = np.r_[50, [10] * 4, [2] * 5, [0] * 90]
    result = concentration(counts)
    assert result.top_share[0.01] == pytest.approx(0.50)
    assert result.top_share[0.05] == pytest.approx(0.90)
    assert result.top_share[0.10] == pytest.approx(1.00)
    assert result.places_for_share == {0.25: 1, 0.5: 1}
    assert result.place_share_for[0.5] == pytest.approx(0.01)
    assert result.zero_places == 90
    assert result.sparse is False


def test_fractional_top_share_is_read_off_the_lorenz_curve() -> None:
    counts = [4, 2, 1, 1, 0]  # top 10% of 5 places = half a place: half of the first place's 4 of 8 crimes
    assert concentration(counts, top=(0.1,)).top_share[0.1] == pytest.approx(0.25)


def test_lorenz_curve_starts_at_zero_and_ends_at_one() -> None:
    places, crime = lorenz_curve([0, 3, 1])
    np.testing.assert_allclose(places, [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(crime, [0, 0.75, 1, 1])


def test_all_zero_counts_give_nan_not_a_crash() -> None:
    result = concentration([0, 0, 0])
    assert np.isnan(result.gini) and np.isnan(result.generalized_gini)
    assert all(np.isnan(v) for v in result.top_share.values())
    assert "no crime" in result.summary()


def test_single_incident() -> None:
    result = concentration([0, 0, 1, 0])
    assert result.gini == pytest.approx(0.75)
    assert result.generalized_gini == pytest.approx(0.0)
    assert result.places_for_share[0.5] == 1
    assert np.isnan(generalized_gini([0, 0, 1, 0], unbiased=True))  # m = min(N, C) = 1: undefined


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    counts = np.random.default_rng(3).negative_binomial(1, 0.6, 2000)
    a = concentration(counts, bootstrap=500, rng=np.random.default_rng(11))
    b = concentration(counts, bootstrap=500, rng=np.random.default_rng(11))
    assert a.intervals == b.intervals
    lo, hi = a.intervals["generalized_gini"]
    assert lo < a.generalized_gini < hi
    lo, hi = a.intervals["gini"]
    assert lo < a.gini < hi
    frame = a.to_frame()
    assert frame.set_index("measure").loc["gini", "lower"] == pytest.approx(lo)
    assert "bootstrap" in a.summary()


def test_bootstrap_matches_resampling_places_directly() -> None:
    # the multinomial shortcut against a plain resample of places (same distribution, different draws)
    counts = np.random.default_rng(5).poisson(0.5, 300)
    fast = concentration(counts, bootstrap=4000, rng=np.random.default_rng(1)).intervals["gini"]
    rng = np.random.default_rng(2)
    slow = np.array([gini(counts[rng.integers(0, 300, 300)]) for _ in range(1000)])
    assert fast[0] == pytest.approx(np.percentile(slow, 2.5), abs=0.02)
    assert fast[1] == pytest.approx(np.percentile(slow, 97.5), abs=0.02)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"top": (0.0,)}, "top"),
        ({"crime_shares": (1.5,)}, "crime_shares"),
        ({"bootstrap": 10}, "rng="),
        ({"bootstrap": -1}, "bootstrap"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        concentration([1, 2, 0], **kwargs)  # type: ignore[arg-type]


def test_bad_counts() -> None:
    with pytest.raises(InputError, match="non-negative"):
        gini([1, -1])
    with pytest.raises(InputError, match="no places"):
        concentration([])
    with pytest.raises(InputError, match="non-negative"):
        generalized_gini([np.nan, 1])
