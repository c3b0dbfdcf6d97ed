"""The governance assessment: the questionnaire, reading a filled form, and a hand-scored example reproduced.

The example (``hand_scored_answers.csv``) was scored by hand with the rule of the module docstring:

question levels (lower median of the institutions' answers, "dk" left out)
    GL1: 3, 2, 1 -> sorted 1 2 3 -> 2        GL2: 3, 3, dk -> 3 3 -> 3
    GL3: 1, 0, 0 -> 0 0 1 -> 0               GL4: 4, 2 -> 2 4 -> lower of the middles 2
    DF1: 2, 3, 1 -> 2                        DF2: 1, 0 -> 0 1 -> 0
    DF3: dk, dk -> unanswered                CP1: 4, 4, 2 -> 2 4 4 -> 4
principles (⌊mean⌋ when at least half of the questions are answered)
    government leadership: ⌊(2 + 3 + 0 + 2) / 4⌋ = ⌊1.75⌋ = 1
    differentiation: 2 of 3 answered -> ⌊(2 + 0) / 2⌋ = 1
    cooperation and partnerships: 1 of 4 answered -> not scored; the five other principles: not scored
capacities
    focal point (GL1) 2; strategy (GL2, GL3; SA1 unanswered) ⌊1.5⌋ = 1; coordination body (CP1) 4;
    victim services (DF1) 2; community participation (CP2, DF3 unanswered) not scored
per institution, government leadership
    Municipality ⌊(3 + 3 + 1 + 4) / 4⌋ = 2; Police ⌊(2 + 3 + 0 + 2) / 4⌋ = 1;
    Residents' network GL1 = 1, GL3 = 0 (2 of 4, half) -> ⌊0.5⌋ = 0
rejects: SE1 has no level (skipped, not rejected); GL9 unknown; CP2 level 5; CP3 without institution;
    Police GL1 a second time (duplicate).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safercities.errors import InputError
from safercities.governance import answers_frame, blank_form, gaps, load_questionnaire, read_answers, score, write_form
from safercities.governance.assessment import QUESTIONNAIRE, parse_questionnaire
from safercities.governance.files import read_yaml

HERE = Path(__file__).parent
EXAMPLE = HERE / "hand_scored_answers.csv"


def test_the_questionnaire_covers_the_eight_principles_and_eight_capacities_in_three_languages() -> None:
    q = load_questionnaire()
    assert q.principles["id"].tolist() == [
        "government_leadership",
        "socioeconomic_development",
        "cooperation_partnerships",
        "sustainability_accountability",
        "knowledge_base",
        "human_rights_lawfulness",
        "interdependency",
        "differentiation",
    ]
    assert set(q.capacities["id"]) == {
        "focal_point",
        "coordination_body",
        "strategy",
        "data_systems",
        "community_participation",
        "corruption_controls",
        "victim_services",
        "external_links",
    }
    for lang in ("en", "es", "fr"):
        assert q.items[f"question_{lang}"].str.len().min() > 30
        assert q.principles[f"label_{lang}"].str.len().min() > 5
    assert q.text("capacity", "focal_point", "es") == "Punto focal de prevención"


def test_a_questionnaire_with_a_principle_without_questions_is_refused() -> None:
    data = read_yaml(QUESTIONNAIRE)
    data["items"] = [i for i in data["items"] if i["principle"] != "interdependency"]
    with pytest.raises(InputError, match="principle 'interdependency' has no question"):
        parse_questionnaire(data, "q.yaml")
    data = read_yaml(QUESTIONNAIRE)
    data["items"][0]["capacity"] = "mayor"
    with pytest.raises(InputError, match="unknown capacity 'mayor'"):
        parse_questionnaire(data, "q.yaml")


def test_reading_the_example_keeps_good_rows_and_rejects_bad_ones_with_reasons() -> None:
    read = read_answers(EXAMPLE)
    assert read.rows_read == 26
    assert len(read.answers) == 21  # 26 rows - 1 blank level - 4 rejected
    rejects = read.rejects.set_index("row_number")
    assert rejects.loc[24, "reason_code"] == "unknown_item"
    assert rejects.loc[25, "reason_code"] == "invalid_level" and "'5'" in rejects.loc[25, "reason"]
    assert rejects.loc[26, "reason_code"] == "missing_value" and rejects.loc[26, "column_name"] == "institution"
    assert rejects.loc[27, "reason_code"] == "duplicate_answer"
    assert len(rejects) == 4  # rows 24-27
    assert any("without a level" in w for w in read.warnings)
    assert any("no evidence" in w for w in read.warnings)
    police_dk = read.answers[(read.answers["institution"] == "Police") & (read.answers["item_id"] == "DF3")]
    assert police_dk["answer"].iloc[0] == "dk" and math.isnan(police_dk["level"].iloc[0])


def test_the_hand_scored_example_is_reproduced() -> None:
    scores = score(read_answers(EXAMPLE).answers)
    items = scores.items.set_index("item_id")["level"]
    assert items[["GL1", "GL2", "GL3", "GL4", "DF1", "DF2", "CP1"]].tolist() == [2, 3, 0, 2, 2, 0, 4]
    assert math.isnan(items["DF3"]) and math.isnan(items["CP2"])
    principles = scores.principles.set_index("principle")
    assert principles.loc["government_leadership", "level"] == 1
    assert principles.loc["government_leadership", "mean"] == pytest.approx(1.75)
    assert principles.loc["government_leadership", "rule"] == "⌊mean(GL1=2, GL2=3, GL3=0, GL4=2)⌋ = ⌊1.75⌋ = 1"
    assert principles.loc["differentiation", "level"] == 1
    assert principles.loc["differentiation", "rule"].endswith("unanswered: DF3")
    assert math.isnan(principles.loc["cooperation_partnerships", "level"])
    assert principles.loc["cooperation_partnerships", "rule"].startswith("not scored: 1 of 4")
    assert principles["level"].notna().sum() == 2
    capacities = scores.capacities.set_index("capacity")["level"]
    assert capacities[["focal_point", "strategy", "coordination_body", "victim_services"]].tolist() == [2, 1, 4, 2]
    assert math.isnan(capacities["community_participation"])
    mine = scores.by_institution.set_index(["institution", "principle"])["level"]
    assert mine[("Municipality", "government_leadership")] == 2
    assert mine[("Police", "government_leadership")] == 1
    assert mine[("Residents' network", "government_leadership")] == 0
    assert scores.items.set_index("item_id").loc["GL1", "rule"] == (
        "lower median(Municipality=3, Police=2, Residents' network=1) = 2"
    )


def test_gaps_of_the_hand_scored_example() -> None:
    found = gaps(score(read_answers(EXAMPLE).answers), target=3)
    principles = found[found["kind"] == "principle"]
    # six principles not scored (unknown comes first), then the two scored ones, gap 2 each, in questionnaire order
    assert principles["id"].tolist()[-2:] == ["government_leadership", "differentiation"]
    assert principles["gap"].tolist()[-2:] == [2, 2]
    assert principles["level"].isna().sum() == 6
    items = found[found["kind"] == "item"].set_index("id")
    assert "institutions disagree (answers from 2 to 4)" in items.loc["CP1", "reason"]  # level 4, but divergent
    assert items.loc["GL1", "reason"] == "level 2 below the target 3; institutions disagree (answers from 1 to 3)"
    assert items.loc["DF3", "reason"] == "no institution answered"
    assert "Municipality: Decree 14/2024" in items.loc["GL1", "evidence"]
    assert "GL2" not in items.index  # at the target and agreed upon
    capacities = found[found["kind"] == "capacity"].set_index("id")
    assert "coordination_body" not in capacities.index and capacities.loc["strategy", "gap"] == 2
    spanish = gaps(score(read_answers(EXAMPLE).answers), target=3, lang="es")
    assert spanish.set_index("id").loc["DF3", "reason"] == "ninguna institución respondió"


def test_a_lower_target_leaves_fewer_gaps() -> None:
    scores = score(read_answers(EXAMPLE).answers)
    assert len(gaps(scores, target=1)) < len(gaps(scores, target=3))
    with pytest.raises(InputError, match="'target' parameter"):
        gaps(scores, target=7)


def test_answers_given_in_python_are_checked_as_a_file_is() -> None:
    frame = answers_frame([{"institution": "City", "item_id": "gl1", "level": 2, "evidence": "x"}])
    assert frame["item_id"].tolist() == ["GL1"] and frame["level"].tolist() == [2.0]
    with pytest.raises(InputError, match="not 0, 1, 2, 3, 4 or dk"):
        answers_frame([{"institution": "City", "item_id": "GL1", "level": "high"}])


def test_score_refuses_levels_outside_the_scale_and_unknown_questions() -> None:
    with pytest.raises(InputError, match="levels must be 0-4"):
        score(pd.DataFrame({"institution": ["a"], "item_id": ["GL1"], "level": [7]}))
    with pytest.raises(InputError, match="not in the questionnaire: XX1"):
        score(pd.DataFrame({"institution": ["a"], "item_id": ["XX1"], "level": [1]}))


def test_the_blank_form_round_trips_through_excel(tmp_path: Path) -> None:
    form = blank_form(lang="fr", institutions=["Mairie", "Police"])
    assert len(form) == 2 * len(load_questionnaire().items)
    assert form["question"].iloc[0].startswith("La ville dispose")
    path = write_form(tmp_path / "form.xlsx", lang="fr", institutions=["Mairie", "Police"])
    filled = pd.read_excel(path, sheet_name="answers", dtype=str).fillna("")
    filled["level"] = (filled.index % 5).astype(str)
    filled.to_excel(tmp_path / "filled.xlsx", sheet_name="answers", index=False)
    read = read_answers(tmp_path / "filled.xlsx")
    assert len(read.answers) == len(form) and read.rejects.empty
    assert pd.read_excel(path, sheet_name="scale")["level"].tolist() == [0, 1, 2, 3, 4]


@settings(max_examples=20, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D"]),
            st.sampled_from(["GL1", "GL2", "GL3", "GL4"]),
            st.one_of(st.integers(0, 4), st.none()),
        ),
        min_size=1,
        max_size=16,
    )
)
def test_levels_stay_on_the_scale_and_follow_the_rule(answers) -> None:
    frame = pd.DataFrame(answers, columns=["institution", "item_id", "level"]).drop_duplicates(
        ["institution", "item_id"]
    )
    scores = score(frame)
    items = scores.items.set_index("item_id")
    for item, part in frame.dropna(subset=["level"]).groupby("item_id"):
        ordered = sorted(part["level"])
        assert items.loc[item, "level"] == ordered[(len(ordered) - 1) // 2]  # the lower median
        assert ordered[0] <= items.loc[item, "level"] <= ordered[-1]
    lead = scores.principles.set_index("principle").loc["government_leadership"]
    answered = items.loc[["GL1", "GL2", "GL3", "GL4"], "level"].dropna()
    if len(answered) >= 2:
        assert lead["level"] == math.floor(answered.mean())
    else:
        assert math.isnan(lead["level"])


def test_a_rejected_row_does_not_make_the_next_valid_answer_a_duplicate() -> None:
    frame = answers_frame(
        [{"institution": "City", "item_id": "GL1", "level": "2"}, {"institution": "City", "item_id": "GL2", "level": 1}]
    )
    assert len(frame) == 2
    from safercities.governance.assessment import check_answers

    rows = pd.DataFrame(
        {"row_number": [2, 3], "institution": ["City", "City"], "item_id": ["GL1", "GL1"], "level": ["9", "2"]}
    )
    read = check_answers(rows, load_questionnaire())
    assert read.answers["level"].tolist() == [2.0]
    assert read.rejects["reason_code"].tolist() == ["invalid_level"]
