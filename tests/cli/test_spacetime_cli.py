"""`safercities analyse trend|change|rhythm|emerging|alerts` on the cities of tests/spacetimekit.py.

Each verb with ``-w DIR`` exits 0, prints its summary, writes ``--out`` (a CSV, or a GeoPackage for emerging)
and its ``.txt`` summary, and both read back to the values the construction planted; mistakes are one line
starting "error:", exit code 2, no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import rates

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import spacetimekit as kit  # noqa: E402
from clikit import assert_one_line_error, invoke, words  # noqa: E402


@pytest.fixture(scope="module")
def main(tmp_path_factory: pytest.TempPathFactory) -> kit.City:
    return kit.build_main(tmp_path_factory.mktemp("cli_spacetime_main"))


@pytest.fixture(scope="module")
def outbreak(tmp_path_factory: pytest.TempPathFactory) -> kit.City:
    return kit.build_outbreak(tmp_path_factory.mktemp("cli_spacetime_outbreak"))


def analyse(city: kit.City, *args: str | Path) -> tuple[int, str]:
    return invoke("analyse", *args, "-w", city.root)


def summary_of(out: Path) -> str:
    return out.with_suffix(".txt").read_text(encoding="utf-8")


def test_trend_csv(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "trend.csv"
    code, output = analyse(main, "trend", "--out", out)
    assert code == 0, output
    assert "STL (period 12, robust) of 36 monthly values" in words(output) and "peak at Jul" in words(output)
    frame = pd.read_csv(out, parse_dates=["period"])
    monthly = main.incidents["start"].dt.to_period("M").value_counts().sort_index()
    assert frame["period"].tolist() == list(kit.MONTHS.start_time)
    np.testing.assert_array_equal(frame["observed"].to_numpy(), monthly.to_numpy(float))
    np.testing.assert_allclose(frame["observed"], frame["trend"] + frame["seasonal"] + frame["remainder"], atol=1e-9)
    text = summary_of(out)
    assert text.startswith("STL (period 12, robust)") and "peak at Jul" in text


def test_trend_by_week_of_robberies(main: kit.City) -> None:
    code, output = analyse(main, "trend", "--by", "week", "--iccs", "04", "--start", "2023-01-02")
    assert code == 0, output
    weeks = len(pd.date_range("2023-01-02", main.incidents["start"].max(), freq="7D"))  # Mondays to 2025-12-29
    assert weeks == 157 and f"STL (period 52, robust) of {weeks} weekly values" in words(output)


def test_change_csv(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "change.csv"
    code, output = analyse(main, "change", "--year", "2025", "--out", out)
    assert code == 0, output
    assert "16 comparisons (two-sided, exact conditional test): 5 up and 0 down" in words(output)
    frame = pd.read_csv(out).set_index("area_id")
    robberies = sum(kit.SEASON.values())
    assert frame.loc["K00", ["count_now", "count_before"]].tolist() == [robberies + 90, robberies + 30]
    assert frame.loc["K11", ["count_now", "count_before"]].tolist() == [robberies, robberies]
    expected = rates.test_poisson_2indep(robberies + 90, 1.0, robberies + 30, 1.0, method="exact-cond").pvalue
    assert frame.loc["K00", "pvalue"] == pytest.approx(expected, rel=1e-9)
    assert frame.loc["K00", "pvalue_fdr"] <= 0.05 < frame.loc["K11", "pvalue_fdr"]
    assert summary_of(out).startswith("16 comparisons")


def test_change_by_district_of_thefts(main: kit.City) -> None:
    code, output = analyse(main, "change", "--year", "2025", "--level", "district", "--iccs", "0502")
    assert code == 0, output
    assert "2 comparisons" in words(output) and "1 up and 0 down" in words(output)


def test_rhythm_csv(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "rhythm.csv"
    code, output = analyse(main, "rhythm", "--out", out)
    assert code == 0, output
    assert f"of {len(main.incidents)} incidents: busiest bin Friday 22:00-23:00" in words(output)
    frame = pd.read_csv(out).set_index("day")
    assert frame.index.tolist() == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert frame.shape == (7, 24)
    assert frame.to_numpy().sum() == pytest.approx(len(main.incidents))
    half = sum((kit.robbery_count(a, m) + 1) // 2 for a in kit.IDS for m in kit.MONTHS)
    assert frame.loc["Friday", "22"] == half
    assert "busiest bin Friday 22:00-23:00" in summary_of(out)


def test_rhythm_of_the_two_hour_windows(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "burglary.csv"
    code, output = analyse(main, "rhythm", "--iccs", "0501", "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out).set_index("day")
    assert frame.loc["Saturday", ["10", "11"]].tolist() == pytest.approx([18.0, 18.0])
    assert frame.to_numpy().sum() == pytest.approx(36.0)


def test_emerging_gpkg(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "emerging.gpkg"
    code, output = analyse(main, "emerging", "--iccs", "04", "--out", out)
    assert code == 0, output
    assert "16 locations x 36 slices" in words(output) and "consecutive hot spot 3, no pattern 13" in words(output)
    frame = gpd.read_file(out, engine="pyogrio")
    assert len(frame) == 16 and frame.crs.to_epsg() == 32614 and frame.geometry.notna().all()
    categories = frame.set_index("area_id")["category"]
    assert set(categories[categories != "no pattern"].index) == {"K23", "K32", "K33"}
    assert set(categories[["K23", "K32", "K33"]]) == {"consecutive hot spot"}
    assert "consecutive hot spot 3" in summary_of(out)


def test_alerts_csv(outbreak: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "alerts.csv"
    code, output = analyse(outbreak, "alerts", "--out", out)
    assert code == 0, output
    assert "Early-warning baseline (negbin): 16 areas x 156 weeks" in words(output)
    frame = pd.read_csv(out, parse_dates=["week"])
    hit = frame[(frame["area_id"] == kit.OUTBREAK_AREA) & (frame["week"] == kit.OUTBREAK_WEEK)]
    assert len(hit) == 1 and len(frame) <= 5  # the outbreak, and at most what alpha allows (tests/test_spacetime.py)
    assert hit["observed"].iloc[0] >= kit.OUTBREAK_SIZE
    text = summary_of(out)
    assert "Early-warning alerts:" in text and f"{kit.OUTBREAK_AREA} week 2025-06-02" in text


def test_alerts_farrington_runs(outbreak: kit.City) -> None:
    code, output = analyse(outbreak, "alerts", "--method", "farrington")
    assert code == 0, output
    assert "Early-warning baseline (farrington)" in words(output)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("trend", "--by", "fortnight"), ("'by'", "fortnight")),
        (("emerging", "--by", "fortnight"), ("'by'", "fortnight")),
        (("alerts", "--method", "x"), ("'method'",)),
        (("alerts", "--min-history", "200"), ("more than 200 weeks", "lower min_history, or import more years")),
        (("rhythm", "--iccs", "99"), ("no incidents", "ICCS 99")),
    ],
)
def test_mistakes_are_one_line_errors(main: kit.City, args: tuple[str, ...], expected: tuple[str, ...]) -> None:
    code, output = analyse(main, *args)
    assert_one_line_error(code, output, *expected)


@pytest.mark.parametrize(
    "args",
    [("trend",), ("change", "--year", "2025"), ("emerging",), ("alerts",)],
    ids=["trend", "change", "emerging", "alerts"],
)
def test_no_incidents_for_the_selection_is_a_one_line_error(main: kit.City, args: tuple[str, ...]) -> None:
    code, output = analyse(main, *args, "--iccs", "99")
    assert_one_line_error(code, output, "no incidents")


def test_knox_writes_its_table(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "knox.csv"
    code, output = analyse(main, "knox", "--iccs", "0201", "--distances", "0,500,inf", "--days", "0,31,inf",
                           "--permutations", "19", "--out", out)  # fmt: skip
    assert code == 0, output
    table = pd.read_csv(out)
    assert len(table) == 4 and table["observed"].sum() > 0
    assert "Knox test" in out.with_suffix(".txt").read_text(encoding="utf-8")


def test_knox_bad_bands_are_one_line(main: kit.City) -> None:
    code, output = analyse(main, "knox", "--distances", "0,ten,inf")
    assert code == 2 and output.strip().startswith("error:") and "Traceback" not in output


def test_forecast_scores_places_and_writes_cells(main: kit.City, tmp_path: Path) -> None:
    out = tmp_path / "forecast.gpkg"
    code, output = analyse(main, "forecast", "--iccs", "0401", "--cell-size", "500", "--out", out)
    assert code == 0, output
    cells = gpd.read_file(out, engine="pyogrio")
    assert len(cells) > 0 and (cells["value"] >= 0).all() and cells["value"].sum() > 0
    summary = out.with_suffix(".txt").read_text(encoding="utf-8")
    assert "PAI" in summary and "last period's hotspots" in summary
