"""The codebook: the shared ids, three languages, dimensions, soft links to the framework, and refused files."""

from __future__ import annotations

from pathlib import Path

import pytest

from safercities.audit.codebook import (
    DEFAULT_CODEBOOK,
    DEFAULT_FRAMEWORK,
    DIMENSIONS,
    framework_indicators,
    load_codebook,
    parse_codebook,
)
from safercities.errors import InputError

# The shared vocabulary (handoff VOCAB.md): other modules rely on exactly these ids.
PROBLEMS = [
    "robbery",
    "burglary",
    "vehicle_crime",
    "theft",
    "assault",
    "homicide",
    "sexual_violence",
    "domestic_violence",
    "youth_violence",
    "gang_violence",
    "drug_markets",
    "harassment_public",
    "vandalism",
    "fear_of_crime",
    "corruption",
    "extortion",
]
RISK_FACTORS = [
    "poor_lighting",
    "low_visibility",
    "poor_maintenance",
    "abandoned_buildings",
    "deserted_spaces",
    "lack_public_transport",
    "alcohol_outlets",
    "school_dropout",
    "youth_unemployment",
    "poverty",
    "unemployment",
    "overcrowding",
    "weak_social_cohesion",
    "low_trust_police",
    "low_reporting",
    "police_absence",
    "drug_use",
    "gender_norms",
    "lack_services",
    "firearms",
]
PROTECTIVE = [
    "community_organisation",
    "youth_programmes",
    "street_activity",
    "good_lighting",
    "trusted_police",
    "engaged_schools",
    "maintained_public_spaces",
    "victim_services",
]
NINE = ("crime", "security_justice", "economy", "social", "health", "education", "urban", "cohesion", "governance")


def test_the_shipped_codebook_holds_exactly_the_shared_ids_by_kind() -> None:
    book = load_codebook()
    assert book.ids("problem") == PROBLEMS
    assert book.ids("risk_factor") == RISK_FACTORS
    assert book.ids("protective_factor") == PROTECTIVE


def test_every_code_has_three_labels_and_one_of_the_nine_dimensions() -> None:
    frame = load_codebook().to_frame()
    assert set(frame["dimension"]) <= set(NINE)
    for lang in ("en", "es", "fr"):
        labels = load_codebook().to_frame(lang)["label"]
        assert labels.str.len().min() > 2
        assert labels.is_unique, lang
    assert load_codebook().label("poor_lighting", "es") == "Alumbrado público deficiente"
    assert load_codebook().label("robbery", "fr") == "Vol avec violence"


def test_problems_link_to_risk_factors_and_protective_factors_counter_them() -> None:
    book = load_codebook()
    assert "poor_lighting" in book.codes["robbery"].risk_factors
    assert book.codes["good_lighting"].counters == ("poor_lighting",)
    assert {s.low for s in book.walk_categories.values()} <= set(RISK_FACTORS) | {"fear_of_crime"}
    assert set(book.walk_categories) == {
        "lighting", "visibility", "maintenance", "abandoned_buildings", "people_around", "security_presence",
        "public_transport", "feeling_of_safety",
    }  # fmt: skip


def test_indicator_links_name_indicators_of_the_shipped_framework() -> None:
    if not DEFAULT_FRAMEWORK.exists():
        pytest.skip("the default framework file is not there: the soft links are not checked")
    defined = framework_indicators(DEFAULT_FRAMEWORK)
    links = load_codebook().indicator_links()
    assert set(links["indicator_id"]) <= set(defined)
    assert defined["street_lighting_coverage"]["direction"] == "higher_is_better"
    assert {"robbery_rate"} <= set(links.loc[links["code"] == "robbery", "indicator_id"])


def _codebook(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """\
codes:
  - id: robbery
    kind: problem
    dimension: crime
    label: {en: Robbery, es: Robo, fr: Vol}
    risk_factors: [poor_lighting]
  - id: poor_lighting
    kind: risk_factor
    dimension: urban
    label: {en: Poor lighting, es: Poca luz, fr: Peu de lumière}
    indicators: [lighting_share]
walk_categories:
  lighting:
    label: {en: Lighting, es: Iluminación, fr: Éclairage}
    low: poor_lighting
"""


def test_a_small_codebook_of_ones_own_loads(tmp_path: Path) -> None:
    book = load_codebook(_codebook(tmp_path, GOOD))
    assert book.ids() == ["robbery", "poor_lighting"]
    assert book.codes["poor_lighting"].line == 7


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("dimension: urban", "dimension: urbanism", 9, "unknown dimension 'urbanism'"),
        ("id: poor_lighting", "id: robbery", 7, "duplicate code id 'robbery' (first at line 2)"),
        ("fr: Peu de lumière}", "fr: ''}", 10, "missing translation fr"),
        ("{en: Robbery, es: Robo, fr: Vol}", "{en: Robbery, fr: Vol}", 5, "missing translation es"),
        ("kind: risk_factor", "kind: risk", 8, "kind must be one of"),
        ("[poor_lighting]\n  - id", "[bad_light]\n  - id", 2, "links to 'bad_light'"),
        ("low: poor_lighting", "low: darkness", 15, "unknown code 'darkness'"),
        ("    indicators: [lighting_share]", "    indicator: [lighting_share]", 11, "unknown key 'indicator'"),
    ],
)
def test_a_codebook_with_a_mistake_is_refused_with_the_line(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    path = _codebook(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_codebook(path)
    assert caught.value.row == line, str(caught.value)
    assert words in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_link_to_an_indicator_the_framework_lacks_is_refused(tmp_path: Path) -> None:
    framework = tmp_path / "framework.yaml"
    framework.write_text(
        "dimensions:\n  - id: urban\n    indicators:\n      - id: other_share\n        direction: higher_is_better\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"lighting_share.*does not define") as caught:
        load_codebook(_codebook(tmp_path, GOOD), framework=framework)
    assert caught.value.row == 7
    framework.write_text(framework.read_text().replace("other_share", "lighting_share"), encoding="utf-8")
    assert load_codebook(tmp_path / "codebook.yaml", framework=framework).ids()[0] == "robbery"


def test_text_that_is_not_a_codebook_is_refused() -> None:
    with pytest.raises(InputError, match="not valid YAML") as caught:
        parse_codebook("codes:\n  - id: [unclosed\n", "x.yaml")
    assert caught.value.row is not None
    with pytest.raises(InputError, match="list 'codes'"):
        parse_codebook("name: nothing\n")
    with pytest.raises(InputError, match="not found"):
        load_codebook(DEFAULT_CODEBOOK.with_name("absent.yaml"))


def test_dimensions_include_the_usm_themes() -> None:
    assert set(NINE) < set(DIMENSIONS)
    assert {"usm_crime", "usm_community", "usm_governance"} < set(DIMENSIONS)
