"""Synthetic control (Abadie, Diamond & Hainmueller 2010): the treated unit against a weighted average of donors.

Predictors X (k x units: covariates and pre-period outcome summaries) are scaled by their standard deviation across
all units. For a diagonal predictor weighting V (v >= 0, sum 1) the donor weights solve

    W*(V) = argmin_W (X1 - X0 W)' V (X1 - X0 W)  subject to  W >= 0, sum W = 1,

and V is chosen to minimise the mean squared prediction error of the pre-period outcomes, MSPE(V) =
mean_t (Z1_t - Z0_t W*(V))^2 (the nested optimisation). The inner problem is solved exactly: a non-negative least
squares with a heavily weighted row of ones finds the support, and the equality-constrained least squares on that
support (its KKT system) gives the weights. The outer problem runs Nelder-Mead on a softmax parameterisation of v
from several starts (equal weights, the inverse-variance start, and seeded random ones) and keeps the best.

Inference is by placebos in space: each donor in turn is treated as if it had received the intervention, with the
other donors as its pool; the treated unit's ratio of post- to pre-period RMSPE is ranked among all units'
(p = rank / (J + 1)). The interval of the effect is the estimate minus the 2.5% and 97.5% quantiles of the placebo
effects of donors whose pre-period MSPE is within ``fit_cutoff`` times the larger of the treated unit's and the median
donor's (ADH 2010, section 4.2, screen placebos by multiples of the treated unit's MSPE; the median floor keeps a
near-perfect treated fit from screening out every placebo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize

from safercities.errors import InputError
from safercities.stats.evaluation.glm import check_confidence
from safercities.stats.evaluation.labels import describe, text
from safercities.stats.provenance import stamp

Array = NDArray[np.float64]


def simplex_least_squares(A: Array, b: Array) -> Array:
    """argmin ||A w - b||^2 over the simplex (w >= 0, sum w = 1), exact up to rounding."""
    n = A.shape[1]
    if n == 1:
        return np.ones(1)
    scale = max(1.0, float(np.abs(A).max()), float(np.abs(b).max()))
    big = 1e4 * scale
    w, _ = optimize.nnls(np.vstack([A, np.full((1, n), big)]), np.concatenate([b, [big]]), maxiter=50 * n)
    support = np.flatnonzero(w > 1e-12 * max(w.max(), 1.0))
    for _ in range(n):  # equality-constrained LS on the support; drop negatives until all are >= 0
        As = A[:, support]
        m = support.size
        kkt = np.zeros((m + 1, m + 1))
        kkt[:m, :m] = 2 * As.T @ As
        kkt[:m, m] = 1.0
        kkt[m, :m] = 1.0
        rhs = np.concatenate([2 * As.T @ b, [1.0]])
        solution = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:m]
        if np.all(solution >= -1e-12):
            out = np.zeros(n)
            out[support] = np.clip(solution, 0.0, None)
            return out / out.sum()
        support = support[solution > 0]
    out = np.clip(w, 0.0, None)
    return out / out.sum()


@dataclass(frozen=True)
class _Fit:
    weights: Array
    v: Array
    mspe: float


def _softmax(theta: Array) -> Array:
    e = np.exp(theta - theta.max())
    return e / e.sum()


def _fit(X1: Array, X0: Array, Z1: Array, Z0: Array, rng: np.random.Generator, n_random: int, evals: int) -> _Fit:
    """The nested optimisation for one treated unit: V by Nelder-Mead over several starts, W exactly."""
    k = X1.size

    def weights(v: Array) -> Array:
        root = np.sqrt(v)
        return simplex_least_squares(root[:, None] * X0, root * X1)

    def loss(theta: Array) -> float:
        w = weights(_softmax(theta))
        return float(np.mean((Z1 - Z0 @ w) ** 2))

    if k == 1:
        w = weights(np.ones(1))
        return _Fit(w, np.ones(1), float(np.mean((Z1 - Z0 @ w) ** 2)))
    spread = X0.var(axis=1) + 1e-12
    starts = [np.zeros(k), -np.log(spread) + np.log(spread).mean()]
    starts += [rng.normal(0.0, 2.0, k) for _ in range(n_random)]
    best: tuple[float, Array] | None = None
    for theta0 in starts:
        options = {"maxfev": evals * k, "xatol": 1e-4, "fatol": 1e-9, "adaptive": True}
        found = optimize.minimize(loss, theta0, method="Nelder-Mead", options=options)
        if best is None or found.fun < best[0]:
            best = (float(found.fun), found.x)
    assert best is not None
    v = _softmax(best[1])
    w = weights(v)
    return _Fit(w, v, float(np.mean((Z1 - Z0 @ w) ** 2)))


@dataclass(frozen=True)
class SynthResult:
    """The synthetic unit: donor and predictor weights, the gaps, RMSPEs, placebo inference and the assumptions."""

    estimate: float
    """Ratio of the treated unit's post-period outcome to its synthetic counterpart's (0.8 = 20% lower)."""
    lower: float
    upper: float
    confidence: float
    gap: float
    """Mean post-period gap, treated minus synthetic, in outcome units."""
    gap_lower: float
    gap_upper: float
    weights: pd.Series
    """Donor weights W (non-negative, sum 1), indexed by donor."""
    predictor_weights: pd.Series
    """Diagonal of V (sum 1), indexed by predictor."""
    predictors: pd.DataFrame
    """Predictor balance: treated, synthetic and the donors' mean, per predictor (unscaled)."""
    path: pd.DataFrame
    """period, treated, synthetic, gap."""
    pre_rmspe: float
    post_rmspe: float
    placebos: pd.DataFrame
    """unit, pre_rmspe, post_rmspe, ratio, gap, rate_ratio (the treated unit first)."""
    p_value: float
    assumptions: tuple[str, ...]
    notes: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else float("inf")

    def assumption_texts(self, lang: str = "en") -> list[str]:
        return describe(self.assumptions, lang)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "method": ["synthetic control"],
                "rate_ratio": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "p_value": [self.p_value],
                "gap": [self.gap],
                "gap_lower": [self.gap_lower],
                "gap_upper": [self.gap_upper],
                "pre_rmspe": [self.pre_rmspe],
                "post_rmspe": [self.post_rmspe],
            }
        )

    def summary(self, lang: str = "en") -> str:
        top = self.weights[self.weights > 0.001].sort_values(ascending=False)
        donors = ", ".join(f"{name} {w:.3f}" for name, w in top.items())
        level = f"{self.confidence * 100:g}%"
        lines = [
            f"Synthetic control from {len(self.weights)} donors: {donors}.",
            f"Pre-period RMSPE {self.pre_rmspe:.4g}; post-period RMSPE {self.post_rmspe:.4g} (ratio {self.ratio:.3g}).",
            f"Outcome ratio after the start {self.estimate:.3f} ({level} placebo interval {self.lower:.3f} to "
            f"{self.upper:.3f}); mean gap {self.gap:+.4g} ({self.gap_lower:+.4g} to {self.gap_upper:+.4g}).",
            f"Placebo-in-space p-value (rank of the post/pre RMSPE ratio among {len(self.placebos)} units): "
            f"{self.p_value:.3g}.",
        ]
        lines += [f"Note: {n}" for n in self.notes]
        lines.append(f"{text('assumptions', lang)}:")
        lines += [f"  - {t}" for t in self.assumption_texts(lang)]
        return "\n".join(lines)


def _scaled(X: Array) -> Array:
    sd = X.std(axis=1, ddof=1)
    sd[~(sd > 0)] = 1.0
    return X / sd[:, None]


def synth(
    outcome: pd.DataFrame,
    treated: Any,
    start: Any,
    *,
    predictors: pd.DataFrame | None = None,
    donors: list[Any] | None = None,
    fit_window: tuple[Any, Any] | None = None,
    placebo: bool = True,
    fit_cutoff: float = 5.0,
    confidence: float = 0.95,
    n_random_starts: int = 4,
    seed: int = 0,
) -> SynthResult:
    """Synthetic control for unit ``treated`` from period ``start`` on.

    ``outcome``: periods (rows, sorted) x units (columns). ``predictors``: predictor (rows) x units (columns); by
    default the means of the pre-period outcome over up to six consecutive blocks. ``fit_window`` = (first, last)
    periods whose outcomes V is chosen to fit (default: the whole pre-period). ``placebo`` runs the placebo-in-space
    inference (one nested optimisation per donor).
    """
    check_confidence(confidence, "synth")
    if not isinstance(outcome, pd.DataFrame):
        raise InputError("synth: outcome must be a DataFrame of periods (rows) x units (columns).")
    frame = outcome.sort_index()
    if treated not in frame.columns:
        raise InputError(f"synth: the treated unit {treated!r} is not a column of the outcome table.")
    pool = [u for u in (donors if donors is not None else frame.columns) if u != treated]
    missing = [u for u in pool if u not in frame.columns]
    if missing or len(pool) < 2:
        raise InputError(f"synth: needs at least two donors that are columns of the outcome; missing {missing}.")
    values = frame[[treated, *pool]].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise InputError("synth: the outcome table has missing or infinite values.")
    periods = frame.index.to_numpy()
    first_post = int(np.searchsorted(periods, start, side="left"))
    if first_post < 2 or first_post >= len(periods):
        raise InputError(f"synth: the start {start!r} must leave at least two periods before it and one after.")
    fit_rows = np.arange(first_post)
    if fit_window is not None:
        fit_rows = np.flatnonzero(
            (periods >= fit_window[0]) & (periods <= fit_window[1]) & (np.arange(len(periods)) < first_post)
        )  # noqa: E501
    if predictors is None:
        blocks = np.array_split(np.arange(first_post), min(first_post, 6))
        names = [f"outcome {periods[b[0]]}..{periods[b[-1]]}" for b in blocks]
        predictors = pd.DataFrame([values[b].mean(axis=0) for b in blocks], index=names, columns=[treated, *pool])
    else:
        absent = [u for u in [treated, *pool] if u not in predictors.columns]
        if absent:
            raise InputError(f"synth: the predictors table has no column for {absent[:5]}.")
    X_raw = predictors[[treated, *pool]].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(X_raw)):
        raise InputError("synth: the predictors table has missing values.")
    X = _scaled(X_raw)
    rng = np.random.default_rng(seed)

    def run(i: int, pool_idx: list[int], n_random: int, evals: int) -> tuple[_Fit, Array]:
        others = np.asarray(pool_idx, dtype=np.int64)
        fit = _fit(X[:, i], X[:, others], values[fit_rows, i], values[np.ix_(fit_rows, others)], rng, n_random, evals)
        return fit, values[:, i] - values[:, others] @ fit.weights

    donors_idx = list(range(1, len(pool) + 1))
    main, gaps = run(0, donors_idx, n_random_starts, 300)
    synthetic = values[:, 0] - gaps

    def summarise(unit: Any, gap: Array, series: Array) -> dict[str, Any]:
        pre, post = gap[:first_post], gap[first_post:]
        counter = (series - gap)[first_post:]
        return {
            "unit": unit,
            "pre_rmspe": float(np.sqrt(np.mean(pre**2))),
            "post_rmspe": float(np.sqrt(np.mean(post**2))),
            "gap": float(post.mean()),
            "rate_ratio": float(series[first_post:].sum() / counter.sum()) if counter.sum() > 0 else np.nan,
        }

    rows = [summarise(treated, gaps, values[:, 0])]
    if placebo:
        for j in donors_idx:
            others = [d for d in donors_idx if d != j]
            _, g = run(j, others, 0, 60)
            rows.append(summarise(pool[j - 1], g, values[:, j]))
    table = pd.DataFrame(rows)
    table["ratio"] = table["post_rmspe"] / table["pre_rmspe"].where(table["pre_rmspe"] > 0)
    mine = table.iloc[0]
    notes: list[str] = []
    alpha = 1 - confidence
    if placebo:
        p_value = float((table["ratio"] >= mine["ratio"]).sum() / len(table))
        good = table.iloc[1:]
        floor = max(float(mine["pre_rmspe"]), float(good["pre_rmspe"].median())) ** 2
        good = good[good["pre_rmspe"] ** 2 <= fit_cutoff * floor]
        if len(good) >= 2:
            q_gap = np.quantile(good["gap"], [alpha / 2, 1 - alpha / 2])
            gap_lower, gap_upper = mine["gap"] - q_gap[1], mine["gap"] - q_gap[0]
            log_ratios = np.log(good["rate_ratio"].clip(lower=1e-12).dropna())
            q = np.quantile(log_ratios, [alpha / 2, 1 - alpha / 2]) if len(log_ratios) >= 2 else [np.nan, np.nan]
            lower, upper = mine["rate_ratio"] * np.exp(-q[1]), mine["rate_ratio"] * np.exp(-q[0])
        else:
            gap_lower = gap_upper = lower = upper = np.nan
            notes.append("fewer than two donors fit their own pre-period well enough: no placebo interval.")
        if len(table) < 20:
            notes.append(f"{len(table)} units: the smallest attainable p-value is {1 / len(table):.3f}.")
    else:
        p_value, gap_lower, gap_upper, lower, upper = (np.nan,) * 5
        notes.append("no placebos were run: no p-value and no interval.")
    weights = pd.Series(main.weights, index=pd.Index(pool, name="donor"), name="weight")
    balance = pd.DataFrame(
        {
            "treated": X_raw[:, 0],
            "synthetic": X_raw[:, 1:] @ main.weights,
            "donor_mean": X_raw[:, 1:].mean(axis=1),
        },
        index=predictors.index,
    )
    return SynthResult(
        estimate=float(mine["rate_ratio"]),
        lower=float(lower),
        upper=float(upper),
        confidence=float(confidence),
        gap=float(mine["gap"]),
        gap_lower=float(gap_lower),
        gap_upper=float(gap_upper),
        weights=weights,
        predictor_weights=pd.Series(main.v, index=predictors.index, name="v"),
        predictors=balance,
        path=pd.DataFrame({"period": periods, "treated": values[:, 0], "synthetic": synthetic, "gap": gaps}),
        pre_rmspe=float(mine["pre_rmspe"]),
        post_rmspe=float(mine["post_rmspe"]),
        placebos=table[["unit", "pre_rmspe", "post_rmspe", "ratio", "gap", "rate_ratio"]],
        p_value=p_value,
        assumptions=(
            "synth.fit",
            "synth.no_interference",
            "did.no_anticipation",
            "common.no_concurrent",
            "synth.placebo",
        ),  # fmt: skip
        notes=tuple(notes),
        provenance=stamp(
            "safercities.stats.evaluation.synth.synth",
            {
                "treated": str(treated),
                "start": str(start),
                "n_donors": len(pool),
                "placebo": placebo,
                "fit_cutoff": fit_cutoff,
                "n_random_starts": n_random_starts,
                "seed": seed,
            },
            values,
            X_raw,
        ),  # fmt: skip
    )
