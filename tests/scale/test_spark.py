"""The cube and the formula indicators on Spark (local mode) equal the workspace's, across clock changes.

The reference is the workspace itself: ``ws.cube`` (DuckDB SQL) and ``audit.indicators.indicator_values``
(pandas over the store), computed by other code on the same incidents. Skips, saying why, without Java.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scalekit import ScaleCity

from safercities.audit.indicators import indicator_values
from safercities.errors import InputError

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[test]')")

from safercities.scale.spark import (  # noqa: E402 - after the skip
    java_missing,
    local_session,
    spark_cube,
    spark_indicator,
    spark_indicator_values,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),  # py4j's sockets, closed when the JVM stops
]

INCIDENT_INDICATORS = [
    "homicide_rate",
    "robbery_rate",
    "burglary_rate",
    "violent_crime_rate",
    "property_crime_rate",
    "total_crime_rate",
    "crime_density",
    "violent_robbery_share",
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    reason = java_missing()
    if reason:
        pytest.skip(f"Spark cannot run here: {reason}")
    session = local_session(cores=2, shuffle_partitions=2, driver_memory="1g", app_name="safercities-tests")
    yield session
    session.stop()


@pytest.mark.parametrize("by", ["month", "week", "year"])
@pytest.mark.parametrize("level", ["community", "district"])
def test_spark_cube_equals_the_workspace_cube(spark: Any, scale_city: ScaleCity, by: str, level: str) -> None:
    want = scale_city.ws.cube(by=by, level=level)
    got = spark_cube(spark, scale_city.export, by=by, level=level)
    pd.testing.assert_frame_equal(got, want)
    assert (want["count"] > 0).any()
    if by != "year":
        assert (want["count"] == 0).any(), "the zeros of empty cells are part of the comparison"


def test_spark_cube_follows_the_clock_changes(spark: Any, scale_city: ScaleCity) -> None:
    """The weeks around the three clock changes of 2021-2022: a fixed offset gives other counts."""
    want = scale_city.ws.cube(by="week", level="community")
    fixed = spark_cube(spark, scale_city.export, by="week", level="community", timezone="Etc/GMT+6")
    assert int(fixed["count"].sum()) == int(want["count"].sum())
    assert (fixed["count"].to_numpy() != want["count"].to_numpy()).sum() > 10
    clock_changes = pd.to_datetime(["2021-10-25", "2022-03-28", "2022-10-24"])  # the Mondays of those weeks
    assert want["period"].isin(clock_changes).sum() == 3 * 60 * want["iccs_section"].nunique()


def test_spark_cube_defaults_to_the_finest_level_and_the_city_clock(spark: Any, scale_city: ScaleCity) -> None:
    pd.testing.assert_frame_equal(spark_cube(spark, scale_city.export), scale_city.ws.cube())


@pytest.mark.parametrize("level", ["community", "district"])
def test_spark_indicators_equal_the_audit(spark: Any, scale_city: ScaleCity, level: str) -> None:
    periods = ["2022", "2022-Q4", "2021-11", "2025"]  # 2025: no incidents, so NaN (never zero) in both
    want = indicator_values(scale_city.ws, period=periods, level=level)
    got = spark_indicator_values(spark, scale_city.export, period=periods, level=level)
    pd.testing.assert_frame_equal(got, want)
    rates = got[got["indicator_id"].isin(INCIDENT_INDICATORS) & (got["period"] == "2022")]
    assert len(rates) and rates["value"].notna().mean() > 0.9 and (rates["value"] > 0).any()
    known = rates.dropna(subset=["value", "lower"])
    assert len(known) and (known["lower"] <= known["value"]).all() and (known["upper"] >= known["value"]).all()
    assert got.loc[(got["period"] == "2025") & got["indicator_id"].isin(INCIDENT_INDICATORS), "value"].isna().all()


def test_spark_indicator_defaults_to_the_covered_years(spark: Any, scale_city: ScaleCity) -> None:
    """2022 is the only calendar year the incidents cover from January to December."""
    want = indicator_values(scale_city.ws, level="community")
    want = want[want["indicator_id"] == "homicide_rate"].reset_index(drop=True)
    got = spark_indicator(spark, scale_city.export, "homicide_rate", level="community")
    pd.testing.assert_frame_equal(got, want)
    assert set(got["period"]) == {"2022"}


def test_a_formula_of_a_table_other_than_incidents_is_refused(
    spark: Any, scale_city: ScaleCity, tmp_path: Path
) -> None:
    from safercities.audit.framework import framework_path

    text = framework_path("default").read_text(encoding="utf-8")
    text = text.replace(
        'formula: count(incidents, iccs="0101") / areas.population * 100000',
        "formula: sum(indicator_values.value) / areas.population",
        1,
    )
    assert "sum(indicator_values.value)" in text
    path = tmp_path / "other.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="reads table 'indicator_values'"):
        spark_indicator(spark, scale_city.export, "homicide_rate", "2022", framework=path)


def test_spark_refuses_a_folder_that_is_not_an_export(spark: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no manifest.json"):
        spark_cube(spark, tmp_path)
    with pytest.raises(InputError, match="'by' parameter"):
        spark_cube(spark, tmp_path, by="fortnight")


def test_counts_equal_the_simulated_police_file(spark: Any, scale_city: ScaleCity) -> None:
    """Against the simulation's own output: the cube's total is the number of incidents the import kept."""
    cube = spark_cube(spark, scale_city.export, by="year", level="city")
    imports = scale_city.ws.imports()
    kept = int(imports.loc[imports["kind"] == "incidents", "rows_accepted"].sum())
    assert int(cube["count"].sum()) == kept
    assert np.array_equal(sorted(cube["period"].dt.year.unique()), [2021, 2022, 2023])


def test_the_spark_job_writes_the_cube_and_the_indicators(spark: Any, scale_city: ScaleCity, tmp_path: Path) -> None:
    """What spark-submit runs on a cluster, here on the local session: results land as Parquet."""
    import pyarrow.parquet as pq

    from safercities.scale.job import run

    out = tmp_path / "cube"
    assert run(["cube", str(scale_city.export), str(out), "--by", "quarter", "--level", "district"], spark=spark) == 0
    got = pq.read_table(out).to_pandas(date_as_object=False)
    want = scale_city.ws.cube(by="quarter", level="district")
    pd.testing.assert_frame_equal(got.sort_values(["area_id", "period", "iccs_section"], ignore_index=True), want)
    out = tmp_path / "indicators"
    argv = ["indicators", str(scale_city.export), str(out), "--period", "2022", "--indicator", "robbery_rate"]
    assert run(argv, spark=spark) == 0
    got = pq.read_table(out).to_pandas().sort_values("area_id", ignore_index=True)
    want = indicator_values(scale_city.ws, period="2022")
    want = want[want["indicator_id"] == "robbery_rate"].reset_index(drop=True)
    np.testing.assert_allclose(got["value"], want["value"], rtol=0, atol=0)
    np.testing.assert_allclose(got["lower"], want["lower"], rtol=0, atol=0)


def test_sums_means_and_filters_on_other_columns_equal_the_audit(
    spark: Any, scale_city: ScaleCity, tmp_path: Path
) -> None:
    """sum(), mean(), a text filter (with a list) and a numeric filter, each read as the audit reads them."""
    from safercities.audit.framework import framework_path

    text = framework_path("default").read_text(encoding="utf-8")
    formulas = {
        'count(incidents, iccs="0101") / areas.population * 100000': (
            'count(incidents, location_type=["Vía pública", "Mercado"]) / areas.population * 1000'
        ),
        'count(incidents, iccs="0201") / areas.population * 100000': 'mean(incidents.x, iccs="05") - 300000',
        'count(incidents, iccs="0301") / areas.population * 100000': "sum(incidents.import_id, import_id=2) / 2",
    }
    for old, new in formulas.items():
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "columns.yaml"
    path.write_text(text, encoding="utf-8")
    chosen = ["homicide_rate", "assault_rate", "sexual_violence_rate"]
    for level in ("community", "district"):
        want = indicator_values(scale_city.ws, path, ["2022", "2021-12"], level=level)
        want = want[want["indicator_id"].isin(chosen)].reset_index(drop=True)
        got = spark_indicator_values(
            spark, scale_city.export, path, ["2022", "2021-12"], level=level, indicators=chosen
        )
        pd.testing.assert_frame_equal(got, want)
        assert got["value"].notna().mean() > 0.8 and (got["value"].dropna() >= 0).all() and (got["value"] > 0).any()


def test_a_workspace_without_incidents_gives_the_workspace_s_empty_answers(
    spark: Any, scale_city: ScaleCity, tmp_path: Path
) -> None:
    import safercities.workspace as sc
    from safercities.scale.duckdb_parquet import duckdb_cube
    from safercities.scale.export import export_geoparquet

    with sc.init(tmp_path / "ws", name="Vacía", crs="EPSG:32614", timezone="America/Mexico_City") as ws:
        ws.import_areas(scale_city.city.areas, id="area_id", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        manifest = export_geoparquet(ws, tmp_path / "export")
        assert manifest.incidents == 0 and not manifest.files
        want = ws.cube(by="month", level="district")
        assert want.empty
        pd.testing.assert_frame_equal(spark_cube(spark, tmp_path / "export", "month", "district"), want)
        pd.testing.assert_frame_equal(duckdb_cube(tmp_path / "export", "month", "district"), want)
        got = spark_indicator_values(spark, tmp_path / "export", period="2022", level="district")
        pd.testing.assert_frame_equal(got, indicator_values(ws, period="2022", level="district"))
