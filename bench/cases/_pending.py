"""Shared by the cases that wait for ``safercities.workspace`` (B0, B2)."""

from __future__ import annotations

import importlib
from typing import Any

NEEDS = {
    "safercities.workspace": ("init",),
    "safercities.workspace.Workspace": ("import_areas", "import_incidents", "cube"),
}


def workspace_missing() -> str | None:
    """Why the workspace API is not usable yet, or None when ``sc.init`` and the methods exist."""
    try:
        ws = importlib.import_module("safercities.workspace")
    except ImportError as exc:
        return f"waits for safercities.workspace (not importable: {exc})"
    missing = [f"workspace.{n}" for n in NEEDS["safercities.workspace"] if not hasattr(ws, n)]
    cls = getattr(ws, "Workspace", None)
    missing += [f"Workspace.{n}" for n in NEEDS["safercities.workspace.Workspace"] if not hasattr(cls, n)]
    if missing:
        return f"waits for safercities.workspace: {', '.join(missing)} not written yet"
    return None


def not_written(case_id: str) -> Any:
    raise NotImplementedError(
        f"{case_id}: the workspace API exists now; write prepare/cold_* in bench/cases (see its docstring)"
    )
