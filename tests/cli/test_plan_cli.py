"""`safercities plan …` driven through the real CLI on the hand-built lattice city."""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plan"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plankit import lattice_workspace, write_sample  # noqa: E402

from clikit import assert_one_line_error, invoke, words  # noqa: E402


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = lattice_workspace(tmp_path / "city")
    write_sample(ws, tmp_path / "plan.xlsx")
    folder = ws.root
    ws.close()
    return folder


def test_template_import_show_monitor_recommendations_export_history(root: Path, tmp_path: Path) -> None:
    code, out = invoke("plan", "template", tmp_path / "template.xlsx", "-w", root, "--lang", "fr")
    assert code == 0 and "wrote" in out
    assert openpyxl.load_workbook(tmp_path / "template.xlsx").sheetnames[0] == "README"

    code, out = invoke("plan", "import", tmp_path / "plan.xlsx", "-w", root)
    assert code == 0, out
    assert "3 interventions stored" in words(out) and "0 rows rejected" in words(out)
    code, out = invoke("plan", "import", tmp_path / "plan.xlsx", "-w", root)
    assert code == 0 and "already imported" in out

    code, out = invoke("plan", "show", "-w", root, "--out", tmp_path / "show.csv")
    assert code == 0, out
    assert pd.read_csv(tmp_path / "show.csv")["intervention_id"].tolist() == ["I1", "I2", "I3"]

    code, out = invoke("plan", "monitor", "-w", root, "--as-of", "2023-03-15", "--confidence", "0.9",
                       "--framework", "default", "--lang", "es", "--out", tmp_path / "monitor.csv")  # fmt: skip
    assert code == 0, out
    table = pd.read_csv(tmp_path / "monitor.csv").set_index("target_id")
    assert table.loc["T1", "current_period"] == "2023-02"
    assert table.loc["T1", "status_label"] == "En curso según lo previsto"
    assert "Avance esperado" in (tmp_path / "monitor.txt").read_text(encoding="utf-8")
    code, out = invoke(
        "plan", "monitor", "-w", root, "--as-of", "2023-03-15", "--public", "--out", tmp_path / "pub.csv"
    )
    assert code == 0, out
    assert pd.read_csv(tmp_path / "pub.csv").set_index("target_id").loc["T1", "status"] == "no_data"

    code, out = invoke("plan", "recommendations", "-w", root, "--as-of", "2023-06-30", "--lang", "en",
                       "--out", tmp_path / "recs.csv")  # fmt: skip
    assert code == 0, out
    assert "Share addressed by a date" in words(out)
    assert pd.read_csv(tmp_path / "recs.csv")["status_label"].tolist() == ["Addressed", "Addressed", "Open", "Dropped"]

    code, out = invoke("plan", "export", tmp_path / "export.xlsx", "-w", root, "--lang", "es", "--framework", "default")
    assert code == 0, out
    code, out = invoke("plan", "import", tmp_path / "export.xlsx", "-w", root, "--replace", "--framework", "default")
    assert code == 0, out
    code, out = invoke("plan", "history", "-w", root, "--out", tmp_path / "history.csv")
    assert code == 0, out
    history = pd.read_csv(tmp_path / "history.csv")
    assert len(history) == 2 and history["changes"].isna().iloc[1]


def test_rejects_are_printed_with_sheet_row_and_column(root: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    sheet = book["interventions"]
    column = next(c.column for c in sheet[1] if c.value == "status")
    sheet.cell(row=3, column=column).value = "finished"
    book.save(tmp_path / "bad.xlsx")
    code, out = invoke("plan", "import", tmp_path / "bad.xlsx", "-w", root)
    assert code == 0, out
    assert "sheet 'interventions', row 3, column 'status': status 'finished' is not one of" in words(out)


def test_user_mistakes_are_one_line(root: Path, tmp_path: Path) -> None:
    assert_one_line_error(*invoke("plan", "show", "-w", root), "no plan yet")
    assert_one_line_error(*invoke("plan", "import", tmp_path / "missing.xlsx", "-w", root), "file not found")
    assert_one_line_error(*invoke("plan", "monitor", "-w", root, "--lang", "de"), "lang")
