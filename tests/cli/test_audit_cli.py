"""`safercities audit framework|indicators|maturity` and `import indicators`, driven through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clikit import assert_one_line_error, invoke, words
from safercities.audit.indicators import VALUE_COLUMNS
from safercities.sim import SimulatedCity, simulate
from safercities.sim.indicators import simulate_indicators
from safercities.workspace import init


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    city = simulate(tmp_path_factory.mktemp("sim-cli-audit"), seed=2, n_communities=20, n_districts=3, years=1)
    simulate_indicators(city)
    return city


@pytest.fixture(scope="module")
def root(city: SimulatedCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    meta = city.truth["workspace"]
    folder = tmp_path_factory.mktemp("ws") / "ws"
    with init(folder, name="C", crs=meta["crs"], timezone=meta["timezone"]) as ws:
        ws.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(city.incidents, mapping=city.mapping)
    return folder


def test_audit_framework_validates_and_lists(tmp_path: Path) -> None:
    code, output = invoke("audit", "framework")
    assert code == 0, output
    text = words(output)
    assert "valid framework 'default'" in text and "9 dimensions" in text and "security_justice" in text
    code, output = invoke("audit", "framework", "usm", "--lang", "fr", "--out", tmp_path / "usm.csv")
    assert code == 0, output
    listed = pd.read_csv(tmp_path / "usm.csv")
    assert set(listed["dimension"]) == {"usm_crime", "usm_community", "usm_governance"}
    assert listed.loc[listed["indicator_id"] == "homicide_rate", "name"].item() == "Taux d'homicides"


def test_a_wrong_framework_file_is_one_line_naming_the_indicator_and_line(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "src/safercities/audit/frameworks/default.yaml"
    text = source.read_text(encoding="utf-8").replace(
        'formula: count(incidents, iccs="0101")', 'formula: count(crimes, iccs="0101")', 1
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "count(crimes" in t)
    code, output = invoke("audit", "framework", bad)
    assert_one_line_error(code, output, "homicide_rate", f"line {line}", "unknown table 'crimes'")
    code, output = invoke("audit", "framework", "nonexistent")
    assert_one_line_error(code, output, "no framework file", "default, usm")


def test_import_compute_and_assess(root: Path, city: SimulatedCity, tmp_path: Path) -> None:
    code, output = invoke("import", "indicators", city.outdir / "indicators.csv", "-w", root)
    assert code == 0, output
    assert "rejected" in output and "0 rejected" in words(output)
    code, output = invoke("import", "indicators", city.outdir / "indicators.csv", "-w", root)
    assert code == 0 and "already imported" in output

    wide = tmp_path / "wide.csv"
    wide.write_text("area_id;nombre;trust_in_police;robbery_rate\nC001;Uno;33,3;7\nC404;X;1;\n", encoding="utf-8")
    code, output = invoke(
        "import",
        "indicators",
        wide,
        "--wide",
        "--period",
        "2023",
        "--source",
        "encuesta",
        "--decimal",
        ",",
        "--framework",
        "default",
        "--area-column",
        "area_id",
        "-w",
        root,
    )
    assert code == 0, output
    assert "1 accepted, 2 rejected" in words(output)
    code, output = invoke("rejects", "--out", tmp_path / "rejects.csv", "-w", root)
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    mine = rejects[rejects["file"] == str(wide)].sort_values("column_name")
    assert list(mine["reason_code"]) == ["formula_indicator", "unknown_area"]
    assert list(mine["row_number"]) == [2, 3] and "unknown area 'C404'" in mine["reason"].iloc[1]

    out = tmp_path / "values.csv"
    code, output = invoke("audit", "indicators", "--period", "2023", "--out", out, "-w", root)
    assert code == 0, output
    values = pd.read_csv(out, dtype={"period": str})
    assert list(values.columns) == VALUE_COLUMNS
    assert (
        values.loc[(values["indicator_id"] == "trust_in_police") & (values["area_id"] == "C001"), "value"].item()
        == 33.3
    )
    assert "crime" in output and "values known" in output

    code, output = invoke("audit", "indicators", "--level", "district", "--framework", "usm", "-w", root)
    assert code == 0, output
    code, output = invoke("audit", "indicators", "--public", "--period", "2023", "-w", root)
    assert code == 0 and "withheld because they rest on a count below" in words(output)

    out = tmp_path / "maturity.csv"
    code, output = invoke("audit", "maturity", "--lang", "es", "--out", out, "--framework", "default", "-w", root)
    assert code == 0, output
    maturity = pd.read_csv(out)
    assert {"indicator_coverage", "geocoding_rate", "time_coverage"} <= set(maturity["criterion"])
    assert "nivel general" in words(output)
    code, output = invoke("audit", "maturity", "--level", "district", "-w", root)
    assert code == 0, output


def test_user_mistakes_are_one_line(root: Path, tmp_path: Path) -> None:
    code, output = invoke("import", "indicators", tmp_path / "missing.csv", "-w", root)
    assert_one_line_error(code, output, "file not found")
    bad = tmp_path / "bad.csv"
    bad.write_text("zone,period,indicator_id,value\nC001,2023,poverty_rate,4\n", encoding="utf-8")
    code, output = invoke("import", "indicators", bad, "-w", root)
    assert_one_line_error(code, output, "no column 'area_id'", "--area-column")
    code, output = invoke("audit", "indicators", "--period", "last year", "-w", root)
    assert_one_line_error(code, output, "'period'")
    code, output = invoke("audit", "maturity", "--lang", "de", "-w", root)
    assert_one_line_error(code, output, "'lang'")
    code, output = invoke("import", "indicators", bad, "--decimal", ";", "-w", root)
    assert_one_line_error(code, output, "'decimal'")
