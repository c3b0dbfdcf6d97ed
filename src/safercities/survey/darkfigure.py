"""The dark figure: crimes the survey says happened against crimes the police recorded, per area and crime type.

For each ICCS level-2 group (the finest level police records reliably carry) and area, the survey
estimates the total number of incidents in its reference period: crimes against persons with person
weights, crimes against households with household weights, combined as one variable under the person
design (a household incident counts ``household weight / person weight`` times), so that the total and
its standard error come from one Taylor (or replicate) estimate. Police-recorded incidents of the same
ICCS group, area and period are counted from the workspace.

The recorded share ``R = police / survey total`` is the reporting-and-recording rate. Its interval uses
the delta method on the log scale: ``var(log R) ≈ CV(total)²``, the police count being a complete
count of records (no sampling error), so ``R × exp(∓ t · CV)`` with the design's degrees of freedom.
``understatement = total / police`` says how many crimes happen for each one on file; the areas where
it is largest are where police data understate crime most.

Caveats, written in the output's documentation: police files also count crimes against businesses,
visitors and children, which a household survey of adults does not; the survey places a crime where
the victim lives, the police where it happened.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy import stats

from safercities.errors import InputError
from safercities.iccs import load_iccs
from safercities.ingest.areas import lineage
from safercities.stats.survey import estimate
from safercities.survey.data import SurveyData, household_weights, load_survey, person_design
from safercities.survey.indicators import respondent_areas
from safercities.survey.instrument import load_instrument
from safercities.survey.settings import SurveyRules, load_rules
from safercities.survey.variables import derive
from safercities.workspace import Workspace

ICCS_DIGITS = 4
"""Crimes are compared at ICCS level 2 (four digits: 0401 robbery, 0502 theft ...)."""


def group_incidents(respondents: pd.DataFrame, to_person: np.ndarray) -> pd.DataFrame:
    """Per respondent and ICCS level-2 group: incidents in the last 12 months on the person-weight scale.

    ``to_person`` is each respondent's household weight over their person weight.
    """
    instrument = load_instrument()
    variables = derive(respondents)
    columns: dict[str, pd.Series] = {}
    for crime in instrument.crimes:
        group = crime.iccs[:ICCS_DIGITS]
        value = variables[f"incidents_{crime.key}"]
        if crime.unit == "household":
            value = value * to_person
        columns[group] = value if group not in columns else columns[group] + value
    return pd.DataFrame(columns)[sorted(columns)]


def police_counts(
    incidents: pd.DataFrame, start: dt.date, end: dt.date, areas: pd.DataFrame, level: str, timezone: str = "UTC"
) -> pd.DataFrame:
    """Recorded incidents whose local occurrence date is from ``start`` to ``end`` (inclusive), by area at ``level``."""
    day = pd.to_datetime(incidents["occurred_from"], utc=True).dt.tz_convert(timezone).dt.date
    keep = (day >= start) & (day <= end)
    links = lineage(areas, level).dropna(subset=["target_id"])
    chosen = incidents.loc[keep, ["area_id", "iccs_code"]]
    chosen = chosen.merge(links, on="area_id", how="inner")
    chosen["iccs"] = chosen["iccs_code"].str.slice(0, ICCS_DIGITS)
    counts = chosen.groupby(["target_id", "iccs"]).size().rename("police_recorded").reset_index()
    return counts.rename(columns={"target_id": "area_id"})


def dark_figure(
    data: SurveyData,
    police: pd.DataFrame,
    rules: SurveyRules | None = None,
    *,
    areas: pd.Series | None = None,
    lang: str = "en",
    confidence: float = 0.95,
    method: str | None = None,
) -> pd.DataFrame:
    """Survey-estimated incidents vs police-recorded incidents by area and ICCS group, with the recorded share.

    ``police`` has columns area_id, iccs, police_recorded; ``areas`` gives each respondent's area at the
    level of ``police`` (default: the recorded area). A row resting on fewer than ``min_respondents``
    respondents is withheld; one whose survey total has a CV above ``max_cv`` is flagged.
    """
    rules = rules or SurveyRules()
    design = person_design(data)
    to_person = household_weights(data) / data.respondents["weight"].to_numpy(dtype=np.float64)
    values = group_incidents(data.respondents, to_person)
    domain = areas if areas is not None else data.respondents["area_id"]
    table = estimate(design, values, kind="total", domain=domain, confidence=confidence, method=method)
    table = table.rename(
        columns={
            "domain": "area_id",
            "variable": "iccs",
            "estimate": "survey_total",
            "se": "survey_se",
            "lower": "survey_lower",
            "upper": "survey_upper",
            "cv": "survey_cv",
        }
    ).drop(columns=["level"])
    table["area_id"] = table["area_id"].astype(str)
    table = table.merge(police, on=["area_id", "iccs"], how="left")
    table["police_recorded"] = table["police_recorded"].fillna(0).astype(np.int64)
    quantile = stats.t.ppf(0.5 + confidence / 2, design.df)
    total = table["survey_total"].to_numpy(dtype=np.float64)
    cv = table["survey_cv"].to_numpy(dtype=np.float64)
    recorded = table["police_recorded"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(total > 0, recorded / total, np.nan)
        table["reporting_rate"] = rate
        table["reporting_se"] = rate * cv
        table["reporting_lower"] = rate * np.exp(-quantile * cv)
        table["reporting_upper"] = rate * np.exp(quantile * cv)
        table["understatement"] = np.where((recorded > 0) & (total > 0), total / recorded, np.nan)
    table["dark_figure"] = total - recorded
    names = {c.iccs[:ICCS_DIGITS]: c for c in load_instrument().crimes}
    iccs = load_iccs().set_index("code")
    column = f"name_{lang}"
    table.insert(
        2, "name", table["iccs"].map(lambda g: iccs.loc[g, column] if g in iccs.index else names[g].labels[lang])
    )
    small = table["n"] < rules.min_respondents
    figures = [
        c for c in table.columns if c.startswith(("survey_", "reporting_")) or c in ("understatement", "dark_figure")
    ]
    for column in figures:
        table[column] = table[column].astype(float).where(~small)
    table["suppressed"] = small
    table["unreliable"] = (table["survey_cv"] > rules.max_cv) & ~small
    note = pd.Series("", index=table.index, dtype=object)
    note[small] = "suppressed: " + table.loc[small, "n"].astype(str) + f" respondents (< {rules.min_respondents})"
    note[table["unreliable"]] = f"unreliable: CV above {rules.max_cv:.0%}"
    note[~small & (table["police_recorded"] == 0)] = "no police record of this crime type"
    note[~small & (table["survey_total"] == 0) & (table["police_recorded"] > 0)] = "no respondent reported this crime"
    table["note"] = note
    table["understatement_rank"] = (
        table.groupby("iccs")["understatement"].rank(ascending=False, method="min").astype("Int64")
    )
    return table


def survey_dark_figure(
    ws: Workspace,
    survey_id: str | None = None,
    *,
    level: str | None = None,
    lang: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The dark figure of a workspace's survey against its police records, by area at ``level`` (default: finest)."""
    data = load_survey(ws, survey_id)
    spec = data.design
    if spec.period_start is None or spec.period_end is None:
        raise InputError(
            f"survey '{data.survey_id}' has no reference period, so police records cannot be matched to it",
            hint="set period_start and period_end in the [survey] table of its design file and import it again",
        )
    level = level or ws.default_level()
    incidents = ws.store.read("incidents")
    police = police_counts(incidents, spec.period_start, spec.period_end, ws.store.areas(), level, ws.config.timezone)
    police = police.assign(area_id=police["area_id"].astype(str))
    return dark_figure(
        data,
        police,
        load_rules(ws.root),
        areas=respondent_areas(ws, data, level),
        lang=lang or ws.config.lang,
        confidence=confidence,
    )


def most_understated(table: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """Per ICCS group, the ``top`` published areas where crimes outnumber police records the most."""
    shown = table[~table["suppressed"] & table["understatement"].notna()]
    return (
        shown.sort_values(["iccs", "understatement"], ascending=[True, False])
        .groupby("iccs", sort=True)
        .head(top)
        .reset_index(drop=True)
    )
