"""The practice library as one readable, self-contained HTML page (Jinja), in English, Spanish or French.

The page groups practices by approach, shows each one's rating as a coloured badge, what it addresses, how it
works, what it needs and its sources, and puts the warning of a practice rated no effect or harmful in a box
that cannot be missed. A small script filters the cards by word; without scripts the page is complete.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from safercities import __version__
from safercities.errors import check_choice
from safercities.practices.catalogue import Library, evidence_strength
from safercities.practices.labels import LABELS, LANGUAGES, facet_label, label
from safercities.practices.matching import short_citation
from safercities.practices.schema import APPROACHES, RATINGS

TEMPLATES = Path(__file__).parent / "templates"


def _text(practice: dict[str, Any], key: str, lang: str) -> tuple[str, bool]:
    """The text in ``lang`` and whether it fell back to English."""
    texts = practice.get(key) or {}
    if texts.get(lang):
        return str(texts[lang]).strip(), False
    return str(texts.get("en", "")).strip(), lang != "en" and bool(texts.get("en"))


def _card(practice: dict[str, Any], lang: str) -> dict[str, Any]:
    rating = practice["evidence"]["rating"]
    mechanism, mechanism_en = _text(practice, "mechanism", lang)
    basis, basis_en = _text({"basis": practice["evidence"]["basis"]}, "basis", lang)
    warning, warning_en = _text(practice, "warning", lang)
    emmie = practice["evidence"].get("emmie", {})
    return {
        "id": practice["id"],
        "title": _text(practice, "title", lang)[0],
        "summary": _text(practice, "summary", lang)[0],
        "mechanism": mechanism,
        "mechanism_en": mechanism_en,
        "rating": rating,
        "rating_label": label(f"rating.{rating}", lang),
        "basis": basis,
        "basis_en": basis_en,
        "strength": facet_label("evidence_strength", evidence_strength(practice), lang),
        "emmie": [
            (label(f"emmie.{k}", lang), label(f"effect.{v}", lang) if k == "effect" else label(f"strength.{v}", lang))
            for k, v in emmie.items()
        ],
        "approaches": [facet_label("approach", a, lang) for a in practice["approaches"]],
        "problems": [facet_label("problem", p, lang) for p in practice["problems"]],
        "risk_factors": [facet_label("risk_factor", r, lang) for r in practice.get("risk_factors", [])],
        "protective_factors": [
            facet_label("protective_factor", r, lang) for r in practice.get("protective_factors", [])
        ],
        "target_groups": [facet_label("target_group", t, lang) for t in practice["target_groups"]],
        "settings": [facet_label("setting", s, lang) for s in practice["settings"]],
        "needs": practice["implementation"]["needs"],
        "partners": [facet_label("partner", p, lang) for p in practice["implementation"].get("partners", [])],
        "cost": label(f"cost.{practice['cost']}", lang),
        "sources": [
            {"text": s["citation"], "kind": facet_label("evidence_strength", s["kind"], lang), "url": s.get("url")}
            for s in practice["sources"]
        ],
        "short_sources": "; ".join(short_citation(s) for s in practice["sources"]),
        "warning": warning,
        "warning_en": warning_en,
        "updated": practice.get("updated", ""),
    }


def render_page(library: Library, lang: str = "en", title: str | None = None) -> str:
    """The HTML of the library page."""
    check_choice("lang", lang, LANGUAGES, "the practice page")
    cards = [_card(p, lang) for p in library]
    sections = []
    for approach in APPROACHES:
        members = [c for c, p in zip(cards, library, strict=True) if p["approaches"][0] == approach]
        if members:
            members.sort(key=lambda c: (RATINGS.index(c["rating"]), c["title"]))
            sections.append({"id": approach, "title": label(f"approach.{approach}", lang), "cards": members})
    counts = library.counts("rating")
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    template = environment.get_template("library.html.j2")
    return template.render(
        lang=lang,
        t={key: label(key, lang) for key in LABELS},
        title=title or label("page.title", lang),
        sections=sections,
        ratings=[{"id": r, "label": label(f"rating.{r}", lang), "count": int(counts[r])} for r in RATINGS],
        total=len(cards),
        today=date.today().isoformat(),
        version=__version__,
    )


def write_page(library: Library, path: Path | str, lang: str = "en", title: str | None = None) -> Path:
    """Write the library page to ``path`` (an .html file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(library, lang, title), encoding="utf-8")
    return path
