"""Tables of victimisation surveys: respondents, designs and replicate weights."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}
