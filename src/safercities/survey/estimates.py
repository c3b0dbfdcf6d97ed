"""Any design-based estimate of a workspace's survey: derived variables or raw answers, by domain."""

from __future__ import annotations

import pandas as pd

from safercities.errors import InputError, check_choice
from safercities.stats.survey import estimate
from safercities.survey.data import household_design, load_survey, person_design
from safercities.survey.indicators import BREAKDOWNS, publish, respondent_areas
from safercities.survey.settings import load_rules
from safercities.survey.variables import derive
from safercities.workspace import Workspace

KINDS = ("proportion", "mean", "total")


def survey_estimate(
    ws: Workspace,
    variables: tuple[str, ...],
    *,
    kind: str = "proportion",
    by: str | None = None,
    unit: str = "person",
    method: str | None = None,
    level: str | None = None,
    survey_id: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Estimates of ``variables`` (analysis variables of :func:`derive`, or question names) by ``by``.

    A question with answer codes gives one proportion per code. ``unit="household"`` uses the
    household weights (for crimes against households). Publication rules apply (CV flag, small cells).
    """
    check_choice("kind", kind, KINDS, "survey estimate")
    check_choice("unit", unit, ("person", "household"), "survey estimate")
    if by is not None:
        check_choice("by", by, BREAKDOWNS[1:], "survey estimate")
    if not variables:
        raise InputError("name at least one variable to estimate")
    data = load_survey(ws, survey_id)
    derived = derive(data.respondents)
    pool = pd.concat([derived, data.respondents.drop(columns=[c for c in derived if c in data.respondents])], axis=1)
    missing = [v for v in variables if v not in pool]
    if missing:
        raise InputError(
            f"unknown variable '{missing[0]}'",
            hint="use a question name, victim_<crime>, incidents_<crime>, reported_<crime>, feels_safe, "
            "trusts_police, bribery, harassment … (the list is in docs/survey.md)",
        )
    values = pool[list(variables)].copy()
    for column in values:
        if kind != "proportion":
            values[column] = pd.to_numeric(values[column], errors="coerce")
    design = household_design(data) if unit == "household" else person_design(data)
    domain = None
    if by == "area":
        domain = respondent_areas(ws, data, level)
        domain = domain if domain is not None else derived["area_id"]
    elif by is not None:
        domain = derived[by]
    table = estimate(design, values, kind=kind, domain=domain, method=method, confidence=confidence)
    table.insert(0, "by", by or "all")
    table["domain"] = table["domain"].where(table["domain"].notna(), "all").astype(str)
    return publish(table, load_rules(ws.root))
