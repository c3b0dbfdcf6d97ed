"""Synthetic control on constructed panels: the simplex solver against scipy's SLSQP, exact recovery of a treated
unit that is a convex combination of donors, a known effect, placebo inference (Proposition 99 is in
tests/reference/test_synth_prop99.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from safercities.errors import InputError
from safercities.stats.evaluation import synth
from safercities.stats.evaluation.synth import simplex_least_squares


@pytest.mark.parametrize("seed", range(5))
def test_simplex_least_squares_matches_slsqp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    A, b = rng.normal(size=(7, 20)), rng.normal(size=7)
    ours = simplex_least_squares(A, b)
    found = optimize.minimize(lambda w: np.sum((A @ w - b) ** 2), np.full(20, 1 / 20), method="SLSQP",
                              bounds=[(0, 1)] * 20, constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                              options={"ftol": 1e-14, "maxiter": 1000})  # fmt: skip
    assert ours.min() >= 0 and ours.sum() == pytest.approx(1.0)
    assert np.sum((A @ ours - b) ** 2) <= found.fun + 1e-9


def panel(effect: float = 0.0, seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(seed)
    periods = np.arange(2000, 2030)
    donors = {f"D{j}": 50 + rng.normal(0, 8) + np.cumsum(rng.normal(0, 1.5, periods.size)) for j in range(12)}
    weights = {"D1": 0.5, "D4": 0.3, "D7": 0.2}
    treated = sum(w * donors[d] for d, w in weights.items())
    treated = treated + np.where(periods >= 2020, effect, 0.0)
    return pd.DataFrame({"T": treated, **donors}, index=periods), weights


def test_recovers_exact_convex_combination_and_known_effect() -> None:
    outcome, truth = panel(effect=-6.0)
    result = synth(outcome, "T", 2020, placebo=True)
    for donor, weight in truth.items():
        assert result.weights[donor] == pytest.approx(weight, abs=0.02)
    assert result.pre_rmspe < 0.05
    assert result.gap == pytest.approx(-6.0, abs=0.3)
    assert result.gap_lower < -6.0 < result.gap_upper
    assert result.p_value == pytest.approx(1 / 13)  # the treated unit ranks first among 13
    assert result.weights.sum() == pytest.approx(1.0) and (result.weights >= 0).all()
    assert set(result.predictors.columns) == {"treated", "synthetic", "donor_mean"}


def test_no_effect_gives_no_significant_placebo_rank() -> None:
    outcome, _ = panel(effect=0.0, seed=3)
    result = synth(outcome, "T", 2020)
    assert result.gap_lower < 0 < result.gap_upper
    assert result.lower < 1 < result.upper
    assert len(result.assumption_texts("es")) == len(result.assumptions)


def test_bad_inputs_are_input_errors() -> None:
    outcome, _ = panel()
    with pytest.raises(InputError, match="treated unit"):
        synth(outcome, "Z", 2020)
    with pytest.raises(InputError, match="two donors"):
        synth(outcome[["T", "D1"]], "T", 2020)
    with pytest.raises(InputError, match="before it"):
        synth(outcome, "T", 2000)
    with pytest.raises(InputError, match="missing"):
        synth(outcome.assign(D2=np.nan), "T", 2020)
