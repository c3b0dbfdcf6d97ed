"""The monthly bulletin: its numbers against an independent count of the incidents, suppression for the
public, three languages, and a PDF that WeasyPrint writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import safercities as sc
from clikit import assert_one_line_error, invoke, words
from safercities import i18n, observatory
from safercities.report.bulletin import bulletin, bulletin_html
from safercities.report.render import write_report
from safercities.sim import simulate


@pytest.fixture(scope="module")
def city_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sc.Workspace]:
    """The synthetic city (seed 1), built, closed and opened read-only (as the CLI opens it)."""
    folder = tmp_path_factory.mktemp("bulletin")
    city = simulate(folder / "source", seed=1)
    with sc.init(folder / "ws", name="Ciudad", crs="EPSG:32614", lang="es", timezone="America/Mexico_City") as ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
    with sc.open(folder / "ws", read_only=True) as ws:
        yield ws


def _counted(ws: sc.Workspace, month: str) -> pd.Series:
    incidents = ws.incidents()
    local = incidents["occurred_from"].dt.tz_localize(None).dt.to_period("M")
    chosen = incidents[local == pd.Period(month, freq="M")]
    return chosen["iccs_code"].str[:2].value_counts()


def test_the_month_against_last_year_matches_an_independent_count(city_ws: sc.Workspace) -> None:
    table = observatory.month_against_last_year(city_ws, observatory.ANALYST, "2024-03").set_index("iccs_section")
    now, before = _counted(city_ws, "2024-03"), _counted(city_ws, "2023-03")
    for section in table.index:
        assert table.loc[section, "now"] == now.get(section, 0)
        assert table.loc[section, "before"] == before.get(section, 0)
    both = table[(table["now"] > 0) & (table["before"] > 0)]
    np.testing.assert_allclose(both["ratio"], both["now"] / both["before"], rtol=1e-12)  # March has 31 days both years
    assert (both["lower"] < both["ratio"]).all() and (both["ratio"] < both["upper"]).all()


def test_february_of_a_leap_year_is_compared_per_day(city_ws: sc.Workspace) -> None:
    table = observatory.month_against_last_year(city_ws, observatory.ANALYST, "2024-02")
    both = table[(table["now"] > 0) & (table["before"] > 0)]
    np.testing.assert_allclose(both["ratio"], (both["now"] / 29) / (both["before"] / 28), rtol=1e-12)


def test_small_counts_never_reach_the_public(city_ws: sc.Workspace) -> None:
    exact = observatory.month_against_last_year(city_ws, observatory.ANALYST, "2024-03")
    shown = observatory.month_against_last_year(city_ws, observatory.PUBLIC, "2024-03")
    small = (exact["now"] >= 1) & (exact["now"] < city_ws.config.disclosure.min_count)
    assert shown.loc[small, "now"].isna().all() and shown.loc[small, "ratio"].isna().all()
    assert (shown.loc[~small, "now"] == exact.loc[~small, "now"]).all()


@pytest.mark.parametrize(("lang", "words"), [("en", "Observatory bulletin"), ("es", "Boletín"), ("fr", "Bulletin")])
def test_the_bulletin_is_written_in_each_language(city_ws: sc.Workspace, lang: str, words: str) -> None:
    content = bulletin(city_ws, "2024-03")
    html = bulletin_html(content, lang)
    assert words in html
    homicide = observatory.homicide_rate(city_ws, observatory.PUBLIC)
    assert i18n.number(homicide.value, lang, 1) in html
    assert "<svg" in html and "data:image/png;base64," in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_pdf_is_a_pdf(city_ws: sc.Workspace, tmp_path: Path) -> None:
    out = write_report(bulletin_html(bulletin(city_ws, "2024-03"), "fr"), tmp_path / "bulletin.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 20_000


def test_cli_writes_the_bulletin_and_refuses_a_month_without_data(city_ws: sc.Workspace, tmp_path: Path) -> None:
    out = tmp_path / "b.html"
    code, output = invoke("report", "bulletin", "-o", out, "--month", "2024-03", "--lang", "en", "-w", city_ws.root)
    assert code == 0, output
    assert "wrote" in words(output) and "Observatory bulletin" in out.read_text(encoding="utf-8")
    assert_one_line_error(*invoke("report", "bulletin", "-o", out, "--month", "2031-01", "-w", city_ws.root), "2031-01")
