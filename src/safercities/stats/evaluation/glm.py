"""Fitting the count models of the evaluations: Poisson or NB2 GLMs through statsmodels, NB2's alpha by profile
likelihood, and the checks every evaluation makes of its arguments."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import optimize
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from safercities.errors import InputError, check_choice

FAMILIES = ("poisson", "negbin")


def check_confidence(confidence: float, where: str) -> None:
    if not (isinstance(confidence, float | int) and 0 < float(confidence) < 1):
        raise InputError(f"The 'confidence' parameter of {where} must be in (0, 1). Got {confidence!r} instead.")


def check_counts(y: NDArray[np.float64], where: str) -> None:
    if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise InputError(f"{where}: counts must be non-negative integers.")
    if y.sum() == 0:
        raise InputError(f"{where}: every count is zero; there is nothing to evaluate.")


def family_of(name: str, alpha: float | None = None) -> sm.families.Family:
    if name == "poisson":
        return sm.families.Poisson()
    return sm.families.NegativeBinomial(alpha=float(alpha if alpha is not None else 1.0))


def _fit(y: NDArray[np.float64], X: NDArray[np.float64], family: sm.families.Family, offset: NDArray[np.float64] | None,
         cov_type: str, cov_kwds: dict[str, Any] | None, scale: float | None = None) -> Any:  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", HessianInversionWarning)
        warnings.filterwarnings("ignore", message=".*covariance of constraints does not have full rank.*")
        model = sm.GLM(y, X, family=family, offset=offset)
        return model.fit(cov_type=cov_type, cov_kwds=cov_kwds or {}, scale=scale)


def profile_alpha(y: NDArray[np.float64], X: NDArray[np.float64], offset: NDArray[np.float64] | None) -> float:
    """NB2 dispersion alpha maximising the GLM log-likelihood (a one-dimensional search on log alpha)."""

    def negative_loglike(log_alpha: float) -> float:
        result = _fit(y, X, family_of("negbin", float(np.exp(log_alpha))), offset, "nonrobust", None)
        return -float(result.llf)

    found = optimize.minimize_scalar(negative_loglike, bounds=(np.log(1e-6), np.log(50.0)), method="bounded",
                                     options={"xatol": 1e-6})  # fmt: skip
    return float(np.exp(found.x))


def fit_counts(
    y: NDArray[np.float64],
    X: NDArray[np.float64],
    family: str,
    *,
    offset: NDArray[np.float64] | None = None,
    cov_type: str = "nonrobust",
    cov_kwds: dict[str, Any] | None = None,
    alpha: float | None = None,
    scale: float | None = None,
    where: str = "fit_counts",
) -> tuple[Any, float | None]:
    """A Poisson or NB2 GLM (statsmodels) with the covariance asked for; NB2's alpha by profile likelihood unless
    given. Returns the statsmodels results and alpha (None for Poisson)."""
    check_choice("family", family, FAMILIES, where)
    if family == "negbin" and alpha is None:
        alpha = profile_alpha(y, X, offset)
    result = _fit(y, X, family_of(family, alpha), offset, cov_type, cov_kwds, scale)
    return result, (alpha if family == "negbin" else None)
