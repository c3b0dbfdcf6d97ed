"""safercities procurement import|buyer-areas|flags|report|indicator|rules, driven through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

import safercities.workspace as sc
from clikit import assert_one_line_error, invoke, words
from safercities.sim import simulate
from safercities.sim.procurement import simulate_procurement


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    root = tmp_path_factory.mktemp("procurement-cli")
    simulated = simulate(root / "city", seed=3, n_communities=8, n_districts=2, years=2)
    truth = simulate_procurement(simulated, seed=3, n_processes=600)
    ws = sc.init(root / "ws", name="cli", crs=simulated.crs, timezone=simulated.timezone, lang="es")
    ws.import_areas(
        simulated.areas, id="area_id", name="name", level="level", parent="parent_id", population="population"
    )
    ws.close()
    return root / "ws", Path(simulated.outdir) / "procurement", truth


def test_import_flags_report_indicator(city) -> None:
    ws, folder, truth = city
    files = [folder / name for name in truth["files"]["releases"]]
    code, out = invoke("procurement", "import", *files, "--rules", folder / "rules.toml", "-w", ws)
    assert code == 0, out
    assert "processes stored" in out
    code, out = invoke("procurement", "import", files[0], "-w", ws)
    assert code == 0 and "already imported" in out
    code, out = invoke("procurement", "buyer-areas", folder / "buyer_areas.csv", "-w", ws)
    assert code == 0 and "buyers mapped" in out
    code, out = invoke("procurement", "flags", "--rules", folder / "rules.toml", "-w", ws, "--only-raised")
    assert code == 0 and "split_below_threshold" in out
    csv = ws.parent / "buyers.csv"
    code, out = invoke(
        "procurement", "flags", "--rules", folder / "rules.toml", "--level", "buyer", "-o", csv, "-w", ws
    )
    assert code == 0 and csv.exists()
    assert truth["captured"]["buyers"][0] in csv.read_text()
    code, out = invoke("procurement", "report", "--rules", folder / "rules.toml", "-w", ws, "-o", ws.parent / "rep")
    assert code == 0, out
    assert "contratación pública" in words(out)  # the workspace speaks Spanish
    assert (ws.parent / "rep" / "base_rates.csv").exists()
    code, out = invoke(
        "procurement", "indicator", "--level", "district", "--by", "all", "-w", ws, "-o", ws.parent / "i.csv"
    )
    assert code == 0 and "procurement_risk" in (ws.parent / "i.csv").read_text()
    code, out = invoke("import", "ocds", files[0], "--replace", "-w", ws)
    assert code == 0 and "processes stored" in out


def test_rules_shows_thresholds() -> None:
    code, out = invoke("procurement", "rules", "--rules", "eu")
    assert code == 0 and "221000" in out.replace(",", "")


def test_mistakes_are_one_line(city, tmp_path) -> None:
    ws, _, _ = city
    bad = tmp_path / "bad.json"
    bad.write_text('{"foo": 1}')
    assert_one_line_error(*invoke("procurement", "import", bad, "-w", ws), "not OCDS")
    broken = tmp_path / "broken.json"
    broken.write_text('{"releases": [')
    assert_one_line_error(*invoke("procurement", "import", broken, "-w", ws), "not valid JSON")
    assert_one_line_error(*invoke("procurement", "flags", "--rules", "nowhere", "-w", ws), "no rules profile")
    assert_one_line_error(*invoke("procurement", "flags", "--level", "city", "-w", ws), "--level")
    typo = tmp_path / "typo.toml"
    typo.write_text("[splitting]\nthreshold = [1.0]\n")
    assert_one_line_error(*invoke("procurement", "rules", "--rules", typo), "unknown setting 'threshold'")
