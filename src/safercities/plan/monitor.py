"""Monitoring the plan against its targets: progress to date with its interval, a status by a stated rule, and the
plan-level summary. :func:`monitor_plan` is the one service the CLI, the report and the dashboard call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from safercities.audit.framework import Framework, load_framework
from safercities.audit.indicators import parse_period
from safercities.errors import check_choice
from safercities.plan.labels import LANGUAGES, label
from safercities.plan.model import Plan
from safercities.plan.progress import expected_share, progress, status, value_interval
from safercities.plan.summary import (
    actors_load,
    budget_by_horizon,
    recommendations_over_time,
    share_on_track,
    target_status_counts,
)
from safercities.workspace import Workspace

ASSESSED_COLUMNS = [
    "target_id", "indicator_id", "scope", "baseline_period", "baseline", "baseline_lower", "baseline_upper",
    "current_period", "current", "current_lower", "current_upper", "current_se", "target_value", "target_date",
    "progress", "progress_lower", "progress_upper", "expected", "status", "direction_ok", "intervention_ids",
]  # fmt: skip


def assess(targets: pd.DataFrame, current: pd.DataFrame, confidence: float = 0.95, higher_is_worse=None):
    """Progress and status of each target from its baseline and its current value (a pure function).

    ``targets``: target_id, baseline_period, baseline, baseline_lower, baseline_upper, target_value, target_date …;
    ``current``: target_id, period, value, lower, upper, se (the long contract; one row per target at most).
    ``higher_is_worse`` maps indicator ids to their direction, to flag targets that aim the wrong way.
    """
    now = current.rename(
        columns={
            "period": "current_period",
            "value": "current",
            "lower": "current_lower",
            "upper": "current_upper",
            "se": "current_se",
        }  # fmt: skip
    )[["target_id", "current_period", "current", "current_lower", "current_upper", "current_se"]]
    frame = targets.merge(now, on="target_id", how="left")
    lo, hi = value_interval(
        frame["current"], frame["current_lower"], frame["current_upper"], frame["current_se"], confidence
    )
    p, p_lo, p_hi = progress(frame["baseline"], frame["target_value"], frame["current"], lo, hi)
    start = [parse_period(str(x)).end if isinstance(x, str) and x else pd.NaT for x in frame["baseline_period"]]
    measured = [parse_period(str(x)).end if isinstance(x, str) and x else pd.NaT for x in frame["current_period"]]
    expected = expected_share(
        pd.to_datetime(pd.Series(start)).to_numpy("datetime64[D]"),
        pd.to_datetime(pd.Series(measured)).to_numpy("datetime64[D]"),
        pd.to_datetime(frame["target_date"]).to_numpy("datetime64[D]"),
    )
    frame = frame.assign(progress=p, progress_lower=p_lo, progress_upper=p_hi, expected=expected)
    frame["status"] = status(p_lo, p_hi, expected)
    worse = frame["indicator_id"].map(higher_is_worse or {})
    aim_down = frame["target_value"] < frame["baseline"]
    known = ~(worse.isna() | frame["baseline"].isna())
    frame["direction_ok"] = (aim_down == worse.astype(bool)).astype(object).where(known, None)
    return frame.reindex(columns=ASSESSED_COLUMNS)


@dataclass(frozen=True)
class PlanMonitoring:
    """Where the plan stands at ``as_of``: each target assessed, and the plan-level summary, with the rules."""

    as_of: dt.date
    targets: pd.DataFrame
    status_counts: pd.DataFrame
    share_on_track: float
    budget: pd.DataFrame
    recommendations: pd.DataFrame
    actors: pd.DataFrame
    interventions: pd.DataFrame
    rules: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.95
    lang: str = "en"

    def to_frame(self) -> pd.DataFrame:
        """One row per target (see :data:`ASSESSED_COLUMNS`, plus the status in words)."""
        return self.targets

    def summary(self) -> str:
        """The plan at a glance, in ``lang``, with the rules written out."""
        counts = self.status_counts.set_index("status")["targets"]
        parts = [f"{label('progress.' + s, self.lang)}: {int(counts[s])}" for s in counts.index]
        addressed = self.recommendations.iloc[-1] if len(self.recommendations) else None
        lines = [
            f"as of {self.as_of.isoformat()}: {len(self.targets)} targets ({'; '.join(parts)}); "
            f"share on track {self.share_on_track:.0%}" if np.isfinite(self.share_on_track) else
            f"as of {self.as_of.isoformat()}: {len(self.targets)} targets, none measured yet",
        ]  # fmt: skip
        if addressed is not None:
            lines.append(
                f"recommendations addressed: {int(addressed['addressed'])} of {int(addressed['total'])} "
                f"({addressed['share_addressed']:.0%})"
            )
        lines.extend(self.rules.values())
        return "\n".join(lines)


def monitor_plan(
    ws: Workspace,
    *,
    as_of: dt.date | str | None = None,
    framework: str | Framework = "default",
    confidence: float = 0.95,
    lang: str = "en",
    plan: Plan | None = None,
    public: bool = False,
) -> PlanMonitoring:
    """Monitor the workspace's plan (or ``plan``) at ``as_of`` (default: today): targets, budget, recommendations.

    A target's current value is its indicator's latest value after the baseline period, in periods ended by
    ``as_of``; a baseline that the plan could not compute at import (no data then) is computed now.
    ``public=True`` is for audiences that are not authorised analysts: a current value (or a baseline computed now)
    resting on a count below ``disclosure.min_count`` is withheld, and a stored baseline that rests on one is hidden
    too, so that its target shows ``no_data`` rather than a number that discloses a small count.
    """
    from safercities.plan.store import stored_plan
    from safercities.plan.values import baselines, currents

    check_choice("lang", lang, LANGUAGES, "monitor_plan")
    day = pd.Timestamp(as_of).date() if as_of is not None else dt.date.today()
    plan = plan if plan is not None else stored_plan(ws)
    fw = load_framework(framework)
    targets = plan.targets.copy()
    missing = targets["baseline"].isna()
    if missing.any():
        got = baselines(ws, targets[missing], fw, confidence, public).rename(columns={"period": "baseline_period"})
        fill = (
            targets[missing]
            .drop(columns=["baseline", "baseline_lower", "baseline_upper", "baseline_se"])
            .merge(
                got.rename(
                    columns={
                        "value": "baseline",
                        "lower": "baseline_lower",
                        "upper": "baseline_upper",
                        "se": "baseline_se",
                    }
                ),  # fmt: skip
                on=["scope", "indicator_id", "baseline_period"],
                how="left",
            )
        )
        fill["baseline_source"] = np.where(fill["baseline"].notna(), "store", "")
        targets = pd.concat([targets[~missing], fill[targets.columns]], ignore_index=True)
    if public and len(targets):
        check = baselines(ws, targets, fw, confidence, public=True).rename(columns={"period": "baseline_period"})
        keyed = targets.merge(check, on=["scope", "indicator_id", "baseline_period"], how="left")
        withheld = keyed["source"].astype(str).str.startswith("withheld").to_numpy()
        for column in ("baseline", "baseline_lower", "baseline_upper", "baseline_se"):
            targets[column] = targets[column].where(~withheld)
    now = currents(ws, targets, day, fw, confidence, public)
    worse = {i.id: i.higher_is_worse for i in fw.indicators}
    assessed = assess(targets, now, confidence, worse)
    assessed["status_label"] = [label(f"progress.{s}", lang) for s in assessed["status"]]
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rules = {k: label(f"rule.{k}", lang, z=z) if k == "progress" else label(f"rule.{k}", lang)
             for k in ("progress", "status", "horizon", "recommendations")}  # fmt: skip
    interventions = plan.interventions.assign(title=plan.title(lang).to_numpy())
    return PlanMonitoring(
        as_of=day,
        targets=assessed.sort_values("target_id").reset_index(drop=True),
        status_counts=target_status_counts(assessed),
        share_on_track=share_on_track(assessed),
        budget=budget_by_horizon(plan.interventions),
        recommendations=recommendations_over_time(plan.recommendations, day),
        actors=actors_load(plan),
        interventions=interventions,
        rules=rules,
        confidence=confidence,
        lang=lang,
    )
