"""Docs that cannot drift: every CLI verb and option, and every setting, is documented."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import typer

from safercities.cli.app import app
from safercities.config import Disclosure, RateRules, WorkspaceConfig

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []

    def walk(group: Any, prefix: str) -> None:  # typer may carry its own click: duck-type the group
        ctx = type(group).context_class(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if hasattr(command, "list_commands"):
                walk(command, f"{prefix} {name}")
            else:
                found.append((f"{prefix} {name}", command))

    walk(root, "safercities")
    return found


def test_every_verb_and_option_is_in_the_cli_guide() -> None:
    # docs/cli.md, and one page per module under docs/cli/ (audit.md, survey.md, ...)
    pages = [DOCS / "cli.md", *sorted((DOCS / "cli").glob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    missing = []
    for name, command in _commands():
        if f"`{name}" not in text:
            missing.append(name)
        for param in command.params:
            if type(param).__name__.endswith("Option"):
                for flag in param.opts + param.secondary_opts:
                    if flag.startswith("--") and flag != "--help" and flag not in text:
                        missing.append(f"{name} {flag}")
    assert not missing, f"undocumented in docs/cli.md or docs/cli/*.md: {missing}"


def test_every_setting_is_in_the_workspace_guide() -> None:
    text = (DOCS / "workspace.md").read_text(encoding="utf-8")
    names = [f.name for cls in (WorkspaceConfig, Disclosure, RateRules) for f in fields(cls)]
    missing = [n for n in names if n not in ("disclosure", "rates") and f"{n} =" not in text]
    assert not missing, f"undocumented in docs/workspace.md: {missing}"


def test_every_mapping_key_is_in_the_mapping_guide() -> None:
    from safercities.ingest.mapping import Columns, DateOptions, OffenceOptions, SourceOptions

    text = (DOCS / "mapping.md").read_text(encoding="utf-8")
    names = [f.name for cls in (SourceOptions, Columns, DateOptions, OffenceOptions) for f in fields(cls)]
    missing = [n for n in names if f"{n} =" not in text]
    assert not missing, f"undocumented in docs/mapping.md: {missing}"
