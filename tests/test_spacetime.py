"""The space-time service functions of safercities.spacetime on cities whose every count is known by construction.

The cities (tests/spacetimekit.py): a 4 x 4 lattice of communities in two districts, America/Mexico_City time,
2023-2025; robberies with a planted monthly season (peak July), a planted weekly rhythm (Friday 22h) and a block
of four communities that turns hot in October-December 2025; thefts tripled in 2025 in one community; burglaries
known only within a two-hour window; assaults at 23:30 local on the last day of every month (the next month in
UTC); and a second city of seasonal Poisson weekly counts with one planted outbreak week. Expected values come
from the construction or from statsmodels, scipy and esda run here, never from our own output.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats
from statsmodels.stats import rates
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.seasonal import STL

sys.path.insert(0, str(Path(__file__).resolve().parent))

import analysiskit as ak  # noqa: E402
import spacetimekit as kit  # noqa: E402
from safercities import spacetime as st  # noqa: E402
from safercities.analysis import ALL, Selection  # noqa: E402
from safercities.errors import InputError  # noqa: E402
from safercities.workspace import Workspace, open_workspace  # noqa: E402

ROBBERY = Selection(iccs="04")
FREQ = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


@pytest.fixture(scope="module")
def main(tmp_path_factory: pytest.TempPathFactory) -> kit.City:
    return kit.build_main(tmp_path_factory.mktemp("spacetime_main"))


@pytest.fixture(scope="module")
def ws(main: kit.City) -> Iterator[Workspace]:
    with open_workspace(main.root, read_only=True) as workspace:
        yield workspace


@pytest.fixture(scope="module")
def outbreak(tmp_path_factory: pytest.TempPathFactory) -> kit.City:
    return kit.build_outbreak(tmp_path_factory.mktemp("spacetime_outbreak"))


@pytest.fixture(scope="module")
def ows(outbreak: kit.City) -> Iterator[Workspace]:
    with open_workspace(outbreak.root, read_only=True) as workspace:
        yield workspace


def expected_counts(
    incidents: pd.DataFrame,
    by: str = "month",
    iccs: str = "",
    start: str | None = None,
    end: str | None = None,
    level: str = "community",
) -> pd.DataFrame:
    """Areas x local periods with pandas, zeros included, periods from the data's (or the window's) first to last."""
    freq = FREQ[by]
    keep = incidents["iccs"].str.startswith(iccs)
    if start is not None:
        keep &= incidents["start"] >= pd.Timestamp(start)
    if end is not None:
        keep &= incidents["start"] < pd.Timestamp(end)
    first = pd.Timestamp(start) if start else incidents["start"].min()
    last = pd.Timestamp(end) - pd.Timedelta(seconds=1) if end else incidents["start"].max()
    periods = pd.period_range(first.to_period(freq), last.to_period(freq), freq=freq)
    chosen = incidents.loc[keep]
    areas = chosen["area_id"] if level == "community" else chosen["area_id"].map(kit.DISTRICT)
    ids = kit.IDS if level == "community" else ["D1", "D2"]
    table = (
        pd.crosstab(areas, chosen["start"].dt.to_period(freq))
        .reindex(index=ids, columns=periods, fill_value=0)
        .astype(np.int64)
    )
    table.columns = periods.start_time
    return table


def as_expected(got: pd.DataFrame) -> pd.DataFrame:
    frame = got.astype(np.int64)
    frame.columns = pd.DatetimeIndex(frame.columns).as_unit("ns")
    frame.columns.name, frame.index.name = None, None
    return frame


def assert_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    expected = expected.copy()
    expected.columns = pd.DatetimeIndex(expected.columns).as_unit("ns")
    expected.columns.name, expected.index.name = None, None
    pd.testing.assert_frame_equal(as_expected(got), expected, check_freq=False)


# -- counts_by_period -------------------------------------------------------------------------------------------
def test_monthly_robberies_equal_the_construction(ws: Workspace) -> None:
    got = st.counts_by_period(ws, "month", selection=ROBBERY)
    assert list(got.index) == kit.IDS
    assert list(got.columns) == list(kit.MONTHS.start_time)
    for area in kit.IDS:
        planted = [kit.robbery_count(area, month) for month in kit.MONTHS]
        assert got.loc[area].tolist() == planted, area
    assert got.loc["K33", pd.Timestamp("2025-11-01")] == 8 + 20 and got.loc["K00", pd.Timestamp("2025-11-01")] == 8


def test_all_offences_by_month_equal_pandas(ws: Workspace, main: kit.City) -> None:
    got = st.counts_by_period(ws)
    assert_table(got, expected_counts(main.incidents))
    assert int(got.to_numpy().sum()) == len(main.incidents)


def test_an_incident_at_2330_on_the_last_day_counts_in_its_local_month(ws: Workspace, main: kit.City) -> None:
    assaults = main.incidents[main.incidents["iccs"] == "0201"]
    utc = pd.DatetimeIndex(assaults["start"]).tz_localize(kit.ZONE).tz_convert("UTC")
    assert (utc.month != pd.DatetimeIndex(assaults["start"]).month).all()  # every one is next month in UTC
    got = st.counts_by_period(ws, "month", selection=Selection(iccs="02"))
    assert got.shape == (16, 36)
    assert (got.loc[kit.ASSAULT_AREA] == 1).all()
    assert int(got.drop(index=kit.ASSAULT_AREA).to_numpy().sum()) == 0
    # the local-date window: the assault of 31 January 23:30 is in January, that of 28 February in February
    february = st.counts_by_period(ws, "month", selection=Selection("02", "2023-02-01", "2023-03-01"))
    assert list(february.columns) == [pd.Timestamp("2023-02-01")]
    assert february.loc[kit.ASSAULT_AREA].tolist() == [1]


@pytest.mark.parametrize("by", ["week", "quarter", "year"])
def test_other_periods_equal_pandas(ws: Workspace, main: kit.City, by: str) -> None:
    assert_table(st.counts_by_period(ws, by), expected_counts(main.incidents, by))


def test_weeks_start_on_monday(ws: Workspace, main: kit.City) -> None:
    weeks = pd.DatetimeIndex(st.counts_by_period(ws, "week").columns)
    first = main.incidents["start"].min().normalize()
    assert (weeks.day_of_week == 0).all() and ((weeks[1:] - weeks[:-1]) == pd.Timedelta(days=7)).all()
    assert weeks[0] == first - pd.Timedelta(days=first.day_of_week)
    monday = st.counts_by_period(ws, "week", selection=Selection(start="2023-01-01", end="2023-01-16"))
    assert list(monday.columns) == [pd.Timestamp("2022-12-26"), pd.Timestamp("2023-01-02"), pd.Timestamp("2023-01-09")]


def test_districts_sum_their_communities(ws: Workspace, main: kit.City) -> None:
    got = st.counts_by_period(ws, "quarter", level="district", selection=Selection(iccs="05"))
    assert list(got.index) == ["D1", "D2"]
    assert_table(got, expected_counts(main.incidents, "quarter", iccs="05", level="district"))
    # thefts (K00) and burglaries (K01) are all in district D1
    assert int(got.loc["D2"].sum()) == 0 and int(got.loc["D1"].sum()) == sum(kit.THEFT.values()) + 36


def test_selection_by_iccs_prefix_and_local_window(ws: Workspace, main: kit.City) -> None:
    window = Selection("0401", "2024-03-01", "2024-06-01")
    got = st.counts_by_period(ws, "month", selection=window)
    assert list(got.columns) == list(pd.date_range("2024-03-01", periods=3, freq="MS"))
    assert (got.to_numpy() == np.array([kit.SEASON[m] for m in (3, 4, 5)])[None, :]).all()
    assert_table(got, expected_counts(main.incidents, iccs="0401", start="2024-03-01", end="2024-06-01"))


def test_unknown_period_is_an_input_error(ws: Workspace) -> None:
    with pytest.raises(InputError, match="fortnight"):
        st.counts_by_period(ws, "fortnight")


@pytest.mark.parametrize(
    "selection",
    [
        Selection(iccs="99"),
        Selection(start="2030-01-01", end="2030-02-01"),
        Selection("0201", "2024-02-01", "2024-02-28"),
    ],
    ids=["iccs-99", "window-2030", "no-assault-in-window"],
)
def test_nothing_selected_is_an_input_error(ws: Workspace, selection: Selection) -> None:
    with pytest.raises(InputError, match="no incidents"):
        st.counts_by_period(ws, "month", selection=selection)


# -- trend -----------------------------------------------------------------------------------------------------
def stl(values: np.ndarray, period: int) -> object:
    """statsmodels' STL with decompose's settings: robust, seasonal "periodic" (window 10 n + 1, degree 0)."""
    return STL(values, period=period, seasonal=10 * len(values) + 1, seasonal_deg=0, robust=True).fit()


def test_trend_equals_statsmodels_stl_and_finds_the_july_peak(ws: Workspace, main: kit.City) -> None:
    series = expected_counts(main.incidents).sum(axis=0).astype(float)
    assert len(series) == 36
    result = st.trend(ws)
    np.testing.assert_array_equal(result.observed, series.to_numpy())
    assert list(result.index) == list(series.index)
    fit = stl(series.to_numpy(), 12)
    np.testing.assert_allclose(result.trend, fit.trend, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.seasonal, fit.seasonal, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.remainder, fit.resid, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.robust_weights, fit.weights, rtol=0, atol=1e-12)
    # the planted season peaks in July and bottoms out in December-February (6 robberies per community)
    by_month = pd.Series(np.asarray(fit.seasonal), index=series.index.month).groupby(level=0).mean()
    assert by_month.idxmax() == 7 and by_month.idxmin() in (1, 2, 12)
    assert result.seasonal_profile().idxmax() == "Jul"
    assert "peak at Jul" in result.summary()


def test_trend_of_robberies_is_the_planted_season(ws: Workspace) -> None:
    result = st.trend(ws, ROBBERY)
    planted = [sum(kit.robbery_count(a, m) for a in kit.IDS) for m in kit.MONTHS]
    np.testing.assert_array_equal(result.observed, planted)
    fit = stl(np.asarray(planted, dtype=float), 12)
    np.testing.assert_allclose(result.seasonal, fit.seasonal, rtol=0, atol=1e-9)
    assert result.seasonal_profile().idxmax() == "Jul"


def test_trend_by_week_equals_statsmodels_stl(ws: Workspace, main: kit.City) -> None:
    series = expected_counts(main.incidents, "week").sum(axis=0).astype(float)
    result = st.trend(ws, by="week")
    assert result.period == 52 and result.frequency == "week"
    np.testing.assert_array_equal(result.observed, series.to_numpy())
    fit = stl(series.to_numpy(), 52)
    np.testing.assert_allclose(result.trend, fit.trend, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.seasonal, fit.seasonal, rtol=0, atol=1e-9)


def test_trend_by_quarter_is_an_input_error(ws: Workspace) -> None:
    with pytest.raises(InputError, match="'by'"):
        st.trend(ws, by="quarter")


# -- change ----------------------------------------------------------------------------------------------------
def yearly(incidents: pd.DataFrame, year: int, iccs: str = "") -> pd.Series:
    keep = (incidents["start"].dt.year == year) & incidents["iccs"].str.startswith(iccs)
    return incidents.loc[keep].groupby("area_id").size().reindex(kit.IDS, fill_value=0)


def test_change_counts_pvalues_and_fdr_equal_statsmodels(ws: Workspace, main: kit.City) -> None:
    result = st.change(ws, 2025)
    now, before = yearly(main.incidents, 2025), yearly(main.incidents, 2024)
    assert list(result.labels) == kit.IDS
    np.testing.assert_array_equal(result.count_now, now.to_numpy())
    np.testing.assert_array_equal(result.count_before, before.to_numpy())
    # by construction: 124 robberies a year everywhere, +60 in the hot block in late 2025, thefts 30 -> 90 in K00,
    # 12 burglaries in K01 and 12 assaults in K10 each year
    robberies = sum(kit.SEASON.values())
    assert (now["K00"], before["K00"]) == (robberies + 90, robberies + 30)
    assert (now["K33"], before["K33"]) == (robberies + 60, robberies)
    assert (now["K11"], before["K11"]) == (robberies, robberies)
    expected_p = [
        rates.test_poisson_2indep(int(k1), 1.0, int(k0), 1.0, method="exact-cond").pvalue
        for k1, k0 in zip(now, before, strict=True)
    ]
    np.testing.assert_allclose(result.pvalue, expected_p, rtol=1e-9, atol=0)
    np.testing.assert_allclose(result.pvalue_fdr, multipletests(expected_p, method="fdr_bh")[1], rtol=1e-9)
    # Clopper-Pearson for the share of 2025 in both years, mapped to the ratio p / (1 - p)
    for i in (0, 10, 15):
        ci = stats.binomtest(int(now.iloc[i]), int(now.iloc[i] + before.iloc[i])).proportion_ci(0.95, "exact")
        assert result.lower[i] == pytest.approx(ci.low / (1 - ci.low), rel=1e-9)
        assert result.upper[i] == pytest.approx(ci.high / (1 - ci.high), rel=1e-9)
    frame = result.to_frame()
    assert frame.loc["K00", "ratio"] == pytest.approx((robberies + 90) / (robberies + 30), rel=1e-12)
    sig = pd.Series(result.significant(0.05), index=result.labels)
    assert sig["K00"] and sig[list(kit.HOT)].all()
    assert not sig["K11"] and frame.loc["K11", "ratio"] == 1.0 and frame.loc["K11", "pvalue"] == pytest.approx(1.0)
    assert int(sig.sum()) == 5


def test_change_of_thefts_by_district(ws: Workspace) -> None:
    result = st.change(ws, 2025, "district", Selection(iccs="0502"))
    assert list(result.labels) == ["D1", "D2"]
    assert result.count_now.tolist() == [90, 0] and result.count_before.tolist() == [30, 0]
    assert result.pvalue[0] == pytest.approx(stats.binomtest(90, 120, 0.5).pvalue, rel=1e-9)
    assert np.isnan(result.pvalue[1])  # nothing in either year: not tested


def test_change_against_a_year_without_data_is_an_input_error(ws: Workspace) -> None:
    with pytest.raises(InputError):
        st.change(ws, 2023)


# -- weekly rhythm ---------------------------------------------------------------------------------------------
def planted_rhythm(incidents: pd.DataFrame) -> np.ndarray:
    """Day x hour by construction: a moment counts 1 in its hour; a two-hour window (burglaries) half in each."""
    table = np.zeros((7, 24))
    moments = incidents[incidents["start"] == incidents["end"]]
    np.add.at(table, (moments["start"].dt.day_of_week.to_numpy(), moments["start"].dt.hour.to_numpy()), 1.0)
    windows = incidents[incidents["start"] != incidents["end"]]
    assert ((windows["end"] - windows["start"]) == pd.Timedelta(hours=2)).all()
    assert (windows["start"].dt.minute == 0).all()
    for offset in (0, 1):
        hours = windows["start"] + pd.Timedelta(hours=offset)
        np.add.at(table, (hours.dt.day_of_week.to_numpy(), hours.dt.hour.to_numpy()), 0.5)
    return table


def test_weekly_rhythm_busiest_bin_and_total(ws: Workspace, main: kit.City) -> None:
    result = st.weekly_rhythm(ws)
    np.testing.assert_allclose(result.weights, planted_rhythm(main.incidents), rtol=0, atol=1e-9)
    assert result.weights.sum() == pytest.approx(len(main.incidents), abs=1e-6)
    assert np.unravel_index(np.argmax(result.weights), (7, 24)) == (4, 22)  # Friday 22:00-23:00, local time
    robberies = sum(kit.robbery_count(a, m) for a in kit.IDS for m in kit.MONTHS)
    half = sum((kit.robbery_count(a, m) + 1) // 2 for a in kit.IDS for m in kit.MONTHS)  # even-numbered ones
    assert result.weights[4, 22] == half and half > robberies / 2 - 1
    assert result.n_incidents == len(main.incidents) and result.n_windows == 36
    assert "busiest bin Friday 22:00-23:00" in result.summary()
    assert result.to_frame().loc["Friday", 22] == half


def test_a_two_hour_window_splits_half_and_half(ws: Workspace) -> None:
    result = st.weekly_rhythm(ws, Selection(iccs="0501"))
    assert result.weights[5, 10] == pytest.approx(18.0) and result.weights[5, 11] == pytest.approx(18.0)
    assert result.weights.sum() == pytest.approx(36.0)
    assert np.count_nonzero(result.weights) == 2


def test_weekly_rhythm_of_a_window(ws: Workspace, main: kit.City) -> None:
    chosen = main.incidents[(main.incidents["start"] >= "2025-01-01") & main.incidents["iccs"].str.startswith("04")]
    result = st.weekly_rhythm(ws, Selection("04", "2025-01-01", None))
    np.testing.assert_allclose(result.weights, planted_rhythm(chosen), atol=1e-9)


def test_weekly_rhythm_of_nothing_is_an_input_error(ws: Workspace) -> None:
    with pytest.raises(InputError, match="no incidents"):
        st.weekly_rhythm(ws, Selection(iccs="99"))


# -- emerging hot spots ----------------------------------------------------------------------------------------
def test_emerging_finds_the_late_hot_block_as_consecutive(ws: Workspace) -> None:
    """The block K22, K23, K32, K33 has 20 more robberies than everyone else in the last 3 of 36 months.

    Every other month all 16 communities have the same count, so Gi* is 0 everywhere (no spot). In each of the
    last three months the Gi* z does not depend on the 20: with a fraction 1/4 of the areas at h and 3/4 at mu,
    K33 (a corner: itself and 3 neighbours, all hot) has z = 3 / sqrt(0.1875 * 3.2) = 3.87 (p = 1.1e-4), K23
    and K32 (edges: 4 hot of 6) z = 2.5 / sqrt(0.1875 * 4) = 2.89 (p = 0.0039) and K22 (interior: 4 hot of 9)
    z = 1.75 / sqrt(0.1875 * 4.2) = 1.97 (p = 0.049); Benjamini-Hochberg over 16 keeps the first three (0.0039
    x 16 / 3 = 0.021) and not K22 (0.049 x 16 / 4 = 0.19). K23, K32 and K33 are hot in the last 3 slices only:
    rule 6, "consecutive hot spot" (final slice hot, the final run of 3 equals H = 3 >= 2, 3 of 36 < 90% so
    not rules 1-3, never cold so not rule 4, H != 1 so not rule 5). Nobody else is ever significant: rule 17.
    """
    result = st.emerging(ws, ROBBERY).result
    frame = result.to_frame().set_index("id")
    consecutive = {"K23", "K32", "K33"}
    for area in kit.IDS:
        expected = "consecutive hot spot" if area in consecutive else "no pattern"
        assert frame.loc[area, "category"] == expected, (area, result.explain(area))
    assert (frame.loc[sorted(consecutive), "n_hot"] == 3).all() and int(frame["n_cold"].sum()) == 0
    z = pd.DataFrame(result.z, index=list(result.ids))
    np.testing.assert_allclose(z.iloc[:, :33].to_numpy(), 0.0, atol=1e-12)
    last = z.iloc[:, -1]
    assert last["K33"] == pytest.approx(3 / np.sqrt(0.6), rel=1e-12)
    assert last["K23"] == pytest.approx(2.5 / np.sqrt(0.75), rel=1e-12)
    assert last["K22"] == pytest.approx(1.75 / np.sqrt(0.1875 * 4.2), rel=1e-12)
    # and the whole slice equals esda's G_Local (star, binary weights) on queen contiguity
    import esda
    from libpysal.weights import Queen

    counts = np.array([kit.robbery_count(a, pd.Period("2025-12", "M")) for a in kit.IDS], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = Queen.from_dataframe(ak.communities(plain=True), ids=kit.IDS, use_index=False)
        reference = esda.G_Local(counts, w, transform="B", permutations=0, star=True)
    np.testing.assert_allclose(last.loc[kit.IDS].to_numpy(), reference.Zs, rtol=0, atol=1e-10)


@pytest.mark.parametrize(
    ("end", "category", "hot"),
    [("2025-11-01", "new hot spot", 1), ("2025-12-01", "consecutive hot spot", 2)],
)
def test_emerging_new_then_consecutive(ws: Workspace, end: str, category: str, hot: int) -> None:
    """Cut after October 2025 the block is hot in the final slice only (rule 5, H = 1: new); after November in
    the final two (rule 6: consecutive)."""
    frame = st.emerging(ws, Selection("04", None, end)).result.to_frame().set_index("id")
    for area in ("K23", "K32", "K33"):
        assert frame.loc[area, "category"] == category and frame.loc[area, "n_hot"] == hot
    assert set(frame.drop(index=["K23", "K32", "K33"])["category"]) == {"no pattern"}


def test_emerging_geodataframe_has_one_row_per_area_with_its_geometry(ws: Workspace) -> None:
    emerging = st.emerging(ws, ROBBERY)
    frame = emerging.to_geodataframe()
    assert len(frame) == 16 and frame["area_id"].tolist() == kit.IDS
    assert frame.geometry.name == "geometry" and frame.crs.to_epsg() == 32614
    squares = {ak.area_id(c): ak.square(c) for c in ak.LATTICE}
    for row in frame.itertuples():
        assert shapely.equals(row.geometry.normalize(), squares[row.area_id].normalize()), row.area_id
    assert frame.set_index("area_id").loc["K33", "category"] == "consecutive hot spot"
    assert "consecutive hot spot 3" in emerging.summary()


# -- early warning ---------------------------------------------------------------------------------------------
def weekly(incidents: pd.DataFrame, iccs: str = "") -> pd.DataFrame:
    return expected_counts(incidents, "week", iccs=iccs)


def test_early_warning_alerts_the_planted_outbreak_week(ows: Workspace, outbreak: kit.City) -> None:
    result = st.early_warning(ows)
    counts = weekly(outbreak.incidents)
    assert list(counts.columns) == list(kit.WEEKS)
    np.testing.assert_array_equal(result.baseline.observed, counts.to_numpy(float))
    alerts = result.alerts.to_frame()
    hit = alerts[(alerts["area_id"] == kit.OUTBREAK_AREA) & (alerts["week"] == kit.OUTBREAK_WEEK)]
    assert len(hit) == 1
    assert hit["observed"].iloc[0] == counts.loc[kit.OUTBREAK_AREA, kit.OUTBREAK_WEEK]
    assert alerts["p_value"].idxmin() == hit.index[0]
    assert len(alerts) <= 1 + 4  # besides the outbreak, what alpha allows (see the outbreak-free test)
    assert "Early-warning alerts" in result.summary()


def test_no_alert_without_the_outbreak(ows: Workspace, outbreak: kit.City) -> None:
    """The same seasonal Poisson city without the outbreak (ICCS 0101 only).

    BH at 0.01 across the 16 areas of each week keeps the chance of any alert in a week near 0.01 when nothing
    happens; the 100 tested weeks gave 0.59 false alarms on average over 1,000 seeds of this city (the same
    baseline and alerts run on the stats layer, seeds 0-999): more than 4 in 1 seed of 1,000 (more than 3 in 4).
    So this bound of 4 fails for about 1 seed in 1,000; with this seed there are none.
    """
    result = st.early_warning(ows, Selection(iccs="0101"))
    np.testing.assert_array_equal(result.baseline.observed, weekly(outbreak.incidents, "0101").to_numpy(float))
    assert result.alerts.n_alerts <= 4
    assert int(np.isfinite(result.alerts.pvalue).sum()) == 16 * (156 - 56)  # 52 weeks of history + a 4-week gap


@pytest.mark.parametrize(
    ("selection", "min_history"),
    [(ALL, 156), (Selection(start="2025-01-01"), 52)],
    ids=["min-history-156", "one-year"],
)
def test_too_little_history_is_an_input_error_with_advice(
    ows: Workspace, selection: Selection, min_history: int
) -> None:
    with pytest.raises(InputError, match="lower min_history, or import more years") as info:
        st.early_warning(ows, selection, min_history=min_history)
    assert info.value.hint == "lower min_history, or import more years"
    assert f"more than {min_history} weeks" in str(info.value)


def test_unknown_baseline_method_is_an_input_error(ows: Workspace) -> None:
    with pytest.raises(InputError, match="method"):
        st.early_warning(ows, method="x")


def test_near_repeats_counts_pairs_as_brute_force_does(ws: Workspace) -> None:
    """The Knox table of burglaries equals an O(n^2) count of pairs by distance and local-day gap."""
    from safercities.analysis import Selection as Sel

    result = st.near_repeats(
        ws, Sel(iccs="0201"), distance_bands=(0.0, 500.0, 1500.0), time_bands=(0.0, 31.0, 400.0), permutations=19
    )
    incidents = ws.incidents()
    incidents = incidents[incidents["iccs_code"].str.startswith("0201")]
    xy = incidents[["x", "y"]].to_numpy()
    day = incidents["occurred_from"].dt.tz_localize(None).dt.normalize()
    day = ((day - day.min()) / pd.Timedelta(days=1)).to_numpy()
    i, j = np.triu_indices(len(xy), k=1)
    distance = np.hypot(*(xy[i] - xy[j]).T)
    gap = np.abs(day[i] - day[j])
    expected = np.histogram2d(distance, gap, bins=[[0.0, 500.0, 1500.0], [0.0, 31.0, 400.0]])[0]
    # histogram2d closes the last bin on the right; our bands are half-open: drop pairs on the outer edges
    on_edge = (distance == 1500.0) | (gap == 400.0)
    expected -= np.histogram2d(distance[on_edge], gap[on_edge], bins=[[0.0, 500.0, 1500.0], [0.0, 31.0, 400.0]])[0]
    np.testing.assert_array_equal(result.observed, expected.astype(int))
