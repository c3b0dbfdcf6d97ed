"""Interrupted time series: the same numbers as statsmodels fitted directly (formula, HAC errors) on the same
series, a known effect recovered, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from safercities.errors import InputError
from safercities.stats.evaluation import its

START = pd.Timestamp("2023-07-01")


def series(seed: int, effect: float = 0.8, months: int = 48, pre: int = 30, mean: float = 40.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2021-01-01", periods=months, freq="MS")
    t = np.arange(months)
    mu = mean * np.exp(0.004 * t + 0.2 * np.cos(2 * np.pi * (index.month - 7) / 12)) * np.where(t >= pre, effect, 1)
    return pd.Series(rng.poisson(mu), index=index)


def direct(y: pd.Series, slope: bool, maxlags: int, family: sm.families.Family) -> sm.GLM:
    months = np.arange(len(y)) - int((y.index < START).sum())
    data = pd.DataFrame({"y": y.to_numpy(), "time": months, "post": (months >= 0).astype(float),
                         "m": y.index.month.to_numpy() - 1})  # fmt: skip
    data["post_time"] = data["post"] * data["time"]
    for k in (1, 2):
        data[f"s{k}"] = np.sin(2 * np.pi * k * data["m"] / 12)
        data[f"c{k}"] = np.cos(2 * np.pi * k * data["m"] / 12)
    formula = "y ~ post + time + s1 + c1 + s2 + c2" + (" + post_time" if slope else "")
    return smf.glm(formula, data=data, family=family).fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})


@pytest.mark.parametrize("slope", [True, False])
def test_level_change_and_hac_errors_equal_statsmodels_formula_fit(slope: bool) -> None:
    y = series(1)
    ours = its(y, START, slope_change=slope, errors="hac")
    theirs = direct(y, slope, ours.maxlags or 0, sm.families.Poisson())
    level, low, high = ours.level_change
    assert np.log(level) == pytest.approx(theirs.params["post"], abs=1e-8)
    assert (low, high) == pytest.approx(tuple(np.exp(theirs.conf_int().loc["post"])), rel=1e-7)
    if slope:
        assert ours.slope_change is not None
        assert np.log(ours.slope_change[0]) == pytest.approx(theirs.params["post_time"], abs=1e-8)
        # the average post-period effect is the linear combination post + mean(t) post_time
        c = pd.Series(0.0, index=theirs.params.index)
        c["post"], c["post_time"] = 1.0, np.arange(18).mean()
        assert ours.log_rate_ratio == pytest.approx(float(c @ theirs.params), abs=1e-8)
        assert ours.se == pytest.approx(float(np.sqrt(c @ theirs.cov_params() @ c)), rel=1e-7)
    else:
        assert ours.estimate == pytest.approx(level)
        assert ours.se == pytest.approx(theirs.bse["post"], rel=1e-7)


def test_negative_binomial_equals_statsmodels_at_our_alpha() -> None:
    y = series(2)
    ours = its(y, START, family="negbin", slope_change=False, errors="hac")
    assert ours.alpha is not None
    theirs = direct(y, False, ours.maxlags or 0, sm.families.NegativeBinomial(alpha=ours.alpha))
    assert ours.log_rate_ratio == pytest.approx(theirs.params["post"], abs=1e-7)


def test_newey_west_lag_rule_and_month_dummies() -> None:
    y = series(3)
    assert its(y, START, errors="hac").maxlags == int(np.floor(4 * (48 / 100) ** (2 / 9)))
    by_month = its(y, START, seasonality="month", slope_change=False)
    assert by_month.seasonality == "month" and 0.6 < by_month.estimate < 1.05


def test_known_effect_recovered_within_interval_in_most_seeds() -> None:
    hits = sum(
        (r := its(series(200 + s, effect=0.8), START, slope_change=False)).lower <= 0.8 <= r.upper for s in range(20)
    )
    assert hits >= 16  # coverage 92% over 200 seeds (Ljung-Box picks HAC errors in a few); seeded, so stable


def test_errors_follow_the_residuals() -> None:
    independent = its(series(6), START)
    assert independent.errors == "model" and "its.independence" in independent.assumptions
    rng = np.random.default_rng(7)
    index = pd.date_range("2019-01-01", periods=72, freq="MS")
    shock = np.zeros(72)
    for k in range(1, 72):  # an AR(1) log-level: strongly autocorrelated residuals
        shock[k] = 0.85 * shock[k - 1] + rng.normal(0, 0.12)
    y = pd.Series(rng.poisson(60 * np.exp(shock)), index=index)
    correlated = its(y, pd.Timestamp("2023-01-01"))
    assert correlated.errors == "hac" and correlated.maxlags == 3 and "its.autocorrelation" in correlated.assumptions


def test_counterfactual_and_fitted_table() -> None:
    result = its(series(4), START)
    post = result.fitted[result.fitted["period"] >= START]
    assert result.observed_post == pytest.approx(post["observed"].sum())
    assert result.counterfactual_post == pytest.approx(post["counterfactual"].sum())
    pre = result.fitted[result.fitted["period"] < START]
    assert np.allclose(pre["fitted"], pre["counterfactual"])
    assert result.ljung_box[0] == 12 and 0 <= result.ljung_box[2] <= 1
    assert len(result.assumption_texts("fr")) == len(result.assumptions)


def test_bad_series_are_input_errors() -> None:
    y = series(5)
    with pytest.raises(InputError, match="Series"):
        its(y.to_numpy(), START)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="cannot support"):
        its(y, pd.Timestamp("2021-03-01"))
    with pytest.raises(InputError, match="seasonality"):
        its(y, START, seasonality="weekly")
    with pytest.raises(InputError, match="non-negative"):
        its(y - 1000, START)
