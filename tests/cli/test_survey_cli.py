"""`safercities survey …` and `import survey` on the synthetic city: every verb, its outputs, its mistakes."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from pyxform.xls2xform import convert

from safercities.sim import SimulatedCity, simulate
from safercities.sim.survey import SimulatedSurvey, simulate_survey
from safercities.workspace import init

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clikit import assert_one_line_error, invoke, words  # noqa: E402


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("cli-survey-city"), seed=0)


@pytest.fixture(scope="module")
def survey(city: SimulatedCity) -> SimulatedSurvey:
    return simulate_survey(city, seed=0)


@pytest.fixture(scope="module")
def ws(city: SimulatedCity, survey: SimulatedSurvey, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-survey-ws") / "ws"
    with init(root, name="Ciudad", crs=city.crs, lang="es", timezone=city.timezone) as workspace:
        workspace.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        workspace.import_incidents(city.incidents, mapping=city.mapping)
    code, output = invoke("import", "survey", survey.export, "--design", survey.design, "-w", root)
    assert code == 0, output
    assert f"{survey.respondents:,} accepted, 0 rejected" in words(output)
    return root


def test_form_writes_an_xlsform_pyxform_converts(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "encuesta.xlsx"
    code, output = invoke("survey", "form", "--lang", "es", "--out", out)
    assert code == 0 and out.exists(), output
    assert "Encuesta de seguridad" in convert(xlsform=str(out)).xform
    listed = tmp_path / "with_areas.xlsx"
    code, output = invoke("survey", "form", "--area-level", "district", "--out", listed, "-w", ws)
    assert code == 0, output
    choices = pd.read_excel(listed, sheet_name="choices")
    assert (choices["list_name"] == "areas").sum() == 6


def test_importing_again_changes_nothing(ws: Path, survey: SimulatedSurvey) -> None:
    code, output = invoke("import", "survey", survey.export, "--design", survey.design, "-w", ws)
    assert code == 0 and "already imported" in output
    code, output = invoke("survey", "list", "-w", ws)
    assert code == 0 and "1440" in output and "2024-12-31" in output


def test_indicators_rates_and_estimates_write_their_tables(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "sdg.csv"
    code, output = invoke("survey", "indicators", "--level", "district", "--by", "all,sex,area", "--out", out, "-w", ws)
    assert code == 0, output
    table = pd.read_csv(out)
    assert {"16.1.3", "16.1.4", "16.3.1", "16.5.1", "11.7.2"} <= set(table["indicator"])
    assert set(table["by"]) == {"all", "sex", "area", "place"}
    code, output = invoke("survey", "rates", "--by", "all", "--lang", "fr", "--out", tmp_path / "r.csv", "-w", ws)
    assert code == 0, output
    assert "Cambriolage" in set(pd.read_csv(tmp_path / "r.csv")["name"])
    out = tmp_path / "e.parquet"
    code, output = invoke(
        "survey", "estimate", "victim_burglary", "--unit", "household", "--by", "area", "--level", "district",
        "--kind", "proportion", "--method", "taylor", "--confidence", "0.9", "--out", out, "-w", ws,
    )  # fmt: skip
    assert code == 0, output
    assert len(pd.read_parquet(out)) == 6


def test_dark_figure_lists_the_most_understated_areas(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "dark.csv"
    code, output = invoke("survey", "dark-figure", "--level", "district", "--top", "2", "--out", out, "-w", ws)
    assert code == 0, output
    assert "delta method on the log scale" in words(output)
    table = pd.read_csv(out)
    assert {"reporting_rate", "reporting_lower", "reporting_upper", "understatement"} <= set(table.columns)


def test_mistakes_are_one_line_errors(ws: Path, survey: SimulatedSurvey, tmp_path: Path) -> None:
    assert_one_line_error(*invoke("survey", "estimate", "nothing", "-w", ws), "unknown variable 'nothing'")
    assert_one_line_error(*invoke("survey", "estimate", "feels_safe", "--by", "colour", "-w", ws), "'by'")
    assert_one_line_error(*invoke("survey", "indicators", "--survey", "nope", "-w", ws), "no survey 'nope'")
    assert_one_line_error(*invoke("survey", "dark-figure", "--top", "0", "-w", ws), "--top")
    assert_one_line_error(*invoke("survey", "form", "--lang", "de", "--out", tmp_path / "f.xlsx"), "'lang'")
    export = pd.read_csv(survey.export, sep=";", dtype=str, keep_default_na=False)
    first = export["stratum"].iloc[0]
    lonely = export[(export["stratum"] != first) | (export["psu"] == export["psu"].iloc[0])]
    path = tmp_path / "lonely.csv"
    lonely.to_csv(path, sep=";", index=False)
    design = tmp_path / "design.toml"
    design.write_text('[survey]\nid = "x"\n[design]\nweight = "weight"\nstrata = "stratum"\npsu = "psu"\n')
    code, output = invoke("import", "survey", path, "--design", design, "-w", ws)
    assert_one_line_error(code, output, "single primary sampling unit", "lonely_psu", first)
