"""Cost-benefit of an intervention and crime harm next to counts.

Benefit = crimes prevented x unit cost of crime, per ICCS code, from a replaceable table (shipped:
``data/crime_costs_uk_2018.csv``, UK Home Office 2018, with its source, year and currency written in the file).
Crimes prevented follow from the evaluation's rate ratio RR: the treated areas recorded ``observed`` crimes after
the start, so without the intervention they would have recorded observed / RR, and prevented = observed (1/RR - 1)
(the same RR for every offence). They are divided by the survey reporting rate when one is given, since unit
costs are per crime, recorded or not. The uncertainty of the effect is carried through by drawing log RR from its
normal sampling distribution (seeded), giving the benefit-cost ratio an interval and a probability of exceeding 1.

Harm: counts weighted by days of imprisonment per offence (Cambridge Crime Harm Index style) from a replaceable
table (``data/harm_weights_cchi.csv``), shown next to the counts.

An incident's ICCS code takes the figure of the longest code in the table that it starts with (05021 -> 05021,
05029 -> 0502); codes without one are listed as uncosted (or unweighted), never silently counted as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities.errors import InputError
from safercities.stats.evaluation.labels import describe, text
from safercities.stats.provenance import stamp

COSTS_FILE = "crime_costs_uk_2018.csv"
HARM_FILE = "harm_weights_cchi.csv"


def _read_table(path: Path | str | None, default: str, value: str, extra: tuple[str, ...]) -> pd.DataFrame:
    source = Path(path) if path is not None else Path(str(resources.files("safercities") / "data" / default))
    try:
        table = pd.read_csv(source, comment="#", dtype={"iccs_code": str}, encoding="utf-8-sig")
    except (FileNotFoundError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read the table: {exc}", file=source) from exc
    missing = [c for c in ("iccs_code", value, *extra) if c not in table.columns]
    if missing:
        raise InputError(f"the table has no column(s) {missing}; expected iccs_code, {value}, {', '.join(extra)}",
                         file=source)  # fmt: skip
    codes = table["iccs_code"].astype(str).str.strip()
    bad = ~codes.str.fullmatch(r"\d{2,6}")
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"'{codes.iloc[row]}' is not an ICCS code (2 to 6 digits)", file=source, row=row + 2,
                         column="iccs_code")  # fmt: skip
    numbers = pd.to_numeric(table[value], errors="coerce")
    wrong = ~(numbers >= 0)
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise InputError(f"'{table[value].iloc[row]}' is not a non-negative number", file=source, row=row + 2,
                         column=value)  # fmt: skip
    if codes.duplicated().any():
        raise InputError(f"the code {codes[codes.duplicated()].iloc[0]} appears twice", file=source)
    table = table.assign(iccs_code=codes, **{value: numbers.astype(float)})
    table.attrs["source"] = str(source)
    return table.reset_index(drop=True)


def unit_costs(path: Path | str | None = None) -> pd.DataFrame:
    """The unit cost table (iccs_code, offence, unit_cost, currency, price_year, ...): the shipped one or ``path``."""
    table = _read_table(path, COSTS_FILE, "unit_cost", ("currency",))
    if table["currency"].nunique() > 1:
        raise InputError(f"the cost table mixes currencies {sorted(table['currency'].unique())}; use one",
                         file=table.attrs["source"])  # fmt: skip
    return table


def harm_weights(path: Path | str | None = None) -> pd.DataFrame:
    """The harm weight table (iccs_code, offence, weight_days, ...): the shipped one or ``path``."""
    return _read_table(path, HARM_FILE, "weight_days", ())


def lookup(codes: pd.Series | list[str], table: pd.DataFrame, column: str) -> pd.Series:
    """The value of ``column`` for each ICCS code by longest matching prefix (NaN where none matches)."""
    codes = pd.Series(codes, dtype=str).reset_index(drop=True)
    out = pd.Series(np.nan, index=codes.index, dtype=float)
    depth = pd.Series(0, index=codes.index)
    for code, value in zip(table["iccs_code"], table[column], strict=True):  # a few dozen table rows
        hit = codes.str.startswith(code) & (len(code) > depth)
        out[hit] = value
        depth[hit] = len(code)
    return out


def harm_index(counts: pd.DataFrame, weights: pd.DataFrame | None = None, *, count: str = "count") -> pd.DataFrame:
    """``counts`` (with an ``iccs_code`` column) plus ``harm_weight`` (days per crime) and ``harm`` = count x weight."""
    if "iccs_code" not in counts.columns or count not in counts.columns:
        raise InputError(f"harm_index: the counts need columns iccs_code and {count}.")
    weights = harm_weights() if weights is None else weights
    out = counts.copy()
    out["harm_weight"] = lookup(out["iccs_code"], weights, "weight_days").to_numpy()
    out["harm"] = out[count].to_numpy(dtype=float) * out["harm_weight"].to_numpy()
    return out


@dataclass(frozen=True)
class BenefitCostResult:
    """Benefit-cost ratio with its interval, crimes prevented, net benefit, harm prevented, and what was uncosted."""

    estimate: float
    lower: float
    upper: float
    confidence: float
    probability_above_one: float
    benefit: float
    benefit_lower: float
    benefit_upper: float
    cost: float
    currency: str
    prevented: float
    prevented_lower: float
    prevented_upper: float
    harm_prevented: float
    harm_lower: float
    harm_upper: float
    by_offence: pd.DataFrame
    """iccs_code, observed, prevented (point estimate), unit_cost, benefit, harm_weight, harm_prevented."""
    uncosted: tuple[str, ...]
    assumptions: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def net_benefit(self) -> float:
        return self.benefit - self.cost

    def assumption_texts(self, lang: str = "en") -> list[str]:
        return describe(self.assumptions, lang)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "benefit_cost_ratio": [self.estimate],
                "lower": [self.lower],
                "upper": [self.upper],
                "probability_above_one": [self.probability_above_one],
                "benefit": [self.benefit],
                "benefit_lower": [self.benefit_lower],
                "benefit_upper": [self.benefit_upper],
                "cost": [self.cost],
                "net_benefit": [self.net_benefit],
                "currency": [self.currency],
                "prevented": [self.prevented],
                "prevented_lower": [self.prevented_lower],
                "prevented_upper": [self.prevented_upper],
                "harm_prevented_days": [self.harm_prevented],
                "harm_lower": [self.harm_lower],
                "harm_upper": [self.harm_upper],
            }
        )

    def summary(self, lang: str = "en") -> str:
        level = f"{self.confidence * 100:g}%"
        lines = [
            f"Benefit-cost ratio {self.estimate:.2f} ({level} interval {self.lower:.2f} to {self.upper:.2f}); "
            f"probability that benefits exceed costs {self.probability_above_one:.2f}.",
            f"Crimes prevented {self.prevented:.1f} ({self.prevented_lower:.1f} to {self.prevented_upper:.1f}); "
            f"benefit {self.benefit:,.0f} {self.currency} ({self.benefit_lower:,.0f} to {self.benefit_upper:,.0f}) "
            f"against a cost of {self.cost:,.0f} {self.currency}.",
            f"Harm prevented {self.harm_prevented:,.0f} sentencing days ({self.harm_lower:,.0f} to "
            f"{self.harm_upper:,.0f}).",
        ]
        if self.uncosted:
            lines.append(f"Not costed (no unit cost in the table): ICCS {', '.join(self.uncosted)}.")
        lines.append(f"{text('assumptions', lang)}:")
        lines += [f"  - {t}" for t in self.assumption_texts(lang)]
        return "\n".join(lines)


def benefit_cost(
    observed: pd.Series,
    *,
    log_rate_ratio: float,
    se: float,
    cost: float,
    costs: pd.DataFrame | None = None,
    weights: pd.DataFrame | None = None,
    reporting_rate: float | None = None,
    confidence: float = 0.95,
    draws: int = 10_000,
    seed: int = 0,
) -> BenefitCostResult:
    """Benefit-cost ratio of an intervention whose effect is the rate ratio exp(``log_rate_ratio``) (SE ``se``).

    ``observed``: crimes recorded in the treated areas after the start, indexed by ICCS code. ``cost``: what the
    intervention cost, in the cost table's currency. ``reporting_rate``: the share of crimes recorded (from a
    victimisation survey), if known.
    """
    if not (np.isfinite(cost) and cost > 0):
        raise InputError(f"The 'cost' parameter of benefit_cost must be a positive amount. Got {cost!r} instead.")
    if not (np.isfinite(log_rate_ratio) and np.isfinite(se) and se >= 0):
        raise InputError("benefit_cost: the effect needs a finite log rate ratio and a non-negative standard error.")
    if reporting_rate is not None and not 0 < reporting_rate <= 1:
        raise InputError(f"The 'reporting_rate' must be in (0, 1]. Got {reporting_rate!r} instead.")
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of benefit_cost must be in (0, 1). Got {confidence!r} instead.")
    costs = unit_costs() if costs is None else costs
    weights = harm_weights() if weights is None else weights
    counts = pd.Series(observed, dtype=float)
    if counts.isna().any() or (counts < 0).any():
        raise InputError("benefit_cost: observed counts must be non-negative numbers.")
    table = pd.DataFrame({"iccs_code": counts.index.astype(str), "observed": counts.to_numpy()})
    table["unit_cost"] = lookup(table["iccs_code"], costs, "unit_cost").to_numpy()
    table["harm_weight"] = lookup(table["iccs_code"], weights, "weight_days").to_numpy()
    scale = 1.0 / (reporting_rate or 1.0)
    costed = table["unit_cost"].notna().to_numpy()
    per_crime_cost = float((table["observed"] * table["unit_cost"]).where(costed, 0.0).sum()) * scale
    per_crime_harm = float((table["observed"] * table["harm_weight"]).fillna(0.0).sum()) * scale
    total = float(table["observed"].sum()) * scale
    rng = np.random.default_rng(seed)
    factor_draws = np.exp(-rng.normal(log_rate_ratio, se, size=draws)) - 1.0  # 1/RR - 1 per draw
    factor = float(np.exp(-log_rate_ratio) - 1.0)
    alpha = 1 - confidence

    def interval(values: np.ndarray) -> tuple[float, float]:
        low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
        return float(low), float(high)

    benefit_draws = per_crime_cost * factor_draws
    table["prevented"] = table["observed"] * factor * scale
    table["benefit"] = table["prevented"] * table["unit_cost"]
    table["harm_prevented"] = table["prevented"] * table["harm_weight"]
    currency = str(costs["currency"].iloc[0]) if "currency" in costs.columns and len(costs) else ""
    return BenefitCostResult(
        estimate=per_crime_cost * factor / cost,
        lower=interval(benefit_draws / cost)[0],
        upper=interval(benefit_draws / cost)[1],
        confidence=float(confidence),
        probability_above_one=float(np.mean(benefit_draws > cost)),
        benefit=per_crime_cost * factor,
        benefit_lower=interval(benefit_draws)[0],
        benefit_upper=interval(benefit_draws)[1],
        cost=float(cost),
        currency=currency,
        prevented=total * factor,
        prevented_lower=interval(total * factor_draws)[0],
        prevented_upper=interval(total * factor_draws)[1],
        harm_prevented=per_crime_harm * factor,
        harm_lower=interval(per_crime_harm * factor_draws)[0],
        harm_upper=interval(per_crime_harm * factor_draws)[1],
        by_offence=table,
        uncosted=tuple(table.loc[~costed & (table["observed"] > 0), "iccs_code"]),
        assumptions=("cb.unit_costs", "cb.reporting", "cb.effect_draws", "harm.weights"),
        provenance=stamp(
            "safercities.stats.costbenefit.benefit_cost",
            {
                "log_rate_ratio": log_rate_ratio,
                "se": se,
                "cost": cost,
                "reporting_rate": reporting_rate,
                "confidence": confidence,
                "draws": draws,
                "seed": seed,
                "costs": costs.attrs.get("source", "given"),
                "weights": weights.attrs.get("source", "given"),
            },
            table["observed"].to_numpy(),
        ),  # fmt: skip
    )
