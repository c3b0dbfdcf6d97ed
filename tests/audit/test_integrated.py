"""The integrated analysis: signals by hand on small cases, and on the synthetic city the planted disagreements."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fieldworkkit import DIRECTIONS, FieldworkCity, indicator_values, shared

from safercities.audit import fieldwork as fw
from safercities.audit import walks as wk
from safercities.audit.codebook import load_codebook
from safercities.audit.integrated import (
    IntegratedAnalysis,
    combine,
    indicator_signals,
    integrate,
    survey_signals,
    walk_signals,
)
from safercities.errors import InputError

KINDS = {"indicator", "quote", "walk", "survey"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> FieldworkCity:
    return shared(tmp_path_factory)


@pytest.fixture(scope="module")
def inputs(city: FieldworkCity) -> dict[str, pd.DataFrame]:
    with city.open() as ws:
        return {
            "indicators": indicator_values(ws, city.city.census),
            "segments": fw.segments(ws),
            "observations": wk.observations(ws),
        }


@pytest.fixture(scope="module")
def analysis(inputs: dict[str, pd.DataFrame]) -> IntegratedAnalysis:
    return integrate(directions=DIRECTIONS, **inputs)


# ---------------------------------------------------------------- by hand


def test_indicator_percentiles_follow_the_direction() -> None:
    values = pd.DataFrame(
        {
            "area_id": ["A", "B", "C"] * 2,
            "period": ["2024"] * 6,
            "indicator_id": ["street_lighting_coverage"] * 3 + ["robbery_rate"] * 3,
            "value": [90.0, 50.0, 10.0, 100.0, 300.0, np.nan],
        }
    )
    directions = {"street_lighting_coverage": "higher_is_better", "robbery_rate": "higher_is_worse"}
    signals = indicator_signals(values, load_codebook(), directions).set_index(["area_id", "code"])["signal"]
    assert signals[("A", "poor_lighting")] == 0.0 and signals[("C", "poor_lighting")] == 1.0
    assert signals[("B", "poor_lighting")] == 0.5
    assert signals[("A", "good_lighting")] == 1.0  # a protective factor reads the other way
    assert signals[("A", "robbery")] == 0.0 and signals[("B", "robbery")] == 1.0
    assert ("C", "robbery") not in signals.index  # a missing value gives no signal, never a zero


def test_only_the_latest_period_of_an_indicator_counts() -> None:
    values = pd.DataFrame(
        {
            "area_id": ["A", "B", "A", "B"],
            "period": ["2023", "2023", "2024", "2024"],
            "indicator_id": ["robbery_rate"] * 4,
            "value": [1.0, 2.0, 5.0, 3.0],
        }
    )
    signals = indicator_signals(values, load_codebook()).set_index("area_id")
    assert signals.loc["A", "signal"] == 1.0 and "(2024)" in signals.loc["A", "text"]


def test_walk_and_survey_signals_by_hand() -> None:
    obs = pd.DataFrame(
        {
            "observation_id": ["w1", "w2", "w3"],
            "area_id": ["A"] * 3,
            "category": ["lighting", "lighting", "feeling_of_safety"],
            "rating": [1, 2, 5],
        }
    )
    signals = walk_signals(obs, load_codebook()).set_index("code")
    assert signals.loc["poor_lighting", "signal"] == pytest.approx((5 - 1.5) / 4)
    assert signals.loc["good_lighting", "signal"] == pytest.approx(1 - (5 - 1.5) / 4)
    assert signals.loc["fear_of_crime", "signal"] == 0.0
    assert signals.loc["poor_lighting", "evidence"][0]["ref"] == "w1,w2"
    survey = pd.DataFrame(
        {"area_id": ["A", "B"], "indicator": ["feel_safe_share"] * 2, "estimate": [0.3, 30.0], "se": [0.05, 5.0]}
    )
    s = survey_signals(survey, load_codebook()).set_index("area_id")
    assert s.loc["A", "signal"] == pytest.approx(0.7) and s.loc["B", "signal"] == pytest.approx(0.7)
    assert s.loc["A", "code"] == "fear_of_crime" and "SE 5.0 pts" in s.loc["A", "text"]


def test_scores_renormalise_the_weights_over_the_sources_present() -> None:
    signals = pd.DataFrame(
        {
            "area_id": ["A", "A", "A", "A"],
            "code": ["robbery", "robbery", "robbery", "poverty"],
            "source": ["indicator", "indicator", "fieldwork", "walk"],
            "signal": [1.0, 0.5, 0.2, 0.9],
        }
    )
    scores = combine(signals, {"indicator": 0.4, "fieldwork": 0.3, "walk": 0.2, "survey": 0.1}).set_index("code")
    assert scores.loc["robbery", "score"] == pytest.approx((0.4 * 0.75 + 0.3 * 0.2) / 0.7)
    assert scores.loc["poverty", "score"] == pytest.approx(0.9)
    assert scores.loc["robbery", "sources"] == 2
    with pytest.raises(InputError, match="no weight"):
        combine(signals, {"indicator": 1.0})
    with pytest.raises(InputError, match="non-negative"):
        combine(signals, {"indicator": -1.0, "fieldwork": 1, "walk": 1, "survey": 1})


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InputError, match="lacks column"):
        integrate(indicators=pd.DataFrame({"area_id": ["A"], "value": [1.0]}))
    with pytest.raises(InputError, match="thresholds"):
        integrate(indicators=pd.DataFrame(), high=0.2, low=0.5)
    with pytest.raises(InputError, match="nothing to analyse"):
        integrate()


# ---------------------------------------------------------------- on the synthetic city


def test_the_planted_lighting_disagreement_is_found_with_its_evidence(
    analysis: IntegratedAnalysis, city: FieldworkCity
) -> None:
    area = city.truth["planted"]["lighting_walks_vs_indicator"]["area_id"]
    found = analysis.disagreements()
    here = found[(found["area_id"] == area) & (found["code"] == "poor_lighting")]
    assert len(here) == 1
    row = here.iloc[0]
    assert row["sources"] == ["walk", "indicator"]
    kinds = {e["kind"]: e for e in row["evidence"]}
    assert kinds["indicator"]["ref"] == "street_lighting_coverage"
    with city.open() as ws:
        walks = wk.observations(ws).set_index("observation_id")
    ids = kinds["walk"]["ref"].split(",")
    assert (walks.loc[ids, "category"] == "lighting").all() and (walks.loc[ids, "area_id"] == area).all()


def test_the_planted_fear_without_crime_is_found(analysis: IntegratedAnalysis, city: FieldworkCity) -> None:
    area = city.truth["planted"]["fear_vs_crime"]["area_id"]
    found = analysis.disagreements()
    fear = found[(found["code"] == "fear_of_crime") & found["summary"].str.startswith("high fear")]
    assert area in set(fear["area_id"])
    planted = city.truth["planted"]["robbery_lighting"]["area_id"]
    assert planted not in set(fear["area_id"])  # much crime there: fear is no disagreement
    evidence = fear[fear["area_id"] == area].iloc[0]["evidence"]
    assert {"quote", "walk", "indicator"} <= {e["kind"] for e in evidence}


def test_every_finding_traces_to_evidence_that_exists(analysis: IntegratedAnalysis, inputs) -> None:
    segments = inputs["segments"].set_index("segment_id")
    observations = set(inputs["observations"]["observation_id"])
    indicators = set(inputs["indicators"]["indicator_id"])
    assert len(analysis.findings) > 0
    for evidence in analysis.findings["evidence"]:
        assert len(evidence) > 0
        for item in evidence:
            assert item["kind"] in KINDS
            if item["kind"] == "quote":
                assert segments.loc[item["ref"], "quote"] == item["text"]
            elif item["kind"] == "walk":
                assert set(item["ref"].split(",")) <= observations
            elif item["kind"] == "indicator":
                assert item["ref"] in indicators


def test_the_profile_is_threat_times_vulnerability_over_capacity(
    analysis: IntegratedAnalysis, city: FieldworkCity
) -> None:
    p = analysis.profile.set_index("area_id")
    assert set(p.index) == set(city.truth["communities"])
    assert np.allclose(p["risk"], p["threat"] * p["vulnerability"] / (1 + p["capacity"]))
    scores = analysis.scores
    robbery_area = city.truth["planted"]["robbery_lighting"]["area_id"]
    top = scores[(scores["area_id"] == robbery_area) & (scores["kind"] == "problem")].nlargest(3, "score")
    assert p.loc[robbery_area, "threat"] == pytest.approx(top["score"].mean())
    assert p.loc[robbery_area, "risk_rank"] <= 3  # the planted community is among the riskiest
    assert "threat" in analysis.summary(robbery_area)


def test_survey_perceptions_join_the_evidence(inputs, city: FieldworkCity) -> None:
    area = city.truth["planted"]["fear_vs_crime"]["area_id"]
    survey = pd.DataFrame({"area_id": [area], "indicator": ["feel_safe_share"], "estimate": [0.2], "se": [0.04]})
    result = integrate(directions=DIRECTIONS, survey=survey, **inputs)
    row = result.scores.set_index(["area_id", "code"]).loc[(area, "fear_of_crime")]
    assert row["survey"] == pytest.approx(0.8)
    assert any(e["kind"] == "survey" for e in row["evidence"])


def test_dimension_scores_are_attached_as_context(inputs) -> None:
    areas = sorted(inputs["segments"]["area_id"].unique())
    scores = pd.DataFrame(
        {"area_id": areas, "dimension": "crime", "score": 50.0, "rank": range(1, len(areas) + 1),
         "rank_lower": 1, "rank_upper": len(areas)}
    )  # fmt: skip
    result = integrate(directions=DIRECTIONS, dimension_scores=scores, **inputs)
    context = result.profile.set_index("area_id").loc[areas[0], "context"]
    assert context[0]["ref"] == "dimension:crime" and "rank 1" in context[0]["text"]
