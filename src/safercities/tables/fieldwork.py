"""Tables of the audit's fieldwork: focus groups and interviews (coded segments), safety-walk observations."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    # One row per coded segment of a focus group or interview: who spoke (the group), where, when, what codes.
    "fieldwork_segments": {
        "segment_id": "VARCHAR NOT NULL",
        "session_id": "VARCHAR NOT NULL",
        "session_kind": "VARCHAR NOT NULL",
        "area_id": "VARCHAR NOT NULL",
        "participant_group": "VARCHAR NOT NULL",
        "session_date": "DATE NOT NULL",
        "codes": "VARCHAR NOT NULL",
        "quote": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
    # One row per rated observation of an exploratory stroll / safety walk, placed in its area by its point.
    "walk_observations": {
        "observation_id": "VARCHAR NOT NULL",
        "walk_id": "VARCHAR",
        "area_id": "VARCHAR NOT NULL",
        "x": "DOUBLE NOT NULL",
        "y": "DOUBLE NOT NULL",
        "category": "VARCHAR NOT NULL",
        "rating": "INTEGER NOT NULL",
        "note": "VARCHAR",
        "observed_on": "DATE NOT NULL",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
}
