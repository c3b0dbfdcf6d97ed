"""Red-flag thresholds by country: a TOML profile over the shipped defaults.

``load_rules()`` gives the defaults (``rules/default.toml``, each number with its source);
``load_rules("eu")`` a shipped profile; ``load_rules(path)`` a city's own file. A profile only
needs the settings it changes; an unknown section or setting is an error, so that a typo never
silently leaves a default in force.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safercities.errors import InputError

SHIPPED = Path(__file__).parent / "rules"


@dataclass(frozen=True)
class Rules:
    """Every threshold the flags use (see ``rules/default.toml`` for meaning and source)."""

    name: str
    settings: dict[str, dict[str, Any]] = field(repr=False)
    origin: str = "default"

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.settings[section]

    @property
    def currency(self) -> str:
        return str(self.settings["profile"]["currency"])

    def with_(self, section: str, **changes: Any) -> Rules:
        """A copy with some settings of one section changed (checked like a file's)."""
        merged = _merge(self.settings, {section: changes}, f"with_({section!r})")
        return Rules(self.name, merged, self.origin)


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("rules file not found", file=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", file=path) from exc


def _merge(base: dict[str, dict[str, Any]], over: dict[str, Any], origin: str) -> dict[str, dict[str, Any]]:
    merged = {k: dict(v) for k, v in base.items()}
    for section, values in over.items():
        if section not in merged or not isinstance(values, dict):
            raise InputError(
                f"unknown rules section [{section}]", file=origin, hint=f"known: {', '.join(sorted(merged))}"
            )
        for key, value in values.items():
            if key not in merged[section]:
                raise InputError(
                    f"unknown setting '{key}' in [{section}]",
                    file=origin,
                    hint=f"known: {', '.join(sorted(merged[section]))}",
                )
            default = merged[section][key]
            if isinstance(default, dict):
                if not isinstance(value, dict):
                    raise InputError(f"[{section}.{key}] must be a table", file=origin)
                value = {**default, **value}
            elif isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, int | float) and not isinstance(value, int | float)
            ):
                raise InputError(
                    f"'{key}' in [{section}] must be like {default!r}; got {value!r}", file=origin, column=key
                )
            merged[section][key] = value
    return merged


def load_rules(profile: str | Path | None = None) -> Rules:
    """The defaults, overlaid with a shipped profile (by name) or a TOML file (by path)."""
    defaults = _read(SHIPPED / "default.toml")
    if profile is None or str(profile) == "default":
        return Rules("default", defaults)
    path = Path(profile)
    if not path.suffix and (SHIPPED / f"{profile}.toml").exists():
        path = SHIPPED / f"{profile}.toml"
    elif not path.exists():
        raise InputError(
            f"no rules profile '{profile}'",
            hint=f"give a TOML file or one of: {', '.join(shipped_profiles())}",
        )
    merged = _merge(defaults, _read(path), str(path))
    return Rules(str(merged["profile"]["name"]), merged, str(path))
