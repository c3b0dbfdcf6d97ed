"""The command line on the tiny city: every verb once, -w global and per verb, and one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ingest"))

import citykit as ck  # noqa: E402

from safercities.cli.app import app  # noqa: E402

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    output = result.output  # stdout and stderr, interleaved
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}\n{output}")
    return result.exit_code, output


def assert_one_line_error(code: int, output: str, *words: str) -> None:
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("error:"), output
    for word in words:
        assert word in lines[0], output


@pytest.fixture
def files(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    ck.write_areas(src)
    ck.write_mapping(src)
    rows = [
        ck.row("c1", "15/01/2023 10:00", "ROB", "A1"),
        ck.row("c2", "20/01/2023 23:30", "HUR", "A1"),
        ck.row("c3", "03/02/2023 08:00", "HUR", "A4"),
        ck.row("c4", "31/02/2023 08:00", "LES", "A4"),  # bad date
        ck.row("c5", "10/03/2023 12:00", "XYZ", "A2"),  # unknown offence
    ]
    ck.write_csv(src / "inc.csv", rows)
    return tmp_path


@pytest.fixture
def city(files: Path) -> Path:
    ws = files / "ws"
    code, out = invoke("init", ws, "--name", "Ciudad", "--crs", ck.CRS, "--timezone", ck.TIMEZONE)
    assert code == 0, out
    code, out = invoke(
        "-w", ws, "import", "areas", files / "src/areas.geojson", "--id", "area_id", "--population", "population"
    )
    assert code == 0, out
    return ws


def test_the_whole_path(files: Path, city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = files / "src"
    code, out = invoke("import", "incidents", src / "inc.csv", "--mapping", src / "mapping.toml", "-w", city)
    assert code == 0, out
    words = " ".join(out.split())  # rich wraps lines at the terminal width
    assert "5 rows read" in words and "3 accepted" in words and "2 rejected" in words

    code, out = invoke("-w", city, "import", "incidents", src / "inc.csv", "--mapping", src / "mapping.toml")
    assert code == 0 and "already imported" in out

    code, out = invoke("rejects", "-w", city, "--out", files / "rejects.csv")
    assert code == 0, out
    rejects = pd.read_csv(files / "rejects.csv")
    assert sorted(rejects["row_number"]) == [5, 6]
    assert set(rejects["reason_code"]) == {"bad_date", "unknown_offence"}

    code, out = invoke("-w", city, "imports")
    assert code == 0 and "imports" in out, out

    code, out = invoke("-w", city, "cube", "--by", "month", "--out", files / "x.csv")
    assert code == 0, out
    cube = pd.read_csv(files / "x.csv", dtype={"iccs_section": str})
    assert cube["count"].sum() == 3
    # by construction: January 2 in A1 (one robbery 04, one theft 05), February 1 in A4 (theft 05)
    got = cube[cube["count"] > 0].set_index(["area_id", "period", "iccs_section"])["count"].to_dict()
    assert got == {("A1", "2023-01-01", "04"): 1, ("A1", "2023-01-01", "05"): 1, ("A4", "2023-02-01", "05"): 1}
    assert set(cube["area_id"]) == set(ck.GRID)  # zeros for every area

    monkeypatch.chdir(city)  # no -w: the workspace of the current folder
    code, out = invoke("rates", "--by", "year", "--out", files / "x.parquet")
    assert code == 0, out
    rates = pd.read_parquet(files / "x.parquet")
    a1 = rates[(rates["area_id"] == "A1") & (rates["iccs_section"] == "05")].iloc[0]
    assert a1["rate"] == pytest.approx(1 / ck.POPULATION["A1"] * 100_000)


def test_presets_listed() -> None:
    code, out = invoke("presets")
    assert code == 0 and {"police-uk", "chicago", "code"} <= set(out.split())


# ------------------------------------------------------------------------------------------ mistakes


def test_missing_file(files: Path, city: Path) -> None:
    code, out = invoke("-w", city, "import", "incidents", files / "nope.csv", "--mapping", files / "src/mapping.toml")
    assert_one_line_error(code, out, "nope.csv", "not found")


def test_unknown_preset(files: Path, city: Path) -> None:
    code, out = invoke("-w", city, "import", "incidents", files / "src/inc.csv", "--preset", "atlantis")
    assert_one_line_error(code, out, "atlantis", "police-uk")


def test_bad_by(files: Path, city: Path) -> None:
    code, out = invoke("-w", city, "cube", "--by", "fortnight")
    assert_one_line_error(code, out, "fortnight")


def test_no_workspace_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = invoke("imports")
    assert_one_line_error(code, out, "no workspace")


def test_mapping_with_an_unknown_key(files: Path, city: Path) -> None:
    bad = files / "src/bad.toml"
    text = (files / "src/mapping.toml").read_text().replace("[columns]\n", '[columns]\nfecha_hora = "fecha"\n')
    bad.write_text(text)
    code, out = invoke("-w", city, "import", "incidents", files / "src/inc.csv", "--mapping", bad)
    assert_one_line_error(code, out, "fecha_hora", "bad.toml")


def test_error_messages_keep_their_square_brackets(files: Path, city: Path) -> None:
    bad = files / "src/bad.toml"
    text = (files / "src/mapping.toml").read_text().replace("[columns]\n", '[columns]\nfecha_hora = "fecha"\n')
    bad.write_text(text)
    code, out = invoke("-w", city, "import", "incidents", files / "src/inc.csv", "--mapping", bad)
    assert_one_line_error(code, out, "unknown key 'fecha_hora' in [columns]")
    rows = [ck.row("a1", fecha="03/04/2023 10:00"), ck.row("a2", fecha="05/06/2023 10:00")]
    data = ck.write_csv(files / "src/amb.csv", rows)
    ambiguous = ck.write_mapping(files / "src", "amb.toml", order="")
    code, out = invoke("-w", city, "import", "incidents", data, "--mapping", ambiguous)
    assert_one_line_error(code, out, "[dates] order")


def test_missing_mapping_file(files: Path, city: Path) -> None:
    code, out = invoke("-w", city, "import", "incidents", files / "src/inc.csv", "--mapping", files / "none.toml")
    assert_one_line_error(code, out, "none.toml")


def test_projected_coordinates_declared_as_lonlat(files: Path, city: Path) -> None:
    rows = [[f"p{i}", "15/03/2023 10:30", "Robo", "ROB", *map(str, ck.point_utm(a))] for i, a in enumerate(ck.GRID)]
    data = ck.write_csv(files / "src/utm.csv", rows)
    code, out = invoke("-w", city, "import", "incidents", data, "--mapping", files / "src/mapping.toml")
    assert_one_line_error(code, out, "projected")


def test_init_twice_and_bad_crs(files: Path, city: Path) -> None:
    code, out = invoke("init", city, "--name", "Otra", "--crs", ck.CRS)
    assert_one_line_error(code, out, "already")
    code, out = invoke("init", files / "geo", "--name", "Geo", "--crs", "EPSG:4326")
    assert_one_line_error(code, out, "projected")


def test_unknown_output_format(files: Path, city: Path) -> None:
    code, out = invoke("-w", city, "cube", "--out", files / "x.xls")
    assert_one_line_error(code, out, ".xls")
