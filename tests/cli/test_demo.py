"""`safercities demo`: the main job on the embedded default, end to end, as `make demo` runs it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import safercities as sc  # noqa: E402
from clikit import invoke, words  # noqa: E402


@pytest.mark.slow
def test_demo_builds_the_city_imports_every_source_and_writes_the_outputs(tmp_path: Path) -> None:
    code, output = invoke("demo", tmp_path / "city", "--no-serve")
    assert code == 0, output
    assert "Demo city ready" in words(output)
    outputs = tmp_path / "city" / "outputs"
    for name in ("cube_month.csv", "quality.html", "analyses/rates.gpkg", "audit/indicator_values.csv",
                 "audit/survey_indicators.csv", "audit/dark_figure.csv", "audit/procurement_buyers.csv"):  # fmt: skip
        assert (outputs / name).stat().st_size > 0, name
    with sc.open(tmp_path / "city" / "workspace", read_only=True) as ws:
        kinds = set(ws.imports()["kind"])
        assert {"areas", "incidents", "indicator_values", "survey_respondents"} <= kinds, kinds
        assert any("fieldwork" in k for k in kinds) and any("walk" in k for k in kinds), kinds
        assert any("procurement" in k for k in kinds), kinds
    again, output = invoke("demo", tmp_path / "city", "--no-serve")
    assert again == 2 and "already holds a workspace" in words(output)
