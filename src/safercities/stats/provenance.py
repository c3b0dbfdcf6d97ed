"""The provenance stamp every statistical result carries: what made it, with which settings, from what."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import numpy as np

from safercities import __version__


def input_hash(*arrays: Any) -> str:
    """A short SHA-256 of the inputs' bytes, so that a result can be matched to its data."""
    digest = hashlib.sha256()
    for array in arrays:
        data = np.ascontiguousarray(np.asarray(array))
        if data.dtype == object:
            digest.update(repr(data.tolist()).encode())
        else:
            digest.update(str(data.dtype).encode())
            digest.update(data.tobytes())
    return digest.hexdigest()[:16]


def stamp(function: str, parameters: dict[str, Any], *inputs: Any) -> dict[str, Any]:
    """``{"function", "version", "parameters", "input_sha256", "created"}`` for a result's ``provenance``."""
    return {
        "function": function,
        "version": __version__,
        "parameters": {
            k: (v if isinstance(v, str | int | float | bool | None) else repr(v)) for k, v in parameters.items()
        },
        "input_sha256": input_hash(*inputs) if inputs else None,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
