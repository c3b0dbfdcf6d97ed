"""The service functions of safercities.analysis on a hand-built city whose every number is known.

The city (tests/analysiskit.py): a 4 x 4 lattice of 1 km communities in two districts, K11 with no
population, an island K50 one empty square east of the lattice, known incidents per community and
ICCS section, and two points outside every area (rejected at import). Expected values come from the
construction or from a peer library (scipy, statsmodels, esda/libpysal, numpy), never from our output.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import statsmodels.api as sm
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))

import analysiskit as ak  # noqa: E402
import safercities.workspace as sc  # noqa: E402
from safercities import analysis as an  # noqa: E402
from safercities.errors import InputError  # noqa: E402

NOTHING = an.Selection(iccs="09")  # no incident is a 09 offence
SINGLE = an.Selection(iccs="0201")  # the one assault in K22
LOCAL_LABELS = {"hot spot", "cold spot", "not significant", "undefined", "island", "HH", "LL", "HL", "LH"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> ak.City:
    return ak.build(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def ws(city: ak.City):  # type: ignore[no-untyped-def]
    with sc.open_workspace(city.root, read_only=True) as workspace:
        yield workspace


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> ak.City:
    return ak.build(tmp_path_factory.mktemp("plain"), plain=True)


def textbook_gini(x: np.ndarray) -> float:
    """Mean absolute difference over twice the mean: sum_ij |x_i - x_j| / (2 n^2 mean)."""
    x = np.asarray(x, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


# -- the city as imported -----------------------------------------------------------------------------------
def test_points_outside_every_area_are_rejected(city: ak.City, ws: sc.Workspace) -> None:
    rejects = ws.rejects()
    assert len(rejects) == city.outside == 2
    assert set(rejects["reason_code"]) == {"outside_areas"}
    assert len(ws.incidents()) == len(city.incidents) == 85


# -- area_counts --------------------------------------------------------------------------------------------
def test_area_counts_include_zeros_and_match_the_construction(city: ak.City, ws: sc.Workspace) -> None:
    table = an.area_counts(ws)
    assert list(table["area_id"]) == city.ids  # every community, sorted, the island included
    np.testing.assert_array_equal(table["count"].to_numpy(), city.counts().to_numpy())
    np.testing.assert_array_equal(table["population"].to_numpy(), city.communities["population"].to_numpy())
    # robbery is col + 2 row: K00 has none, yet it is listed with 0
    robbery = an.area_counts(ws, selection=an.Selection(iccs="04")).set_index("area_id")["count"]
    assert robbery["K00"] == 0 and robbery["K33"] == 9 and robbery["K50"] == 3
    assert int(robbery.sum()) == sum(i + 2 * j for i, j in ak.LATTICE) + 3


def test_area_counts_roll_up_to_districts(city: ak.City, ws: sc.Workspace) -> None:
    table = an.area_counts(ws, "district").set_index("area_id")
    per = city.counts()
    district = city.communities.set_index("area_id")["district"]
    expected = per.groupby(district.reindex(per.index)).sum()
    assert list(table.index) == ["D1", "D2"]
    assert table["count"].to_dict() == expected.to_dict() == {"D1": 32, "D2": 53}
    pop = city.communities.groupby("district")["population"].sum()
    assert table["population"].to_dict() == pop.to_dict()


@pytest.mark.parametrize(
    ("iccs", "start", "end"),
    [
        ("04", None, None),
        ("05", None, None),  # theft 0502 and burglary 0501
        ("0501", None, None),
        ("0502", None, None),
        ("0201", None, None),
        (None, "2023-02-01", "2023-03-01"),  # February, local time: not the burglaries of 31 Jan 23:30
        (None, None, "2023-02-01"),  # January: robberies and the two burglaries (05:30 UTC on 1 Feb)
        ("05", "2023-01-31", "2023-02-01"),
        (None, "2023-03-01", None),
    ],
)
def test_selection_by_iccs_prefix_and_local_dates(
    city: ak.City, ws: sc.Workspace, iccs: str | None, start: str | None, end: str | None
) -> None:
    got = an.area_counts(ws, selection=an.Selection(iccs=iccs, start=start, end=end))
    expected = city.counts(iccs or "", start, end)
    np.testing.assert_array_equal(got["count"].to_numpy(), expected.to_numpy())


def test_selection_describes_itself() -> None:
    assert an.ALL.describe() == "all offences"
    text = an.Selection(iccs="04", start="2023-01-01").describe()
    assert "ICCS 04" in text and "2023-01-01" in text


# -- area_rates ---------------------------------------------------------------------------------------------
def test_area_rates_exact_interval_and_zero_population(city: ak.City, ws: sc.Workspace) -> None:
    table = an.area_rates(ws, annual=False).set_index("area_id")
    k = city.counts().to_numpy(float)
    pop = city.communities["population"].to_numpy(float)
    populated = pop > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(populated, k / pop * 1e5, np.nan)
        lower = np.where(populated, np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0) / pop * 1e5, np.nan)
        upper = np.where(populated, stats.chi2.ppf(0.975, 2 * k + 2) / 2 / pop * 1e5, np.nan)
    np.testing.assert_allclose(table["rate"].to_numpy(), rate, rtol=1e-12)
    np.testing.assert_allclose(table["rate_lower"].to_numpy(), lower, rtol=1e-10)
    np.testing.assert_allclose(table["rate_upper"].to_numpy(), upper, rtol=1e-10)
    # K11 has four incidents and nobody living there: NaN and flagged, never infinite
    row = table.loc[ak.ZERO]
    assert row["count"] == 4
    assert np.isnan(row["rate"]) and np.isnan(row["rate_lower"]) and np.isnan(row["rate_upper"])
    assert bool(row["unstable"])
    numeric = table.select_dtypes("number").to_numpy(float)
    assert not np.isinf(numeric).any()
    # every community has fewer than 20 incidents: all flagged unstable
    assert table["unstable"].all()


def test_area_rates_are_per_year_by_default(city: ak.City, ws: sc.Workspace) -> None:
    """Annual rates divide by the years the data covers: first to last local day of any incident."""
    local = ws.incidents()["occurred_from"]
    days = (local.max().normalize() - local.min().normalize()).days + 1
    years = days / 365.2425
    total = an.area_rates(ws, annual=False).set_index("area_id")["rate"]
    annual = an.area_rates(ws).set_index("area_id")
    assert annual.attrs["years"] == pytest.approx(years, rel=1e-12)
    np.testing.assert_allclose(annual["rate"].to_numpy(), total.to_numpy() / years, rtol=1e-12)


def test_area_rates_empirical_bayes_columns(city: ak.City, ws: sc.Workspace) -> None:
    table = an.area_rates(ws, annual=False)
    populated = table["population"].to_numpy() > 0
    for column in ("rate_eb", "rate_spatial_eb", "excess_risk", "excess_risk_lower", "excess_risk_upper"):
        assert column in table.columns
        assert np.isfinite(table.loc[populated, column].to_numpy(float)).all(), column
    # global EB shrinks towards the city rate of the populated areas (a weighted mean of crude and prior)
    k = city.counts().to_numpy(float)
    pop = city.communities["population"].to_numpy(float)
    city_rate = k[pop > 0].sum() / pop[pop > 0].sum() * 1e5
    crude, eb = table["rate"].to_numpy()[populated], table["rate_eb"].to_numpy()[populated]
    assert np.all((eb - city_rate) * (crude - city_rate) >= -1e-9)
    assert np.all(np.abs(eb - city_rate) <= np.abs(crude - city_rate) + 1e-9)
    # excess risk = observed / expected at the city rate
    expected = pop[pop > 0] * city_rate / 1e5
    np.testing.assert_allclose(table["excess_risk"].to_numpy()[populated], k[pop > 0] / expected, rtol=1e-12)


# -- concentration ------------------------------------------------------------------------------------------
def test_concentration_over_areas(city: ak.City, ws: sc.Workspace) -> None:
    result = an.place_concentration(ws)
    counts = city.counts().to_numpy()
    assert result.n_places == 17 and result.n_crimes == 85
    assert result.gini == pytest.approx(textbook_gini(counts), abs=1e-12)
    assert result.zero_places == 0
    # robbery only: K00 has none
    robbery = an.place_concentration(ws, an.Selection(iccs="04"))
    assert robbery.zero_places == 1
    assert robbery.gini == pytest.approx(textbook_gini(city.counts("04").to_numpy()), abs=1e-12)


def test_concentration_over_grid_cells_sums_the_incidents(city: ak.City, ws: sc.Workspace) -> None:
    result = an.place_concentration(ws, places="grid", cell_size=500.0)
    grid = an.grid_counts(ws, cell_size=500.0)
    assert result.n_crimes == 85
    assert result.gini == pytest.approx(textbook_gini(grid.count), abs=1e-12)


def _city_cells(city: ak.City, size: float) -> dict[tuple[int, int], int]:
    """Counts per cell of every grid cell that holds part of the city (interior overlap), by construction."""
    outline = shapely.union_all(city.communities.geometry.to_numpy())
    cells = {}
    for col in range(int(6000 / size)):
        for row in range(int(4000 / size)):
            x, y = ak.X0 + col * size, ak.Y0 + row * size
            cell = shapely.box(x, y, x + size, y + size)
            if shapely.intersection(outline, cell).area > 0:
                cells[(col, row)] = 0
    col = np.floor((city.incidents["x"] - ak.X0) / size).astype(int)
    row = np.floor((city.incidents["y"] - ak.Y0) / size).astype(int)
    for c, r in zip(col, row, strict=True):
        cells[(int(c), int(r))] += 1
    return cells


def test_grid_places_are_the_cells_that_hold_part_of_the_city(city: ak.City, ws: sc.Workspace) -> None:
    expected = _city_cells(city, 500.0)
    grid = an.grid_counts(ws, cell_size=500.0)
    assert grid.n_cells == len(expected) == 68
    result = an.place_concentration(ws, places="grid", cell_size=500.0)
    assert result.gini == pytest.approx(textbook_gini(np.array(list(expected.values()))), abs=1e-12)


# -- grid_counts --------------------------------------------------------------------------------------------
def test_square_grid_counts_by_construction(city: ak.City, ws: sc.Workspace) -> None:
    grid = an.grid_counts(ws, cell_size=500.0)
    assert grid.count.sum() == 85 and grid.n_outside == 0
    assert (grid.x0, grid.y0) == (ak.X0, ak.Y0)
    got = dict(zip(zip(grid.col.tolist(), grid.row.tolist(), strict=True), grid.count.tolist(), strict=True))
    expected = _city_cells(city, 500.0)
    assert set(expected) <= set(got)  # every cell of the city is there, empty ones included
    for cell, n in expected.items():
        assert got[cell] == n, cell
    assert sum(n for cell, n in got.items() if cell not in expected) == 0
    frame = grid.to_frame()
    assert len(frame) == grid.n_cells and int(frame["count"].sum()) == 85


def test_h3_grid_counts_sum_to_the_incidents(ws: sc.Workspace) -> None:
    hexes = an.grid_counts(ws, cell_size=500.0, shape="h3")
    assert int(hexes.count.sum()) == 85 and hexes.n_outside == 0
    assert (hexes.count == 0).any()  # empty hexagons over the city are kept
    robbery = an.grid_counts(ws, an.Selection(iccs="04"), cell_size=500.0, shape="h3")
    assert int(robbery.count.sum()) == sum(i + 2 * j for i, j in ak.LATTICE) + 3


@pytest.mark.parametrize("shape", ["square", "h3"])
@pytest.mark.parametrize("size", [0.0, -250.0, float("nan")])
def test_grid_cell_size_must_be_positive(ws: sc.Workspace, shape: str, size: float) -> None:
    with pytest.raises(InputError, match="cell_size"):
        an.grid_counts(ws, cell_size=size, shape=shape)


def test_grid_unknown_shape(ws: sc.Workspace) -> None:
    with pytest.raises(InputError, match="'square' or 'h3'"):
        an.grid_counts(ws, shape="triangle")


# -- density ------------------------------------------------------------------------------------------------
def test_density_integrates_to_the_incidents_and_matches_the_kernel_sum(city: ak.City, ws: sc.Workspace) -> None:
    # every incident is at least 100 m inside the city's bounding box: an 80 m quartic radius stays on the grid
    h = 80.0
    surface = an.density(ws, cell_size=10.0, bandwidth=h, kernel="quartic")
    assert surface.bounds[:2] == (ak.X0, ak.Y0)
    assert surface.integral() == pytest.approx(85, rel=1e-2)
    gx, gy = np.meshgrid(surface.x, surface.y)
    px, py = city.incidents["x"].to_numpy(), city.incidents["y"].to_numpy()
    total = np.zeros(gx.shape)
    for x, y in zip(px, py, strict=True):
        u2 = ((gx - x) ** 2 + (gy - y) ** 2) / h**2
        total += np.where(u2 < 1, 3 / (np.pi * h**2) * (1 - u2) ** 2, 0.0)
    assert np.max(np.abs(surface.values - total)) / total.max() < 1e-2


def test_density_risk_surface_is_nan_where_nobody_lives(ws: sc.Workspace) -> None:
    surface = an.density(ws, cell_size=100.0, bandwidth=500.0, per_population=True)
    frame = surface.to_frame()
    far = frame[(frame["x"] > ak.X0 + 5200) & (frame["y"] > ak.Y0 + 2200)]  # > 1 km from every populated cell
    assert len(far) > 0 and far["risk"].isna().all()
    centre = frame[(frame["x"] - (ak.X0 + 2500)).abs().lt(60) & (frame["y"] - (ak.Y0 + 2500)).abs().lt(60)]
    assert len(centre) > 0 and np.isfinite(centre["risk"]).all() and (centre["risk"] > 0).all()
    assert not np.isinf(frame["risk"].to_numpy()).any()
    plain = an.density(ws, cell_size=100.0, bandwidth=500.0)
    np.testing.assert_allclose(surface.events.values, plain.values, rtol=1e-12, atol=1e-18)


def test_density_of_a_single_incident(ws: sc.Workspace) -> None:
    surface = an.density(ws, SINGLE, cell_size=10.0, bandwidth=80.0)
    assert surface.n_points == 1
    assert surface.integral() == pytest.approx(1.0, rel=1e-2)
    with pytest.raises(InputError, match="two points"):
        an.density(ws, SINGLE)  # a bandwidth rule cannot be computed from one point


# -- hotspots -----------------------------------------------------------------------------------------------
def _check_local(result: an.HotspotMap, n: int) -> pd.DataFrame:
    frame = result.to_geodataframe()
    assert len(frame) == n
    assert set(frame["label"]) <= LOCAL_LABELS
    finite = np.isfinite(frame["p"]) & np.isfinite(frame["p_fdr"])
    assert (frame.loc[finite, "p_fdr"] >= frame.loc[finite, "p"] - 1e-15).all()
    assert frame.loc[finite, "p"].between(1 / 100, 1).all()  # p = (k+1)/(R+1) with R = 99
    assert result.summary()
    return frame


@pytest.mark.parametrize("statistic", ["gi_star", "gi", "local_moran"])
def test_hotspots_on_areas_label_the_island(city: ak.City, ws: sc.Workspace, statistic: str) -> None:
    result = an.hotspots(ws, statistic=statistic, places="areas", value="count", permutations=99, seed=1)
    frame = _check_local(result, 17).set_index("area_id")
    assert frame.loc["K50", "label"] == "island"
    assert np.isnan(frame.loc["K50", "p"])
    assert (frame.drop(index="K50")["label"] != "island").all()
    np.testing.assert_array_equal(frame["count"].to_numpy(), city.counts().to_numpy())
    if statistic == "local_moran":
        assert set(frame["label"]) <= {"HH", "LL", "HL", "LH", "not significant", "island", "undefined"}
    else:
        assert set(frame["label"]) <= {"hot spot", "cold spot", "not significant", "island", "undefined"}


@pytest.mark.parametrize("statistic", ["gi_star", "local_moran"])
def test_hotspots_on_grid_cells(ws: sc.Workspace, statistic: str) -> None:
    grid = an.grid_counts(ws, cell_size=500.0)
    result = an.hotspots(ws, statistic=statistic, places="grid", cell_size=500.0, permutations=99, seed=2)
    frame = _check_local(result, grid.n_cells)
    assert int(frame["count"].sum()) == 85
    assert frame.crs is not None and frame.crs.to_epsg() == 32614


def test_hotspots_are_seeded(ws: sc.Workspace) -> None:
    a = an.hotspots(ws, places="areas", value="count", permutations=99, seed=5).result.p
    b = an.hotspots(ws, places="areas", value="count", permutations=99, seed=5).result.p
    np.testing.assert_array_equal(a, b)


def test_hotspots_rates_with_a_zero_population_area_say_what_to_do(ws: sc.Workspace) -> None:
    with pytest.raises(InputError, match="value='count'"):
        an.hotspots(ws, places="areas", permutations=99)  # rate_eb is NaN for K11, which has nobody


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"statistic": "kulldorff"}, "statistic"),
        ({"places": "streets"}, "places"),
        ({"places": "areas", "value": "density"}, "value"),
    ],
)
def test_hotspots_bad_choices(ws: sc.Workspace, kwargs: dict[str, str], word: str) -> None:
    with pytest.raises(InputError, match=word):
        an.hotspots(ws, permutations=99, **kwargs)  # type: ignore[arg-type]


# -- autocorrelation ----------------------------------------------------------------------------------------
def test_moran_matches_esda_with_independent_libpysal_weights(city: ak.City, ws: sc.Workspace) -> None:
    import esda
    from libpysal.weights import Queen

    y = city.counts().to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about the island
        w = Queen.from_dataframe(city.communities, ids=city.ids, use_index=False)
        w.transform = "r"
        reference = esda.Moran(y, w, permutations=0)
    assert w.islands == ["K50"]
    moran_result, geary_result = an.autocorrelation(ws, value="count", permutations=99, seed=3)
    assert abs(moran_result.I - reference.I) < 1e-10
    assert moran_result.expected == pytest.approx(reference.EI, abs=1e-10)
    assert moran_result.n == 17 and moran_result.islands == 1
    assert np.isfinite(geary_result.C)
    assert 0 < moran_result.p_sim <= 1


def test_moran_on_grid_cells_matches_esda(ws: sc.Workspace) -> None:
    import esda
    from libpysal.weights import DistanceBand

    grid = an.grid_counts(ws, cell_size=500.0)
    frame = grid.to_frame()
    centres = np.column_stack([frame["x_center"], frame["y_center"]])
    w = DistanceBand(centres, threshold=750.0, binary=True, silence_warnings=True)
    w.transform = "r"
    reference = esda.Moran(grid.count.astype(float), w, permutations=0)
    moran_result, _ = an.autocorrelation(ws, places="grid", cell_size=500.0, permutations=99)
    assert abs(moran_result.I - reference.I) < 1e-10


# -- correlates ---------------------------------------------------------------------------------------------
def _covariates(city: ak.City) -> pd.DataFrame:
    cells = dict(zip(city.ids, [(int(a[1]), int(a[2])) for a in city.ids], strict=True))
    return pd.DataFrame(
        {
            "east": [float(cells[a][0]) for a in city.ids],
            "north": [float(cells[a][1]) for a in city.ids],
            "poverty": [10.0 + 3.0 * ((7 * k) % 5) for k in range(len(city.ids))],
        },
        index=pd.Index(city.ids, name="area_id"),
    )


def _statsmodels_design(city: ak.City, cov: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    pop = city.communities.set_index("area_id")["population"].reindex(cov.index).to_numpy(float)
    keep = pop > 0
    y = city.counts().reindex(cov.index).to_numpy(float)[keep]
    x = sm.add_constant(cov.loc[keep].reset_index(drop=True), has_constant="add")
    return y, x, np.log(pop[keep])


def test_poisson_rate_ratios_are_exp_of_a_statsmodels_glm(city: ak.City, ws: sc.Workspace) -> None:
    cov = _covariates(city)
    result = an.correlates(ws, cov, model="poisson")
    y, x, offset = _statsmodels_design(city, cov)
    fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset).fit()
    frame = result.to_frame()  # type: ignore[attr-defined]
    assert list(frame.index) == ["east", "north", "poverty"]
    np.testing.assert_allclose(frame["rate_ratio"].to_numpy(), np.exp(fit.params[1:].to_numpy()), rtol=1e-7)
    assert result.n == 16  # type: ignore[attr-defined]


def test_count_model_names_the_dropped_zero_population_area(city: ak.City, ws: sc.Workspace) -> None:
    result = an.correlates(ws, _covariates(city), model="poisson")
    assert result.dropped == (ak.ZERO,)  # type: ignore[attr-defined]
    assert list(result.area_ids) == [a for a in city.ids if a != ak.ZERO]  # type: ignore[attr-defined]


def test_negbin_rate_ratios_are_exp_of_a_statsmodels_glm(city: ak.City, ws: sc.Workspace) -> None:
    cov = _covariates(city)
    result = an.correlates(ws, cov, model="negbin")
    y, x, offset = _statsmodels_design(city, cov)
    alpha = result.alpha  # type: ignore[attr-defined]
    family = sm.families.NegativeBinomial(alpha=alpha) if alpha and alpha > 0 else sm.families.Poisson()
    fit = sm.GLM(y, x, family=family, offset=offset).fit(tol=1e-12)  # beta's ML at the model's alpha
    frame = result.to_frame()  # type: ignore[attr-defined]
    np.testing.assert_allclose(frame["rate_ratio"].to_numpy(), np.exp(fit.params[1:].to_numpy()), rtol=1e-5)
    assert "rate ratio" in result.summary().lower() or "goes with" in result.summary()  # type: ignore[attr-defined]


def test_correlates_names_the_areas_missing_from_the_covariates(city: ak.City, ws: sc.Workspace) -> None:
    cov = _covariates(city).drop(index=["K03", "K50"])
    with pytest.raises(InputError, match=r"2 areas.*K03.*K50"):
        an.correlates(ws, cov, model="poisson")


def test_correlates_unknown_model(city: ak.City, ws: sc.Workspace) -> None:
    with pytest.raises(InputError, match="model"):
        an.correlates(ws, _covariates(city), model="tobit")


@pytest.mark.parametrize("model", ["ols", "lag", "error"])
def test_spatial_models_run_on_a_populated_connected_city(plain: ak.City, model: str) -> None:
    cov = _covariates(plain)
    with sc.open_workspace(plain.root, read_only=True) as workspace:
        result = an.correlates(workspace, cov, model=model)
    frame = result.to_frame()  # type: ignore[attr-defined]
    assert {"const", "east", "north", "poverty"} <= set(frame.index)
    assert result.summary()  # type: ignore[attr-defined]
    pop = plain.communities["population"].to_numpy(float)
    rate = plain.counts().to_numpy(float) / pop * 1e5
    if model == "ols":
        x = np.column_stack([np.ones(16), cov.to_numpy()])
        beta = np.linalg.lstsq(x, rate, rcond=None)[0]
        np.testing.assert_allclose(result.params, beta, rtol=1e-9, atol=1e-9)  # type: ignore[attr-defined]
        assert np.isfinite(result.lm_lag.statistic) and np.isfinite(result.moran.z)  # type: ignore[attr-defined]
    else:
        # rho (lambda) maximises the concentrated log-likelihood over (1 / min eigenvalue of W, 1), W the
        # row-standardised queen weights built by libpysal from the same squares
        from libpysal.weights import Queen
        from scipy.optimize import minimize_scalar

        w = Queen.from_dataframe(plain.communities, ids=plain.ids, use_index=False)
        w.transform = "r"
        dense = w.full()[0]
        eig = np.linalg.eigvals(dense).real
        x = np.column_stack([np.ones(16), cov.to_numpy()])

        def negative(rho: float) -> float:
            a = np.eye(16) - rho * dense
            if model == "lag":
                yy, xx = a @ rate, x
            else:
                yy, xx = a @ rate, a @ x
            e = yy - xx @ np.linalg.lstsq(xx, yy, rcond=None)[0]
            return 16 / 2 * np.log(e @ e / 16) - float(np.sum(np.log(np.abs(1 - rho * eig))))

        lo = 1 / eig.min()
        best = minimize_scalar(negative, bounds=(lo + 1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-10})
        assert result.spatial == pytest.approx(best.x, abs=1e-5)  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", ["ols", "lag", "error"])
def test_spatial_models_with_a_zero_population_area_say_which(city: ak.City, ws: sc.Workspace, model: str) -> None:
    try:
        an.correlates(ws, _covariates(city), model=model)
    except InputError as error:
        # The zero-population area leaves the rate models; what may stop them is the island, named.
        assert ak.ZERO in str(error) or "population" in str(error) or "K50" in str(error), str(error)


# -- edge cases: no incident at all, a single incident --------------------------------------------------------
CALLS: dict[str, Callable[[sc.Workspace, an.Selection], object]] = {
    "area_counts": lambda ws, s: an.area_counts(ws, selection=s),
    "area_rates": lambda ws, s: an.area_rates(ws, annual=False, selection=s),
    "concentration_areas": lambda ws, s: an.place_concentration(ws, s),
    "concentration_grid": lambda ws, s: an.place_concentration(ws, s, places="grid", cell_size=500.0),
    "grid_square": lambda ws, s: an.grid_counts(ws, s, cell_size=500.0),
    "grid_h3": lambda ws, s: an.grid_counts(ws, s, cell_size=500.0, shape="h3"),
    "density": lambda ws, s: an.density(ws, s, bandwidth=500.0),
    "density_rule": lambda ws, s: an.density(ws, s),
    "risk": lambda ws, s: an.density(ws, s, bandwidth=500.0, per_population=True),
    "hotspots_grid": lambda ws, s: an.hotspots(ws, s, cell_size=500.0, permutations=99),
    "hotspots_areas": lambda ws, s: an.hotspots(ws, s, places="areas", value="count", permutations=99),
    "local_moran_areas": lambda ws, s: an.hotspots(
        ws, s, statistic="local_moran", places="areas", value="count", permutations=99
    ),
    "moran_areas": lambda ws, s: an.autocorrelation(ws, s, value="count", permutations=99),
    "moran_grid": lambda ws, s: an.autocorrelation(ws, s, places="grid", cell_size=500.0, permutations=99),
    "poisson": lambda ws, s: an.correlates(ws, _covariates_for(ws), selection=s, model="poisson"),
    "negbin": lambda ws, s: an.correlates(ws, _covariates_for(ws), selection=s, model="negbin"),
}


def _covariates_for(ws: sc.Workspace) -> pd.DataFrame:
    ids = list(an.areas_at(ws)["area_id"])
    return pd.DataFrame(
        {"east": [float(a[1]) for a in ids], "north": [float(a[2]) for a in ids]}, index=pd.Index(ids, name="area_id")
    )


def _no_inf(value: object) -> None:
    frames: list[pd.DataFrame] = []
    if isinstance(value, pd.DataFrame):
        frames.append(value)
    elif hasattr(value, "to_frame"):
        frames.append(value.to_frame())  # type: ignore[attr-defined]
    elif isinstance(value, tuple):
        frames += [v.to_frame() for v in value]
    for frame in frames:
        numeric = frame.select_dtypes("number").to_numpy(float)
        assert not np.isinf(numeric).any()


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("selection", [NOTHING, SINGLE], ids=["no_incident", "single_incident"])
def test_edge_selections_give_a_result_or_an_input_error(ws: sc.Workspace, name: str, selection: an.Selection) -> None:
    try:
        value = CALLS[name](ws, selection)
    except InputError as error:
        assert str(error).strip()
        return
    _no_inf(value)


def test_no_incident_results_are_well_defined(ws: sc.Workspace) -> None:
    counts = an.area_counts(ws, selection=NOTHING)
    assert len(counts) == 17 and (counts["count"] == 0).all()
    rates = an.area_rates(ws, annual=False, selection=NOTHING)
    populated = rates["population"] > 0
    assert (rates.loc[populated, "rate"] == 0).all() and (rates.loc[populated, "rate_lower"] == 0).all()
    upper = stats.chi2.ppf(0.975, 2) / 2 / rates.loc[populated, "population"] * 1e5
    np.testing.assert_allclose(rates.loc[populated, "rate_upper"], upper, rtol=1e-10)
    grid = an.grid_counts(ws, NOTHING, cell_size=500.0)
    assert grid.count.sum() == 0 and grid.n_cells > 0
    conc = an.place_concentration(ws, NOTHING)
    assert conc.n_crimes == 0 and np.isnan(conc.gini)
    with pytest.raises(InputError, match="at least one point"):
        an.density(ws, NOTHING, bandwidth=500.0)
    with pytest.raises(InputError, match="all equal"):
        an.autocorrelation(ws, NOTHING, value="count", permutations=99)
    with pytest.raises(InputError, match="every count is zero"):
        an.correlates(ws, _covariates_for(ws), selection=NOTHING, model="poisson")


def test_single_incident_results(ws: sc.Workspace) -> None:
    counts = an.area_counts(ws, selection=SINGLE).set_index("area_id")["count"]
    assert counts.sum() == 1 and counts["K22"] == 1
    conc = an.place_concentration(ws, SINGLE)
    assert conc.gini == pytest.approx(16 / 17, abs=1e-12)  # one place holds all: (n - 1) / n
    assert conc.generalized_gini == pytest.approx(0.0, abs=1e-12)  # as equal as one crime can be
    grid = an.grid_counts(ws, SINGLE, cell_size=500.0)
    assert grid.count.sum() == 1
    hot = an.hotspots(ws, SINGLE, places="areas", value="count", permutations=99)
    assert set(hot.to_geodataframe()["label"]) <= LOCAL_LABELS
    moran_result, _ = an.autocorrelation(ws, SINGLE, value="count", permutations=99)
    assert np.isfinite(moran_result.I)
