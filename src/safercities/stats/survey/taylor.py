"""Taylor-linearisation variance: the between-PSU variance of linearised PSU totals, stratum by stratum.

For an estimator linearised as a total of ``u`` (e.g. a domain mean: ``u = 1_d (y - mean_d) / N_d``),
the variance is

    v = sum_h (1 - f_h) n_h / (n_h - 1) sum_{j in h} (u_hj - mean_h(u))**2

where ``u_hj`` is the weighted total of ``u`` over PSU j of stratum h, ``n_h`` the PSUs sampled in h
and ``f_h`` its first-stage sampling fraction (Wolter 2007, §6; R ``survey::svyrecvar`` at one stage).
A domain is not a subset: a PSU without members of the domain still counts, with a total of zero.
Sums of squares are taken around the stratum mean in two passes (no cancellation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from safercities.stats.survey.cells import Cells
from safercities.stats.survey.design import Design


def stratum_coefficients(design: Design) -> NDArray[np.float64]:
    """``(1 - f_h) n_h / (n_h - 1)`` per stratum; 0 for single-PSU strata (handled apart)."""
    n_h = design.n_psu.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = (1.0 - design.fraction) * n_h / (n_h - 1.0)
    return np.where(design.n_psu > 1, coef, 0.0)


def taylor_variance(design: Design, cells: Cells, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Variance per domain of the totals of the linearised values ``u`` given per cell (cells × k).

    Returns domains × k.
    """
    u = u.reshape(cells.count, -1)
    strata, domains = design.n_strata, cells.domains
    group = cells.stratum * domains + cells.domain
    size = strata * domains
    occupied = np.bincount(group, minlength=size).reshape(strata, domains).astype(np.float64)
    n_h = design.n_psu[:, None].astype(np.float64)
    coef = stratum_coefficients(design)[:, None]
    lonely = design.lonely
    out = np.empty((domains, u.shape[1]))
    for k in range(u.shape[1]):
        col = u[:, k]
        total = np.bincount(group, weights=col, minlength=size).reshape(strata, domains)
        mean = total / n_h
        dev = col - mean.ravel()[group]
        within = np.bincount(group, weights=dev * dev, minlength=size).reshape(strata, domains)
        # PSUs of the stratum with no member of the domain: a zero total, (0 - mean)**2 each
        squares = within + (n_h - occupied) * mean * mean
        var = (coef * squares).sum(axis=0)
        if lonely.any() and design.lonely_psu == "adjust":
            grand = total.sum(axis=0) / design.n_psus
            single = (1.0 - design.fraction[lonely])[:, None] * (total[lonely] - grand) ** 2
            var += single.sum(axis=0)
        out[:, k] = var
    return out


def taylor_variance_psu(design: Design, totals: NDArray[np.float64]) -> NDArray[np.float64]:
    """The same variance from linearised totals given for every PSU (PSUs × m), e.g. residualised."""
    starts = np.concatenate([[0], np.cumsum(design.n_psu)[:-1]])  # PSU codes run within strata
    by_stratum = np.add.reduceat(totals, starts, axis=0)
    mean = by_stratum / design.n_psu[:, None]
    dev = totals - mean[design.psu_stratum]
    squares = np.add.reduceat(dev * dev, starts, axis=0)
    var = (stratum_coefficients(design)[:, None] * squares).sum(axis=0)
    if design.lonely.any() and design.lonely_psu == "adjust":
        grand = totals.sum(axis=0) / design.n_psus
        lonely = design.lonely
        var = var + ((1.0 - design.fraction[lonely])[:, None] * (by_stratum[lonely] - grand) ** 2).sum(axis=0)
    return np.asarray(var)
