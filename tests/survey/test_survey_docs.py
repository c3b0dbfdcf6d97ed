"""docs/survey.md names every design-file key, every publication setting and every analysis variable."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from safercities.survey.designfile import SECTIONS
from safercities.survey.settings import SurveyRules

DOC = Path(__file__).resolve().parents[2] / "docs" / "survey.md"


def test_every_design_file_key_and_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [f"[{section}]" for section in SECTIONS if f"[{section}]" not in text]
    missing += [f"{section}.{key}" for section, keys in SECTIONS.items() for key in keys if f"{key} =" not in text]
    missing += [f.name for f in fields(SurveyRules) if f"{f.name} =" not in text]
    assert not missing, f"undocumented in docs/survey.md: {missing}"


def test_every_analysis_variable_is_documented() -> None:
    import pandas as pd

    from safercities.survey.variables import derive

    text = DOC.read_text(encoding="utf-8")
    columns = derive(pd.DataFrame({"sex": ["female"], "age": ["30"]})).columns
    generic = {"victim_", "victim5y_", "incidents_", "reported_", "harassment_at_"}
    missing = [
        c
        for c in columns
        if f"`{c}`" not in text and not any(c.startswith(g) and f"`{g}<" in text for g in generic) and c != "area_id"
    ]
    assert not missing, f"undocumented analysis variables: {missing}"
