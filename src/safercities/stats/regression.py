"""Correlates of crime: area counts and rates regressed on socio-economic covariates.

Three families, each returning a frozen result with ``to_frame()``, ``summary()`` and a provenance stamp:

- :func:`poisson_glm` and :func:`negative_binomial_glm`: counts with a log(population x exposure) offset, fitted
  by statsmodels. Coefficients are read as **rate ratios** exp(beta) with 95% intervals, so that a policy reader
  sees "each +1 point of poverty goes with 4.1% more robberies (95% CI 2.0-6.3%)".
- :func:`ols_spatial`: ordinary least squares with the spatial diagnostics of Anselin (1988) and Anselin et al.
  (1996): Moran's I of the residuals (Cliff-Ord normal moments for regression residuals), LM-lag, LM-error,
  their robust forms and LM-SARMA. They say whether a spatial model is needed and which.
- :func:`ml_lag` and :func:`ml_error`: the spatial lag and spatial error models by maximum likelihood, with
  asymptotic standard errors from the information matrix (as spreg computes them) and, for the lag model, the
  direct, indirect (spillover) and total impacts of LeSage & Pace (2009).

Conventions. AIC and Schwarz count every estimated parameter, sigma^2 and the NB dispersion included, as R
does (spreg counts only the coefficients, so its AIC is 2 less). Areas with zero or missing population are
dropped from the count models with a note. Islands (areas without neighbours) stop the spatial functions with an
error unless ``islands="keep"``, which keeps them with a zero row in W (their lag is zero) and says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg as la
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import statsmodels.api as sm
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.optimize import brentq, minimize_scalar
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationWarning,
)

from safercities.errors import InputError, check_choice
from safercities.stats.provenance import stamp
from safercities.stats.weights import SpatialWeights

__all__ = [
    "CountModelResult",
    "OLSSpatialResult",
    "ResidualMoran",
    "SpatialMLResult",
    "SpatialTest",
    "ml_error",
    "ml_lag",
    "negative_binomial_glm",
    "ols_spatial",
    "poisson_glm",
]

DENSE_LIMIT = 4000
"""Up to this many areas, log|I - rho W| uses the eigenvalues of W and the information-matrix traces a dense
inverse; beyond it a sparse LU of I - rho W and seeded Hutchinson trace estimates (noted in the result)."""
HUTCHINSON_PROBES = 200
_SURFACED = (ConvergenceWarning, HessianInversionWarning, PerfectSeparationWarning)


# -- small shared pieces ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpatialTest:
    """A test statistic with its degrees of freedom and p-value (chi-square unless stated)."""

    name: str
    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class ResidualMoran:
    """Moran's I of OLS residuals with its Cliff-Ord normal moments; p-value two-sided (as spreg reports it)."""

    I: float  # noqa: E741 - the statistic's own name
    expected: float
    variance: float
    z: float
    p_value: float


@contextmanager
def _surfacing(notes: list[str]) -> Iterator[None]:
    """Turn statsmodels' convergence/separation warnings into notes on the result; re-emit any other warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if issubclass(w.category, _SURFACED):
            text = f"statsmodels {w.category.__name__}: {w.message}"
            if text not in notes:
                notes.append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _design(covariates: pd.DataFrame | ArrayLike, n: int, where: str, constant: bool = True) -> pd.DataFrame:
    """Covariates as a float frame with a leading 'const' column; non-numeric or non-finite columns refused."""
    frame = covariates.copy() if isinstance(covariates, pd.DataFrame) else pd.DataFrame(np.asarray(covariates))
    if frame.ndim != 2 or len(frame) != n:
        raise InputError(f"{where}: covariates must have one row per area ({n}). Got {len(frame)} rows instead.")
    frame.columns = [str(c) if isinstance(covariates, pd.DataFrame) else f"x{i + 1}" for i, c in enumerate(frame)]
    if frame.columns.has_duplicates:
        raise InputError(f"{where}: covariate names must be unique. Got {list(frame.columns)}.")
    if "const" in frame.columns:
        raise InputError(f"{where}: 'const' is reserved for the intercept; rename that covariate.")
    bad = [
        c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if bad:
        raise InputError(f"{where}: covariates must be numeric. Not numeric: {bad}.")
    frame = frame.astype(np.float64)
    missing = [c for c in frame.columns if not np.all(np.isfinite(frame[c].to_numpy()))]
    if missing:
        raise InputError(f"{where}: covariates hold missing or infinite values in {missing}.")
    if constant:
        frame.insert(0, "const", 1.0)
    return frame


def _check_collinear(design: pd.DataFrame, where: str) -> None:
    """Raise naming the covariates that are exact (to rounding) linear combinations of others."""
    x = design.to_numpy(dtype=np.float64)
    norms = np.linalg.norm(x, axis=0)
    names = list(design.columns)
    zero = [names[i] for i in np.flatnonzero(norms == 0)]
    if zero:
        raise InputError(f"{where}: covariates {zero} are zero in every area; drop them.")
    z = x / norms
    if np.linalg.matrix_rank(z, tol=1e-9 * np.sqrt(z.shape[0])) == z.shape[1]:
        return
    kept: list[int] = []
    for j in range(z.shape[1]):
        if kept:
            coef, *_ = np.linalg.lstsq(z[:, kept], z[:, j], rcond=None)
            if np.linalg.norm(z[:, j] - z[:, kept] @ coef) < 1e-8:
                involved = [names[kept[i]] for i in np.flatnonzero(np.abs(coef) > 1e-8)]
                raise InputError(
                    f"{where}: collinear covariates: '{names[j]}' is a linear combination of {involved}. "
                    "Drop one of them (a constant covariate duplicates the intercept 'const')."
                )
        kept.append(j)
    raise InputError(f"{where}: the covariates {names} are collinear; drop one of them.")  # pragma: no cover


def _percent(x: float) -> str:
    return f"{abs(x - 1) * 100:.1f}%"


def _plural(unit: str, step: float) -> str:
    return f"{unit}s" if unit and abs(step) > 1 and not unit.endswith("s") else unit


# -- count models ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CountModelResult:
    """A Poisson or NB2 regression of area counts with a log(population x exposure) offset.

    ``params`` are log rate ratios; ``bse_model`` the model-based and ``bse_robust`` the sandwich (HC0) standard
    errors; ``robust`` says which of the two gives ``bse``, the intervals and p-values. ``dispersion`` is the
    Pearson chi-square over its residual df; ``overdispersion`` the test of extra-Poisson variation.
    """

    family: str
    outcome: str
    names: tuple[str, ...]
    params: NDArray[np.float64]
    bse_model: NDArray[np.float64]
    bse_robust: NDArray[np.float64]
    robust: bool
    confidence: float
    n: int
    deviance: float
    pearson_chi2: float
    df_resid: int
    dispersion: float
    loglike: float
    aic: float
    alpha: float | None
    alpha_se: float | None
    overdispersion: SpatialTest
    converged: bool
    fitted: NDArray[np.float64]
    area_ids: NDArray[Any]
    dropped: tuple[Any, ...]
    notes: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def bse(self) -> NDArray[np.float64]:
        """The standard errors behind the intervals: sandwich when ``robust`` else model-based."""
        return self.bse_robust if self.robust else self.bse_model

    @property
    def covariates(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n != "const")

    def to_frame(self, per: Mapping[str, float] | None = None, *, include_intercept: bool = False) -> pd.DataFrame:
        """One row per covariate: rate ratio per ``per[name]`` units (default 1) with interval and p-value, then
        the raw coefficient and its standard errors (per one unit)."""
        per = dict(per or {})
        unknown = sorted(set(per) - set(self.covariates))
        if unknown:
            raise InputError(f"per names covariates that are not in the model: {unknown}.")
        z = stats.norm.ppf(0.5 + self.confidence / 2)
        step = np.array([1.0 if n == "const" else float(per.get(n, 1.0)) for n in self.names])
        se = self.bse
        frame = pd.DataFrame(
            {
                "rate_ratio": np.exp(step * self.params),
                "lower": np.exp(step * (self.params - z * se)),
                "upper": np.exp(step * (self.params + z * se)),
                "p_value": 2 * stats.norm.sf(np.abs(self.params / se)),
                "per": step,
                "coef": self.params,
                "se": se,
                "se_model": self.bse_model,
                "se_robust": self.bse_robust,
                "z": self.params / se,
            },
            index=pd.Index(self.names, name="covariate"),
        )
        return frame if include_intercept else frame.drop(index="const", errors="ignore")

    def sentence(self, name: str, per: float = 1.0, unit: str = "") -> str:
        """One covariate in plain words, e.g. 'each +1 point of poverty goes with 4.1% more robberies (95% CI ...)'."""
        row = self.to_frame({name: per}).loc[name, ["rate_ratio", "lower", "upper", "p_value"]].to_numpy(float)
        rr, lo, hi, p_value = (float(v) for v in row)
        label = f"{per:g} {_plural(unit, per)}".strip()
        level = f"{self.confidence * 100:g}% CI"
        head = f"each +{label} of {name} goes with"
        if lo < 1 < hi:
            direction = "more" if rr >= 1 else "fewer"
            return (
                f"{head} {_percent(rr)} {direction} {self.outcome}, but the {level} ({_percent(lo)} fewer to "
                f"{_percent(hi)} more) includes no change (p = {p_value:.2g})"
            )
        if rr >= 2:
            return f"{head} {rr:.2f} times as many {self.outcome} ({level} {lo:.2f} to {hi:.2f} times)"
        if rr >= 1:
            return f"{head} {_percent(rr)} more {self.outcome} ({level} {_percent(lo)} to {_percent(hi)})"
        return f"{head} {_percent(rr)} fewer {self.outcome} ({level} {_percent(hi)} to {_percent(lo)} fewer)"

    def summary(self, per: Mapping[str, float] | None = None, units: Mapping[str, str] | None = None) -> str:
        """The model in plain words: one sentence per covariate, then fit, overdispersion and notes."""
        per, units = dict(per or {}), dict(units or {})
        se_kind = "sandwich (robust)" if self.robust else "model-based"
        lines = [
            f"{self.family} regression of {self.outcome} in {self.n} areas on {len(self.covariates)} covariates, "
            f"with population as the exposure (log offset).",
            f"Rate ratios with {self.confidence * 100:g}% intervals from {se_kind} standard errors:",
        ]
        lines += [f"  - {self.sentence(c, per.get(c, 1.0), units.get(c, ''))}" for c in self.covariates]
        od = self.overdispersion
        verdict = (
            "counts vary more than a Poisson model allows"
            if od.p_value < 0.05
            else "no evidence of extra-Poisson variation"
        )
        lines.append(
            f"Deviance {self.deviance:.2f} on {self.df_resid} df; Pearson chi2/df {self.dispersion:.2f}; "
            f"AIC {self.aic:.2f}."
        )
        lines.append(f"{od.name}: {od.statistic:.3g}, p = {od.p_value:.3g} ({verdict}).")
        if self.alpha is not None:
            lines.append(f"NB2 dispersion alpha = {self.alpha:.4g} (SE {self.alpha_se:.2g}): Var = mu + alpha mu^2.")
        elif od.p_value < 0.05 and not self.robust:
            lines.append("Prefer negative_binomial_glm or robust=True: model-based intervals are too narrow here.")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def _prepare_counts(
    counts: ArrayLike,
    covariates: pd.DataFrame,
    population: ArrayLike,
    exposure: float | ArrayLike,
    where: str,
) -> tuple[NDArray[np.float64], pd.DataFrame, NDArray[np.float64], NDArray[Any], tuple[Any, ...], list[str]]:
    if not isinstance(covariates, pd.DataFrame):
        raise InputError(f"{where}: covariates must be a pandas DataFrame with one named column per covariate.")
    n = len(covariates)
    y = np.asarray(counts, dtype=np.float64).ravel()
    pop = np.asarray(population, dtype=np.float64).ravel()
    expo = (
        np.broadcast_to(np.asarray(exposure, dtype=np.float64), (n,))
        if np.ndim(exposure) == 0
        else (np.asarray(exposure, dtype=np.float64).ravel())
    )
    if not (len(y) == len(pop) == len(expo) == n):
        raise InputError(
            f"{where}: counts, population, exposure and covariates must have one entry per area. "
            f"Got {len(y)}, {len(pop)}, {len(expo)} and {n}."
        )
    if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise InputError(f"{where}: counts must be non-negative integers.")
    if np.any(~(expo > 0)):
        raise InputError(f"{where}: exposure must be positive.")
    if np.any(pop < 0):
        raise InputError(f"{where}: population must be non-negative.")
    ids = covariates.index.to_numpy()
    keep = np.isfinite(pop) & (pop > 0)
    notes: list[str] = []
    dropped = tuple(ids[~keep].tolist())
    if dropped:
        shown = ", ".join(map(str, dropped[:10])) + (" ..." if len(dropped) > 10 else "")
        notes.append(f"{len(dropped)} area(s) with zero or missing population dropped (no one at risk): {shown}.")
    design = _design(covariates.loc[keep], int(keep.sum()), where)
    y, offset = y[keep], np.log(pop[keep] * expo[keep])
    if len(y) <= design.shape[1]:
        raise InputError(f"{where}: {len(y)} areas cannot support {design.shape[1]} coefficients.")
    if y.sum() == 0:
        raise InputError(f"{where}: every count is zero; there is no rate to model.")
    _check_collinear(design, where)
    return y, design.reset_index(drop=True), offset, ids[keep], dropped, notes


def _separation_notes(design: pd.DataFrame, params: NDArray[np.float64], mu: NDArray[np.float64]) -> list[str]:
    """Quasi-separation (e.g. a dummy marking only areas with no crime) sends a coefficient to +/- infinity without
    a statsmodels warning; name the covariates whose effect over their observed range exceeds e^20."""
    if not np.any(mu < 1e-10 * np.median(mu)):
        return []
    spread = (design.max(axis=0) - design.min(axis=0)).to_numpy()
    names = [n for n, b, s in zip(design.columns, params, spread, strict=True) if n != "const" and abs(b) * s > 20]
    return [
        f"quasi-separation: some areas have fitted rates of about 0; the coefficients of {names or 'some covariates'} "
        "run off to infinity and their rate ratios are not estimable (drop or merge those covariates)."
    ]


def _cameron_trivedi(y: NDArray[np.float64], mu: NDArray[np.float64]) -> SpatialTest:
    """Cameron & Trivedi (1990) test of Var = mu + alpha mu^2 (NB2) against alpha = 0: t of the auxiliary OLS
    of ((y - mu)^2 - y) / mu on mu without intercept, one-sided (R's AER::dispersiontest(trafo = 2))."""
    aux = ((y - mu) ** 2 - y) / mu
    alpha = float(mu @ aux / (mu @ mu))
    resid = aux - alpha * mu
    se = float(np.sqrt(resid @ resid / (len(y) - 1) / (mu @ mu)))
    t = alpha / se
    return SpatialTest("Cameron-Trivedi overdispersion test (z)", t, 1, float(stats.norm.sf(t)))


def poisson_glm(
    counts: ArrayLike,
    covariates: pd.DataFrame,
    population: ArrayLike,
    *,
    exposure: float | ArrayLike = 1.0,
    robust: bool = True,
    confidence: float = 0.95,
    outcome: str = "crimes",
) -> CountModelResult:
    """Poisson GLM of area counts on covariates with offset log(population x exposure) (statsmodels IRLS).

    ``robust`` (default) bases intervals on sandwich HC0 errors, valid when counts are overdispersed, as crime
    counts nearly always are; the model-based errors are kept alongside. The overdispersion test is
    Cameron-Trivedi's (NB2 alternative).
    """
    where = "poisson_glm"
    _check_confidence(confidence, where)
    y, design, offset, ids, dropped, notes = _prepare_counts(counts, covariates, population, exposure, where)
    model = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset)
    with _surfacing(notes):
        fit = model.fit()
        robust_fit = model.fit(start_params=fit.params, cov_type="HC0")
    mu = np.asarray(fit.fittedvalues, dtype=np.float64)
    notes += _separation_notes(design, np.asarray(fit.params, dtype=np.float64), mu)
    k = design.shape[1]
    return CountModelResult(
        family="Poisson",
        outcome=outcome,
        names=tuple(design.columns),
        params=np.asarray(fit.params, dtype=np.float64),
        bse_model=np.asarray(fit.bse, dtype=np.float64),
        bse_robust=np.asarray(robust_fit.bse, dtype=np.float64),
        robust=robust,
        confidence=confidence,
        n=len(y),
        deviance=float(fit.deviance),
        pearson_chi2=float(fit.pearson_chi2),
        df_resid=len(y) - k,
        dispersion=float(fit.pearson_chi2) / (len(y) - k),
        loglike=float(fit.llf),
        aic=float(2 * k - 2 * fit.llf),
        alpha=None,
        alpha_se=None,
        overdispersion=_cameron_trivedi(y, mu),
        converged=bool(fit.converged),
        fitted=mu,
        area_ids=ids,
        dropped=dropped,
        notes=tuple(notes),
        provenance=stamp(
            "safercities.stats.regression.poisson_glm",
            {"robust": robust, "confidence": confidence, "cov_robust": "HC0", "engine": "statsmodels GLM (IRLS)"},
            y,
            design.to_numpy(),
            offset,
        ),
    )


def negative_binomial_glm(
    counts: ArrayLike,
    covariates: pd.DataFrame,
    population: ArrayLike,
    *,
    exposure: float | ArrayLike = 1.0,
    robust: bool = True,
    confidence: float = 0.95,
    outcome: str = "crimes",
) -> CountModelResult:
    """NB2 regression (Var = mu + alpha mu^2) with offset log(population x exposure), alpha estimated by ML.

    Engine: statsmodels' discrete ``NegativeBinomial(loglike_method='nb2')``, which maximises the likelihood in
    (beta, alpha) jointly (BFGS on log alpha from the Poisson fit and the moment estimate of alpha, polished by
    Newton's method). Model-based errors invert its observed information; sandwich (HC0) errors use its score and
    Hessian. Deviance and Pearson chi-square are those of statsmodels' GLM NB family at the ML alpha (what R's
    MASS::glm.nb reports). The overdispersion test is the likelihood ratio of alpha = 0 (Poisson) on the
    boundary: p = P(chi2_1 > LR) / 2. When the alpha score at 0 is not positive (counts no more variable than
    Poisson), the ML estimate is alpha = 0: the Poisson fit is returned as the NB2 fit, with a note.
    """
    where = "negative_binomial_glm"
    _check_confidence(confidence, where)
    y, design, offset, ids, dropped, notes = _prepare_counts(counts, covariates, population, exposure, where)
    k = design.shape[1]
    x = design.to_numpy()
    with _surfacing(notes):
        poisson_model = sm.GLM(y, design, family=sm.families.Poisson(), offset=offset)
        poisson = poisson_model.fit()
    mu0 = np.asarray(poisson.fittedvalues, dtype=np.float64)
    score0 = float(np.sum((y - mu0) ** 2 - y))
    if score0 <= 0:
        with _surfacing(notes):
            poisson_robust = poisson_model.fit(start_params=poisson.params, cov_type="HC0")
        notes.append("counts are no more variable than Poisson: the ML alpha is 0 and NB2 reduces to Poisson.")
        beta, alpha, alpha_se = np.asarray(poisson.params, dtype=np.float64), 0.0, float("nan")
        bse_model = np.asarray(poisson.bse, dtype=np.float64)
        bse_robust = np.asarray(poisson_robust.bse, dtype=np.float64)
        loglike, converged = float(poisson.llf), bool(poisson.converged)
    else:
        model = NegativeBinomial(y, design, loglike_method="nb2", offset=offset)
        start = np.r_[np.asarray(poisson.params), max(score0 / float(mu0 @ mu0), 1e-3)]
        with _surfacing(notes):
            # BFGS on log(alpha) keeps alpha positive; Newton then polishes where it is safely inside
            fit = model.fit(start_params=start, method="bfgs", maxiter=5000, gtol=1e-9, disp=False)
            if float(np.asarray(fit.params)[k]) > 1e-4:
                try:
                    with np.errstate(invalid="raise", divide="raise", over="raise"):
                        polished = model.fit(start_params=fit.params, method="newton", maxiter=50, disp=False)
                    if polished.mle_retvals.get("converged", False) and float(np.asarray(polished.params)[k]) > 0:
                        fit = polished
                except FloatingPointError:
                    pass
            params = np.asarray(fit.params, dtype=np.float64)
            hessian = np.asarray(model.hessian(params), dtype=np.float64)
            scores = np.asarray(model.score_obs(params), dtype=np.float64)
        converged = bool(fit.mle_retvals.get("converged", False))
        bread = np.linalg.inv(-hessian)
        beta, alpha = params[:k], float(params[k])
        bse_all = np.sqrt(np.diag(bread))
        bse_model, alpha_se = bse_all[:k], float(bse_all[k])
        bse_robust = np.sqrt(np.diag(bread @ (scores.T @ scores) @ bread))[:k]
        loglike = float(model.loglike(params))
    if not converged:
        notes.append("the likelihood maximisation did not converge; treat the estimates as provisional.")
    mu = np.exp(x @ beta + offset)
    notes += _separation_notes(design, beta, mu)
    family = sm.families.NegativeBinomial(alpha=alpha) if alpha > 0 else sm.families.Poisson()
    deviance = float(family.deviance(y, mu))
    pearson = float(np.sum((y - mu) ** 2 / family.variance(mu)))
    lr = max(0.0, 2 * (loglike - float(poisson.llf)))
    return CountModelResult(
        family="Negative binomial (NB2)",
        outcome=outcome,
        names=tuple(design.columns),
        params=beta,
        bse_model=bse_model,
        bse_robust=bse_robust,
        robust=robust,
        confidence=confidence,
        n=len(y),
        deviance=deviance,
        pearson_chi2=pearson,
        df_resid=len(y) - k,
        dispersion=pearson / (len(y) - k),
        loglike=loglike,
        aic=float(2 * (k + 1) - 2 * loglike),
        alpha=alpha,
        alpha_se=alpha_se,
        overdispersion=SpatialTest(
            "Likelihood-ratio test of alpha = 0 (chi-bar-squared)", lr, 1, float(0.5 * stats.chi2.sf(lr, 1))
        ),
        converged=converged,
        fitted=mu,
        area_ids=ids,
        dropped=dropped,
        notes=tuple(notes),
        provenance=stamp(
            "safercities.stats.regression.negative_binomial_glm",
            {
                "robust": robust,
                "confidence": confidence,
                "cov_robust": "HC0",
                "engine": "statsmodels discrete NegativeBinomial nb2 (joint ML of beta and alpha)",
            },
            y,
            x,
            offset,
        ),
    )


def _check_confidence(confidence: float, where: str) -> None:
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of {where} must be in (0, 1). Got {confidence!r} instead.")


# -- spatial regression: shared preparation ------------------------------------------------------------------
@dataclass(frozen=True)
class _SpatialData:
    y: NDArray[np.float64]
    x: NDArray[np.float64]
    names: tuple[str, ...]
    w: sp.csr_matrix
    ids: NDArray[Any]
    notes: tuple[str, ...]
    transform: str


def _spatial_data(
    y: ArrayLike, X: pd.DataFrame | ArrayLike, weights: SpatialWeights, transform: str, islands: str, where: str
) -> _SpatialData:
    check_choice("transform", transform, ("R", "B", "O"), where)
    check_choice("islands", islands, ("raise", "keep"), where)
    if not isinstance(weights, SpatialWeights):
        raise InputError(f"{where}: weights must be a SpatialWeights. Got {type(weights).__name__} instead.")
    n = weights.n
    yy = np.asarray(y, dtype=np.float64).ravel()
    if len(yy) != n:
        raise InputError(f"{where}: y must have one value per area of the weights ({n}). Got {len(yy)} instead.")
    if not np.all(np.isfinite(yy)):
        raise InputError(f"{where}: y holds missing or infinite values.")
    design = _design(X, n, where)
    if n <= design.shape[1] + 1:
        raise InputError(f"{where}: {n} areas cannot support {design.shape[1]} coefficients and a spatial parameter.")
    _check_collinear(design, where)
    notes: list[str] = []
    island_ids = weights.islands
    if len(island_ids):
        shown = ", ".join(map(str, island_ids[:10].tolist()))
        if islands == "raise":
            raise InputError(
                f"{where}: {len(island_ids)} area(s) have no neighbours (islands): {shown}. Give them neighbours "
                "(e.g. k-nearest) or pass islands='keep' to keep them with a zero spatial lag."
            )
        notes.append(f"{len(island_ids)} island(s) kept with a zero row in W (their spatial lag is 0): {shown}.")
    w = weights.transformed(transform).sparse.tocsr().astype(np.float64)
    return _SpatialData(yy, design.to_numpy(), tuple(design.columns), w, weights.ids, tuple(notes), transform)


def _trace_mamb(q: NDArray[np.float64], a: sp.csr_matrix, b: sp.csr_matrix) -> float:
    """tr(M A M B) with M = I - Q Q' (Q orthonormal n x k), without forming any n x n dense matrix."""
    qa = np.asarray((a.T @ q).T)  # Q'A (k x n)
    qb = np.asarray((b.T @ q).T)  # Q'B
    aq = np.asarray(a @ q)  # A Q
    bq = np.asarray(b @ q)
    tr_ab = float(a.multiply(b.T).sum())
    return tr_ab - float(np.sum(qa.T * bq)) - float(np.sum(aq * qb.T)) + float(np.trace((qa @ q) @ (qb @ q)))


# -- OLS with spatial diagnostics ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OLSSpatialResult:
    """OLS fit with Moran's I of residuals and the Lagrange multiplier tests for spatial dependence."""

    names: tuple[str, ...]
    params: NDArray[np.float64]
    bse: NDArray[np.float64]
    t: NDArray[np.float64]
    p_values: NDArray[np.float64]
    n: int
    sigma2: float
    """Residual variance e'e / (n - k)."""
    r2: float
    adj_r2: float
    f_statistic: float
    f_p_value: float
    loglike: float
    aic: float
    schwarz: float
    residuals: NDArray[np.float64]
    moran: ResidualMoran
    lm_lag: SpatialTest
    lm_error: SpatialTest
    robust_lm_lag: SpatialTest
    robust_lm_error: SpatialTest
    lm_sarma: SpatialTest
    notes: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def tests(self) -> tuple[SpatialTest, ...]:
        return (self.lm_lag, self.robust_lm_lag, self.lm_error, self.robust_lm_error, self.lm_sarma)

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: estimate, standard error, t and p."""
        return pd.DataFrame(
            {"coef": self.params, "se": self.bse, "t": self.t, "p_value": self.p_values},
            index=pd.Index(self.names, name="covariate"),
        )

    def diagnostics_frame(self) -> pd.DataFrame:
        """Moran's I of residuals (as z) and the five LM tests, one row each."""
        rows = [("Moran's I (residuals), z", self.moran.z, 1, self.moran.p_value)]
        rows += [(t.name, t.statistic, t.df, t.p_value) for t in self.tests]
        return pd.DataFrame(rows, columns=["test", "statistic", "df", "p_value"]).set_index("test")

    def recommendation(self, alpha: float = 0.05) -> str:
        """Anselin's (2005) decision rule: which spatial model the LM tests point to."""
        lag, err = self.lm_lag.p_value < alpha, self.lm_error.p_value < alpha
        if not (lag or err):
            return "neither LM test is significant: OLS is adequate for spatial dependence"
        if lag and not err:
            return "LM-lag only is significant: fit the spatial lag model (ml_lag)"
        if err and not lag:
            return "LM-error only is significant: fit the spatial error model (ml_error)"
        rlag, rerr = self.robust_lm_lag.p_value, self.robust_lm_error.p_value
        if rlag < rerr:
            return "both LM tests are significant; the robust LM-lag is stronger: fit the spatial lag model (ml_lag)"
        return "both LM tests are significant; the robust LM-error is stronger: fit the spatial error model (ml_error)"

    def summary(self) -> str:
        lines = [
            f"OLS on {self.n} areas: R2 {self.r2:.4f} (adjusted {self.adj_r2:.4f}), F {self.f_statistic:.3f} "
            f"(p = {self.f_p_value:.3g}), log-likelihood {self.loglike:.3f}, AIC {self.aic:.3f}.",
            self.to_frame().to_string(float_format=lambda v: f"{v:.6g}"),
            f"Moran's I of residuals {self.moran.I:.4f} (expected {self.moran.expected:.4f}, z {self.moran.z:.3f}, "
            f"p = {self.moran.p_value:.3g}).",
        ]
        lines += [f"{t.name}: {t.statistic:.4f} (df {t.df}, p = {t.p_value:.3g})" for t in self.tests]
        lines.append(f"Reading: {self.recommendation()}.")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def ols_spatial(
    y: ArrayLike,
    X: pd.DataFrame | ArrayLike,
    weights: SpatialWeights,
    *,
    transform: str = "R",
    islands: str = "raise",
) -> OLSSpatialResult:
    """OLS of y on X (an intercept added) with the spatial diagnostics on W = ``weights`` transformed.

    Rows of y and X follow ``weights.ids``. LM tests follow Anselin (1988) and Anselin, Bera, Florax & Yoon (1996);
    residual Moran's I uses the exact normal moments for regression residuals (Cliff & Ord 1981), as spreg's
    ``moran_res`` and R's ``lm.morantest``; its p-value is two-sided.
    """
    where = "ols_spatial"
    data = _spatial_data(y, X, weights, transform, islands, where)
    yy, x, w = data.y, data.x, data.w
    n, k = x.shape
    q, r = np.linalg.qr(x)
    beta = la.solve_triangular(r, q.T @ yy)
    e = yy - x @ beta
    ssr = float(e @ e)
    sigma2 = ssr / (n - k)
    rinv = la.solve_triangular(r, np.eye(k))
    xtxi = rinv @ rinv.T
    bse = np.sqrt(np.diag(xtxi) * sigma2)
    t = beta / bse
    tss = float(((yy - yy.mean()) ** 2).sum())
    r2 = 1 - ssr / tss
    adj = 1 - (1 - r2) * (n - 1) / (n - k)
    f = (r2 / (k - 1)) / ((1 - r2) / (n - k)) if k > 1 else float("nan")
    loglike = -n / 2 * (np.log(2 * np.pi) + np.log(ssr / n) + 1)

    # Moran's I of residuals with Cliff-Ord moments
    s0 = float(w.sum())
    we = np.asarray(w @ e)
    moran_i = n / s0 * float(e @ we) / ssr
    tr_mw = float(w.diagonal().sum()) - float(np.trace(q.T @ np.asarray(w @ q)))
    expected = n / s0 * tr_mw / (n - k)
    tr_mwmwt = _trace_mamb(q, w, w.T.tocsr())
    tr_mwmw = _trace_mamb(q, w, w)
    variance = (n / s0) ** 2 * (tr_mwmwt + tr_mwmw + tr_mw**2) / ((n - k) * (n - k + 2)) - expected**2
    z = (moran_i - expected) / np.sqrt(variance)
    moran = ResidualMoran(moran_i, expected, float(variance), float(z), float(2 * stats.norm.sf(abs(z))))

    # LM tests
    s2 = ssr / n
    wy = np.asarray(w @ yy)
    wxb = np.asarray(w @ (x @ beta))
    m_wxb = wxb - q @ (q.T @ wxb)
    tt = float(w.multiply(w).sum() + w.multiply(w.T).sum())  # tr(W'W + W W)
    nj = float(wxb @ m_wxb) / s2 + tt
    d_err = float(e @ we) / s2
    d_lag = float(e @ wy) / s2
    lm_err = d_err**2 / tt
    lm_lag = d_lag**2 / nj
    rlm_lag = (d_lag - d_err) ** 2 / (nj - tt)
    rlm_err = (d_err - tt / nj * d_lag) ** 2 / (tt - tt**2 / nj)
    sarma = rlm_lag + lm_err

    def chi(name: str, value: float, df: int = 1) -> SpatialTest:
        return SpatialTest(name, float(value), df, float(stats.chi2.sf(value, df)))

    return OLSSpatialResult(
        names=data.names,
        params=beta,
        bse=bse,
        t=t,
        p_values=2 * stats.t.sf(np.abs(t), n - k),
        n=n,
        sigma2=sigma2,
        r2=r2,
        adj_r2=adj,
        f_statistic=f,
        f_p_value=float(stats.f.sf(f, k - 1, n - k)) if k > 1 else float("nan"),
        loglike=float(loglike),
        aic=float(-2 * loglike + 2 * (k + 1)),
        schwarz=float(-2 * loglike + np.log(n) * (k + 1)),
        residuals=e,
        moran=moran,
        lm_lag=chi("LM-lag", lm_lag),
        lm_error=chi("LM-error", lm_err),
        robust_lm_lag=chi("Robust LM-lag", rlm_lag),
        robust_lm_error=chi("Robust LM-error", rlm_err),
        lm_sarma=chi("LM-SARMA", sarma, 2),
        notes=data.notes,
        provenance=stamp(where, {"transform": transform, "islands": islands}, yy, x, w.data, w.indices),
    )


# -- ML spatial lag and spatial error ---------------------------------------------------------------------------
class _Jacobian:
    """log|I - rho W| and the traces the information matrix needs, by eigenvalues (small n) or sparse LU."""

    def __init__(self, w: sp.csr_matrix, method: str) -> None:
        self.w = w
        self.n = w.shape[0]
        self.method = method
        self.notes: list[str] = []
        if method == "eigen":
            eig = np.linalg.eigvals(w.toarray())
            self.real = bool(np.all(np.abs(eig.imag) < 1e-9))
            self.eig = eig.real if self.real else eig
            if self.real:
                lo, hi = float(self.eig.min()), float(self.eig.max())
                self.bounds = (1 / lo if lo < 0 else -1e6, 1 / hi if hi > 0 else 1e6)
            else:
                radius = float(np.abs(eig).max())
                self.bounds = (-1 / radius, 1 / radius)
        else:
            # as spreg's LU method: (-1, 1) scaled by the largest row sum (an upper bound on the spectral radius)
            radius = float(np.abs(w).sum(axis=1).max())
            self.bounds = (-1 / radius, 1 / radius)
        span = self.bounds[1] - self.bounds[0]
        self.bounds = (max(self.bounds[0], -1e3) + 1e-9 * span, self.bounds[1] - 1e-9 * span)

    def dlogdet(self, rho: float) -> float | None:
        """d log|I - rho W| / d rho = -tr(W (I - rho W)^-1), from the eigenvalues; None for the LU method."""
        if self.method != "eigen":
            return None
        return float(-np.sum(self.eig / (1 - rho * self.eig)).real)

    def maximise(
        self,
        negative: Callable[[float], float],
        slope: Callable[[float], float],
        xatol: float,
    ) -> tuple[float, float]:
        """Minimise the negative concentrated log-likelihood over the admissible range (bounded Brent), then, where
        the derivative is known (eigen method), solve the score for its root near the Brent point: Brent alone
        stops at about sqrt(machine eps) in rho because the likelihood is flat at its top."""
        res = minimize_scalar(negative, bounds=self.bounds, method="bounded", options={"xatol": xatol})
        rho = float(res.x)
        if self.method == "eigen":
            lo, hi = max(rho - 1e-5, self.bounds[0]), min(rho + 1e-5, self.bounds[1])
            if slope(lo) * slope(hi) < 0:
                rho = float(brentq(slope, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps))
        return rho, float(negative(rho))

    def logdet(self, rho: float) -> float:
        if self.method == "eigen":
            values = 1 - rho * self.eig
            return (
                float(np.sum(np.log(values)).real) if self.real else float(np.sum(np.log(values.astype(complex))).real)
            )
        a = (sp.identity(self.n, format="csc") - rho * self.w.tocsc()).tocsc()
        lu = spla.splu(a)
        return float(np.sum(np.log(np.abs(lu.U.diagonal()))))

    def traces(self, rho: float) -> tuple[float, float, float, float, NDArray[np.float64]]:
        """tr(WA), tr(WA WA), tr(WA' WA), tr(A^-1) with A = I - rho W, WA = W A^-1; and A^-1 1 / ... solver."""
        n = self.n
        ones = np.ones(n)
        if n <= DENSE_LIMIT:
            a_inv = np.linalg.inv(np.eye(n) - rho * self.w.toarray())
            wa = np.asarray(self.w @ a_inv)
            return (
                float(np.trace(wa)),
                float(np.sum(wa * wa.T)),
                float(np.sum(wa * wa)),
                float(np.trace(a_inv)),
                a_inv @ ones,
            )
        lu = spla.splu((sp.identity(n, format="csc") - rho * self.w.tocsc()).tocsc())
        rng = np.random.default_rng(20240101)
        z = rng.choice([-1.0, 1.0], size=(n, HUTCHINSON_PROBES))
        a_inv_z = lu.solve(z)
        wa_z = np.asarray(self.w @ a_inv_z)
        wa_wa_z = np.asarray(self.w @ lu.solve(wa_z))
        self.notes.append(
            f"n = {n} > {DENSE_LIMIT}: traces in the information matrix and the direct impacts are Hutchinson "
            f"estimates ({HUTCHINSON_PROBES} seeded Rademacher probes); standard errors are approximate."
        )
        return (
            float(np.mean(np.sum(z * wa_z, axis=0))),
            float(np.mean(np.sum(z * wa_wa_z, axis=0))),
            float(np.mean(np.sum(wa_z * wa_z, axis=0))),
            float(np.mean(np.sum(z * a_inv_z, axis=0))),
            lu.solve(ones),
        )


@dataclass(frozen=True)
class SpatialMLResult:
    """A spatial lag (rho) or spatial error (lambda) model fitted by maximum likelihood.

    ``params``/``bse`` cover the coefficients; ``spatial``/``spatial_se`` the autoregressive parameter;
    ``impacts`` (lag model only) the direct, indirect (spillover) and total effect of each covariate.
    """

    model: str
    names: tuple[str, ...]
    params: NDArray[np.float64]
    bse: NDArray[np.float64]
    spatial: float
    spatial_se: float
    sigma2: float
    n: int
    loglike: float
    aic: float
    schwarz: float
    lr_test: SpatialTest
    """Likelihood ratio against OLS (spatial parameter = 0)."""
    vcov: NDArray[np.float64]
    """Covariance of (coefficients, spatial parameter, sigma^2) from the inverse information matrix."""
    residuals: NDArray[np.float64]
    impacts: pd.DataFrame | None
    method: str
    notes: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def spatial_name(self) -> str:
        return "rho" if self.model == "lag" else "lambda"

    def to_frame(self) -> pd.DataFrame:
        """Coefficients and the spatial parameter with asymptotic SE, z, p and 95% interval."""
        est = np.r_[self.params, self.spatial]
        se = np.r_[self.bse, self.spatial_se]
        z = est / se
        q = stats.norm.ppf(0.975)
        return pd.DataFrame(
            {
                "coef": est,
                "se": se,
                "z": z,
                "p_value": 2 * stats.norm.sf(np.abs(z)),
                "lower": est - q * se,
                "upper": est + q * se,
            },
            index=pd.Index([*self.names, self.spatial_name], name="parameter"),
        )

    def summary(self) -> str:
        title = "Spatial lag" if self.model == "lag" else "Spatial error"
        lines = [
            f"{title} model (ML, {self.method}) on {self.n} areas: {self.spatial_name} = {self.spatial:.4f} "
            f"(SE {self.spatial_se:.4f}), log-likelihood {self.loglike:.3f}, AIC {self.aic:.3f}, "
            f"sigma2 {self.sigma2:.4f}.",
            f"Likelihood ratio against OLS: {self.lr_test.statistic:.3f} (p = {self.lr_test.p_value:.3g}).",
            self.to_frame().to_string(float_format=lambda v: f"{v:.6g}"),
        ]
        if self.impacts is not None:
            lines.append(
                "Impacts (LeSage & Pace): a change in one area's covariate moves its own outcome (direct) and, "
                "through the neighbours, the others' (indirect = spillover); total = direct + indirect, per area."
            )
            lines.append(self.impacts.to_string(float_format=lambda v: f"{v:.6g}"))
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def _choose_method(method: str, n: int, where: str) -> str:
    check_choice("method", method, ("auto", "eigen", "lu"), where)
    return ("eigen" if n <= DENSE_LIMIT else "lu") if method == "auto" else method


def _ols_loglike(y: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    e = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    n = len(y)
    return float(-n / 2 * (np.log(2 * np.pi) + np.log(e @ e / n) + 1))


def ml_lag(
    y: ArrayLike,
    X: pd.DataFrame | ArrayLike,
    weights: SpatialWeights,
    *,
    transform: str = "R",
    method: str = "auto",
    islands: str = "raise",
    xatol: float = 1e-10,
) -> SpatialMLResult:
    """Spatial lag model y = rho W y + X beta + e by maximum likelihood (Anselin 1988, ch. 6).

    rho maximises the concentrated log-likelihood -n/2 log(e(rho)'e(rho)/n) + log|I - rho W| (bounded Brent);
    beta and sigma^2 follow. Standard errors invert the full information matrix of (beta, rho, sigma^2), as spreg
    and R's spatialreg do. ``method``: 'eigen' (log-determinant from the eigenvalues of W), 'lu' (sparse LU at
    each step) or 'auto' (eigen up to :data:`DENSE_LIMIT` areas).
    """
    where = "ml_lag"
    data = _spatial_data(y, X, weights, transform, islands, where)
    yy, x, w = data.y, data.x, data.w
    n, k = x.shape
    jac = _Jacobian(w, _choose_method(method, n, where))
    wy = np.asarray(w @ yy)
    b0 = np.linalg.lstsq(x, yy, rcond=None)[0]
    b1 = np.linalg.lstsq(x, wy, rcond=None)[0]
    e0, e1 = yy - x @ b0, wy - x @ b1

    def negative(rho: float) -> float:
        e = e0 - rho * e1
        return n / 2 * np.log(e @ e / n) - jac.logdet(rho)

    def slope(rho: float) -> float:
        e = e0 - rho * e1
        return float(-n * (e1 @ e) / (e @ e) - (jac.dlogdet(rho) or 0.0))

    rho, fun = jac.maximise(negative, slope, xatol)
    beta = b0 - rho * b1
    e = e0 - rho * e1
    sigma2 = float(e @ e / n)
    loglike = float(-fun - n / 2 * (np.log(2 * np.pi) + 1))
    tr_wa, tr_wa2, tr_waw, tr_ainv, a_inv_ones = jac.traces(rho)
    # WA X beta = W (I - rho W)^-1 X beta: solve rather than invert
    xb = x @ beta
    if n <= DENSE_LIMIT:
        wa_xb = np.asarray(w @ np.linalg.solve(np.eye(n) - rho * w.toarray(), xb))
    else:
        wa_xb = np.asarray(w @ spla.spsolve((sp.identity(n, format="csc") - rho * w.tocsc()).tocsc(), xb))
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = x.T @ x / sigma2
    info[:k, k] = info[k, :k] = x.T @ wa_xb / sigma2
    info[k, k] = tr_wa2 + tr_waw + float(wa_xb @ wa_xb) / sigma2
    info[k, k + 1] = info[k + 1, k] = tr_wa / sigma2
    info[k + 1, k + 1] = n / (2 * sigma2**2)
    vcov = np.linalg.inv(info)
    se = np.sqrt(np.diag(vcov))
    direct = beta * tr_ainv / n
    total = beta * float(a_inv_ones.mean())
    impacts = pd.DataFrame(
        {"direct": direct, "indirect": total - direct, "total": total},
        index=pd.Index(data.names, name="covariate"),
    ).drop(index="const")
    lr = max(0.0, 2 * (loglike - _ols_loglike(yy, x)))
    return SpatialMLResult(
        model="lag",
        names=data.names,
        params=beta,
        bse=se[:k],
        spatial=rho,
        spatial_se=float(se[k]),
        sigma2=sigma2,
        n=n,
        loglike=loglike,
        aic=float(-2 * loglike + 2 * (k + 2)),
        schwarz=float(-2 * loglike + np.log(n) * (k + 2)),
        lr_test=SpatialTest("LR test rho = 0", lr, 1, float(stats.chi2.sf(lr, 1))),
        vcov=vcov,
        residuals=e,
        impacts=impacts,
        method=jac.method,
        notes=data.notes + tuple(jac.notes) + _bound_note(rho, jac.bounds, "rho"),
        provenance=stamp(
            where,
            {"transform": transform, "method": jac.method, "islands": islands, "xatol": xatol},
            yy,
            x,
            w.data,
            w.indices,
        ),
    )


def ml_error(
    y: ArrayLike,
    X: pd.DataFrame | ArrayLike,
    weights: SpatialWeights,
    *,
    transform: str = "R",
    method: str = "auto",
    islands: str = "raise",
    xatol: float = 1e-10,
) -> SpatialMLResult:
    """Spatial error model y = X beta + u, u = lambda W u + e by maximum likelihood (Anselin 1988, ch. 6).

    lambda maximises -n/2 log(e(lambda)'e(lambda)/n) + log|I - lambda W|, where e(lambda) are the residuals of the
    spatially filtered regression (y - lambda W y on X - lambda W X). Standard errors: sigma^2 (X*'X*)^-1 for beta
    and the inverse (lambda, sigma^2) information block for lambda, as spreg and spatialreg.
    """
    where = "ml_error"
    data = _spatial_data(y, X, weights, transform, islands, where)
    yy, x, w = data.y, data.x, data.w
    n, k = x.shape
    jac = _Jacobian(w, _choose_method(method, n, where))
    wy, wx = np.asarray(w @ yy), np.asarray(w @ x)

    def filtered(lam: float) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        ys, xs = yy - lam * wy, x - lam * wx
        b = np.asarray(np.linalg.lstsq(xs, ys, rcond=None)[0], dtype=np.float64)
        return b, ys - xs @ b, xs

    def negative(lam: float) -> float:
        _, e, _ = filtered(lam)
        return n / 2 * np.log(e @ e / n) - jac.logdet(lam)

    def slope(lam: float) -> float:
        b, e, _ = filtered(lam)
        return float(-n * (e @ (wy - wx @ b)) / (e @ e) - (jac.dlogdet(lam) or 0.0))

    lam, fun = jac.maximise(negative, slope, xatol)
    beta, e, xs = filtered(lam)
    sigma2 = float(e @ e / n)
    loglike = float(-fun - n / 2 * (np.log(2 * np.pi) + 1))
    tr_wb, tr_wb2, tr_wbw, _, _ = jac.traces(lam)
    vcov = np.zeros((k + 2, k + 2))
    vcov[:k, :k] = sigma2 * np.linalg.inv(xs.T @ xs)
    block = np.array([[tr_wb2 + tr_wbw, tr_wb / sigma2], [tr_wb / sigma2, n / (2 * sigma2**2)]])
    vcov[k:, k:] = np.linalg.inv(block)
    se = np.sqrt(np.diag(vcov))
    lr = max(0.0, 2 * (loglike - _ols_loglike(yy, x)))
    return SpatialMLResult(
        model="error",
        names=data.names,
        params=beta,
        bse=se[:k],
        spatial=lam,
        spatial_se=float(se[k]),
        sigma2=sigma2,
        n=n,
        loglike=loglike,
        aic=float(-2 * loglike + 2 * (k + 2)),
        schwarz=float(-2 * loglike + np.log(n) * (k + 2)),
        lr_test=SpatialTest("LR test lambda = 0", lr, 1, float(stats.chi2.sf(lr, 1))),
        vcov=vcov,
        residuals=yy - x @ beta,
        impacts=None,
        method=jac.method,
        notes=data.notes + tuple(jac.notes) + _bound_note(lam, jac.bounds, "lambda"),
        provenance=stamp(
            where,
            {"transform": transform, "method": jac.method, "islands": islands, "xatol": xatol},
            yy,
            x,
            w.data,
            w.indices,
        ),
    )


def _bound_note(value: float, bounds: tuple[float, float], name: str) -> tuple[str, ...]:
    span = bounds[1] - bounds[0]
    if min(value - bounds[0], bounds[1] - value) < 1e-6 * span:
        return (f"{name} = {value:.6g} is at the edge of its admissible range {bounds}; the maximum may lie outside.",)
    return ()
