"""The integrated analysis of the local safety audit: threats x vulnerabilities x capacities per community.

Four kinds of evidence speak of the same codes of the codebook:

* **indicator** — a framework indicator linked to the code (``codebook.yaml``: ``indicators``). Its value is
  placed among the areas as a percentile oriented by the indicator's direction, so that 1 is the worst-placed
  area of the city and 0 the best-placed (relative to the city, as the audit compares communities).
* **fieldwork** — the share of a community's focus groups and interviews in which the code came up (how many
  groups raised it: the saturation measure of qualitative analysis).
* **walk** — the mean safety-walk rating of the category that signals the code, as ``(5 - mean) / 4`` (1 when
  every point was rated 1) for the code a low rating signals, and one minus that for the code a high rating
  signals (``codebook.yaml``: ``walk_categories``).
* **survey** — a perception estimate (a proportion), as ``1 - estimate`` for the code a low share signals and
  ``estimate`` for the code a high share signals (``codebook.yaml``: ``survey_indicators``).

Every signal is on 0..1, "how present the code is here". A code's **score** in a community is the weighted
mean of its sources' signals (:data:`SOURCE_WEIGHTS`, renormalised over the sources present). Problems are
threats, risk factors vulnerabilities, protective factors capacities; a community's threat (vulnerability,
capacity) level is the mean of its three highest problem (risk-factor, protective-factor) scores, and its
risk = threat x vulnerability / (1 + capacity), the hazard-vulnerability-capacity reading of risk.

Where sources disagree, that is a finding: one source at or above :data:`HIGH` and another at or below
:data:`LOW` on the same code (fieldwork counts only as the high side: a code nobody raised is not evidence of
its absence), and high fear of crime with low recorded crime (or the reverse). Every finding carries its
evidence as ``{kind, ref, text}``: the indicator id and value, the quote id and text, the walk observation ids,
the survey estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from safercities import __version__
from safercities.audit.codebook import Codebook, load_codebook
from safercities.audit.walks import walk_summary
from safercities.errors import InputError

SOURCE_WEIGHTS: Mapping[str, float] = {"indicator": 0.4, "fieldwork": 0.3, "walk": 0.2, "survey": 0.1}
"""Weight of each kind of evidence in a code's score (renormalised over the kinds present for that code)."""
HIGH = 2 / 3
LOW = 1 / 3
TOP = 3
"""A community's threat, vulnerability and capacity levels average its TOP highest scores of each kind."""
MAX_QUOTES = 3
SIGNAL_COLUMNS = ["area_id", "code", "source", "ref", "value", "signal", "n", "text", "evidence"]


def _objects(values: list[Any], index: pd.Index) -> pd.Series:
    """A column of Python objects (lists of evidence items), one per row."""
    return pd.Series(values, index=index, dtype=object)


def _empty_signals() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SIGNAL_COLUMNS})


def _require(frame: pd.DataFrame | None, columns: Sequence[str], what: str) -> None:
    if frame is None:
        return
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"the {what} table lacks column(s) {missing}; it needs {list(columns)}")


def _percentile(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Place of each value among its group's values: 0 for the lowest, 1 for the highest, 0.5 when alone."""
    rank = values.groupby(groups).rank(method="average")
    n = values.groupby(groups).transform("count")
    return ((rank - 1) / (n - 1)).where(n > 1, 0.5)


def indicator_signals(
    indicators: pd.DataFrame,
    codebook: Codebook,
    directions: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One signal per area x linked code x indicator, from the latest period of each indicator.

    ``indicators`` follows the indicator-values contract (area_id, period, indicator_id, value, lower, upper, …);
    missing values (NaN) give no signal. ``directions`` maps indicator ids to ``higher_is_worse`` (the default
    for ids it does not name) or ``higher_is_better``.
    """
    _require(indicators, ["area_id", "period", "indicator_id", "value"], "indicator values")
    links = codebook.indicator_links()
    frame = indicators[indicators["indicator_id"].isin(links["indicator_id"])]
    frame = frame[pd.to_numeric(frame["value"], errors="coerce").notna()].copy()
    if frame.empty:
        return _empty_signals()
    frame["value"] = frame["value"].astype(float)
    latest = frame.groupby("indicator_id")["period"].transform(lambda p: p.astype(str).max())
    frame = frame[frame["period"].astype(str) == latest].drop_duplicates(["area_id", "indicator_id"], keep="last")
    direction = frame["indicator_id"].map(dict(directions or {})).astype(object)
    direction = direction.where(direction.notna(), "higher_is_worse")
    bad_direction = sorted(set(direction) - {"higher_is_worse", "higher_is_better"})
    if bad_direction:
        raise InputError(f"indicator directions must be higher_is_worse or higher_is_better. Got {bad_direction}")
    place = _percentile(frame["value"], frame["indicator_id"])
    frame["badness"] = np.where(direction == "higher_is_worse", place, 1 - place)
    frame = frame.merge(links, on="indicator_id").merge(codebook.to_frame()[["code", "kind"]], on="code", how="left")
    frame["signal"] = np.where(frame["kind"] == "protective_factor", 1 - frame["badness"], frame["badness"])
    unit = frame["unit"].astype(object) if "unit" in frame else pd.Series("", index=frame.index, dtype=object)
    named = frame["indicator_id"].map(dict(units or {})).astype(object)
    unit = named.where(named.notna(), unit)
    unit = unit.where(unit.notna(), "").astype(str)
    interval: Any = ""
    if {"lower", "upper"} <= set(frame.columns):
        lower = pd.to_numeric(frame["lower"], errors="coerce")
        upper = pd.to_numeric(frame["upper"], errors="coerce")
        interval = np.where(
            lower.notna() & upper.notna(),
            " [" + lower.map("{:.4g}".format) + "–" + upper.map("{:.4g}".format) + "]",
            "",
        )
    n_areas = frame.groupby("indicator_id")["area_id"].transform("nunique")
    text = (
        frame["indicator_id"]
        + " = "
        + frame["value"].map("{:.4g}".format)
        + interval
        + (" " + unit).str.rstrip()
        + " ("
        + frame["period"].astype(str)
        + "): worse than "
        + (frame["badness"] * 100).round().astype(int).astype(str)
        + "% of "
        + n_areas.astype(str)
        + " areas"
    )
    out = pd.DataFrame(
        {
            "area_id": frame["area_id"].astype(str),
            "code": frame["code"],
            "source": "indicator",
            "ref": frame["indicator_id"],
            "value": frame["value"],
            "signal": frame["signal"].astype(float),
            "n": n_areas.astype(float),
            "text": text,
        }
    )
    out["evidence"] = _objects(
        [[{"kind": "indicator", "ref": r, "text": t}] for r, t in zip(out["ref"], out["text"], strict=True)], out.index
    )
    return out.reset_index(drop=True)


def fieldwork_signals(segments: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """One signal per area x code raised in its focus groups and interviews: sessions raising it / sessions held."""
    _require(segments, ["segment_id", "session_id", "area_id", "participant_group", "codes", "quote"], "segments")
    if segments.empty:
        return _empty_signals()
    long = segments.assign(code=segments["codes"].str.split(";")).explode("code", ignore_index=True)
    long = long[long["code"].isin(list(codebook.codes))]
    held = segments.groupby("area_id")["session_id"].nunique()
    grouped = long.groupby(["area_id", "code"], sort=True)
    counts = grouped.agg(
        sessions=("session_id", "nunique"),
        segments=("segment_id", "nunique"),
        groups=("participant_group", lambda g: ", ".join(sorted(set(g)))),
    ).reset_index()
    counts["held"] = counts["area_id"].map(held)
    counts["signal"] = counts["sessions"] / counts["held"]
    quoted = long.sort_values(["area_id", "code", "session_date", "segment_id"], kind="stable")
    quoted = quoted[quoted["quote"].fillna("") != ""].groupby(["area_id", "code"]).head(MAX_QUOTES)
    quote_evidence = (
        quoted.assign(
            item=_objects(
                [{"kind": "quote", "ref": s, "text": q} for s, q in zip(quoted["segment_id"], quoted["quote"],
                                                                        strict=True)],
                quoted.index,
            )
        )
        .groupby(["area_id", "code"])["item"]
        .agg(list)
    )  # fmt: skip
    text = (
        "raised in "
        + counts["sessions"].astype(str)
        + " of "
        + counts["held"].astype(str)
        + " sessions ("
        + counts["groups"]
        + "), "
        + counts["segments"].astype(str)
        + " coded segments"
    )
    out = pd.DataFrame(
        {
            "area_id": counts["area_id"].astype(str),
            "code": counts["code"],
            "source": "fieldwork",
            "ref": "sessions:" + counts["area_id"].astype(str) + ":" + counts["code"],
            "value": counts["signal"].astype(float),
            "signal": counts["signal"].astype(float),
            "n": counts["held"].astype(float),
            "text": text,
        }
    )
    keys = pd.MultiIndex.from_frame(counts[["area_id", "code"]])
    quotes = quote_evidence.reindex(keys)
    out["evidence"] = _objects([q if isinstance(q, list) else [] for q in quotes], out.index)
    return out


def walk_signals(observations: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Signals from safety-walk ratings: each category's mean placed on 0..1 for the code(s) it signals."""
    _require(observations, ["observation_id", "area_id", "category", "rating"], "walk observations")
    if observations.empty:
        return _empty_signals()
    summary = walk_summary(observations)
    rows = []
    for end, flip in (("low", False), ("high", True)):
        target = {c: getattr(s, end) for c, s in codebook.walk_categories.items() if getattr(s, end)}
        part = summary[summary["category"].isin(list(target))].copy()
        part["code"] = part["category"].map(target)
        part["signal"] = 1 - part["badness"] if flip else part["badness"]
        rows.append(part)
    frame = pd.concat(rows, ignore_index=True)
    interval = np.where(
        frame["lower"].notna(),
        ", 95% CI " + frame["lower"].map("{:.1f}".format) + "–" + frame["upper"].map("{:.1f}".format),
        "",
    )
    text: pd.Series = (
        frame["category"]
        + " rated "
        + frame["mean_rating"].map("{:.1f}".format)
        + "/5 on safety walks (n = "
        + frame["n"].astype(str)
        + interval
        + ")"
    )
    out = pd.DataFrame(
        {
            "area_id": frame["area_id"].astype(str),
            "code": frame["code"],
            "source": "walk",
            "ref": "walk:" + frame["category"],
            "value": frame["mean_rating"].astype(float),
            "signal": frame["signal"].astype(float),
            "n": frame["n"].astype(float),
            "text": text,
        }
    )
    out["evidence"] = _objects(
        [
            [{"kind": "walk", "ref": ",".join(ids), "text": t}]
            for ids, t in zip(frame["observation_ids"], text, strict=True)
        ],
        out.index,
    )
    return out


def survey_signals(survey: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Signals from survey perception estimates (proportions, or percentages above 1) per area."""
    _require(survey, ["area_id", "indicator", "estimate"], "survey estimates")
    frame = survey[survey["indicator"].isin(list(codebook.survey_indicators))].copy()
    frame = frame[pd.to_numeric(frame["estimate"], errors="coerce").notna()]
    if frame.empty:
        return _empty_signals()
    share = frame["estimate"].astype(float)
    share = share.where(share <= 1, share / 100)
    se = pd.to_numeric(frame.get("se", pd.Series(np.nan, index=frame.index)), errors="coerce")
    se = se.where(frame["estimate"].astype(float) <= 1, se / 100)
    rows = []
    for end, flip in (("low", True), ("high", False)):
        target = {i: getattr(s, end) for i, s in codebook.survey_indicators.items() if getattr(s, end)}
        part = frame[frame["indicator"].isin(list(target))].assign(share=share, se_share=se)
        part["code"] = part["indicator"].map(target)
        part["signal"] = 1 - part["share"] if flip else part["share"]
        rows.append(part)
    frame = pd.concat(rows, ignore_index=True)
    se_text = np.where(
        frame["se_share"].notna(), " (SE " + (frame["se_share"] * 100).map("{:.1f}".format) + " pts)", ""
    )
    text: pd.Series = frame["indicator"] + " = " + (frame["share"] * 100).map("{:.0f}".format) + "%" + se_text
    out = pd.DataFrame(
        {
            "area_id": frame["area_id"].astype(str),
            "code": frame["code"],
            "source": "survey",
            "ref": frame["indicator"],
            "value": frame["share"].astype(float),
            "signal": frame["signal"].astype(float),
            "n": np.nan,
            "text": text,
        }
    )
    out["evidence"] = _objects(
        [[{"kind": "survey", "ref": r, "text": t}] for r, t in zip(out["ref"], out["text"], strict=True)], out.index
    )
    return out


def combine(signals: pd.DataFrame, weights: Mapping[str, float] = SOURCE_WEIGHTS) -> pd.DataFrame:
    """Score of each area x code: the weighted mean of its sources' mean signals (weights renormalised).

    Columns: area_id, code, one column per source (its mean signal, NaN when absent), score, sources (how many).
    """
    unknown = sorted(set(signals["source"]) - set(weights))
    if unknown:
        raise InputError(f"no weight for evidence source(s) {unknown}; weights are given for {sorted(weights)}")
    if any(w < 0 for w in weights.values()) or not sum(weights.values()) > 0:
        raise InputError(f"source weights must be non-negative and not all zero. Got {dict(weights)} instead.")
    by_source = signals.pivot_table(index=["area_id", "code"], columns="source", values="signal", aggfunc="mean")
    by_source = by_source.reindex(columns=list(weights))
    w = pd.Series(weights, dtype=float)
    present = by_source.notna()
    total = present.mul(w, axis=1).sum(axis=1)
    score = by_source.fillna(0.0).mul(w, axis=1).sum(axis=1) / total.where(total > 0)
    out = by_source.assign(score=score, sources=present.sum(axis=1)).reset_index()
    return out.dropna(subset=["score"]).reset_index(drop=True)


def _evidence_lists(signals: pd.DataFrame) -> pd.Series:
    """All evidence items of each area x code, sources in the order indicator, survey, walk, fieldwork (quotes)."""
    order = {"indicator": 0, "survey": 1, "walk": 2, "fieldwork": 3}
    ordered = signals.assign(_o=signals["source"].map(order)).sort_values(["area_id", "code", "_o", "ref"])
    return ordered.groupby(["area_id", "code"])["evidence"].agg(lambda lists: [x for part in lists for x in part])


def disagreements(signals: pd.DataFrame, codebook: Codebook, high: float = HIGH, low: float = LOW) -> pd.DataFrame:
    """Findings of kind 'disagreement': sources that contradict each other on a code, and fear vs recorded crime."""
    rows: list[dict[str, Any]] = []
    means = signals.groupby(["area_id", "code", "source"], sort=True).agg(
        signal=("signal", "mean"), text=("text", "; ".join), evidence=("evidence", lambda e: [x for p in e for x in p])
    )
    means = means.reset_index()
    says_high = means[means["signal"] >= high]
    says_low = means[(means["signal"] <= low) & (means["source"] != "fieldwork")]
    pairs = says_high.merge(says_low, on=["area_id", "code"], suffixes=("_hi", "_lo"))
    for rec in pairs.to_dict("records"):
        label = codebook.label(str(rec["code"]))
        rows.append(
            {
                "area_id": rec["area_id"],
                "kind": "disagreement",
                "code": rec["code"],
                "score": float(rec["signal_hi"] - rec["signal_lo"]),
                "summary": f"{label}: the {rec['source_hi']} evidence says it is strong ({rec['signal_hi']:.2f}) "
                f"but the {rec['source_lo']} evidence says it is weak ({rec['signal_lo']:.2f})"
                + (
                    "; recorded figures may miss what residents live (under-reporting?)"
                    if rec["source_hi"] in ("fieldwork", "survey", "walk") and rec["source_lo"] == "indicator"
                    else ""
                ),
                "sources": [rec["source_hi"], rec["source_lo"]],
                "evidence": [*rec["evidence_hi"], *rec["evidence_lo"]],
            }
        )
    rows += _fear_versus_crime(signals, codebook, high, low)
    return pd.DataFrame(rows, columns=["area_id", "kind", "code", "score", "summary", "sources", "evidence"])


def _fear_versus_crime(signals: pd.DataFrame, codebook: Codebook, high: float, low: float) -> list[dict[str, Any]]:
    """High fear with low recorded crime, or low fear with high recorded crime, per area."""
    problems = set(codebook.ids("problem")) - {"fear_of_crime"}
    crime = signals[(signals["source"] == "indicator") & signals["code"].isin(list(problems))]
    crime = crime.drop_duplicates(["area_id", "ref"])
    fear = signals[(signals["code"] == "fear_of_crime") & (signals["source"] != "indicator")]
    recorded = crime.groupby("area_id")["signal"].mean()
    fear_level = fear.groupby(["area_id", "source"])["signal"].mean().groupby("area_id").mean()
    fear_sources = fear.groupby("area_id")["source"].agg(lambda s: sorted(set(s)))
    rows = []
    for area in sorted(set(recorded.index) & set(fear_level.index)):
        f, c = float(fear_level[area]), float(recorded[area])
        only_fieldwork = fear_sources[area] == ["fieldwork"]
        if f >= high and c <= low:
            summary = (
                f"high fear of crime ({f:.2f}) but low recorded crime ({c:.2f}): fear is a problem of its own "
                "here (environment, rumours, or crimes nobody reports)"
            )
        elif f <= low and c >= high and not only_fieldwork:
            summary = f"low fear of crime ({f:.2f}) despite high recorded crime ({c:.2f})"
        else:
            continue
        evidence = [
            *(x for e in fear["evidence"][fear["area_id"] == area] for x in e),
            *(x for e in crime["evidence"][crime["area_id"] == area] for x in e),
        ]
        rows.append(
            {
                "area_id": area,
                "kind": "disagreement",
                "code": "fear_of_crime",
                "score": abs(f - c),
                "summary": summary,
                "sources": sorted(set(fear_sources[area]) | {"indicator"}),
                "evidence": evidence,
            }
        )
    return rows


@dataclass(frozen=True)
class IntegratedAnalysis:
    """Per community: every code's score with its sources, the findings, and the threat x vulnerability x
    capacity profile; every finding with its evidence."""

    signals: pd.DataFrame
    scores: pd.DataFrame
    findings: pd.DataFrame
    profile: pd.DataFrame
    weights: Mapping[str, float]
    thresholds: tuple[float, float]
    provenance: dict[str, object] = field(default_factory=dict)
    segments: pd.DataFrame | None = None
    """The coded segments of the communities analysed (kept for the bootstrap of the priorities)."""
    observations: pd.DataFrame | None = None
    """The walk observations of the communities analysed."""

    def to_frame(self) -> pd.DataFrame:
        """The findings (threat, vulnerability, capacity and disagreement), one row each."""
        return self.findings

    def disagreements(self) -> pd.DataFrame:
        return self.findings[self.findings["kind"] == "disagreement"].reset_index(drop=True)

    def summary(self, area_id: str | None = None) -> str:
        areas = [area_id] if area_id else list(self.profile["area_id"])
        lines = []
        for area in areas:
            p = self.profile[self.profile["area_id"] == area]
            if p.empty:
                raise InputError(f"no integrated analysis for area '{area}'")
            row = p.iloc[0]
            lines.append(
                f"{area}: threat {row['threat']:.2f} x vulnerability {row['vulnerability']:.2f} "
                f"/ (1 + capacity {row['capacity']:.2f}) = risk {row['risk']:.2f}"
            )
            for f in self.findings[self.findings["area_id"] == area].itertuples(index=False):
                lines.append(f"  [{f.kind}] {f.summary}")
        return "\n".join(lines)


def _top_mean(scores: pd.DataFrame, kind: str) -> pd.Series:
    part = scores[scores["kind"] == kind].sort_values("score", ascending=False)
    return part.groupby("area_id")["score"].apply(lambda s: s.head(TOP).mean())


def integrate(
    *,
    codebook: Codebook | None = None,
    indicators: pd.DataFrame | None = None,
    directions: Mapping[str, str] | None = None,
    dimension_scores: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    observations: pd.DataFrame | None = None,
    survey: pd.DataFrame | None = None,
    areas: Sequence[str] | None = None,
    weights: Mapping[str, float] = SOURCE_WEIGHTS,
    high: float = HIGH,
    low: float = LOW,
) -> IntegratedAnalysis:
    """Bring the evidence together per community (see the module docstring for every rule).

    ``areas`` are the communities analysed (default: those with fieldwork or walks, else every area with
    indicator values); indicator percentiles are taken among all areas of ``indicators``, so pass one level.
    ``dimension_scores`` (area_id, dimension, score, rank, rank_lower, rank_upper) are attached to each
    community's profile as context evidence.
    """
    if not 0 <= low < high <= 1:
        raise InputError(f"thresholds must satisfy 0 <= low < high <= 1. Got low={low!r}, high={high!r} instead.")
    book = codebook or load_codebook()
    parts = [
        indicator_signals(indicators, book, directions) if indicators is not None else None,
        fieldwork_signals(segments, book) if segments is not None else None,
        walk_signals(observations, book) if observations is not None else None,
        survey_signals(survey, book) if survey is not None else None,
    ]
    found = [p for p in parts if p is not None and len(p)]
    signals = pd.concat(found, ignore_index=True) if found else _empty_signals()
    if areas is None:
        local = signals[signals["source"].isin(["fieldwork", "walk"])]["area_id"]
        areas = sorted(set(local)) if len(local) else sorted(set(signals["area_id"]))
    if not len(areas):
        raise InputError("nothing to analyse: give indicator values, fieldwork segments or walk observations")
    local_signals = signals[signals["area_id"].isin(list(areas))].reset_index(drop=True)
    scores = combine(local_signals, weights) if len(local_signals) else combine(_empty_signals(), weights)
    codes = book.to_frame()[["code", "kind", "role", "dimension"]]
    scores = scores.merge(codes, on="code", how="left")
    evidence = _evidence_lists(local_signals) if len(local_signals) else pd.Series(dtype=object)
    scores["evidence"] = [evidence.get((a, c), []) for a, c in zip(scores["area_id"], scores["code"], strict=True)]
    present = [s for s in weights if s in scores.columns]
    salient = scores[scores["score"] >= 0.5].sort_values(["area_id", "score"], ascending=[True, False])
    findings = pd.DataFrame(
        {
            "area_id": salient["area_id"],
            "kind": salient["role"],
            "code": salient["code"],
            "score": salient["score"],
            "summary": [
                f"{book.label(c)} ({r}): score {s:.2f} from {int(n)} source(s)"
                for c, r, s, n in zip(salient["code"], salient["role"], salient["score"], salient["sources"],
                                      strict=True)
            ],
            "sources": [
                [src for src in present if pd.notna(row[src])] for _, row in salient[present].iterrows()
            ],
            "evidence": salient["evidence"],
        }
    )  # fmt: skip
    disagree = disagreements(local_signals, book, high, low)
    findings = pd.concat([findings, disagree], ignore_index=True) if len(disagree) else findings
    findings = findings.reset_index(drop=True)
    profile = pd.DataFrame({"area_id": list(areas)})
    for column, kind in (("threat", "problem"), ("vulnerability", "risk_factor"), ("capacity", "protective_factor")):
        profile[column] = profile["area_id"].map(_top_mean(scores, kind)).fillna(0.0)
    profile["risk"] = profile["threat"] * profile["vulnerability"] / (1 + profile["capacity"])
    profile["risk_rank"] = profile["risk"].rank(ascending=False, method="min").astype(int)
    profile["disagreements"] = profile["area_id"].map(disagree["area_id"].value_counts()).fillna(0).astype(int)
    if dimension_scores is not None:
        _require(dimension_scores, ["area_id", "dimension", "score", "rank"], "dimension scores")
        d = dimension_scores[dimension_scores["area_id"].isin(list(areas))]
        items = d.assign(
            item=_objects(
                [
                    {"kind": "indicator", "ref": f"dimension:{dim}", "text": _dimension_text(row)}
                    for dim, (_, row) in zip(d["dimension"], d.iterrows(), strict=True)
                ],
                d.index,
            )
        )
        profile["context"] = profile["area_id"].map(items.groupby("area_id")["item"].agg(list))
        profile["context"] = [c if isinstance(c, list) else [] for c in profile["context"]]
    provenance: dict[str, object] = {
        "package": f"safercities {__version__}",
        "weights": dict(weights),
        "thresholds": {"high": high, "low": low},
        "codebook": book.path,
        "sources": sorted(set(signals["source"])),
    }
    keep = list(areas)
    return IntegratedAnalysis(
        local_signals,
        scores,
        findings,
        profile,
        dict(weights),
        (low, high),
        provenance,
        segments=None if segments is None else segments[segments["area_id"].isin(keep)].reset_index(drop=True),
        observations=None
        if observations is None
        else observations[observations["area_id"].isin(keep)].reset_index(drop=True),
    )


def _dimension_text(row: pd.Series) -> str:
    text = f"{row['dimension']} dimension score {float(row['score']):.3g}, rank {int(row['rank'])}"
    if "rank_lower" in row and pd.notna(row.get("rank_lower")) and pd.notna(row.get("rank_upper")):
        text += f" (rank interval {int(row['rank_lower'])}–{int(row['rank_upper'])})"
    return text
