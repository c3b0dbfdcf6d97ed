"""Kernel density: the exact path against a brute-force sum, the binned path against the exact one,
normalisation, grid conventions, bandwidth rules, guards, the result object and dual KDE."""

from __future__ import annotations

import math

import numpy as np
import pytest

from safercities.errors import InputError
from safercities.stats import kde as kde_module
from safercities.stats.kde import DensitySurface, dual_kde, kde, select_bandwidth
from safercities.stats.provenance import input_hash

BINNED_TOL = 1e-2
"""The binned path's bound: max |binned - exact| / max(exact) over the grid."""


def _points(n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [1500.0, 800.0], [-900.0, 1200.0]])
    which = rng.integers(0, 3, n)
    xy = centres[which] + rng.normal(0, 350.0, (n, 2))
    return xy[:, 0], xy[:, 1]


def _brute_force(x, y, w, cx, cy, h, kernel):
    """Every point against every cell centre, written out from the kernels' definitions."""
    d2 = (cx.ravel()[:, None] - x[None, :]) ** 2 + (cy.ravel()[:, None] - y[None, :]) ** 2
    if kernel == "quartic":
        u2 = d2 / h**2
        k = np.where(u2 < 1, 3 / (math.pi * h**2) * (1 - u2) ** 2, 0.0)
    else:
        k = np.exp(-d2 / (2 * h**2)) / (2 * math.pi * h**2)
    return (k @ w).reshape(cx.shape)


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_exact_path_equals_brute_force_sum(kernel: str, weighted: bool, engine: str, monkeypatch) -> None:
    monkeypatch.setattr(kde_module, "NUMPY_EXACT_LIMIT", 0 if engine == "numba" else 10**9)
    x, y = _points()
    w = np.random.default_rng(9).uniform(0.5, 3, x.size) if weighted else None
    s = kde(x, y, cell_size=75, bandwidth=400.0, kernel=kernel, weights=w, method="exact")
    cx, cy = np.meshgrid(s.x, s.y)
    want = _brute_force(x, y, np.ones(x.size) if w is None else w, cx, cy, 400.0, kernel)
    np.testing.assert_allclose(s.values, want, rtol=1e-10, atol=1e-12 * want.max())
    assert s.method == "exact"


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_numpy_exact_path_equals_numba_path(kernel: str) -> None:
    x, y = _points(1000)
    g = kde_module._make_grid(x, y, 40.0, None, 10**6)
    assert x.size * g.nx * g.ny > kde_module.NUMPY_EXACT_LIMIT  # so that _exact takes the numba kernel
    numba_values = kde_module._exact(x, y, None, g, 350.0, kernel)
    numpy_values = kde_module._exact_numpy(x, y, None, g, 350.0, kernel)
    np.testing.assert_allclose(numba_values, numpy_values, rtol=1e-12, atol=1e-14 * numpy_values.max())


def test_numpy_binning_equals_numba_binning() -> None:
    x, y = _points(2000)
    w = np.random.default_rng(1).uniform(0, 2, x.size)
    for weights in (None, w):
        out = np.zeros((60, 80), np.float32)  # the binned path bins in single precision
        binning = kde_module._jit(kde_module._bin_linear)
        binning(x, y, np.empty(0) if weights is None else weights, -2500.0, -2000.0, 60.0, out)
        ref = kde_module._bin_linear_numpy(x, y, weights, -2500.0, -2000.0, 60.0, (60, 80))
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
        assert out.sum() == pytest.approx(ref.sum(), rel=1e-5)


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize(("cell", "h"), [(50.0, 60.0), (50.0, 200.0), (100.0, 150.0), (40.0, 700.0)])
def test_binned_path_within_stated_error_of_exact(kernel: str, cell: float, h: float) -> None:
    x, y = _points(1500)
    exact = kde(x, y, cell_size=cell, bandwidth=h, kernel=kernel, method="exact")
    binned = kde(x, y, cell_size=cell, bandwidth=h, kernel=kernel, method="binned")
    assert binned.method == "binned"
    assert binned.shape == exact.shape
    np.testing.assert_array_equal(binned.x, exact.x)
    err = np.abs(binned.values - exact.values).max() / exact.values.max()
    assert err <= BINNED_TOL, err


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_binned_path_with_weights_and_duplicates(engine: str, monkeypatch) -> None:
    monkeypatch.setattr(kde_module, "NUMPY_BINNING_LIMIT", 0 if engine == "numba" else 10**9)
    x, y = _points(500)
    x = np.concatenate([x, np.full(200, 10.0)])  # a pile of duplicates (one address, many reports)
    y = np.concatenate([y, np.full(200, 20.0)])
    w = np.random.default_rng(2).uniform(0, 4, x.size)
    exact = kde(x, y, cell_size=50, bandwidth=250.0, weights=w, method="exact")
    binned = kde(x, y, cell_size=50, bandwidth=250.0, weights=w, method="binned")
    assert np.abs(binned.values - exact.values).max() / exact.values.max() <= BINNED_TOL


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("method", ["exact", "binned"])
def test_surface_integrates_to_number_of_points(kernel: str, method: str) -> None:
    x, y = _points(800)
    h = 300.0
    margin = h * (1 if kernel == "quartic" else 7)
    bounds = (x.min() - margin, y.min() - margin, x.max() + margin, y.max() + margin)
    s = kde(x, y, cell_size=30, bounds=bounds, bandwidth=h, kernel=kernel, method=method)
    assert s.integral() == pytest.approx(800, rel=1e-3)
    w = np.random.default_rng(4).uniform(0, 2, x.size)
    sw = kde(x, y, cell_size=30, bounds=bounds, bandwidth=h, kernel=kernel, method=method, weights=w)
    assert sw.integral() == pytest.approx(w.sum(), rel=1e-3)
    sp = kde(x, y, cell_size=30, bounds=bounds, bandwidth=h, kernel=kernel, method=method, scale="probability")
    assert sp.integral() == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_allclose(sp.values * 800, s.values, rtol=1e-12)


def test_grid_convention_and_default_bounds() -> None:
    x = np.array([0.0, 1000.0, 250.0])
    y = np.array([0.0, 420.0, 100.0])
    s = kde(x, y, cell_size=100, bandwidth=300.0)
    # bbox grown by half a cell: [-50, 1050] x [-50, 470] -> 11 x 6 cells (the last row reaches past 470)
    assert s.shape == (6, 11)
    assert s.bounds == (-50.0, -50.0, 1050.0, 550.0)
    np.testing.assert_allclose(s.x, -50 + 100 * (np.arange(11) + 0.5))
    np.testing.assert_allclose(s.y, -50 + 100 * (np.arange(6) + 0.5))
    b = kde(x, y, cell_size=100, bounds=(0, 0, 1000, 400), bandwidth=300.0)
    assert b.shape == (4, 10)
    assert b.x[0] == 50.0 and b.y[-1] == 350.0


def test_points_outside_bounds_contribute_to_cells_within_reach() -> None:
    x, y = _points(600)
    for method in ("exact", "binned"):
        full = kde(x, y, cell_size=50, bounds=(-2000, -1500, 2500, 2500), bandwidth=300.0, method=method)
        part = kde(x, y, cell_size=50, bounds=(0, 0, 1000, 1000), bandwidth=300.0, method=method)
        i0 = int(np.searchsorted(full.x, part.x[0]))
        j0 = int(np.searchsorted(full.y, part.y[0]))
        window = full.values[j0 : j0 + part.shape[0], i0 : i0 + part.shape[1]]
        np.testing.assert_allclose(part.values, window, rtol=1e-5, atol=1e-6 * full.values.max())
    # a lone point 200 m west of the grid still reaches it; one 400 m away does not (quartic radius 300)
    near = kde([-200.0], [500.0], cell_size=50, bounds=(0, 0, 1000, 1000), bandwidth=300.0)
    far = kde([-400.0], [500.0], cell_size=50, bounds=(0, 0, 1000, 1000), bandwidth=300.0)
    assert near.values.max() > 0
    assert far.values.max() == 0


def test_auto_method_and_auto_cell_size() -> None:
    x, y = _points(50)
    small = kde(x, y, bandwidth=300.0)
    assert small.method == "exact"
    side = min(np.ptp(x), np.ptp(y))
    assert small.cell_size == math.floor(side / 50 / 10) * 10 or small.cell_size <= side / 50
    rng = np.random.default_rng(0)
    big = kde(rng.uniform(0, 1e4, 200_000), rng.uniform(0, 1e4, 200_000), cell_size=10, bandwidth=100.0)
    assert big.method == "binned"
    assert kde_module._auto_cell_size(np.array([0.0, 30_000.0]), np.array([0.0, 28_558.0])) == 500.0
    assert kde_module._auto_cell_size(np.array([0.0, 3.0]), np.array([0.0, 4.0])) == 0.05


def test_bandwidth_rules() -> None:
    x, y = _points(500)
    n = x.size

    def nrd(v: np.ndarray) -> float:
        q1, q3 = np.percentile(v, [25, 75])
        return 4 * 1.06 * min(v.std(ddof=1), (q3 - q1) / 1.34) * n ** (-1 / 5)

    assert select_bandwidth(x, y, "nrd") == pytest.approx((nrd(x) + nrd(y)) / 2, rel=1e-12)
    assert select_bandwidth(x, y, "rule") == select_bandwidth(x, y, "nrd")
    assert select_bandwidth(x, y, "sfhotspot") == pytest.approx(nrd(x), rel=1e-12)
    assert select_bandwidth(x, y, "nrd", kernel="gaussian") == pytest.approx(select_bandwidth(x, y, "nrd") / 4)
    sd = math.sqrt((x.var(ddof=1) + y.var(ddof=1)) / 2) * n ** (-1 / 6)
    assert select_bandwidth(x, y, "silverman", kernel="gaussian") == pytest.approx(sd, rel=1e-12)
    assert select_bandwidth(x, y, "scott", kernel="gaussian") == pytest.approx(sd, rel=1e-12)
    assert select_bandwidth(x, y, "scott", kernel="quartic") == pytest.approx(math.sqrt(8) * sd, rel=1e-12)
    s = kde(x, y, cell_size=100, bandwidth="silverman", kernel="gaussian")
    assert s.bandwidth == pytest.approx(sd)
    assert s.provenance["parameters"]["bandwidth_rule"] == "silverman"


def test_quartic_radius_sqrt8_matches_gaussian_variance() -> None:
    """The quartic kernel with radius sqrt(8) sd has per-axis variance sd^2 (the rules' conversion)."""
    sd = 100.0
    s = kde([0.0], [0.0], cell_size=2, bounds=(-400, -400, 400, 400), bandwidth=math.sqrt(8) * sd, method="exact")
    cx, _ = np.meshgrid(s.x, s.y)
    var_x = float((s.values * cx**2).sum() / s.values.sum())
    assert var_x == pytest.approx(sd**2, rel=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bandwidth": 0.0}, "'bandwidth' parameter of kde must be a finite number > 0"),
        ({"bandwidth": -5.0}, "must be a finite number > 0"),
        ({"bandwidth": float("nan")}, "must be a finite number > 0"),
        ({"bandwidth": True}, "must be a finite number > 0"),
        ({"bandwidth": "magic"}, "'bandwidth' parameter of kde must be one of"),
        ({"cell_size": 0}, "'cell_size' parameter of kde must be a finite number > 0"),
        ({"kernel": "epanechnikov"}, "'kernel' parameter of kde must be one of 'quartic', 'gaussian'"),
        ({"method": "fast"}, "'method' parameter"),
        ({"scale": "percent"}, "'scale' parameter"),
        ({"bounds": (10, 0, 0, 10)}, "xmax > xmin"),
        ({"bounds": (0, 0, 10)}, "bounds must be (xmin, ymin, xmax, ymax)"),
        ({"weights": [1.0, -1.0, 2.0]}, "non-negative"),
        ({"weights": [1.0, 2.0]}, "one value per point"),
        ({"weights": [0.0, 0.0, 0.0]}, "sum to zero"),
    ],
)
def test_guards(kwargs: dict, message: str) -> None:
    x, y = [0.0, 100.0, 300.0], [0.0, 50.0, 200.0]
    params = {"bandwidth": 100.0, "cell_size": 25.0} | kwargs
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kde(x, y, **params)


def test_no_points_and_missing_coordinates() -> None:
    with pytest.raises(InputError, match="no points"):
        kde([], [], bandwidth=100.0, cell_size=10)
    with pytest.raises(InputError, match=r"1 of the points have a missing or infinite coordinate \(the first at "):
        kde([0.0, np.nan, 3.0], [1.0, 2.0, 3.0], bandwidth=100.0, cell_size=10)
    with pytest.raises(InputError, match="infinite"):
        kde([0.0, np.inf], [1.0, 2.0], bandwidth=100.0, cell_size=10)
    with pytest.raises(InputError, match="one length"):
        kde([0.0, 1.0], [1.0], bandwidth=100.0, cell_size=10)
    with pytest.raises(InputError, match="at least two points"):
        kde([5.0], [5.0], cell_size=10)
    with pytest.raises(InputError, match="no spread"):
        kde([5.0, 5.0, 5.0], [1.0, 2.0, 3.0], cell_size=1, bandwidth="sfhotspot")


def test_giant_grid_is_refused_before_allocation() -> None:
    # a city around (500000, 4000000) with one stray point at 0,0 and 10 m cells: ~2e11 cells
    x = np.array([500_000.0, 501_000.0, 0.0])
    y = np.array([4_000_000.0, 4_001_000.0, 0.0])
    with pytest.raises(InputError, match=r"the grid would have about .* cells .* over the limit of 25,000,000"):
        kde(x, y, cell_size=10, bandwidth=300.0)
    with pytest.raises(InputError, match="over the limit of 1,000"):
        kde(x[:2], y[:2], cell_size=10, bandwidth=300.0, max_cells=1000)
    with pytest.raises(InputError, match="binned path's lattice"):
        kde(x[:2], y[:2], cell_size=100, bandwidth=2.0, method="binned", max_cells=1000)


def test_result_object() -> None:
    x, y = _points(200)
    x_before = x.copy()
    s = kde(x, y, cell_size=200, bandwidth=500.0)
    np.testing.assert_array_equal(x, x_before)
    assert isinstance(s, DensitySurface)
    with pytest.raises(AttributeError):
        s.bandwidth = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        s.values[0, 0] = 1.0
    frame = s.to_frame()
    assert list(frame.columns) == ["row", "col", "x", "y", "density"]
    assert len(frame) == s.values.size
    r = frame.iloc[s.shape[1] + 2]
    assert (r["row"], r["col"]) == (1, 2)
    assert r["density"] == s.values[1, 2] and r["x"] == s.x[2] and r["y"] == s.y[1]
    np.testing.assert_allclose(s.per_square_km(), s.values * 1e6)
    text = s.summary()
    assert "quartic" in text and "bandwidth 500" in text and "points: 200" in text
    prov = s.provenance
    assert prov["function"] == "safercities.stats.kde.kde"
    assert prov["input_sha256"] == input_hash(x, y)
    assert prov["parameters"]["kernel"] == "quartic"
    gdf = s.to_geodataframe("EPSG:32615")
    assert len(gdf) == s.values.size
    assert gdf.crs.to_epsg() == 32615
    assert gdf.geometry.iloc[0].area == pytest.approx(200.0**2)
    assert gdf.geometry.iloc[0].centroid.x == pytest.approx(s.x[0])
    with pytest.raises(InputError, match="intensity"):
        kde(x, y, cell_size=200, bandwidth=500.0, scale="probability").per_square_km()


def test_dual_kde_risk_floor_and_nan() -> None:
    rng = np.random.default_rng(5)
    px, py = rng.uniform(0, 2000, 400), rng.uniform(0, 2000, 400)
    residents = rng.integers(1, 50, 400).astype(float)
    ex, ey = rng.uniform(0, 2000, 100), rng.uniform(0, 2000, 100)
    bounds = (-1000, -1000, 3000, 3000)
    r = dual_kde((ex, ey), (px, py), population_weights=residents, cell_size=50, bounds=bounds, bandwidth=300.0)
    ev = kde(ex, ey, cell_size=50, bounds=bounds, bandwidth=300.0)
    pop = kde(px, py, cell_size=50, bounds=bounds, bandwidth=300.0, weights=residents)
    np.testing.assert_allclose(r.events.values, ev.values)
    np.testing.assert_allclose(r.population.values, pop.values)
    floor = 0.01 * pop.values.max()
    assert r.floor == pytest.approx(floor)
    inside = pop.values >= floor
    np.testing.assert_allclose(r.risk[inside], ev.values[inside] / pop.values[inside])
    thin = (pop.values < floor) & (pop.values > 1e-12 * pop.values.max())
    assert thin.any()
    np.testing.assert_allclose(r.risk[thin], ev.values[thin] / floor)
    empty = pop.values == 0  # the corners, beyond every resident's reach
    assert empty.any() and np.isnan(r.risk[empty]).all()
    frame = r.to_frame()
    assert {"event_density", "population_density", "floored", "risk"} <= set(frame.columns)
    assert int(frame["floored"].sum()) == int(thin.sum())
    assert "floored" in r.summary()
    # a precomputed population surface gives the same risk; an (n, 2) array of events works too
    r2 = dual_kde(np.c_[ex, ey], pop, bandwidth=300.0)
    np.testing.assert_allclose(r2.risk, r.risk, equal_nan=True)
    with pytest.raises(InputError, match="floor_fraction"):
        dual_kde((ex, ey), pop, floor_fraction=1.5)
    with pytest.raises(InputError, match=r"\(x, y\) arrays or an \(n, 2\) array"):
        dual_kde(np.zeros((3, 3)), pop)
