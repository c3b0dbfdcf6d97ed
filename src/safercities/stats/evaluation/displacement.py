"""Displacement and diffusion of benefits: the weighted displacement quotient and difference.

Bowers & Johnson (2003) compare a response (treated) area R, a buffer B around it and a control area C, before (a)
and after (b) the intervention:

* success measure SM = R_b / C_b - R_a / C_a (negative: the treated area improved relative to the control);
* buffer displacement measure BDM = B_b / C_b - B_a / C_a;
* weighted displacement quotient WDQ = BDM / SM: above 0 diffusion of benefits, below 0 displacement, and
  |WDQ| > 1 when the buffer's change outweighs the treated area's. Meaningful only when SM < 0;
* total net effect TNE = (R_a C_b / C_a - R_b) + (B_a C_b / C_a - B_b): crimes saved in the treated area net of
  those gained (or also saved) in the buffer, each against the control area's trend.

Wheeler & Ratcliffe (2018) give the weighted displacement difference test, with a standard error:
WDD = (T_1 - T_0) - (Ct_1 - Ct_0) + (D_1 - D_0) - (Cd_1 - Cd_0) for treated T, its control Ct, displacement
area D and its control Cd, with Var(WDD) = sum of the eight counts under independent Poisson counts. Counts can be
divided by time weights (lengths of the before and after periods) and area weights, each variance term then by the
weight squared; harm weights sum the test over crime types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from safercities.errors import InputError
from safercities.stats.evaluation.glm import check_confidence
from safercities.stats.evaluation.labels import describe, text
from safercities.stats.provenance import stamp


@dataclass(frozen=True)
class Counts:
    """Counts before and after in one area (or the sum over a set of areas)."""

    before: float
    after: float

    def __post_init__(self) -> None:
        for name in ("before", "after"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"The '{name}' count must be a non-negative number. Got {value!r} instead.")


def _counts(value: Counts | tuple[float, float], name: str) -> Counts:
    if isinstance(value, Counts):
        return value
    try:
        before, after = value
    except (TypeError, ValueError) as exc:
        raise InputError(f"The '{name}' counts must be (before, after). Got {value!r} instead.") from exc
    return Counts(float(before), float(after))


@dataclass(frozen=True)
class WDQResult:
    """The WDQ with its parts, the total net effect, and a Poisson-resampling interval."""

    estimate: float
    """WDQ (NaN when the treated area did not improve: SM >= 0)."""
    lower: float
    upper: float
    confidence: float
    success_measure: float
    buffer_measure: float
    total_net_effect: float
    tne_lower: float
    tne_upper: float
    reading: str
    """'displacement', 'diffusion' or 'no_success' (a key of the evaluation labels)."""
    treated: Counts
    buffer: Counts
    control: Counts
    assumptions: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    def assumption_texts(self, lang: str = "en") -> list[str]:
        return describe(self.assumptions, lang)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "method": ["weighted displacement quotient"],
                "wdq": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "success_measure": [self.success_measure],
                "buffer_measure": [self.buffer_measure],
                "total_net_effect": [self.total_net_effect],
                "tne_lower": [self.tne_lower],
                "tne_upper": [self.tne_upper],
                "reading": [self.reading],
            }
        )

    def summary(self, lang: str = "en") -> str:
        level = f"{self.confidence * 100:g}%"
        lines = [
            f"Success measure {self.success_measure:+.4f} (treated vs control, after minus before); buffer measure "
            f"{self.buffer_measure:+.4f}.",
            f"WDQ = {self.estimate:+.3f} ({level} resampling interval {self.lower:+.3f} to {self.upper:+.3f}): "
            f"{text(self.reading, lang)}.",
            f"Total net effect {self.total_net_effect:+.1f} crimes saved in the treated area and buffer together "
            f"({self.tne_lower:+.1f} to {self.tne_upper:+.1f}).",
            f"{text('assumptions', lang)}:",
        ]
        lines += [f"  - {t}" for t in self.assumption_texts(lang)]
        return "\n".join(lines)


def _wdq_parts(r: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(SM, BDM, WDQ, TNE) for arrays of (before, after) counts in the last axis; vectorised over draws."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sm = r[..., 1] / c[..., 1] - r[..., 0] / c[..., 0]
        bdm = b[..., 1] / c[..., 1] - b[..., 0] / c[..., 0]
        wdq = np.where(sm < 0, bdm / sm, np.nan)
        trend = c[..., 1] / c[..., 0]
        tne = (r[..., 0] * trend - r[..., 1]) + (b[..., 0] * trend - b[..., 1])
    return sm, bdm, wdq, tne


def wdq(
    treated: Counts | tuple[float, float],
    buffer: Counts | tuple[float, float],
    control: Counts | tuple[float, float],
    *,
    confidence: float = 0.95,
    draws: int = 10_000,
    seed: int = 0,
) -> WDQResult:
    """Bowers & Johnson's weighted displacement quotient for treated, buffer and control (before, after) counts."""
    check_confidence(confidence, "wdq")
    r, b, c = _counts(treated, "treated"), _counts(buffer, "buffer"), _counts(control, "control")
    if c.before <= 0 or c.after <= 0:
        raise InputError("wdq: the control area needs crimes both before and after (its counts divide the others).")
    arrays = [np.array([x.before, x.after]) for x in (r, b, c)]
    sm, bdm, quotient, tne = (float(v) for v in _wdq_parts(*arrays))
    rng = np.random.default_rng(seed)
    sampled = [rng.poisson(a, size=(draws, 2)).astype(float) for a in arrays]
    _, _, wdq_draws, tne_draws = _wdq_parts(*sampled)
    alpha = 1 - confidence
    finite = wdq_draws[np.isfinite(wdq_draws)]
    if np.isfinite(quotient) and finite.size >= 0.5 * draws:
        lower, upper = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    else:
        lower = upper = np.nan
    tne_finite = tne_draws[np.isfinite(tne_draws)]
    tne_lower, tne_upper = np.quantile(tne_finite, [alpha / 2, 1 - alpha / 2])
    reading = "no_success" if not sm < 0 else ("diffusion" if bdm < 0 else "displacement")
    return WDQResult(
        estimate=quotient,
        lower=float(lower),
        upper=float(upper),
        confidence=float(confidence),
        success_measure=sm,
        buffer_measure=bdm,
        total_net_effect=tne,
        tne_lower=float(tne_lower),
        tne_upper=float(tne_upper),
        reading=reading,
        treated=r,
        buffer=b,
        control=c,
        assumptions=("wdq.control", "wdq.buffer", "common.recording", "wdq.resampling"),
        provenance=stamp(
            "safercities.stats.evaluation.displacement.wdq",
            {"confidence": confidence, "draws": draws, "seed": seed},
            np.concatenate(arrays),
        ),  # fmt: skip
    )


@dataclass(frozen=True)
class WDDResult:
    """Wheeler & Ratcliffe's weighted displacement difference: local, displacement and total, with SEs."""

    estimate: float
    """Total: local + displacement (negative: fewer crimes than the controls' trends imply)."""
    se: float
    lower: float
    upper: float
    z: float
    p_value: float
    confidence: float
    local: float
    local_se: float
    displacement: float
    displacement_se: float
    assumptions: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    def assumption_texts(self, lang: str = "en") -> list[str]:
        return describe(self.assumptions, lang)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "method": ["weighted displacement difference"],
                "estimate": [self.estimate],
                "se": [self.se],
                "lower": [self.lower],
                "upper": [self.upper],
                "z": [self.z],
                "p_value": [self.p_value],
                "local": [self.local],
                "local_se": [self.local_se],
                "displacement": [self.displacement],
                "displacement_se": [self.displacement_se],
            }
        )

    def summary(self, lang: str = "en") -> str:
        level = f"{self.confidence * 100:g}%"
        lines = [
            f"Weighted displacement difference {self.estimate:+.2f} crimes (SE {self.se:.2f}; {level} CI "
            f"{self.lower:+.2f} to {self.upper:+.2f}; Z = {self.z:.2f}, p = {self.p_value:.3g}).",
            f"Local {self.local:+.2f} (SE {self.local_se:.2f}); displacement area {self.displacement:+.2f} "
            f"(SE {self.displacement_se:.2f}).",
            f"{text('assumptions', lang)}:",
        ]
        lines += [f"  - {t}" for t in self.assumption_texts(lang)]
        return "\n".join(lines)


def _difference(
    treat: Counts, control: Counts, time: tuple[float, float], area: tuple[float, float]
) -> tuple[float, float]:  # noqa: E501
    """(treated change - control change, its Poisson variance) with time and area weights."""
    (wp, wq), (at, ac) = time, area
    estimate = (treat.after / wq - treat.before / wp) / at - (control.after / wq - control.before / wp) / ac
    variance = (treat.after / wq**2 + treat.before / wp**2) / at**2 + (
        control.after / wq**2 + control.before / wp**2
    ) / ac**2  # noqa: E501
    return estimate, variance


def wdd(
    treated: Counts | tuple[float, float],
    control: Counts | tuple[float, float],
    displacement: Counts | tuple[float, float] | None = None,
    displacement_control: Counts | tuple[float, float] | None = None,
    *,
    time_weights: tuple[float, float] = (1.0, 1.0),
    area_weights: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
    confidence: float = 0.95,
) -> WDDResult:
    """The weighted displacement difference test (Wheeler & Ratcliffe 2018).

    ``time_weights`` = (length before, length after); ``area_weights`` = (treated, control, displacement,
    displacement control). Without a displacement area the test is the local difference-in-differences alone.
    """
    check_confidence(confidence, "wdd")
    if any(not (w > 0) for w in (*time_weights, *area_weights)):
        raise InputError("wdd: time and area weights must be positive.")
    t, ct = _counts(treated, "treated"), _counts(control, "control")
    local, local_var = _difference(t, ct, time_weights, (area_weights[0], area_weights[1]))
    disp, disp_var = 0.0, 0.0
    if (displacement is None) != (displacement_control is None):
        raise InputError("wdd: give both the displacement area and its control, or neither.")
    if displacement is not None and displacement_control is not None:
        d, cd = _counts(displacement, "displacement"), _counts(displacement_control, "displacement_control")
        disp, disp_var = _difference(d, cd, time_weights, (area_weights[2], area_weights[3]))
    return _wdd_result(local, local_var, disp, disp_var, confidence, "wdd", {"time_weights": time_weights,
                       "area_weights": area_weights})  # fmt: skip


def _wdd_result(local: float, local_var: float, disp: float, disp_var: float, confidence: float, name: str,
                parameters: dict[str, Any]) -> WDDResult:  # fmt: skip
    total, variance = local + disp, local_var + disp_var
    se = float(np.sqrt(variance))
    z_crit = stats.norm.ppf(0.5 + confidence / 2)
    z = total / se if se > 0 else float("nan")
    return WDDResult(
        estimate=float(total),
        se=se,
        lower=float(total - z_crit * se),
        upper=float(total + z_crit * se),
        z=float(z),
        p_value=float(2 * stats.norm.sf(abs(z))) if se > 0 else float("nan"),
        confidence=float(confidence),
        local=float(local),
        local_se=float(np.sqrt(local_var)),
        displacement=float(disp),
        displacement_se=float(np.sqrt(disp_var)),
        assumptions=("wdq.control", "wdq.buffer", "common.recording", "wdd.poisson"),
        provenance=stamp(f"safercities.stats.evaluation.displacement.{name}", parameters | {"confidence": confidence}),
    )


def wdd_harm(
    table: pd.DataFrame,
    *,
    weight: str = "weight",
    columns: tuple[str, str, str, str] = ("treated_pre", "treated_post", "control_pre", "control_post"),
    confidence: float = 0.95,
) -> WDDResult:
    """The WDD summed over crime types with harm weights: sum w_k WDD_k, Var = sum w_k^2 Var_k (local areas only).

    ``table`` has one row per crime type with its weight and the four counts named by ``columns``.
    """
    check_confidence(confidence, "wdd_harm")
    missing = [c for c in (weight, *columns) if c not in table.columns]
    if missing:
        raise InputError(f"wdd_harm: the table has no column(s) {missing}.")
    w = table[weight].to_numpy(dtype=float)
    counts = table[list(columns)].to_numpy(dtype=float)
    if np.any(~np.isfinite(counts)) or np.any(counts < 0) or np.any(~(w >= 0)):
        raise InputError("wdd_harm: counts and weights must be non-negative numbers.")
    t0, t1, c0, c1 = counts.T
    local = float(np.sum(w * ((t1 - t0) - (c1 - c0))))
    variance = float(np.sum(w**2 * (t0 + t1 + c0 + c1)))
    return _wdd_result(local, variance, 0.0, 0.0, confidence, "wdd_harm", {"weight": weight})
