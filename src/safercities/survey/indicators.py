"""SDG indicators and crime rates from a victimisation survey, each with its interval and publication flags.

* 16.1.3 share of adults subjected to physical, psychological or sexual violence in the last 12 months
  (physical: assault; psychological: threats; sexual: sexual violence; and any of them);
* 16.1.4 share who feel safe (very or fairly) walking alone in their area after dark (does-not-know excluded);
* 16.3.1 share of victims of violence (assault, robbery, sexual violence) in the last 12 months who reported
  the most recent incident to the police;
* 16.5.1 share of adults in contact with a public official in the last 12 months who were asked for, or paid,
  a bribe;
* 11.7.2 share subjected to physical or sexual harassment in a public place in the last 12 months, also by
  place of occurrence;
* prevalence (share of adults, or of households for household crimes) and incidents per 1,000 by crime type.

Every estimate comes from the design-based engine (:func:`safercities.stats.survey.estimate`), by
domain (sex, age group, disability, area) without subsetting the design. An estimate with a
coefficient of variation above ``max_cv`` is flagged ``unreliable``; one resting on fewer than
``min_respondents`` unweighted respondents is ``suppressed``: its figures are withheld and the reason given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from safercities.errors import check_choice
from safercities.ingest.areas import lineage
from safercities.stats.survey import Design, estimate
from safercities.survey.data import SurveyData, household_design, load_survey, person_design
from safercities.survey.instrument import load_instrument
from safercities.survey.settings import SurveyRules, load_rules
from safercities.survey.variables import derive
from safercities.workspace import Workspace

BREAKDOWNS = ("all", "sex", "age_group", "disability", "area")
FIGURES = ("estimate", "se", "lower", "upper", "cv")


@dataclass(frozen=True)
class Indicator:
    id: str
    variable: str
    names: dict[str, str]


INDICATORS: tuple[Indicator, ...] = (
    Indicator("16.1.3", "any_violence", {
        "en": "Victims of physical, psychological or sexual violence, last 12 months",
        "es": "Víctimas de violencia física, psicológica o sexual, últimos 12 meses",
        "fr": "Victimes de violence physique, psychologique ou sexuelle, 12 derniers mois"}),
    Indicator("16.1.3a", "physical_violence", {
        "en": "Victims of physical violence, last 12 months",
        "es": "Víctimas de violencia física, últimos 12 meses",
        "fr": "Victimes de violence physique, 12 derniers mois"}),
    Indicator("16.1.3b", "psychological_violence", {
        "en": "Victims of psychological violence (threats), last 12 months",
        "es": "Víctimas de violencia psicológica (amenazas), últimos 12 meses",
        "fr": "Victimes de violence psychologique (menaces), 12 derniers mois"}),
    Indicator("16.1.3c", "sexual_violence", {
        "en": "Victims of sexual violence, last 12 months",
        "es": "Víctimas de violencia sexual, últimos 12 meses",
        "fr": "Victimes de violence sexuelle, 12 derniers mois"}),
    Indicator("16.1.4", "feels_safe", {
        "en": "Feel safe walking alone in their area after dark",
        "es": "Se sienten seguros caminando solos por su colonia de noche",
        "fr": "Se sentent en sécurité en marchant seuls dans leur quartier la nuit"}),
    Indicator("16.3.1", "reported_violence", {
        "en": "Victims of violence who reported it to the police",
        "es": "Víctimas de violencia que lo denunciaron ante la policía",
        "fr": "Victimes de violence qui l'ont signalé à la police"}),
    Indicator("16.5.1", "bribery", {
        "en": "Asked for or paid a bribe, among those in contact with public officials",
        "es": "Les pidieron o pagaron un soborno, entre quienes trataron con servidores públicos",
        "fr": "Sollicités pour un pot-de-vin ou l'ayant versé, parmi ceux en contact avec des agents publics"}),
    Indicator("11.7.2", "harassment", {
        "en": "Victims of physical or sexual harassment in public places, last 12 months",
        "es": "Víctimas de acoso físico o sexual en espacios públicos, últimos 12 meses",
        "fr": "Victimes de harcèlement physique ou sexuel dans l'espace public, 12 derniers mois"}),
    Indicator("11.7.2a", "harassment_physical", {
        "en": "Victims of physical harassment in public places, last 12 months",
        "es": "Víctimas de acoso físico en espacios públicos, últimos 12 meses",
        "fr": "Victimes de harcèlement physique dans l'espace public, 12 derniers mois"}),
    Indicator("11.7.2b", "harassment_sexual", {
        "en": "Victims of sexual harassment in public places, last 12 months",
        "es": "Víctimas de acoso sexual en espacios públicos, últimos 12 meses",
        "fr": "Victimes de harcèlement sexuel dans l'espace public, 12 derniers mois"}),
)  # fmt: skip
"""The indicators, each a proportion of the variable of :func:`safercities.survey.variables.derive`."""


def publish(frame: pd.DataFrame, rules: SurveyRules) -> pd.DataFrame:
    """Flag estimates with a CV above ``max_cv``; withhold those on fewer than ``min_respondents`` respondents."""
    out = frame.copy()
    small = out["n"] < rules.min_respondents
    out["unreliable"] = (out["cv"] > rules.max_cv) & ~small
    out["suppressed"] = small
    for column in FIGURES:
        if column in out:
            out[column] = out[column].astype(float).where(~small)
    note = pd.Series("", index=out.index, dtype=object)
    note[small] = "suppressed: " + out.loc[small, "n"].astype(str) + f" respondents (< {rules.min_respondents})"
    note[out["unreliable"]] = f"unreliable: CV above {rules.max_cv:.0%}"
    out["note"] = note
    return out


def _domains(variables: pd.DataFrame, by: tuple[str, ...], areas: pd.Series | None) -> dict[str, pd.Series | None]:
    for name in by:
        check_choice("by", name, BREAKDOWNS, "survey indicators")
    columns: dict[str, pd.Series | None] = {}
    for name in by:
        if name == "all":
            columns[name] = None
        elif name == "area":
            columns[name] = areas if areas is not None else variables["area_id"]
        else:
            columns[name] = variables[name]
    return columns


def _by_domain(
    design: Design,
    values: pd.DataFrame,
    kind: str,
    domains: Mapping[str, pd.Series | None],
    confidence: float,
    method: str | None,
) -> pd.DataFrame:
    parts = []
    for name, labels in domains.items():
        table = estimate(design, values, kind=kind, domain=labels, confidence=confidence, method=method)
        table.insert(0, "by", name)
        table["domain"] = table["domain"].where(table["domain"].notna(), "all").astype(str)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def sdg_indicators(
    data: SurveyData,
    rules: SurveyRules | None = None,
    *,
    by: tuple[str, ...] = BREAKDOWNS,
    areas: pd.Series | None = None,
    lang: str = "en",
    confidence: float = 0.95,
    method: str | None = None,
    places: bool = True,
) -> pd.DataFrame:
    """The SDG indicators by each breakdown in ``by``, flagged and suppressed per ``rules``.

    ``areas`` gives each respondent's area at the level to publish (default: the area recorded).
    With ``places``, 11.7.2 is also given by place of occurrence (``by = "place"``).
    """
    rules = rules or SurveyRules()
    variables = derive(data.respondents)
    design = person_design(data)
    domains = _domains(variables, by, areas)
    chosen = [i for i in INDICATORS]
    table = _by_domain(design, variables[[i.variable for i in chosen]], "proportion", domains, confidence, method)
    names = {i.variable: i for i in chosen}
    table.insert(0, "indicator", table["variable"].map(lambda v: names[v].id))
    table.insert(1, "name", table["variable"].map(lambda v: names[v].names[lang]))
    if places:
        place_columns = [c for c in variables.columns if c.startswith("harassment_at_")]
        at = estimate(design, variables[place_columns], kind="proportion", confidence=confidence, method=method)
        at.insert(0, "by", "place")
        at["domain"] = at["variable"].str.removeprefix("harassment_at_")
        at.insert(0, "indicator", "11.7.2")
        at.insert(1, "name", names["harassment"].names[lang])
        table = pd.concat([table, at], ignore_index=True)
    return publish(table.drop(columns=["level"]), rules)


def crime_rates(
    data: SurveyData,
    rules: SurveyRules | None = None,
    *,
    by: tuple[str, ...] = ("all", "area"),
    areas: pd.Series | None = None,
    lang: str = "en",
    confidence: float = 0.95,
    method: str | None = None,
) -> pd.DataFrame:
    """Prevalence (share victimised) and incidents per 1,000 by crime type, last 12 months, with intervals.

    Crimes against households are per household (household weights), crimes against persons per adult.
    """
    rules = rules or SurveyRules()
    instrument = load_instrument()
    variables = derive(data.respondents)
    domains = _domains(variables, by, areas)
    parts = []
    for unit, design in (("person", person_design(data)), ("household", household_design(data))):
        crimes = [c for c in instrument.crimes if c.unit == unit]
        if not crimes:
            continue
        prevalence = _by_domain(
            design, variables[[f"victim_{c.key}" for c in crimes]], "proportion", domains, confidence, method
        )
        prevalence["measure"] = "prevalence"
        incidence = _by_domain(
            design, variables[[f"incidents_{c.key}" for c in crimes]], "mean", domains, confidence, method
        )
        for column in ("estimate", "se", "lower", "upper"):
            incidence[column] = incidence[column] * 1000.0
        incidence["measure"] = "per_1000"
        table = pd.concat([prevalence, incidence], ignore_index=True)
        table["crime"] = table["variable"].str.split("_", n=1).str[1]
        table["unit"] = unit
        parts.append(table)
    out = pd.concat(parts, ignore_index=True)
    lookup = {c.key: c for c in instrument.crimes}
    out["iccs"] = out["crime"].map(lambda k: lookup[k].iccs)
    out["name"] = out["crime"].map(lambda k: lookup[k].labels[lang])
    front = ["crime", "name", "iccs", "unit", "measure", "by", "domain"]
    out = out[front + [c for c in out.columns if c not in front and c not in ("variable", "level")]]
    return publish(out, rules)


def respondent_areas(ws: Workspace, data: SurveyData, level: str | None) -> pd.Series | None:
    """Each respondent's area at ``level`` (the recorded area when ``level`` is None)."""
    if level is None:
        return None
    links = lineage(ws.store.areas(), level).dropna(subset=["target_id"])
    mapping = dict(zip(links["area_id"], links["target_id"], strict=True))
    recorded = data.respondents["area_id"]
    direct = recorded.where(recorded.isin(set(links["target_id"])))
    return direct.fillna(recorded.map(mapping))


def survey_indicators(
    ws: Workspace,
    survey_id: str | None = None,
    *,
    level: str | None = None,
    by: tuple[str, ...] = BREAKDOWNS,
    lang: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The SDG indicators of a workspace's survey, by sex, age group, disability and area at ``level``."""
    data = load_survey(ws, survey_id)
    return sdg_indicators(
        data,
        load_rules(ws.root),
        by=by,
        areas=respondent_areas(ws, data, level),
        lang=lang or ws.config.lang,
        confidence=confidence,
    )


def survey_crime_rates(
    ws: Workspace,
    survey_id: str | None = None,
    *,
    level: str | None = None,
    by: tuple[str, ...] = ("all", "area"),
    lang: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Prevalence and incidence per 1,000 by crime type of a workspace's survey."""
    data = load_survey(ws, survey_id)
    return crime_rates(
        data,
        load_rules(ws.root),
        by=by,
        areas=respondent_areas(ws, data, level),
        lang=lang or ws.config.lang,
        confidence=confidence,
    )


def direct_proportion(values: pd.Series, weights: pd.Series) -> float:
    """The weighted share of ones among answered values (the point estimate, for checks)."""
    ok = values.notna().to_numpy()
    w = weights.to_numpy(dtype=np.float64)[ok]
    return float(np.dot(values.to_numpy(dtype=np.float64)[ok], w) / w.sum())
