"""The crime-prevention plan as data: interventions, targets and recommendations, and the rules that classify them.

A plan is three tables. An **intervention** links a practice of the library (or ``custom``) to the priority
problems it addresses and the areas it covers, names who does what (a RACI over the actors registry), its budget
and funding, its dates, horizon and status. A **target** fixes an indicator of the framework in an area (or the
whole city) at a baseline period and a value to reach by a date. A **recommendation** of the audit is tracked as
the Querétaro audit did: who answers for it, its status and the date it was addressed.

The horizon rule (:func:`horizon_of`): an intervention that ends within one year of its start is *short* term,
within three years *medium* term, later *long* term (calendar years, end date included).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

INTERVENTION_STATUSES = ("planned", "in_progress", "done", "suspended")
RECOMMENDATION_STATUSES = ("open", "in_progress", "addressed", "dropped")
HORIZONS = ("short", "medium", "long")
HORIZON_YEARS = {"short": 1, "medium": 3}
"""Upper bound, in years from the start, of the end date of a short and a medium-term intervention."""
CUSTOM = "custom"
"""The practice id of an intervention that follows no practice of the library."""
CITY = "city"
"""The scope of a target (or the area of an intervention) that is the whole city."""
RACI_COLUMNS = ("responsible", "accountable", "consulted", "informed")
TITLE_COLUMNS = ("title_en", "title_es", "title_fr")

INTERVENTION_COLUMNS = (
    "intervention_id",
    *TITLE_COLUMNS,
    "practice_id",
    "problems",
    "areas",
    *RACI_COLUMNS,
    "budget",
    "currency",
    "funding_source",
    "start_date",
    "end_date",
    "horizon",
    "status",
    "notes",
)
TARGET_COLUMNS = (
    "target_id",
    "indicator_id",
    "scope",
    "baseline_period",
    "baseline",
    "baseline_lower",
    "baseline_upper",
    "baseline_se",
    "baseline_source",
    "target_value",
    "target_date",
    "intervention_ids",
    "notes",
)
RECOMMENDATION_COLUMNS = (
    "recommendation_id",
    "text",
    "responsible",
    "status",
    "date_made",
    "date_addressed",
    "intervention_ids",
    "notes",
)
SHEETS = {
    "interventions": INTERVENTION_COLUMNS,
    "targets": TARGET_COLUMNS,
    "recommendations": RECOMMENDATION_COLUMNS,
}
"""Each sheet of the plan workbook and its columns, in order."""
REQUIRED = {
    "interventions": ("intervention_id", "problems", "areas", "responsible", "accountable", "start_date", "end_date"),
    "targets": ("target_id", "indicator_id", "scope", "baseline_period", "target_value", "target_date"),
    "recommendations": ("recommendation_id", "text", "status"),
}
"""Columns a sheet must have (a sheet may leave out the others)."""
LIST_COLUMNS = ("problems", "areas", "responsible", "consulted", "informed", "intervention_ids")
"""Cells that hold several values separated by ';'; stored with '; ' between them."""
DATE_COLUMNS = ("start_date", "end_date", "target_date", "date_made", "date_addressed")
NUMBER_COLUMNS = ("budget", "baseline", "baseline_lower", "baseline_upper", "baseline_se", "target_value")


def horizon_of(start: Any, end: Any) -> np.ndarray:
    """The horizon of each intervention by the rule: end <= start + 1 year short, <= start + 3 years medium, else long.

    Vectorised over arrays of dates; a missing date gives ''.
    """
    start_ts = pd.to_datetime(pd.Series(np.atleast_1d(start)), errors="coerce")
    end_ts = pd.to_datetime(pd.Series(np.atleast_1d(end)), errors="coerce")
    short = end_ts <= start_ts + pd.DateOffset(years=HORIZON_YEARS["short"])
    medium = end_ts <= start_ts + pd.DateOffset(years=HORIZON_YEARS["medium"])
    known = start_ts.notna() & end_ts.notna()
    out = np.select([~known, short, medium], ["", "short", "medium"], default="long")
    return np.asarray(out, dtype=object)


def split_list(value: object) -> list[str]:
    """A multi-valued cell as a list: text separated by ';' (or ','), or a list; empty for nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, list | tuple | np.ndarray):
        parts = [str(v) for v in value]
    else:
        parts = str(value).replace(",", ";").split(";")
    return [p.strip() for p in parts if p.strip()]


def join_list(values: list[str]) -> str:
    return "; ".join(values)


@dataclass(frozen=True)
class Plan:
    """A plan's three tables (columns as :data:`SHEETS`; dates as ``datetime.date``, lists as '; '-joined text)."""

    interventions: pd.DataFrame
    targets: pd.DataFrame
    recommendations: pd.DataFrame
    import_id: int | None = None

    def __post_init__(self) -> None:
        for sheet, columns in SHEETS.items():
            missing = [c for c in columns if c not in getattr(self, sheet).columns]
            if missing:
                raise ValueError(f"a plan's {sheet} table lacks the columns {missing}")

    def title(self, lang: str = "en") -> pd.Series:
        """Each intervention's title in ``lang``, else in English, Spanish or French (the first given)."""
        frame = self.interventions
        order = [f"title_{lang}", *TITLE_COLUMNS]
        titles = frame[order[0]].replace("", np.nan)
        for column in order[1:]:
            titles = titles.fillna(frame[column].replace("", np.nan))
        return titles.fillna("").set_axis(frame["intervention_id"])

    def raci_actions(self) -> pd.DataFrame:
        """The interventions as the actions of :func:`safercities.governance.raci` (action_id and the four roles)."""
        return self.interventions[["intervention_id", *RACI_COLUMNS]].rename(columns={"intervention_id": "action_id"})


def empty_plan() -> Plan:
    """A plan with no rows."""
    interventions, targets, recommendations = (
        pd.DataFrame({c: pd.Series(dtype=object) for c in columns}) for columns in SHEETS.values()
    )
    return Plan(interventions, targets, recommendations)


def as_date(value: object) -> dt.date | None:
    """A stored date cell as a ``datetime.date`` (None when missing)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return None if pd.isna(stamp) else stamp.date()
