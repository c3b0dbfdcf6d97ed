"""Matching priorities to practices: the fitting practices first, harmful ones last and always with a warning."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safercities.errors import InputError
from safercities.practices import load_library, match
from safercities.practices.matching import EVIDENCE_WEIGHT, short_citation
from safercities.practices.schema import PROBLEMS, RISK_FACTORS, SETTINGS, TARGET_GROUPS

LIBRARY = load_library()

# The planted priority: youth violence near schools in one community, as the audit's priorities table gives it.
YOUTH_NEAR_SCHOOLS = {
    "scope": "C07",
    "problem": "youth_violence",
    "risk_factors": ["school_dropout", "youth_unemployment"],
    "settings": ["school"],
    "target_groups": ["youth", "at_risk_youth"],
    "rank": 1,
    "score": 0.91,
    "rule": "planted",
    "evidence": [],
}
SCHOOL_BASED_FOR_YOUTH_VIOLENCE = {"cbt_youth_school", "communities_that_care", "school_bullying_prevention"}


def test_youth_violence_near_schools_brings_school_based_youth_programmes_first() -> None:
    result = match([YOUTH_NEAR_SCHOOLS], LIBRARY)
    top = result.head(3)
    assert set(top["practice_id"]) == SCHOOL_BASED_FOR_YOUTH_VIOLENCE, top
    assert (top["rating"] == "effective").all()
    first = result.iloc[0]
    assert first["matched_problem"] and "school" in first["matched_settings"]
    assert "Youth violence" in first["reason"] and "School" in first["reason"]
    # the relevance written out: problem 3 + both risk factors 2 + setting 1 + target group 0.5
    assert first["relevance"] == pytest.approx(6.5)
    assert first["score"] == pytest.approx(6.5 * EVIDENCE_WEIGHT[first["rating"]])


def test_harmful_practices_come_last_and_never_without_a_warning() -> None:
    result = match([YOUTH_NEAR_SCHOOLS], LIBRARY)
    harmful = result[result["rating"] == "harmful"]
    assert {"scared_straight", "juvenile_formal_processing"} <= set(harmful["practice_id"])
    assert (harmful["warning"].str.len() > 20).all()
    assert harmful["rank"].min() > result.loc[result["rating"] != "harmful", "rank"].max()
    no_effect = result[result["rating"] == "no_effect"]
    assert no_effect["rank"].min() > result.loc[~result["rating"].isin(["harmful", "no_effect"]), "rank"].max()
    assert (no_effect["warning"] != "").all()


def test_scared_straight_would_rank_high_on_fit_alone() -> None:
    # it matches the problem, a risk factor, the setting and the target group: only its rating keeps it last
    result = match([YOUTH_NEAR_SCHOOLS], LIBRARY).set_index("practice_id")
    assert result.loc["scared_straight", "relevance"] >= result.loc["safe_passage_routes", "relevance"]
    assert result.loc["scared_straight", "rank"] > result.loc["safe_passage_routes", "rank"]


def test_top_keeps_the_best_and_still_lists_what_not_to_do() -> None:
    result = match([YOUTH_NEAR_SCHOOLS], LIBRARY, top=3)
    assert list(result["practice_id"][:3]) == list(match([YOUTH_NEAR_SCHOOLS], LIBRARY)["practice_id"][:3])
    assert set(result["rating"][3:]) <= {"no_effect", "harmful"}
    quiet = match([YOUTH_NEAR_SCHOOLS], LIBRARY, top=3, show_discouraged=False)
    assert len(quiet) == 3


def test_several_priorities_keep_their_order_and_their_own_ranks() -> None:
    priorities = pd.DataFrame(
        [
            {"scope": "city", "problem": "burglary", "risk_factors": "low_visibility; abandoned_buildings", "rank": 2},
            {"scope": "C07", "problem": "corruption", "risk_factors": [], "rank": 1},
        ]
    )
    result = match(priorities, LIBRARY)
    assert list(result["problem"].drop_duplicates()) == ["corruption", "burglary"]
    for _, part in result.groupby("problem"):
        assert list(part["rank"]) == list(range(1, len(part) + 1))
    burglary = result[result["problem"] == "burglary"]
    assert burglary.iloc[0]["practice_id"] in {"alley_gating", "repeat_victimisation_prevention", "cpted_design_review"}


def test_a_risk_factor_alone_makes_a_candidate_with_a_lower_relevance() -> None:
    result = match([{"problem": "extortion", "risk_factors": ["firearms"]}], LIBRARY)
    by_risk_only = result[~result["matched_problem"]]
    assert len(by_risk_only) and (by_risk_only["relevance"] < 3).all()
    assert (result.loc[result["matched_problem"], "relevance"] >= 3).all()


def test_reasons_are_written_in_the_chosen_language() -> None:
    spanish = match([YOUTH_NEAR_SCHOOLS], LIBRARY, lang="es").iloc[0]
    assert spanish["reason"].startswith("problema") and "Escuela" in spanish["reason"]
    french = match([YOUTH_NEAR_SCHOOLS], LIBRARY, lang="fr")
    assert french.loc[french["practice_id"] == "scared_straight", "warning"].iloc[0].startswith("Jugé nocif")


@pytest.mark.parametrize(
    ("priority", "words"),
    [
        ({"problem": "littering"}, "not a problem of the codebook"),
        ({"problem": "robbery", "risk_factors": ["bad_vibes"]}, "bad_vibes"),
        ({"problem": "robbery", "settings": ["moon"]}, "moon"),
        ({"scope": "city"}, "'problem' column"),
    ],
)
def test_bad_priorities_are_named(priority: dict, words: str) -> None:
    with pytest.raises(InputError, match=words):
        match([priority], LIBRARY)


def test_short_citations() -> None:
    sources = {s["citation"]: s for p in LIBRARY for s in p["sources"]}
    by_author = {short_citation(s) for s in sources.values()}
    assert "Welsh & Farrington 2008" in by_author
    assert "Petrosino et al. 2013" in by_author
    assert "UN Women 2017" in by_author


@settings(max_examples=60, deadline=None)
@given(
    problem=st.sampled_from(PROBLEMS),
    risk_factors=st.lists(st.sampled_from(RISK_FACTORS), max_size=4, unique=True),
    setting=st.lists(st.sampled_from(SETTINGS), max_size=2, unique=True),
    groups=st.lists(st.sampled_from(TARGET_GROUPS), max_size=2, unique=True),
    top=st.one_of(st.none(), st.integers(1, 5)),
)
def test_any_priority_keeps_discouraged_practices_last_and_warned(problem, risk_factors, setting, groups, top) -> None:
    priority = {"problem": problem, "risk_factors": risk_factors, "settings": setting, "target_groups": groups}
    result = match([priority], LIBRARY, top=top)
    assert list(result["rank"]) == list(range(1, len(result) + 1))
    tiers = result["rating"].map({"effective": 0, "promising": 0, "insufficient": 0, "no_effect": 1, "harmful": 2})
    assert tiers.is_monotonic_increasing
    assert (result.loc[tiers > 0, "warning"].str.len() > 0).all()
    assert (result["matched_problem"] | result["matched_risk_factors"].map(len).gt(0)).all()
    for _, tier in result.groupby(tiers):
        assert tier["score"].is_monotonic_decreasing
