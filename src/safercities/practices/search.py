"""Finding practices by words and by facets (approach, rating, problem, risk factor, setting, target group …).

Text search is case- and accent-blind and needs every word of the query to appear somewhere in a practice (its
titles in all three languages, summaries, mechanism, evidence, needs, citations, or the ids it is tagged with);
practices are ranked by how many words hit the title (x3), the summary (x2) or the rest (x1).
Facets take one value or a list (any of them); several facets must all hold.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from safercities.errors import InputError
from safercities.governance.actors import SECTORS
from safercities.practices.catalogue import Library
from safercities.practices.schema import (
    APPROACHES,
    COST_BANDS,
    PROBLEMS,
    PROTECTIVE_FACTORS,
    RATINGS,
    RISK_FACTORS,
    SETTINGS,
    SOURCE_KINDS,
    TARGET_GROUPS,
)

FACETS: dict[str, tuple[str, tuple[str, ...]]] = {
    # facet name -> (where in a practice, allowed values)
    "approach": ("approaches", APPROACHES),
    "rating": ("evidence.rating", RATINGS),
    "problem": ("problems", PROBLEMS),
    "risk_factor": ("risk_factors", RISK_FACTORS),
    "protective_factor": ("protective_factors", PROTECTIVE_FACTORS),
    "target_group": ("target_groups", TARGET_GROUPS),
    "setting": ("settings", SETTINGS),
    "cost": ("cost", COST_BANDS),
    "partner": ("implementation.partners", SECTORS),
    "evidence_strength": ("evidence_strength", SOURCE_KINDS),
}
_ALIASES = {f"{name}s": name for name in FACETS} | {"approaches": "approach", "target": "target_group"}


def fold(text: str) -> str:
    """Lower case without accents: 'Prévention' -> 'prevention'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def facet_values(practice: Mapping[str, Any], facet: str) -> list[str]:
    """The values a practice has for a facet, as a list."""
    if facet == "evidence_strength":
        from safercities.practices.catalogue import evidence_strength

        return [evidence_strength(practice)]
    node: Any = practice
    for key in FACETS[facet][0].split("."):
        node = node.get(key, []) if isinstance(node, Mapping) else []
    return [node] if isinstance(node, str) else list(node)


def _wanted(facet: str, value: str | Iterable[str]) -> set[str]:
    values = {value} if isinstance(value, str) else set(value)
    allowed = FACETS[facet][1]
    unknown = sorted(values - set(allowed))
    if unknown:
        got = ", ".join(map(repr, unknown))
        raise InputError(f"The '{facet}' facet of search must be among {', '.join(allowed)}. Got {got} instead.")
    return values


def _haystacks(practice: Mapping[str, Any]) -> tuple[str, str, str]:
    def texts(key: str) -> str:
        return " ".join(str(v) for v in (practice.get(key) or {}).values())

    rest = [
        texts("mechanism"),
        texts("warning"),
        " ".join(str(v) for v in practice["evidence"]["basis"].values()),
        " ".join(practice["implementation"]["needs"]),
        " ".join(s["citation"] for s in practice["sources"]),
        " ".join(practice["approaches"] + practice["problems"] + practice.get("risk_factors", [])),
        " ".join(practice["target_groups"] + practice["settings"] + [practice["id"]]),
    ]
    return fold(texts("title")), fold(texts("summary")), fold(" ".join(rest).replace("_", " "))


def search(library: Library, text: str | None = None, **facets: str | Iterable[str]) -> Library:
    """The practices that contain every word of ``text`` and satisfy every facet, best text matches first.

    >>> from safercities.practices import load_library
    >>> search(load_library(), "lighting", setting="street").ids[0]
    'street_lighting'
    """
    wanted = {}
    for name, value in facets.items():
        facet = _ALIASES.get(name, name)
        if facet not in FACETS:
            raise InputError(f"unknown facet '{name}'", hint=f"facets: {', '.join(FACETS)}")
        wanted[facet] = _wanted(facet, value)
    keep = [p for p in library if all(set(facet_values(p, f)) & values for f, values in wanted.items())]
    words = [w for w in fold(text or "").replace("_", " ").split() if w]
    if not words:
        return library.subset([p["id"] for p in keep])
    scores = np.zeros(len(keep))
    found = np.ones(len(keep), dtype=bool)
    for index, practice in enumerate(keep):
        title, summary, rest = _haystacks(practice)
        hits = np.array([[w in title, w in summary, w in rest] for w in words])
        found[index] = bool(hits.any(axis=1).all())
        scores[index] = float((hits * np.array([3, 2, 1])).sum())
    order = sorted(
        (i for i in range(len(keep)) if found[i]),
        key=lambda i: (-scores[i], RATINGS.index(keep[i]["evidence"]["rating"]), keep[i]["id"]),
    )
    return library.subset([keep[i]["id"] for i in order])
