"""Tables of public procurement (OCDS): processes, parties, bids, awards, contracts."""

from __future__ import annotations

TABLES: dict[str, dict[str, str]] = {}
