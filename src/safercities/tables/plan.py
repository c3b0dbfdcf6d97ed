"""Tables of the crime-prevention plan: interventions, targets, recommendations.

One plan workbook is one import (kind ``plan_interventions``; its targets and recommendations are written in the same
transaction with the same import_id). The plan in force is the latest import; earlier ones stay as its history.
Multi-valued cells (problems, areas, actors, intervention ids) are stored as text joined with '; '.
"""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    "plan_interventions": {
        "intervention_id": "VARCHAR NOT NULL",
        "title_en": "VARCHAR",
        "title_es": "VARCHAR",
        "title_fr": "VARCHAR",
        "practice_id": "VARCHAR NOT NULL",
        "problems": "VARCHAR NOT NULL",
        "areas": "VARCHAR NOT NULL",
        "responsible": "VARCHAR NOT NULL",
        "accountable": "VARCHAR NOT NULL",
        "consulted": "VARCHAR",
        "informed": "VARCHAR",
        "budget": "DOUBLE",
        "currency": "VARCHAR",
        "funding_source": "VARCHAR",
        "start_date": "DATE NOT NULL",
        "end_date": "DATE NOT NULL",
        "horizon": "VARCHAR NOT NULL",
        "status": "VARCHAR NOT NULL",
        "notes": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
    "plan_targets": {
        "target_id": "VARCHAR NOT NULL",
        "indicator_id": "VARCHAR NOT NULL",
        "scope": "VARCHAR NOT NULL",
        "baseline_period": "VARCHAR NOT NULL",
        "baseline": "DOUBLE",
        "baseline_lower": "DOUBLE",
        "baseline_upper": "DOUBLE",
        "baseline_se": "DOUBLE",
        "baseline_source": "VARCHAR",
        "target_value": "DOUBLE NOT NULL",
        "target_date": "DATE NOT NULL",
        "intervention_ids": "VARCHAR",
        "notes": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
    "plan_recommendations": {
        "recommendation_id": "VARCHAR NOT NULL",
        "text": "VARCHAR NOT NULL",
        "responsible": "VARCHAR NOT NULL",
        "status": "VARCHAR NOT NULL",
        "date_made": "DATE",
        "date_addressed": "DATE",
        "intervention_ids": "VARCHAR",
        "notes": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
}
