"""Reports rendered from templates in three languages: HTML, and PDF through WeasyPrint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from safercities import __version__, i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render_html(template: str, lang: str, **context: Any) -> str:
    """A report template rendered with the ``lang`` catalog and locale formatting (``n``, ``pct``, ``day``)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]), extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env.get_template(template).render(
        lang=lang,
        version=__version__,
        n=lambda value, digits=0: i18n.number(value, lang, digits),
        pct=lambda value, digits=0: i18n.percent(value, lang, digits),
        day=lambda value: i18n.day(value, lang),
        month=lambda value: i18n.month(value, lang),
        **context,
    )


def write_report(html: str, out: Path) -> Path:
    """Write ``html`` to ``out``: as it is for .html, through WeasyPrint for .pdf."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".pdf":
        from weasyprint import HTML

        HTML(string=html, base_url=str(TEMPLATES)).write_pdf(out)
    else:
        out.write_text(html, encoding="utf-8")
    return out
