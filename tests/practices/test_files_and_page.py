"""Import and export of the library (every format round-trips), and the HTML page."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from safercities.practices import load_library
from safercities.practices.files import export_library, practice_to_row, read_practices, row_to_practice
from safercities.practices.page import render_page

LIBRARY = load_library()


def _normal(practice: dict) -> dict:
    """A practice with the optional empty lists spelled out, as a spreadsheet row gives them back."""
    out = dict(practice)
    out.setdefault("protective_factors", [])
    out.setdefault("risk_factors", [])
    out["implementation"] = {"partners": [], **practice["implementation"]}
    return out


def test_every_practice_survives_a_spreadsheet_row() -> None:
    for practice in LIBRARY:
        assert row_to_practice(practice_to_row(practice)) == _normal(practice), practice["id"]


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".csv", ".xlsx", ""])
def test_the_library_round_trips_through_every_format(tmp_path: Path, suffix: str) -> None:
    path = export_library(LIBRARY, tmp_path / f"library{suffix}")
    if suffix == "":
        back = load_library(path, shipped=False)
        assert back.ids == LIBRARY.ids
        return
    read = read_practices(path)
    assert read.rejects.empty, read.rejects
    assert [p["id"] for p in read.practices] == LIBRARY.ids
    assert [_normal(p) for p in read.practices] == [_normal(p) for p in LIBRARY]


def test_bad_rows_of_a_spreadsheet_are_rejected_with_the_field(tmp_path: Path) -> None:
    rows = pd.DataFrame([practice_to_row(LIBRARY.get("alley_gating")), practice_to_row(LIBRARY.get("mentoring"))])
    rows.loc[0, "problems"] = "burglary; littering"
    rows.loc[1, "sources"] = "meta_analysis | twenty | Tolan et al."
    extra = pd.DataFrame([practice_to_row(LIBRARY.get("mentoring"))])
    pd.concat([rows, extra]).to_csv(tmp_path / "p.csv", index=False)
    read = read_practices(tmp_path / "p.csv")
    assert [p["id"] for p in read.practices] == ["mentoring"]
    reasons = read.rejects.set_index("row_number")
    assert reasons.loc[2, "column_name"] == "problems/1" and "'littering'" in reasons.loc[2, "reason"]
    assert reasons.loc[3, "column_name"].startswith("sources/0")


def test_the_page_shows_every_practice_its_rating_and_the_warnings() -> None:
    html = render_page(LIBRARY, "en")
    assert html.count("<article") == len(LIBRARY)
    for practice in LIBRARY:
        assert f'id="{practice["id"]}"' in html
    harmful = re.findall(r'<article class="harmful" id="(\w+)">', html)
    assert set(harmful) == {p["id"] for p in LIBRARY if p["evidence"]["rating"] == "harmful"}
    assert html.count('class="warning harmful"') == len(harmful)
    assert "Welsh, B. C., &amp; Farrington, D. P. (2008)" in html  # sources escaped, not dropped
    assert "Effective: 22" in html or re.search(r"Effective: \d+", html)


def test_the_page_speaks_spanish_and_french() -> None:
    spanish = render_page(LIBRARY, "es")
    assert '<html lang="es">' in spanish and "Biblioteca de prácticas" in spanish and "Dañina" in spanish
    assert "Mejora del alumbrado público" in spanish
    french = render_page(LIBRARY, "fr")
    assert "Jugé nocif" in french and "Violences faites aux femmes et aux filles" in french
