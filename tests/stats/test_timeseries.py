"""Time: STL decomposition, year-over-year tests, weekly profiles and aoristic apportionment.

Peers: statsmodels' STL run directly, statsmodels' exact conditional test for two Poisson rates
(``test_poisson_2indep(method="exact-cond")``) and its Clopper-Pearson interval (``proportion_confint``,
``method="beta"``); aoristic weights against a brute-force minute-by-minute count.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.proportion import proportion_confint
from statsmodels.tsa.seasonal import STL

from safercities.errors import InputError
from safercities.stats.inference import fdr_bh
from safercities.stats.timeseries import (
    aoristic,
    aoristic_weights,
    decompose,
    weekly_profile,
    year_over_year,
)

MONTHLY = pd.date_range("2020-01-01", periods=48, freq="MS")


def _seasonal_series(
    rng: np.random.Generator, n: int = 48, scale: float = 1.0
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    t = np.arange(n)
    season = 30 * scale * np.cos(2 * np.pi * (t - 4) / 12)  # peak in May
    trend = (200 + 2.0 * t) * scale
    y = rng.poisson(trend + season).astype(float)
    return pd.Series(y, index=pd.date_range("2020-01-01", periods=n, freq="MS")), trend, season


# -- decompose --------------------------------------------------------------------------------------
@pytest.mark.parametrize("robust", [True, False])
@pytest.mark.parametrize("seasonal", ["periodic", 7, 13])
def test_decompose_equals_statsmodels_stl(robust: bool, seasonal: str | int) -> None:
    series, _, _ = _seasonal_series(np.random.default_rng(1))
    result = decompose(series, robust=robust, seasonal=seasonal)
    if seasonal == "periodic":
        fit = STL(series.to_numpy(), period=12, seasonal=10 * 48 + 1, seasonal_deg=0, robust=robust).fit()
    else:
        fit = STL(series.to_numpy(), period=12, seasonal=seasonal, robust=robust).fit()
    np.testing.assert_allclose(result.trend, fit.trend, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.seasonal, fit.seasonal, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.remainder, fit.resid, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.robust_weights, fit.weights, rtol=0, atol=1e-12)
    # Wang, Smith & Hyndman (2006) strengths from the components
    expected = max(0.0, 1 - np.var(fit.resid) / np.var(fit.seasonal + fit.resid))
    assert result.seasonal_strength == pytest.approx(expected, abs=1e-12)
    expected_trend = max(0.0, 1 - np.var(fit.resid) / np.var(fit.trend + fit.resid))
    assert result.trend_strength == pytest.approx(expected_trend, abs=1e-12)
    frame = result.to_frame()
    assert list(frame.columns) == ["observed", "trend", "seasonal", "remainder", "robust_weight"]
    assert frame.index.equals(series.index)
    np.testing.assert_allclose(frame[["trend", "seasonal", "remainder"]].sum(axis=1), series.to_numpy(), atol=1e-9)
    assert result.period == 12 and result.frequency == "month"
    assert result.provenance["function"] == "safercities.stats.timeseries.decompose"


def test_decompose_recovers_a_known_trend_and_season() -> None:
    # city-wide counts: amplitude 300 around 2,000 to 3,900 a month, Poisson sd about 45 to 60
    series, trend, season = _seasonal_series(np.random.default_rng(2), n=96, scale=10)
    result = decompose(series)
    assert np.sqrt(np.mean((result.seasonal - season) ** 2)) < 30
    assert np.sqrt(np.mean((result.trend - trend) ** 2)) < 30
    assert result.seasonal_strength > 0.9
    profile = result.seasonal_profile()
    assert profile.idxmax() == "May" and profile.idxmin() == "Nov"
    assert "peak at May" in result.summary()
    # a season-free series scores far lower
    flat = pd.Series(np.random.default_rng(3).poisson(200, 96).astype(float), index=series.index)
    assert decompose(flat).seasonal_strength < 0.4


def test_decompose_leaves_its_input_alone_and_accepts_period_index() -> None:
    series, _, _ = _seasonal_series(np.random.default_rng(4))
    before = series.copy()
    a = decompose(series)
    pd.testing.assert_series_equal(series, before)
    b = decompose(pd.Series(series.to_numpy(), index=series.index.to_period("M")))
    np.testing.assert_allclose(a.seasonal, b.seasonal)


def test_decompose_weekly_series_and_its_gaps() -> None:
    index = pd.date_range("2021-01-04", periods=110, freq="W-MON")
    series = pd.Series(np.random.default_rng(5).poisson(20, 110).astype(float), index=index)
    result = decompose(series)
    assert result.period == 52 and result.frequency == "week"
    with pytest.raises(InputError, match="period starting 2022-02-28 is missing"):
        decompose(series.drop(index[60]))
    with pytest.raises(InputError, match="at least 104 values"):
        decompose(series.iloc[:7])  # a single week's worth of weeks


def test_decompose_errors_are_clear() -> None:
    series, _, _ = _seasonal_series(np.random.default_rng(6))
    with pytest.raises(InputError, match="period starting 2020-06-01 is missing"):
        decompose(series.drop(MONTHLY[5]))
    with pytest.raises(InputError, match="at least 24 values"):
        decompose(series.iloc[:23])
    with pytest.raises(InputError, match="missing or not a number"):
        decompose(series.where(series.index != MONTHLY[3]))
    with pytest.raises(InputError, match="not sorted"):
        decompose(series.iloc[::-1])
    with pytest.raises(InputError, match="more than once"):
        decompose(pd.concat([series.iloc[:1], series]))
    with pytest.raises(InputError, match="neither monthly"):
        decompose(pd.Series(np.ones(40), index=pd.date_range("2020-01-01", periods=40, freq="D")))
    with pytest.raises(InputError, match="cannot tell the period"):
        decompose(pd.Series(np.ones(40)))
    with pytest.raises(InputError, match="'seasonal' parameter of decompose"):
        decompose(series, seasonal=8)
    with pytest.raises(InputError, match="'period' parameter of decompose"):
        decompose(series, period=1)
    assert decompose(pd.Series(series.to_numpy()), period=12).frequency == "unknown"


def test_decompose_all_zeros_is_a_clear_result() -> None:
    zeros = pd.Series(np.zeros(36), index=MONTHLY[:36])
    for robust in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = decompose(zeros, robust=robust)
        assert result.seasonal_strength == 0.0 and result.trend_strength == 0.0
        assert np.all(result.trend == 0) and np.all(result.seasonal == 0)
        assert "constant" in result.summary()


# -- year over year -----------------------------------------------------------------------------------
def _statsmodels_pvalue(k1: int, e1: float, k0: int, e0: float, alternative: str) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        sm = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}[alternative]
        return float(sm_rates.test_poisson_2indep(k1, e1, k0, e0, method="exact-cond", alternative=sm).pvalue)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_year_over_year_equals_statsmodels_exact_conditional(alternative: str) -> None:
    rng = np.random.default_rng(7)
    n = 300
    k1 = rng.poisson(rng.uniform(0, 150, n))
    k0 = rng.poisson(rng.uniform(0, 150, n))
    e1, e0 = rng.uniform(0.5, 2, n), rng.uniform(0.5, 2, n)
    k1[:6], k0[:6] = [0, 0, 3, 1, 900, 2], [0, 5, 0, 1, 1, 2]
    e1[5] = e0[5] = 1.0  # k exactly at its null mean: p = 1
    result = year_over_year(k1, k0, exposure_now=e1, exposure_before=e0, alternative=alternative)
    tested = (k1 + k0) > 0
    columns = (k1[tested], e1[tested], k0[tested], e0[tested])
    expected = [_statsmodels_pvalue(*args, alternative) for args in zip(*columns, strict=True)]
    np.testing.assert_allclose(result.pvalue[tested], expected, rtol=0, atol=1e-10)
    assert np.isnan(result.pvalue[0]) and (alternative != "two-sided" or result.pvalue[5] == 1.0)
    np.testing.assert_allclose(result.pvalue_fdr, fdr_bh(result.pvalue), rtol=0, atol=0)
    # the interval: Clopper-Pearson on p = k_now / total, mapped to the rate ratio
    lo, hi = proportion_confint(k1[tested], (k1 + k0)[tested], alpha=0.05, method="beta")
    scale = (e0 / e1)[tested]
    with np.errstate(divide="ignore"):
        expected_lower, expected_upper = lo / (1 - lo) * scale, np.where(hi < 1, hi / (1 - hi) * scale, np.inf)
    np.testing.assert_allclose(result.lower[tested], expected_lower, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result.upper[tested], expected_upper, rtol=1e-10, atol=1e-12)
    assert np.all(result.lower[tested] <= result.ratio[tested]) and np.all(result.ratio[tested] <= result.upper[tested])


def test_year_over_year_edge_cases_and_labels() -> None:
    labels = pd.Index(["A", "B", "C", "D"], name="area_id")
    now = pd.Series([0, 0, 4, 10], index=labels)
    before = pd.Series([0, 6, 0, 10], index=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = year_over_year(now, before, exposure_now=365, exposure_before=366)
    frame = result.to_frame()
    assert frame.index.equals(labels)
    assert np.isnan(frame.loc["A", "ratio"]) and np.isnan(frame.loc["A", "pvalue"])
    assert frame.loc["A", "lower"] == 0 and frame.loc["A", "upper"] == np.inf
    assert frame.loc["B", "ratio"] == 0 and frame.loc["B", "lower"] == 0
    assert frame.loc["C", "ratio"] == np.inf and frame.loc["C", "upper"] == np.inf and frame.loc["C", "lower"] > 0
    assert frame.loc["D", "ratio"] == pytest.approx(366 / 365)
    assert result.change[3] == pytest.approx(1 / 365)
    assert "1 with no incidents in either period not tested" in result.summary()
    # three tested comparisons: BH counts three tests, not four
    p = result.pvalue[1:]
    np.testing.assert_allclose(result.pvalue_fdr[1:], fdr_bh(p))
    assert result.provenance["parameters"]["alternative"] == "two-sided"


def test_year_over_year_flags_large_changes_after_fdr() -> None:
    rng = np.random.default_rng(8)
    before = rng.poisson(100, 200)
    now = rng.poisson(np.r_[np.full(10, 200.0), np.full(190, 100.0)])
    result = year_over_year(now, before)
    significant = result.significant(0.05)
    assert significant[:10].all()
    assert significant[10:].sum() <= 3
    assert year_over_year([5], [5]).ratio[0] == 1.0


def test_year_over_year_errors() -> None:
    with pytest.raises(InputError, match="non-negative whole counts"):
        year_over_year([1.5], [2])
    with pytest.raises(InputError, match="non-negative whole counts"):
        year_over_year([1], [-2])
    with pytest.raises(InputError, match="exposures must be positive"):
        year_over_year([1], [2], exposure_now=0)
    with pytest.raises(InputError, match="matching shapes"):
        year_over_year([1, 2], [1, 2, 3])
    with pytest.raises(InputError, match="'confidence' parameter of year_over_year"):
        year_over_year([1], [2], confidence=95)
    with pytest.raises(InputError, match="'alternative' parameter of year_over_year"):
        year_over_year([1], [2], alternative="larger")


# -- aoristic -----------------------------------------------------------------------------------------
def _brute_force(start: pd.Series, end: pd.Series, unit: str) -> np.ndarray:
    """Minute by minute: each minute [t, t + 1 min) of a window goes to the bin of t."""
    size = {"hour": 24, "day": 7, "dow_hour": 168, "month": 12}[unit]
    out = np.zeros((len(start), size))
    for i, (s, e) in enumerate(zip(start, end, strict=True)):
        minutes = pd.date_range(s, e, freq="min", inclusive="left") if e > s else pd.DatetimeIndex([s])
        if unit == "hour":
            bins = minutes.hour
        elif unit == "day":
            bins = minutes.day_of_week
        elif unit == "dow_hour":
            bins = minutes.day_of_week * 24 + minutes.hour
        else:
            bins = minutes.month - 1
        out[i] = np.bincount(np.asarray(bins), minlength=size) / len(minutes)
    return out


def _random_windows(rng: np.random.Generator, n: int, longest_hours: float) -> tuple[pd.Series, pd.Series]:
    origin = np.datetime64("2023-12-20T00:00")
    start = origin + rng.integers(0, 90 * 24 * 60, n).astype("timedelta64[m]")
    length = (rng.uniform(0, 1, n) ** 2 * longest_hours * 60).astype(np.int64)
    length[:3] = 0  # moments
    return pd.Series(start), pd.Series(start + length.astype("timedelta64[m]"))


@pytest.mark.parametrize("unit", ["hour", "day", "dow_hour"])
def test_aoristic_equals_brute_force_minute_by_minute(unit: str) -> None:
    rng = np.random.default_rng(9)
    start, end = _random_windows(rng, 60, longest_hours=24 * 9)  # up to 9 days: across midnight and whole weeks
    expected = _brute_force(start, end, unit)
    weights = aoristic_weights(start, end, unit=unit)
    np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    profile = aoristic(start, end, unit=unit)
    np.testing.assert_allclose(profile.weights.ravel(), expected.sum(axis=0), atol=1e-9)
    assert profile.weights.sum() == pytest.approx(len(start))
    assert profile.n_windows == int((end > start).sum())


@pytest.mark.parametrize("unit", ["hour", "day", "dow_hour"])
def test_aoristic_totals_equal_the_sum_of_incident_weights(unit: str) -> None:
    # the profile's O(n + bins) closed form against the per-incident matrix, on long and short windows
    start, end = _random_windows(np.random.default_rng(14), 5000, longest_hours=24 * 60)
    profile = aoristic(start, end, unit=unit)
    np.testing.assert_allclose(profile.weights.ravel(), aoristic_weights(start, end, unit=unit).sum(axis=0), atol=1e-9)
    assert profile.weights.sum() == pytest.approx(5000, abs=1e-8)
    assert profile.n_long == int((end - start >= pd.Timedelta(days=1 if unit == "hour" else 7)).sum())


def test_aoristic_months_over_long_windows_and_leap_years() -> None:
    rng = np.random.default_rng(10)
    origin = np.datetime64("2022-11-01T00:00")
    start = origin + rng.integers(0, 500 * 24 * 60, 8).astype("timedelta64[m]")
    length = rng.integers(0, 800 * 24 * 60, 8).astype("timedelta64[m]")  # up to 2.2 years, over 29 Feb 2024
    start, end = pd.Series(start), pd.Series(start + length)
    expected = _brute_force(start, end, "month")
    np.testing.assert_allclose(aoristic_weights(start, end, unit="month"), expected, rtol=0, atol=1e-12)
    # before 1970 too (the epoch of the closed form)
    old = pd.Series(pd.to_datetime(["1899-12-31 23:00", "1968-02-28 12:00"]))
    old_end = pd.Series(pd.to_datetime(["1901-03-01 00:00", "1968-03-01 12:00"]))
    np.testing.assert_allclose(
        aoristic_weights(old, old_end, unit="month"), _brute_force(old, old_end, "month"), rtol=0, atol=1e-12
    )


def test_aoristic_window_longer_than_the_period_is_closed_form() -> None:
    # exactly three weeks: every hour of the week gets 1/168; three weeks and one hour: Monday 00h a little more
    start = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:00"]))
    end = pd.Series(pd.to_datetime(["2024-01-22 00:00", "2024-01-22 01:00"]))
    weights = aoristic_weights(start, end, unit="dow_hour")
    np.testing.assert_allclose(weights[0], 1 / 168)
    np.testing.assert_allclose(weights[1, 0], 4 / (3 * 168 + 1))
    np.testing.assert_allclose(weights[1, 1:], 3 / (3 * 168 + 1))
    # ten years in one window: still one row, summing to 1
    decade = aoristic(pd.Series([pd.Timestamp("2010-01-01")]), pd.Series([pd.Timestamp("2020-01-01")]), unit="month")
    assert decade.weights.sum() == pytest.approx(1.0) and decade.n_long == 1
    assert decade.weights[1] == pytest.approx((10 * 28 + 2) / 3652)  # ten Februaries, two of them leap


def test_aoristic_moments_ties_missing_ends_and_time_zones() -> None:
    # ties, and the last second of a Sunday
    times = pd.Series(pd.to_datetime(["2024-05-06 10:00"] * 3 + ["2024-05-12 23:59:59"], format="ISO8601"))
    profile = aoristic(times, pd.Series([pd.NaT] * 4), unit="dow_hour")
    assert profile.weights[0, 10] == 3 and profile.weights[6, 23] == 1 and profile.weights.sum() == 4
    assert profile.n_windows == 0
    # a window [09:00, 10:00] lies wholly in the 9 o'clock hour; 10:00 itself belongs to the next one
    w = aoristic_weights(pd.Series([pd.Timestamp("2024-05-06 09:00")]), pd.Series([pd.Timestamp("2024-05-06 10:00")]))
    assert w[0, 9] == 1.0 and w.sum() == 1.0
    # tz-aware times are read on the local clock
    local = pd.Series(pd.to_datetime(["2024-05-06 22:30"])).dt.tz_localize("America/Mexico_City")
    assert aoristic(local, unit="hour").weights[22] == 1.0
    assert weekly_profile(local).weights[0, 22] == 1.0
    assert weekly_profile(local.dt.tz_convert("UTC")).weights[1, 4] == 1.0  # the same moment on the UTC clock


def test_aoristic_leaves_inputs_alone_and_checks_them() -> None:
    start, end = _random_windows(np.random.default_rng(11), 20, 48)
    copies = start.copy(), end.copy()
    aoristic(start, end)
    pd.testing.assert_series_equal(start, copies[0])
    pd.testing.assert_series_equal(end, copies[1])
    with pytest.raises(InputError, match="incident 1 ends before it starts"):
        aoristic(start.iloc[:2], pd.Series([end.iloc[0], start.iloc[1] - pd.Timedelta(hours=1)]))
    with pytest.raises(InputError, match="start of incident 0 is missing"):
        aoristic(pd.Series([pd.NaT]), pd.Series([pd.Timestamp("2024-01-01")]))
    with pytest.raises(InputError, match="one entry per incident"):
        aoristic(start, end.iloc[:3])
    with pytest.raises(InputError, match="'unit' parameter of aoristic"):
        aoristic(start, end, unit="minute")
    assert aoristic(pd.Series([], dtype="datetime64[ns]")).weights.sum() == 0


# -- weekly profile -------------------------------------------------------------------------------------
def test_weekly_profile_counts_monday_first() -> None:
    rng = np.random.default_rng(12)
    times = pd.Series(np.datetime64("2024-01-01") + rng.integers(0, 7 * 24 * 3600, 500).astype("timedelta64[s]"))
    profile = weekly_profile(times.to_numpy())  # a single week of datetime64
    table = profile.to_frame()
    assert table.shape == (7, 24) and table.index[0] == "Monday" and list(table.columns) == list(range(24))
    expected = pd.crosstab(times.dt.day_of_week, times.dt.hour).reindex(index=range(7), columns=range(24))
    np.testing.assert_array_equal(table.to_numpy(), expected.fillna(0).to_numpy())
    assert table.to_numpy().sum() == 500 and not profile.aoristic
    assert "busiest bin" in profile.summary()


def test_weekly_profile_aoristic_equals_aoristic() -> None:
    start, end = _random_windows(np.random.default_rng(13), 50, 30)
    a = weekly_profile(start, windows_end=end)
    b = aoristic(start, end, unit="dow_hour")
    np.testing.assert_allclose(a.weights, b.weights)
    assert a.aoristic and a.to_frame().shape == (7, 24)
    assert "known only within a window" in a.summary()
    with pytest.raises(InputError, match="time of incident 0 is missing"):
        weekly_profile(pd.Series([pd.NaT, pd.Timestamp("2024-01-01")]))
