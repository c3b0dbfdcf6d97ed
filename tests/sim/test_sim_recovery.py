"""The synthetic city recovers its known truth: checked with peer libraries (statsmodels, scipy).

Each check states how rarely it fails by chance for a seed where the generator is right; the tests are
seeded (seed 0), so a failure is a change in the generator, not bad luck.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from safercities.sim import SimulatedCity


def _background(city: SimulatedCity, offence: str) -> pd.DataFrame:
    counts = city.counts()
    census = pd.read_csv(city.census, dtype={"area_id": str})
    return counts[counts["offence"] == offence].merge(census, on="area_id", validate="one_to_one")


@pytest.mark.parametrize("offence", ["street_robbery", "burglary", "family_violence", "homicide", "fraud"])
def test_poisson_glm_recovers_the_log_linear_coefficients(city: SimulatedCity, offence: str) -> None:
    """Poisson GLM (statsmodels) of true background counts on the census covariates, offset log(pop x years).

    The model is exactly the generating one, so each estimate is asymptotically normal around the truth:
    every coefficient must be within 4.5 standard errors (two-sided 7e-6 each, 3e-5 over the 6 of an
    offence) and the joint Wald statistic below the chi-square(6) 1e-4 quantile: a correct generator fails
    this test for fewer than 2 seeds in 10,000 per offence.
    """
    truth = city.truth["intensity"]
    names = city.truth["covariates"]["names"]
    frame = _background(city, offence)
    design = sm.add_constant(frame[names])
    offset = np.log(frame["population"] * truth["exposure_years"])
    fit = sm.GLM(frame["background"], design, family=sm.families.Poisson(), offset=offset).fit()
    expected = np.r_[truth["intercept"][offence], [truth["coefficients"][offence][k] for k in names]]
    error = fit.params.to_numpy() - expected
    assert np.all(np.abs(error / fit.bse.to_numpy()) < 4.5), dict(zip(design.columns, error / fit.bse, strict=True))
    wald = error @ np.linalg.solve(fit.cov_params().to_numpy(), error)
    assert wald < stats.chi2.ppf(1 - 1e-4, df=len(expected))


def test_recorded_share_is_the_reporting_probability(city: SimulatedCity) -> None:
    """Recorded ~ Binomial(true, p) per offence: within 4.5 binomial s.d. (7e-6 each, 1e-4 over 15 offences)."""
    true, recorded = city.truth["totals"]["true"], city.truth["totals"]["recorded"]
    for offence, p in city.truth["reporting"]["probability"].items():
        n = true[offence]
        assert abs(recorded[offence] / n - p) < 4.5 * np.sqrt(p * (1 - p) / n), offence
    dark = 1 - sum(recorded.values()) / sum(true.values())
    assert 0.5 < dark < 0.7  # most crime never reaches the police file


def test_burglary_cascade_has_the_branching_ratio(city: SimulatedCity) -> None:
    """Children drawn ~ Poisson(n x events branched): within 4.5 s.d. (fails 7e-6 of seeds).

    In the city and the period, the triggered share of burglaries is n in a long period, a little less here
    (the children of burglaries near the end fall after it, those near the edge outside the city): it must
    lie in [n - 0.04, n + 0.02]; its binomial s.d. is 0.005, so that fails by chance for far under 1e-6.
    """
    hawkes = city.truth["hawkes"]
    n, branched = hawkes["branching_ratio"], hawkes["events_branched"]
    assert abs(hawkes["children_drawn"] / branched - n) < 4.5 * np.sqrt(n / branched)
    counts = city.counts()
    burglary = counts[counts["offence"] == "burglary"]
    share = burglary["offspring"].sum() / burglary["true"].sum()
    assert n - 0.04 < share < n + 0.02
    assert counts.loc[counts["offence"] != "burglary", "offspring"].sum() == 0


def test_near_repeat_kernels_match_truth(city: SimulatedCity) -> None:
    """Parent -> child delays are Exponential(time_scale_days), displacements Normal(0, space_scale_m) per axis.

    Kolmogorov-Smirnov (scipy) on the children of parents more than 60 days before the end (so that no child
    is censored: P(delay > 60 d) = 2e-4), each at p > 1e-4: a correct generator fails 2 seeds in 10,000.
    """
    hawkes = city.truth["hawkes"]
    events = city.true_events()
    events["when"] = pd.to_datetime(events["occurred"])
    children = events[events["generation"] > 0]
    parents = events.set_index("event_id").loc[children["parent_id"]]
    end = pd.Timestamp(city.truth["parameters"]["end"])
    early = (parents["when"] < end - pd.Timedelta(days=60)).to_numpy()
    delay = (children["when"].to_numpy() - parents["when"].to_numpy())[early] / np.timedelta64(1, "D")
    assert stats.kstest(delay, "expon", args=(0, hawkes["time_scale_days"])).pvalue > 1e-4
    shift = np.r_[
        children["x"].to_numpy() - parents["x"].to_numpy(), children["y"].to_numpy() - parents["y"].to_numpy()
    ]
    assert stats.kstest(shift, "norm", args=(0, hawkes["space_scale_m"])).pvalue > 1e-4


def test_seasonality_amplitude_and_peak_are_recovered(city: SimulatedCity) -> None:
    """First annual Fourier coefficient of background crime: amplitude 2|S|/N and peak arg(S).

    Over whole years the estimate is unbiased with s.d. sqrt(2/N) for the amplitude (0.005 here) and
    sqrt(2/N)/A radians for the peak (about 2 days): tolerances of 4.5 s.d. fail under 1e-4 of seeds.
    """
    season = city.truth["seasonality"]
    events = city.true_events()
    when = pd.to_datetime(events.loc[events["generation"] == 0, "occurred"])
    angle = 2 * np.pi * when.dt.day_of_year.to_numpy() / 365.25  # the generating weight is constant within a day
    s = np.exp(1j * angle).sum()
    n = angle.size
    amplitude, peak = 2 * abs(s) / n, (np.angle(s) % (2 * np.pi)) * 365.25 / (2 * np.pi)
    sd = np.sqrt(2 / n)
    assert abs(amplitude - season["amplitude"]) < 4.5 * sd
    assert abs(peak - season["peak_day"]) < 4.5 * sd / season["amplitude"] * 365.25 / (2 * np.pi) + 1


def test_hours_and_weekdays_follow_the_profiles(city: SimulatedCity) -> None:
    """Chi-square goodness of fit (scipy) of the background robbery and burglary clocks, each at p > 1e-4.

    The weekday test divides the weekday profile by the number of each weekday in the period (equal to 1 in
    104/105); four tests fail 4 seeds in 10,000.
    """
    events = city.true_events()
    profiles = {o["local_code"]: o for o in city.truth["offences"]}
    for code in ("401", "501"):
        chosen = events[(events["offence"] == code) & (events["generation"] == 0)]
        when = pd.to_datetime(chosen["occurred"])
        hours = np.bincount(when.dt.hour, minlength=24)
        expected = np.asarray(profiles[code]["hour_profile"]) * hours.sum()
        assert stats.chisquare(hours, expected / expected.sum() * hours.sum()).pvalue > 1e-4
        days = pd.date_range(city.truth["parameters"]["start"], city.truth["parameters"]["end"], inclusive="left")
        per_weekday = np.bincount(days.day_of_week, minlength=7)
        weights = np.asarray(list(profiles[code]["weekday_profile"].values())) * per_weekday
        observed = np.bincount(when.dt.day_of_week, minlength=7)
        assert stats.chisquare(observed, weights / weights.sum() * observed.sum()).pvalue > 1e-4
    robbery_hours = pd.to_datetime(events.loc[events["offence"] == "401", "occurred"]).dt.hour
    assert robbery_hours.between(18, 23).mean() > 0.4  # street robbery is an evening crime


def test_crime_concentrates_at_micro_places(city: SimulatedCity) -> None:
    """Micro-place events lie within metres of their place, and a few places hold a large share of robbery."""
    places = pd.DataFrame(city.truth["micro_places"]["places"]).set_index("id")
    events = city.true_events()
    at = events[events["micro_place_id"].notna()]
    distance = np.hypot(at["x"].to_numpy() - places.loc[at["micro_place_id"], "x"].to_numpy(),
                        at["y"].to_numpy() - places.loc[at["micro_place_id"], "y"].to_numpy())  # fmt: skip
    assert np.median(distance) < 2 * city.truth["micro_places"]["jitter_m"]
    robbery = events[(events["offence"] == "401") & (events["generation"] == 0)]
    share = robbery["micro_place_id"].notna().mean()
    expected = city.truth["micro_places"]["share"]["street_robbery"]
    assert abs(share - expected) < 4.5 * np.sqrt(expected * (1 - expected) / len(robbery))
    assert len(places) / city.truth["parameters"]["n_communities"] < 3  # a handful of places per community
