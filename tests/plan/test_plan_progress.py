"""Progress, its interval and the status rule, against hand computations and scipy's exact Poisson quantiles."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from safercities.plan import assess, expected_share, horizon_of, progress, status, value_interval


def garwood(k: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact Poisson interval of a count, written from the chi-square quantiles (not safercities' code)."""
    a = 1 - confidence
    lower = 0.0 if k == 0 else stats.chi2.ppf(a / 2, 2 * k) / 2
    return lower, stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2


def test_progress_is_the_share_of_the_way_from_baseline_to_target() -> None:
    # a reduction: from 50 to 30; now 40 is half way, 50 is none, 60 went backwards, 25 overshot
    p, lo, hi = progress([50, 50, 50, 50], [30, 30, 30, 30], [40, 50, 60, 25], [35, 45, 55, 20], [45, 55, 65, 30])
    np.testing.assert_allclose(p, [0.5, 0.0, -0.5, 1.25])
    np.testing.assert_allclose(lo, [0.25, -0.25, -0.75, 1.0])  # the upper value bound gives the lower progress
    np.testing.assert_allclose(hi, [0.75, 0.25, -0.25, 1.5])
    # an increase: from 40% to 60%
    p, lo, hi = progress(40, 60, 45, 43, 47)
    np.testing.assert_allclose([p, lo, hi], [0.25, 0.15, 0.35])


def test_progress_is_undefined_without_a_baseline_or_a_current_value_or_a_span() -> None:
    p, lo, hi = progress([np.nan, 50, 50], [30, 30, 50], [40, np.nan, 45], [35, np.nan, 44], [45, np.nan, 46])
    assert np.isnan(p).all() and np.isnan(lo).all() and np.isnan(hi).all()


def test_an_exact_poisson_interval_is_carried_to_progress() -> None:
    # 9 crimes among 12,000 people now; baseline 120 per 100,000, target 60 per 100,000
    k, pop = 9, 12_000
    lo_k, hi_k = garwood(k)
    rate, lo, hi = k / pop * 1e5, lo_k / pop * 1e5, hi_k / pop * 1e5
    p, p_lo, p_hi = progress(120.0, 60.0, rate, lo, hi)
    assert p == pytest.approx((120 - 75) / 60)
    assert p_lo == pytest.approx((120 - hi_k / pop * 1e5) / 60)
    assert p_hi == pytest.approx((120 - lo_k / pop * 1e5) / 60)


def test_a_survey_estimate_without_an_interval_uses_its_standard_error() -> None:
    lo, hi = value_interval([55.0, 55.0, 55.0], [np.nan, 50.0, np.nan], [np.nan, 61.0, np.nan], [2.0, 2.0, np.nan])
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(lo, [55 - z * 2, 50, 55])
    np.testing.assert_allclose(hi, [55 + z * 2, 61, 55])
    lo90, _ = value_interval(55.0, np.nan, np.nan, 2.0, confidence=0.9)
    assert lo90 == pytest.approx(55 - stats.norm.ppf(0.95) * 2)


def test_expected_share_is_the_time_elapsed_clipped_to_one() -> None:
    start = np.array(["2024-01-01"] * 4, dtype="datetime64[D]")
    now = np.array(["2025-01-01", "2023-06-01", "2030-01-01", "NaT"], dtype="datetime64[D]")
    end = np.array(["2027-01-01"] * 4, dtype="datetime64[D]")
    share = expected_share(start, now, end)
    np.testing.assert_allclose(share[:3], [366 / 1096, 0.0, 1.0])
    assert np.isnan(share[3])


@pytest.mark.parametrize(
    ("lower", "upper", "expected", "want"),
    [
        (0.1, 0.5, 0.5, "on_track"),  # the interval reaches the expected line exactly
        (0.6, 0.9, 0.5, "on_track"),  # ahead
        (-0.2, 0.3, 0.5, "at_risk"),  # below the line, above half of it
        (-0.2, 0.25, 0.5, "at_risk"),  # exactly half is not below half
        (-0.2, 0.2499, 0.5, "off_track"),
        (-0.6, -0.1, 0.5, "off_track"),  # moving away from the target
        (0.95, 0.99, 1.0, "at_risk"),  # the date has passed and the target is not reached
        (np.nan, np.nan, 0.5, "no_data"),
        (0.1, 0.2, np.nan, "no_data"),
    ],
)
def test_status_rule(lower: float, upper: float, expected: float, want: str) -> None:
    assert status([lower], [upper], [expected]).tolist() == [want]


@given(
    baseline=st.floats(1, 1e4),
    change=st.floats(-0.9, 2),
    current=st.floats(0, 2e4),
    spread=st.floats(0, 1e3),
)
def test_the_progress_interval_holds_the_point_and_follows_the_value(
    baseline: float, change: float, current: float, spread: float
) -> None:
    target = baseline * (1 + change)
    if abs(target - baseline) < 1e-6 * baseline:
        return
    p, lo, hi = progress(baseline, target, current, current - spread, current + spread)
    assert lo <= p + 1e-9 and p <= hi + 1e-9
    p2, _, _ = progress(baseline, target, current + 1, current + 1, current + 1)
    assert (p2 - p) * (target - baseline) > 0  # a value that moves towards the target raises progress


def test_horizon_rule_at_its_edges() -> None:
    starts = ["2024-03-01"] * 5
    ends = ["2025-03-01", "2025-03-02", "2027-03-01", "2027-03-02", "2024-03-01"]
    assert horizon_of(starts, ends).tolist() == ["short", "medium", "medium", "long", "short"]
    assert horizon_of([None], ["2025-01-01"]).tolist() == [""]


def test_assess_joins_the_current_value_and_flags_a_target_that_aims_the_wrong_way() -> None:
    targets = pd.DataFrame(
        {
            "target_id": ["A", "B", "C"],
            "indicator_id": ["robbery_rate", "robbery_rate", "trust_in_police"],
            "scope": ["K1", "K1", "city"],
            "baseline_period": ["2023", "2023", "2023"],
            "baseline": [100.0, 100.0, 40.0],
            "baseline_lower": [90.0, 90.0, np.nan],
            "baseline_upper": [110.0, 110.0, np.nan],
            "target_value": [80.0, 120.0, 60.0],
            "target_date": [dt.date(2026, 1, 1)] * 3,
            "intervention_ids": ["", "", ""],
        }
    )
    current = pd.DataFrame(
        {
            "target_id": ["A", "C"],
            "period": ["2024", "2024"],
            "value": [95.0, 46.0],
            "lower": [85.0, np.nan],
            "upper": [105.0, np.nan],
            "se": [np.nan, 1.5],
        }  # fmt: skip
    )
    out = assess(targets, current, higher_is_worse={"robbery_rate": True, "trust_in_police": False}).set_index(
        "target_id"
    )
    share = (pd.Timestamp("2025-01-01") - pd.Timestamp("2024-01-01")) / (
        pd.Timestamp("2026-01-01") - pd.Timestamp("2024-01-01")
    )
    assert out.loc["A", "expected"] == pytest.approx(share)
    assert out.loc["A", ["progress", "progress_lower", "progress_upper"]].tolist() == pytest.approx([0.25, -0.25, 0.75])
    assert out.loc["A", "status"] == "on_track"
    z = stats.norm.ppf(0.975)
    assert out.loc["C", "progress_lower"] == pytest.approx((6 - z * 1.5) / 20)
    assert out.loc["B", "status"] == "no_data"
    assert out["direction_ok"].tolist() == [True, False, True]
