"""Priority problems per community and city-wide, ranked by a rule that is written out with every row.

For each community and each problem of the codebook, four components on 0..1 (see
:mod:`safercities.audit.integrated` for how each signal is made):

* ``severity``   — the mean city percentile of the problem's indicators (1 = the worst-placed area);
* ``frequency``  — the share of the community's focus groups and interviews that raised it (0 if none did);
* ``walks``      — the mean safety-walk signal of the problem and of its linked risk factors (e.g. lighting,
  people around, visibility for robbery);
* ``perception`` — the mean survey signal of the problem and of its linked risk factors.

``score`` = the weighted mean of the components present (:data:`PRIORITY_WEIGHTS`, renormalised over them);
ties go to the higher severity, then frequency. The linked risk factors listed with a problem are those of the
codebook whose integrated score in the community is at least ``factor_threshold``. The city-wide list ranks
problems by their mean score over the communities analysed. Rank intervals come from a bootstrap over the
communities' sessions and walk observations (the qualitative evidence is a sample; indicators are held fixed).

The output follows the shared "priority problems" contract: scope, problem, risk_factors, rank, score, rule,
evidence ({kind, ref, text}), ready for the practice library.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from safercities import __version__
from safercities.audit.codebook import Codebook, load_codebook
from safercities.audit.integrated import IntegratedAnalysis
from safercities.errors import InputError

PRIORITY_WEIGHTS: Mapping[str, float] = {"severity": 0.4, "frequency": 0.3, "walks": 0.2, "perception": 0.1}
COMPONENTS = tuple(PRIORITY_WEIGHTS)
FACTOR_THRESHOLD = 0.5
CITY = "city"
COLUMNS = [
    "scope", "problem", "label", "risk_factors", "rank", "score", "rank_lower", "rank_upper",
    "severity", "frequency", "walks", "perception", "rule", "evidence",
]  # fmt: skip


def rule_text(weights: Mapping[str, float]) -> str:
    """The ranking rule in words, with its weights."""
    terms = " + ".join(f"{w:g}·{c}" for c, w in weights.items())
    return (
        f"score = ({terms}) / (sum of the weights of the components present); severity = mean city percentile of "
        "the problem's indicators (1 = worst area); frequency = share of the community's sessions that raised it "
        "(0 if none did); walks = mean safety-walk signal (5 - mean rating) / 4 of the problem and its linked risk "
        "factors; perception = mean survey signal of the same; ties: higher severity, then frequency"
    )


def _check_weights(weights: Mapping[str, float]) -> None:
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown or any(w < 0 for w in weights.values()) or not sum(weights.values()) > 0:
        raise InputError(
            f"priority weights must be non-negative, not all zero, over {', '.join(COMPONENTS)}. "
            f"Got {dict(weights)} instead."
        )


def components(signals: pd.DataFrame, codebook: Codebook, areas: list[str]) -> pd.DataFrame:
    """Severity, frequency, walks and perception of every problem in every community (NaN where unmeasured)."""
    problems = codebook.ids("problem")
    grid = pd.MultiIndex.from_product([areas, problems], names=["area_id", "code"]).to_frame(index=False)

    def mean_of(source: str) -> pd.Series:
        part = signals[signals["source"] == source]
        return part.groupby(["area_id", "code"])["signal"].mean()

    severity = mean_of("indicator")
    frequency = mean_of("fieldwork")
    had_fieldwork = set(signals.loc[signals["source"] == "fieldwork", "area_id"])
    links = pd.DataFrame(
        [(p, p) for p in problems] + [(p, r) for p in problems for r in codebook.codes[p].risk_factors],
        columns=["code", "linked"],
    )
    out = grid.copy()
    keys = pd.MultiIndex.from_frame(grid)
    out["severity"] = severity.reindex(keys).to_numpy()
    raised = frequency.reindex(keys).to_numpy()
    out["frequency"] = np.where(np.isnan(raised) & grid["area_id"].isin(had_fieldwork).to_numpy(), 0.0, raised)
    for name, source in (("walks", "walk"), ("perception", "survey")):
        per_code = mean_of(source).rename("signal").reset_index().rename(columns={"code": "linked"})
        joined = links.merge(per_code, on="linked").groupby(["area_id", "code"])["signal"].mean()
        out[name] = joined.reindex(keys).to_numpy()
    return out


def _score(frame: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    values = frame[list(COMPONENTS)].to_numpy(float)
    w = np.array([weights.get(c, 0.0) for c in COMPONENTS])
    present = ~np.isnan(values) & (w > 0)
    total = (present * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (np.nan_to_num(values) * w).sum(axis=1) / total, np.nan)


def _rank(frame: pd.DataFrame, scope: str, order: Mapping[str, int]) -> pd.Series:
    """Rank within each scope: score, then severity, then frequency, descending (1 = first priority); remaining
    ties keep the codebook's order of problems."""
    keyed = frame.assign(_order=frame["problem"].map(order))
    ordered = keyed.sort_values(
        [scope, "score", "severity", "frequency", "_order"],
        ascending=[True, False, False, False, True],
        na_position="last",
        kind="stable",
    )
    return ordered.groupby(scope).cumcount().add(1).reindex(frame.index)


@dataclass(frozen=True)
class Priorities:
    """Ranked priority problems per community and city-wide, with the rule, weights and evidence."""

    table: pd.DataFrame
    rule: str
    weights: Mapping[str, float]
    provenance: dict[str, object] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def for_scope(self, scope: str) -> pd.DataFrame:
        part = self.table[self.table["scope"] == scope]
        if part.empty:
            raise InputError(f"no priorities for '{scope}'", hint="scopes are 'city' and the communities analysed")
        return part.sort_values("rank").reset_index(drop=True)

    def first(self, scope: str) -> str:
        """The first priority problem of a scope."""
        return str(self.for_scope(scope)["problem"].iloc[0])

    def summary(self, top: int = 3) -> str:
        lines = [f"rule: {self.rule}"]
        for scope, part in self.table.sort_values(["scope", "rank"]).groupby("scope", sort=False):
            shown = ", ".join(
                f"{r['rank']}. {r['problem']} ({r['score']:.2f}"
                + (f"; with {', '.join(r['risk_factors'])}" if len(r["risk_factors"]) else "")
                + ")"
                for r in part.head(top).to_dict("records")
            )
            lines.append(f"{scope}: {shown}")
        return "\n".join(lines)


def prioritise(
    analysis: IntegratedAnalysis,
    *,
    codebook: Codebook | None = None,
    weights: Mapping[str, float] = PRIORITY_WEIGHTS,
    factor_threshold: float = FACTOR_THRESHOLD,
    replications: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> Priorities:
    """Rank the problems of every community of ``analysis`` and of the city (rule in the module docstring).

    ``replications`` bootstrap draws of the sessions and walk observations give each rank its interval
    (0 = no intervals).
    """
    _check_weights(weights)
    if not 0 <= factor_threshold <= 1:
        raise InputError(f"The 'factor_threshold' parameter must be in [0, 1]. Got {factor_threshold!r} instead.")
    if not isinstance(replications, int) or replications < 0:
        raise InputError(f"The 'replications' parameter must be a non-negative integer. Got {replications!r}.")
    book = codebook or load_codebook()
    areas = list(analysis.profile["area_id"])
    rule = rule_text(weights)
    local = components(analysis.signals, book, areas).rename(columns={"area_id": "scope", "code": "problem"})
    local["score"] = _score(local, weights)
    local = local.dropna(subset=["score"]).reset_index(drop=True)
    order = {p: i for i, p in enumerate(book.ids("problem"))}
    local["rank"] = _rank(local, "scope", order)
    city = _city(local, order)
    lower, upper = _rank_intervals(analysis, book, weights, local, city, replications, seed, confidence)
    table = pd.concat([local, city], ignore_index=True)
    table["rank_lower"], table["rank_upper"] = lower, upper
    scores = analysis.scores.set_index(["area_id", "code"])
    table["risk_factors"] = _linked_factors(table, scores, book, factor_threshold, areas)
    table["evidence"] = pd.Series(_evidence(table, scores, local), index=table.index, dtype=object)
    table["label"] = table["problem"].map(lambda p: book.label(p))
    table["rule"] = rule
    table = table.sort_values(["scope", "rank"], key=lambda s: s.map(lambda v: (v != CITY, v)) if s.name == "scope"
                              else s, kind="stable")  # fmt: skip
    provenance: dict[str, object] = {
        "package": f"safercities {__version__}",
        "weights": dict(weights),
        "factor_threshold": factor_threshold,
        "replications": replications,
        "seed": seed,
        "analysis": analysis.provenance,
    }
    return Priorities(table[COLUMNS].reset_index(drop=True), rule, dict(weights), provenance)


def _city(local: pd.DataFrame, order: Mapping[str, int]) -> pd.DataFrame:
    """City-wide: each problem's mean component and score over the communities analysed."""
    city = local.groupby("problem", sort=True)[[*COMPONENTS, "score"]].mean().reset_index()
    city.insert(0, "scope", CITY)
    city["rank"] = _rank(city, "scope", order)
    return city


def _linked_factors(
    table: pd.DataFrame, scores: pd.DataFrame, book: Codebook, threshold: float, areas: list[str]
) -> list[list[str]]:
    """The problem's codebook risk factors present in the scope (score >= threshold), strongest first."""
    factor_scores = scores["score"]
    city_mean = factor_scores.groupby(level="code").apply(lambda s: s.reindex(areas, level=0).fillna(0).mean())
    out = []
    for scope, problem in zip(table["scope"], table["problem"], strict=True):
        linked = book.codes[problem].risk_factors
        if scope == CITY:
            values = {f: float(city_mean.get(f, 0.0)) for f in linked}
        else:
            values = {f: float(factor_scores.get((scope, f), 0.0)) for f in linked}
        out.append([f for f, v in sorted(values.items(), key=lambda kv: -kv[1]) if v >= threshold])
    return out


def _evidence(table: pd.DataFrame, scores: pd.DataFrame, local: pd.DataFrame) -> list[list[dict[str, str]]]:
    """The problem's own evidence and that of its linked risk factors (city: that of the top communities)."""
    evidence = scores["evidence"]
    out: list[list[dict[str, str]]] = []
    for scope, problem, factors in zip(table["scope"], table["problem"], table["risk_factors"], strict=True):
        if scope == CITY:
            top = local[local["problem"] == problem].nsmallest(3, "rank")["scope"]
            items = [x for area in top for x in evidence.get((area, problem), [])[:2]]
        else:
            items = list(evidence.get((scope, problem), []))
            for factor in factors:
                items += evidence.get((scope, factor), [])[:2]
        out.append(items)
    return out


def _rank_intervals(
    analysis: IntegratedAnalysis,
    book: Codebook,
    weights: Mapping[str, float],
    local: pd.DataFrame,
    city: pd.DataFrame,
    replications: int,
    seed: int,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of each rank over bootstrap draws of the sessions (within community) and the walk
    observations (within community and category); indicators and survey estimates are held fixed."""
    n_rows = len(local) + len(city)
    if replications == 0:
        return np.full(n_rows, np.nan), np.full(n_rows, np.nan)
    rng = np.random.default_rng(seed)
    areas = list(analysis.profile["area_id"])
    problems = book.ids("problem")
    codes = list(book.codes)
    fixed = components(analysis.signals, book, areas).set_index(["area_id", "code"])
    shape = (len(areas), len(problems))
    severity = fixed["severity"].to_numpy(float).reshape(shape)
    perception = fixed["perception"].to_numpy(float).reshape(shape)
    frequency = fixed["frequency"].to_numpy(float).reshape(shape)[None].repeat(replications, axis=0)
    position = {c: i for i, c in enumerate(codes)}
    sessions = _draw_sessions(analysis.segments, areas, codes, replications, rng)
    if sessions is not None:
        has = ~np.isnan(sessions[0, :, 0])
        frequency[:, has, :] = sessions[:, has][:, :, [position[p] for p in problems]]
    walk = _draw_walks(analysis.observations, areas, book, position, replications, rng)
    links = np.zeros((len(problems), len(codes)))
    for i, problem in enumerate(problems):
        links[i, [position[c] for c in (problem, *book.codes[problem].risk_factors)]] = 1
    present = ~np.isnan(walk)
    with np.errstate(invalid="ignore", divide="ignore"):
        walks = np.einsum("bac,pc->bap", np.nan_to_num(walk), links) / np.einsum("bac,pc->bap", present * 1.0, links)
    parts = {
        "severity": np.broadcast_to(severity, walks.shape),
        "frequency": frequency,
        "walks": walks,
        "perception": np.broadcast_to(perception, walks.shape),
    }
    w = {c: weights.get(c, 0.0) for c in COMPONENTS}
    total = sum(w[c] * ~np.isnan(parts[c]) for c in COMPONENTS)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = sum(w[c] * np.nan_to_num(parts[c]) for c in COMPONENTS) / np.where(total > 0, total, np.nan)
    local_rank = _ranks(score, parts["severity"], frequency)
    a_index = {a: i for i, a in enumerate(areas)}
    p_index = {p: i for i, p in enumerate(problems)}
    rows_a = local["scope"].map(a_index).to_numpy()
    rows_p = local["problem"].map(p_index).to_numpy()
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a problem with no evidence anywhere: an all-NaN mean
        city_score = np.nanmean(score, axis=1)
        city_sev = np.nanmean(np.where(np.isnan(score), np.nan, parts["severity"]), axis=1)
        city_freq = np.nanmean(np.where(np.isnan(score), np.nan, frequency), axis=1)
    city_rank = _ranks(city_score[:, None], city_sev[:, None], city_freq[:, None])[:, 0]
    ranks = np.concatenate(
        [local_rank[:, rows_a, rows_p], city_rank[:, city["problem"].map(p_index).to_numpy()]], axis=1
    )
    alpha = (1 - confidence) / 2
    lower = np.quantile(ranks, alpha, axis=0, method="lower")
    upper = np.quantile(ranks, 1 - alpha, axis=0, method="higher")
    return lower, upper


def _ranks(score: np.ndarray, severity: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Rank 1..P along the last axis by score, severity, frequency (descending; NaN last), then problem order."""
    order_index = np.broadcast_to(np.arange(score.shape[-1]), score.shape)
    keys = [order_index] + [np.where(np.isnan(v), np.inf, -v) for v in (frequency, severity, score)]
    order = np.lexsort(keys, axis=-1)
    ranks = np.empty_like(order, dtype=float)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, score.shape[-1] + 1), score.shape).astype(float),
                      axis=-1)  # fmt: skip
    return np.where(np.isnan(score), np.nan, ranks)


def _draw_sessions(
    segments: pd.DataFrame | None, areas: list[str], codes: list[str], replications: int, rng: np.random.Generator
) -> np.ndarray | None:
    """Bootstrap shares (replications x areas x codes) of sessions raising each code; NaN for areas without."""
    if segments is None or segments.empty:
        return None
    long = segments.assign(code=segments["codes"].str.split(";")).explode("code")
    long = long[long["code"].isin(codes)]
    raised = pd.crosstab([long["area_id"], long["session_id"]], long["code"]).reindex(columns=codes, fill_value=0)
    held = segments[["area_id", "session_id"]].drop_duplicates().set_index(["area_id", "session_id"]).index
    matrix = raised.reindex(held, fill_value=0).clip(upper=1)
    out = np.full((replications, len(areas), len(codes)), np.nan)
    for i, area in enumerate(areas):  # one block per community: draws x sessions x codes
        if area not in matrix.index.get_level_values(0):
            continue
        m = matrix.xs(area, level=0).to_numpy(float)
        pick = rng.integers(0, len(m), (replications, len(m)))
        out[:, i, :] = m[pick].mean(axis=1)
    return out


def _draw_walks(
    observations: pd.DataFrame | None,
    areas: list[str],
    book: Codebook,
    position: dict[str, int],
    replications: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Bootstrap walk signals (replications x areas x codes): NaN where no category speaks of the code."""
    out_sum = np.zeros((replications, len(areas), len(position)))
    out_n = np.zeros_like(out_sum)
    if observations is not None and len(observations):
        a_index = {a: i for i, a in enumerate(areas)}
        for (area, category), ratings in observations.groupby(["area_id", "category"])["rating"]:
            signal = book.walk_categories.get(str(category))
            if area not in a_index or signal is None:
                continue
            r = ratings.to_numpy(float)
            badness = (5 - r[rng.integers(0, len(r), (replications, len(r)))].mean(axis=1)) / 4
            for code, value in ((signal.low, badness), (signal.high, 1 - badness)):
                if code:
                    out_sum[:, a_index[area], position[code]] += value
                    out_n[:, a_index[area], position[code]] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(out_n > 0, out_sum / out_n, np.nan)
