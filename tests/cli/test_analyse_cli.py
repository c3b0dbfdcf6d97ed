"""`safercities analyse …` on the hand-built city of tests/analysiskit.py: every verb, its outputs, its mistakes."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import analysiskit as ak  # noqa: E402
from clikit import assert_one_line_error, invoke, words  # noqa: E402


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> ak.City:
    return ak.build(tmp_path_factory.mktemp("cli_city"))


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> ak.City:
    return ak.build(tmp_path_factory.mktemp("cli_plain"), plain=True)  # every area populated and connected


@pytest.fixture(scope="module")
def covariates(city: ak.City) -> Path:
    path = city.src / "census.csv"
    pd.DataFrame(
        {
            "area_id": city.ids,
            "east": [int(a[1]) for a in city.ids],
            "north": [int(a[2]) for a in city.ids],
        }
    ).to_csv(path, index=False)
    return path


def analyse(city: ak.City, *args: str | Path) -> tuple[int, str]:
    return invoke("analyse", *args, "-w", city.root)


def test_rates_gpkg(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "rates.gpkg"
    code, output = analyse(city, "rates", "--total", "--out", out)
    assert code == 0, output
    assert "Rates per 100,000 inhabitants over the whole period for 17 areas (all offences): 85 incidents" in words(
        output
    )
    frame = gpd.read_file(out, engine="pyogrio")
    assert len(frame) == 17 and frame.crs.to_epsg() == 32614
    frame = frame.set_index("area_id")
    np.testing.assert_array_equal(frame.loc[city.ids, "count"].to_numpy(), city.counts().to_numpy())
    assert np.isnan(frame.loc[ak.ZERO, "rate"])
    assert frame.loc["K33", "rate"] == pytest.approx(round(9 / 16000 * 1e5, 2))
    summary = out.with_suffix(".txt").read_text(encoding="utf-8")
    assert summary.startswith("Rates per 100,000 inhabitants over the whole period for 17 areas")


def test_rates_by_district_and_selection(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "districts.csv"
    code, output = analyse(city, "rates", "--level", "district", "--iccs", "04", "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out).set_index("area_id")
    robbery = city.counts("04")
    district = city.communities.set_index("area_id")["district"]
    assert frame["count"].to_dict() == robbery.groupby(district.reindex(robbery.index)).sum().to_dict()
    assert "ICCS 04" in words(output)


def test_concentration_csv(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "conc.csv"
    code, output = analyse(city, "concentration", "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out)
    assert len(frame) >= 1
    x = city.counts().to_numpy(float)
    gini = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    text = frame.to_string()
    assert "gini" in text.lower()
    values = frame.select_dtypes("number").to_numpy(float).ravel()
    assert np.any(np.isclose(values, gini, atol=1e-9))
    assert out.with_suffix(".txt").read_text(encoding="utf-8").strip()
    code, output = analyse(city, "concentration", "--places", "grid", "--cell-size", "500")
    assert code == 0, output


def test_grid_parquet_and_gpkg(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "grid.parquet"
    code, output = analyse(city, "grid", "--cell-size", "500", "--out", out)
    assert code == 0, output
    frame = pd.read_parquet(out)
    assert int(frame["count"].sum()) == 85 and len(frame) >= 68
    assert out.with_suffix(".txt").exists()
    hexes = tmp_path / "hex.gpkg"
    code, output = analyse(city, "grid", "--cell-size", "500", "--shape", "h3", "--out", hexes)
    assert code == 0, output
    cells = gpd.read_file(hexes, engine="pyogrio")
    assert int(cells["count"].sum()) == 85
    assert hexes.with_suffix(".txt").read_text(encoding="utf-8").strip()


def test_kde_csv_and_risk_surface(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "kde.csv"
    code, output = analyse(city, "kde", "--cell-size", "100", "--bandwidth", "500", "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out)
    assert len(frame) == 60 * 40  # the city's 6 km x 4 km bounding box in 100 m cells
    assert "Kernel density" in out.with_suffix(".txt").read_text(encoding="utf-8")
    risk = tmp_path / "risk.gpkg"
    code, output = analyse(city, "kde", "--cell-size", "200", "--bandwidth", "500", "--per-population", "--out", risk)
    assert code == 0, output
    cells = gpd.read_file(risk, engine="pyogrio")
    assert len(cells) == 30 * 20 and "risk" in cells.columns
    assert cells["risk"].isna().any() and np.isfinite(cells["risk"]).any()


@pytest.mark.parametrize("statistic", ["gi_star", "gi", "local_moran"])
def test_hotspots_on_areas_gpkg(city: ak.City, tmp_path: Path, statistic: str) -> None:
    out = tmp_path / f"{statistic}.gpkg"
    code, output = analyse(
        city, "hotspots", "--statistic", statistic, "--places", "areas", "--value", "count",
        "--permutations", "99", "--out", out,
    )  # fmt: skip
    assert code == 0, output
    frame = gpd.read_file(out, engine="pyogrio").set_index("area_id")
    assert len(frame) == 17
    assert frame.loc["K50", "label"] == "island"
    assert "island" in out.with_suffix(".txt").read_text(encoding="utf-8")


def test_hotspots_on_grid_csv(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "hot.csv"
    code, output = analyse(city, "hotspots", "--cell-size", "500", "--permutations", "99", "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out)
    assert int(frame["count"].sum()) == 85
    finite = frame["p"].notna()
    assert (frame.loc[finite, "p_fdr"] >= frame.loc[finite, "p"] - 1e-15).all()


def test_moran_csv(city: ak.City, tmp_path: Path) -> None:
    out = tmp_path / "moran.csv"
    code, output = analyse(city, "moran", "--value", "count", "--permutations", "99", "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out)
    assert len(frame) == 6  # Moran's I and Geary's C, each under normality, randomisation and permutation
    import esda
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about the island
        w = Queen.from_dataframe(city.communities, ids=city.ids, use_index=False)
        w.transform = "r"
        reference = esda.Moran(city.counts().to_numpy(float), w, permutations=0)
    np.testing.assert_allclose(frame["statistic"].iloc[:3], reference.I, atol=1e-10)
    assert "Moran" in output and "Geary" in output
    summary = out.with_suffix(".txt").read_text(encoding="utf-8")
    assert "Moran" in summary and "Geary" in summary


@pytest.mark.parametrize("model", ["poisson", "negbin"])
def test_regress_count_models(city: ak.City, covariates: Path, tmp_path: Path, model: str) -> None:
    out = tmp_path / f"{model}.csv"
    code, output = analyse(city, "regress", covariates, "--model", model, "--out", out)
    assert code == 0, output
    frame = pd.read_csv(out)
    assert list(frame["covariate"]) == ["east", "north"]
    np.testing.assert_allclose(frame["rate_ratio"], np.exp(frame["coef"]), rtol=1e-12)
    assert "goes with" in out.with_suffix(".txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("hotspots", "--statistic", "kulldorff", "--permutations", "99"), ("statistic",)),
        (("hotspots", "--places", "streets", "--permutations", "99"), ("places",)),
        (("concentration", "--places", "streets"), ("places",)),
        (("moran", "--places", "streets", "--permutations", "99"), ("places",)),
        (("grid", "--cell-size", "0"), ("cell_size",)),
        (("grid", "--shape", "triangle"), ("shape",)),
        (("concentration", "--places", "grid", "--cell-size", "0"), ("cell_size",)),
        (("hotspots", "--places", "areas", "--permutations", "99"), ("value='count'",)),
        (("kde", "--kernel", "epanechnikov"), ("kernel",)),
        (("rates", "--level", "ward"), ("ward",)),
    ],
)
def test_mistakes_are_one_line_errors(city: ak.City, args: tuple[str, ...], expected: tuple[str, ...]) -> None:
    code, output = analyse(city, *args)
    assert_one_line_error(code, output, *expected)


def test_regress_mistakes(city: ak.City, covariates: Path, tmp_path: Path) -> None:
    code, output = analyse(city, "regress", covariates, "--model", "tobit")
    assert_one_line_error(code, output, "model")
    no_id = tmp_path / "no_id.csv"
    pd.DataFrame({"code": city.ids, "east": range(17)}).to_csv(no_id, index=False)
    code, output = analyse(city, "regress", no_id)
    assert_one_line_error(code, output, "area_id")
    short = tmp_path / "short.csv"
    pd.read_csv(covariates).iloc[:-1].to_csv(short, index=False)  # the island K50 is missing
    code, output = analyse(city, "regress", short, "--model", "poisson")
    assert_one_line_error(code, output, "K50")


@pytest.mark.parametrize("model", ["ols", "lag", "error"])
def test_regress_spatial_models(plain: ak.City, tmp_path: Path, model: str) -> None:
    census = tmp_path / "census.csv"
    pd.DataFrame({"area_id": plain.ids, "east": [int(a[1]) for a in plain.ids]}).to_csv(census, index=False)
    out = tmp_path / f"{model}.parquet"
    code, output = analyse(plain, "regress", census, "--model", model, "--out", out)
    assert code == 0, output
    frame = pd.read_parquet(out)
    assert "east" in set(frame.iloc[:, 0])
    assert out.with_suffix(".txt").read_text(encoding="utf-8").strip()


def test_regress_spatial_model_on_a_city_with_a_zero_population_area(city: ak.City, covariates: Path) -> None:
    code, output = analyse(city, "regress", covariates, "--model", "ols")
    assert_one_line_error(code, output)  # K11 has no rate (see the xfail in tests/test_analysis.py)


def test_unwritable_output_format(city: ak.City, tmp_path: Path) -> None:
    code, output = analyse(city, "rates", "--out", tmp_path / "rates.xlsx")
    assert code != 0
    assert output.strip().startswith("error:")
