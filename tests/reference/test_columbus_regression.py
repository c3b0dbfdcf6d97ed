"""Columbus CRIME ~ INC + HOVAL (Anselin 1988): OLS, spatial diagnostics, ML lag and ML error.

Two kinds of reference, each value with its source and tolerance:

- **Published** (``../shared/data/reference_values.json``, key ``columbus``; details in ``columbus/SOURCE.md``):
  R spdep ``lm.morantest``/``lm.RStests`` docs and spatialreg ``ML_models`` docs (COL.nb weights, style "W"), and
  the spreg ``diagnostics.py`` docstrings for OLS. Tolerance: half a unit in the last printed digit plus 5e-8
  relative: R's ``optimize()`` stops at tol = sqrt(machine eps) = 1.5e-8 in rho/lambda, which moves the 8-digit
  ML coefficients in their last digit (ours solve the score to machine precision).
- **Peer library, same weights**: spreg 1.9 (``OLS(spat_diag=True, moran=True)``, ``ML_Lag``, ``ML_Error``,
  method "full" with ``epsilon=1e-12`` so that its optimiser is not the limit) on each of the three shipped GAL
  files, to a relative 1e-6.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from safercities.stats.neighbours import read_gal
from safercities.stats.regression import SpatialMLResult, ml_error, ml_lag, ols_spatial
from safercities.stats.weights import SpatialWeights

libpysal = pytest.importorskip("libpysal")
spreg = pytest.importorskip("spreg")

COVARIATES = ["INC", "HOVAL"]
GALS = {
    # file: the dbf column holding the GAL's ids
    "columbus_COL.nb_anselin1988.gal": "NEIG",
    "columbus.gal": "POLYID",
    "columbus_spData_col.gal": "POLYID",
}
RESIDUAL_MORAN_COLNB = {"I": 0.235638354, "expected": -0.033302866, "variance": 0.008289408, "z": 2.9539}
"""R spdep docs lm.morantest.md (COL.nb, style W), as quoted in columbus/SOURCE.md section A."""
PEER_RTOL = 1e-6


def _published_tolerance(value: float) -> float:
    """Half a unit in the last printed digit of a published value (as stored in the JSON), plus 5e-8 relative."""
    text = repr(float(value))
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return 0.5 * 10.0**-decimals + 5e-8 * abs(value) + 1e-12


def _check_published(ours: float, published: float, label: str) -> None:
    tol = _published_tolerance(published)
    assert abs(ours - published) <= tol, f"{label}: ours {ours!r}, published {published!r}, tolerance {tol:g}"


@pytest.fixture(scope="module")
def columbus(shared_data: Path) -> pd.DataFrame:
    table = libpysal.io.open(str(shared_data / "columbus" / "columbus.dbf"))
    try:
        return pd.DataFrame({c: table.by_col(c) for c in ["POLYID", "NEIG", "CRIME", *COVARIATES]})
    finally:
        table.close()


@pytest.fixture(scope="module")
def published(shared_data: Path) -> dict[str, Any]:
    return dict(json.loads((shared_data / "reference_values.json").read_text(encoding="utf-8"))["columbus"])


def _aligned(shared_data: Path, columbus: pd.DataFrame, gal: str) -> tuple[SpatialWeights, pd.DataFrame]:
    weights = read_gal(shared_data / "columbus" / gal)
    data = columbus.set_index(GALS[gal]).loc[weights.ids]
    return weights, data


def _libpysal_w(weights: SpatialWeights) -> Any:
    row = weights.transformed("R")
    neighbours: dict[int, list[int]] = {i: [] for i in range(weights.n)}
    values: dict[int, list[float]] = {i: [] for i in range(weights.n)}
    for f, j, v in zip(row.focal.tolist(), row.neighbor.tolist(), row.weight.tolist(), strict=True):
        neighbours[f].append(j)
        values[f].append(v)
    return libpysal.weights.W(neighbours, values, silence_warnings=True)


# -- published values (COL.nb) ----------------------------------------------------------------------------------
def test_ols_and_lm_tests_match_the_published_values(shared_data: Path, columbus: pd.DataFrame, published) -> None:
    weights, data = _aligned(shared_data, columbus, "columbus_COL.nb_anselin1988.gal")
    fit = ols_spatial(data["CRIME"], data[COVARIATES], weights)
    ols = published["ols_CRIME_on_INC_HOVAL"]  # spreg diagnostics.py docstrings
    for name, value in zip(fit.names, fit.params, strict=True):
        _check_published(value, ols[name], f"OLS {name}")
    for value, ref in zip(fit.bse, ols["se"], strict=True):
        _check_published(value, ref, "OLS SE")
    _check_published(fit.r2, ols["r2"], "R2")
    _check_published(fit.adj_r2, ols["adj_r2"], "adjusted R2")
    _check_published(fit.f_statistic, ols["F"], "F")
    _check_published(fit.loglike, ols["logL"], "log-likelihood")
    _check_published(fit.aic - 2, ols["aic_k3"], "AIC (spreg counts 3 parameters, we count sigma2 too)")
    lm = published["lm_tests_COLnb"]  # spdep lm.RStests docs
    _check_published(fit.moran.I, lm["moran_resid_I"], "residual Moran's I")
    _check_published(fit.lm_error.statistic, lm["RSerr"], "LM-error")
    _check_published(fit.lm_lag.statistic, lm["RSlag"], "LM-lag")
    _check_published(fit.robust_lm_error.statistic, lm["adjRSerr"], "robust LM-error")
    _check_published(fit.robust_lm_lag.statistic, lm["adjRSlag"], "robust LM-lag")
    _check_published(fit.lm_sarma.statistic, lm["SARMA"], "LM-SARMA")
    for key, ours in [("expected", fit.moran.expected), ("variance", fit.moran.variance), ("z", fit.moran.z)]:
        _check_published(ours, RESIDUAL_MORAN_COLNB[key], f"residual Moran {key} (spdep lm.morantest)")
    assert "lag" in fit.recommendation()


def _check_ml(fit: SpatialMLResult, ref: dict[str, Any], spatial_key: str) -> None:
    _check_published(fit.spatial, ref[spatial_key], spatial_key)
    _check_published(fit.spatial_se, ref[f"{spatial_key}_se"], f"{spatial_key} SE")
    for name, value in zip(fit.names, fit.params, strict=True):
        _check_published(value, ref[name], name)
    for name, value, published in zip(fit.names, fit.bse, ref["se"], strict=True):
        _check_published(value, published, f"SE {name}")
    _check_published(fit.loglike, ref["logL"], "log-likelihood")
    _check_published(fit.sigma2, ref["sigma2"], "sigma2")
    _check_published(fit.lr_test.statistic, ref["LR"], "LR against OLS")


@pytest.mark.parametrize("method", ["eigen", "lu"])
def test_ml_lag_matches_spatialreg(shared_data: Path, columbus: pd.DataFrame, published, method: str) -> None:
    """spatialreg lagsarlm docs: rho 0.4310232 (Anselin 1988 prints 0.431), logL -182.3904, AIC 374.78."""
    weights, data = _aligned(shared_data, columbus, "columbus_COL.nb_anselin1988.gal")
    fit = ml_lag(data["CRIME"], data[COVARIATES], weights, method=method)
    _check_ml(fit, published["ml_lag_COLnb"], "rho")
    _check_published(fit.aic, 374.78, "AIC (R counts sigma2)")
    assert fit.impacts is not None
    rho = fit.spatial
    # row-standardised W: total impact = beta / (1 - rho)
    np.testing.assert_allclose(fit.impacts["total"], fit.params[1:] / (1 - rho), rtol=1e-10)
    assert np.all(np.abs(fit.impacts["direct"]) > np.abs(fit.params[1:]))  # feedback through neighbours


@pytest.mark.parametrize("method", ["eigen", "lu"])
def test_ml_error_matches_spatialreg(shared_data: Path, columbus: pd.DataFrame, published, method: str) -> None:
    """spatialreg errorsarlm docs: lambda 0.56179, logL -183.3805, AIC 376.76."""
    weights, data = _aligned(shared_data, columbus, "columbus_COL.nb_anselin1988.gal")
    fit = ml_error(data["CRIME"], data[COVARIATES], weights, method=method)
    _check_ml(fit, published["ml_error_COLnb"], "lambda")
    _check_published(fit.aic, 376.76, "AIC (R counts sigma2)")


# -- spreg on the same weights -----------------------------------------------------------------------------------
@pytest.mark.parametrize("gal", sorted(GALS))
def test_side_by_side_with_spreg(shared_data: Path, columbus: pd.DataFrame, gal: str) -> None:
    weights, data = _aligned(shared_data, columbus, gal)
    y = data["CRIME"].to_numpy(dtype=float)
    x = data[COVARIATES].to_numpy(dtype=float)
    w = _libpysal_w(weights)
    with warnings.catch_warnings():
        # spreg 1.9 on numpy 2 / pandas 3: deprecations inside spreg itself, not in what we compare
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        # spreg's ML_Error passes epsilon as scipy's 'tol', which scipy reads as xatol and says so
        warnings.filterwarnings("ignore", "Method 'bounded' does not support relative tolerance", RuntimeWarning)
        peer_ols = spreg.OLS(y[:, None], x, w=w, spat_diag=True, moran=True)
        peer_lag = spreg.ML_Lag(y[:, None], x, w, method="full", epsilon=1e-12)
        peer_err = spreg.ML_Error(y[:, None], x, w, method="full", epsilon=1e-12)

    ols = ols_spatial(y, data[COVARIATES], weights)
    np.testing.assert_allclose(ols.params, peer_ols.betas.ravel(), rtol=PEER_RTOL)
    np.testing.assert_allclose(ols.bse, peer_ols.std_err, rtol=PEER_RTOL)
    np.testing.assert_allclose(ols.loglike, peer_ols.logll, rtol=PEER_RTOL)
    np.testing.assert_allclose([ols.moran.I, ols.moran.z, ols.moran.p_value], peer_ols.moran_res, rtol=PEER_RTOL)
    pairs = [
        (ols.lm_lag, peer_ols.lm_lag),
        (ols.lm_error, peer_ols.lm_error),
        (ols.robust_lm_lag, peer_ols.rlm_lag),
        (ols.robust_lm_error, peer_ols.rlm_error),
        (ols.lm_sarma, peer_ols.lm_sarma),
    ]
    for ours, peer in pairs:
        np.testing.assert_allclose([ours.statistic, ours.p_value], peer, rtol=PEER_RTOL, err_msg=ours.name)

    lag = ml_lag(y, data[COVARIATES], weights)
    np.testing.assert_allclose(np.r_[lag.params, lag.spatial], peer_lag.betas.ravel(), rtol=PEER_RTOL)
    np.testing.assert_allclose(np.r_[lag.bse, lag.spatial_se], peer_lag.std_err, rtol=PEER_RTOL)
    np.testing.assert_allclose([lag.loglike, lag.sigma2], [peer_lag.logll, peer_lag.sig2], rtol=PEER_RTOL)
    np.testing.assert_allclose(lag.aic - 2, peer_lag.aic, rtol=PEER_RTOL)  # spreg leaves sigma2 out of k

    err = ml_error(y, data[COVARIATES], weights)
    np.testing.assert_allclose(np.r_[err.params, err.spatial], peer_err.betas.ravel(), rtol=PEER_RTOL)
    np.testing.assert_allclose(np.r_[err.bse, err.spatial_se], peer_err.std_err, rtol=PEER_RTOL)
    np.testing.assert_allclose(
        [err.loglike, err.sigma2], [float(np.squeeze(peer_err.logll)), float(np.squeeze(peer_err.sig2))], rtol=PEER_RTOL
    )


def test_queen_weights_match_the_crosscheck_file(shared_data: Path, columbus: pd.DataFrame) -> None:
    """computed_crosscheck_esda2.9_spreg1.9.json (spreg 1.9 default epsilon 1e-7, so 1e-5 relative)."""
    check = json.loads((shared_data / "columbus" / "computed_crosscheck_esda2.9_spreg1.9.json").read_text())
    ref = check["queen_from_polygons (libpysal Queen.from_dataframe)"]
    weights, data = _aligned(shared_data, columbus, "columbus.gal")
    ols = ols_spatial(data["CRIME"], data[COVARIATES], weights)
    np.testing.assert_allclose(ols.moran.I, ref["ols_moran_resid_I"], rtol=1e-9)
    np.testing.assert_allclose([ols.lm_error.statistic, ols.lm_error.p_value], ref["LM_err"], rtol=1e-9)
    np.testing.assert_allclose([ols.lm_sarma.statistic, ols.lm_sarma.p_value], ref["SARMA"], rtol=1e-9)
    lag = ml_lag(data["CRIME"], data[COVARIATES], weights)
    np.testing.assert_allclose(np.r_[lag.params, lag.spatial], ref["ml_lag_betas_const_INC_HOVAL_rho"], rtol=1e-5)
    np.testing.assert_allclose(lag.loglike, ref["ml_lag_logL"], rtol=1e-9)
    err = ml_error(data["CRIME"], data[COVARIATES], weights)
    np.testing.assert_allclose(np.r_[err.params, err.spatial], ref["ml_err_betas_const_INC_HOVAL_lambda"], rtol=1e-5)
    np.testing.assert_allclose(err.loglike, ref["ml_err_logL"], rtol=1e-9)
