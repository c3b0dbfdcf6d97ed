"""The questionnaire as an XLSForm: pyxform converts it (and ODK Validate accepts it where Java is present)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pyxform.xls2xform import convert

from safercities.config import LANGUAGES
from safercities.errors import InputError
from safercities.survey.instrument import load_instrument, write_xlsform

XFORMS = "{http://www.w3.org/2002/xforms}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_xlsform_converts_without_warnings(lang: str, tmp_path: Path) -> None:
    path = write_xlsform(tmp_path / f"form_{lang}.xlsx", lang)
    warnings: list[str] = []
    result = convert(xlsform=str(path), warnings=warnings)
    assert warnings == []
    root = ET.fromstring(result.xform)
    binds = {b.get("nodeset").rsplit("/", 1)[-1] for b in root.iter(f"{XFORMS}bind")}
    instrument = load_instrument()
    assert set(instrument.names()) <= binds
    text = result.xform
    for code in LANGUAGES:  # every label in the three languages, the chosen one the default
        default = ' default="true()"' if code == lang else ""
        assert f'<translation lang="{instrument.languages[code]} ({code})"{default}>' in text


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java")
def test_odk_validate_accepts_the_form(tmp_path: Path) -> None:
    path = write_xlsform(tmp_path / "form.xlsx", "es")
    convert(xlsform=str(path), validate=True)  # raises on an ODK Validate error


def test_the_workbook_has_the_three_sheets_and_the_chosen_default_language(tmp_path: Path) -> None:
    path = write_xlsform(tmp_path / "form.xlsx", "fr")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["survey", "choices", "settings"]
    settings = pd.read_excel(path, sheet_name="settings")
    assert settings.loc[0, "default_language"] == "Français (fr)"
    assert settings.loc[0, "form_title"] == "Enquête sur la sécurité et la victimisation"


def test_with_areas_the_interviewer_picks_the_area_from_a_list(tmp_path: Path) -> None:
    areas = pd.DataFrame({"area_id": ["C001", "C002"], "name": ["Centro", "Las Flores"]})
    path = write_xlsform(tmp_path / "form.xlsx", "es", areas=areas)
    result = convert(xlsform=str(path))
    assert "C002" in result.xform and "Las Flores (C002)" in result.xform
    survey = pd.read_excel(path, sheet_name="survey")
    assert survey.loc[survey["name"] == "area", "type"].item() == "select_one areas"


def test_every_crime_block_asks_five_years_twelve_months_times_reporting_and_reasons() -> None:
    instrument = load_instrument()
    assert {c.key for c in instrument.crimes} >= {"burglary", "robbery", "assault", "sexual_violence", "fraud"}
    for crime in instrument.crimes:
        for role in ("5y", "12m", "times", "reported", "why_not"):
            q = instrument.question(crime.question(role))
            assert q.crime == crime.key
    assert instrument.question("burglary_5y").path == ("household_crimes", "burglary")
    assert instrument.question("assault_why_not").kind == "select_multiple"


def test_a_form_must_be_an_xlsx(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="xlsx"):
        write_xlsform(tmp_path / "form.xls")
