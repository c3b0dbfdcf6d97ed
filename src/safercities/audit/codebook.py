"""The codebook of the local safety audit: problems, risk factors and protective factors.

Focus-group quotes, safety-walk ratings, survey perceptions and framework indicators all speak of the same
codes (``codebook.yaml``), so that words and numbers meet on the same community. The file is data: a city may
ship its own; :func:`load_codebook` refuses one with an unknown dimension, a duplicate id, a missing translation
or a dangling link, naming the code and the line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from safercities.errors import InputError

DEFAULT_CODEBOOK = Path(__file__).with_name("codebook.yaml")
DEFAULT_FRAMEWORK = Path(__file__).parent / "frameworks" / "default.yaml"
LANGUAGES = ("en", "es", "fr")
KINDS = ("problem", "risk_factor", "protective_factor")
DIMENSIONS = (
    "crime",
    "security_justice",
    "economy",
    "social",
    "health",
    "education",
    "urban",
    "cohesion",
    "governance",
    "usm_crime",
    "usm_community",
    "usm_governance",
)
"""The nine dimensions of the default framework and the three Urban Safety Monitor themes."""
ROLE = {"problem": "threat", "risk_factor": "vulnerability", "protective_factor": "capacity"}
"""What a code of each kind is in the integrated analysis (threats x vulnerabilities x capacities)."""

_CODE_KEYS = {"id", "kind", "dimension", "label", "indicators", "risk_factors", "counters", "definition"}
_SIGNAL_KEYS = {"label", "low", "high"}


@dataclass(frozen=True)
class Code:
    """One code: a problem (threat), risk factor (vulnerability) or protective factor (capacity)."""

    id: str
    kind: str
    dimension: str
    label: Mapping[str, str]
    indicators: tuple[str, ...] = ()
    risk_factors: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()
    line: int = 0

    @property
    def role(self) -> str:
        return ROLE[self.kind]


@dataclass(frozen=True)
class Signal:
    """What a low (and a high) rating of a walk category or survey perception says about the codes."""

    id: str
    label: Mapping[str, str]
    low: str
    high: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Codebook:
    """The validated codebook: codes by id, walk categories and survey perceptions."""

    codes: Mapping[str, Code]
    walk_categories: Mapping[str, Signal]
    survey_indicators: Mapping[str, Signal]
    name: Mapping[str, str] = field(default_factory=dict)
    version: int = 1
    path: str = ""

    def ids(self, kind: str | None = None) -> list[str]:
        """Code ids in file order, optionally of one kind."""
        return [c.id for c in self.codes.values() if kind is None or c.kind == kind]

    def label(self, code: str, lang: str = "en") -> str:
        return self.codes[code].label.get(lang) or self.codes[code].label["en"]

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row per code: id, kind, role, dimension, label (in ``lang``), indicators, linked factors."""
        return pd.DataFrame(
            {
                "code": [c.id for c in self.codes.values()],
                "kind": [c.kind for c in self.codes.values()],
                "role": [c.role for c in self.codes.values()],
                "dimension": [c.dimension for c in self.codes.values()],
                "label": [self.label(c.id, lang) for c in self.codes.values()],
                "indicators": [list(c.indicators) for c in self.codes.values()],
                "links": [list(c.risk_factors or c.counters) for c in self.codes.values()],
            }
        )

    def indicator_links(self) -> pd.DataFrame:
        """Long table code -> indicator_id of the soft links to framework indicators."""
        pairs = [(c.id, i) for c in self.codes.values() for i in c.indicators]
        return pd.DataFrame(pairs, columns=["code", "indicator_id"])

    def unknown(self, values: Iterable[str]) -> np.ndarray:
        """Mask of the values that are not code ids."""
        return ~np.isin(np.asarray(list(values), dtype=object), np.asarray(list(self.codes), dtype=object))

    def check_framework(self, indicator_ids: Iterable[str], where: str = "the framework") -> None:
        """Refuse a link to an indicator that the framework does not define (the code and its line named)."""
        known = set(indicator_ids)
        for code in self.codes.values():
            missing = [i for i in code.indicators if i not in known]
            if missing:
                raise InputError(
                    f"code '{code.id}' links to indicator(s) {missing} that {where} does not define",
                    file=self.path or None,
                    row=code.line,
                    hint="fix the id or remove it from the code's 'indicators'",
                )


def _lines(node: yaml.Node) -> dict[str, int]:
    """1-based line of each key of a mapping node (and of the node itself under '')."""
    out = {"": node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[str(key.value)] = value.start_mark.line + 1
    return out


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _translations(value: object, what: str, file: str, line: int) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InputError(f"{what}: 'label' must map en, es and fr to text", file=file, row=line)
    missing = [lang for lang in LANGUAGES if not str(value.get(lang) or "").strip()]
    if missing:
        raise InputError(f"{what}: missing translation {', '.join(missing)} of 'label'", file=file, row=line)
    return {lang: str(value[lang]).strip() for lang in LANGUAGES}


def _id_list(value: object, what: str, key: str, file: str, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InputError(f"{what}: '{key}' must be a list of ids", file=file, row=line)
    return tuple(value)


def _code(entry: object, node: yaml.Node, file: str) -> Code:
    lines = _lines(node)
    if not isinstance(entry, Mapping):
        raise InputError(
            "each entry of 'codes' must be a mapping with id, kind, dimension, label", file=file, row=lines[""]
        )
    code_id = entry.get("id")
    if not isinstance(code_id, str) or not code_id.strip():
        raise InputError("a code without an 'id'", file=file, row=lines[""])
    what = f"code '{code_id}'"
    extra = set(entry) - _CODE_KEYS
    if extra:
        key = sorted(map(str, extra))[0]
        raise InputError(
            f"{what}: unknown key '{key}'",
            file=file,
            row=lines.get(key, lines[""]),
            hint=f"keys are {', '.join(sorted(_CODE_KEYS))}",
        )
    kind = entry.get("kind")
    if kind not in KINDS:
        raise InputError(
            f"{what}: kind must be one of {', '.join(KINDS)}. Got {kind!r} instead.",
            file=file,
            row=lines.get("kind", lines[""]),
        )
    dimension = entry.get("dimension")
    if dimension not in DIMENSIONS:
        raise InputError(
            f"{what}: unknown dimension {dimension!r}",
            file=file,
            row=lines.get("dimension", lines[""]),
            hint=f"dimensions are {', '.join(DIMENSIONS)}",
        )
    label = _translations(entry.get("label"), what, file, lines.get("label", lines[""]))
    indicators = _id_list(entry.get("indicators"), what, "indicators", file, lines.get("indicators", lines[""]))
    risk = _id_list(entry.get("risk_factors"), what, "risk_factors", file, lines.get("risk_factors", lines[""]))
    counters = _id_list(entry.get("counters"), what, "counters", file, lines.get("counters", lines[""]))
    if risk and kind != "problem":
        raise InputError(f"{what}: only problems link to risk_factors", file=file, row=lines["risk_factors"])
    if counters and kind != "protective_factor":
        raise InputError(f"{what}: only protective factors have 'counters'", file=file, row=lines["counters"])
    return Code(code_id, str(kind), str(dimension), label, indicators, risk, counters, lines[""])


def _signals(data: object, node: yaml.Node | None, section: str, codes: Mapping[str, Code], file: str):
    if data is None:
        return {}
    if not isinstance(data, Mapping) or node is None:
        raise InputError(f"'{section}' must map ids to low/high codes", file=file)
    out: dict[str, Signal] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        entry = data[name]
        lines = _lines(value_node)
        what = f"{section} '{name}'"
        if not isinstance(entry, Mapping) or set(entry) - _SIGNAL_KEYS:
            raise InputError(f"{what}: expected label, low and optionally high", file=file, row=lines[""])
        label = _translations(entry.get("label"), what, file, lines.get("label", lines[""]))
        for end in ("low", "high"):
            target = entry.get(end)
            if (end == "low" or target is not None) and target not in codes:
                raise InputError(
                    f"{what}: '{end}' names unknown code {target!r}", file=file, row=lines.get(end, lines[""])
                )
        out[name] = Signal(name, label, str(entry["low"]), entry.get("high"), lines[""])
    return out


def parse_codebook(text: str, file: str = "<codebook>") -> Codebook:
    """Parse and validate codebook YAML text (see the module docstring for what is refused)."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file, row=mark.line + 1 if mark else None
        ) from exc
    finally:
        loader.dispose()
    if not isinstance(data, Mapping) or not isinstance(data.get("codes"), list):
        raise InputError("a codebook is a mapping with a list 'codes'", file=file)
    codes_node = _child(root, "codes")
    if not isinstance(codes_node, yaml.SequenceNode):
        raise InputError("'codes' must be a list", file=file)
    codes: dict[str, Code] = {}
    for entry, node in zip(data["codes"], codes_node.value, strict=True):
        code = _code(entry, node, file)
        if code.id in codes:
            raise InputError(
                f"duplicate code id '{code.id}' (first at line {codes[code.id].line})", file=file, row=code.line
            )
        codes[code.id] = code
    for code in codes.values():
        for link, kind in [(r, "risk_factor") for r in code.risk_factors] + [(c, "risk_factor") for c in code.counters]:
            if link not in codes or codes[link].kind != kind:
                raise InputError(
                    f"code '{code.id}' links to '{link}', which is not a {kind} of the codebook",
                    file=file,
                    row=code.line,
                )
    walks = _signals(data.get("walk_categories"), _child(root, "walk_categories"), "walk_categories", codes, file)
    survey = _signals(
        data.get("survey_indicators"), _child(root, "survey_indicators"), "survey_indicators", codes, file
    )
    name = data.get("name") or {}
    version = data.get("version", 1)
    return Codebook(codes, walks, survey, dict(name) if isinstance(name, Mapping) else {}, int(version), file)


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Codebook:
    return parse_codebook(Path(path).read_text(encoding="utf-8"), path)


def load_codebook(path: Path | str | None = None, framework: Path | str | None = None) -> Codebook:
    """Load and validate a codebook (the shipped one by default).

    When ``framework`` is given, or the shipped default framework file exists and the shipped codebook is
    used, every indicator a code links to must be defined there (a soft link checked when both are present).
    """
    file = Path(path) if path is not None else DEFAULT_CODEBOOK
    if not file.exists():
        raise InputError("codebook file not found", file=file)
    book = _load(str(file), file.stat().st_mtime)
    frame_file = Path(framework) if framework is not None else DEFAULT_FRAMEWORK if path is None else None
    if frame_file is not None and frame_file.exists():
        book.check_framework(
            _framework_ids(str(frame_file), frame_file.stat().st_mtime), f"framework {frame_file.name}"
        )
    elif framework is not None:
        raise InputError("framework file not found", file=framework)
    return book


@lru_cache(maxsize=8)
def _framework_ids(path: str, mtime: float) -> frozenset[str]:
    return frozenset(framework_indicators(path))


def framework_indicators(path: Path | str) -> dict[str, dict[str, Any]]:
    """Indicator id -> its entry (direction, unit, ...) of a framework file, found wherever its lists of
    ``indicators`` sit, so that the codebook's soft links can be checked without importing the framework."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", file=path) from exc
    found: dict[str, dict[str, Any]] = {}

    def walk(node: object, under_indicators: bool = False) -> None:
        if isinstance(node, Mapping):
            if under_indicators and isinstance(node.get("id"), str):
                found[node["id"]] = dict(node)
            for key, value in node.items():
                walk(value, key == "indicators")
        elif isinstance(node, list):
            for item in node:
                walk(item, under_indicators)

    walk(data)
    return found
