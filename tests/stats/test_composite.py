"""Composite index: a hand computation, the missing-value rule, errors, properties, and the Monte Carlo analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from safercities.errors import InputError
from safercities.stats import composite as ci

# -- a four-area case small enough to compute by hand ---------------------------------------------------------
# robbery and burglary rates (higher is worse) form the "crime" dimension, street lighting (higher is better)
# the "urban" one; robbery weighs twice burglary, the dimensions weigh the same.
VALUES = pd.DataFrame(
    {"robbery": [10.0, 20.0, 30.0, 40.0], "burglary": [5.0, 5.0, 15.0, 25.0], "lighting": [0.9, 0.5, 0.7, 0.1]},
    index=pd.Index(["A", "B", "C", "D"], name="area_id"),
)
DIMENSIONS = {"robbery": "crime", "burglary": "crime", "lighting": "urban"}
DIRECTIONS = {"robbery": "higher_is_worse", "burglary": "higher_is_worse", "lighting": "higher_is_better"}
WEIGHTS = {"robbery": 2.0, "burglary": 1.0}


def test_minmax_arithmetic_matches_the_hand_computation() -> None:
    # min-max, turned round for lighting: robbery 0, 1/3, 2/3, 1; burglary 0, 0, 1/2, 1; lighting 0, 1/2, 1/4, 1
    result = ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, WEIGHTS)
    crime = [0.0, 2 / 3 * 1 / 3, 2 / 3 * 2 / 3 + 1 / 3 * 1 / 2, 1.0]
    urban = [0.0, 0.5, 0.25, 1.0]
    np.testing.assert_allclose(result.dimension_scores["crime"], crime)
    np.testing.assert_allclose(result.dimension_scores["urban"], urban)
    np.testing.assert_allclose(result.overall, [(c + u) / 2 for c, u in zip(crime, urban, strict=True)])
    assert result.overall.round(5).tolist() == [0.0, 0.36111, 0.43056, 1.0]
    assert result.ranks()["overall"].tolist() == [4, 3, 2, 1]  # D is worst
    np.testing.assert_allclose(result.indicator_weights, [2 / 3, 1 / 3, 1.0])
    np.testing.assert_allclose(result.dimension_weights, [0.5, 0.5])


def test_geometric_aggregation_matches_the_hand_computation() -> None:
    # before a geometric mean min-max values are rescaled into [1, 100]: 1 + 99 x
    result = ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, WEIGHTS, aggregation="geometric")
    rob, burg, light = (1 + 99 * np.array(v) for v in ([0, 1 / 3, 2 / 3, 1], [0, 0, 0.5, 1], [0, 0.5, 0.25, 1]))
    crime = rob ** (2 / 3) * burg ** (1 / 3)
    np.testing.assert_allclose(result.dimension_scores["crime"], crime)
    np.testing.assert_allclose(result.overall, np.sqrt(crime * light))


def test_polarity_higher_is_better_reverses_the_ranking() -> None:
    worse = ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, WEIGHTS)
    better = ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, WEIGHTS, polarity="higher_is_better")
    np.testing.assert_allclose(better.overall, 1 - worse.overall)
    assert better.ranks()["overall"].tolist() == [1, 2, 3, 4]


def test_missing_values_are_skipped_not_zeroed_and_coverage_is_enforced() -> None:
    holed = VALUES.copy()
    holed.loc["C", "burglary"] = np.nan
    result = ci.composite_index(holed, DIMENSIONS, DIRECTIONS, WEIGHTS)
    # burglary normalised over A, B, D: 0, 0, nan, 1; C's crime score is its robbery alone (coverage 1/2)
    assert np.isnan(result.normalised.loc["C", "burglary"])
    assert result.normalised["burglary"].tolist()[3] == 1.0
    assert result.dimension_scores.loc["C", "crime"] == pytest.approx(2 / 3)
    assert result.coverage.loc["C", "crime"] == 0.5
    as_if_zero = 2 / 3 * 2 / 3  # what treating the hole as 0 would have given
    assert result.dimension_scores.loc["C", "crime"] != pytest.approx(as_if_zero)
    strict = ci.composite_index(holed, DIMENSIONS, DIRECTIONS, WEIGHTS, min_coverage=0.75)
    assert np.isnan(strict.dimension_scores.loc["C", "crime"])
    assert np.isnan(strict.overall.loc["C"])  # 1 of 2 dimensions < 75 %
    assert np.isnan(strict.ranks().loc["C", "overall"])
    assert strict.ranks()["overall"].dropna().tolist() == [3, 2, 1]
    frame = strict.to_frame()
    assert list(frame.columns) == ["area_id", "dimension", "score", "rank", "rank_lower", "rank_upper", "coverage"]
    assert set(frame["dimension"]) == {"crime", "urban", "overall"}
    assert len(frame) == 4 * 3


def test_normalisations_follow_their_definitions() -> None:
    z = ci.normalise(VALUES, "zscore", DIRECTIONS)
    np.testing.assert_allclose(z["robbery"], stats.zscore(VALUES["robbery"], ddof=1))
    np.testing.assert_allclose(z["lighting"], -stats.zscore(VALUES["lighting"], ddof=1))
    r = ci.normalise(VALUES, "rank", DIRECTIONS)
    assert r["burglary"].tolist() == [1, 1, 3, 4]  # ties share the lowest rank
    assert r["lighting"].tolist() == [1, 3, 2, 4]  # the darkest street is the worst placed
    d = ci.normalise(VALUES, "distance_to_target", DIRECTIONS, targets={"robbery": 20, "burglary": 10, "lighting": 0.8})
    np.testing.assert_allclose(d["robbery"], [-0.5, 0, 0.5, 1])
    np.testing.assert_allclose(d["lighting"], [-0.125, 0.375, 0.125, 0.875])  # -(x - 0.8) / 0.8
    g = ci.normalise(
        VALUES, "goalposts", DIRECTIONS, targets={"robbery": (0, 50), "burglary": (10, 20), "lighting": (0, 1)}
    )
    np.testing.assert_allclose(g["robbery"], [0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(g["burglary"], [0, 0, 0.5, 1])  # capped at the goalposts
    np.testing.assert_allclose(g["lighting"], [0.1, 0.5, 0.3, 0.9])


def test_weights_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "weights.csv"
    path.write_text("id,weight\nrobbery,2\nburglary,1\ncrime,3\nurban,1\n", encoding="utf-8")
    result = ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, path)
    np.testing.assert_allclose(result.dimension_weights, [0.75, 0.25])
    np.testing.assert_allclose(result.dimension_scores["crime"], [0, 2 / 9, 4 / 9 + 1 / 6, 1])
    bad = tmp_path / "bad.csv"
    bad.write_text("id,weight\nrobbery,2\nburglary,heavy\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv, row 3, column 'weight'"):
        ci.read_weights(bad)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("id,weight\nhomicide,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="homicide"):
        ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, unknown)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda v, d, r: (v, d, {"robbery": "higher_is_worse"}), "no direction"),
        (lambda v, d, r: (v, d, {**r, "lighting": "up"}), "direction of indicator 'lighting'"),
        (lambda v, d, r: (v.assign(robbery=["1", "x", "2", "3"]), d, r), "'x' of area 'B' is not a number"),
        (lambda v, d, r: (v.assign(robbery=5.0), d, r), "same value in every area"),
        (lambda v, d, r: (v.assign(robbery=np.nan), d, r), "no value in any area"),
        (lambda v, d, r: (v, {"robbery": "crime"}, r), "belong to no dimension"),
        (lambda v, d, r: (v, {**d, "lighting": "overall"}, r), "reserved"),
    ],
)
def test_bad_input_is_named(change: object, message: str) -> None:
    values, dimensions, directions = change(VALUES, DIMENSIONS, DIRECTIONS)  # type: ignore[operator]
    with pytest.raises(InputError, match=message):
        ci.composite_index(values, dimensions, directions)


def test_bad_choices_are_refused() -> None:
    with pytest.raises(InputError, match="'normalisation' parameter of composite_index"):
        ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, normalisation="log")
    with pytest.raises(InputError, match="needs targets"):
        ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, normalisation="distance_to_target")
    with pytest.raises(InputError, match="weight of 'robbery'"):
        ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, {"robbery": -1})
    with pytest.raises(InputError, match="has weight 0"):
        ci.composite_index(VALUES, DIMENSIONS, DIRECTIONS, {"lighting": 0})
    with pytest.raises(InputError, match="positive values"):
        ci.aggregate(pd.DataFrame({"a": [0.0, 1.0]}), method="geometric")


def test_correlation_check_flags_wrong_directions_and_duplicates() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=40)
    frame = pd.DataFrame(
        {
            "a": base + rng.normal(scale=0.5, size=40),
            "b": base + rng.normal(scale=0.5, size=40),
            "a_again": 0,  # filled below
            "wrong_way": base + rng.normal(scale=0.5, size=40),
        }
    )
    frame["a_again"] = 2 * frame["a"] + 1
    dims = dict.fromkeys(frame.columns, "crime")
    dirs = {**dict.fromkeys(frame.columns, "higher_is_worse"), "wrong_way": "higher_is_better"}
    check = ci.correlation_check(frame, dims, dirs).set_index("indicator")
    assert check.loc["wrong_way", "flag"] == "negative"
    assert check.loc["a", "flag"] == "redundant" and check.loc["a", "max_r_with"] == "a_again"
    assert check.loc["b", "flag"] == ""
    assert check.loc["wrong_way", "alpha_if_deleted"] > check.loc["wrong_way", "alpha"]


def test_indicator_table_pivots_the_long_values() -> None:
    long = pd.DataFrame(
        {
            "area_id": ["A", "A", "B", "B", "A"],
            "period": ["2024", "2024", "2024", "2024", "2023"],
            "indicator_id": ["x", "y", "x", "y", "x"],
            "value": [1.0, 2.0, 3.0, np.nan, 9.0],
        }
    )
    wide = ci.indicator_table(long, period="2024")
    assert wide.loc["A", "y"] == 2.0 and np.isnan(wide.loc["B", "y"])
    with pytest.raises(InputError, match="several periods"):
        ci.indicator_table(long)
    with pytest.raises(InputError, match="two values"):
        ci.indicator_table(pd.concat([long, long]), period="2024")


# -- properties -----------------------------------------------------------------------------------------------
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (7, 3), elements=finite), st.permutations(range(7)))
def test_arithmetic_scores_lie_within_the_normalised_values_and_ignore_row_order(
    x: np.ndarray, order: list[int]
) -> None:
    frame = pd.DataFrame(x, columns=["p", "q", "r"], index=[f"a{i}" for i in range(7)])
    if (frame.nunique() < 2).any():
        return  # a constant indicator is refused (tested above)
    dims = {"p": "one", "q": "one", "r": "two"}
    dirs = {"p": "higher_is_worse", "q": "higher_is_better", "r": "higher_is_worse"}
    result = ci.composite_index(frame, dims, dirs, {"p": 3.0})
    norm = result.normalised
    assert ((norm >= 0) & (norm <= 1)).all().all()
    one = result.dimension_scores["one"]
    assert (one >= norm[["p", "q"]].min(axis=1) - 1e-12).all() and (one <= norm[["p", "q"]].max(axis=1) + 1e-12).all()
    shuffled = ci.composite_index(frame.iloc[list(order)], dims, dirs, {"p": 3.0})
    np.testing.assert_allclose(shuffled.overall.reindex(frame.index), result.overall, rtol=1e-12, atol=1e-12)


# -- Monte Carlo uncertainty and sensitivity --------------------------------------------------------------------
def _city(n: int = 40, seed: int = 3) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """Nine indicators in three dimensions, moderately correlated, with a few holes."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 1))
    x = latent + rng.normal(scale=1.0, size=(n, 9))
    frame = pd.DataFrame(np.exp(x / 2), columns=[f"i{k}" for k in range(9)], index=[f"C{k:02d}" for k in range(n)])
    frame.iloc[2, 1] = np.nan
    frame.iloc[5, 7] = np.nan
    dims = {f"i{k}": f"d{k // 3}" for k in range(9)}
    dirs = dict.fromkeys(frame.columns, "higher_is_worse")
    return frame, dims, dirs


def _mean_width(table: pd.DataFrame) -> float:
    overall = table[table["dimension"] == "overall"]
    return float((overall["rank_upper"] - overall["rank_lower"]).mean())


def test_intervals_collapse_when_nothing_is_uncertain() -> None:
    frame, dims, dirs = _city()
    result = ci.uncertainty_analysis(
        frame, dims, dirs, normalisations=("minmax",), aggregations=("arithmetic",), weight_concentration=None,
        exclusion=False, draws=50,
    )  # fmt: skip
    table = result.table
    assert (table["rank_lower"] == table["rank"]).all() and (table["rank_upper"] == table["rank"]).all()
    assert result.factors == () and result.sensitivity.empty


def test_more_uncertain_weights_widen_rank_intervals() -> None:
    frame, dims, dirs = _city()
    only_weights = {"normalisations": ("minmax",), "aggregations": ("arithmetic",), "exclusion": False, "draws": 400}
    widths = [
        _mean_width(ci.uncertainty(frame, dims, dirs, weight_concentration=c, **only_weights))  # type: ignore[arg-type]
        for c in (1000.0, 100.0, 10.0, 2.0)
    ]
    assert widths == sorted(widths) and widths[0] < widths[-1] / 3, widths
    # the nominal rank sits inside its interval when only the weights vary around it
    table = ci.uncertainty(frame, dims, dirs, weight_concentration=100.0, **only_weights)  # type: ignore[arg-type]
    assert ((table["rank"] >= table["rank_lower"]) & (table["rank"] <= table["rank_upper"])).mean() > 0.95


def test_the_analysis_is_seeded_and_its_nominal_is_composite_index() -> None:
    frame, dims, dirs = _city()
    one = ci.uncertainty_analysis(frame, dims, dirs, draws=100, seed=7)
    two = ci.uncertainty_analysis(frame, dims, dirs, draws=100, seed=7)
    pd.testing.assert_frame_equal(one.table, two.table)
    np.testing.assert_array_equal(one.overall_ranks, two.overall_ranks)
    other = ci.uncertainty_analysis(frame, dims, dirs, draws=100, seed=8)
    assert not np.array_equal(one.overall_ranks, other.overall_ranks)
    nominal = ci.composite_index(frame, dims, dirs).to_frame()
    pd.testing.assert_series_equal(one.table["score"], nominal["score"])
    assert one.overall_ranks.shape == (200, len(frame))
    assert set(one.table.columns) >= {"area_id", "dimension", "score", "rank", "rank_lower", "rank_upper"}


def test_sensitivity_names_the_only_uncertain_choice() -> None:
    frame, dims, dirs = _city()
    result = ci.uncertainty_analysis(
        frame, dims, dirs, normalisations=("minmax", "rank"), aggregations=("arithmetic",),
        weight_concentration=None, exclusion=False, draws=1000,
    )  # fmt: skip
    assert result.factors == ("normalisation",)
    row = result.sensitivity.iloc[0]
    # one factor explains all the variance: S1 = ST = 1 up to Monte Carlo error (S1 estimator sd ~ 0.03 here)
    assert row["first_order"] == pytest.approx(1.0, abs=0.15)
    assert row["total_order"] == pytest.approx(1.0, abs=0.05)


def test_sensitivity_separates_an_influential_from_an_idle_choice() -> None:
    # two dimensions of one indicator each: the indicator weights are always 1 within their dimension, so only
    # the dimension weights vary; the aggregation changes the scores but barely the ranks of two indicators
    frame, dims, dirs = _city()
    two = frame[["i0", "i3"]].dropna()
    result = ci.uncertainty_analysis(
        two, {"i0": "a", "i3": "b"}, {"i0": "higher_is_worse", "i3": "higher_is_worse"},
        normalisations=("minmax",), aggregations=("arithmetic",), weight_concentration=3.0, exclusion=False,
        draws=1000,
    )  # fmt: skip
    assert result.factors == ("weights",)
    assert result.sensitivity.iloc[0]["total_order"] == pytest.approx(1.0, abs=0.05)
    full = ci.uncertainty_analysis(frame, dims, dirs, draws=500)
    s = full.sensitivity.set_index("factor")
    assert list(s.index) == ["normalisation", "weights", "aggregation", "exclusion"]
    assert ((s["total_order"] >= s["first_order"] - 0.1) & (s["first_order"] > -0.1) & (s["total_order"] < 1.2)).all()
    assert len(full.sensitivity_by_area) == 4 * len(frame)


def test_dirichlet_weights_are_centred_on_the_nominal_weights() -> None:
    structure = ci._structure(list(VALUES.columns), DIMENSIONS, WEIGHTS)
    plan = ci._draw_plan(np.random.default_rng(0), 20000, structure, 1, ("arithmetic",), np.array([], int), 30.0)
    np.testing.assert_allclose(plan.indicator_weights.mean(axis=0), [2 / 3, 1 / 3, 1.0], atol=0.005)
    np.testing.assert_allclose(plan.dimension_weights.mean(axis=0), [0.5, 0.5], atol=0.005)
    # the spread the docstring promises: sd = sqrt(w (1 - w) / (c + 1))
    np.testing.assert_allclose(plan.indicator_weights[:, 0].std(), np.sqrt(2 / 9 / 31), rtol=0.05)


def test_uncertainty_refuses_bad_settings() -> None:
    with pytest.raises(InputError, match="'draws'"):
        ci.uncertainty(VALUES, DIMENSIONS, DIRECTIONS, draws=3)
    with pytest.raises(InputError, match="'weight_concentration'"):
        ci.uncertainty(VALUES, DIMENSIONS, DIRECTIONS, weight_concentration=0)
    with pytest.raises(InputError, match="'normalisations'"):
        ci.uncertainty(VALUES, DIMENSIONS, DIRECTIONS, normalisations=("minmax", "log"))


@settings(max_examples=80, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 9)),
        elements=st.one_of(st.just(np.nan), st.integers(-3, 3).map(float)),
    )
)
def test_vectorised_ranks_and_quantiles_agree_with_scipy_and_numpy(x: np.ndarray) -> None:
    expected = stats.rankdata(-x, method="min", axis=1, nan_policy="omit")
    np.testing.assert_array_equal(ci._ranks(x, axis=1), expected)
    np.testing.assert_array_equal(ci._ranks(x.T, axis=0), expected.T)
    if np.isnan(x).all(axis=0).any():
        return  # numpy warns on an all-NaN column; ours gives NaN quietly (tested in the Monte Carlo tests)
    probabilities = (0.05, 0.5, 0.95)
    np.testing.assert_array_equal(
        ci._quantiles(x, probabilities), np.nanquantile(x, probabilities, axis=0, method="inverted_cdf")
    )


def test_an_area_without_data_gets_no_rank_and_no_interval() -> None:
    frame, dims, dirs = _city()
    frame.loc["C00"] = np.nan
    table = ci.uncertainty(frame, dims, dirs, draws=50).set_index(["area_id", "dimension"])
    row = table.loc[("C00", "overall")]
    assert np.isnan(row["score"]) and np.isnan(row["rank"]) and np.isnan(row["rank_lower"])
    assert row["scored_share"] == 0
    assert table.xs("overall", level="dimension")["rank_upper"].max() == len(frame) - 1
