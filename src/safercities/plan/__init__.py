"""The crime-prevention plan: interventions, targets and recommendations, edited in Excel and monitored.

>>> from safercities.plan import horizon_of
>>> horizon_of(["2025-01-01"], ["2026-06-30"]).tolist()
['medium']

In a workspace: :func:`import_plan` (a workbook, through the import ledger), :func:`stored_plan`,
:func:`export_plan`, :func:`write_template`, and :func:`monitor_plan` for progress against the targets.
"""

from safercities.plan.model import (
    CITY,
    CUSTOM,
    HORIZONS,
    INTERVENTION_STATUSES,
    RECOMMENDATION_STATUSES,
    SHEETS,
    Plan,
    empty_plan,
    horizon_of,
)
from safercities.plan.monitor import PlanMonitoring, assess, monitor_plan
from safercities.plan.progress import expected_share, progress, status, value_interval
from safercities.plan.read import PlanContext, PlanRead, read_plan
from safercities.plan.store import (
    export_plan,
    import_plan,
    plan_changes,
    plan_context,
    plan_history,
    stored_plan,
    write_template,
)
from safercities.plan.write import write_workbook

__all__ = [
    "CITY",
    "CUSTOM",
    "HORIZONS",
    "INTERVENTION_STATUSES",
    "RECOMMENDATION_STATUSES",
    "SHEETS",
    "Plan",
    "PlanContext",
    "PlanMonitoring",
    "PlanRead",
    "assess",
    "empty_plan",
    "expected_share",
    "export_plan",
    "horizon_of",
    "import_plan",
    "monitor_plan",
    "plan_changes",
    "plan_context",
    "plan_history",
    "progress",
    "read_plan",
    "status",
    "stored_plan",
    "value_interval",
    "write_template",
    "write_workbook",
]
