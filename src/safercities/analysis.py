"""The observatory's analyses of a workspace: one service function per question.

The CLI (``safercities analyse …``), the reports and the web pages all call these functions, so a
number is computed once. Each takes a :class:`~safercities.workspace.Workspace` and a
:class:`Selection` (which offences, which period, which areas) and returns a frame or a result
object of :mod:`safercities.stats`; the statistics themselves stay pure functions there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safercities.errors import InputError, check_choice
from safercities.ingest.areas import lineage
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import read_table, resolve_column
from safercities.stats.autocorrelation import GearyResult, MoranResult, geary, moran
from safercities.stats.concentration import Concentration, concentration
from safercities.stats.grids import GridCounts, H3Counts, h3_counts, square_grid_counts
from safercities.stats.hotspots import LocalResult, getis_ord, local_moran
from safercities.stats.kde import DensitySurface, RiskSurface, dual_kde, kde
from safercities.stats.neighbours import contiguity, distance_band
from safercities.stats.rates import poisson_rate
from safercities.stats.regression import ml_error, ml_lag, negative_binomial_glm, ols_spatial, poisson_glm
from safercities.stats.smoothing import empirical_bayes, excess_risk, spatial_empirical_bayes
from safercities.stats.weights import SpatialWeights
from safercities.workspace import Workspace


@dataclass(frozen=True)
class Selection:
    """Which incidents an analysis uses: an ICCS code prefix ('04', '0501') and a local-time [start, end)."""

    iccs: str | None = None
    start: str | None = None
    end: str | None = None

    def describe(self) -> str:
        parts = [f"ICCS {self.iccs}" if self.iccs else "all offences"]
        if self.start or self.end:
            parts.append(f"from {self.start or 'the first record'} to {self.end or 'the last'}")
        return ", ".join(parts)


ALL = Selection()


def areas_at(ws: Workspace, level: str | None = None) -> gpd.GeoDataFrame:
    """The areas of one level (default: the finest), sorted by id, with population summed where missing."""
    level = level or ws.default_level()
    areas = ws.areas(level).sort_values("area_id").reset_index(drop=True)
    areas["population"] = ws.populations(level).reindex(areas["area_id"]).to_numpy()
    return areas


def area_counts(ws: Workspace, level: str | None = None, selection: Selection = ALL) -> gpd.GeoDataFrame:
    """Incidents per area of ``level`` (zeros included), with population: the table every area analysis starts from."""
    level = level or ws.default_level()
    areas = areas_at(ws, level)
    finest = ws.store.area_counts(selection.iccs, selection.start, selection.end, ws.config.timezone)
    links = lineage(ws.store.areas(), level).dropna(subset=["target_id"])
    rolled = links.merge(finest, on="area_id", how="left").groupby("target_id")["count"].sum(min_count=1)
    areas["count"] = rolled.reindex(areas["area_id"]).fillna(0).astype(np.int64).to_numpy()
    return areas[["area_id", "name", "level", "population", "count", "geometry"]]


def area_weights(ws: Workspace, level: str | None = None, rule: str = "queen") -> SpatialWeights:
    """Contiguity weights between the areas of a level, in the order of :func:`areas_at`."""
    areas = areas_at(ws, level)
    return contiguity(areas.geometry.to_numpy(), areas["area_id"].to_numpy(), rule=rule)


def years_covered(ws: Workspace, selection: Selection = ALL) -> float:
    """The length of the selection in years: its [start, end) when given, else the days the data covers
    (first to last incident of any offence: a rare offence's own first and last would shorten it)."""
    first, last = ws.store.time_span(None, selection.start, selection.end, ws.config.timezone)
    begin = pd.Timestamp(selection.start) if selection.start else (first.normalize() if first else None)
    finish = (
        pd.Timestamp(selection.end) if selection.end else (last.normalize() + pd.Timedelta(days=1) if last else None)
    )
    if begin is None or finish is None or finish <= begin:
        return float("nan")
    return (finish - begin) / pd.Timedelta(days=365.2425)


def area_rates(
    ws: Workspace,
    level: str | None = None,
    selection: Selection = ALL,
    *,
    per: float = 100_000,
    rule: str = "queen",
    annual: bool = True,
    weights: SpatialWeights | None = None,
) -> gpd.GeoDataFrame:
    """Per area: count, population, crude rate with its exact interval, global and spatial empirical Bayes
    rates, and excess risk (observed / expected at the city rate) with its interval.

    With ``annual`` (default) rates are per ``per`` inhabitants per year: the population is multiplied by
    the years the selection covers (person-years), as the SDG 16.1.1 homicide rate is."""
    table = area_counts(ws, level, selection)
    count = table["count"].to_numpy()
    population = table["population"].to_numpy(dtype=float)
    population = np.where(np.isfinite(population), population, 0.0)
    years = years_covered(ws, selection) if annual else 1.0
    if annual and np.isfinite(years):
        population = population * years
    crude = poisson_rate(
        count, population, per=per, min_count=ws.config.rates.min_count, min_population=ws.config.rates.min_population
    )
    weights = weights if weights is not None else area_weights(ws, level, rule)
    global_eb = empirical_bayes(count, population, per=per)
    spatial_eb = spatial_empirical_bayes(count, population, weights, per=per)
    risk = excess_risk(count, population)
    out = table.copy()
    out["rate"], out["rate_lower"], out["rate_upper"] = crude.rate, crude.lower, crude.upper
    out["unstable"] = crude.unstable
    out["rate_eb"] = global_eb.smoothed
    out["rate_spatial_eb"] = spatial_eb.smoothed
    out["excess_risk"], out["excess_risk_lower"], out["excess_risk_upper"] = risk.ratio, risk.lower, risk.upper
    out.attrs["years"] = years if annual else float("nan")
    return out


def place_concentration(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    places: str = "areas",
    level: str | None = None,
    cell_size: float = 250.0,
    bootstrap: int = 0,
    seed: int = 0,
) -> Concentration:
    """How concentrated crime is over places: areas of a level, or square grid cells of ``cell_size`` metres."""
    if places == "areas":
        counts = area_counts(ws, level, selection)["count"].to_numpy()
    elif places == "grid":
        counts = grid_counts(ws, selection, cell_size=cell_size).count
    else:
        raise InputError(
            f"The 'places' parameter of place_concentration must be 'areas' or 'grid'. Got {places!r} instead."
        )
    return concentration(counts, bootstrap=bootstrap, rng=np.random.default_rng(seed))


def _city_outline(ws: Workspace) -> shapely.Geometry:
    finest = ws.finest_areas()
    return shapely.union_all(shapely.from_wkb(finest["geometry"].to_numpy()))


def grid_counts(
    ws: Workspace, selection: Selection = ALL, *, cell_size: float = 250.0, shape: str = "square"
) -> GridCounts | H3Counts:
    """Incidents per grid cell over the city (cells touching its areas), square or H3 hexagons."""
    points = ws.store.incident_points(selection.iccs, selection.start, selection.end, ws.config.timezone)
    x, y = points.column("x").to_numpy(), points.column("y").to_numpy()
    outline = _city_outline(ws)
    if shape == "square":
        return square_grid_counts(x, y, cell_size, polygon=outline, crs=ws.config.crs)
    if shape == "h3":
        return h3_counts(x, y, crs=ws.config.crs, cell_size=cell_size, polygon=outline)
    raise InputError(f"The 'shape' parameter of grid_counts must be 'square' or 'h3'. Got {shape!r} instead.")


MODELS = ("poisson", "negbin", "ols", "lag", "error")


def read_covariates(path: Path, id_column: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A census or indicator table: one row per area (indexed by area id), numeric covariates."""
    table = read_table(path, SourceOptions())
    available = table.columns.column_names
    key = resolve_column(id_column, available, path, "the area id")
    wanted = [resolve_column(c, available, path, "a covariate") for c in columns] if columns else None
    frame = table.columns.to_pandas().set_index(key)
    frame.index = frame.index.astype(str)
    chosen = frame[wanted] if wanted else frame
    numeric = chosen.apply(lambda column: pd.to_numeric(column.str.replace(",", ".", regex=False), errors="coerce"))
    if wanted is None:
        numeric = numeric.loc[:, numeric.notna().all()]
        numeric = numeric.drop(columns=[c for c in ("population", "households") if c in numeric.columns])
    bad = [c for c in numeric.columns if numeric[c].isna().any()]
    if bad:
        raise InputError(f"covariates {bad} hold values that are not numbers", file=path)
    if numeric.index.has_duplicates:
        raise InputError("the area id repeats", file=path, column=key)
    return numeric


def correlates(
    ws: Workspace,
    covariates: pd.DataFrame,
    level: str | None = None,
    selection: Selection = ALL,
    *,
    model: str = "negbin",
    rule: str = "queen",
) -> object:
    """Regress area counts (or rates, for the spatial models) on covariates, aligned by area id.

    Count models (poisson, negbin) use log(population) as offset and report rate ratios; the spatial
    models (ols with diagnostics, lag, error) regress the rate per 100,000 with contiguity weights.
    """
    if model not in MODELS:
        raise InputError(
            f"The 'model' parameter of correlates must be one of {', '.join(MODELS)}. Got {model!r} instead."
        )
    table = area_counts(ws, level, selection)
    missing = sorted(set(table["area_id"]) - set(covariates.index))
    if missing:
        raise InputError(
            f"the covariates lack {len(missing)} areas of level {table['level'].iloc[0]!r}, e.g. {missing[:5]}"
        )
    x = covariates.loc[table["area_id"]]  # indexed by area id, so that results name the areas they drop
    outcome = selection.describe()
    population = table["population"].to_numpy(dtype=float)
    if model in ("poisson", "negbin"):
        fit = poisson_glm if model == "poisson" else negative_binomial_glm
        return fit(table["count"].to_numpy(), x, population, outcome=outcome)
    at_risk = np.isfinite(population) & (population > 0)
    if not at_risk.all():
        # A rate needs people: areas without population leave the rate models (their links go with them).
        dropped = table.loc[~at_risk, "area_id"].tolist()
        if at_risk.sum() < 3:
            raise InputError(f"too few areas with population for a rate model (without population: {dropped[:10]})")
    weights = area_weights(ws, level, rule).subset(at_risk)
    rate = poisson_rate(table["count"].to_numpy()[at_risk], population[at_risk]).rate
    x = x[at_risk]
    if model == "ols":
        return ols_spatial(rate, x, weights)
    return (ml_lag if model == "lag" else ml_error)(rate, x, weights)


def density(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    cell_size: float = 100.0,
    bandwidth: float | str = "rule",
    kernel: str = "quartic",
    per_population: bool = False,
) -> DensitySurface | RiskSurface:
    """Kernel density of the selected incidents over the city's extent; with ``per_population`` a risk
    surface (dual KDE): incidents over population, each finest area's population spread evenly over
    the grid cells it holds before smoothing with the same kernel."""
    points = ws.store.incident_points(selection.iccs, selection.start, selection.end, ws.config.timezone)
    x, y = points.column("x").to_numpy(), points.column("y").to_numpy()
    bounds = tuple(shapely.total_bounds(_city_outline(ws)))
    if not per_population:
        return kde(x, y, cell_size=cell_size, bounds=bounds, bandwidth=bandwidth, kernel=kernel)
    cx, cy, people = _population_cells(ws, bounds, cell_size)
    return dual_kde(
        np.column_stack([x, y]),
        np.column_stack([cx, cy]),
        population_weights=people,
        cell_size=cell_size,
        bounds=bounds,
        bandwidth=bandwidth,
        kernel=kernel,
    )


def _population_cells(
    ws: Workspace, bounds: tuple[float, ...], cell_size: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each finest area's population spread evenly over the grid cells whose centre it holds."""
    index, area_ids, _ = ws.area_index()
    finest = ws.finest_areas().set_index("area_id")
    population = finest["population"].reindex(area_ids).to_numpy(dtype=float)
    if not np.any(np.isfinite(population) & (population > 0)):
        raise InputError("a risk surface needs the areas' population: import areas with --population")
    xs = np.arange(bounds[0] + cell_size / 2, bounds[2], cell_size)
    ys = np.arange(bounds[1] + cell_size / 2, bounds[3], cell_size)
    cx, cy = (a.ravel() for a in np.meshgrid(xs, ys))
    area = index.assign(cx, cy)
    inside = area >= 0
    cells_per_area = np.bincount(area[inside], minlength=len(area_ids))
    share = np.where(cells_per_area > 0, np.nan_to_num(population) / np.maximum(cells_per_area, 1), 0.0)
    people = share[area[inside]]
    return cx[inside], cy[inside], people


STATISTICS = ("gi_star", "gi", "local_moran")
VALUES = ("count", "rate", "rate_eb")


@dataclass(frozen=True)
class HotspotMap:
    """Local statistics on places (areas or grid cells), with the places' geometry for the map."""

    places: gpd.GeoDataFrame
    result: LocalResult
    weights: SpatialWeights
    value: str

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One row per place: geometry, the analysed value and its local statistic, z, p, FDR p and label."""
        local = self.result.to_frame().drop(columns=["value"], errors="ignore").reset_index(drop=True)
        places = self.places.reset_index(drop=True)
        return gpd.GeoDataFrame(
            pd.concat([places, local.drop(columns=["id"], errors="ignore")], axis=1), crs=places.crs
        )

    def summary(self) -> str:
        return f"{self.result.summary()}\nWeights: {self.weights.summary()}."


def _places(
    ws: Workspace, selection: Selection, places: str, level: str | None, cell_size: float, value: str
) -> tuple[gpd.GeoDataFrame, np.ndarray, SpatialWeights]:
    """The places, the value analysed on each, and their weights (areas: queen contiguity; cells: 8 neighbours)."""
    if places == "areas":
        check_choice("value", value, VALUES, "hotspots")
        weights = area_weights(ws, level)  # built once: the rates' spatial EB and the statistic share it
        if value == "count":
            table = area_counts(ws, level, selection)
        else:
            table = area_rates(ws, level, selection, weights=weights)
        values = table[value].to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            raise InputError(f"some areas have no {value} (no population?): analyse counts with value='count'")
        return table, values, weights
    if places == "grid":
        grid = grid_counts(ws, selection, cell_size=cell_size)
        cells = grid.to_geodataframe()
        cells = cells.set_crs(ws.config.crs, allow_override=True) if cells.crs is None else cells
        frame = grid.to_frame()
        centres = np.column_stack([frame["x_center"], frame["y_center"]])
        weights = distance_band(centres, cell_size * 1.5, frame["cell_id"].to_numpy())
        return cells, grid.count.astype(float), weights
    raise InputError(f"The 'places' parameter of hotspots must be 'areas' or 'grid'. Got {places!r} instead.")


def hotspots(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    statistic: str = "gi_star",
    places: str = "grid",
    level: str | None = None,
    cell_size: float = 250.0,
    value: str = "rate_eb",
    permutations: int = 999,
    seed: int = 0,
    alpha: float = 0.05,
) -> HotspotMap:
    """Hot and cold spots (Getis-Ord Gi*/Gi) or clusters and outliers (local Moran) with permutation
    inference and false-discovery-rate control. On areas the value is a rate (empirical Bayes by
    default, so that small populations do not make spurious spots); on grid cells it is the count."""
    check_choice("statistic", statistic, STATISTICS, "hotspots")
    table, values, weights = _places(ws, selection, places, level, cell_size, value if places == "areas" else "count")
    rng = np.random.default_rng(seed)
    if statistic == "local_moran":
        result = local_moran(values, weights, permutations=permutations, rng=rng, alpha=alpha)
    else:
        result = getis_ord(
            values, weights, star=statistic == "gi_star", permutations=permutations, rng=rng, alpha=alpha
        )
    return HotspotMap(table, result, weights, value if places == "areas" else "count")


def autocorrelation(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    places: str = "areas",
    level: str | None = None,
    cell_size: float = 250.0,
    value: str = "rate_eb",
    permutations: int = 999,
    seed: int = 0,
) -> tuple[MoranResult, GearyResult]:
    """Global Moran's I and Geary's C of the value over places, with analytic and permutation inference."""
    _, values, weights = _places(ws, selection, places, level, cell_size, value if places == "areas" else "count")
    rng = np.random.default_rng(seed)
    return (
        moran(values, weights, permutations=permutations, rng=rng),
        geary(values, weights, permutations=permutations, rng=rng),
    )
