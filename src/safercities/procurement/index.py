"""A corruption-risk index per buyer and per supplier, each flag weighted by its rarity.

The rule, shown with every result:

* each flag f has a base rate p_f: the share of processes (or organisations, for the flags raised
  per organisation) for which it is raised, among those where it can be computed, smoothed as
  p_f = (raised + 0.5) / (available + 1) so that a flag never raised keeps a finite weight;
* its weight is its surprisal, w_f = -ln p_f: a flag raised for 1% of processes weighs 4.6, one
  raised for 50% weighs 0.7, so a rare flag stands out and a common one does not drown the rest;
* for an organisation e, x_ef is the share of its processes raising f (0 or 1 for an
  organisation-level flag) and its excess is max(x_ef - p_f, 0): what is usual for everyone
  scores nothing;
* the index is the weighted mean excess, I_e = sum_f w_f max(x_ef - p_f, 0) / sum_f w_f, over the
  flags available for e (0 = nothing above the usual, 1 = every rare flag on every process);
* its standard error treats each share as a binomial proportion over the organisation's n_ef
  processes, se_e = sqrt(sum_f w_f^2 x_ef (1 - x_ef) / n_ef) / sum_f w_f, with a normal interval
  clipped to [0, 1]. An organisation is "high risk" when the interval's lower bound exceeds
  ``[risk] high`` and it has at least ``[risk] min_processes`` processes.

Fazekas, Tóth & King (2016) average their components with equal weights after checking each one
against single bidding; the rarity weights here need no outcome variable and say, with the base
rates, why a flag counts for more or less.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from safercities.procurement.flags import CATALOGUE, PROCESS_FLAGS, FlagResult

RULE = "I = Σ_f w_f·max(x_f − p_f, 0) / Σ_f w_f,  w_f = −ln p_f,  p_f = (raised + 0.5)/(available + 1)"


@dataclass(frozen=True)
class RiskIndex:
    """The index of each buyer or supplier, its interval, the shares behind it, and the base rates used."""

    level: str
    table: pd.DataFrame
    """id, n_processes, index, se, lower, upper, high_risk, main_flags, then share_<flag> per flag."""
    base_rates: pd.DataFrame
    """flag, level, available, raised, base_rate, p (smoothed), weight."""
    rule: str = RULE
    provenance: dict[str, object] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self, top: int = 10) -> str:
        lines = [f"risk index of {len(self.table):,} {self.level}s; rule: {self.rule}"]
        for row in self.table.head(top).itertuples():
            lines.append(
                f"  {row.id:<30} {row.index:.3f} [{row.lower:.3f}, {row.upper:.3f}] n={row.n_processes}"
                f"{'  HIGH' if row.high_risk else ''}  {row.main_flags}"
            )
        return "\n".join(lines)


def weights(result: FlagResult) -> pd.DataFrame:
    """Base rates and rarity weights of every flag."""
    rates = result.base_rates()
    rates["p"] = (rates["raised"] + 0.5) / (rates["available"] + 1.0)
    rates["weight"] = -np.log(rates["p"])
    return rates


def risk_index(result: FlagResult, level: str = "buyer") -> RiskIndex:
    """The rarity-weighted risk index of every buyer (``level='buyer'``) or supplier (``'supplier'``)."""
    if level not in ("buyer", "supplier"):
        raise ValueError(f"level must be 'buyer' or 'supplier', not {level!r}")
    rules = result.rules["risk"]
    rates = weights(result).set_index("flag")
    key = f"{level}_id"
    flags = result.processes[[key, *PROCESS_FLAGS]].dropna(subset=[key])
    grouped = flags.groupby(key, sort=True)
    n_processes = grouped.size()
    raised = grouped[list(PROCESS_FLAGS)].sum(min_count=1)
    available = grouped[list(PROCESS_FLAGS)].count()
    shares = raised / available.where(available > 0)
    own = [f.id for f in CATALOGUE if f.level == level]
    org = result.buyers if level == "buyer" else result.suppliers
    org = org.set_index(key)[own].reindex(shares.index)
    shares = shares.join(org)
    counts = available.join(org.notna().astype("int64"))
    names = list(shares.columns)
    p = rates.loc[names, "p"].to_numpy()
    w = rates.loc[names, "weight"].to_numpy()
    x = shares.to_numpy(dtype="float64")
    n = counts.to_numpy(dtype="float64")
    present = ~np.isnan(x)
    w_used = np.where(present, w, 0.0)
    total = w_used.sum(axis=1)
    excess = np.where(present, np.maximum(x - p, 0.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (w_used * excess).sum(axis=1) / total
        variance = np.where(present & (n > 0), w_used**2 * x * (1 - x) / np.maximum(n, 1), 0.0).sum(axis=1)
        se = np.sqrt(variance) / total
    z = stats.norm.ppf(0.5 + rules["confidence"] / 2)
    table = pd.DataFrame(
        {
            "id": shares.index.to_numpy(),
            "n_processes": n_processes.reindex(shares.index).to_numpy(),
            "index": value,
            "se": se,
            "lower": np.clip(value - z * se, 0, 1),
            "upper": np.clip(value + z * se, 0, 1),
        }
    )
    enough = table["n_processes"] >= rules["min_processes"]
    for column in ("index", "se", "lower", "upper"):
        table[column] = table[column].where(enough)
    table["high_risk"] = (table["lower"] > rules["high"]).to_numpy()
    contribution = w_used * excess
    order = np.argsort(-contribution, axis=1)[:, :3]
    top = np.take_along_axis(contribution, order, axis=1) > 0
    labels = np.asarray(names, dtype=object)[order]
    table["main_flags"] = [";".join(lab[keep]) for lab, keep in zip(labels, top, strict=True)]
    for position, name in enumerate(names):
        table[f"share_{name}"] = x[:, position]
    table = table.sort_values(["index", "id"], ascending=[False, True], na_position="last").reset_index(drop=True)
    return RiskIndex(
        level=level,
        table=table,
        base_rates=rates.reset_index(),
        provenance={**result.provenance, "level": level, "rule": RULE},
    )


def process_scores(result: FlagResult) -> pd.Series:
    """Per process: the rarity-weighted share of its available flags that are raised (0 to 1)."""
    rates = weights(result).set_index("flag")
    w = rates.loc[list(PROCESS_FLAGS), "weight"].to_numpy()
    x = result.processes[list(PROCESS_FLAGS)].to_numpy(dtype="float64")
    present = ~np.isnan(x)
    total = np.where(present, w, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(present, w * x, 0.0).sum(axis=1) / total
    return pd.Series(score, index=result.processes["ocid"].to_numpy(), name="risk_score")
