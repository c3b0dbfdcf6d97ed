"""Search by words (any language, accents ignored) and by facets."""

from __future__ import annotations

import pytest

from safercities.errors import InputError
from safercities.practices import load_library, search
from safercities.practices.search import facet_values


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_words_in_any_language_find_the_practice_title_first(library) -> None:
    assert search(library, "street lighting").ids[0] == "street_lighting"
    assert search(library, "eclairage public").ids[0] == "street_lighting"  # French, accent left out
    assert search(library, "ALUMBRADO").ids[0] == "street_lighting"


def test_every_word_must_appear(library) -> None:
    both = search(library, "lighting women")
    assert set(both.ids) <= set(search(library, "lighting").ids) & set(search(library, "women").ids)
    assert search(library, "lighting zzzqqq").ids == []


def test_citations_are_searchable(library) -> None:
    assert "scared_straight" in search(library, "Petrosino").ids


def test_facets_take_one_value_or_several_and_combine(library) -> None:
    vawg = search(library, approach="vawg")
    assert len(vawg) >= 5 and all("vawg" in p["approaches"] for p in vawg)
    chosen = search(library, approach="vawg", rating=["effective", "promising"], setting="school")
    assert chosen.ids and all(
        "vawg" in p["approaches"]
        and p["evidence"]["rating"] in ("effective", "promising")
        and "school" in p["settings"]
        for p in chosen
    )
    assert set(search(library, problem="corruption").ids) >= {"e_procurement", "independent_audits"}
    assert search(library, partner="health", risk_factor="firearms").ids  # sectors from the actors registry


def test_plural_facet_names_are_accepted(library) -> None:
    assert search(library, settings="school").ids == search(library, setting="school").ids


def test_unknown_facets_and_values_are_named(library) -> None:
    with pytest.raises(InputError, match="unknown facet 'colour'"):
        search(library, colour="red")
    with pytest.raises(InputError, match="'setting' facet"):
        search(library, setting="moon")


def test_no_criteria_gives_the_whole_library(library) -> None:
    assert search(library).ids == library.ids


def test_facet_values_reads_nested_fields(library) -> None:
    assert facet_values(library.get("scared_straight"), "rating") == ["harmful"]
    assert facet_values(library.get("street_lighting"), "evidence_strength") == ["systematic_review"]
