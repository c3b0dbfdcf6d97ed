"""Indicator values: the import (long, wide, messy), and formula values checked against independent computations.

The synthetic city gives the reference: its census, its true crimes (``truth.json``), the values written by
``sim/indicators.py`` and their truth. Formula values are recomputed with plain pandas from the incidents, and
their intervals compared with ``ws.rates`` (exact Poisson, ``stats/rates.py``) and statsmodels.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from safercities.audit.framework import load_framework
from safercities.audit.indicators import (
    MISSING_MARKERS,
    VALUE_COLUMNS,
    import_indicators,
    indicator_values,
    normalise_period,
    parse_numbers,
)
from safercities.errors import InputError
from safercities.sim import SimulatedCity, simulate
from safercities.sim.indicators import CENSUS, simulate_indicators
from safercities.workspace import Workspace, init

ICCS_ROBBERY = ("street_robbery", "business_robbery")  # the synthetic city's offences with ICCS 0401


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("sim-indicators"), seed=0)


@pytest.fixture(scope="module")
def sim_truth(city: SimulatedCity) -> dict[str, object]:
    return simulate_indicators(city)


@pytest.fixture(scope="module")
def ws(
    city: SimulatedCity, sim_truth: dict[str, object], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    meta = city.truth["workspace"]
    workspace = init(tmp_path_factory.mktemp("ws") / "ws", name="Ciudad", crs=meta["crs"], timezone=meta["timezone"])
    workspace.import_areas(
        city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
    )
    workspace.import_incidents(city.incidents, mapping=city.mapping)
    result = import_indicators(workspace, city.outdir / "indicators.csv")
    assert result.rejected == 0 and result.accepted == sim_truth["values"]
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def values(ws: Workspace) -> pd.DataFrame:
    return indicator_values(ws)


def _wide(values: pd.DataFrame, indicator_id: str) -> pd.DataFrame:
    return values[values["indicator_id"] == indicator_id].pivot(index="area_id", columns="period", values="value")


# -- the contract ------------------------------------------------------------------------------------------
def test_values_follow_the_long_contract_for_every_area_period_and_indicator(
    values: pd.DataFrame, ws: Workspace
) -> None:
    fw = load_framework()
    assert list(values.columns) == VALUE_COLUMNS
    communities = ws.areas("community")["area_id"]
    assert sorted(values["period"].unique()) == ["2023", "2024"]
    assert len(values) == len(communities) * 2 * len(fw.indicators)
    assert not values.duplicated(["area_id", "period", "indicator_id"]).any()
    units = {i.id: i.unit for i in fw.indicators}
    assert (values["unit"] == values["indicator_id"].map(units)).all()


def test_missing_values_stay_missing_never_zero(values: pd.DataFrame, sim_truth: dict[str, object]) -> None:
    missing = pd.DataFrame(sim_truth["missing"])
    community = missing[missing["area_id"].str.startswith("C")]
    assert len(community) > 20
    got = community.merge(values, on=["area_id", "period", "indicator_id"], how="left")
    assert got["value"].isna().all()
    # city-level indicators have no community values: NaN for every community, not zero
    city_level = [k for k, v in sim_truth["indicators"].items() if v["level"] == "city"]  # type: ignore[union-attr]
    assert values.loc[values["indicator_id"].isin(city_level), "value"].isna().all()


def test_periods_the_incidents_do_not_cover_give_nan_not_zero(ws: Workspace) -> None:
    for period in ("2022", "2025", "2022-11"):
        got = indicator_values(ws, period=period)
        robbery = got[got["indicator_id"] == "robbery_rate"]
        assert robbery["value"].isna().all(), period
    month = indicator_values(ws, period="2024-03")
    assert month.loc[month["indicator_id"] == "total_crime_rate", "value"].notna().all()


# -- imported values against the synthetic city's truth ---------------------------------------------------------
def test_census_indicators_are_the_census_covariates(values: pd.DataFrame, city: SimulatedCity) -> None:
    census = pd.read_csv(city.census, dtype={"area_id": str}).set_index("area_id")
    for indicator_id, covariate in CENSUS.items():
        table = _wide(values, indicator_id)
        for period in ("2023", "2024"):
            np.testing.assert_allclose(table[period], 100 * census.loc[table.index, covariate], rtol=1e-5)


def test_deprivation_driven_indicators_move_in_their_direction(
    values: pd.DataFrame, sim_truth: dict[str, object]
) -> None:
    depriv = pd.Series(sim_truth["deprivation"]["by_area"])  # type: ignore[index]
    fw = load_framework()
    checked = 0
    for indicator_id, rule in sim_truth["indicators"].items():  # type: ignore[union-attr]
        if rule["rule"] != "deprivation" or rule["loading"] < 0.6:
            continue
        table = _wide(values, indicator_id)["2023"].dropna()
        rho = table.corr(depriv.reindex(table.index), method="spearman")
        expected = 1 if fw.indicator(indicator_id).higher_is_worse else -1
        # loading >= 0.6 on 60 communities: |rho| below 0.2 happens with probability well under 1e-4
        assert expected * rho > 0.2, (indicator_id, rho)
        checked += 1
    assert checked >= 20


def test_the_dark_figure_is_what_the_true_crimes_say(values: pd.DataFrame, city: SimulatedCity) -> None:
    events = city.true_events()
    household = events[
        events["offence"].isin(
            ["201", "202", "203", "204", "301", "302", "401", "402", "501", "502", "503", "504", "701"]
        )
    ]
    household = household.assign(year=household["occurred"].str.slice(0, 4))
    share = household.groupby(["area_id", "year"])["recorded"].mean().unstack()
    truth = pd.DataFrame(json.loads(city.truth_path.read_text(encoding="utf-8"))["counts"])
    assert truth["recorded"].sum() == events["recorded"].sum()
    table = _wide(values, "dark_figure")
    # the survey estimate (120 respondents) scatters around the true share unreported: within 5 se, always
    se = np.sqrt(np.clip(table / 100 * (1 - table / 100), 1e-4, None) / 120) * 100
    gap = (table - 100 * (1 - share.reindex(table.index)[table.columns])).abs()
    assert (gap <= 5 * se + 1e-9).to_numpy().all()


# -- formula values against independent pandas computations ------------------------------------------------
@pytest.fixture(scope="module")
def incidents(ws: Workspace) -> pd.DataFrame:
    frame = ws.incidents()
    local = frame["occurred_from"].dt.tz_localize(None)
    return pd.DataFrame({"area_id": frame["area_id"], "iccs": frame["iccs_code"], "year": local.dt.year.astype(str)})


@pytest.fixture(scope="module")
def communities(city: SimulatedCity, ws: Workspace) -> pd.DataFrame:
    areas = gpd.read_file(city.areas).to_crs(ws.config.crs)
    areas = areas[areas["level"] == "community"].set_index("area_id").sort_index()
    return pd.DataFrame({"population": areas["population"].astype(float), "km2": areas.geometry.area / 1e6})


def _counts(incidents: pd.DataFrame, prefix: str | tuple[str, ...], index: pd.Index) -> pd.DataFrame:
    chosen = incidents[incidents["iccs"].str.startswith(prefix)]
    table = chosen.groupby(["area_id", "year"]).size().unstack(fill_value=0)
    return table.reindex(index=index, columns=["2023", "2024"], fill_value=0)


@pytest.mark.parametrize(
    ("indicator_id", "prefix"),
    [
        ("robbery_rate", "0401"),
        ("homicide_rate", "0101"),
        ("violent_crime_rate", ("01", "02", "03", "04")),
        ("property_crime_rate", "05"),
    ],
)
def test_rate_formulas_equal_a_pandas_computation(
    values: pd.DataFrame, incidents: pd.DataFrame, communities: pd.DataFrame, indicator_id: str, prefix: str
) -> None:
    counts = _counts(incidents, prefix, communities.index)
    expected = counts.div(communities["population"], axis=0) * 100_000
    got = _wide(values, indicator_id).reindex(index=expected.index)
    np.testing.assert_allclose(got[["2023", "2024"]], expected, rtol=1e-12)


def test_robbery_counts_over_the_two_years_are_the_truths_importable_robberies(
    values: pd.DataFrame, communities: pd.DataFrame, city: SimulatedCity
) -> None:
    truth = city.counts()
    robberies = truth[truth["offence"].isin(ICCS_ROBBERY)].groupby("area_id")["importable"].sum()
    rate = _wide(values, "robbery_rate")
    counts = rate.mul(communities["population"], axis=0) / 100_000
    np.testing.assert_allclose(counts.sum(axis=1).round(6), robberies.reindex(counts.index), rtol=1e-9)


def test_density_share_and_ratio_formulas_equal_a_pandas_computation(
    values: pd.DataFrame, incidents: pd.DataFrame, communities: pd.DataFrame, city: SimulatedCity
) -> None:
    everything = _counts(incidents, "", communities.index)
    density = _wide(values, "crime_density").reindex(communities.index)
    np.testing.assert_allclose(density, everything.div(communities["km2"], axis=0), rtol=1e-9)
    robbery = _counts(incidents, "04", communities.index)
    share = _wide(values, "violent_robbery_share").reindex(communities.index)
    np.testing.assert_allclose(share, 100 * robbery / everything, rtol=1e-12)
    file = pd.read_csv(city.outdir / "indicators.csv", dtype={"period": str})
    wide = file.pivot(index=["area_id", "period"], columns="indicator_id", values="value")
    ratio = (wide["youth_unemployment_rate"] / wide["unemployment_rate"]).rename("expected").reset_index()
    got = values[values["indicator_id"] == "youth_unemployment_ratio"].merge(ratio, on=["area_id", "period"])
    np.testing.assert_allclose(got["value"], got["expected"], rtol=1e-12)  # NaN where either is missing
    assert got["value"].isna().sum() == got["expected"].isna().sum()


def test_formula_intervals_are_those_of_ws_rates_and_of_statsmodels(ws: Workspace, tmp_path: Path) -> None:
    text = (Path(load_framework().path)).read_text(encoding="utf-8")
    text = text.replace(
        'formula: count(incidents, iccs="0401") / areas.population * 100000',
        'formula: count(incidents, iccs="04") / areas.population * 100000',
    )
    custom = tmp_path / "fw.yaml"
    custom.write_text(text, encoding="utf-8")
    got = indicator_values(ws, custom, period=["2023", "2024"])
    mine = got[got["indicator_id"] == "robbery_rate"].set_index(["area_id", "period"]).sort_index()
    rates = ws.rates(by="year")
    rates = rates[rates["iccs_section"] == "04"].assign(period=lambda f: f["period"].dt.year.astype(str))
    rates = rates.set_index(["area_id", "period"]).sort_index().reindex(mine.index)
    for column in ("rate", "lower", "upper"):
        np.testing.assert_allclose(mine["value" if column == "rate" else column], rates[column], rtol=1e-10)
    share = got[got["indicator_id"] == "violent_robbery_share"].set_index(["area_id", "period"]).sort_index()
    counts = ws.cube(by="year").assign(period=lambda f: f["period"].dt.year.astype(str))
    k = counts[counts["iccs_section"] == "04"].set_index(["area_id", "period"])["count"].reindex(share.index)
    n = counts.groupby(["area_id", "period"])["count"].sum().reindex(share.index)
    lower, upper = proportion_confint(k.to_numpy(), n.to_numpy(), alpha=0.05, method="beta")
    np.testing.assert_allclose(share["lower"], 100 * lower, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(share["upper"], 100 * upper, rtol=1e-8, atol=1e-10)


def test_survey_values_keep_their_interval_and_district_level_rolls_counts_up(
    ws: Workspace, values: pd.DataFrame
) -> None:
    fear = values[values["indicator_id"] == "feeling_safe_after_dark"].dropna(subset=["value"])
    assert (fear["lower"] <= fear["value"]).all() and (fear["value"] <= fear["upper"]).all()
    assert (fear["se"] > 0).all()
    districts = indicator_values(ws, period="2024", level="district")
    total = districts[districts["indicator_id"] == "total_crime_rate"].set_index("area_id")["value"]
    rates = ws.rates(by="year", level="district")
    rates = (
        rates[rates["period"].dt.year == 2024]
        .groupby("area_id")
        .agg(count=("count", "sum"), population=("population", "first"))
    )
    np.testing.assert_allclose(total.sort_index(), (rates["count"] / rates["population"] * 1e5).sort_index())
    assert districts.loc[districts["indicator_id"] == "poverty_rate", "value"].isna().all()  # imported by community


# -- the import: messy files --------------------------------------------------------------------------------
def test_a_messy_long_file_keeps_every_reject_with_row_column_and_reason(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    path.write_text(
        "area_id;period;indicator_id;value;unit\n"
        "C001;2030;trust_in_police;12,5;percent\n"  # row 2: decimal comma, accepted
        "C002;2030;no_such_indicator;3;\n"  # 3: unknown indicator
        "Z999;2030;trust_in_police;3;\n"  # 4: unknown area
        "C003;2030;trust_in_police;about ten;\n"  # 5: not a number
        "C004;2030;trust_in_police;1.234,5;\n"  # 6: thousands dot and decimal comma, accepted
        "C005;2030;trust_in_police;4;\n"  # 7: duplicate (with 8)
        "C005;2030;trust_in_police;5;\n"  # 8
        "C006;2030;robbery_rate;5;\n"  # 9: a formula indicator
        "C007;last year;trust_in_police;5;\n"  # 10: invalid period
        "C008;2030;trust_in_police;5;per_100k\n"  # 11: wrong unit
        "C009;2030;trust_in_police;NA;\n",  # 12: missing: neither stored nor rejected
        encoding="utf-8",
    )
    result = import_indicators(ws, path)
    assert (result.rows_read, result.accepted, result.rejected) == (11, 2, 8)
    rejects = ws.rejects(result.import_id).sort_values("row_number")
    assert list(rejects["row_number"]) == [3, 4, 5, 7, 8, 9, 10, 11]
    assert list(rejects["reason_code"]) == [
        "unknown_indicator",
        "unknown_area",
        "not_a_number",
        "duplicate",
        "duplicate",
        "formula_indicator",
        "invalid_period",
        "wrong_unit",
    ]
    assert list(rejects["column_name"]) == ["value"] * 8
    assert "first on row 7" in rejects["reason"].iloc[4]
    got = indicator_values(ws, period="2030")
    trust = got[got["indicator_id"] == "trust_in_police"].set_index("area_id")["value"]
    assert trust["C001"] == 12.5 and trust["C004"] == 1234.5
    assert np.isnan(trust["C005"]) and np.isnan(trust["C009"])


def test_a_wide_file_with_a_period_option_and_label_columns(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(
        'Area_ID,Nombre,poverty_rate,trust_in_police,colour\nC001,Uno,"30,5",n/d,red\nC002,Dos,-,40,\n',
        encoding="utf-8",
    )
    result = import_indicators(ws, path, period="2031", source="Censo 2030")
    assert (result.accepted, result.rejected) == (2, 1)
    reject = ws.rejects(result.import_id).iloc[0]
    assert (reject["row_number"], reject["column_name"], reject["reason_code"]) == (2, "colour", "unknown_indicator")
    got = indicator_values(ws, period="2031").set_index(["area_id", "indicator_id"])
    assert got.loc[("C001", "poverty_rate"), "value"] == 30.5
    assert got.loc[("C001", "poverty_rate"), "source"] == "Censo 2030"
    assert np.isnan(got.loc[("C002", "poverty_rate"), "value"]) and np.isnan(
        got.loc[("C001", "trust_in_police"), "value"]
    )


def test_a_failed_import_leaves_the_store_as_it_was_and_a_repeat_changes_nothing(
    ws: Workspace, city: SimulatedCity, tmp_path: Path
) -> None:
    before = (ws.store.count("indicator_values"), ws.store.count("imports"), ws.store.count("rejects"))
    path = tmp_path / "noarea.csv"
    path.write_text("zone,period,indicator_id,value\nC001,2024,poverty_rate,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'area_id'"):
        import_indicators(ws, path)
    with pytest.raises(InputError, match="period"):
        import_indicators(ws, path, area_column="zone", period="someday")
    assert (ws.store.count("indicator_values"), ws.store.count("imports"), ws.store.count("rejects")) == before
    again = import_indicators(ws, city.outdir / "indicators.csv")
    assert again.already_imported and ws.store.count("indicator_values") == before[0]


def test_a_later_file_supersedes_values_and_says_so(ws: Workspace, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("area_id,period,indicator_id,value\nC010,2032,trust_in_police,10\n", encoding="utf-8")
    second.write_text("area_id,period,indicator_id,value\nC010,2032,trust_in_police,20\n", encoding="utf-8")
    import_indicators(ws, first)
    result = import_indicators(ws, second)
    assert result.warnings and "supersede" in result.warnings[0]
    got = indicator_values(ws, period="2032").set_index(["area_id", "indicator_id"])
    assert got.loc[("C010", "trust_in_police"), "value"] == 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,5", 12.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1 234,5", 1234.5),
        ("1.234.567", 1234567.0),
        ("1,234,567", 1234567.0),
        ("-3.5", -3.5),
        ("45 %", 45.0),
        ("2e3", 2000.0),
        (".5", 0.5),
    ],
)
def test_numbers_are_read_as_people_write_them(text: str, expected: float) -> None:
    values, ok = parse_numbers(pd.Series([text]))
    assert ok[0] and values[0] == expected


@pytest.mark.parametrize("text", ["ten", "1,2,3.4.5", "inf", "1..2", "--3", "12a", "", "1e999"])
def test_text_that_is_not_a_number_is_refused(text: str) -> None:
    assert not parse_numbers(pd.Series([text]))[1][0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", "2024"),
        ("2024.0", "2024"),
        ("2024q1", "2024-Q1"),
        ("2024-Q4", "2024-Q4"),
        ("2024/3", "2024-03"),
        ("2024-13", None),
        ("24", None),
        ("2024-01-01", None),
    ],
)
def test_periods_are_normalised(text: str, expected: str | None) -> None:
    assert normalise_period(text) == expected


# -- property test on messy wide and long files -----------------------------------------------------------------
AREAS = [f"C{i:03d}" for i in range(1, 11)]
IMPORTED = ["poverty_rate", "trust_in_police", "school_dropout_rate", "voter_turnout"]

cell_kind = st.sampled_from(["dot", "comma", "missing", "junk"])
junk = st.text(string.ascii_letters, min_size=1, max_size=5).filter(lambda t: t.lower() not in MISSING_MARKERS)


@st.composite
def messy_table(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[tuple[str, str], float], int, bool]:
    """A wide table: rows of areas (some unknown, some repeated) x indicator columns (one unknown)."""
    areas = draw(st.lists(st.sampled_from([*AREAS, "ZZ1"]), min_size=1, max_size=8))
    columns = draw(st.lists(st.sampled_from([*IMPORTED, "unknown_x"]), min_size=1, max_size=4, unique=True))
    valid: dict[tuple[str, str], list[float]] = {}
    cells: dict[str, list[str]] = {c: [] for c in columns}
    rejected = 0
    for area in areas:
        for column in columns:
            kind = draw(cell_kind)
            number = draw(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False).map(lambda v: round(v, 2)))
            text = {
                "dot": f"{number:.2f}",
                "comma": f"{number:.2f}".replace(".", ","),
                "missing": "NA",
                "junk": draw(junk),
            }[kind]
            cells[column].append(text)
            if kind == "missing":
                continue
            if area == "ZZ1" or column == "unknown_x" or kind == "junk":
                rejected += 1
            else:
                valid.setdefault((area, column), []).append(number)
    # an (area, indicator) given twice among the otherwise valid cells is rejected on each of its rows
    expected = {key: numbers[0] for key, numbers in valid.items() if len(numbers) == 1}
    rejected += sum(len(numbers) for numbers in valid.values() if len(numbers) > 1)
    table = pd.DataFrame({"area_id": areas, **cells})
    long = draw(st.booleans())
    return table, expected, rejected, long


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=messy_table())
def test_messy_files_keep_every_good_value_and_reject_each_bad_cell_once(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory, case: tuple[pd.DataFrame, dict, int, bool]
) -> None:
    table, expected, n_rejected, long = case
    folder = tmp_path_factory.mktemp("prop")
    path = folder / "values.csv"
    if long:
        melted = table.reset_index(names="row").melt(id_vars=["row", "area_id"], var_name="indicator_id")
        melted.sort_values(["row", "indicator_id"]).drop(columns="row").to_csv(path, index=False, sep=";")
    else:
        table.to_csv(path, index=False, sep=";")
    period = "2040"
    result = import_indicators(ws, path, period=period, replace=True, layout="long" if long else "wide")
    non_missing = int((table.drop(columns="area_id") != "NA").to_numpy().sum())
    assert result.accepted + result.rejected == non_missing
    assert (result.accepted, result.rejected) == (len(expected), n_rejected)
    stored = ws.store.read("indicator_values", "import_id = ?", [result.import_id])
    got = {(a, i): v for a, i, v in zip(stored["area_id"], stored["indicator_id"], stored["value"], strict=True)}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9)
    rejects = ws.rejects(result.import_id)
    assert rejects["row_number"].between(2, len(table) + 1).all() if not long else (rejects["row_number"] >= 2).all()
    assert set(rejects["reason_code"]) <= {"unknown_area", "unknown_indicator", "not_a_number", "duplicate"}


def test_public_values_withhold_those_resting_on_small_counts(
    ws: Workspace, values: pd.DataFrame, incidents: pd.DataFrame, communities: pd.DataFrame
) -> None:
    public = indicator_values(ws, period=["2023", "2024"], public=True)
    min_count = ws.config.disclosure.min_count
    counts = _counts(incidents, "0101", communities.index).stack().rename("count").reset_index()
    counts.columns = ["area_id", "period", "count"]
    mine = public[public["indicator_id"] == "homicide_rate"].merge(counts, on=["area_id", "period"])
    small = mine["count"].between(1, min_count - 1)
    assert small.any() and (~small).any()
    assert mine.loc[small, "value"].isna().all() and mine.loc[small, "upper"].isna().all()
    assert mine.loc[small, "source"].str.startswith("withheld").all()
    analyst = values[values["indicator_id"] == "homicide_rate"].merge(counts, on=["area_id", "period"])
    np.testing.assert_allclose(mine.loc[~small, "value"], analyst.loc[~small, "value"])
    imported = public[public["indicator_id"] == "poverty_rate"]["value"]
    np.testing.assert_allclose(imported, values[values["indicator_id"] == "poverty_rate"]["value"])
