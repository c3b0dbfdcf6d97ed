"""From the audit's priority problems to ranked candidate practices, each with the reason it matched.

A practice is a candidate for a priority when it addresses the priority's problem or at least one of its risk
factors. Its **relevance** adds up what matched::

    relevance = 3 x [problem matches] + 2 x (share of the priority's risk factors it addresses)
              + 1 x [a setting matches] + 0.5 x [a target group matches]            (0 to 6.5)

and its **score** weighs relevance by the strength of the evidence (effective 1, promising 0.8, insufficient 0.5,
no effect 0.2, harmful 0). Candidates are ranked in three tiers — first the practices that are effective,
promising or not yet rated on sufficient evidence, then those rated no effect, then those rated harmful — and by
score within a tier. So a practice that does harm always comes after every other match and always carries its
warning: a city sees what has worked for its problem and also what has not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from safercities.errors import InputError, check_choice
from safercities.practices.catalogue import Library, evidence_strength
from safercities.practices.labels import LANGUAGES, code_label, facet_label, label
from safercities.practices.schema import DISCOURAGED, PROBLEMS, RISK_FACTORS, SETTINGS, TARGET_GROUPS

WEIGHTS = {"problem": 3.0, "risk_factors": 2.0, "settings": 1.0, "target_groups": 0.5}
EVIDENCE_WEIGHT = {"effective": 1.0, "promising": 0.8, "insufficient": 0.5, "no_effect": 0.2, "harmful": 0.0}
TIER = {"effective": 0, "promising": 0, "insufficient": 0, "no_effect": 1, "harmful": 2}

MATCH_COLUMNS = [
    "scope",
    "problem",
    "priority_rank",
    "rank",
    "practice_id",
    "title",
    "rating",
    "rating_label",
    "evidence_strength",
    "relevance",
    "score",
    "matched_problem",
    "matched_risk_factors",
    "matched_settings",
    "matched_target_groups",
    "reason",
    "warning",
    "approaches",
    "cost",
    "sources",
]


def _ids(value: object) -> list[str]:
    """A list-valued cell: a list/array, or text separated by ';' or ','; empty for missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"[;,]", value) if p.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def check_priorities(priorities: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Priorities in the shared contract (scope, problem, risk_factors, rank …) with every code checked.

    Optional columns ``settings`` and ``target_groups`` narrow the match (e.g. youth violence *near schools*).
    """
    frame = pd.DataFrame(priorities).reset_index(drop=True)
    if "problem" not in frame.columns:
        raise InputError("the priorities need a 'problem' column", column="problem")
    if "scope" not in frame.columns:
        frame["scope"] = "city"
    if "rank" not in frame.columns:
        frame["rank"] = np.arange(1, len(frame) + 1)
    for column in ("risk_factors", "settings", "target_groups"):
        frame[column] = [_ids(v) for v in frame[column]] if column in frame.columns else [[] for _ in range(len(frame))]
    allowed = {"risk_factors": RISK_FACTORS, "settings": SETTINGS, "target_groups": TARGET_GROUPS}
    for row, record in enumerate(frame.to_dict(orient="records"), start=1):
        if record["problem"] not in PROBLEMS:
            raise InputError(
                f"'{record['problem']}' is not a problem of the codebook",
                row=row,
                column="problem",
                hint=f"problems: {', '.join(PROBLEMS)}",
            )
        for column, choices in allowed.items():
            unknown = [v for v in record[column] if v not in choices]
            if unknown:
                raise InputError(
                    f"{', '.join(map(repr, unknown))} not among the {column.replace('_', ' ')} of the codebook",
                    row=row,
                    column=column,
                    hint=f"allowed: {', '.join(choices)}",
                )
    return frame


def short_citation(source: Mapping[str, Any]) -> str:
    """'Welsh & Farrington 2008', 'Petrosino et al. 2013', 'UN Women 2017'."""
    authors = str(source["citation"]).split(" (")[0]
    surnames = re.findall(r"([A-Z][\w'\-]+(?: [a-z]+ [A-Z][\w'\-]+)?), (?:[A-Z]\.\s?)+", authors)
    if len(surnames) == 2:
        who = f"{surnames[0]} & {surnames[1]}"
    elif len(surnames) > 2:
        who = f"{surnames[0]} et al."
    elif surnames:
        who = surnames[0]
    else:
        who = authors.split(",")[0].strip()
    return f"{who} {source['year']}"


def _reason(problem: str, hits: Mapping[str, list[str]], lang: str) -> str:
    parts = []
    if hits["problem"]:
        parts.append(label("match.problem", lang, value=code_label(problem, lang)))
    if hits["risk_factors"]:
        names = ", ".join(code_label(r, lang) for r in hits["risk_factors"])
        parts.append(label("match.risk_factors", lang, value=names))
    if hits["settings"]:
        names = ", ".join(facet_label("setting", s, lang) for s in hits["settings"])
        parts.append(label("match.settings", lang, value=names))
    if hits["target_groups"]:
        names = ", ".join(facet_label("target_group", t, lang) for t in hits["target_groups"])
        parts.append(label("match.target_groups", lang, value=names))
    return "; ".join(parts)


def _candidates(priority: Mapping[str, Any], library: Library, lang: str) -> list[dict[str, Any]]:
    rows = []
    wanted_rf = set(priority["risk_factors"])
    for practice in library:
        hits = {
            "problem": [priority["problem"]] if priority["problem"] in practice["problems"] else [],
            "risk_factors": sorted(wanted_rf & set(practice.get("risk_factors", []))),
            "settings": sorted(set(priority["settings"]) & set(practice["settings"])),
            "target_groups": sorted(set(priority["target_groups"]) & set(practice["target_groups"])),
        }
        if not hits["problem"] and not hits["risk_factors"]:
            continue
        relevance = (
            WEIGHTS["problem"] * bool(hits["problem"])
            + WEIGHTS["risk_factors"] * (len(hits["risk_factors"]) / len(wanted_rf) if wanted_rf else 0.0)
            + WEIGHTS["settings"] * bool(hits["settings"])
            + WEIGHTS["target_groups"] * bool(hits["target_groups"])
        )
        rating = practice["evidence"]["rating"]
        warning = practice.get("warning", {})
        rows.append(
            {
                "scope": priority["scope"],
                "problem": priority["problem"],
                "priority_rank": priority["rank"],
                "practice_id": practice["id"],
                "title": practice["title"].get(lang) or practice["title"]["en"],
                "rating": rating,
                "rating_label": label(f"rating.{rating}", lang),
                "evidence_strength": evidence_strength(practice),
                "relevance": relevance,
                "score": relevance * EVIDENCE_WEIGHT[rating],
                "matched_problem": bool(hits["problem"]),
                "matched_risk_factors": hits["risk_factors"],
                "matched_settings": hits["settings"],
                "matched_target_groups": hits["target_groups"],
                "reason": _reason(priority["problem"], hits, lang),
                "warning": (warning.get(lang) or warning.get("en") or "").strip(),
                "approaches": list(practice["approaches"]),
                "cost": practice["cost"],
                "sources": "; ".join(short_citation(s) for s in practice["sources"]),
                "_tier": TIER[rating],
            }
        )
    return rows


def match(
    priorities: pd.DataFrame | Sequence[Mapping[str, Any]],
    library: Library,
    *,
    lang: str = "en",
    top: int | None = None,
    show_discouraged: bool = True,
) -> pd.DataFrame:
    """Ranked candidate practices for each priority, with the reason, the evidence and any warning.

    ``top`` keeps the best ``top`` recommendable practices per priority; practices rated no effect or harmful
    that match are listed after them (with their warnings) unless ``show_discouraged`` is False.
    """
    check_choice("lang", lang, LANGUAGES, "match")
    if top is not None and top < 1:
        raise InputError(f"The 'top' parameter of match must be a positive integer. Got {top!r} instead.")
    frame = check_priorities(priorities)
    parts = []
    for record in frame.sort_values("rank", kind="stable").to_dict(orient="records"):
        priority = {str(k): v for k, v in record.items()}
        found = pd.DataFrame(_candidates(priority, library, lang))
        if found.empty:
            continue
        found = found.sort_values(
            ["_tier", "score", "relevance", "practice_id"], ascending=[True, False, False, True]
        ).reset_index(drop=True)
        recommended = found[found["_tier"] == 0]
        discouraged = found[found["_tier"] > 0]
        if top is not None:
            recommended = recommended.head(top)
        kept = pd.concat([recommended, discouraged] if show_discouraged else [recommended], ignore_index=True)
        parts.append(kept.assign(rank=np.arange(1, len(kept) + 1)))
    if not parts:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    missing = out["rating"].isin(DISCOURAGED) & (out["warning"] == "")
    if missing.any():  # the schema requires a warning for these ratings; a library built around it is refused
        raise InputError(f"practice '{out.loc[missing, 'practice_id'].iloc[0]}' is rated discouraged without a warning")
    return out[MATCH_COLUMNS]
