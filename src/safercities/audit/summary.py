"""The audit's summary for a municipal official: one HTML page (and its PDF), in English, Spanish or French.

It presents what :func:`safercities.audit.run.run_audit` computed — it computes nothing of its own beyond
choosing what to show and formatting numbers: what was done, the main findings, the ranked communities with
their rank intervals, the selected communities and why, the priorities with their evidence, what is missing,
and how to reproduce the audit. The map is embedded, so the page is one self-contained file.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from safercities import i18n
from safercities.audit.framework import Framework
from safercities.audit.run_labels import LABELS, text
from safercities.audit.selection import LABELS as SELECTION_LABELS
from safercities.stats.composite import OVERALL

TEMPLATES = Path(__file__).resolve().parent / "templates"
TOP_PRIORITIES = 5
COMMUNITY_PRIORITIES = 3
EVIDENCE_SHOWN = 4


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["interval_bar"] = interval_bar
    return env


def _labels(lang: str) -> dict[str, str]:
    return {key: value[lang] for key, value in LABELS.items()}


def _code_label(code: str, lang: str) -> str:
    from safercities.audit.codebook import load_codebook

    book = load_codebook()
    return book.label(code, lang) if code in book.codes else code


def _dimension_name(fw: Framework, dimension: str, lang: str) -> str:
    if dimension == OVERALL:
        return text("overall", lang)
    return str(fw.dimension(dimension).name[lang])


def _ranking(scores: pd.DataFrame, selection: pd.DataFrame, fw: Framework, lang: str) -> list[dict[str, Any]]:
    """One row per area, best-known worst first: rank, interval, score, worst dimension, selection mark."""
    overall = scores[scores["dimension"] == OVERALL].set_index("area_id")
    dims = scores[(scores["dimension"] != OVERALL) & scores["rank"].notna()]
    worst = dims.sort_values(["area_id", "rank", "dimension"]).drop_duplicates("area_id").set_index("area_id")
    chosen = selection.set_index("area_id")
    rows = []
    for key, row in overall.sort_values(["rank", "name"], na_position="last").iterrows():
        area = str(key)
        stratum = str(chosen.at[area, "stratum"]) if bool(chosen.at[area, "selected"]) else None
        w: Any = worst.loc[area] if area in worst.index else None
        rows.append(
            {
                "area_id": area,
                "name": row["name"],
                "rank": row["rank"],
                "lower": row["rank_lower"],
                "upper": row["rank_upper"],
                "score": i18n.number(row["score"], lang, 3),
                "worst": (
                    f"{_dimension_name(fw, str(w['dimension']), lang)} ({int(w['rank'])})" if w is not None else "–"
                ),
                "selected": (
                    text("selected.mark", lang, stratum=SELECTION_LABELS[f"stratum.{stratum}"][lang]) if stratum else ""
                ),
            }
        )
    return rows


_INDICATOR = re.compile(
    r"^(?P<id>\w+) = (?P<value>-?[\d.e+-]+)(?: \[(?P<lo>-?[\d.e+-]+)–(?P<hi>-?[\d.e+-]+)\])?(?: (?P<unit>\w+))? "
    r"\((?P<period>[^)]*)\): worse than (?P<share>\d+)% of (?P<n>\d+) areas$"
)
_WALK = re.compile(
    r"^(?P<category>\w+) rated (?P<mean>[\d.]+)/5 on safety walks \(n = (?P<n>\d+)"
    r"(?:, 95% CI (?P<lo>[\d.]+)–(?P<hi>[\d.]+))?\)$"
)
_SURVEY = re.compile(r"^(?P<id>\w+) = (?P<pct>\d+)%(?: \(SE (?P<se>[\d.]+) pts\))?$")


def _significant(value: str, lang: str) -> str:
    number = float(value)
    digits = 0 if abs(number) >= 100 else 1 if abs(number) >= 10 else 2
    return i18n.number(number, lang, digits)


def evidence_text(kind: str, ref: str, raw: str, fw: Framework, lang: str) -> str:
    """An evidence item in ``lang``: the indicator's or walk category's name and the numbers formatted for the
    language, read from the item's text; the text as it is when it has another form (quotes always)."""
    from safercities.audit.codebook import load_codebook

    if kind == "indicator" and (m := _INDICATOR.match(raw)) and m["id"] in fw.ids:
        indicator = fw.indicator(m["id"])
        unit = fw.units.get(indicator.unit, {}).get(lang, m["unit"] or "")
        interval = f" [{_significant(m['lo'], lang)}–{_significant(m['hi'], lang)}]" if m["lo"] else ""
        return text(
            "evidence.indicator_text", lang,
            name=indicator.name[lang], value=_significant(m["value"], lang), interval=interval, unit=unit,
            period=m["period"], share=i18n.percent(int(m["share"]) / 100, lang), n=m["n"],
        )  # fmt: skip
    book = load_codebook()
    if kind == "walk" and (m := _WALK.match(raw)) and m["category"] in book.walk_categories:
        interval = (
            text("evidence.ci", lang, lo=i18n.number(float(m["lo"]), lang, 1), hi=i18n.number(float(m["hi"]), lang, 1))
            if m["lo"]
            else ""
        )
        return text(
            "evidence.walk_text", lang,
            category=book.walk_categories[m["category"]].label[lang], mean=i18n.number(float(m["mean"]), lang, 1),
            n=m["n"], interval=interval,
        )  # fmt: skip
    if kind == "survey" and (m := _SURVEY.match(raw)) and m["id"] in book.survey_indicators:
        return f"{book.survey_indicators[m['id']].label[lang]}: {i18n.percent(int(m['pct']) / 100, lang)}"
    return raw


def _evidence(items: pd.DataFrame, fw: Framework, lang: str) -> list[dict[str, str]]:
    """The first items of one priority's evidence, two distinct quotes among them where there are quotes."""
    if items.empty:
        return []
    items = items.sort_values("item").drop_duplicates("text")
    quotes = items[items["kind"] == "quote"]
    texts = [str(t) for t in quotes["text"]]
    contained = [any(o != t and t in o for o in texts) for t in texts]  # a quote repeated inside a longer one
    quotes = quotes[~np.asarray(contained, dtype=bool)].head(2)
    others = items[items["kind"] != "quote"].drop_duplicates("ref").head(EVIDENCE_SHOWN - len(quotes))
    shown = pd.concat([others, quotes])
    return [
        {"kind": text(f"evidence.{k}", lang), "quote": k == "quote", "text": evidence_text(k, r, str(t), fw, lang)}
        for k, r, t in zip(shown["kind"], shown["ref"], shown["text"], strict=True)
    ]


def _factors(value: Any, lang: str) -> str:
    items = value if isinstance(value, list | tuple | np.ndarray) else str(value or "").split(";")
    return ", ".join(_code_label(str(f), lang) for f in items if f) or "–"


def _priority_rows(
    part: pd.DataFrame, evidence: pd.DataFrame, fw: Framework, lang: str, top: int
) -> list[dict[str, Any]]:
    rows = []
    for r in _rows(part.sort_values("rank").head(top)):
        mine = evidence[(evidence["scope"] == r.scope) & (evidence["problem"] == r.problem)]
        rows.append(
            {
                "rank": int(r.rank),
                "problem": _code_label(str(r.problem), lang),
                "problem_id": str(r.problem),
                "score": i18n.number(float(r.score), lang, 2),
                "interval": (
                    f"{int(r.rank_lower)}–{int(r.rank_upper)}"
                    if pd.notna(r.rank_lower) and pd.notna(r.rank_upper)
                    else "–"
                ),
                "factors": _factors(r.risk_factors, lang),
                "evidence": _evidence(mine, fw, lang),
            }
        )
    return rows


def _priorities(
    tables: Mapping[str, pd.DataFrame], fw: Framework, names: Mapping[str, str], lang: str
) -> dict[str, Any] | None:
    if "priorities" not in tables:
        return None
    table, evidence = tables["priorities"], tables["evidence"]
    profile = tables["profile"].sort_values(["risk_rank", "area_id"])
    findings = tables["findings"]
    communities = []
    for p in _rows(profile):
        part = table[table["scope"] == p.area_id]
        communities.append(
            {
                "area_id": p.area_id,
                "name": names.get(p.area_id, p.area_id),
                "profile": text(
                    "profile",
                    lang,
                    **{
                        k: i18n.number(float(getattr(p, k)), lang, 2)
                        for k in ("threat", "vulnerability", "capacity", "risk")
                    },
                ),  # fmt: skip
                "rows": _priority_rows(part, evidence, fw, lang, COMMUNITY_PRIORITIES),
            }
        )
    disagree = findings[findings["kind"] == "disagreement"].sort_values(["area_id", "code"])
    city = _priority_rows(table[table["scope"] == "city"], evidence, fw, lang, TOP_PRIORITIES)
    local = table[(table["scope"] != "city") & (table["rank"] <= COMMUNITY_PRIORITIES)]
    for row in city:
        where = local[local["problem"] == row["problem_id"]].sort_values(["rank", "scope"])
        row["where"] = (
            ", ".join(f"{names.get(a, a)} ({int(k)})" for a, k in zip(where["scope"], where["rank"], strict=True))
            or "–"
        )
    return {
        "city": city,
        "communities": communities,
        "rule": str(table["rule"].iloc[0]) if len(table) else "",
        "disagreements": [
            {"name": names.get(a, a), "area_id": a, "code": _code_label(str(c), lang), "summary": s}
            for a, c, s in zip(disagree["area_id"], disagree["code"], disagree["summary"], strict=True)
        ],
    }


def _headlines(
    manifest: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], names: Mapping[str, str], lang: str
) -> list[str]:
    scores = tables["dimension_scores"]
    overall = scores[(scores["dimension"] == OVERALL) & scores["rank"].notna()].sort_values(["rank", "area_id"])
    lines = []
    top = overall.head(5)
    listed = ", ".join(
        f"{names[a]} ({int(lo)}–{int(hi)})"
        for a, lo, hi in zip(top["area_id"], top["rank_lower"], top["rank_upper"], strict=True)
    )
    lines.append(text("headline.worst", lang, list=listed))
    k = min(5, len(overall))
    robust = int((top["rank_upper"] <= k).sum())
    lines.append(text("headline.robust", lang, count=robust, k=k))
    sensitivity = tables["sensitivity"].dropna(subset=["first_order"])
    if len(sensitivity):
        lead = sensitivity.sort_values("first_order", ascending=False).iloc[0]
        lines.append(
            text(
                "headline.driver", lang,
                factor=text(f"factor.{lead['factor']}", lang), share=i18n.percent(float(lead["first_order"]), lang),
            )
        )  # fmt: skip
    selection = tables["selection"]
    got = selection[selection["selected"]].groupby("stratum").size()
    lines.append(
        text(
            "headline.selected", lang,
            count=int(got.sum()), high=int(got.get("high", 0)), medium=int(got.get("medium", 0)),
            low=int(got.get("low", 0)), indicator=selection_name(manifest, tables, lang),
        )
    )  # fmt: skip
    if "priorities" in tables:
        city = tables["priorities"]
        city = city[city["scope"] == "city"].sort_values("rank").head(3)
        lines.append(text("headline.priorities", lang, list=", ".join(_code_label(p, lang) for p in city["problem"])))
        areas = tables["findings"].loc[tables["findings"]["kind"] == "disagreement", "area_id"].nunique()
        if areas:
            lines.append(text("headline.disagreements", lang, count=int(areas)))
    else:
        lines.append(text("headline.no_priorities", lang))
    maturity = int(manifest["results"]["maturity_level"])
    from safercities.audit.maturity import LEVELS

    criteria = tables["maturity"]
    weakest = ", ".join(criteria.loc[criteria["level"] == maturity, "name"].head(3))
    lines.append(text("headline.maturity", lang, level=LEVELS[maturity][lang], value=maturity, weakest=weakest))
    return lines


def selection_name(manifest: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], lang: str) -> str:
    reason = tables["selection"]["reason"].dropna()
    if len(reason):  # the reasons name the indicator as the selection put it
        return str(manifest["parameters"]["_selection_label"])
    return str(manifest["parameters"]["selection_indicator"])


def _steps(manifest: Mapping[str, Any], fw: Framework, lang: str, selection_label: str) -> list[dict[str, Any]]:
    p = manifest["parameters"]
    s = {step["id"]: step for step in manifest["steps"]}
    one, two, three = s["indicators"], s["selection"], s["integrated"]
    weights = text("weights.given" if p["weights"] else "weights.equal", lang)
    steps = [
        {
            "n": 1,
            "title": text("step.1", lang),
            "done": True,
            "text": text(
                "step.1.done", lang,
                used=one["indicators_used"], total=one["indicators_in_framework"], areas=one["areas"],
                level=p["level"], normalisation=text(f"normalisation.{p['normalisation']}", lang),
                aggregation=text(f"aggregation.{p['aggregation']}", lang), weights=weights,
                draws=i18n.number(2 * int(p["draws"]), lang),
            ),
        },
        {
            "n": 2,
            "title": text("step.2", lang),
            "done": True,
            "text": text(
                "step.2.done", lang,
                selected=two["selected"], indicator=selection_label, seed=p["seed"], sessions=two["sessions"],
                segments=two["segments"], walks=two["walk_observations"],
            ),
        },
        {
            "n": 3,
            "title": text("step.3", lang),
            "done": three["done"],
            "text": text(
                "step.3.done", lang,
                survey=text("step.3.survey", lang) if three["survey"] else "", communities=three["communities"],
                disagreements=three["disagreements"],
            ) if three["done"] else text("step.3.skipped", lang),
        },
        {
            "n": 4,
            "title": text("step.4", lang),
            "done": s["priorities"]["done"],
            "text": text("step.4.done" if s["priorities"]["done"] else "step.4.skipped", lang),
        },
    ]  # fmt: skip
    return steps


def _missing(
    manifest: Mapping[str, Any], tables: Mapping[str, pd.DataFrame], fw: Framework, names: Mapping[str, str], lang: str
) -> dict[str, Any]:
    status = tables["indicator_status"]
    unused = status[status["status"] != "used"]
    by_dimension = [
        {
            "dimension": _dimension_name(fw, d, lang),
            "indicators": ", ".join(
                f"{fw.indicator(i).name[lang]} ({text(f'status.{st}', lang)})"
                for i, st in zip(part["indicator_id"], part["status"], strict=True)
            ),
        }
        for d, part in _groups(unused, "dimension")
    ]
    notes = []
    selection = tables["selection"]
    selected = set(selection.loc[selection["selected"], "area_id"])
    two = next(step for step in manifest["steps"] if step["id"] == "selection")
    visited = set(two["communities_with_fieldwork"])
    if not two["segments"]:
        notes.append(text("need.fieldwork", lang))
    if not two["walk_observations"]:
        notes.append(text("need.walks", lang))
    three = next(step for step in manifest["steps"] if step["id"] == "integrated")
    if not three["survey"]:
        notes.append(text("need.survey", lang))
    if visited:
        outside = sorted(visited - selected)
        if outside:
            notes.append(text("missing.unselected_fieldwork", lang, list=", ".join(names.get(a, a) for a in outside)))
        pending = sorted(selected - visited)
        if pending:
            notes.append(
                text(
                    "missing.selected_without_fieldwork", lang,
                    count=len(pending), list=", ".join(names.get(a, a) for a in pending),
                )
            )  # fmt: skip
    scores = tables["dimension_scores"]
    unscored = scores[(scores["dimension"] == OVERALL) & scores["score"].isna()]["area_id"]
    if len(unscored):
        notes.append(text("not_scored", lang, count=len(unscored), list=", ".join(names.get(a, a) for a in unscored)))
    maturity = tables["maturity"]
    return {
        "count": len(unused),
        "by_dimension": by_dimension,
        "notes": notes,
        "maturity": [
            {
                "name": r["name"],
                "level": f"{int(r['level'])} · {r['level_label']}",
                "detail": r["detail"],
                "weak": int(r["level"]) <= 1,
            }
            for _, r in maturity.iterrows()
        ],
    }


def _rows(frame: pd.DataFrame) -> list[Any]:
    """The rows of a frame as named tuples (typed loosely: their fields are whatever the columns hold)."""
    return list(frame.itertuples(index=False))


def _groups(frame: pd.DataFrame, column: str) -> list[tuple[str, pd.DataFrame]]:
    return [(str(key), part) for key, part in frame.groupby(column, sort=False)]


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def summary_context(
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    fw: Framework,
    selection_label: str,
    map_png: Path | None,
    lang: str,
) -> dict[str, Any]:
    """What the template shows, every number already formatted for ``lang``."""
    scores = tables["dimension_scores"]
    names = dict(zip(scores["area_id"], scores["name"], strict=False))
    p = manifest["parameters"]
    ranking = _ranking(scores, tables["selection"], fw, lang)
    n_areas = len(ranking)
    chosen = tables["selection"][tables["selection"]["selected"]].copy()
    order = {"high": 0, "medium": 1, "low": 2}
    chosen = chosen.sort_values(["stratum", "draw"], key=lambda c: c.map(order) if c.name == "stratum" else c)
    context_manifest = dict(manifest) | {"parameters": dict(p) | {"_selection_label": selection_label}}
    imports = manifest["inputs"]["imports"]
    return {
        "t": _labels(lang),
        "lang": lang,
        "city": manifest["workspace"]["name"],
        "meta": text(
            "meta",
            lang,
            framework=fw.name[lang],
            version=fw.version,
            as_of=i18n.day(p["data_as_of"], lang),
            audit=str(manifest["inputs_sha256"])[:12],
            sc=manifest["software"]["safercities"],
        ),  # fmt: skip
        "intro": text(
            "intro",
            lang,
            city=manifest["workspace"]["name"],
            areas=n_areas,
            dimensions=len(manifest["steps"][0]["dimensions_scored"]),
        ),  # fmt: skip
        "steps": _steps(context_manifest, fw, lang, selection_label),
        "headlines": _headlines(context_manifest, tables, names, lang),
        "ranking": ranking,
        "n_areas": n_areas,
        "selection_intro": text("selection.intro", lang, indicator=selection_label),
        "selected": [
            {
                "area_id": r.area_id,
                "name": r.name,
                "stratum": SELECTION_LABELS[f"stratum.{r.stratum}"][lang],
                "stratum_id": r.stratum,
                "value": i18n.number(float(r.value), lang, 3 if abs(float(r.value)) < 10 else 1),
                "reason": r.reason,
            }
            for r in _rows(chosen)
        ],
        "map": _image(map_png) if map_png is not None and map_png.exists() else None,
        "priorities": _priorities(tables, fw, names, lang),
        "missing": _missing(context_manifest, tables, fw, names, lang),
        "reproduce": {
            "intro": text("reproduce.intro", lang, hash=str(manifest["inputs_sha256"])[:12]),
            "command": _command(p),
            "parameters": {k: v for k, v in p.items() if not k.startswith("_")},
            "imports": imports,
        },
    }


def _command(p: Mapping[str, Any]) -> str:
    parts = ["safercities audit run", f"--framework {p['framework']}", f"--level {p['level']}"]
    if p["period"]:
        parts.append(f"--period {p['period']}")
    parts += [f"--select-by {p['selection_indicator']}", f"--seed {p['seed']}"]
    parts += [f"--{s} {n}" for s, n in p["counts"].items()]
    parts += [f"--exclude {a}" for a in p["exclude"]]
    parts += [f"--normalisation {p['normalisation']}", f"--aggregation {p['aggregation']}", f"--draws {p['draws']}"]
    parts += [f"--min-coverage {p['min_coverage']}", f"--replications {p['replications']}", f"--lang {p['lang']}"]
    if p["weights"]:
        parts.append("--weights WEIGHTS.csv")
    if p["public"]:
        parts.append("--public")
    return " ".join(parts)


def render_summary(
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    fw: Framework,
    selection: Any,
    map_png: Path | None,
    lang: str,
) -> str:
    """The summary page as HTML (self-contained: the map is embedded)."""
    context = summary_context(manifest, tables, fw, selection.indicator, map_png, lang)
    html = _environment().get_template("audit_summary.html.j2").render(**context)
    return html


def interval_bar(lower: float, upper: float, rank: float, n: int, width: int = 160) -> dict[str, float]:
    """Pixel positions of a rank interval on a 1..n axis (used by the template)."""
    if not n > 1 or any(np.isnan(v) for v in (lower, upper, rank)):
        return {"x1": 0.0, "x2": 0.0, "dot": -1.0}
    scale = (width - 8) / (n - 1)
    return {"x1": 4 + (lower - 1) * scale, "x2": 4 + (upper - 1) * scale, "dot": 4 + (rank - 1) * scale}
