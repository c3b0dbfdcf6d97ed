"""Early warning: a seasonal baseline per area and week, alerts above its prediction bound, and a backtest.

- :func:`baseline`: for each area and week an expected count and an upper prediction bound, each from a model
  fitted on **earlier weeks only** (the week itself and everything after it are never seen):

  - ``"negbin"``: a negative binomial (NB2) GLM per area with an intercept, a linear trend (per year) and
    ``harmonics`` annual Fourier pairs, refitted every week on a rolling window of the past ``window`` weeks
    (an expanding one with ``window=None``) that ends ``gap`` weeks before the week predicted (a guard band of
    4 weeks by default: an outbreak's first weeks do not raise the baseline of the next). All areas are fitted at
    once by batched IRLS (their design is the same, the weeks): statsmodels' GLM gives the same coefficients
    one area at a time (tested). The dispersion is
    the Cameron-Trivedi moment estimator, pooled over areas by default. The predictive distribution of a week is
    NB with mean mu and dispersion a + x'V x, where V is the covariance of the coefficients: the parameters'
    uncertainty widens the bound (delta method on the log scale).
  - ``"farrington"``: the method of Farrington et al. (1996) with the improvements of Noufaily et al. (2013):
    reference weeks ``w`` either side of the same week in each of the past ``b`` years; a quasi-Poisson GLM with a
    trend kept only when significant (p < 0.05), at least three years back, and not predicting above every
    reference count; past outbreaks down-weighted by their Anscombe residuals (weight proportional to s^-2 above
    ``reweight_threshold`` = 2.58, the improved method's value; the original used 1); dispersion
    phi = max(1, Pearson / (n - p)); the bound from the negative binomial with mean mu and variance phi x mu
    (Noufaily et al.), or from Farrington's 2/3-power transformation with ``threshold="power"``.

- :func:`alerts`: the exceedance p-value P(Y >= y) of each observed count under its week's predictive
  distribution, adjusted across the areas of each week (Benjamini-Hochberg or Bonferroni); an alert where the
  adjusted p-value is <= ``alpha``. With ``control="none"`` and the bound at level 1 - alpha, an alert is exactly
  "observed above the upper bound".
- :func:`backtest`: alerts scored against planted outbreaks (the synthetic city's ``truth.json``): sensitivity,
  false alarms per area-week outside the outbreaks, and weeks (days) to detection.

Weeks are rows of a weekly axis (a DatetimeIndex of week starts, or positions). The count of a week is known at
its end, so an alert raised on an outbreak's first week comes 7 days after the outbreak began.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from safercities.errors import InputError, check_choice
from safercities.stats.inference import adjust_pvalues
from safercities.stats.provenance import stamp

__all__ = ["AlertResult", "BacktestResult", "BaselineResult", "alerts", "backtest", "baseline"]

METHODS = ("negbin", "farrington")
CONTROLS = ("fdr_bh", "bonferroni", "none")
WEEKS_PER_YEAR = 365.25 / 7.0
RIDGE = 0.1
"""Penalty on the non-intercept coefficients of the negbin IRLS (a N(0, sd 3) prior on each): it keeps a sparse
area's trend finite when all its events fall at one end of the window, and moves a well-determined fit by far less
than its standard error."""
Float = NDArray[np.float64]


# -- input ------------------------------------------------------------------------------------------------------
def _as_matrix(counts: pd.DataFrame | ArrayLike, where: str) -> tuple[Float, tuple[str, ...], pd.Index]:
    """Counts as a float (areas x weeks) matrix with NaN for missing weeks, the area ids and the week axis."""
    if isinstance(counts, pd.DataFrame):
        areas = tuple(str(a) for a in counts.index)
        weeks: pd.Index = counts.columns
        if isinstance(weeks, pd.PeriodIndex):
            weeks = weeks.to_timestamp()
        try:
            y = counts.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: counts must be numeric (areas as rows, weeks as columns).") from exc
    else:
        y = np.asarray(counts, dtype=np.float64)
        if y.ndim == 1:
            y = y[None, :]
        areas = tuple(str(i) for i in range(y.shape[0]))
        weeks = pd.Index(np.arange(y.shape[1] if y.ndim == 2 else 0), name="week")
    if y.ndim != 2:
        raise InputError(f"{where}: counts must be a 2-D (areas x weeks) table. Got {y.ndim} dimensions.")
    if y.shape[1] < 2:
        raise InputError(f"{where}: counts hold {y.shape[1]} week(s); a baseline needs past weeks to learn from.")
    ok = np.isfinite(y)
    if np.any(y[ok] < 0) or np.any(y[ok] != np.round(y[ok])):
        raise InputError(f"{where}: counts must be non-negative integers (NaN marks a week without data).")
    return y, areas, pd.Index(weeks)


def _time_axis(weeks: pd.Index) -> Float:
    """Each week's position in years: from its date when the axis has dates, else week number / 52.18."""
    if isinstance(weeks, pd.DatetimeIndex):
        days = (weeks - pd.Timestamp("2000-01-03")) / pd.Timedelta(days=1)
        return np.asarray(days, dtype=np.float64) / 365.25
    return np.arange(len(weeks), dtype=np.float64) / WEEKS_PER_YEAR


# -- predictive distribution -------------------------------------------------------------------------------------
def _nb_sf(y: Float, mu: Float, a: Float) -> Float:
    """P(Y >= y) under NB2(mu, a) (Poisson where a is ~0); NaN where mu or y is NaN."""
    out = np.full(np.shape(y), np.nan)
    ok = np.isfinite(y) & np.isfinite(mu) & np.isfinite(a)
    yy, mm, aa = y[ok], np.maximum(mu[ok], 1e-12), a[ok]
    pois = aa < 1e-9
    res = np.empty(yy.size)
    res[pois] = stats.poisson.sf(yy[pois] - 1, mm[pois])
    n = 1.0 / aa[~pois]
    res[~pois] = stats.nbinom.sf(yy[~pois] - 1, n, n / (n + mm[~pois]))
    out[ok] = np.where(yy <= 0, 1.0, res)
    return out


def _nb_ppf(q: float, mu: Float, a: Float) -> Float:
    """The q-quantile of NB2(mu, a) (Poisson where a is ~0); NaN where mu is NaN."""
    out = np.full(np.shape(mu), np.nan)
    ok = np.isfinite(mu) & np.isfinite(a)
    mm, aa = np.maximum(mu[ok], 1e-12), a[ok]
    pois = aa < 1e-9
    res = np.empty(mm.size)
    res[pois] = stats.poisson.ppf(q, mm[pois])
    n = 1.0 / aa[~pois]
    res[~pois] = stats.nbinom.ppf(q, n, n / (n + mm[~pois]))
    out[ok] = res
    return out


# -- results -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BaselineResult:
    """Expected counts and upper prediction bounds per area and week (NaN where there was too little history).

    ``dispersion`` is the NB2 dispersion a of each week's predictive distribution (variance mu + a mu^2), parameter
    uncertainty included; ``history`` the number of past weeks with data the week's model was fitted on.
    """

    areas: tuple[str, ...]
    weeks: pd.Index
    observed: Float
    expected: Float
    upper: Float
    dispersion: Float
    history: NDArray[np.int64]
    level: float
    method: str
    notes: tuple[str, ...]
    provenance: dict[str, Any] = field(repr=False)
    pvalue_mean: Float = field(repr=False, default_factory=lambda: np.empty(0))
    """The mean the p-values use: ``expected``, except 0.5 / history after a history without a single event."""

    def pvalues(self, observed: ArrayLike | None = None) -> Float:
        """P(Y >= observed) for each area-week under its predictive distribution (NaN without a baseline)."""
        y = self.observed if observed is None else np.asarray(observed, dtype=np.float64)
        mean = self.pvalue_mean if self.pvalue_mean.shape == self.expected.shape else self.expected
        return _nb_sf(np.asarray(y, dtype=np.float64), mean, self.dispersion)

    def to_frame(self) -> pd.DataFrame:
        """One row per area and week: observed, expected, upper, dispersion, history."""
        a, t = self.observed.shape
        return pd.DataFrame(
            {
                "area_id": np.repeat(np.asarray(self.areas, dtype=object), t),
                "week": np.tile(np.asarray(self.weeks), a),
                "observed": self.observed.ravel(),
                "expected": self.expected.ravel(),
                "upper": self.upper.ravel(),
                "dispersion": self.dispersion.ravel(),
                "history": self.history.ravel(),
            }
        )

    def summary(self) -> str:
        done = np.isfinite(self.expected)
        lines = [
            f"Early-warning baseline ({self.method}): {len(self.areas)} areas x {len(self.weeks)} weeks; "
            f"{int(done.sum())} area-weeks have a baseline (upper bound at {self.level:.1%}).",
            f"Observed above the bound in {int(np.sum(self.observed[done] > self.upper[done]))} of them.",
        ]
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])


@dataclass(frozen=True)
class AlertResult:
    """Exceedance p-values per area-week, adjusted across the areas of each week, and the alerts they give."""

    areas: tuple[str, ...]
    weeks: pd.Index
    observed: Float
    expected: Float
    upper: Float
    pvalue: Float
    adjusted: Float
    alert: NDArray[np.bool_]
    alpha: float
    control: str
    notes: tuple[str, ...]
    provenance: dict[str, Any] = field(repr=False)

    @property
    def n_alerts(self) -> int:
        return int(self.alert.sum())

    def to_frame(self) -> pd.DataFrame:
        """One row per alert: area, week, observed, expected, upper bound, p-value and adjusted p-value."""
        i, t = np.nonzero(self.alert)
        return pd.DataFrame(
            {
                "area_id": np.asarray(self.areas, dtype=object)[i],
                "week": np.asarray(self.weeks)[t],
                "observed": self.observed[i, t],
                "expected": self.expected[i, t],
                "upper": self.upper[i, t],
                "p_value": self.pvalue[i, t],
                "p_adjusted": self.adjusted[i, t],
            }
        ).sort_values(["week", "p_value"], kind="stable", ignore_index=True)

    def summary(self) -> str:
        tested = int(np.isfinite(self.pvalue).sum())
        rule = {"fdr_bh": "false discovery rate", "bonferroni": "family-wise error (Bonferroni)", "none": "level"}
        lines = [
            f"Early-warning alerts: {self.n_alerts} of {tested} area-weeks tested "
            f"({rule[self.control]} {self.alpha:g} across the areas of each week).",
        ]
        if self.n_alerts:
            top = self.to_frame().nsmallest(min(5, self.n_alerts), "p_value")
            for row in top.itertuples():
                lines.append(
                    f"  {row.area_id} week {row.week}: {row.observed:g} observed, {row.expected:.1f} expected "
                    f"(bound {row.upper:g}), p = {row.p_value:.2g}"
                )
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])


@dataclass(frozen=True)
class BacktestResult:
    """Alerts scored against planted outbreaks: one row per outbreak in ``outbreaks``, rates overall."""

    outbreaks: pd.DataFrame
    sensitivity: float
    false_alarm_rate: float
    false_alarms: int
    area_weeks_outside: int
    median_weeks_to_detection: float
    median_days_to_detection: float
    alpha: float
    control: str
    method: str
    notes: tuple[str, ...]
    provenance: dict[str, Any] = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        return self.outbreaks.copy()

    def summary(self) -> str:
        scored = int(self.outbreaks["evaluable"].sum())
        lines = [
            f"Backtest ({self.method}, {self.control} at {self.alpha:g}): {int(self.outbreaks['detected'].sum())} "
            f"of {scored} outbreaks detected (sensitivity {self.sensitivity:.0%}); median time to detection "
            f"{self.median_days_to_detection:g} days; {self.false_alarms} false alarms in "
            f"{self.area_weeks_outside} area-weeks outside outbreaks ({self.false_alarm_rate:.2%} per area-week).",
        ]
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])


def _gram(w: Float, x: Float) -> Float:
    """X' diag(w_a) X for every row a of ``w`` at once (areas x p x p)."""
    return np.asarray(np.matmul(x.T[None, :, :] * w[:, None, :], x), dtype=np.float64)


# -- negative binomial GLM, all areas at once ---------------------------------------------------------------------
def _irls(
    x: Float, y: Float, w_obs: Float, a: Float, beta: Float | None, iterations: int = 50
) -> tuple[Float, Float, bool]:
    """NB2 (log link) IRLS for every row of ``y`` at once: returns coefficients, X'WX + ridge, converged.

    ``w_obs`` is 1 for an observed week and 0 for a missing one (or a prior weight); ``a`` is each row's dispersion.
    """
    n_rows, p = y.shape[0], x.shape[1]
    ridge = np.full(p, RIDGE)
    ridge[0] = 0.0
    if beta is None:
        mean = np.sum(w_obs * y, axis=1) / np.maximum(np.sum(w_obs, axis=1), 1.0)
        beta = np.zeros((n_rows, p))
        beta[:, 0] = np.log(np.maximum(mean, 1e-3))
    converged = False
    for _ in range(iterations):
        eta = np.clip(beta @ x.T, -30.0, 30.0)
        mu = np.exp(eta)
        w = w_obs * mu / (1.0 + a[:, None] * mu)
        z = eta + (y - mu) / mu
        info = _gram(w, x) + np.diag(ridge)[None]
        score = np.einsum("at,tp->ap", w * z, x)
        new = np.linalg.solve(info, score[..., None])[..., 0]
        step = np.max(np.abs(new - beta)) if new.size else 0.0
        beta = new
        if step < 1e-7:
            converged = True
            break
    eta = np.clip(beta @ x.T, -30.0, 30.0)
    mu = np.exp(eta)
    w = w_obs * mu / (1.0 + a[:, None] * mu)
    info = _gram(w, x) + np.diag(ridge)[None]
    return beta, info, converged


def _moment_dispersion(y: Float, mu: Float, w_obs: Float, p: int, pooled: bool) -> Float:
    """Cameron-Trivedi moment estimate of the NB2 dispersion: sum((y - mu)^2 n/(n - p) - y) / sum(mu^2), >= 0."""
    n = np.sum(w_obs, axis=1)
    inflate = n / np.maximum(n - p, 1.0)
    num = np.sum(w_obs * (y - mu) ** 2, axis=1) * inflate - np.sum(w_obs * y, axis=1)
    den = np.sum(w_obs * mu**2, axis=1)
    if pooled:
        value = max(0.0, float(num.sum() / den.sum())) if den.sum() > 0 else 0.0
        return np.full(y.shape[0], value)
    return np.asarray(np.where(den > 0, np.maximum(num / np.where(den > 0, den, 1.0), 0.0), 0.0), dtype=np.float64)


def _design(years: Float, harmonics: int, trend: bool, anchor: float) -> Float:
    cols = [np.ones_like(years)]
    if trend:
        cols.append(years - anchor)
    for k in range(1, harmonics + 1):
        cols += [np.cos(2 * np.pi * k * years), np.sin(2 * np.pi * k * years)]
    return np.column_stack(cols)


def _negbin(
    y: Float, years: Float, *, window: int | None, min_history: int, harmonics: int, trend: bool, pooled: bool,
    gap: int, notes: list[str],
) -> tuple[Float, Float, NDArray[np.int64]]:  # fmt: skip
    """Expected counts, predictive dispersions and history sizes by weekly refits on past weeks only."""
    n_areas, n_weeks = y.shape
    expected = np.full(y.shape, np.nan)
    disp = np.full(y.shape, np.nan)
    history = np.zeros(y.shape, dtype=np.int64)
    observed = np.isfinite(y)
    y0 = np.where(observed, y, 0.0)
    beta: Float | None = None
    not_converged = 0
    for t in range(1, n_weeks):
        hi = max(0, t - gap)  # the guard band: the last ``gap`` weeks are not learnt from
        lo = 0 if window is None else max(0, hi - window)
        if hi <= lo:
            continue
        have = observed[:, lo:hi]
        history[:, t] = have.sum(axis=1)
        rows = np.flatnonzero(history[:, t] >= min_history)
        if rows.size == 0:
            continue
        yy, ww = y0[rows, lo:hi], have[rows].astype(np.float64)
        zero = np.sum(yy * ww, axis=1) == 0
        fit = rows[~zero]
        # an area without a single event in its history: expected 0 for the report, and a Jeffreys-type mean
        # 0.5 / history for the p-value (one event after a long quiet run is then unusual, not impossible)
        expected[rows[zero], t] = 0.0
        disp[rows[zero], t] = 0.0
        if fit.size == 0:
            continue
        x = _design(np.append(years[lo:hi], years[t]), harmonics, trend, anchor=float(years[t]))
        xp, xt = x[:-1], x[-1]
        yy, ww = y0[fit, lo:hi], have[fit].astype(np.float64)
        a = np.zeros(fit.size)
        start = beta[fit] if beta is not None and beta.shape == (n_areas, x.shape[1]) else None
        for _ in range(2):  # alternate coefficients and dispersion
            b, info, ok = _irls(xp, yy, ww, a, start)
            mu = np.exp(np.clip(b @ xp.T, -30, 30))
            a = _moment_dispersion(yy, mu, ww, x.shape[1], pooled)
            start = b
        b, info, ok = _irls(xp, yy, ww, a, start)
        not_converged += 0 if ok else 1
        full = np.zeros((n_areas, x.shape[1])) if beta is None or beta.shape[1] != x.shape[1] else beta
        full[fit] = b
        beta = full
        cov = np.linalg.inv(info)
        var_eta = np.einsum("p,apq,q->a", xt, cov, xt)
        expected[fit, t] = np.exp(np.clip(b @ xt, -30, 30))
        disp[fit, t] = a + var_eta
    if not_converged:
        notes.append(
            f"IRLS did not converge in {not_converged} weekly refit(s); those weeks' baselines are provisional."
        )
    return expected, disp, history


# -- Farrington ---------------------------------------------------------------------------------------------------
def _farrington(
    y: Float, *, b: int, w: int, reweight_threshold: float, trend: bool, notes: list[str]
) -> tuple[Float, Float, Float, NDArray[np.int64]]:
    """Expected counts, phi, var(eta) and reference sizes, week by week, all areas at once."""
    n_areas, n_weeks = y.shape
    expected = np.full(y.shape, np.nan)
    phi_out = np.full(y.shape, np.nan)
    var_out = np.full(y.shape, np.nan)
    history = np.zeros(y.shape, dtype=np.int64)
    observed = np.isfinite(y)
    y0 = np.where(observed, y, 0.0)
    z_trend = stats.norm.ppf(0.975)
    for t in range(n_weeks):
        idx = []
        for k in range(1, b + 1):
            centre = t - int(round(k * WEEKS_PER_YEAR))
            idx += [j for j in range(centre - w, centre + w + 1) if 0 <= j < t]
        if len(idx) < 2 * w + 1:
            continue
        ref = np.asarray(sorted(set(idx)))
        have = observed[:, ref].astype(np.float64)
        history[:, t] = have.sum(axis=1).astype(np.int64)
        rows = np.flatnonzero(history[:, t] >= 2 * w + 1)
        if rows.size == 0:
            continue
        yy, ww = y0[np.ix_(rows, ref)], have[rows]
        zero = np.sum(yy * ww, axis=1) == 0
        expected[rows[zero], t], phi_out[rows[zero], t], var_out[rows[zero], t] = 0.0, 1.0, 0.0
        rows, yy, ww = rows[~zero], yy[~zero], ww[~zero]
        if rows.size == 0:
            continue
        years_back = (t - ref) / WEEKS_PER_YEAR
        x_full = np.column_stack([np.ones(ref.size), -years_back])  # time in years, 0 at the current week
        x_flat = x_full[:, :1]
        use_trend = trend and (years_back.max() >= 3.0 - (w + 0.5) / WEEKS_PER_YEAR)
        mu0, phi, var = _farrington_fit(x_flat, yy, ww, reweight_threshold)
        if use_trend:
            mu1, phi1, var1, slope, se = _farrington_fit(x_full, yy, ww, reweight_threshold, with_slope=True)
            keep = (np.abs(slope) > z_trend * se) & (mu1 <= np.max(np.where(ww > 0, yy, -np.inf), axis=1))
            mu0, phi, var = np.where(keep, mu1, mu0), np.where(keep, phi1, phi), np.where(keep, var1, var)
        expected[rows, t], phi_out[rows, t], var_out[rows, t] = mu0, phi, var
    return expected, phi_out, var_out, history


def _farrington_fit(x: Float, y: Float, w_obs: Float, threshold: float, with_slope: bool = False) -> Any:
    """Quasi-Poisson fit, Anscombe-residual reweighting, refit; prediction at time 0 with phi and var(eta)."""
    p = x.shape[1]
    n = w_obs.sum(axis=1)
    weights = w_obs.copy()
    zeros = np.zeros(y.shape[0])
    beta, info, _ = _irls_plain(x, y, weights, zeros)
    for _ in range(2):
        mu = np.exp(beta @ x.T)
        pearson = np.sum(weights * (y - mu) ** 2 / mu, axis=1)
        phi = np.maximum(1.0, pearson / np.maximum(n - p, 1.0))
        cov = np.linalg.inv(info)
        lev = np.einsum("at,tp,apq,tq->at", weights * mu, x, cov, x)
        s = 1.5 * (y ** (2 / 3) - mu ** (2 / 3)) / (mu ** (1 / 6) * np.sqrt(phi[:, None] * np.maximum(1 - lev, 1e-6)))
        raw = np.where(s > threshold, 1.0 / np.maximum(s, 1e-12) ** 2, 1.0) * w_obs
        gamma = n / np.maximum(raw.sum(axis=1), 1e-12)
        weights = raw * gamma[:, None]
        beta, info, _ = _irls_plain(x, y, weights, beta)
    mu = np.exp(beta @ x.T)
    pearson = np.sum(weights * (y - mu) ** 2 / mu, axis=1)
    phi = np.maximum(1.0, pearson / np.maximum(n - p, 1.0))
    cov = np.linalg.inv(info) * phi[:, None, None]
    mu_now = np.exp(beta[:, 0])
    var_eta = cov[:, 0, 0]
    if with_slope:
        return mu_now, phi, var_eta, beta[:, 1], np.sqrt(cov[:, 1, 1])
    return mu_now, phi, var_eta


def _irls_plain(x: Float, y: Float, weights: Float, start: Float) -> tuple[Float, Float, bool]:
    """Poisson IRLS with prior weights (no ridge); ``start`` is (rows,) intercepts or (rows, p) coefficients."""
    if start.ndim == 1:
        mean = np.sum(weights * y, axis=1) / np.maximum(weights.sum(axis=1), 1e-12)
        beta = np.zeros((y.shape[0], x.shape[1]))
        beta[:, 0] = np.log(np.maximum(mean, 1e-6))
    else:
        beta = start.copy()
    converged = False
    for _ in range(50):
        mu = np.exp(np.clip(beta @ x.T, -30, 30))
        wt = weights * mu
        info = _gram(wt, x) + 1e-10 * np.eye(x.shape[1])[None]
        score = np.einsum("at,tp->ap", weights * (y - mu), x)
        step = np.linalg.solve(info, score[..., None])[..., 0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-9:
            converged = True
            break
    mu = np.exp(np.clip(beta @ x.T, -30, 30))
    info = _gram(weights * mu, x) + 1e-10 * np.eye(x.shape[1])[None]
    return beta, info, converged


# -- public functions ---------------------------------------------------------------------------------------------
def baseline(
    counts: pd.DataFrame | ArrayLike,
    *,
    method: str = "negbin",
    alpha: float = 0.01,
    window: int | None = 156,
    min_history: int = 52,
    gap: int = 4,
    harmonics: int = 1,
    trend: bool = True,
    dispersion: str = "pooled",
    b: int = 3,
    w: int = 3,
    reweight_threshold: float = 2.58,
    threshold: str = "nb",
) -> BaselineResult:
    """Expected count and upper (1 - alpha) prediction bound per area (row) and week (column), from the past only.

    ``counts``: areas x weeks (a DataFrame with area ids as index and week starts as columns, or an array); NaN
    marks a week without data. negbin: ``window`` past weeks (None: all) ending ``gap`` weeks before the week
    (a guard band, so that an outbreak's first weeks do not raise the baseline of its next), at least
    ``min_history`` of them,
    ``harmonics`` annual Fourier pairs, a linear ``trend``, ``dispersion`` "pooled" over areas or per "area".
    farrington: ``b`` years back, ``w`` weeks either side, ``reweight_threshold``, ``threshold`` "nb" or "power".
    """
    where = "baseline"
    check_choice("method", method, METHODS, where)
    check_choice("dispersion", dispersion, ("pooled", "area"), where)
    check_choice("threshold", threshold, ("nb", "power"), where)
    if not 0.0 < alpha < 0.5:
        raise InputError(f"The 'alpha' parameter of baseline must be in (0, 0.5). Got {alpha!r} instead.")
    checks = (("min_history", min_history, 2), ("harmonics", harmonics, 0), ("b", b, 1), ("w", w, 0), ("gap", gap, 0))
    for name, value, low in checks:
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
            raise InputError(f"The '{name}' parameter of baseline must be an integer >= {low}. Got {value!r} instead.")
    if window is not None and not (isinstance(window, int) and window >= min_history):
        raise InputError(
            f"The 'window' parameter of baseline must be None or an integer >= min_history. Got {window!r}."
        )
    y, areas, weeks = _as_matrix(counts, where)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # exp/log of masked cells; results are masked below
        if method == "negbin":
            if y.shape[1] <= min_history + gap:
                raise InputError(
                    f"baseline: {y.shape[1]} weeks of counts cannot give a baseline fitted on min_history="
                    f"{min_history} past weeks and a gap of {gap}; give more weeks or lower min_history."
                )
            mu, disp, history = _negbin(
                y, _time_axis(weeks), window=window, min_history=min_history, harmonics=harmonics, trend=trend,
                pooled=dispersion == "pooled", gap=gap, notes=notes,
            )  # fmt: skip
            hist_for_zero = history
        else:
            if y.shape[1] <= int(round(WEEKS_PER_YEAR)) - w:
                raise InputError(
                    f"baseline: the Farrington method compares a week with the same weeks of past years; "
                    f"{y.shape[1]} weeks hold no past year."
                )
            mu, phi, var_eta, history = _farrington(
                y, b=b, w=w, reweight_threshold=reweight_threshold, trend=trend, notes=notes
            )
            safe = np.where(mu > 0, mu, 1.0)
            disp = np.where(mu > 0, (phi - 1.0) / safe + var_eta, 0.0)
            disp = np.where(np.isfinite(mu), disp, np.nan)
            hist_for_zero = history
        upper = _nb_ppf(1.0 - alpha, mu, disp)
        if method == "farrington" and threshold == "power":
            zq = stats.norm.ppf(1.0 - alpha)
            tau = np.where(mu > 0, (phi / np.where(mu > 0, mu, 1.0)) + var_eta, 0.0)
            upper = np.where(np.isfinite(mu), mu * (1.0 + (2.0 / 3.0) * zq * np.sqrt(tau)) ** 1.5, np.nan)
    quiet = np.isfinite(mu) & (mu == 0)
    if quiet.any():
        notes.append(
            f"{int(quiet.sum())} area-week(s) follow a history without a single event: expected 0, and p-values from "
            "a Poisson mean of 0.5 / (weeks of history)."
        )
    short = [areas[i] for i in range(len(areas)) if not np.isfinite(mu[i]).any()]
    if short:
        shown = ", ".join(short[:5]) + (" ..." if len(short) > 5 else "")
        notes.append(f"{len(short)} area(s) have too little history for any baseline: {shown}.")
    # the p-value of an all-quiet history uses the Jeffreys-type mean; the reported expectation stays 0
    p_mean = np.where(quiet, 0.5 / np.maximum(hist_for_zero, 1), mu)
    dispersion_out = np.where(quiet, 0.0, disp)
    params = {
        "method": method, "alpha": alpha, "window": window, "min_history": min_history, "gap": gap,
        "harmonics": harmonics,
        "trend": trend, "dispersion": dispersion, "b": b, "w": w, "reweight_threshold": reweight_threshold,
        "threshold": threshold,
    }  # fmt: skip
    result = BaselineResult(
        areas=areas,
        weeks=weeks,
        observed=y,
        expected=mu,
        upper=upper,
        dispersion=dispersion_out,
        history=history,
        level=1.0 - alpha,
        method=method,
        notes=tuple(notes),
        provenance=stamp("safercities.stats.earlywarning.baseline", params, y),
        pvalue_mean=p_mean,
    )
    return result


def alerts(
    observed: pd.DataFrame | ArrayLike | None,
    baseline_result: BaselineResult,
    *,
    alpha: float = 0.01,
    control: str = "fdr_bh",
) -> AlertResult:
    """Exceedance p-values, adjusted across the areas of each week by ``control``; alerts where adjusted p <= alpha.

    ``observed`` defaults to the counts the baseline was computed from (None); another table must have its shape.
    """
    check_choice("control", control, CONTROLS, "alerts")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"The 'alpha' parameter of alerts must be in (0, 1). Got {alpha!r} instead.")
    base = baseline_result
    if observed is None:
        y = base.observed
    else:
        y, _, _ = _as_matrix(observed, "alerts")
        if y.shape != base.observed.shape:
            raise InputError(f"alerts: observed has shape {y.shape}; the baseline has {base.observed.shape}.")
    p = base.pvalues(y)
    adjusted = np.full(p.shape, np.nan)
    for t in range(p.shape[1]):
        col = p[:, t]
        if np.isfinite(col).any():
            adjusted[:, t] = adjust_pvalues(col, control)
    alert = np.isfinite(adjusted) & (adjusted <= alpha)
    params = {"alpha": alpha, "control": control, "baseline_method": base.method}
    return AlertResult(
        areas=base.areas,
        weeks=base.weeks,
        observed=y,
        expected=base.expected,
        upper=base.upper,
        pvalue=p,
        adjusted=adjusted,
        alert=alert,
        alpha=alpha,
        control=control,
        notes=base.notes,
        provenance=stamp("safercities.stats.earlywarning.alerts", params, y, base.expected),
    )


def backtest(
    counts: pd.DataFrame | Mapping[str, pd.DataFrame],
    outbreaks: pd.DataFrame,
    *,
    alpha: float = 0.01,
    control: str = "fdr_bh",
    **baseline_options: Any,
) -> BacktestResult:
    """Baseline and alerts on weekly counts with planted outbreaks, scored against the outbreaks.

    ``counts``: one areas x weeks table (DatetimeIndex columns of week starts), or a mapping offence -> table.
    ``outbreaks``: one row each with ``area_id``, ``start`` and ``end`` (dates, end exclusive; as the synthetic
    city's ``truth.json`` writes them) and, with a mapping, ``offence`` (its key). An outbreak is detected when an
    alert falls on its area in a week that starts within [start, end); weeks to detection counts that week as 1
    (the week's count is known at its end), days = 7 x weeks. False alarms are alerts on area-weeks outside every
    outbreak of the same table, per such area-week with a baseline.
    """
    tables = dict(counts) if isinstance(counts, Mapping) else {"": counts}
    need = {"area_id", "start", "end"} | ({"offence"} if isinstance(counts, Mapping) else set())
    missing = need - set(outbreaks.columns)
    if missing:
        raise InputError(f"backtest: outbreaks need the columns {sorted(need)}; missing {sorted(missing)}.")
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    false_alarms, outside = 0, 0
    method = str(baseline_options.get("method", "negbin"))
    for key, table in tables.items():
        if not isinstance(table.columns, pd.DatetimeIndex | pd.PeriodIndex):
            raise InputError("backtest: counts need week starts (dates) as columns.")
        base = baseline(table, alpha=alpha, **baseline_options)
        found = alerts(None, base, alpha=alpha, control=control)
        weeks = pd.DatetimeIndex(base.weeks)
        area_pos = {a: i for i, a in enumerate(base.areas)}
        inside = np.zeros(found.alert.shape, dtype=bool)
        mine = outbreaks if key == "" else outbreaks[outbreaks["offence"] == key]
        for ob in mine.itertuples(index=False):
            start, end = pd.Timestamp(ob.start), pd.Timestamp(ob.end)
            cols = np.flatnonzero((weeks >= start) & (weeks < end))
            i = area_pos.get(str(ob.area_id))
            evaluable = i is not None and cols.size > 0 and bool(np.isfinite(base.expected[i, cols]).all())
            hit = np.flatnonzero(found.alert[i, cols]) if evaluable and i is not None else np.empty(0, np.int64)
            if i is not None:
                inside[i, cols] = True
            first = int(hit[0]) + 1 if hit.size else None
            rows.append(
                {
                    **ob._asdict(),
                    "evaluable": evaluable,
                    "detected": bool(hit.size),
                    "weeks_alerted": int(hit.size),
                    "weeks_to_detection": first,
                    "days_to_detection": 7 * first if first is not None else None,
                    "observed": float(np.nansum(base.observed[i, cols])) if i is not None else np.nan,
                    "expected": float(np.nansum(base.expected[i, cols])) if i is not None else np.nan,
                }
            )
        tested = np.isfinite(found.pvalue) & ~inside
        false_alarms += int((found.alert & tested).sum())
        outside += int(tested.sum())
        notes += [n for n in base.notes if n not in notes]
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise InputError("backtest: no outbreak matches the counts given.")
    scored = frame[frame["evaluable"]]
    if len(scored) < len(frame):
        notes.append(f"{len(frame) - len(scored)} outbreak(s) fall where there is no baseline and are not scored.")
    detected = scored[scored["detected"]]
    wtd = detected["weeks_to_detection"].astype(float)
    params = {"alpha": alpha, "control": control, **baseline_options}
    return BacktestResult(
        outbreaks=frame,
        sensitivity=float(scored["detected"].mean()) if len(scored) else float("nan"),
        false_alarm_rate=false_alarms / outside if outside else float("nan"),
        false_alarms=false_alarms,
        area_weeks_outside=outside,
        median_weeks_to_detection=float(wtd.median()) if len(wtd) else float("nan"),
        median_days_to_detection=float(7 * wtd.median()) if len(wtd) else float("nan"),
        alpha=alpha,
        control=control,
        method=method,
        notes=tuple(notes),
        provenance=stamp("safercities.stats.earlywarning.backtest", params, outbreaks.astype(str).to_numpy()),
    )
