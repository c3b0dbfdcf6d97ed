"""The JSON Schema of one practice of the library, and the words its facets may take.

A practice is a YAML file under ``practices/library/`` (or a workspace's own ``practices/`` folder). The schema is
the single check: the shipped library, a file a user adds and every row of an imported spreadsheet pass through
:func:`validate_practice`, which names the file and the field at fault.

Problems and risk factors are the ids of the shared codebook (the audit's ``codebook.yaml``); the sectors that a
practice needs as partners are the actor sectors of :mod:`safercities.governance.actors`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import jsonschema

from safercities.errors import InputError
from safercities.governance.actors import SECTORS

LANGUAGES = ("en", "es", "fr")

# The shared codebook of the audit (handoff vocabulary): the ids a practice may say it addresses.
PROBLEMS = (
    "robbery",
    "burglary",
    "vehicle_crime",
    "theft",
    "assault",
    "homicide",
    "sexual_violence",
    "domestic_violence",
    "youth_violence",
    "gang_violence",
    "drug_markets",
    "harassment_public",
    "vandalism",
    "fear_of_crime",
    "corruption",
    "extortion",
)
RISK_FACTORS = (
    "poor_lighting",
    "low_visibility",
    "poor_maintenance",
    "abandoned_buildings",
    "deserted_spaces",
    "lack_public_transport",
    "alcohol_outlets",
    "school_dropout",
    "youth_unemployment",
    "poverty",
    "unemployment",
    "overcrowding",
    "weak_social_cohesion",
    "low_trust_police",
    "low_reporting",
    "police_absence",
    "drug_use",
    "gender_norms",
    "lack_services",
    "firearms",
)
PROTECTIVE_FACTORS = (
    "community_organisation",
    "youth_programmes",
    "street_activity",
    "good_lighting",
    "trusted_police",
    "engaged_schools",
    "maintained_public_spaces",
    "victim_services",
)

APPROACHES = (
    "developmental_social",
    "locally_based",
    "situational",
    "tertiary",
    "community_policing",
    "access_to_justice",
    "victim_support",
    "youth",
    "vawg",
    "corruption_prevention",
)
"""The approaches of the UN Guidelines for the Prevention of Crime (art. 6) and of the UNODC note on safer cities."""

RATINGS = ("effective", "promising", "insufficient", "no_effect", "harmful")
"""CrimeSolutions' scale (effective, promising, no effects) with 'harmful' split out of 'no effects' and
'insufficient' for practices whose evaluations do not yet allow a rating."""

DISCOURAGED = ("no_effect", "harmful")
"""Ratings that a match shows only with a warning, after every other candidate."""

EMMIE_STRENGTH = ("strong", "moderate", "limited", "none")
EFFECT_DIRECTIONS = ("reduces", "mixed", "no_effect", "increases")

TARGET_GROUPS = (
    "general_population",
    "residents",
    "children",
    "families",
    "youth",
    "at_risk_youth",
    "women_girls",
    "men_boys",
    "victims",
    "offenders",
    "people_who_use_drugs",
    "police",
    "public_officials",
    "businesses",
)
SETTINGS = (
    "home",
    "school",
    "street",
    "public_space",
    "public_transport",
    "neighbourhood",
    "city",
    "commercial",
    "nightlife",
    "police",
    "court",
    "prison_probation",
    "health_facility",
    "local_administration",
)
COST_BANDS = ("low", "medium", "high")
"""low: within existing budgets and staff; medium: dedicated staff or modest works; high: capital works or
intensive services per participant."""

SOURCE_KINDS = (
    "systematic_review",
    "meta_analysis",
    "randomised_trial",
    "quasi_experiment",
    "observational",
    "guideline",
    "programme_description",
)
"""Kinds of source, strongest design first: the evidence strength of a practice is its strongest source."""


def _text(required: tuple[str, ...] = ("en",)) -> dict[str, Any]:
    """A text in several languages: English always, Spanish and French where written."""
    return {
        "type": "object",
        "properties": {lang: {"type": "string", "minLength": 3} for lang in LANGUAGES},
        "required": list(required),
        "additionalProperties": False,
    }


def _ids(choices: tuple[str, ...], min_items: int = 0) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"enum": list(choices)},
        "minItems": min_items,
        "uniqueItems": True,
    }


PRACTICE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://safercities.example/schemas/practice.json",
    "title": "A crime-prevention practice of the safercities library",
    "type": "object",
    "required": [
        "id",
        "title",
        "approaches",
        "summary",
        "mechanism",
        "problems",
        "target_groups",
        "settings",
        "evidence",
        "implementation",
        "cost",
        "sources",
    ],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{2,60}$"},
        "title": _text(LANGUAGES),
        "approaches": _ids(APPROACHES, 1),
        "summary": _text(LANGUAGES),
        "mechanism": _text(),
        "problems": _ids(PROBLEMS, 1),
        "risk_factors": _ids(RISK_FACTORS),
        "protective_factors": _ids(PROTECTIVE_FACTORS),
        "target_groups": _ids(TARGET_GROUPS, 1),
        "settings": _ids(SETTINGS, 1),
        "evidence": {
            "type": "object",
            "required": ["rating", "basis"],
            "additionalProperties": False,
            "properties": {
                "rating": {"enum": list(RATINGS)},
                "scale": {"const": "crimesolutions"},
                "basis": _text(),
                "emmie": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "effect": {"enum": list(EFFECT_DIRECTIONS)},
                        "effect_quality": {"enum": list(EMMIE_STRENGTH)},
                        "mechanism": {"enum": list(EMMIE_STRENGTH)},
                        "moderators": {"enum": list(EMMIE_STRENGTH)},
                        "implementation": {"enum": list(EMMIE_STRENGTH)},
                        "economics": {"enum": list(EMMIE_STRENGTH)},
                    },
                },
            },
        },
        "implementation": {
            "type": "object",
            "required": ["needs"],
            "additionalProperties": False,
            "properties": {
                "needs": {"type": "array", "items": {"type": "string", "minLength": 3}, "minItems": 1},
                "partners": _ids(SECTORS),
            },
        },
        "cost": {"enum": list(COST_BANDS)},
        "sources": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["citation", "kind", "year"],
                "additionalProperties": False,
                "properties": {
                    "citation": {"type": "string", "minLength": 20},
                    "kind": {"enum": list(SOURCE_KINDS)},
                    "year": {"type": "integer", "minimum": 1950, "maximum": 2100},
                    "url": {"type": "string", "pattern": "^https?://"},
                },
            },
        },
        "warning": _text(),
        "updated": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    },
    "allOf": [
        {  # a practice that does not work, or does harm, says so in words next to its rating
            "if": {"properties": {"evidence": {"properties": {"rating": {"enum": list(DISCOURAGED)}}}}},
            "then": {"required": ["warning"]},
        }
    ],
}

_VALIDATOR = jsonschema.Draft202012Validator(PRACTICE_SCHEMA)


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(the practice)"


def schema_errors(data: object) -> list[str]:
    """Every way ``data`` breaks the schema, one line each (``field: message``), in a stable order."""
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{_where(e)}: {_short(e)}" for e in errors]


def _short(error: jsonschema.ValidationError) -> str:
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "required" and error.schema_path and "then" in error.schema_path:
        return "a practice rated no_effect or harmful must carry a 'warning' saying so"
    return error.message


def validate_practice(data: object, file: str | Path | None = None, row: int | None = None) -> dict[str, Any]:
    """``data`` if it is a valid practice; else an InputError naming the file, the row and the fields at fault."""
    problems = schema_errors(data)
    if problems:
        first = problems[0]
        field = first.split(":", 1)[0]
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:4])})" if len(problems) > 1 else ""
        raise InputError(
            f"not a valid practice: {first}{more}",
            file=file,
            row=row,
            column=field if field != "(the practice)" else None,
            hint="see docs/practices.md for the fields a practice has",
        )
    return cast(dict[str, Any], data)  # the schema says it is an object
