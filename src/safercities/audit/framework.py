"""The indicator framework as data: dimensions, indicators, units and sources, read from a YAML file.

A framework file names its dimensions and, in each, its indicators: id, names and definitions in English,
Spanish and French, unit, direction (``higher_is_worse`` or ``higher_is_better``), source, the SDG and
ISO 37120 indicator it matches where one exists, and a ``formula`` over the workspace's tables or the word
``imported``. :func:`load_framework` reads one (a shipped name such as ``default`` or ``usm``, or a path)
and refuses it, naming the indicator and the line, when an id repeats, a translation is missing, a formula
does not parse or names a table, column or indicator that does not exist. The file format is in
``docs/audit-framework.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from safercities.audit.formula import Formula, FormulaError, check_references, parse_formula
from safercities.config import LANGUAGES
from safercities.errors import InputError

FRAMEWORKS = Path(__file__).with_name("frameworks")
DIRECTIONS = ("higher_is_worse", "higher_is_better")
IMPORTED = "imported"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SDG = re.compile(r"^([1-9]|1[0-7])\.([1-9]|1[0-9]|[a-c])\.[1-9]$")
_ISO = re.compile(r"^([5-9]|1[0-9]|2[0-3])\.[1-9][0-9]?$")
_TOP_KEYS = {"id", "version", "name", "description", "iso37120_edition", "units", "sources", "dimensions"}
_DIMENSION_KEYS = {"id", "name", "description", "indicators"}
_INDICATOR_KEYS = {"id", "name", "definition", "unit", "direction", "source", "sdg", "iso37120", "formula", "note"}

Text = Mapping[str, str]
"""A text in every language of :data:`safercities.config.LANGUAGES`."""


@dataclass(frozen=True)
class Indicator:
    """One indicator: what it measures, how it reads, where it comes from, and how it is obtained."""

    id: str
    dimension: str
    name: Text
    definition: Text
    unit: str
    direction: str
    source: str
    formula: Formula | None
    """None for an imported indicator."""
    sdg: str | None = None
    iso37120: str | None = None
    line: int = 0

    @property
    def imported(self) -> bool:
        return self.formula is None

    @property
    def higher_is_worse(self) -> bool:
        return self.direction == "higher_is_worse"


@dataclass(frozen=True)
class Dimension:
    id: str
    name: Text
    description: Text
    indicator_ids: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class Framework:
    """A validated framework: its dimensions and indicators in file order, with their units and sources."""

    id: str
    version: str
    name: Text
    description: Text
    dimensions: tuple[Dimension, ...]
    indicators: tuple[Indicator, ...]
    units: Mapping[str, Text]
    sources: Mapping[str, Text]
    path: str
    sha256: str
    iso37120_edition: str | None = None
    _by_id: Mapping[str, Indicator] = field(default_factory=dict, repr=False, compare=False)

    def indicator(self, indicator_id: str) -> Indicator:
        try:
            return self._by_id[indicator_id]
        except KeyError:
            raise InputError(f"unknown indicator '{indicator_id}' in framework '{self.id}'") from None

    def dimension(self, dimension_id: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise InputError(f"unknown dimension '{dimension_id}' in framework '{self.id}'")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators)

    def evaluation_order(self) -> tuple[Indicator, ...]:
        """Indicators so that each formula comes after the indicators it refers to."""
        done: dict[str, Indicator] = {}

        def visit(indicator: Indicator) -> None:
            if indicator.id in done:
                return
            for ref in sorted(indicator.formula.indicators if indicator.formula else ()):
                visit(self._by_id[ref])
            done[indicator.id] = indicator

        for indicator in self.indicators:
            visit(indicator)
        return tuple(done.values())

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row per indicator: id, dimension, name, definition, unit, direction, source, mapping, formula."""
        return pd.DataFrame(
            {
                "indicator_id": [i.id for i in self.indicators],
                "dimension": [i.dimension for i in self.indicators],
                "name": [i.name[lang] for i in self.indicators],
                "definition": [i.definition[lang] for i in self.indicators],
                "unit": [i.unit for i in self.indicators],
                "unit_label": [self.units[i.unit][lang] for i in self.indicators],
                "direction": [i.direction for i in self.indicators],
                "source": [i.source for i in self.indicators],
                "sdg": [i.sdg for i in self.indicators],
                "iso37120": [i.iso37120 for i in self.indicators],
                "formula": [i.formula.text if i.formula else IMPORTED for i in self.indicators],
            }
        )


def shipped_frameworks() -> list[str]:
    """Names of the frameworks that come with safercities."""
    return sorted(p.stem for p in FRAMEWORKS.glob("*.yaml"))


def framework_path(path_or_name: str | Path) -> Path:
    """The file of a shipped framework name, or the path given."""
    text = str(path_or_name)
    if isinstance(path_or_name, str) and text in shipped_frameworks():
        return FRAMEWORKS / f"{text}.yaml"
    path = Path(path_or_name)
    if not path.exists():
        raise InputError(
            f"no framework file or shipped framework '{text}'", hint=f"shipped: {', '.join(shipped_frameworks())}"
        )
    return path


def load_framework(path_or_name: str | Path | Framework = "default") -> Framework:
    """Read and validate a framework: a shipped name (``default``, ``usm``) or a YAML file."""
    if isinstance(path_or_name, Framework):
        return path_or_name
    path = framework_path(path_or_name)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the framework file: {exc}", file=path) from exc
    return parse_framework(text, path, hashlib.sha256(raw).hexdigest())


# -- reading with line numbers ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Item:
    """A YAML value with the line it starts on."""

    value: Any
    line: int


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = sorted(self.items)
        text = "; ".join(f"line {line}: {message}" for line, message in first[:5])
        more = f" (and {len(first) - 5} more)" if len(first) > 5 else ""
        raise InputError(text + more, file=self.path)


def _compose(text: str, path: Path) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{where}not valid YAML: {problem}", file=path) from None
    if node is None:
        raise InputError("the framework file is empty", file=path)
    return node


def _plain(node: yaml.Node) -> Any:
    """A node as plain Python values (scalars resolved as YAML's safe loader does)."""
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _mapping(node: yaml.Node, problems: _Problems, what: str) -> dict[str, _Item] | None:
    """A mapping node's entries with their lines; repeated keys are problems (YAML would keep the last)."""
    if not isinstance(node, yaml.MappingNode):
        problems.add(node.start_mark.line + 1, f"{what} must be a mapping of keys to values")
        return None
    out: dict[str, _Item] = {}
    for key_node, value_node in node.value:
        key = str(_plain(key_node))
        if key in out:
            problems.add(key_node.start_mark.line + 1, f"{what}: the key '{key}' appears twice")
        out[key] = _Item(value_node, value_node.start_mark.line + 1)
    return out


def _peek_id(node: yaml.Node) -> str:
    """The ``id`` of a mapping node, for messages written before it is checked."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "id" and isinstance(value, yaml.ScalarNode):
                return str(value.value)
    return "?"


def _text(item: _Item | None, line: int, problems: _Problems, what: str) -> Text:
    """A multilingual text: a mapping with a non-empty text for every language."""
    if item is None:
        problems.add(line, f"{what}: missing (give en, es and fr)")
        return {}
    entries = _mapping(item.value, problems, what)
    if entries is None:
        return {}
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        entry = entries.get(lang)
        value = _plain(entry.value) if entry is not None else None
        if value is None or not str(value).strip():
            problems.add(entry.line if entry else item.line, f"{what}: missing translation '{lang}'")
        else:
            out[lang] = str(value).strip()
    for extra in set(entries) - set(LANGUAGES):
        problems.add(entries[extra].line, f"{what}: unknown language '{extra}' (use {', '.join(LANGUAGES)})")
    return out


def _scalar(item: _Item | None) -> Any:
    return None if item is None else _plain(item.value)


def _catalogue(item: _Item | None, problems: _Problems, what: str) -> dict[str, Text]:
    """``units`` or ``sources``: id -> text in every language."""
    if item is None:
        return {}
    entries = _mapping(item.value, problems, what) or {}
    return {key: _text(entry, entry.line, problems, f"{what} '{key}'") for key, entry in entries.items()}


def parse_framework(text: str, path: Path, sha256: str = "") -> Framework:
    """Validate a framework file's text; every problem names its line (and the indicator, where there is one)."""
    from safercities.schema import TABLES

    problems = _Problems(path)
    top = _mapping(_compose(text, path), problems, "the framework")
    problems.raise_if_any()
    if top is None:  # _mapping recorded why
        raise InputError("the framework must be a mapping", file=path)
    for key in set(top) - _TOP_KEYS:
        problems.add(top[key].line, f"unknown key '{key}' (allowed: {', '.join(sorted(_TOP_KEYS))})")
    framework_id = _scalar(top.get("id"))
    if not isinstance(framework_id, str) or not _ID.match(framework_id):
        problems.add(1, "the framework needs an id of lower-case letters, digits and _")
    version = _scalar(top.get("version"))
    if version is None:
        problems.add(1, "the framework needs a version")
    name = _text(top.get("name"), 1, problems, "the framework's name")
    description = _text(top.get("description"), 1, problems, "the framework's description")
    units = _catalogue(top.get("units"), problems, "unit")
    sources = _catalogue(top.get("sources"), problems, "source")
    edition = _scalar(top.get("iso37120_edition"))

    dimensions: list[Dimension] = []
    indicators: list[Indicator] = []
    pending: list[tuple[Indicator, int]] = []  # formula checks need every id first
    seen: dict[str, int] = {}
    listing = top.get("dimensions")
    if listing is None or not isinstance(listing.value, yaml.SequenceNode) or not listing.value.value:
        problems.add(listing.line if listing else 1, "the framework needs a list of dimensions")
        problems.raise_if_any()
        raise InputError("the framework needs a list of dimensions", file=path)
    for dim_node in listing.value.value:
        dimension, found = _dimension(dim_node, problems, seen, units, sources)
        if dimension is not None:
            dimensions.append(dimension)
        indicators += [i for i, _ in found]
        pending += found
    ids = frozenset(seen)
    for indicator, formula_line in pending:
        if indicator.formula is None:
            continue
        for problem in check_references(indicator.formula, TABLES, ids - {indicator.id}):
            problems.add(formula_line, f"indicator '{indicator.id}': formula: {problem}")
        if indicator.id in indicator.formula.indicators:
            problems.add(formula_line, f"indicator '{indicator.id}': the formula refers to itself")
    by_id = {i.id: i for i in indicators}
    for indicator, formula_line in pending:
        cycle = _cycle(indicator.id, by_id)
        if cycle:
            problems.add(formula_line, f"indicator '{indicator.id}': formulas refer to each other in a circle: {cycle}")
    problems.raise_if_any()
    return Framework(
        id=str(framework_id),
        version=str(version),
        name=name,
        description=description,
        dimensions=tuple(dimensions),
        indicators=tuple(indicators),
        units=units,
        sources=sources,
        path=str(path),
        sha256=sha256,
        iso37120_edition=None if edition is None else str(edition),
        _by_id=by_id,
    )


def _cycle(start: str, by_id: Mapping[str, Indicator]) -> str:
    """' -> '-joined ids of a reference cycle through ``start`` ('' when none); self-references are told apart."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        current, trail = stack.pop()
        indicator = by_id.get(current)
        if indicator is None or indicator.formula is None:
            continue
        for ref in sorted(indicator.formula.indicators - {current}):
            if ref == start:
                return " -> ".join([*trail, start])
            if ref not in trail:
                stack.append((ref, [*trail, ref]))
    return ""


def _dimension(
    node: yaml.Node,
    problems: _Problems,
    seen: dict[str, int],
    units: Mapping[str, Text],
    sources: Mapping[str, Text],
) -> tuple[Dimension | None, list[tuple[Indicator, int]]]:
    line = node.start_mark.line + 1
    entries = _mapping(node, problems, f"dimension '{_peek_id(node)}'")
    if entries is None:
        return None, []
    dim_id = _scalar(entries.get("id"))
    label = f"dimension '{dim_id}'"
    if not isinstance(dim_id, str) or not _ID.match(dim_id):
        problems.add(line, f"{label}: the id must be lower-case letters, digits and _")
        dim_id = str(dim_id)
    elif dim_id in seen:
        problems.add(line, f"{label}: the id is already used on line {seen[dim_id]}")
    else:
        seen[dim_id] = line
    for key in set(entries) - _DIMENSION_KEYS:
        problems.add(entries[key].line, f"{label}: unknown key '{key}'")
    name = _text(entries.get("name"), line, problems, f"{label}: name")
    description = (
        _text(entries.get("description"), line, problems, f"{label}: description")
        if ("description" in entries)
        else {lang: "" for lang in LANGUAGES}
    )
    listing = entries.get("indicators")
    if listing is None or not isinstance(listing.value, yaml.SequenceNode) or not listing.value.value:
        problems.add(listing.line if listing else line, f"{label}: needs a list of indicators")
        return None, []
    found = [_indicator(n, dim_id, problems, seen, units, sources) for n in listing.value.value]
    kept = [f for f in found if f is not None]
    return Dimension(dim_id, name, description, tuple(i.id for i, _ in kept), line), kept


def _indicator(
    node: yaml.Node,
    dimension: str,
    problems: _Problems,
    seen: dict[str, int],
    units: Mapping[str, Text],
    sources: Mapping[str, Text],
) -> tuple[Indicator, int] | None:
    line = node.start_mark.line + 1
    entries = _mapping(node, problems, f"indicator '{_peek_id(node)}'")
    if entries is None:
        return None
    ind_id = _scalar(entries.get("id"))
    label = f"indicator '{ind_id}'"
    if not isinstance(ind_id, str) or not _ID.match(ind_id):
        problems.add(line, f"{label}: the id must be lower-case letters, digits and _")
    elif ind_id in seen:
        problems.add(line, f"{label}: duplicate id (already used on line {seen[ind_id]})")
    else:
        seen[ind_id] = line
    for key in set(entries) - _INDICATOR_KEYS:
        problems.add(entries[key].line, f"{label}: unknown key '{key}' (allowed: {', '.join(sorted(_INDICATOR_KEYS))})")
    name = _text(entries.get("name"), line, problems, f"{label}: name")
    definition = _text(entries.get("definition"), line, problems, f"{label}: definition")

    def choice(key: str, allowed: Mapping[str, Any] | tuple[str, ...], what: str) -> str:
        value = _scalar(entries.get(key))
        where = entries[key].line if key in entries else line
        if value is None:
            problems.add(where, f"{label}: missing {key}")
        elif str(value) not in allowed:
            problems.add(where, f"{label}: unknown {what} '{value}' (known: {', '.join(sorted(allowed))})")
        return str(value)

    unit = choice("unit", units, "unit (declare it under units:)")
    direction = choice("direction", DIRECTIONS, "direction")
    source = choice("source", sources, "source (declare it under sources:)")
    codes: dict[str, str | None] = {}
    for key, pattern, example in (("sdg", _SDG, "16.1.1"), ("iso37120", _ISO, "14.2")):
        value = _scalar(entries.get(key))
        codes[key] = None if value is None else str(value)
        if value is not None and not pattern.match(str(value)):
            problems.add(entries[key].line, f"{label}: {key} '{value}' is not an indicator number such as {example}")
    formula_item = entries.get("formula")
    formula_line = formula_item.line if formula_item else line
    raw_formula = _scalar(formula_item)
    formula: Formula | None = None
    if raw_formula is None:
        problems.add(line, f"{label}: missing formula (a formula, or 'imported')")
    elif str(raw_formula).strip() != IMPORTED:
        try:
            formula = parse_formula(str(raw_formula))
        except FormulaError as exc:
            problems.add(formula_line, f"{label}: formula: {exc}")
    indicator = Indicator(
        id=str(ind_id),
        dimension=dimension,
        name=name,
        definition=definition,
        unit=unit,
        direction=direction,
        source=source,
        formula=formula,
        sdg=codes["sdg"],
        iso37120=codes["iso37120"],
        line=line,
    )
    return indicator, formula_line
