"""Power: the vectorised estimator equals the Poisson fixed-effects GLM on pre/post totals, the test holds its
size, simulation agrees with the analytic approximation, and power grows with months and areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from safercities.errors import InputError
from safercities.stats.evaluation import did_power, its_power, needed
from safercities.stats.evaluation.power import did_estimate


def test_closed_form_estimator_equals_area_fixed_effects_poisson_glm() -> None:
    rng = np.random.default_rng(0)
    pre, post = rng.poisson(20, 12).astype(float), rng.poisson(17, 12).astype(float)
    treated = np.arange(12) < 5
    estimate, se = did_estimate(pre, post, treated, correction=False)
    data = pd.DataFrame({"y": np.concatenate([pre, post]), "area": np.tile(np.arange(12), 2),
                         "post": np.repeat([0, 1], 12), "treated": np.tile(treated, 2)})  # fmt: skip
    data["D"] = (data["post"] * data["treated"]).astype(float)
    fit = smf.glm("y ~ D + post + C(area)", data=data, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": data["area"].to_numpy(), "use_correction": False})  # fmt: skip
    assert float(estimate) == pytest.approx(fit.params["D"], abs=1e-9)
    assert float(se) == pytest.approx(fit.bse["D"], rel=1e-6)  # the plain cluster sandwich of the same GLM


def test_size_under_no_effect_is_the_level() -> None:
    result = did_power(n_treated=10, n_comparison=30, pre=24, post=12, mean=4, effect=1.0, dispersion=0.3,
                       n_sims=4000, seed=1)  # fmt: skip
    assert 0.035 <= result.estimate <= 0.065  # simulation SE 0.0035 at 0.05


def test_simulation_agrees_with_analytic_without_area_heterogeneity() -> None:
    for effect in (0.8, 0.9):
        result = did_power(n_treated=15, n_comparison=30, pre=24, post=12, mean=3, effect=effect, dispersion=0.2,
                           area_sd=0.0, n_sims=3000, seed=2)  # fmt: skip
        assert result.analytic is not None
        assert result.estimate == pytest.approx(result.analytic, abs=0.05)


def test_power_grows_with_months_and_areas_and_needed_finds_the_smallest() -> None:
    common = {"mean": 3.0, "effect": 0.8, "dispersion": 0.2, "pre": 24, "n_sims": 600, "seed": 3}
    short = did_power(n_treated=10, n_comparison=20, post=3, **common)
    long = did_power(n_treated=10, n_comparison=20, post=18, **common)
    assert long.estimate > short.estimate + 0.2
    requirement = needed("did", "months", n_treated=10, n_comparison=20, target=0.6, **common)
    assert requirement.needed is not None
    tried = requirement.tried.set_index("value")["power"]
    assert tried[requirement.needed] >= 0.6
    assert all(tried[v] < 0.6 for v in tried.index if v < requirement.needed)
    areas = needed("did", "areas", post=12, target=0.6, **common)
    assert areas.needed is not None and areas.needed > 1


def test_its_power_uses_the_its_estimator() -> None:
    strong = its_power(pre=24, post=12, mean=40, effect=0.7, n_sims=60, seed=4)
    null = its_power(pre=24, post=12, mean=40, effect=1.0, n_sims=60, seed=4)
    assert strong.estimate > 0.8 and null.estimate < 0.2 and strong.analytic is None


def test_bad_parameters_are_input_errors() -> None:
    with pytest.raises(InputError, match="integer >= 1"):
        did_power(n_treated=0, n_comparison=3, pre=2, post=2, mean=1, effect=0.5)
    with pytest.raises(InputError, match="positive"):
        its_power(pre=12, post=12, mean=-1, effect=0.5)
    with pytest.raises(InputError, match="one series"):
        needed("its", "areas", pre=12, mean=5, effect=0.8)
