"""Indicator values of the synthetic city for every imported indicator of a framework, with their truth.

Each community's values follow from what the city was drawn with, so that an audit run on them can be checked:

* ``census``: the census covariates themselves (poverty, youth unemployment, school dropout, street lighting,
  young population), as a percentage;
* ``crimes``: what the true crimes imply (``truth_events.csv``): the dark figure and the reporting rate from the
  crimes recorded or not, household victimisation from the true crimes per household, family violence and
  violent injuries seen by the family and health services as a binomial thinning of the true crimes;
* ``deprivation``: every other indicator moves with the community's deprivation (the standardised mean of
  poverty, youth unemployment, school dropout and the lack of street lighting), in its direction (a
  ``higher_is_worse`` indicator rises with deprivation), with a known loading and independent noise;
* ``city``: indicators that exist only for the whole city (budgets, procurement, elected office).

Survey-based values carry the sampling error of a survey of :data:`SURVEY_N` respondents per community
(standard error and 95% interval in the file). A few administrative values are missing on purpose (an empty
cell, never a zero). The file is long (area_id, period, indicator_id, value, lower, upper, se, source), one
period per simulated calendar year, and ``safercities import indicators`` reads it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from safercities.audit.framework import Framework, Indicator, load_framework

if TYPE_CHECKING:
    from safercities.sim import SimulatedCity

FILE = "indicators.csv"
SURVEY_N = 120
"""Respondents per community of the simulated victimisation survey."""
MISSING_SHARE = 0.05
"""Share of administrative values left empty on purpose."""
YEAR_NOISE = 0.15
"""Year-to-year noise of a deprivation-driven indicator, relative to its between-community spread."""
CENSUS = {
    "poverty_rate": "poverty",
    "youth_unemployment_rate": "youth_unemployment",
    "school_dropout_rate": "school_dropout",
    "street_lighting_coverage": "street_lighting",
    "youth_population_share": "youth_share",
}
"""Indicators that are a census covariate of the synthetic city, as a percentage."""
CITY_LEVEL = frozenset(
    {
        "unsentenced_detainees",
        "women_elected_share",
        "single_bid_share",
        "direct_award_share",
        "prevention_budget_share",
        "information_requests_answered",
        "local_safety_strategy",
        "safety_coordination_body",
        "crime_data_published",
    }
)
FROM_OTHER_SOURCES = frozenset({"procurement_risk"})
"""Indicators another source of the synthetic city supplies (the procurement screening of its OCDS history)."""
FAMILY_VIOLENCE_SEEN = 0.45
"""Chance that a true family-violence crime reaches the police, prosecutors or family services."""
INJURY_SEEN = 0.25
"""Chance that a true assault ends in an emergency-department visit."""
VIOLENT = ("201", "301", "302", "401", "402")
"""Local codes of the violent crimes asked about for the reporting rate (assault, sexual violence, robbery)."""
HOUSEHOLD = ("201", "202", "203", "204", "301", "302", "401", "402", "501", "502", "503", "504", "701")
"""Local codes of the crimes a household survey counts."""


@dataclass(frozen=True)
class _Shape:
    """How a deprivation-driven indicator is drawn: centre, spread and loading on deprivation."""

    centre: float
    spread: float
    loading: float = 0.7


# centre (typical value), spread (of the link scale), loading on deprivation; by unit unless named
_BY_UNIT = {
    "percent": _Shape(40.0, 0.6),
    "per_100k": _Shape(100.0, 0.35),
    "per_10k": _Shape(8.0, 0.35),
    "per_1000": _Shape(40.0, 0.35),
    "per_km2": _Shape(50.0, 0.4),
    "count": _Shape(1.2, 0.4),
    "minutes": _Shape(12.0, 0.3),
    "years": _Shape(75.0, 2.0),
    "ratio": _Shape(25.0, 0.2),
    "index": _Shape(0.0, 1.0),
    "currency_month": _Shape(14_000.0, 0.35),
    "hectares_per_100k": _Shape(120.0, 0.5),
    "yes_no": _Shape(0.5, 1.0),
}
_NAMED = {
    "unemployment_rate": _Shape(4.0, 0.35, 0.8),
    "informal_employment_share": _Shape(45.0, 0.5, 0.8),
    "neet_youth_share": _Shape(18.0, 0.5, 0.8),
    "overcrowding_share": _Shape(20.0, 0.6, 0.8),
    "slum_population_share": _Shape(8.0, 0.8, 0.8),
    "life_expectancy": _Shape(75.5, 1.5, 0.6),
    "under5_mortality": _Shape(14.0, 0.3, 0.6),
    "adolescent_birth_rate": _Shape(60.0, 0.35, 0.7),
    "suicide_rate": _Shape(6.0, 0.3, 0.3),
    "police_officers_rate": _Shape(250.0, 0.25, 0.3),
    "police_response_time": _Shape(14.0, 0.3, 0.5),
    "trust_in_police": _Shape(35.0, 0.5, 0.5),
    "feeling_safe_after_dark": _Shape(45.0, 0.6, 0.7),
    "health_insurance_coverage": _Shape(75.0, 0.5, 0.7),
    "primary_completion_rate": _Shape(95.0, 0.6, 0.7),
    "secondary_completion_rate": _Shape(80.0, 0.6, 0.8),
    "school_enrolment_rate": _Shape(92.0, 0.6, 0.7),
    "average_years_schooling": _Shape(10.5, 0.15, 0.8),
    "drinking_water_access": _Shape(94.0, 0.7, 0.7),
    "waste_collection_coverage": _Shape(93.0, 0.7, 0.6),
    "voter_turnout": _Shape(48.0, 0.3, 0.5),
    "bribery_prevalence": _Shape(15.0, 0.4, 0.4),
    "marginalisation_index": _Shape(0.0, 1.0, 0.9),
    "public_transport_access": _Shape(75.0, 0.6, 0.4),
}
_LINEAR_UNITS = ("years", "index")
SURVEY_SOURCES = frozenset({"victimisation_survey"})
ADMIN_SOURCES = frozenset({"admin_records", "health_records", "education_records", "justice_records"})


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else x * 0.0


def deprivation(census: pd.DataFrame) -> np.ndarray:
    """Standardised mean of poverty, youth unemployment, school dropout and the lack of street lighting."""
    parts = [_standardise(census[c].to_numpy(np.float64)) for c in ("poverty", "youth_unemployment", "school_dropout")]
    parts.append(-_standardise(census["street_lighting"].to_numpy(np.float64)))
    return _standardise(np.mean(parts, axis=0))


def _shape(indicator: Indicator) -> _Shape:
    return _NAMED.get(indicator.id, _BY_UNIT.get(indicator.unit, _Shape(10.0, 0.4)))


def _draw(shape: _Shape, unit: str, z: np.ndarray) -> np.ndarray:
    """A value on the unit's natural scale from a standard-normal driver ``z``."""
    if unit == "percent":
        return np.asarray(100.0 * _expit(_logit(shape.centre / 100.0) + shape.spread * z), dtype=np.float64)
    if unit in _LINEAR_UNITS:
        return np.asarray(shape.centre + shape.spread * z, dtype=np.float64)
    if unit == "yes_no":
        return np.asarray((z > 0).astype(np.float64))
    return np.asarray(shape.centre * np.exp(shape.spread * z), dtype=np.float64)


def _yearly(events: pd.DataFrame, codes: tuple[str, ...], ids: np.ndarray, years: list[str], recorded: bool | None):
    """Crimes of ``codes`` per community x year (true ones, or only those recorded / not recorded)."""
    keep = events["offence"].isin(codes) & events["area_id"].isin(ids)
    if recorded is not None:
        keep &= events["recorded"].astype(bool) == recorded
    chosen = events.loc[keep]
    table = pd.crosstab(chosen["area_id"], chosen["occurred"].str.slice(0, 4))
    return table.reindex(index=ids, columns=years, fill_value=0).to_numpy(np.float64)


def simulate_indicators(
    city: SimulatedCity,
    seed: int | None = None,
    *,
    framework: str | Path | Framework = "default",
    outdir: Path | None = None,
) -> dict[str, Any]:
    """Write ``indicators.csv`` (long) for the imported indicators of ``framework`` and return its truth.

    The truth holds, per indicator, how it was drawn (``rule``: census, crimes, deprivation or city; with the
    shape and loading), each community's deprivation score, the true (pre-survey) proportions of the survey
    indicators, and the (area, period, indicator) left missing on purpose.
    """
    fw = load_framework(framework)
    rng = np.random.default_rng([int(city.seed if seed is None else seed), 0x1D1CA7])
    census = pd.read_csv(city.census, dtype={"area_id": str}).sort_values("area_id").reset_index(drop=True)
    ids = census["area_id"].to_numpy(object)
    n = len(ids)
    first_year = int(str(city.truth["parameters"]["start"])[:4])
    years = [str(first_year + k) for k in range(int(city.truth["parameters"]["years"]))]
    city_id = _city_id(city)
    events = city.true_events()
    depriv = deprivation(census)
    population = census["population"].to_numpy(np.float64)
    households = census["households"].to_numpy(np.float64)

    rows: list[pd.DataFrame] = []
    rules: dict[str, dict[str, Any]] = {}
    true_props: dict[str, dict[str, list[float]]] = {}
    for indicator in (i for i in fw.indicators if i.imported and i.id not in FROM_OTHER_SOURCES):
        if indicator.id in CITY_LEVEL:
            shape = _shape(indicator)
            value = _draw(shape, indicator.unit, rng.standard_normal(len(years)))
            rows.append(_frame([city_id] * len(years), years, indicator, value))
            rules[indicator.id] = {"rule": "city", "level": "city", "centre": shape.centre, "spread": shape.spread}
            continue
        rule, truth_value = _truth_value(indicator, census, events, ids, years, depriv, population, households, rng)
        rules[indicator.id] = rule | {"level": "community"}
        value = truth_value
        se = np.full_like(value, np.nan)
        if indicator.source in SURVEY_SOURCES and indicator.unit == "percent":
            p = np.clip(truth_value / 100.0, 0.0, 1.0)
            estimate = rng.binomial(SURVEY_N, p) / SURVEY_N
            value = 100.0 * estimate
            se = 100.0 * np.sqrt(np.maximum(estimate * (1 - estimate), 1e-4) / SURVEY_N)
            true_props[indicator.id] = {y: list(np.round(p[:, k], 6)) for k, y in enumerate(years)}
            rules[indicator.id]["survey_n"] = SURVEY_N
        frame = _frame(np.repeat(ids, len(years)), np.tile(years, n), indicator, value.ravel(), se.ravel())
        if indicator.source in ADMIN_SOURCES and indicator.id not in CENSUS:
            drop = rng.random(len(frame)) < MISSING_SHARE
            frame.loc[drop, ["value", "lower", "upper", "se"]] = np.nan
        rows.append(frame)
    table = pd.concat(rows, ignore_index=True)
    path = (outdir or city.outdir) / FILE
    _write(table, path)
    missing = table[table["value"].isna()]
    return {
        "file": FILE,
        "layout": "long",
        "framework": fw.id,
        "framework_sha256": fw.sha256,
        "periods": years,
        "level": "community",
        "city_area": city_id,
        "values": int(table["value"].notna().sum()),
        "indicators": rules,
        "deprivation": {
            "form": "standardised mean of z(poverty), z(youth_unemployment), z(school_dropout), -z(street_lighting)",
            "by_area": dict(zip(ids, np.round(depriv, 6).tolist(), strict=True)),
        },
        "survey_true_proportions": true_props,
        "missing": missing[["area_id", "period", "indicator_id"]].to_dict(orient="records"),
        "notes": [
            "Survey indicators (victimisation_survey, percent) are estimates from SURVEY_N respondents per "
            "community: the truth is in survey_true_proportions; se and the 95% Wald interval are in the file.",
            "Census indicators are the census covariates x 100, carried forward to every year.",
            "A missing value is an empty cell: it must stay NaN after import, never become zero.",
        ],
    }


def _city_id(city: SimulatedCity) -> str:
    import json

    collection = json.loads(Path(city.areas).read_text(encoding="utf-8"))
    for feature in collection["features"]:
        if feature["properties"]["level"] == "city":
            return str(feature["properties"]["area_id"])
    raise ValueError("the synthetic city has no city-level area")


def _truth_value(
    indicator: Indicator,
    census: pd.DataFrame,
    events: pd.DataFrame,
    ids: np.ndarray,
    years: list[str],
    depriv: np.ndarray,
    population: np.ndarray,
    households: np.ndarray,
    rng: np.random.Generator,
) -> tuple[dict[str, Any], np.ndarray]:
    """(rule, values communities x years) of a community-level indicator."""
    n, k = len(ids), len(years)
    if indicator.id in CENSUS:
        column = CENSUS[indicator.id]
        values = np.repeat(100.0 * census[column].to_numpy(np.float64)[:, None], k, axis=1)
        return {"rule": "census", "covariate": column, "scale": 100.0}, values
    with np.errstate(divide="ignore", invalid="ignore"):
        if indicator.id == "dark_figure":
            true = _yearly(events, HOUSEHOLD, ids, years, None)
            recorded = _yearly(events, HOUSEHOLD, ids, years, True)
            return {"rule": "crimes", "form": "100 * (1 - recorded / true) of household crimes"}, np.where(
                true > 0, 100.0 * (1 - recorded / np.maximum(true, 1)), 50.0
            )
        if indicator.id == "crime_reporting_rate":
            true = _yearly(events, VIOLENT, ids, years, None)
            recorded = _yearly(events, VIOLENT, ids, years, True)
            return {"rule": "crimes", "form": "100 * recorded / true of violent crimes"}, np.where(
                true > 0, 100.0 * recorded / np.maximum(true, 1), 50.0
            )
        if indicator.id == "victimisation_prevalence":
            true = _yearly(events, HOUSEHOLD, ids, years, None)
            return {"rule": "crimes", "form": "100 * (1 - exp(-true household crimes / households))"}, 100.0 * (
                1 - np.exp(-true / households[:, None])
            )
        if indicator.id == "family_violence_rate":
            true = _yearly(events, ("203",), ids, years, None)
            seen = rng.binomial(true.astype(np.int64), FAMILY_VIOLENCE_SEEN)
            rule = {
                "rule": "crimes",
                "form": "binomial(true family violence, p) / population * 100000",
                "p": FAMILY_VIOLENCE_SEEN,
            }
            return rule, seen / population[:, None] * 100_000
        if indicator.id == "violent_injury_rate":
            true = _yearly(events, ("201",), ids, years, None)
            seen = rng.binomial(true.astype(np.int64), INJURY_SEEN)
            rule = {"rule": "crimes", "form": "binomial(true assaults, p) / population * 100000", "p": INJURY_SEEN}
            return rule, seen / population[:, None] * 100_000
    shape = _shape(indicator)
    sign = 1.0 if indicator.higher_is_worse else -1.0
    own = rng.standard_normal(n)
    z = sign * shape.loading * depriv + np.sqrt(1.0 - shape.loading**2) * own
    z = z[:, None] + YEAR_NOISE * rng.standard_normal((n, k))
    rule = {
        "rule": "deprivation",
        "centre": shape.centre,
        "spread": shape.spread,
        "loading": shape.loading,
        "sign": sign,
        "form": {
            "percent": "100 * expit(logit(centre / 100) + spread * z)",
            "years": "centre + spread * z",
            "index": "centre + spread * z",
        }.get(indicator.unit, "centre * exp(spread * z)"),
        "z": "sign * loading * deprivation + sqrt(1 - loading^2) * e_area + YEAR_NOISE * e_year",
    }
    value = _draw(shape, indicator.unit, z)
    if indicator.unit == "count":  # counts are whole: Poisson around the drawn mean per 1,000 inhabitants
        value = rng.poisson(value * population[:, None] / 1000.0).astype(np.float64)
        rule["form"] = "poisson(population / 1000 * centre * exp(spread * z))"
    return rule, value


def _frame(
    area: Any, period: Any, indicator: Indicator, value: np.ndarray, se: np.ndarray | None = None
) -> pd.DataFrame:
    se = np.full(len(value), np.nan) if se is None else se
    return pd.DataFrame(
        {
            "area_id": area,
            "period": period,
            "indicator_id": indicator.id,
            "value": value,
            "lower": value - 1.959964 * se,
            "upper": value + 1.959964 * se,
            "se": se,
            "source": indicator.source,
        }
    )


def _write(table: pd.DataFrame, path: Path) -> Path:
    """UTF-8 CSV; an empty cell is a missing value."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g", na_rep="")
    return path
