"""Tables of the governance assessment, the actors and their relations."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}
