"""`safercities audit run|status|compare|list` driven through the real CLI on the synthetic city."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from auditrunkit import AuditCity, audit_city
from clikit import assert_one_line_error, invoke, words
from safercities.cli import auditrun_cmds, import_cmds
from safercities.cli.app import app

auditrun_cmds.register(app, import_cmds.app)  # a no-op once the lead wires the module into cli/app.py


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> AuditCity:
    return audit_city(tmp_path_factory)


@pytest.fixture(scope="module")
def ws(city: AuditCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city.workspace(tmp_path_factory.mktemp("cli-audit") / "ws", "fieldwork")


def test_registering_twice_adds_each_verb_once() -> None:
    auditrun_cmds.register(app, import_cmds.app)
    group = next(g.typer_instance for g in app.registered_groups if g.name == "audit")
    names = [c.name for c in group.registered_commands]
    for verb in ("run", "status", "compare", "list"):
        assert names.count(verb) == 1


def test_status_then_run_then_compare(ws: Path, city: AuditCity, tmp_path: Path) -> None:
    code, output = invoke("audit", "status", "-w", ws, "--lang", "en")
    assert code == 0, output
    text = words(output)
    assert "1. Quantitative diagnosis: partial" in text and "no victimisation survey" in text
    assert "5. Implementation: outside the audit run" in text

    code, output = invoke("audit", "list", "-w", ws)
    assert code == 0 and "no audit yet" in output

    first = tmp_path / "first"
    code, output = invoke(
        "audit", "run", "-w", ws, "--draws", "50", "--replications", "20", "--seed", "4", "--out", first,
        "--high", "4", "--medium", "3", "--low", "2", "--exclude", "C034", "--lang", "fr",
    )  # fmt: skip
    assert code == 0, output
    assert "audit written" in output and (first / "audit.json").exists() and (first / "summary.html").exists()
    selection = pd.read_parquet(first / "tables" / "selection.parquet")
    counts = selection.loc[selection["selected"]].groupby("stratum").size().to_dict()
    assert counts == {"high": 4, "low": 2, "medium": 3}
    assert "C034" not in set(selection.loc[selection["selected"], "area_id"])
    assert '<html lang="fr">' in (first / "summary.html").read_text(encoding="utf-8")

    weights = tmp_path / "weights.csv"
    weights.write_text("id,weight\ncrime,6\n", encoding="utf-8")
    code, output = invoke(
        "audit", "run", "-w", ws, "--draws", "50", "--replications", "0", "--seed", "4", "--weights", weights,
        "--high", "4", "--medium", "3", "--low", "2", "--exclude", "C034", "--lang", "fr",
    )  # fmt: skip
    assert code == 0, output
    code, output = invoke("audit", "list", "-w", ws)
    assert code == 0 and "default 2026" in words(output)
    second = sorted((ws / "audits").iterdir())[-1]
    assert (second / "audit.json").exists()

    changes = tmp_path / "changes.csv"
    code, output = invoke("audit", "compare", first, second, "--out", changes)
    assert code == 0, output
    text = words(output)
    assert "parameter weights" in text and "parameter replications" in text
    table = pd.read_csv(changes)
    assert {"rank_before", "lower_before", "upper_before", "rank_after", "beyond_interval"} <= set(table.columns)


def test_run_with_the_options_of_the_index_and_a_pdf(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "geo"
    code, output = invoke(
        "audit", "run", "-w", ws, "--draws", "20", "--replications", "0", "--normalisation", "zscore",
        "--aggregation", "geometric", "--min-coverage", "0.6", "--select-by", "overall", "--period", "2023",
        "--level", "community", "--framework", "default", "--public", "--pdf", "--out", out,
    )  # fmt: skip
    assert code == 0, output
    assert (out / "summary.pdf").exists() and "pdf:" in output
    parameters = json.loads((out / "audit.json").read_text(encoding="utf-8"))["parameters"]
    assert parameters["normalisation"] == "zscore" and parameters["aggregation"] == "geometric"
    assert parameters["selection_indicator"] == "overall" and parameters["period"] == "2023"
    assert parameters["data_as_of"] == "2023-12-31" and parameters["public"] is True


def test_mistakes_are_one_line(ws: Path, tmp_path: Path) -> None:
    code, output = invoke("audit", "run", "-w", ws, "--normalisation", "median", "--out", tmp_path / "a")
    assert_one_line_error(code, output, "normalisation", "median")
    code, output = invoke("audit", "run", "-w", ws, "--select-by", "nowhere", "--draws", "20", "--out", tmp_path / "b")
    assert_one_line_error(code, output, "nowhere")
    code, output = invoke("audit", "status", "-w", ws, "--lang", "de")
    assert_one_line_error(code, output, "lang")
    code, output = invoke("audit", "compare", tmp_path, tmp_path)
    assert_one_line_error(code, output, "not an audit bundle")
