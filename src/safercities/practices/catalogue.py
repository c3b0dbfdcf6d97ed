"""The library of practices: the shipped YAML files, plus a city's own additions and updates, validated once.

Layers are read in order: the shipped library (``practices/library/*.yaml``), then each folder or file given
(typically ``<workspace>/practices/``). A practice in a later layer with the id of an earlier one replaces it —
that is how a city updates a shipped practice without editing the package. Every file passes the JSON Schema.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from safercities.errors import InputError
from safercities.governance.files import read_yaml
from safercities.practices.labels import LANGUAGES
from safercities.practices.schema import RATINGS, SOURCE_KINDS, validate_practice

SHIPPED = Path(__file__).parent / "library"
WORKSPACE_FOLDER = "practices"
"""A workspace keeps its own practices (added, imported or updated) in this sub-folder."""


def _text(practice: Mapping[str, Any], key: str, lang: str) -> str:
    texts = practice.get(key) or {}
    return str(texts.get(lang) or texts.get("en") or "")


def evidence_strength(practice: Mapping[str, Any]) -> str:
    """The strongest design among a practice's sources (systematic review > … > programme description)."""
    return min((s["kind"] for s in practice["sources"]), key=SOURCE_KINDS.index)


@dataclass(frozen=True)
class Library:
    """Validated practices in a stable order, each with the file it came from."""

    practices: tuple[dict[str, Any], ...]
    origins: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.practices)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.practices)

    def __contains__(self, practice_id: object) -> bool:
        return any(p["id"] == practice_id for p in self.practices)

    @property
    def ids(self) -> list[str]:
        return [p["id"] for p in self.practices]

    def get(self, practice_id: str) -> dict[str, Any]:
        """One practice by id; an unknown id is an InputError that suggests close ids."""
        for practice in self.practices:
            if practice["id"] == practice_id:
                return practice
        import difflib

        close = difflib.get_close_matches(practice_id, self.ids, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}?" if close else "list them with `safercities practices list`"
        raise InputError(f"no practice '{practice_id}' in the library", hint=hint)

    def origin(self, practice_id: str) -> str:
        return self.origins[self.ids.index(practice_id)]

    def subset(self, ids: list[str]) -> Library:
        """The practices with these ids, in the order given."""
        index = {p["id"]: i for i, p in enumerate(self.practices)}
        return Library(tuple(self.practices[index[i]] for i in ids), tuple(self.origins[index[i]] for i in ids))

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row per practice: texts in ``lang`` (English where not translated) and facets as lists."""
        if lang not in LANGUAGES:
            raise InputError(f"The 'lang' parameter must be one of {', '.join(LANGUAGES)}. Got {lang!r} instead.")
        rows = [
            {
                "id": p["id"],
                "title": _text(p, "title", lang),
                "summary": _text(p, "summary", lang),
                "approaches": list(p["approaches"]),
                "rating": p["evidence"]["rating"],
                "evidence_strength": evidence_strength(p),
                "cost": p["cost"],
                "problems": list(p["problems"]),
                "risk_factors": list(p.get("risk_factors", [])),
                "protective_factors": list(p.get("protective_factors", [])),
                "target_groups": list(p["target_groups"]),
                "settings": list(p["settings"]),
                "partners": list(p["implementation"].get("partners", [])),
                "sources": len(p["sources"]),
                "warning": _text(p, "warning", lang),
                "origin": origin,
            }
            for p, origin in zip(self.practices, self.origins, strict=True)
        ]
        return pd.DataFrame(rows, columns=list(rows[0]) if rows else None)

    def counts(self, facet: str) -> pd.Series:
        """How many practices carry each value of a list facet ('approaches', 'problems', …) or of 'rating'."""
        frame = self.to_frame()
        if facet == "rating":
            return frame["rating"].value_counts().reindex(list(RATINGS), fill_value=0)
        return frame[facet].explode().dropna().value_counts()


def read_practice_file(path: Path) -> list[dict[str, Any]]:
    """The practices of one YAML file (one mapping, or a list of them), each checked against the schema."""
    data = read_yaml(path)
    entries = data if isinstance(data, list) else [data]
    return [
        validate_practice(entry, file=path, row=number if len(entries) > 1 else None)
        for number, entry in enumerate(entries, start=1)
    ]


def _layer(source: Path) -> list[tuple[dict[str, Any], str]]:
    if not source.exists():
        raise InputError("practice folder or file not found", file=source)
    files = sorted(source.glob("*.yaml")) + sorted(source.glob("*.yml")) if source.is_dir() else [source]
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for file in files:
        for practice in read_practice_file(file):
            if practice["id"] in found:
                other = found[practice["id"]][1]
                raise InputError(
                    f"practice id '{practice['id']}' is defined twice in one layer (also in {other})",
                    file=file,
                )
            found[practice["id"]] = (practice, str(file))
    return list(found.values())


@cache
def _shipped_layer() -> tuple[tuple[dict[str, Any], str], ...]:
    return tuple(_layer(SHIPPED))


def load_library(*sources: Path | str, shipped: bool = True) -> Library:
    """The practice library: the shipped practices (unless ``shipped=False``) overlaid by each folder or file.

    >>> library = load_library()
    >>> len(library) >= 40
    True
    """
    merged: dict[str, tuple[dict[str, Any], str]] = {}
    layers = [copy.deepcopy(list(_shipped_layer()))] if shipped else []  # callers may edit what they get
    layers += [_layer(Path(s)) for s in sources]
    for layer in layers:
        for practice, origin in layer:
            merged[practice["id"]] = (practice, origin)
    ordered = sorted(merged.values(), key=lambda item: item[0]["id"])
    return Library(tuple(p for p, _ in ordered), tuple(o for _, o in ordered))


def workspace_library(root: Path | str | None) -> Library:
    """The shipped library overlaid by a workspace's own ``practices/`` folder, when it has one."""
    if root is None:
        return load_library()
    folder = Path(root) / WORKSPACE_FOLDER
    return load_library(folder) if folder.is_dir() else load_library()
