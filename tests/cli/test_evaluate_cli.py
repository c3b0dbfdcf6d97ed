"""`safercities evaluate …` on the synthetic city with a planted intervention: every verb runs, prints its estimate
with its interval and assumptions, writes its table, and a user's mistake is one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import safercities.workspace as sc
from clikit import assert_one_line_error, invoke, words
from safercities.sim import simulate
from safercities.sim.interventions import plant_intervention

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("evaluate-cli")
    city = simulate(folder / "source", seed=0)
    truth = plant_intervention(city, seed=1)
    ws = sc.init(folder / "ws", name="Ciudad", crs=city.crs, timezone=city.timezone)
    with ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.outdir / truth["incidents"], mapping=city.mapping)
    return folder / "ws", truth


def _common(planted: tuple[Path, dict[str, Any]]) -> list[str]:
    root, truth = planted
    return ["-w", str(root), "--treated", ",".join(truth["treated"]), "--start", truth["start"], "--iccs", "0401"]


def test_did_prints_rate_ratio_pretrend_and_writes_table(planted: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out = tmp_path / "did.csv"
    code, output = invoke("evaluate", "did", *_common(planted), "--out", out)
    assert code == 0, output
    text = words(output)
    assert "Rate ratio" in text and "Wald chi2" in text and "Parallel trends" in text
    table = pd.read_csv(out)
    assert table.loc[0, "lower"] <= 0.7 <= table.loc[0, "upper"]
    assert out.with_suffix(".txt").exists()


def test_its_synth_wdq_cost_benefit_and_report_run(planted: tuple[Path, dict[str, Any]]) -> None:
    code, output = invoke("evaluate", "its", *_common(planted), "--no-slope-change", "--lang", "es")
    assert code == 0 and "Supuestos" in output, output
    code, output = invoke("evaluate", "synth", *_common(planted), "--no-placebo")
    assert code == 0 and "Pre-period RMSPE" in words(output), output
    code, output = invoke("evaluate", "wdq", *_common(planted), "--lang", "fr")
    assert code == 0 and "WDQ" in output and "Hypothèses" in output, output
    code, output = invoke("evaluate", "cost-benefit", *_common(planted), "--cost", "250000", "--reporting-rate", "0.4")
    assert code == 0 and "Benefit-cost ratio" in words(output) and "GBP" in output, output
    code, output = invoke("evaluate", "report", *_common(planted), "--reporting-before", "0.4",
                          "--reporting-after", "0.5", "--cost", "250000")  # fmt: skip
    assert code == 0 and "Unintended consequences" in output and "reporting rate went from 0.40" in words(output)


def test_power_and_solve() -> None:
    code, output = invoke("evaluate", "power", "--mean", "3", "--effect", "0.8", "--sims", "300")
    assert code == 0 and "analytic approximation" in words(output), output
    code, output = invoke("evaluate", "power", "--solve", "months", "--mean", "3", "--effect", "0.7", "--sims", "200")
    assert code == 0 and "reach the target power" in words(output), output
    code, output = invoke("evaluate", "power", "--design", "its", "--mean", "30", "--effect", "0.8", "--post", "12",
                          "--sims", "40")  # fmt: skip
    assert code == 0 and "Power of its" in words(output), output


def test_mistakes_are_one_line_errors(planted: tuple[Path, dict[str, Any]]) -> None:
    root, truth = planted
    code, output = invoke("evaluate", "did", "-w", root, "--treated", "NOPE", "--start", truth["start"])
    assert_one_line_error(code, output, "unknown area", "NOPE")
    code, output = invoke("evaluate", "did", "-w", root, "--treated", truth["treated"][0], "--start", "2031-01-01")
    assert_one_line_error(code, output, "start")
    code, output = invoke("evaluate", "did", *_common(planted), "--family", "gaussian")
    assert_one_line_error(code, output, "family")
    code, output = invoke("evaluate", "power", "--design", "rct")
    assert_one_line_error(code, output, "--design")
    code, output = invoke("evaluate", "report", *_common(planted), "--reporting-before", "0.4")
    assert_one_line_error(code, output, "reporting")
