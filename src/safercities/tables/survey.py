"""Tables of victimisation surveys: one row per respondent.

A respondent's design variables (survey, stratum, PSU, FPC, weights, area) are typed columns, so that
a survey, a stratum or an area is a plain ``WHERE``. The answers are one JSON object per respondent
(question name -> answer code as text; a select_multiple answer as its space-separated codes, as
XLSForm writes it), so that a new question needs no new column and a whole survey is read back in one
vectorised JSON parse. Replicate weights, when the survey has them, are the row's numbers separated by
spaces, in replicate order. The design itself (the design file, as JSON) is stored in the import's
ledger row (``imports.options``), so that one import is one transaction over one table.
"""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    "survey_respondents": {
        "survey_id": "VARCHAR NOT NULL",
        "respondent_id": "VARCHAR NOT NULL",
        "submitted_at": "TIMESTAMPTZ",
        "stratum": "VARCHAR",
        "psu": "VARCHAR",
        "fpc": "DOUBLE",
        "weight": "DOUBLE NOT NULL",
        "household_weight": "DOUBLE",
        "area_id": "VARCHAR",
        "answers": "VARCHAR NOT NULL",
        "replicate_weights": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
}
"""The tables of each module, merged into :data:`safercities.schema.TABLES`."""
