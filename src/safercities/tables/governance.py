"""Tables of the governance assessment, the actors and their relations."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    # one row per institution x question of an imported answer form; level is NULL for "don't know"
    "governance_answers": {
        "institution": "VARCHAR NOT NULL",
        "item_id": "VARCHAR NOT NULL",
        "level": "INTEGER",
        "answer": "VARCHAR NOT NULL",
        "evidence": "VARCHAR",
        "respondent": "VARCHAR",
        "answered_on": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
    # the actors registry; relations holds the actor's outgoing relations as JSON [{target, kind, note}]
    "stakeholders": {
        "actor_id": "VARCHAR NOT NULL",
        "name": "VARCHAR NOT NULL",
        "sector": "VARCHAR NOT NULL",
        "level": "VARCHAR NOT NULL",
        "mandate": "VARCHAR",
        "relations": "VARCHAR NOT NULL",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
}
"""The tables of each module, merged into :data:`safercities.schema.TABLES`."""
