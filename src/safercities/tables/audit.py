"""Tables of the local safety audit: imported indicator values.

``indicator_values`` holds what ``safercities import indicators`` accepted: one value per area, period and
indicator of one import (a missing value is no row, never a zero). Formula indicators are not stored: they are
computed from the store when asked for, so that they always agree with the incidents and areas it holds.
"""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {
    "indicator_values": {
        "area_id": "VARCHAR NOT NULL",
        "period": "VARCHAR NOT NULL",
        "indicator_id": "VARCHAR NOT NULL",
        "value": "DOUBLE NOT NULL",
        "lower": "DOUBLE",
        "upper": "DOUBLE",
        "se": "DOUBLE",
        "source": "VARCHAR",
        "unit": "VARCHAR",
        "source_row": "BIGINT NOT NULL",
        "import_id": "INTEGER NOT NULL",
    },
}
