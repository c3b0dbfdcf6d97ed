"""The plan at a glance: targets by status, budget by horizon and status, recommendations addressed over time, and
each actor's load from the RACI. Pure functions of the plan's tables.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from safercities.plan.model import HORIZONS, INTERVENTION_STATUSES, RACI_COLUMNS, Plan, split_list
from safercities.plan.progress import STATUSES


def target_status_counts(assessed: pd.DataFrame) -> pd.DataFrame:
    """Targets per status (every status listed) and their share among the targets that have data."""
    counts = assessed["status"].value_counts().reindex(list(STATUSES), fill_value=0)
    with_data = int(counts.drop("no_data").sum())
    share = counts / with_data if with_data else counts * np.nan
    frame = pd.DataFrame(
        {"status": counts.index, "targets": counts.to_numpy(int), "share_of_measured": share.to_numpy()}
    )
    frame.loc[frame["status"] == "no_data", "share_of_measured"] = np.nan
    return frame


def share_on_track(assessed: pd.DataFrame) -> float:
    """On-track targets / targets with data (NaN when none has data)."""
    measured = assessed["status"] != "no_data"
    return float((assessed["status"] == "on_track").sum() / measured.sum()) if measured.any() else float("nan")


def budget_by_horizon(interventions: pd.DataFrame) -> pd.DataFrame:
    """Budget and number of interventions per currency x horizon x status (every horizon and status listed)."""
    frame = interventions.assign(budget=pd.to_numeric(interventions["budget"], errors="coerce"))
    currencies = sorted(set(frame["currency"].replace("", np.nan).dropna())) or [""]
    grid = pd.MultiIndex.from_product(
        [currencies, HORIZONS, INTERVENTION_STATUSES], names=["currency", "horizon", "status"]
    )
    grouped = frame.groupby(["currency", "horizon", "status"])
    out = pd.DataFrame({"budget": grouped["budget"].sum(min_count=1), "interventions": grouped.size()}).reindex(grid)
    out["interventions"] = out["interventions"].fillna(0).astype(int)
    out["budget"] = out["budget"].fillna(0.0)
    return out.reset_index()


def recommendations_over_time(recommendations: pd.DataFrame, as_of: dt.date | None = None) -> pd.DataFrame:
    """Cumulative recommendations addressed by each date they were addressed (and at ``as_of``), with the share.

    Share = addressed on or before the date / all recommendations of the plan (dropped ones count as not addressed).
    """
    total = len(recommendations)
    dates = pd.to_datetime(
        recommendations.loc[recommendations["status"] == "addressed", "date_addressed"], errors="coerce"
    ).dropna()
    steps = dates.value_counts().sort_index().cumsum()
    days = [d.date() for d in steps.index]
    counts = [int(v) for v in steps.to_numpy()]
    if as_of is not None:
        kept = [(d, c) for d, c in zip(days, counts, strict=True) if d <= as_of]
        last = kept[-1][1] if kept else 0
        kept = [(d, c) for d, c in kept if d != as_of] + [(as_of, last)]
        days, counts = [d for d, _ in kept], [c for _, c in kept]
    frame = pd.DataFrame({"date": pd.Series(days, dtype=object), "addressed": pd.Series(counts, dtype=int)})
    frame["total"] = total
    frame["share_addressed"] = frame["addressed"] / total if total else np.nan
    return frame.reset_index(drop=True)


def actors_load(plan: Plan) -> pd.DataFrame:
    """Per actor: interventions where it is responsible, accountable, consulted, informed; open ones (planned or in
    progress) where it is responsible or accountable; budget it is accountable for (per currency); recommendations
    it answers for and how many of them are still open."""
    rows = [
        (actor, role, r.intervention_id, r.status, r.budget, r.currency)
        for r in plan.interventions.itertuples(index=False)
        for role in RACI_COLUMNS
        for actor in split_list(getattr(r, role))
    ]
    long = pd.DataFrame(rows, columns=["actor_id", "role", "intervention_id", "status", "budget", "currency"])
    counts = long.pivot_table(index="actor_id", columns="role", values="intervention_id", aggfunc="nunique")
    counts = counts.reindex(columns=list(RACI_COLUMNS)).fillna(0).astype(int)
    doing = long[long["role"].isin(["responsible", "accountable"]) & long["status"].isin(["planned", "in_progress"])]
    counts["open_interventions"] = (
        doing.groupby("actor_id")["intervention_id"].nunique().reindex(counts.index).fillna(0)
    )
    accountable = long[long["role"] == "accountable"].assign(
        budget=lambda f: pd.to_numeric(f["budget"], errors="coerce")
    )
    sums = accountable.groupby(["actor_id", "currency"])["budget"].sum(min_count=1).dropna().reset_index()
    text = sums["budget"].map(lambda v: f"{v:,.0f} ") + sums["currency"]
    budget = text.groupby(sums["actor_id"]).agg("; ".join)
    counts["budget_accountable"] = budget.reindex(counts.index).fillna("")
    recs = plan.recommendations.assign(actor_id=plan.recommendations["responsible"].map(split_list)).explode("actor_id")
    recs = recs.dropna(subset=["actor_id"])
    counts = counts.reindex(counts.index.union(pd.Index(recs["actor_id"].unique(), name="actor_id")))
    counts[list(RACI_COLUMNS)] = counts[list(RACI_COLUMNS)].fillna(0).astype(int)
    counts["open_interventions"] = counts["open_interventions"].fillna(0).astype(int)
    counts["budget_accountable"] = counts["budget_accountable"].fillna("")
    counts["recommendations"] = recs.groupby("actor_id").size().reindex(counts.index).fillna(0).astype(int)
    still = recs[recs["status"].isin(["open", "in_progress"])]
    counts["recommendations_open"] = still.groupby("actor_id").size().reindex(counts.index).fillna(0).astype(int)
    counts.columns.name = None
    return counts.sort_values(["responsible", "accountable"], ascending=False).reset_index()
