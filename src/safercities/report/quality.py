"""The data-quality report as files (``quality.json``, ``quality.html``) and as a terminal summary.

Everything shown comes from :class:`safercities.quality.QualityReport`; this module only formats it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jinja2
from rich.console import Console
from rich.table import Table

from safercities import iccs
from safercities.errors import InputError, check_choice
from safercities.quality import QualityReport
from safercities.report.labels import LABELS, LANGUAGES, label, labels_for

TEMPLATES = Path(__file__).parent / "templates"
_SEPARATORS = {"en": (",", "."), "es": ("\u202f", ","), "fr": ("\u202f", ",")}
"""Thousands and decimal separators per language (a narrow no-break space groups digits in es and fr)."""


def fmt_int(value: int | None, lang: str = "en") -> str:
    if value is None:
        return "–"
    return f"{value:,}".replace(",", _SEPARATORS[lang][0])


def fmt_float(value: float | None, lang: str = "en", digits: int = 1) -> str:
    if value is None:
        return "–"
    thousands, decimal = _SEPARATORS[lang]
    return f"{value:,.{digits}f}".replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def fmt_share(value: float | None, lang: str = "en", digits: int = 1) -> str:
    if value is None:
        return "–"
    text = fmt_float(100 * value, lang, digits)
    return f"{text}%" if lang == "en" else f"{text}\u00a0%"


def section_name(code: str, lang: str, fallback: str = "") -> str:
    try:
        return iccs.name(code, lang)
    except InputError:
        return fallback


def reason_label(code: str, lang: str) -> str:
    """The words for a reject reason code; the code itself for one without words yet."""
    key = f"reason.{code}"
    return label(key, lang) if key in LABELS else code


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    month: str
    count: int
    gap: bool


@dataclass(frozen=True)
class MonthChart:
    """Geometry of the inline SVG bar chart of monthly counts."""

    width: int
    height: int
    top: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, str], ...]
    """(x, label) for the month labels drawn under the axis."""
    y_max: int
    threshold_y: float | None


def month_chart(report: QualityReport, width: int = 720, height: int = 220) -> MonthChart | None:
    months = report.coverage.months
    if not months:
        return None
    left, right, top, bottom = 48, 8, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max(1, max(m.count for m in months))
    step = plot_w / len(months)
    bar_w = max(1.0, step * 0.8)
    baseline = top + plot_h
    bars = tuple(
        Bar(
            x=round(left + i * step + (step - bar_w) / 2, 2),
            y=round(baseline - plot_h * m.count / y_max, 2),
            width=round(bar_w, 2),
            height=round(plot_h * m.count / y_max, 2),
            month=m.month,
            count=m.count,
            gap=m.gap,
        )
        for i, m in enumerate(months)
    )
    every = max(1, len(months) // 12)
    ticks = tuple((round(left + i * step + step / 2, 2), m.month) for i, m in enumerate(months) if i % every == 0)
    threshold = report.coverage.gap_threshold
    threshold_y = round(baseline - plot_h * threshold / y_max, 2) if threshold else None
    return MonthChart(width, height, top, baseline, bars, ticks, y_max, threshold_y)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_quality_html(report: QualityReport, lang: str = "en") -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script, nothing fetched)."""
    check_choice("lang", lang, LANGUAGES, "render_quality_html")
    env = _environment()
    env.filters["n"] = lambda v: fmt_int(v, lang)
    env.filters["num"] = lambda v, digits=1: fmt_float(v, lang, digits)
    env.filters["pct"] = lambda v, digits=1: fmt_share(v, lang, digits)
    template = env.get_template("quality.html.j2")
    coverage = report.coverage
    none = label("none", lang)
    return template.render(
        r=report,
        lang=lang,
        t=labels_for(lang),
        label=lambda key, **values: label(key, lang, **values),
        chart=month_chart(report),
        section_name=lambda code, fallback="": section_name(code, lang, fallback),
        reason_label=lambda code: reason_label(code, lang),
        chart_text=label(
            "coverage.chart",
            lang,
            first=coverage.first_month,
            last=coverage.last_month,
            gaps=", ".join(coverage.gaps) or none,
        ),
    )


def write_quality(report: QualityReport, out_dir: Path, lang: str = "en") -> tuple[Path, Path]:
    """Write ``quality.json`` and ``quality.html`` (in ``lang``) into ``out_dir``; returns both paths."""
    check_choice("lang", lang, LANGUAGES, "write_quality")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "quality.json"
    html_path = out_dir / "quality.html"
    json_path.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render_quality_html(report, lang), encoding="utf-8")
    return json_path, html_path


def print_quality(report: QualityReport, console: Console | None = None, lang: str = "en") -> None:
    """A compact summary with rich tables: rows, completeness, location, rejects, gaps, delays, offences."""
    check_choice("lang", lang, LANGUAGES, "print_quality")
    console = console or Console()

    def t(key: str, **values: object) -> str:
        return label(key, lang, **values)

    def pct(value: float | None) -> str:
        return fmt_share(value, lang)

    def n(value: int | None) -> str:
        return fmt_int(value, lang)

    console.print(f"[bold]{t('quality.title')}[/bold] · {report.workspace}")

    overview = Table(show_header=False, box=None, pad_edge=False)
    overview.add_column(style="dim")
    overview.add_column(justify="right")
    overview.add_row(t("rows.read"), n(report.rows_read))
    overview.add_row(t("rows.accepted"), n(report.accepted))
    overview.add_row(t("rows.rejected"), n(report.rejected))
    overview.add_row(t("geocoding.share"), pct(report.geocoding.share_geocoded))
    overview.add_row(t("geocoding.outside"), pct(report.geocoding.share_outside_city))
    overview.add_row(t("duplicates.rejected"), n(report.duplicates.rejected_duplicate_id))
    overview.add_row(t("duplicates.surplus"), n(report.duplicates.exact_surplus))
    if report.coverage.months:
        overview.add_row(
            t("coverage.title"), t("coverage.range", first=report.coverage.first_month, last=report.coverage.last_month)
        )
    overview.add_row(t("coverage.gaps"), ", ".join(report.coverage.gaps) or t("none"))
    console.print(overview)

    fields = Table(title=t("completeness.title"), title_justify="left")
    fields.add_column(t("completeness.field"))
    fields.add_column(t("completeness.filled"), justify="right")
    for f in report.completeness:
        fields.add_row(t(f"field.{f.field}"), pct(f.share))
    for w in report.windows:
        fields.add_row(t(f"window.{w.window}"), pct(w.share))
    console.print(fields)

    if report.rejects:
        rejects = Table(title=t("rejects.title"), title_justify="left")
        rejects.add_column(t("rejects.reason"))
        rejects.add_column(t("count"), justify="right")
        rejects.add_column(t("rejects.example"), overflow="fold")
        for r in report.rejects:
            rejects.add_row(
                reason_label(r.reason_code, lang),
                n(r.count),
                f"{t('rejects.row')} {r.example_row}: {r.example_reason}",
            )
        console.print(rejects)

    d = report.delays
    delays = Table(title=t("delays.title"), title_justify="left")
    delays.add_column(t("delays.count"), justify="right")
    for key in d.quantiles:
        delays.add_column(key, justify="right")
    delays.add_column(t("delays.negative"), justify="right")
    delays.add_column(t("delays.over_365"), justify="right")
    delays.add_row(
        n(d.count),
        *(fmt_float(v, lang, 2) for v in d.quantiles.values()),
        pct(d.share_negative),
        pct(d.share_over_365),
    )
    console.print(delays)

    if report.sections:
        sections = Table(title=t("offences.sections"), title_justify="left")
        sections.add_column(t("offences.section"))
        sections.add_column(t("count"), justify="right")
        sections.add_column(t("share"), justify="right")
        for s in report.sections:
            sections.add_row(f"{s.section} {section_name(s.section, lang, s.name)}", n(s.count), pct(s.share))
        console.print(sections)
