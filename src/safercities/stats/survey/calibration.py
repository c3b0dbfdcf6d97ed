"""Calibration of survey weights to known population totals: linear (GREG), raking, logit, post-strata.

Calibration (Deville & Särndal 1992) multiplies each design weight by ``g_i = F(x_i' lambda)`` so that
the weighted totals of the auxiliary variables ``x`` equal their census totals ``T``:
``sum_i w_i g_i x_i = T``. ``F`` is ``1 + u`` (linear: the GREG estimator; post-stratification when
``x`` are the indicators of the post-strata), ``exp(u)`` (raking ratio; iterative proportional fitting
when ``x`` are the indicators of several margins) or the logit function bounded in ``(L, U)``.
``lambda`` solves the calibration equations by Newton's method with a generalised inverse, so
collinear auxiliaries (several complete sets of margin indicators) are fine.

Variance after calibration is that of the residuals: the Taylor variance uses, for every estimate,
the linearised values minus their design-weighted regression on ``x`` (R ``survey``: ``calibrate``,
``postStratify``, ``rake``); replicate designs are calibrated replicate by replicate, so their
variance needs nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from safercities.errors import InputError, check_choice
from safercities.stats.survey.design import Design, Replicates

METHODS = ("linear", "raking", "logit")


@dataclass(frozen=True)
class Calibration:
    """What the variance needs: the auxiliaries and the design weights before calibration."""

    x: NDArray[np.float64]  # respondents × p
    base_weights: NDArray[np.float64]  # design weights before calibration over the working variances
    gram_pinv: NDArray[np.float64]  # (x' W0 V^-1 x)^+

    def coefficients(self, moments: NDArray[np.float64]) -> NDArray[np.float64]:
        """Regression coefficients (p × m) from the design-weighted moments ``sum w0 x z`` (p × m)."""
        return np.asarray(self.gram_pinv @ moments)


def _g(method: str, u: NDArray[np.float64], bounds: tuple[float, float] | None) -> tuple[NDArray[np.float64], ...]:
    """The calibration function F(u) and its derivative."""
    if method == "linear":
        g = 1.0 + u
        d = np.ones_like(u)
        if bounds is not None:
            low, high = bounds
            outside = (g < low) | (g > high)
            g = np.clip(g, low, high)
            d = np.where(outside, 0.0, 1.0)
        return g, d
    if method == "raking":
        g = np.exp(np.clip(u, -700, 700))
        return g, g
    assert bounds is not None
    low, high = bounds
    a = (high - low) / ((1.0 - low) * (high - 1.0))
    e = np.exp(np.clip(a * u, -700, 700))
    top = low * (high - 1.0) + high * (1.0 - low) * e
    bottom = (high - 1.0) + (1.0 - low) * e
    g = top / bottom
    d = a * e * (high - low) * (high - 1.0) * (1.0 - low) / bottom**2
    return g, d


def _solve(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    totals: NDArray[np.float64],
    method: str,
    bounds: tuple[float, float] | None,
    max_iter: int,
    tol: float,
    q: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The g-weights ``F(q x'lambda)`` for weights ``w``: Newton's method on the calibration equations."""
    lam = np.zeros(x.shape[1])
    scale = np.maximum(np.abs(totals), 1.0)
    for _ in range(max_iter):
        g, d = _g(method, q * (x @ lam), bounds)
        gap = totals - x.T @ (w * g)
        if np.max(np.abs(gap) / scale) < tol:
            return g
        jac = x.T @ (x * (w * d * q)[:, None])
        step = np.linalg.lstsq(jac, gap, rcond=None)[0]
        lam = lam + step
    g, _ = _g(method, q * (x @ lam), bounds)
    gap = totals - x.T @ (w * g)
    if np.max(np.abs(gap) / scale) < max(tol, 1e-7):
        return g
    raise InputError(
        f"Calibration ({method}) did not reach the totals in {max_iter} iterations "
        f"(largest relative gap {np.max(np.abs(gap) / scale):.2g}).",
        hint="check that the totals are consistent with each other and reachable, or widen the bounds",
    )


def calibrate(
    design: Design,
    X: Any,
    totals: Any,
    method: str = "linear",
    bounds: tuple[float, float] | None = None,
    *,
    variance: Any = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> Design:
    """The design with weights calibrated so that the weighted totals of ``X`` equal ``totals``.

    ``X``: respondents × auxiliaries (numeric frame or array); ``totals``: one per column (a Series
    indexed by ``X``'s columns, or in column order). ``bounds=(L, U)`` bounds the g-weights (linear:
    truncated; logit: required, L < 1 < U). ``variance``: the working model's variance per
    respondent (default 1; ``variance=x`` with ``X=x`` alone gives the ratio estimator). Replicate
    weights are calibrated replicate by replicate.
    """
    check_choice("method", method, METHODS, "calibrate")
    x, names = _matrix(X, design.n)
    t = _totals(totals, names)
    if variance is None:
        q = np.ones(design.n)
    else:
        v = np.broadcast_to(np.asarray(variance, dtype=np.float64), (design.n,))
        if not (np.isfinite(v) & (v > 0)).all():
            row = int(np.flatnonzero(~(np.isfinite(v) & (v > 0)))[0])
            raise InputError("The working variances must be positive.", row=row, column="variance")
        q = 1.0 / v
    if method == "logit" and bounds is None:
        raise InputError("Logit calibration needs bounds (L, U) with L < 1 < U.", hint="e.g. bounds=(0.5, 3)")
    if bounds is not None:
        if method == "raking":
            raise InputError("Raking has no bounds here.", hint="use method='logit' with bounds for bounded raking")
        low, high = (float(b) for b in bounds)
        if not low < 1.0 < high:
            raise InputError(f"The bounds must satisfy L < 1 < U; got ({low}, {high}).")
        bounds = (low, high)
    w0 = design.weights
    g = _solve(x, w0, t, method, bounds, max_iter, tol, q)
    replicates = None
    if design.replicates is not None:
        rw = design.replicate_matrix()
        calibrated = np.column_stack(
            [rw[:, r] * _solve(x, rw[:, r], t, method, bounds, max_iter, tol, q) for r in range(rw.shape[1])]
        )
        old = design.replicates
        replicates = Replicates(old.method, old.scale, old.rscales, old.mse, weights=calibrated)
    made = design.with_weights(w0 * g, replicates)
    base = w0 * q
    previous: Calibration | None = design.calibration
    if previous is not None:
        # calibrating again: the variance residualises on all auxiliaries, from the first base weights
        x = np.hstack([previous.x, x])
        base = previous.base_weights
    gram = x.T @ (x * base[:, None])
    made.calibration = Calibration(x=x, base_weights=base, gram_pinv=np.asarray(np.linalg.pinv(gram), dtype=np.float64))
    return made


def _matrix(X: Any, n: int) -> tuple[NDArray[np.float64], list[str]]:
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c].dtype)]
        if bad:
            raise InputError(
                f"Calibration variables must be numeric; '{bad[0]}' is {X[bad[0]].dtype}.",
                column=str(bad[0]),
                hint="use rake() or poststratify() for categorical margins",
            )
        names = [str(c) for c in X.columns]
        x = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        x = np.asarray(X, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        names = [f"x{j + 1}" for j in range(x.shape[1])]
    if x.shape[0] != n:
        raise InputError(f"The calibration variables have {x.shape[0]} rows for {n} respondents.")
    if not np.isfinite(x).all():
        row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(x)))
        raise InputError("A calibration variable is missing.", row=row, column=names[col])
    return x, names


def _totals(totals: Any, names: list[str]) -> NDArray[np.float64]:
    if isinstance(totals, pd.Series | dict):
        series = pd.Series(totals)
        series.index = [str(i) for i in series.index]
        missing = [c for c in names if c not in series.index]
        if missing:
            raise InputError(f"No population total for '{missing[0]}'.", column=missing[0])
        t = series.loc[names].to_numpy(dtype=np.float64)
    else:
        t = np.asarray(totals, dtype=np.float64).ravel()
        if t.size != len(names):
            raise InputError(f"{t.size} totals for {len(names)} calibration variables.")
    if not np.isfinite(t).all():
        raise InputError("A population total is missing or infinite.")
    return t


def _indicators(margins: dict[str, Any], data: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Indicator columns ``column=level`` of every margin and their totals."""
    columns: dict[str, NDArray[np.float64]] = {}
    totals: dict[str, float] = {}
    for column, margin in margins.items():
        if column not in data.columns:
            raise InputError(f"The margin '{column}' is not a column of the data.", column=column)
        series = pd.Series(margin)
        values = data[column].reset_index(drop=True)
        unknown = ~values.isin(series.index) & values.notna()
        if unknown.any() or values.isna().any():
            row = int(np.flatnonzero((unknown | values.isna()).to_numpy())[0])
            raise InputError(
                f"Value {values.iloc[row]!r} has no population total in the margin of '{column}'.",
                row=row,
                column=column,
                hint=f"the margin has {', '.join(map(str, series.index[:8]))}",
            )
        for level, total in series.items():
            name = f"{column}={level}"
            columns[name] = np.asarray((values == level).to_numpy(), dtype=np.float64)
            totals[name] = float(total)
    return pd.DataFrame(columns), pd.Series(totals)


def rake(
    design: Design,
    margins: dict[str, Any],
    data: pd.DataFrame,
    *,
    method: str = "raking",
    bounds: tuple[float, float] | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> Design:
    """Weights raked to the census margins: ``margins[column]`` is a Series of totals by level.

    The raking-ratio fit (iterative proportional fitting to every margin at once); the margins
    should agree on the population size. ``method="linear"`` gives the linear calibration to the
    same margins instead.
    """
    if not margins:
        raise InputError("Raking needs at least one margin.")
    sizes = {c: float(pd.Series(m).sum()) for c, m in margins.items()}
    first = next(iter(sizes.values()))
    for column, size in sizes.items():
        if abs(size - first) > 1e-6 * max(abs(first), 1.0):
            raise InputError(
                f"The margin of '{column}' totals {size:g} but the first margin totals {first:g}.",
                column=column,
                hint="every margin must add up to the same population",
            )
    x, totals = _indicators(margins, data)
    return calibrate(design, x, totals, method=method, bounds=bounds, max_iter=max_iter, tol=tol)


def poststratify(design: Design, poststrata: Any, totals: Any) -> Design:
    """Post-stratified weights: each post-stratum's weights scaled to its population total."""
    labels = pd.Series(np.asarray(poststrata), name="poststratum")
    return rake(design, {"poststratum": pd.Series(totals)}, labels.to_frame(), method="linear")
