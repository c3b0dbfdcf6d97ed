"""The publication rules of survey estimates, from the ``[survey]`` table of ``safercities.toml``.

[survey]
max_cv = 0.3          # an estimate whose coefficient of variation exceeds this is flagged unreliable
min_respondents = 30  # an estimate resting on fewer unweighted respondents is suppressed
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from safercities.config import CONFIG_NAME
from safercities.errors import InputError


@dataclass(frozen=True)
class SurveyRules:
    """When a survey estimate is flagged (CV) or withheld (too few respondents)."""

    max_cv: float = 0.3
    """Statistics offices flag an estimate with a CV above 30% as unreliable (use with caution)."""
    min_respondents: int = 30
    """No published figure rests on fewer unweighted respondents than this."""

    def __post_init__(self) -> None:
        if not self.max_cv > 0:
            raise InputError(f"survey.max_cv must be a number > 0; got {self.max_cv!r}")
        if not (isinstance(self.min_respondents, int) and self.min_respondents >= 1):
            raise InputError(f"survey.min_respondents must be a whole number >= 1; got {self.min_respondents!r}")


def load_rules(root: Path | str) -> SurveyRules:
    """The ``[survey]`` table of a workspace's ``safercities.toml`` (defaults where absent)."""
    path = Path(root) / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SurveyRules()
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", file=path) from exc
    table = data.get("survey", {})
    known = {f.name for f in fields(SurveyRules)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(f"unknown setting survey.{unknown[0]}; expected {', '.join(sorted(known))}", file=path)
    return SurveyRules(**table)
