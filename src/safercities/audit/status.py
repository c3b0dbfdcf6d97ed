"""Which steps of the local safety audit have the data they need, and what is missing.

The method has five steps: (1) the quantitative diagnosis over the framework's dimensions, (2) the selection
of communities and the qualitative, participatory diagnosis in them (focus groups, interviews, safety walks),
(3) the integrated analysis, (4) the priorities that proposals answer, (5) implementation. :func:`audit_status`
looks at what the workspace holds and says, for each step, whether ``safercities audit run`` can do it
(``ready``), can do it with gaps (``partial``), cannot yet (``blocked``), or leaves it to another module
(``outside``), listing what is missing in the workspace's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from safercities.audit.framework import Framework, load_framework
from safercities.audit.run_labels import text
from safercities.config import LANGUAGES
from safercities.errors import check_choice
from safercities.stats.composite import OVERALL
from safercities.workspace import Workspace

__all__ = ["STATES", "AuditStatus", "StepStatus", "audit_status"]

STATES = ("ready", "partial", "blocked", "outside")


@dataclass(frozen=True)
class StepStatus:
    """One step of the method: its number, id, state and the missing data, in words."""

    step: int
    id: str
    name: str
    state: str
    missing: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.state in ("ready", "partial")


@dataclass(frozen=True)
class AuditStatus:
    """The state of each step, and the framework's indicators without usable values at the audited level."""

    steps: tuple[StepStatus, ...]
    missing_indicators: pd.DataFrame  # indicator_id, dimension, name, status, source, imported
    level: str
    lang: str
    counts: dict[str, int] = field(default_factory=dict)

    def step(self, number: int) -> StepStatus:
        return next(s for s in self.steps if s.step == number)

    def to_frame(self) -> pd.DataFrame:
        """One row per step: step, id, name, state (in words too), missing (one line each, joined)."""
        return pd.DataFrame(
            {
                "step": [s.step for s in self.steps],
                "id": [s.id for s in self.steps],
                "name": [s.name for s in self.steps],
                "state": [s.state for s in self.steps],
                "state_label": [text(f"status.{_STATE_LABEL[s.state]}", self.lang) for s in self.steps],
                "missing": ["\n".join(s.missing) for s in self.steps],
            }
        )

    def missing(self) -> list[str]:
        """Every missing item, prefixed with its step number."""
        return [f"{s.step}. {line}" for s in self.steps for line in s.missing]

    def summary(self) -> str:
        parts = [f"{s.step} {s.id}: {s.state}" for s in self.steps]
        return f"audit status at level '{self.level}': " + ", ".join(parts)


_STATE_LABEL = {"ready": "ready", "partial": "partial", "blocked": "blocked", "outside": "outside"}


def _missing_by_dimension(fw: Framework, status: pd.DataFrame, lang: str) -> list[str]:
    lines = []
    for dimension in fw.dimensions:
        part = status[status["dimension"] == dimension.id]
        unused = part[part["status"] != "used"]
        if len(unused):
            lines.append(
                text(
                    "need.indicators", lang,
                    dimension=dimension.name[lang], count=len(unused), total=len(part),
                    list=", ".join(
                        i + (f" ({text('status.other_level', lang)})" if st == "other_level" else "")
                        for i, st in zip(unused["indicator_id"], unused["status"], strict=True)
                    ),
                )
            )  # fmt: skip
    return lines


def audit_status(
    ws: Workspace,
    framework: str | Path | Framework = "default",
    *,
    level: str | None = None,
    period: str | None = None,
    selection_indicator: str | None = None,
    lang: str | None = None,
) -> AuditStatus:
    """What each step of the audit can do with the data held (see the module docstring)."""
    from safercities.audit.fieldwork import segments
    from safercities.audit.indicators import indicator_values, parse_period
    from safercities.audit.run import (
        choose_periods,
        default_selection_indicator,
        held_elsewhere,
        indicator_status,
        latest_audit,
    )
    from safercities.audit.walks import observations
    from safercities.survey.importing import surveys

    lang = lang or ws.config.lang
    check_choice("lang", lang, LANGUAGES, "audit_status")
    fw = load_framework(framework)
    finest = ws.finest_areas()
    level = level or (ws.default_level() if len(finest) else "community")
    held_areas = ws.store.areas()
    n_areas = int((held_areas["level"] == level).sum())
    names = {k: text(f"step.{k}", lang) for k in range(1, 6)}

    # step 1
    one: list[str] = []
    status = pd.DataFrame(columns=["indicator_id", "dimension", "source", "imported", "period", "areas", "status"])
    if n_areas == 0:
        one.append(text("need.areas", lang, level=level))
    else:
        values = indicator_values(ws, fw, level=level)
        chosen = choose_periods(values, parse_period(period).label if period else None)
        status = indicator_status(fw, chosen, n_areas, held_elsewhere(ws, level))
        if n_areas < 3:
            one.append(text("need.few_areas", lang, count=n_areas, level=level))
        if not (status["status"] == "used").any():
            one.append(text("need.no_indicator", lang))
        one += _missing_by_dimension(fw, status, lang)
    used = status[status["status"] == "used"]
    blocked_one = n_areas < 3 or used.empty
    state_one = "blocked" if blocked_one else "partial" if one else "ready"

    # step 2
    held_segments, held_walks = segments(ws), observations(ws)
    two: list[str] = []
    dims = [d.id for d in fw.dimensions if d.id in set(used["dimension"])]
    which = selection_indicator or default_selection_indicator(dims)
    if which in fw.ids:
        can_select = int(used.loc[used["indicator_id"] == which, "areas"].sum()) >= 3
    else:
        can_select = not blocked_one and (which == OVERALL or which in dims)
    if not can_select:
        two.append(text("need.selection", lang, indicator=which))
    if held_segments.empty:
        two.append(text("need.fieldwork", lang))
    if held_walks.empty:
        two.append(text("need.walks", lang))
    visited = set(held_segments.get("area_id", pd.Series(dtype=object))) | set(
        held_walks.get("area_id", pd.Series(dtype=object))
    )
    last = latest_audit(ws)
    if last is not None and visited:
        selection = last.table("selection")
        pending = sorted(set(selection.loc[selection["selected"].astype(bool), "area_id"]) - visited)
        if pending:
            two.append(text("missing.selected_without_fieldwork", lang, count=len(pending), list=", ".join(pending)))
    state_two = "blocked" if not can_select else "partial" if two else "ready"

    # steps 3 and 4
    has_fieldwork = bool(len(held_segments) or len(held_walks))
    three: list[str] = []
    if blocked_one:
        three.append(text("need.step1", lang))
    if not has_fieldwork:
        three.append(text("need.fieldwork_or_walks", lang))
    if surveys(ws).empty:
        three.append(text("need.survey", lang))
    blocked_three = blocked_one or not has_fieldwork
    state_three = "blocked" if blocked_three else "partial" if three else "ready"
    four = [line for line in three if line != text("need.survey", lang)]
    state_four = "blocked" if blocked_three else "ready"

    steps = (
        StepStatus(1, "indicators", names[1], state_one, tuple(one)),
        StepStatus(2, "selection", names[2], state_two, tuple(two)),
        StepStatus(3, "integrated", names[3], state_three, tuple(three)),
        StepStatus(4, "priorities", names[4], state_four, tuple(four)),
        StepStatus(5, "implementation", names[5], "outside", (text("need.plan", lang),)),
    )
    unused = status[status["status"] != "used"]
    missing = pd.DataFrame(
        {
            "indicator_id": unused["indicator_id"].to_numpy(object),
            "dimension": unused["dimension"].to_numpy(object),
            "name": [fw.indicator(i).name[lang] for i in unused["indicator_id"]],
            "status": unused["status"].to_numpy(object),
            "source": unused["source"].to_numpy(object),
            "imported": unused["imported"].to_numpy(bool),
        }
    )
    counts: dict[str, Any] = {
        "areas": n_areas,
        "indicators_used": len(used),
        "indicators": len(fw.indicators),
        "segments": len(held_segments),
        "walk_observations": len(held_walks),
        "surveys": len(surveys(ws)),
    }
    return AuditStatus(steps, missing, level, lang, counts)
