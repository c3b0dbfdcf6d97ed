"""Tables of the local safety audit: indicator values, fieldwork records and walk observations."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}
