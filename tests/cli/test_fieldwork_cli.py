"""`safercities import fieldwork|walks` and `safercities fieldwork …` on the synthetic city with its fieldwork."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))

from fieldworkkit import FieldworkCity, indicator_values, shared  # noqa: E402

from clikit import assert_one_line_error, invoke, words  # noqa: E402
from safercities.workspace import init  # noqa: E402


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> FieldworkCity:
    return shared(tmp_path_factory)


@pytest.fixture(scope="module")
def fresh(city: FieldworkCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the city's areas only: the CLI imports the fieldwork into it."""
    root = tmp_path_factory.mktemp("cli-fieldwork") / "ws"
    with init(root, name="t", crs=city.city.crs, timezone=city.city.timezone) as ws:
        ws.import_areas(city.city.areas, id="area_id", name="name", level="level", parent="parent_id")
    return root


def _file(city: FieldworkCity, name: str) -> Path:
    return city.city.outdir / city.truth["files"][name]


def test_import_fieldwork_and_walks_report_their_rejects(city: FieldworkCity, fresh: Path) -> None:
    code, output = invoke("import", "fieldwork", _file(city, "fieldwork"), "-w", fresh)
    assert code == 0, output
    text = words(output)
    assert f"{city.truth['segments']:,} accepted, 3 rejected" in text
    assert "rejected 1: unknown_code" in text and "rejected 1: bad_date" in text
    code, output = invoke("import", "fieldwork", _file(city, "fieldwork"), "-w", fresh)
    assert code == 0 and "already imported" in words(output)
    code, output = invoke("import", "walks", _file(city, "walks"), "-w", fresh, "--date-order", "dmy")
    assert code == 0, output
    assert f"{city.truth['observations']:,} accepted, 3 rejected" in words(output)
    code, output = invoke("rejects", "--out", fresh.parent / "rejects.csv", "-w", fresh)
    assert code == 0, output
    reasons = pd.read_csv(fresh.parent / "rejects.csv")["reason"]
    assert reasons.str.contains("outside every area").sum() == 1


def test_import_mistakes_are_one_line_errors(city: FieldworkCity, fresh: Path, tmp_path: Path) -> None:
    code, output = invoke("import", "walks", tmp_path / "absent.csv", "-w", fresh)
    assert_one_line_error(code, output, "file not found")
    no_group = tmp_path / "no_group.csv"
    pd.read_csv(_file(city, "fieldwork"), dtype=str).drop(columns="grupo").to_csv(no_group, index=False)
    code, output = invoke("import", "fieldwork", no_group, "-w", fresh)
    assert_one_line_error(code, output, "participant_group", str(no_group))
    code, output = invoke("import", "fieldwork", _file(city, "fieldwork"), "--replace", "--date-order", "dym",
                          "-w", fresh)  # fmt: skip
    assert_one_line_error(code, output, "date_order")


def test_codes_quotes_codebook_and_walks(city: FieldworkCity, tmp_path: Path) -> None:
    root = city.root
    planted = city.truth["planted"]["robbery_lighting"]["area_id"]
    out = tmp_path / "codes.csv"
    code, output = invoke("fieldwork", "codes", "--by", "area", "--area", planted, "--out", out, "-w", root)
    assert code == 0, output
    counts = pd.read_csv(out).set_index("code")
    assert counts.loc["robbery", "sessions"] == counts.loc["robbery", "sessions_held"]
    code, output = invoke("fieldwork", "codes", "--by", "city", "-w", root)
    assert code == 0 and "code frequencies" in output
    code, output = invoke("fieldwork", "quotes", "--code", "poor_lighting", "--area", planted, "-w", root)
    assert code == 0 and planted in output
    assert "alumbrado" in words(output) or "lámparas" in words(output)
    code, output = invoke("fieldwork", "quotes", "--code", "robo", "-w", root)
    assert_one_line_error(code, output, "unknown code 'robo'")
    code, output = invoke("fieldwork", "codebook", "--kind", "risk_factor", "--lang", "fr", "--out", tmp_path / "c.csv")
    assert code == 0 and len(pd.read_csv(tmp_path / "c.csv")) == 20
    code, output = invoke("fieldwork", "codebook", "--lang", "de")
    assert_one_line_error(code, output, "'lang'")
    points = tmp_path / "walks.gpkg"
    code, output = invoke("fieldwork", "walks", "--area", planted, "--points", points, "--out", tmp_path / "w.csv",
                          "-w", root)  # fmt: skip
    assert code == 0, output
    summary = pd.read_csv(tmp_path / "w.csv")
    assert set(summary["area_id"]) == {planted} and len(summary) == 8
    assert points.exists()
    code, output = invoke("fieldwork", "walks", "--area", "C999", "-w", root)
    assert_one_line_error(code, output, "no fieldwork in area 'C999'")


def test_priorities_rank_the_planted_problem_first(city: FieldworkCity, tmp_path: Path) -> None:
    with city.open() as ws:
        values = indicator_values(ws, city.city.census)
    values_file = tmp_path / "indicators.csv"
    values.to_csv(values_file, index=False)
    planted = city.truth["planted"]["robbery_lighting"]["area_id"]
    out = tmp_path / "priorities.csv"
    code, output = invoke(
        "fieldwork", "priorities", "--indicators", values_file, "--area", planted, "--top", "2",
        "--replications", "20", "--seed", "4", "--out", out, "-w", city.root,
    )  # fmt: skip
    assert code == 0, output
    text = words(output)
    assert "rule: score = (0.4·severity" in text
    assert f"{planted} 1. Robbery" in text
    table = pd.read_csv(out)
    first = table[(table["scope"] == planted) & (table["rank"] == 1)].iloc[0]
    assert first["problem"] == "robbery" and "poor_lighting" in first["risk_factors"].split(";")
    assert any(e["kind"] == "quote" for e in json.loads(first["evidence"]))
    code, output = invoke("fieldwork", "priorities", "--indicators", tmp_path / "none.csv", "-w", city.root)
    assert_one_line_error(code, output, "file not found")
