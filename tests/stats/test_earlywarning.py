"""Early warning: baselines recover the mean, bounds cover, nothing looks ahead, outbreaks are found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from safercities.errors import InputError
from safercities.sim import OutbreakPlan, simulate
from safercities.stats.earlywarning import _design, _irls, alerts, backtest, baseline

WEEKS = pd.date_range("2021-01-04", periods=156, freq="7D")


def seasonal_nb(
    rng: np.random.Generator, n_areas: int, n_weeks: int, size: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    years = np.arange(n_weeks) / (365.25 / 7)
    level = rng.uniform(2.0, 8.0, size=n_areas)
    mu = level[:, None] * np.exp(0.3 * np.cos(2 * np.pi * (years - 0.35)) + 0.05 * years)[None, :]
    return rng.negative_binomial(size, size / (size + mu)).astype(float), mu


def test_batched_irls_matches_statsmodels_glm() -> None:
    rng = np.random.default_rng(1)
    y, _ = seasonal_nb(rng, 3, 150)
    x = _design(np.arange(150) / (365.25 / 7), 1, True, anchor=0.0)
    a = np.full(3, 0.1)
    beta, _, ok = _irls(x, y, np.ones_like(y), a, None)
    assert ok
    for i in range(3):
        fit = sm.GLM(y[i], x, family=sm.families.NegativeBinomial(alpha=0.1)).fit()
        # the ridge (0.1 on non-intercept terms) moves coefficients by far less than their standard errors
        assert np.allclose(beta[i], fit.params, atol=0.05 * fit.bse.min())


def test_negbin_baseline_recovers_the_seasonal_mean() -> None:
    rng = np.random.default_rng(2)
    y, mu = seasonal_nb(rng, 40, 156)
    base = baseline(pd.DataFrame(y, columns=WEEKS))
    done = np.isfinite(base.expected)
    assert done[:, 56:].all() and not done[:, :56].any()  # 52 weeks of history and a guard band of 4
    ratio = base.expected[:, 104:] / mu[:, 104:]
    assert abs(np.median(ratio) - 1.0) < 0.05  # unbiased on the whole
    assert np.quantile(np.abs(np.log(ratio)), 0.9) < 0.35  # and each area's mean within ~40% nine times in ten


@pytest.mark.parametrize("method", ["negbin", "farrington"])
def test_bound_covers_about_one_minus_alpha_on_outbreak_free_data(method: str) -> None:
    rng = np.random.default_rng(3)
    y, _ = seasonal_nb(rng, 60, 156)
    base = baseline(pd.DataFrame(y, columns=WEEKS), method=method, alpha=0.01)
    done = np.isfinite(base.upper)
    rate = float(np.mean(y[done] > base.upper[done]))
    # thousands of area-weeks: the exceedance rate of a level-0.99 bound lies in [0.002, 0.03]; a discrete bound is
    # conservative and the estimated parameters widen it, so it is mostly below 0.01 (seeded; the band is ~5 s.e.)
    assert done.sum() > 2000
    assert 0.002 <= rate <= 0.03, rate
    found = alerts(None, base, alpha=0.01, control="none")
    assert found.n_alerts == int(np.sum(y[done] > base.upper[done]))  # control none: alert <=> above the bound
    controlled = alerts(None, base, alpha=0.01, control="fdr_bh")
    assert controlled.n_alerts / done.sum() < 0.002


@pytest.mark.parametrize("method", ["negbin", "farrington"])
def test_no_look_ahead(method: str) -> None:
    rng = np.random.default_rng(4)
    y, _ = seasonal_nb(rng, 5, 130)
    first = baseline(y, method=method)
    changed = y.copy()
    changed[:, 100] += 50
    second = baseline(changed, method=method)
    assert np.array_equal(first.expected[:, :101], second.expected[:, :101], equal_nan=True)
    assert np.array_equal(first.upper[:, :101], second.upper[:, :101], equal_nan=True)
    if method == "negbin":  # (Farrington looks a year back: week 100 enters the reference of weeks 149 to 155)
        assert not np.allclose(first.expected[:, 105:], second.expected[:, 105:], equal_nan=True)


def test_all_zero_series_gives_zero_expectation_and_no_alert() -> None:
    y = np.zeros((3, 80))
    base = baseline(y)
    assert np.all(base.expected[:, 56:] == 0) and np.all(base.upper[:, 56:] == 0)
    assert alerts(None, base).n_alerts == 0
    assert any("without a single event" in n for n in base.notes)


def test_a_single_week_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="1 week"):
        baseline(np.array([[3.0]]))
    with pytest.raises(InputError, match="min_history"):
        baseline(np.ones((2, 30)))


def test_an_area_with_too_little_history_gets_no_baseline() -> None:
    rng = np.random.default_rng(5)
    y, _ = seasonal_nb(rng, 3, 100)
    y[2, :70] = np.nan  # data for this area only from week 70
    base = baseline(pd.DataFrame(y, index=["A", "B", "late"], columns=WEEKS[:100]))
    assert np.isfinite(base.expected[:2, 56:]).all()
    assert not np.isfinite(base.expected[2]).any()
    assert any("late" in n for n in base.notes)


def test_alert_frame_and_summary() -> None:
    rng = np.random.default_rng(6)
    y, _ = seasonal_nb(rng, 20, 120)
    y[7, 110] += 40
    found = alerts(pd.DataFrame(y, columns=WEEKS[:120]), baseline(pd.DataFrame(y, columns=WEEKS[:120])))
    frame = found.to_frame()
    assert list(frame.columns) == ["area_id", "week", "observed", "expected", "upper", "p_value", "p_adjusted"]
    assert ((frame["area_id"] == "7") & (frame["week"] == WEEKS[110])).any()
    assert (frame["p_adjusted"] >= frame["p_value"]).all()
    assert "alerts" in found.summary()


@pytest.fixture(scope="module")
def outbreak_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    plan = OutbreakPlan(n=8, lift=5.0, weeks=4, offences=("street_robbery",), min_weekly_recorded=1.0)
    city = simulate(tmp_path_factory.mktemp("ew"), seed=3, years=3, n_communities=40, n_districts=4, outbreaks=plan)
    events = city.true_events()
    events = events[(events["recorded"] == 1) & events["area_id"].notna() & (events["offence"] == "401")]
    occurred = pd.to_datetime(events["occurred"])
    week = (occurred - pd.to_timedelta(occurred.dt.day_of_week, unit="D")).dt.normalize()
    start = pd.Timestamp(city.truth["parameters"]["start"])
    first = start + pd.Timedelta(days=(7 - start.day_of_week) % 7)
    weeks = pd.date_range(first, pd.Timestamp(city.truth["parameters"]["end"]) - pd.Timedelta(days=7), freq="7D")
    areas = sorted({c["area_id"] for c in city.truth["counts"]})
    counts = pd.crosstab(events["area_id"], week).reindex(index=areas, columns=weeks, fill_value=0)
    return counts, pd.DataFrame(city.truth["outbreaks"]["outbreaks"])


def test_backtest_on_the_synthetic_city_finds_most_outbreaks(outbreak_city: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    counts, outbreaks = outbreak_city
    result = backtest(counts, outbreaks, alpha=0.01, control="fdr_bh")
    frame = result.to_frame()
    assert frame["evaluable"].sum() >= 6  # an outbreak in an area's first year has no baseline and is not scored
    # seeded: 4 of 7 scored outbreaks (x5 for 4 weeks, 2-4 extra recorded robberies a week) are found at FDR 1%;
    # a x3 lift is found less often. The threshold is this seed's honest result, not a general claim.
    assert result.sensitivity >= 0.5, result.summary()
    assert result.false_alarm_rate <= 0.01, result.summary()
    assert result.median_days_to_detection <= 14
    assert "sensitivity" in result.summary()
    loose = backtest(counts, outbreaks, alpha=0.01, control="none")
    assert loose.false_alarm_rate <= 0.02 and loose.sensitivity >= result.sensitivity


def test_backtest_checks_its_outbreak_table(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="columns"):
        backtest(pd.DataFrame(np.ones((2, 60)), columns=WEEKS[:60]), pd.DataFrame({"area_id": ["0"]}))
