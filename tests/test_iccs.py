"""The ICCS table: structure, names in three languages, lookups."""

from __future__ import annotations

import pandas as pd
import pytest

from safercities import iccs
from safercities.errors import InputError


def test_eleven_sections() -> None:
    table = iccs.load_iccs()
    sections = table[table["level"] == 1]["code"].tolist()
    assert sections == [f"{i:02d}" for i in range(1, 12)]


def test_codes_unique_and_levels_follow_length() -> None:
    table = iccs.load_iccs()
    assert table["code"].is_unique
    lengths = table["code"].str.len().map({2: 1, 4: 2, 5: 3, 6: 4})
    assert (lengths == table["level"]).all()
    assert table["code"].str.fullmatch(r"\d+").all()


def test_every_code_has_its_parent_one_level_up() -> None:
    table = iccs.load_iccs()
    assert (table.loc[table["level"] == 1, "parent"] == "").all()
    children = table[table["level"] > 1]
    for code, parent, level in zip(children["code"], children["parent"], children["level"], strict=True):
        assert code.startswith(parent), code
        assert table.at[parent, "level"] == level - 1, code


def test_level2_parents_are_sections_and_every_section_has_an_other_category() -> None:
    table = iccs.load_iccs()
    level2 = table[table["level"] == 2]
    assert set(level2["parent"]) == {f"{i:02d}" for i in range(1, 12)}
    # ICCS closes each section with one "Other ..." category coded X9 (0109, 0219, 0309, ...), listed last.
    for section in level2["parent"].unique():
        divisions = level2[level2["parent"] == section]
        others = divisions[divisions["name_en"].str.startswith("Other")]
        assert len(others) == 1, section
        assert others["code"].iloc[0] == divisions["code"].max(), section
        assert others["code"].iloc[0].endswith("9"), section


def test_names_non_empty_in_three_languages() -> None:
    table = iccs.load_iccs()
    for lang in iccs.LANGUAGES:
        assert (table[f"name_{lang}"].str.strip() != "").all(), lang


@pytest.mark.parametrize(
    ("code", "en", "es", "fr"),
    [
        ("0101", "Intentional homicide", "Homicidio intencional", "Homicide volontaire"),
        ("0401", "Robbery", "Robo", "Vol qualifié"),
        ("0501", "Burglary", "Robo con allanamiento", "Cambriolage"),
        ("0502", "Theft", "Hurto", "Vol"),
        ("020111", "Serious assault", "Agresión grave", "Agression grave"),
        (
            "050211",
            "Theft of a motorized land vehicle",
            "Hurto de un vehículo terrestre motorizado",
            "Vol d'un véhicule terrestre motorisé",
        ),
    ],
)
def test_known_names(code: str, en: str, es: str, fr: str) -> None:
    assert iccs.name(code) == en
    assert iccs.name(code, "en") == en
    assert iccs.name(code, "es") == es
    assert iccs.name(code, "fr") == fr


def test_section_and_level() -> None:
    assert iccs.section_of("050211") == "05"
    assert iccs.section_of("05") == "05"
    assert iccs.section_of(" 0401 ") == "04"
    assert iccs.level_of("050211") == 4
    assert iccs.level_of("0109") == 2


@pytest.mark.parametrize("bad", ["", "12", "0199", "5", "501", "ICCS0501", None, "0501 x"])
def test_invalid_codes(bad: object) -> None:
    assert not iccs.is_valid_code(bad)


def test_lookups_of_invalid_codes_raise_input_errors() -> None:
    with pytest.raises(InputError, match="'0199' is not an ICCS code"):
        iccs.section_of("0199")
    with pytest.raises(InputError, match="not an ICCS code"):
        iccs.name("9999")
    with pytest.raises(InputError, match="The 'lang' parameter of name must be one of en, es, fr. Got 'de'"):
        iccs.name("0101", "de")


def test_validate_codes_is_vectorised_and_keeps_the_index() -> None:
    codes = pd.Series(["0101", "0199", None, "05", " 0502", "050211", "x"], index=list("abcdefg"), name="iccs")
    result = iccs.validate_codes(codes)
    assert result.dtype == bool
    assert result.name == "iccs"
    assert result.index.tolist() == list("abcdefg")
    assert result.tolist() == [True, False, False, True, True, True, False]


def test_validate_codes_on_empty_and_numeric_series() -> None:
    assert iccs.validate_codes(pd.Series([], dtype=object)).empty
    # Codes read as numbers have lost their leading zero: they are not codes.
    assert not iccs.validate_codes(pd.Series([101, 501])).any()


def test_load_iccs_returns_a_copy() -> None:
    first = iccs.load_iccs()
    first.loc["0101", "name_en"] = "changed"
    assert iccs.name("0101") == "Intentional homicide"
