"""Tables of the crime-prevention plan: interventions, targets, recommendations."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}
