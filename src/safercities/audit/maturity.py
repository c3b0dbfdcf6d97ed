"""Data maturity: how ready the city's knowledge system is, measured on what the workspace holds.

The Urban Safety Monitor asks a city how mature its safety data are. Here the answer is computed, not declared:
the coverage of the framework's indicators in each dimension, the share of police records that could be placed
on the map, how many years of incidents the store holds without gaps, and how recent the last victimisation
survey is (where the workspace has a survey table). Each criterion gets a level from 0 (absent) to 4
(advanced) by a rule that is printed next to it; the overall level is the lowest of them, because an audit is
only as good as its weakest input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from safercities import __version__
from safercities.audit.framework import Framework, load_framework
from safercities.audit.indicators import indicator_values
from safercities.config import LANGUAGES
from safercities.errors import check_choice
from safercities.workspace import Workspace

AREA_COVERAGE = 0.8
"""An indicator counts as available when some period has a value for at least this share of the areas."""
GEOCODING_REASONS = ("missing_coordinates", "bad_coordinates", "swapped_coordinates", "outside_areas")
"""Reject reasons of incident imports that mean the record could not be placed on the map."""

LEVELS = {
    0: {"en": "absent", "es": "inexistente", "fr": "absent"},
    1: {"en": "initial", "es": "inicial", "fr": "initial"},
    2: {"en": "developing", "es": "en desarrollo", "fr": "en développement"},
    3: {"en": "established", "es": "consolidado", "fr": "établi"},
    4: {"en": "advanced", "es": "avanzado", "fr": "avancé"},
}
CRITERIA = {
    "indicator_coverage": {
        "en": "Indicator coverage: {dimension}",
        "es": "Cobertura de indicadores: {dimension}",
        "fr": "Couverture des indicateurs : {dimension}",
    },
    "geocoding_rate": {
        "en": "Police records placed on the map",
        "es": "Registros policiales ubicados en el mapa",
        "fr": "Faits de police localisés sur la carte",
    },
    "time_coverage": {
        "en": "Years of incident data",
        "es": "Años de datos de incidentes",
        "fr": "Années de données sur les faits",
    },
    "survey_recency": {
        "en": "Age of the last victimisation survey",
        "es": "Antigüedad de la última encuesta de victimización",
        "fr": "Ancienneté de la dernière enquête de victimation",
    },
}
RULES = {
    "indicator_coverage": {
        "en": "share of the dimension's indicators with a value for at least 80% of the areas in some period: "
        "0 none, 1 below 25%, 2 below 50%, 3 below 80%, 4 from 80%",
        "es": "proporción de los indicadores de la dimensión con valor para al menos el 80% de las zonas en algún "
        "periodo: 0 ninguno, 1 menos del 25%, 2 menos del 50%, 3 menos del 80%, 4 desde el 80%",
        "fr": "part des indicateurs de la dimension ayant une valeur pour au moins 80 % des zones sur une période : "
        "0 aucun, 1 moins de 25 %, 2 moins de 50 %, 3 moins de 80 %, 4 à partir de 80 %",
    },
    "geocoding_rate": {
        "en": "stored incidents / (stored + rejected for missing, invalid or outside coordinates): "
        "0 no incidents, 1 below 70%, 2 below 85%, 3 below 95%, 4 from 95%",
        "es": "incidentes almacenados / (almacenados + rechazados por coordenadas faltantes, inválidas o fuera): "
        "0 sin incidentes, 1 menos del 70%, 2 menos del 85%, 3 menos del 95%, 4 desde el 95%",
        "fr": "faits stockés / (stockés + rejetés pour coordonnées absentes, invalides ou hors zone) : "
        "0 aucun fait, 1 moins de 70 %, 2 moins de 85 %, 3 moins de 95 %, 4 à partir de 95 %",
    },
    "time_coverage": {
        "en": "years from the first to the last month with incidents: 0 none, 1 below 1, 2 below 3, 3 below 5, "
        "4 from 5; one level less (not below 1) when a month in between has no incident at all",
        "es": "años del primer al último mes con incidentes: 0 ninguno, 1 menos de 1, 2 menos de 3, 3 menos de 5, "
        "4 desde 5; un nivel menos (no por debajo de 1) si un mes intermedio no tiene ningún incidente",
        "fr": "années du premier au dernier mois avec des faits : 0 aucune, 1 moins de 1, 2 moins de 3, 3 moins de "
        "5, 4 à partir de 5 ; un niveau de moins (pas sous 1) si un mois intermédiaire n'a aucun fait",
    },
    "survey_recency": {
        "en": "years since the most recent survey response (or survey import): 0 no survey, 1 more than 4, "
        "2 up to 4, 3 up to 2, 4 up to 1",
        "es": "años desde la respuesta de encuesta más reciente (o su importación): 0 sin encuesta, 1 más de 4, "
        "2 hasta 4, 3 hasta 2, 4 hasta 1",
        "fr": "années depuis la réponse d'enquête la plus récente (ou son importation) : 0 aucune enquête, "
        "1 plus de 4, 2 jusqu'à 4, 3 jusqu'à 2, 4 jusqu'à 1",
    },
}
OVERALL_RULE = {
    "en": "the overall level is the lowest level of the criteria",
    "es": "el nivel general es el nivel más bajo de los criterios",
    "fr": "le niveau général est le plus bas niveau des critères",
}


def level_from_share(share: float, cuts: tuple[float, float, float]) -> int:
    """0 for nothing, else 1 to 4 by the thresholds ``cuts`` (below the first: 1; from the last: 4)."""
    if not np.isfinite(share) or share <= 0:
        return 0
    return 1 + int(np.searchsorted(np.asarray(cuts), share, side="right"))


@dataclass(frozen=True)
class Maturity:
    """The data-maturity self-assessment: one row per criterion, and the overall level."""

    criteria: pd.DataFrame  # criterion, dimension, value, unit, level, detail
    overall: int
    as_of: dt.date
    framework: str
    provenance: dict[str, object] = field(default_factory=dict)

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """Criteria with their name, level label and rule in ``lang``."""
        check_choice("lang", lang, LANGUAGES, "Maturity.to_frame")
        frame = self.criteria.copy()
        labels = frame[f"dimension_label_{lang}"]
        frame["name"] = [CRITERIA[c][lang].format(dimension=d) for c, d in zip(frame["criterion"], labels, strict=True)]
        frame["level_label"] = [LEVELS[int(v)][lang] for v in frame["level"]]
        frame["rule"] = [RULES[c][lang] for c in frame["criterion"]]
        columns = ["criterion", "dimension", "name", "value", "unit", "level", "level_label", "rule", "detail"]
        return frame[columns]

    def summary(self, lang: str = "en") -> str:
        check_choice("lang", lang, LANGUAGES, "Maturity.summary")
        return f"{LEVELS[self.overall][lang]} ({self.overall}/4): {OVERALL_RULE[lang]}"


def data_maturity(
    ws: Workspace,
    framework: str | Path | Framework = "default",
    *,
    level: str | None = None,
    as_of: dt.date | None = None,
    values: pd.DataFrame | None = None,
) -> Maturity:
    """Assess the workspace's data: indicator coverage by dimension, geocoding rate, time coverage, survey recency.

    ``values`` are the framework's indicator values when already computed (else :func:`indicator_values`);
    ``as_of`` is the date survey recency is measured from (today by default).
    """
    fw = load_framework(framework)
    as_of = as_of or dt.date.today()
    if values is None:
        values = indicator_values(ws, fw, level=level)
    rows = _coverage(fw, values)
    rows.append(_geocoding(ws))
    rows.append(_time_coverage(ws))
    survey = _survey_recency(ws, as_of)
    if survey is not None:
        rows.append(survey)
    criteria = pd.DataFrame(rows)
    return Maturity(
        criteria=criteria,
        overall=int(criteria["level"].min()),
        as_of=as_of,
        framework=fw.id,
        provenance={
            "function": "safercities.audit.maturity.data_maturity",
            "version": __version__,
            "framework_sha256": fw.sha256,
            "area_coverage": AREA_COVERAGE,
        },
    )


def _blank_dimension() -> dict[str, str]:
    return {f"dimension_label_{lang}": "" for lang in LANGUAGES}


def _coverage(fw: Framework, values: pd.DataFrame) -> list[dict[str, object]]:
    """Share of each dimension's indicators available for most areas in at least one period."""
    if len(values):
        by_period = values.assign(known=values["value"].notna()).groupby(["indicator_id", "period"])["known"].mean()
        best = by_period.groupby(level="indicator_id").max()
    else:
        best = pd.Series(dtype=float)
    rows = []
    for dimension in fw.dimensions:
        shares = best.reindex(list(dimension.indicator_ids)).fillna(0.0)
        available = int((shares >= AREA_COVERAGE).sum())
        share = available / len(dimension.indicator_ids)
        missing = [i for i in dimension.indicator_ids if shares[i] < AREA_COVERAGE]
        rows.append(
            {
                "criterion": "indicator_coverage",
                "dimension": dimension.id,
                **{f"dimension_label_{lang}": dimension.name[lang] for lang in LANGUAGES},
                "value": 100.0 * share,
                "unit": "percent",
                "level": level_from_share(share, (0.25, 0.5, 0.8)),
                "detail": f"{available} of {len(dimension.indicator_ids)} indicators available"
                + (f"; lacking: {', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}" if missing else ""),
            }
        )
    return rows


def _geocoding(ws: Workspace) -> dict[str, object]:
    imports = ws.imports()
    committed = imports[(imports["kind"] == "incidents") & (imports["status"] == "committed")]
    rejects = ws.rejects()
    placed_not = int(
        (rejects["import_id"].isin(committed["import_id"]) & rejects["reason_code"].isin(GEOCODING_REASONS)).sum()
    )
    stored = ws.store.count("incidents")
    total = stored + placed_not
    rate = stored / total if total else float("nan")
    return {
        "criterion": "geocoding_rate",
        "dimension": "",
        **_blank_dimension(),
        "value": 100.0 * rate if total else float("nan"),
        "unit": "percent",
        "level": level_from_share(rate, (0.70, 0.85, 0.95)) if total else 0,
        "detail": f"{stored:,} incidents stored, {placed_not:,} rejected for their location",
    }


def _time_coverage(ws: Workspace) -> dict[str, object]:
    first, last = ws.store.time_span(timezone=ws.config.timezone)
    base = {"criterion": "time_coverage", "dimension": "", **_blank_dimension(), "unit": "years"}
    if first is None or last is None:
        return base | {"value": 0.0, "level": 0, "detail": "no incidents"}
    counts = ws.cube(by="month")
    monthly = counts.groupby("period")["count"].sum()
    months = len(monthly)
    gaps = int((monthly == 0).sum())
    years = months / 12.0
    level = level_from_share(years, (1.0, 3.0, 5.0))
    if gaps and level > 1:
        level -= 1
    return base | {
        "value": years,
        "level": level,
        "detail": f"{first:%Y-%m} to {last:%Y-%m}: {months} months, {gaps} without any incident",
    }


def survey_tables() -> dict[str, dict[str, str]]:
    """The workspace's survey tables (name -> columns), as the survey module declares them."""
    from safercities.schema import TABLES

    return {name: columns for name, columns in TABLES.items() if name.startswith("survey")}


def _survey_recency(
    ws: Workspace, as_of: dt.date, tables: dict[str, dict[str, str]] | None = None
) -> dict[str, object] | None:
    """Years since the latest survey response; None when the workspace has no survey table at all."""
    tables = survey_tables() if tables is None else tables
    if not tables:
        return None
    latest: pd.Timestamp | None = None
    how = ""
    for table, columns in tables.items():
        dates = [c for c, t in columns.items() if t.split()[0].upper() in ("DATE", "TIMESTAMPTZ")]
        if not dates or not ws.store.count(table):
            continue
        frame = ws.store.read(table)
        for column in dates:
            found = pd.to_datetime(frame[column], errors="coerce", utc=True).max()
            if pd.notna(found) and (latest is None or found > latest):
                latest, how = found, f"latest {table}.{column}"
    if latest is None:
        imports = ws.imports()
        mine = imports[imports["kind"].str.startswith("survey") & (imports["status"] == "committed")]
        if len(mine):
            latest, how = pd.to_datetime(mine["finished_at"], utc=True).max(), "latest survey import"
    base = {"criterion": "survey_recency", "dimension": "", **_blank_dimension(), "unit": "years"}
    if latest is None:
        return base | {"value": float("nan"), "level": 0, "detail": "no survey data"}
    age = (pd.Timestamp(as_of, tz="UTC") - latest).days / 365.25
    level = 4 if age <= 1 else 3 if age <= 2 else 2 if age <= 4 else 1
    return base | {"value": max(age, 0.0), "level": level, "detail": f"{how}: {latest:%Y-%m-%d}"}
