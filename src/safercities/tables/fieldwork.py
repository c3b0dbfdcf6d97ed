"""Tables of the audit's fieldwork: focus groups and interviews (coded segments), safety-walk observations."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}
