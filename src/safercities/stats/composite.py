"""Composite indices of the local safety audit, after the OECD/JRC *Handbook on Constructing Composite Indicators*.

Indicators (columns of a wide frame, one row per area) are grouped into dimensions; each is **normalised**
(min-max, z-score, rank, distance to a target, or goalposts), **weighted** (equal, expert-given, from a file)
and **aggregated** (arithmetic or geometric) into a score per dimension, and the dimension scores into an
overall score. Every score is oriented by ``polarity``: with the default ``"higher_is_worse"`` a high score
means a worse situation (a risk or need index), whatever each indicator's own direction, and rank 1 is the
area in the worst situation. ``polarity="higher_is_better"`` gives an achievement index (as the Handbook's
Technology Achievement Index), rank 1 the best.

Missing values are never zeros. Normalisation uses the areas that have a value; a dimension score is the
weighted mean of the indicators an area has, the weights re-scaled over them, and only when the area has at
least ``min_coverage`` of the dimension's indicators (counted, not weighted); otherwise it is NaN. The overall
score follows the same rule over dimensions. An area without a score has no rank.

Geometric aggregation needs positive values: normalised values other than ranks (which start at 1) are
first rescaled to [1, 100] over areas, per indicator, so that the worst-placed area does not zero its mean.

:func:`uncertainty_analysis` propagates the choices (normalisation, weights drawn from a Dirichlet centred on
the nominal weights, aggregation, exclusion of one indicator) by Monte Carlo, giving each area's rank an
interval, and measures which choice drives the variance of the ranks by first-order and total Sobol' indices
(Saltelli et al. 2010 estimators over groups of inputs), as Saisana, Saltelli & Tarantola (2005) did for
composite indicators.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.stats import rankdata

from safercities.errors import InputError, check_choice
from safercities.stats.provenance import stamp

__all__ = [
    "AGGREGATIONS",
    "DIRECTIONS",
    "NORMALISATIONS",
    "CompositeResult",
    "UncertaintyResult",
    "aggregate",
    "composite_index",
    "correlation_check",
    "indicator_table",
    "normalise",
    "read_weights",
    "uncertainty",
    "uncertainty_analysis",
]

Direction = Literal["higher_is_worse", "higher_is_better"]
DIRECTIONS: tuple[str, ...] = ("higher_is_worse", "higher_is_better")
NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore", "rank", "distance_to_target", "goalposts")
AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")
GEOMETRIC_RANGE = (1.0, 100.0)
"""Normalised values (other than ranks) are rescaled into this range before a geometric mean."""
OVERALL = "overall"


# -- input checks ---------------------------------------------------------------------------------------------
def _numeric_frame(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The wide table as floats (NaN = missing); names the column of a value that is not a number."""
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0 or frame.shape[0] == 0:
        raise InputError(f"{where}: give a table with one row per area and one column per indicator")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise InputError(f"{where}: area '{dup}' appears in more than one row; give one row per area")
    if frame.columns.has_duplicates:
        raise InputError(f"{where}: indicator columns repeat: {sorted(frame.columns[frame.columns.duplicated()])}")
    out = {}
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce").astype(float)
        bad = values.isna() & frame[column].notna()
        if bad.any():
            area = frame.index[bad.to_numpy()][0]
            raise InputError(
                f"{where}: value {frame[column][bad].iloc[0]!r} of area '{area}' is not a number",
                column=str(column),
                hint="leave a missing value empty (NaN), never 0",
            )
        if np.isinf(values.to_numpy()).any():
            raise InputError(f"{where}: infinite value", column=str(column))
        out[column] = values
    return pd.DataFrame(out, index=frame.index)


def _signs(columns: pd.Index, directions: Mapping[str, str], polarity: str, where: str) -> NDArray[np.float64]:
    """+1 where an indicator's direction is the score's polarity, -1 where it must be turned round."""
    check_choice("polarity", polarity, DIRECTIONS, where)
    missing = [str(c) for c in columns if c not in directions]
    if missing:
        raise InputError(
            f"{where}: no direction for indicator(s) {missing}",
            hint="give each indicator 'higher_is_worse' or 'higher_is_better'",
        )
    for c in columns:
        if directions[c] not in DIRECTIONS:
            raise InputError(
                f"{where}: direction of indicator '{c}' must be one of {', '.join(DIRECTIONS)}. "
                f"Got {directions[c]!r} instead."
            )
    return np.array([1.0 if directions[c] == polarity else -1.0 for c in columns])


# -- normalisation --------------------------------------------------------------------------------------------
def _normalise_array(
    x: NDArray[np.float64], sign: NDArray[np.float64], method: str, columns: Sequence[str], targets: Any
) -> NDArray[np.float64]:
    """Normalise the columns of ``x`` (areas x indicators, NaN = missing), oriented by ``sign``."""
    count = np.sum(~np.isnan(x), axis=0)
    empty = [str(c) for c, n in zip(columns, count, strict=True) if n == 0]
    if empty:
        raise InputError(f"normalise: indicator(s) {empty} have no value in any area")
    with np.errstate(invalid="ignore", divide="ignore"):
        if method in ("minmax", "zscore"):
            if method == "minmax":
                centre, spread = np.nanmin(x, axis=0), np.nanmax(x, axis=0) - np.nanmin(x, axis=0)
            else:
                few = [str(c) for c, n in zip(columns, count, strict=True) if n < 2]
                if few:
                    raise InputError(f"normalise: z-scores need two or more areas with a value; {few} have one")
                centre, spread = np.nanmean(x, axis=0), np.nanstd(x, axis=0, ddof=1)
            flat = [str(c) for c, s in zip(columns, spread, strict=True) if not s > 0]
            if flat:
                raise InputError(
                    f"normalise: indicator(s) {flat} take the same value in every area, so they cannot tell "
                    "areas apart; leave them out"
                )
            z = (x - centre) / spread
            if method == "minmax":
                return np.where(sign > 0, z, 1.0 - z)
            return sign * z
        if method == "rank":
            # competition ranks ("min" ties), 1 = the best-placed area in the score's orientation, as Table 15
            return np.asarray(rankdata(sign * x, method="min", axis=0, nan_policy="omit"), dtype=np.float64)
        if method == "distance_to_target":
            t = _targets(targets, columns, method, scalar=True)
            if np.any(t == 0):
                zero = [str(c) for c, v in zip(columns, t, strict=True) if v == 0]
                raise InputError(f"normalise: the target of {zero} is 0; distance to target divides by it")
            return sign * (x - t) / np.abs(t)
        # goalposts: min-max between fixed bounds, capped to [0, 1]
        bounds = _targets(targets, columns, method, scalar=False)
        lo, hi = bounds[:, 0], bounds[:, 1]
        z = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        return np.where(sign > 0, z, 1.0 - z)


def _targets(targets: Any, columns: Sequence[str], method: str, scalar: bool) -> NDArray[np.float64]:
    if targets is None:
        raise InputError(f"normalise: method '{method}' needs targets (a mapping indicator -> value)")
    missing = [str(c) for c in columns if c not in targets]
    if missing:
        raise InputError(f"normalise: method '{method}' has no target for {missing}")
    if scalar:
        values = np.array([float(targets[c]) for c in columns])
        if not np.all(np.isfinite(values)):
            raise InputError("normalise: targets must be finite numbers")
        return values
    pairs = []
    for c in columns:
        pair = targets[c]
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise InputError(f"normalise: the goalposts of '{c}' must be a pair (lower, upper). Got {pair!r}")
        lo, hi = float(pair[0]), float(pair[1])
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise InputError(f"normalise: the goalposts of '{c}' must be finite with lower < upper. Got {pair!r}")
        pairs.append((lo, hi))
    return np.array(pairs, dtype=np.float64)


def normalise(
    frame: pd.DataFrame,
    method: str,
    directions: Mapping[str, str],
    targets: Mapping[str, Any] | None = None,
    *,
    polarity: str = "higher_is_worse",
) -> pd.DataFrame:
    """Normalise each indicator (column) over the areas (rows), oriented so that a high value means ``polarity``.

    * ``minmax``: (x - min) / (max - min), in [0, 1];
    * ``zscore``: (x - mean) / sd, with the sample standard deviation (n - 1), as the Handbook's Table 15;
    * ``rank``: competition ranks (ties share the lowest rank), 1 for the area placed lowest;
    * ``distance_to_target``: (x - target) / |target| (``targets``: indicator -> value);
    * ``goalposts``: (x - lower) / (upper - lower) capped to [0, 1] (``targets``: indicator -> (lower, upper)),
      as UNDP's indices use fixed bounds so that scores compare over time.

    An indicator whose direction is not the polarity is turned round (min-max: 1 - value; the others change
    sign or rank the negated values). Missing values stay NaN; the statistics use the areas that have a value.
    """
    check_choice("method", method, NORMALISATIONS, "normalise")
    values = _numeric_frame(frame, "normalise")
    sign = _signs(values.columns, directions, polarity, "normalise")
    out = _normalise_array(values.to_numpy(), sign, method, [str(c) for c in values.columns], targets)
    return pd.DataFrame(out, index=values.index, columns=values.columns)


def _positive(normalised: NDArray[np.float64], method: str) -> NDArray[np.float64]:
    """Normalised values ready for a geometric mean: ranks as they are, the others rescaled into [1, 100]."""
    if method == "rank":
        return normalised
    lo, hi = GEOMETRIC_RANGE
    low, high = np.nanmin(normalised, axis=0), np.nanmax(normalised, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = lo + (hi - lo) * (normalised - low) / (high - low)
    return np.where(high > low, scaled, (lo + hi) / 2.0)


# -- aggregation ----------------------------------------------------------------------------------------------
def _weighted_means(
    x: NDArray[np.float64],
    included: NDArray[np.bool_],
    weights: NDArray[np.float64],
    membership: NDArray[np.float64],
    geometric: NDArray[np.bool_],
    min_coverage: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Weighted (arithmetic or geometric) means of the members of each group, for a batch of draws.

    ``x``: draws x areas x items (NaN = missing; > 0 where ``geometric``); ``included`` and ``weights``:
    draws x items; ``membership``: items x groups (0/1); ``geometric``: draws. Returns (scores, coverage), both
    draws x areas x groups; a score is NaN where the coverage (share of included members present) is below
    ``min_coverage`` or the present members carry no weight.
    """
    present = ~np.isnan(x) & included[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.where(geometric[:, None, None], np.log(np.where(present, x, 1.0)), x)
        w = np.where(present, weights[:, None, :], 0.0)
        numerator = np.where(present, logged, 0.0) * w @ membership
        denominator = w @ membership
        coverage = present.astype(np.float64) @ membership / (included.astype(np.float64) @ membership)[:, None, :]
        mean = numerator / denominator
    score = np.where(geometric[:, None, None], np.exp(np.where(geometric[:, None, None], mean, 0.0)), mean)
    ok = (coverage >= min_coverage - 1e-12) & (denominator > 0)
    return np.where(ok, score, np.nan), coverage


def aggregate(
    values: pd.DataFrame, weights: Mapping[str, float] | None = None, method: str = "arithmetic"
) -> pd.Series:
    """The weighted arithmetic or geometric mean of each row (missing values skipped, weights re-scaled).

    The building block of :func:`composite_index`, on values as given (no normalisation, no coverage rule):
    the Handbook's geometric aggregation of the raw TAI data (Table 38, GME) is ``aggregate(raw, None,
    "geometric")``. Geometric means need positive values.
    """
    check_choice("method", method, AGGREGATIONS, "aggregate")
    x = _numeric_frame(values, "aggregate").to_numpy()
    w = _weight_vector([str(c) for c in values.columns], weights or {}, "aggregate")
    if method == "geometric" and np.any(x[~np.isnan(x)] <= 0):
        raise InputError("aggregate: a geometric mean needs positive values; normalise first")
    score, _ = _weighted_means(
        x[None],
        np.ones((1, x.shape[1]), bool),
        w[None],
        np.ones((x.shape[1], 1)),
        np.array([method == "geometric"]),
        0.0,
    )
    return pd.Series(score[0, :, 0], index=values.index, name=method)


# -- weights --------------------------------------------------------------------------------------------------
def _weight_vector(ids: Sequence[str], weights: Mapping[str, float], where: str) -> NDArray[np.float64]:
    out = []
    for i in ids:
        value = weights.get(i, 1.0)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{where}: the weight of '{i}' must be a number. Got {value!r} instead.") from None
        if not (np.isfinite(number) and number >= 0):
            raise InputError(f"{where}: the weight of '{i}' must be a finite number >= 0. Got {value!r} instead.")
        out.append(number)
    return np.array(out, dtype=np.float64)


def read_weights(path: str | Path) -> dict[str, float]:
    """Expert weights from a CSV file with columns ``id`` (an indicator or a dimension) and ``weight``."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in reader.fieldnames or []]
        for needed in ("id", "weight"):
            if needed not in fields:
                raise InputError(f"the weights file needs a column '{needed}'", file=path, column=needed)
        weights: dict[str, float] = {}
        for row_number, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            key, text = row["id"], row["weight"]
            if not key:
                raise InputError("empty id", file=path, row=row_number, column="id")
            if key in weights:
                raise InputError(f"id '{key}' appears twice", file=path, row=row_number, column="id")
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                value = float("nan")
            if not (np.isfinite(value) and value >= 0):
                raise InputError(f"weight {text!r} is not a number >= 0", file=path, row=row_number, column="weight")
            weights[key] = value
    return weights


@dataclass(frozen=True)
class _Structure:
    """Indicators, their dimensions and nominal weights, checked once."""

    indicators: tuple[str, ...]
    dimensions: tuple[str, ...]
    membership: NDArray[np.float64]  # indicators x dimensions, 0/1
    indicator_weights: NDArray[np.float64]  # sum to 1 within each dimension
    dimension_weights: NDArray[np.float64]  # sum to 1


def _structure(
    columns: Sequence[str], dimensions: Mapping[str, str], weights: Mapping[str, float] | str | Path | None
) -> _Structure:
    indicators = tuple(str(c) for c in columns)
    missing = [i for i in indicators if i not in dimensions]
    if missing:
        raise InputError(f"composite index: indicator(s) {missing} belong to no dimension")
    dims = tuple(dict.fromkeys(str(dimensions[i]) for i in indicators))
    if OVERALL in dims:
        raise InputError(f"composite index: '{OVERALL}' is reserved for the overall score; rename that dimension")
    given = read_weights(weights) if isinstance(weights, str | Path) else dict(weights or {})
    unknown = sorted(set(given) - set(indicators) - set(dims))
    if unknown:
        raise InputError(
            f"composite index: weights given for {unknown}, which are neither indicators nor dimensions",
            file=weights if isinstance(weights, str | Path) else None,
        )
    membership = np.array([[float(dimensions[i] == d) for d in dims] for i in indicators])
    w = _weight_vector(indicators, given, "composite index")
    totals = w @ membership
    if np.any(totals <= 0):
        zero = [d for d, t in zip(dims, totals, strict=True) if t <= 0]
        raise InputError(f"composite index: every indicator of dimension(s) {zero} has weight 0")
    v = _weight_vector(dims, given, "composite index")
    if v.sum() <= 0:
        raise InputError("composite index: every dimension has weight 0")
    return _Structure(indicators, dims, membership, w / (membership @ totals), v / v.sum())


# -- the engine: scores and ranks for a batch of draws --------------------------------------------------------
@dataclass(frozen=True)
class _Prepared:
    """The normalised values of each method, ready for either aggregation, computed once.

    Missingness does not depend on the method (normalisation keeps NaN where it is), so ``present`` is one
    areas x indicators mask; ``filled[k, 0]`` holds method k's values and ``filled[k, 1]`` the logarithms of
    their positive version (for geometric means), both with 0 where a value is missing.
    """

    methods: tuple[str, ...]
    values: NDArray[np.float64]  # methods x areas x indicators, NaN = missing
    positive: NDArray[np.float64]  # the same, ready for geometric means
    filled: NDArray[np.float64]  # methods x 2 x areas x indicators
    present: NDArray[np.float64]  # areas x indicators, 1.0 where a value is present


def _prepare(x: NDArray[np.float64], sign: NDArray[np.float64], methods: Sequence[str], columns: Sequence[str],
             targets: Any) -> _Prepared:  # fmt: skip
    values = np.stack([_normalise_array(x, sign, m, columns, targets) for m in methods])
    positive = np.stack([_positive(v, m) for v, m in zip(values, methods, strict=True)])
    present = ~np.isnan(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        filled = np.stack([np.where(present, values, 0.0), np.where(present, np.log(positive), 0.0)], axis=1)
    return _Prepared(tuple(methods), values, positive, filled, present.astype(np.float64))


def _scores(
    prepared: _Prepared,
    structure: _Structure,
    method: NDArray[np.int64],
    geometric: NDArray[np.bool_],
    included: NDArray[np.bool_],
    indicator_weights: NDArray[np.float64],
    dimension_weights: NDArray[np.float64],
    min_coverage: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(dimension scores draws x areas x dimensions, overall draws x areas, dimension coverage) for draws.

    A draw's dimension score is sum_i x_ai w_i m_ij / sum_i p_ai w_i m_ij (x filled with 0 where missing, p the
    presence mask, m the membership): one matrix product of the areas x indicators table with the draws'
    indicators x dimensions weight matrices, per (normalisation, aggregation) configuration.
    """
    membership = structure.membership
    n, (areas, items), groups = method.size, prepared.present.shape, membership.shape[1]

    def product(table: NDArray[np.float64], weights: NDArray[np.float64]) -> NDArray[np.float64]:
        """table (areas x indicators) @ each draw's weights (indicators x dimensions): one GEMM for all draws."""
        stacked = (weights[:, :, None] * membership[None]).transpose(1, 0, 2).reshape(items, -1)
        return (table @ stacked).reshape(areas, -1, groups).transpose(1, 0, 2)

    weights = indicator_weights * included
    numerator = np.empty((n, areas, groups))
    for k in np.unique(method):  # a handful of configurations, each one product over all its draws
        for g in (False, True):
            rows = np.flatnonzero((method == k) & (geometric == g))
            if rows.size:
                numerator[rows] = product(prepared.filled[k, int(g)], weights[rows])
    denominator = product(prepared.present, weights)
    coverage = product(prepared.present, included.astype(np.float64)) / (included @ membership)[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = numerator / denominator
    dims = np.where(geometric[:, None, None], np.exp(np.where(geometric[:, None, None], mean, 0.0)), mean)
    dims = np.where((coverage >= min_coverage - 1e-12) & (denominator > 0), dims, np.nan)
    every = np.ones((method.size, membership.shape[1]), dtype=bool)
    overall, _ = _weighted_means(
        dims, every, dimension_weights, np.ones((membership.shape[1], 1)), geometric, min_coverage
    )
    return dims, overall[:, :, 0], coverage


def _ranks(scores: NDArray[np.floating[Any]], axis: int) -> NDArray[np.float64]:
    """Competition ranks along ``axis`` ("min" ties), 1 = the highest score; NaN scores get no rank."""
    s = np.moveaxis(-np.asarray(scores, dtype=np.float64), axis, -1)
    order = np.argsort(s, axis=-1, kind="stable")  # NaN sort last
    ordered = np.take_along_axis(s, order, axis=-1)
    position = np.broadcast_to(np.arange(s.shape[-1]), s.shape)
    new_value = np.ones(s.shape, dtype=bool)
    new_value[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    first = np.maximum.accumulate(np.where(new_value, position, 0), axis=-1)
    ranked = np.where(np.isnan(ordered), np.nan, first + 1.0)
    out = np.empty_like(ranked)
    np.put_along_axis(out, order, ranked, axis=-1)
    return np.moveaxis(out, -1, axis)


def _quantiles(samples: NDArray[np.floating[Any]], probabilities: Sequence[float]) -> NDArray[np.float64]:
    """Quantiles over axis 0 ignoring NaN, by inverting the empirical distribution (numpy's "inverted_cdf"):
    the smallest observed value whose empirical cdf reaches p, so rank quantiles are ranks some draw gave."""
    ordered = np.sort(samples, axis=0)  # NaN last
    n = np.sum(~np.isnan(samples), axis=0)
    out = []
    for p in probabilities:
        index = np.clip(np.ceil(p * n).astype(np.int64) - 1, 0, np.maximum(n - 1, 0))
        value = np.take_along_axis(ordered, index[None], axis=0)[0].astype(np.float64)
        out.append(np.where(n > 0, value, np.nan))
    return np.stack(out)


# -- the nominal index ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompositeResult:
    """Scores per dimension and overall, with ranks (1 = highest score), for one set of choices."""

    normalised: pd.DataFrame  # areas x indicators, oriented by polarity
    dimension_scores: pd.DataFrame  # areas x dimensions
    overall: pd.Series
    coverage: pd.DataFrame  # areas x dimensions: share of the dimension's indicators the area has
    indicator_weights: pd.Series  # re-scaled to sum to 1 within each dimension
    dimension_weights: pd.Series  # re-scaled to sum to 1
    dimensions: Mapping[str, str]
    normalisation: str
    aggregation: str
    polarity: str
    min_coverage: float
    provenance: dict[str, Any] = field(compare=False)

    def ranks(self) -> pd.DataFrame:
        """Rank of each area per dimension and overall (1 = highest score, i.e. the most ``polarity``)."""
        table = pd.concat([self.dimension_scores, self.overall.rename(OVERALL)], axis=1)
        return pd.DataFrame(_ranks(table.to_numpy(), axis=0), index=table.index, columns=table.columns)

    def to_frame(self) -> pd.DataFrame:
        """Long table: area_id, dimension (``overall`` for the overall score), score, rank, rank_lower,
        rank_upper (NaN here: :func:`uncertainty_analysis` gives the intervals) and coverage."""
        scores = pd.concat([self.dimension_scores, self.overall.rename(OVERALL)], axis=1)
        ranks = self.ranks()
        coverage = self.coverage.assign(**{OVERALL: self.dimension_scores.notna().mean(axis=1)})
        frame = pd.DataFrame(
            {
                "area_id": np.tile(scores.index.to_numpy(object), scores.shape[1]),
                "dimension": np.repeat(scores.columns.to_numpy(object), scores.shape[0]),
                "score": scores.to_numpy().ravel(order="F"),
                "rank": ranks.to_numpy().ravel(order="F"),
                "rank_lower": np.nan,
                "rank_upper": np.nan,
                "coverage": coverage[scores.columns].to_numpy().ravel(order="F"),
            }
        )
        return frame

    def summary(self) -> str:
        ranked = self.overall.dropna().sort_values(ascending=False)
        meaning = "worst" if self.polarity == "higher_is_worse" else "best"
        top = ", ".join(f"{a} ({s:.3g})" for a, s in ranked.head(5).items())
        return (
            f"Composite index of {len(self.indicator_weights)} indicators in {len(self.dimension_weights)} "
            f"dimensions ({self.normalisation} normalisation, {self.aggregation} aggregation, minimum coverage "
            f"{self.min_coverage:.0%}); {len(ranked)} of {len(self.overall)} areas scored. Rank 1 = {meaning}: {top}."
        )


def _validate_common(min_coverage: float, aggregation: str, normalisation: str, where: str) -> None:
    check_choice("normalisation", normalisation, NORMALISATIONS, where)
    check_choice("aggregation", aggregation, AGGREGATIONS, where)
    if not (isinstance(min_coverage, int | float) and 0 < min_coverage <= 1):
        raise InputError(f"The 'min_coverage' parameter of {where} must be in (0, 1]. Got {min_coverage!r} instead.")


def composite_index(
    values_wide: pd.DataFrame,
    dimensions: Mapping[str, str],
    directions: Mapping[str, str],
    weights: Mapping[str, float] | str | Path | None = None,
    normalisation: str = "minmax",
    aggregation: str = "arithmetic",
    *,
    targets: Mapping[str, Any] | None = None,
    polarity: str = "higher_is_worse",
    min_coverage: float = 0.5,
) -> CompositeResult:
    """Score areas per dimension and overall from a wide table (areas x indicators).

    ``dimensions`` maps each indicator to its dimension; ``directions`` each indicator to ``higher_is_worse`` or
    ``higher_is_better``. ``weights`` (None = equal) maps indicator ids and/or dimension ids to relative weights
    (unlisted ids weigh 1): indicator weights are re-scaled to sum to 1 within their dimension, dimension weights
    to sum to 1; a path reads them with :func:`read_weights`. ``targets`` serve ``distance_to_target`` and
    ``goalposts``. See the module docstring for the missing-value rule.
    """
    _validate_common(min_coverage, aggregation, normalisation, "composite_index")
    values = _numeric_frame(values_wide, "composite_index")
    columns = [str(c) for c in values.columns]
    sign = _signs(values.columns, directions, polarity, "composite_index")
    structure = _structure(columns, dimensions, weights)
    prepared = _prepare(values.to_numpy(), sign, (normalisation,), columns, targets)
    geometric = np.array([aggregation == "geometric"])
    dims, overall, coverage = _scores(
        prepared,
        structure,
        np.zeros(1, dtype=np.int64),
        geometric,
        np.ones((1, len(columns)), dtype=bool),
        structure.indicator_weights[None],
        structure.dimension_weights[None],
        min_coverage,
    )
    index = values.index.rename("area_id")
    shown = prepared.positive[0] if aggregation == "geometric" else prepared.values[0]
    return CompositeResult(
        normalised=pd.DataFrame(shown, index=index, columns=values.columns),
        dimension_scores=pd.DataFrame(dims[0], index=index, columns=list(structure.dimensions)),
        overall=pd.Series(overall[0], index=index, name=OVERALL),
        coverage=pd.DataFrame(coverage[0], index=index, columns=list(structure.dimensions)),
        indicator_weights=pd.Series(structure.indicator_weights, index=columns, name="weight"),
        dimension_weights=pd.Series(structure.dimension_weights, index=list(structure.dimensions), name="weight"),
        dimensions={c: str(dimensions[c]) for c in columns},
        normalisation=normalisation,
        aggregation=aggregation,
        polarity=polarity,
        min_coverage=float(min_coverage),
        provenance=stamp(
            "composite_index",
            {
                "normalisation": normalisation,
                "aggregation": aggregation,
                "polarity": polarity,
                "min_coverage": min_coverage,
                "weights": weights,
                "targets": targets,
            },  # fmt: skip
            values.index.to_numpy(object),
            values.to_numpy(),
        ),
    )


# -- correlation check ----------------------------------------------------------------------------------------
def correlation_check(
    values_wide: pd.DataFrame,
    dimensions: Mapping[str, str],
    directions: Mapping[str, str],
    *,
    redundancy: float = 0.9,
    polarity: str = "higher_is_worse",
) -> pd.DataFrame:
    """Statistical coherence of each dimension (Handbook step 4): one row per indicator.

    Indicators are oriented by their direction and standardised (z-scores). ``item_rest_r`` is the Pearson
    correlation of the indicator with the mean of the other indicators of its dimension (the corrected
    item-total correlation of the Handbook's Table 11); ``alpha`` is the dimension's standardised Cronbach
    alpha, ``alpha_if_deleted`` the alpha without the indicator; ``max_r`` / ``max_r_with`` the indicator's
    strongest correlation with another of its dimension. ``flag`` is ``negative`` (it pulls against its
    dimension: check its direction or its place), ``redundant`` (``max_r`` >= ``redundancy``: it counts the
    same thing twice), or empty. Correlations use the areas where both values are present.
    """
    values = _numeric_frame(values_wide, "correlation_check")
    sign = _signs(values.columns, directions, polarity, "correlation_check")
    columns = [str(c) for c in values.columns]
    z = pd.DataFrame(_normalise_array(values.to_numpy(), sign, "zscore", columns, None), columns=columns)
    rows = []
    for dim in dict.fromkeys(str(dimensions[c]) for c in columns if c in dimensions):
        members = [c for c in columns if c in dimensions and str(dimensions[c]) == dim]
        block = z[members]
        corr = block.corr()
        alpha = _standardised_alpha(corr.to_numpy())
        for item in members:
            rest = block.drop(columns=item).mean(axis=1) if len(members) > 1 else pd.Series(np.nan, index=block.index)
            r = block[item].corr(rest) if len(members) > 1 else np.nan
            others = corr.loc[item].drop(item)
            strongest = others.idxmax() if others.notna().any() else None
            max_r = float(np.nanmax(others.to_numpy())) if strongest is not None else np.nan
            flag = "negative" if r < 0 else "redundant" if max_r >= redundancy else ""
            rows.append(
                {
                    "indicator": item,
                    "dimension": dim,
                    "item_rest_r": float(r),
                    "alpha": alpha,
                    "alpha_if_deleted": _standardised_alpha(corr.drop(index=item, columns=item).to_numpy()),
                    "max_r": max_r,
                    "max_r_with": strongest,
                    "flag": flag,
                }
            )
    return pd.DataFrame(rows)


def _standardised_alpha(corr: NDArray[np.float64]) -> float:
    """Cronbach's alpha of standardised items: k r / (1 + (k - 1) r), r the mean inter-item correlation."""
    k = corr.shape[0]
    if k < 2:
        return float("nan")
    mean_r = (np.nansum(corr) - np.trace(corr)) / (k * (k - 1))
    return float(k * mean_r / (1 + (k - 1) * mean_r))


# -- Monte Carlo uncertainty and sensitivity ------------------------------------------------------------------
FACTORS = ("normalisation", "weights", "aggregation", "exclusion")


@dataclass(frozen=True)
class _Plan:
    """Inputs of a batch of draws, one row each."""

    method: NDArray[np.int64]
    geometric: NDArray[np.bool_]
    excluded: NDArray[np.int64]  # indicator index, -1 = none
    indicator_weights: NDArray[np.float64]
    dimension_weights: NDArray[np.float64]

    def swap(self, other: _Plan, factor: str) -> _Plan:
        """This plan with one factor's inputs taken from ``other`` (Saltelli's A_B^(i) matrix)."""
        taken = {
            "normalisation": ("method",),
            "aggregation": ("geometric",),
            "exclusion": ("excluded",),
            "weights": ("indicator_weights", "dimension_weights"),
        }[factor]
        changes: dict[str, Any] = {name: getattr(other, name) for name in taken}
        return replace(self, **changes)


def _draw_plan(
    rng: np.random.Generator,
    n: int,
    structure: _Structure,
    n_methods: int,
    aggregations: Sequence[str],
    excludable: NDArray[np.int64],
    concentration: float | None,
) -> _Plan:
    method = rng.integers(0, n_methods, size=n)
    geometric = np.asarray(aggregations)[rng.integers(0, len(aggregations), size=n)] == "geometric"
    if excludable.size:
        choice = rng.integers(-1, excludable.size, size=n)  # -1 = keep every indicator
        excluded = np.where(choice < 0, -1, excludable[np.maximum(choice, 0)])
    else:
        excluded = np.full(n, -1)
    w, v = structure.indicator_weights, structure.dimension_weights
    if concentration is None:
        iw, dw = np.tile(w, (n, 1)), np.tile(v, (n, 1))
    else:
        # Dirichlet around the nominal weights, within each dimension and across dimensions (gamma trick)
        g = rng.gamma(concentration * w, size=(n, w.size))
        iw = g / (g @ structure.membership @ structure.membership.T)
        h = rng.gamma(concentration * v, size=(n, v.size))
        dw = h / h.sum(axis=1, keepdims=True)
    return _Plan(method, geometric, excluded, np.nan_to_num(iw), dw)


def _evaluate(
    plan: _Plan, prepared: _Prepared, structure: _Structure, min_coverage: float, dimension_ranks: bool = True
) -> tuple[NDArray[np.float32] | None, NDArray[np.float32]]:
    """(dimension ranks draws x areas x dimensions or None, overall ranks draws x areas) of every draw.

    Draws go in chunks that bound memory; each chunk is one vectorised step. Ranks are kept as float32
    (exact for any number of areas below 2**24).
    """
    n, (_, areas, items), groups = plan.method.size, prepared.values.shape, structure.membership.shape[1]
    chunk = max(1, int(5e6 // max(1, areas * (groups + 1) + items * groups)))
    dims_ranked, overall_ranked = [], []
    for start in range(0, n, chunk):
        s = slice(start, start + chunk)
        included = np.ones((plan.method[s].size, items), dtype=bool)
        hit = plan.excluded[s] >= 0
        included[np.flatnonzero(hit), plan.excluded[s][hit]] = False
        d, o, _ = _scores(
            prepared, structure, plan.method[s], plan.geometric[s], included, plan.indicator_weights[s],
            plan.dimension_weights[s], min_coverage,
        )  # fmt: skip
        if dimension_ranks:
            dims_ranked.append(_ranks(d, axis=1).astype(np.float32))
        overall_ranked.append(_ranks(o, axis=1).astype(np.float32))
    return (np.concatenate(dims_ranked) if dimension_ranks else None), np.concatenate(overall_ranked)


@dataclass(frozen=True)
class UncertaintyResult:
    """Rank intervals from the Monte Carlo over the index's choices, and which choice drives rank variance."""

    nominal: CompositeResult
    table: pd.DataFrame  # area_id, dimension, score, rank, rank_lower, rank_upper, rank_median, ...
    sensitivity: pd.DataFrame  # factor, first_order, total_order: shares of the overall ranks' variance
    sensitivity_by_area: pd.DataFrame  # area_id, factor, first_order, total_order
    overall_ranks: NDArray[np.float64]  # draws x areas (the 2N independent draws of samples A and B)
    draws: int
    interval: float
    factors: tuple[str, ...]
    provenance: dict[str, Any] = field(compare=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> str:
        overall = self.table[self.table["dimension"] == OVERALL]
        width = (overall["rank_upper"] - overall["rank_lower"]).mean()
        drivers = ", ".join(f"{r.factor} {r.first_order:.0%}" for r in self.sensitivity.itertuples())
        return (
            f"{2 * self.draws} Monte Carlo draws over {', '.join(self.factors) or 'nothing'}: mean width of the "
            f"{self.interval:.0%} rank intervals {width:.1f} places; first-order shares of rank variance: {drivers}."
        )


def uncertainty_analysis(
    values_wide: pd.DataFrame,
    dimensions: Mapping[str, str],
    directions: Mapping[str, str],
    weights: Mapping[str, float] | str | Path | None = None,
    normalisation: str = "minmax",
    aggregation: str = "arithmetic",
    *,
    normalisations: Sequence[str] = ("minmax", "zscore", "rank"),
    aggregations: Sequence[str] = AGGREGATIONS,
    weight_concentration: float | None = 30.0,
    exclusion: bool = True,
    draws: int = 1000,
    interval: float = 0.90,
    targets: Mapping[str, Any] | None = None,
    polarity: str = "higher_is_worse",
    min_coverage: float = 0.5,
    seed: int = 0,
) -> UncertaintyResult:
    """Monte Carlo uncertainty and sensitivity analysis of a composite index (Handbook step 7).

    The nominal index is ``composite_index(values_wide, dimensions, directions, weights, normalisation,
    aggregation)``. Each draw picks, independently and uniformly, a method among ``normalisations``, an
    aggregation among ``aggregations``, and (``exclusion=True``) either all indicators or all but one (an
    indicator alone in its dimension is never left out); weights are drawn from a Dirichlet centred on the
    nominal weights with total concentration ``weight_concentration`` (the larger, the closer to nominal; the
    standard deviation of a weight w is sqrt(w (1 - w) / (c + 1)); None keeps them fixed), within each
    dimension and across dimensions.

    Two independent samples A and B of ``draws`` draws give the rank intervals (the central ``interval`` of
    the 2 x ``draws`` ranks of each area). For each factor, B's inputs for that factor are swapped into A and
    the first-order (Saltelli et al. 2010) and total (Jansen 1999) Sobol' indices of each area's overall
    rank follow; ``sensitivity`` pools them over areas as shares of the summed rank variance.
    """
    if not (isinstance(draws, int) and draws >= 10):
        raise InputError(f"The 'draws' parameter of uncertainty must be an integer >= 10. Got {draws!r} instead.")
    if not (0 < interval < 1):
        raise InputError(f"The 'interval' parameter of uncertainty must be in (0, 1). Got {interval!r} instead.")
    if weight_concentration is not None and not (np.isfinite(weight_concentration) and weight_concentration > 0):
        raise InputError(
            f"The 'weight_concentration' parameter of uncertainty must be > 0 or None. Got {weight_concentration!r}."
        )
    if not (isinstance(seed, int) and seed >= 0):
        raise InputError(f"The 'seed' parameter of uncertainty must be a non-negative integer. Got {seed!r} instead.")
    for m in normalisations:
        check_choice("normalisations", m, NORMALISATIONS, "uncertainty")
    for a in aggregations:
        check_choice("aggregations", a, AGGREGATIONS, "uncertainty")
    if not normalisations or not aggregations:
        raise InputError("uncertainty: give at least one normalisation and one aggregation")
    nominal = composite_index(
        values_wide, dimensions, directions, weights, normalisation, aggregation,
        targets=targets, polarity=polarity, min_coverage=min_coverage,
    )  # fmt: skip
    values = _numeric_frame(values_wide, "uncertainty")
    columns = [str(c) for c in values.columns]
    sign = _signs(values.columns, directions, polarity, "uncertainty")
    structure = _structure(columns, dimensions, weights)
    methods = tuple(dict.fromkeys(normalisations))
    prepared = _prepare(values.to_numpy(), sign, methods, columns, targets)
    sizes = structure.membership.sum(axis=0)
    excludable = np.flatnonzero((structure.membership @ sizes) > 1) if exclusion else np.array([], dtype=np.int64)
    factors = tuple(
        f
        for f, varies in zip(
            FACTORS,
            (len(methods) > 1, weight_concentration is not None, len(set(aggregations)) > 1, excludable.size > 0),
            strict=True,
        )
        if varies
    )

    rng = np.random.default_rng(seed)
    aggs = tuple(dict.fromkeys(aggregations))
    sample_a = _draw_plan(rng, draws, structure, len(methods), aggs, excludable, weight_concentration)
    sample_b = _draw_plan(rng, draws, structure, len(methods), aggs, excludable, weight_concentration)
    dim_ranks_a, ranks_a = _evaluate(sample_a, prepared, structure, min_coverage)
    dim_ranks_b, ranks_b = _evaluate(sample_b, prepared, structure, min_coverage)
    assert dim_ranks_a is not None and dim_ranks_b is not None

    # rank intervals from the 2N independent draws
    tail = (1 - interval) / 2
    stacked = np.concatenate(
        [np.concatenate([dim_ranks_a, dim_ranks_b]), np.concatenate([ranks_a, ranks_b])[:, :, None]], axis=2
    )
    ranks_a, ranks_b = ranks_a.astype(np.float64), ranks_b.astype(np.float64)
    ranks_all = np.concatenate([ranks_a, ranks_b])
    del dim_ranks_a, dim_ranks_b  # draws x areas x (dimensions + overall) from here on
    q = _quantiles(stacked, (tail, 0.5, 1 - tail))
    table = nominal.to_frame()
    for name, k in (("rank_lower", 0), ("rank_median", 1), ("rank_upper", 2)):
        table[name] = q[k].ravel(order="F")
    table["scored_share"] = (~np.isnan(stacked)).mean(axis=0).ravel(order="F")
    table = table[["area_id", "dimension", "score", "rank", "rank_lower", "rank_upper", "rank_median",
                   "coverage", "scored_share"]]  # fmt: skip

    # Sobol' indices of each area's overall rank, one group of inputs per factor
    by_area, pooled = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an area never scored has no variance
        variance = np.nanvar(ranks_all, axis=0)
    for factor in factors:
        _, ranks_ab = _evaluate(sample_a.swap(sample_b, factor), prepared, structure, min_coverage, False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an area never scored: all-NaN means
            ranks_ab = ranks_ab.astype(np.float64)
            first = np.nanmean(ranks_b * (ranks_ab - ranks_a), axis=0)
            total = 0.5 * np.nanmean((ranks_a - ranks_ab) ** 2, axis=0)
        varies = variance > 0
        by_area.append(
            pd.DataFrame(
                {
                    "area_id": values.index.to_numpy(object),
                    "factor": factor,
                    "first_order": np.where(varies, first / np.where(varies, variance, 1), np.nan),
                    "total_order": np.where(varies, total / np.where(varies, variance, 1), np.nan),
                }
            )
        )
        denominator = np.nansum(variance[varies])
        pooled.append(
            {
                "factor": factor,
                "first_order": float(np.nansum(first[varies]) / denominator) if denominator > 0 else np.nan,
                "total_order": float(np.nansum(total[varies]) / denominator) if denominator > 0 else np.nan,
            }
        )
    sensitivity = pd.DataFrame(pooled, columns=["factor", "first_order", "total_order"])
    sensitivity_by_area = (
        pd.concat(by_area, ignore_index=True)
        if by_area
        else pd.DataFrame(columns=["area_id", "factor", "first_order", "total_order"])
    )
    return UncertaintyResult(
        nominal=nominal,
        table=table,
        sensitivity=sensitivity,
        sensitivity_by_area=sensitivity_by_area,
        overall_ranks=ranks_all,
        draws=draws,
        interval=float(interval),
        factors=factors,
        provenance=stamp(
            "uncertainty_analysis",
            {
                "normalisations": tuple(methods),
                "aggregations": aggs,
                "weight_concentration": weight_concentration,
                "exclusion": exclusion,
                "draws": draws,
                "interval": interval,
                "seed": seed,
                "weights": weights,
                "polarity": polarity,
                "min_coverage": min_coverage,
            },  # fmt: skip
            values.index.to_numpy(object),
            values.to_numpy(),
        ),
    )


def uncertainty(values_wide: pd.DataFrame, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """The table of :func:`uncertainty_analysis` (same arguments): area_id, dimension, score, rank, rank_lower,
    rank_upper, rank_median, coverage, scored_share."""
    return uncertainty_analysis(values_wide, *args, **kwargs).table


# -- from the long indicator table ---------------------------------------------------------------------------
def indicator_table(values_long: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """The wide table (areas x indicators) of one period from the long indicator values of the vocabulary
    (area_id, period, indicator_id, value). Without ``period`` the table must hold a single period."""
    needed = {"area_id", "indicator_id", "value"}
    if not needed <= set(values_long.columns):
        raise InputError(f"indicator values need columns {sorted(needed)}; got {sorted(values_long.columns)}")
    frame = values_long
    if "period" in frame.columns:
        periods = sorted(frame["period"].dropna().astype(str).unique())
        if period is None and len(periods) > 1:
            raise InputError(f"indicator values hold several periods {periods}; choose one")
        if period is not None:
            if period not in periods:
                raise InputError(f"no indicator values for period '{period}'; there are {periods}")
            frame = frame[frame["period"].astype(str) == period]
    dup = frame.duplicated(["area_id", "indicator_id"])
    if dup.any():
        row = frame[dup].iloc[0]
        raise InputError(f"indicator '{row['indicator_id']}' has two values for area '{row['area_id']}'")
    wide = frame.pivot(index="area_id", columns="indicator_id", values="value").astype(float)
    wide.columns.name = None
    return wide
