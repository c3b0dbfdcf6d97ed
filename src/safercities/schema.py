"""The canonical tables of a workspace, written once for every backend."""

from __future__ import annotations

from safercities.tables import audit as _audit
from safercities.tables import fieldwork as _fieldwork
from safercities.tables import governance as _governance
from safercities.tables import plan as _plan
from safercities.tables import procurement as _procurement
from safercities.tables import survey as _survey
from safercities.tables import web as _web

SCHEMA_VERSION = 2  # steps from one version to the next: safercities.store.migrations

# Column name -> SQL type; types are the common subset of DuckDB and PostgreSQL.
TABLES: dict[str, dict[str, str]] = {
    "meta": {"key": "VARCHAR PRIMARY KEY", "value": "VARCHAR"},
    "imports": {
        "import_id": "INTEGER PRIMARY KEY",
        "kind": "VARCHAR NOT NULL",
        "file": "VARCHAR NOT NULL",
        "sha256": "VARCHAR NOT NULL",
        "rows_read": "BIGINT NOT NULL",
        "rows_accepted": "BIGINT NOT NULL",
        "rows_rejected": "BIGINT NOT NULL",
        "username": "VARCHAR NOT NULL",
        "started_at": "TIMESTAMPTZ NOT NULL",
        "finished_at": "TIMESTAMPTZ NOT NULL",
        "options": "VARCHAR",
        "warnings": "VARCHAR",
        "status": "VARCHAR NOT NULL",
    },
    "rejects": {
        "import_id": "INTEGER NOT NULL",
        "file": "VARCHAR NOT NULL",
        "row_number": "BIGINT NOT NULL",
        "column_name": "VARCHAR",
        "reason_code": "VARCHAR NOT NULL",
        "reason": "VARCHAR NOT NULL",
        "raw": "VARCHAR",
    },
    "audit_log": {
        "changed_at": "TIMESTAMPTZ NOT NULL",
        "username": "VARCHAR NOT NULL",
        "action": "VARCHAR NOT NULL",
        "target": "VARCHAR NOT NULL",
        "detail": "VARCHAR",
    },
    "areas": {
        "area_id": "VARCHAR PRIMARY KEY",
        "name": "VARCHAR",
        "level": "VARCHAR NOT NULL",
        "parent_id": "VARCHAR",
        "population": "DOUBLE",
        "geometry": "GEOMETRY NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
    "offence_codes": {
        "local_code": "VARCHAR PRIMARY KEY",
        "local_label": "VARCHAR",
        "iccs_code": "VARCHAR NOT NULL",
        "import_id": "INTEGER",
    },
    "incidents": {
        "incident_id": "VARCHAR NOT NULL",
        "occurred_from": "TIMESTAMPTZ NOT NULL",
        "occurred_to": "TIMESTAMPTZ NOT NULL",
        "reported_at": "TIMESTAMPTZ",
        "offence_code": "VARCHAR NOT NULL",
        "offence_label": "VARCHAR",
        "iccs_code": "VARCHAR NOT NULL",
        "x": "DOUBLE NOT NULL",
        "y": "DOUBLE NOT NULL",
        "area_id": "VARCHAR NOT NULL",
        "location_type": "VARCHAR",
        "attributes": "VARCHAR",
        "import_id": "INTEGER NOT NULL",
        "source_row": "BIGINT NOT NULL",
    },
}


# Each module that stores data names its own tables in ``safercities/tables/<module>.py``.
# A table that holds imported rows has an ``import_id`` column, so that replacing an import removes them.
for _part in (_audit, _fieldwork, _survey, _governance, _plan, _procurement, _web):
    TABLES.update(_part.TABLES)


def create_statements() -> list[str]:
    """``CREATE TABLE`` statements for every canonical table."""
    out = []
    for table, columns in TABLES.items():
        cols = ", ".join(f"{name} {sqltype}" for name, sqltype in columns.items())
        out.append(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
    return out
