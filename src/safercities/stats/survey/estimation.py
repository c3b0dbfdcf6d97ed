"""Design-based estimates of means, totals, proportions and ratios, by domain, with their uncertainty.

``estimate`` returns one row per domain × variable (× level of a categorical variable) with the
estimate, its standard error (Taylor linearisation or replicate weights), the confidence interval,
the coefficient of variation, the design effect and the unweighted and weighted numbers of
respondents behind it.

Conventions (those of R's ``survey`` package):

* domains are estimated as domains: respondents outside a domain keep their PSU, with zero values
  (``svyby``/``subset``), never by cutting the design down to the domain;
* a missing answer drops the respondent from that variable only (``na.rm=TRUE``), as a domain;
* intervals use Student's t with the design's degrees of freedom (``confint(..., df=degf(design))``;
  PSUs minus strata, or the rank of the replicate weights minus one); pass ``df=numpy.inf`` for normal
  intervals (R's ``confint`` default);
* the interval of a proportion is by default the logit interval (R ``svyciprop(method="logit")``,
  samplics), ``interval="beta"`` gives Korn and Graubard's (``svyciprop(method="beta")``),
  ``interval="wald"`` the symmetric one used for every other kind;
* ``deff`` is the design variance over the variance of simple random sampling without replacement of
  the same number of respondents from a population of the estimated size (Kish; R ``deff=TRUE``); when
  the weights do not sum to more than the sample (scaled weights) the with-replacement variance is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special, stats

from safercities.errors import InputError, check_choice
from safercities.stats.survey.cells import Cells, make_cells
from safercities.stats.survey.design import Design
from safercities.stats.survey.replicate import replicate_totals, replicate_variance
from safercities.stats.survey.taylor import taylor_variance, taylor_variance_psu
from safercities.stats.survey.variables import Variables, check_kind, domain_codes, prepare

INTERVALS = ("wald", "logit", "beta")
COLUMNS = [
    "domain",
    "variable",
    "level",
    "estimate",
    "se",
    "lower",
    "upper",
    "cv",
    "deff",
    "n",
    "weighted_n",
    "df",
]


def estimate(
    design: Design,
    y: Any,
    kind: str = "mean",
    denominator: Any = None,
    domain: Any = None,
    method: str | None = None,
    confidence: float = 0.95,
    df: float | None = None,
    *,
    interval: str | None = None,
) -> pd.DataFrame:
    """Estimates of ``kind`` for each variable of ``y`` in each domain (see the module docstring).

    ``method`` is ``"taylor"`` or ``"replicate"``; by default the replicate weights when the design
    has them, Taylor linearisation otherwise. ``domain`` is one label per respondent (or a frame of
    several label columns, crossed); respondents without a label belong to no domain.
    """
    check_kind(kind)
    method = method or ("replicate" if design.replicates is not None else "taylor")
    check_choice("method", method, ("taylor", "replicate"), "estimate")
    if method == "replicate" and design.replicates is None:
        raise InputError("This design has no replicate weights.", hint="make them with replicate_weights(design)")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"The confidence level must lie between 0 and 1; got {confidence}.")
    interval = interval or ("logit" if kind == "proportion" else "wald")
    check_choice("interval", interval, INTERVALS, "estimate")
    if interval != "wald" and kind != "proportion":
        raise InputError(f"The {interval} interval is for proportions; a {kind} takes interval='wald'.")

    variables = prepare(y, kind, denominator, design.n)
    dom, labels = domain_codes(domain, design.n)
    point, se, n, weighted_n, deff = _estimates(design, variables, dom, len(labels), kind, method)

    dof = design.df if df is None else float(df)
    lower, upper = _interval(point, se, confidence, dof, interval, n)
    d, k = point.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = se / np.abs(point)
    frame = pd.DataFrame(
        {
            "domain": np.repeat(_objects(labels), k),
            "variable": np.tile(np.array(variables.names, dtype=object), d),
            "level": np.tile(_objects(variables.levels), d),
            "estimate": point.ravel(),
            "se": se.ravel(),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
            "cv": cv.ravel(),
            "deff": deff.ravel(),
            "n": n.ravel().astype(np.int64),
            "weighted_n": weighted_n.ravel(),
            "df": dof,
        },
        columns=COLUMNS,
    )
    return frame


def _objects(values: list[Any]) -> NDArray[Any]:
    """A one-dimensional object array (labels may be tuples, which ``np.array`` would unpack)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _estimates(
    design: Design, variables: Variables, dom: NDArray[np.int64], domains: int, kind: str, method: str
) -> tuple[NDArray[np.float64], ...]:
    """Point estimates, standard errors, counts, weighted counts and design effects (domains × k)."""
    w = design.weights
    cells = make_cells(design, dom, domains)
    k = variables.k
    inside = dom >= 0
    where = np.where(inside, dom, 0)

    everyone = bool(inside.all())

    def by_domain(values: NDArray[np.float64]) -> NDArray[np.float64]:
        kept = values if everyone else np.where(inside, values, 0.0)
        return np.bincount(where, weights=kept, minlength=domains).astype(np.float64, copy=False)

    num_cells = np.column_stack([cells.sum(w * variables.num[:, j]) for j in range(k)])
    den_cells = np.column_stack([cells.sum(w * variables.den[:, j]) for j in range(k)])
    ty = np.column_stack([cells.by_domain(num_cells[:, j]) for j in range(k)])
    tx = np.column_stack([cells.by_domain(den_cells[:, j]) for j in range(k)])
    ratio = kind != "total"
    with np.errstate(divide="ignore", invalid="ignore"):
        point = ty / tx if ratio else ty
        if method == "taylor":
            u = (num_cells - point[cells.domain] * den_cells) / tx[cells.domain] if ratio else num_cells
            if design.calibration is None:
                var = taylor_variance(design, cells, u)
            else:
                var = _calibrated_variance(design, variables, cells, where, inside, u, point, tx, ratio)
        else:
            columns = np.hstack([variables.num, variables.den]) if ratio else variables.num
            sums = np.hstack([num_cells, den_cells]) if ratio else num_cells
            totals = replicate_totals(design, cells, dom, columns, sums)
            theta_r = totals[:, :k] / totals[:, k:] if ratio else totals
            var = replicate_variance(design, point, theta_r)
    se = np.sqrt(var)
    n = np.column_stack([by_domain(variables.answered[:, j]) for j in range(k)])
    weighted_n = np.column_stack([by_domain(w * variables.answered[:, j]) for j in range(k)])
    deff = _deff(w, variables, where, inside, domains, point, var, n, weighted_n, tx, kind, by_domain)
    return point, se, n, weighted_n, deff


def _calibrated_variance(
    design: Design,
    variables: Variables,
    cells: Cells,
    where: NDArray[np.int64],
    inside: NDArray[np.bool_],
    u: NDArray[np.float64],
    point: NDArray[np.float64],
    tx: NDArray[np.float64],
    ratio: bool,
) -> NDArray[np.float64]:
    """Taylor variance of the residuals of the linearised values on the calibration variables.

    For domain d the linearised value ``z_i`` (zero outside d) is replaced by ``z_i - x_i' beta_d``,
    ``beta_d`` its regression on the auxiliaries weighted by the design weights before calibration;
    scores are then weighted by the calibrated weights (R ``survey``'s treatment of ``calibrate``).
    The residuals are non-zero outside the domain, so totals are formed for every PSU × domain.
    """
    cal = design.calibration
    x, w0, w = cal.x, cal.base_weights, design.weights
    domains = cells.domains
    psu_x = np.column_stack(
        [np.bincount(design.psu, weights=w * x[:, j], minlength=design.n_psus) for j in range(x.shape[1])]
    )
    out = np.empty_like(point)
    for v in range(variables.k):
        if ratio:
            z = (variables.num[:, v] - point[where, v] * variables.den[:, v]) / tx[where, v]
        else:
            z = variables.num[:, v]
        z = np.where(inside, z, 0.0)
        moments = np.vstack(
            [np.bincount(where, weights=w0 * x[:, j] * z, minlength=domains) for j in range(x.shape[1])]
        )
        beta = cal.coefficients(moments)  # p × domains
        totals = np.zeros((design.n_psus, domains))
        totals[cells.psu, cells.domain] = u[:, v]
        out[:, v] = taylor_variance_psu(design, totals - psu_x @ beta)
    return out


def _deff(
    w: NDArray[np.float64],
    variables: Variables,
    where: NDArray[np.int64],
    inside: NDArray[np.bool_],
    domains: int,
    point: NDArray[np.float64],
    var: NDArray[np.float64],
    n: NDArray[np.float64],
    weighted_n: NDArray[np.float64],
    tx: NDArray[np.float64],
    kind: str,
    by_domain: Any,
) -> NDArray[np.float64]:
    """Design variance over the SRS variance of the same estimator from ``n`` respondents."""
    out = np.empty_like(point)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(variables.k):
            # residuals around the domain mean (total, mean, proportion) or ratio (ratio)
            centre = point[:, j] / weighted_n[:, j] if kind == "total" else point[:, j]
            resid = variables.num[:, j] - centre[where] * variables.den[:, j]
            spread = by_domain(w * resid * resid) / weighted_n[:, j] * n[:, j] / (n[:, j] - 1.0)
            fpc = np.where(weighted_n[:, j] > n[:, j], 1.0 - n[:, j] / weighted_n[:, j], 1.0)
            srs = fpc * spread / n[:, j]
            if kind == "total":
                srs = srs * weighted_n[:, j] ** 2
            elif kind == "ratio":
                srs = srs / (tx[:, j] / weighted_n[:, j]) ** 2
            out[:, j] = var[:, j] / srs
    return out


def _quantile(p: float, df: Any) -> Any:
    """Student's t quantile (normal for infinite degrees of freedom)."""
    df = np.asarray(df, dtype=np.float64)
    return np.where(np.isfinite(df), special.stdtrit(np.where(np.isfinite(df), df, 1.0), p), special.ndtri(p))


def _interval(
    point: NDArray[np.float64],
    se: NDArray[np.float64],
    confidence: float,
    df: float,
    interval: str,
    n: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    alpha = 1.0 - confidence
    q = _quantile(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if interval == "wald":
            return point - q * se, point + q * se
        if interval == "logit":
            inner = (point > 0) & (point < 1)
            p = np.where(inner, point, 0.5)
            centre = np.log(p / (1 - p))
            half = q * se / (p * (1 - p))
            lower = np.where(inner, 1 / (1 + np.exp(-(centre - half))), point)
            upper = np.where(inner, 1 / (1 + np.exp(-(centre + half))), point)
            return lower, upper
        # Korn & Graubard: Clopper-Pearson with the effective sample size, its t-adjustment
        n_eff = point * (1 - point) / se**2
        # no spread to measure (an estimate of 0 or 1): the respondents themselves, as Korn & Graubard
        n_eff = np.where(np.isfinite(n_eff) & (n_eff > 0), n_eff, n)
        t_n = _quantile(alpha / 2, np.inf if not np.isfinite(df) else np.maximum(n - 1, 1))
        t_df = _quantile(alpha / 2, df)
        n_eff = n_eff * (t_n / t_df) ** 2
        lower = np.where(point > 0, stats.beta.ppf(alpha / 2, n_eff * point, n_eff * (1 - point) + 1), 0.0)
        upper = np.where(point < 1, stats.beta.ppf(1 - alpha / 2, n_eff * point + 1, n_eff * (1 - point)), 1.0)
        return lower, upper
