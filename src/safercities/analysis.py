"""The observatory's analyses of a workspace: one service function per question.

The CLI (``safercities analyse …``), the reports and the web pages all call these functions, so a
number is computed once. Each takes a :class:`~safercities.workspace.Workspace` and a
:class:`Selection` (which offences, which period, which areas) and returns a frame or a result
object of :mod:`safercities.stats`; the statistics themselves stay pure functions there.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from safercities.errors import InputError
from safercities.ingest.areas import lineage
from safercities.stats.concentration import Concentration, concentration
from safercities.stats.grids import GridCounts, H3Counts, h3_counts, square_grid_counts
from safercities.stats.neighbours import contiguity
from safercities.stats.rates import poisson_rate
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


def area_rates(
    ws: Workspace,
    level: str | None = None,
    selection: Selection = ALL,
    *,
    per: float = 100_000,
    rule: str = "queen",
) -> gpd.GeoDataFrame:
    """Per area: count, population, crude rate with its exact interval, global and spatial empirical Bayes
    rates, and excess risk (observed / expected at the city rate) with its interval."""
    table = area_counts(ws, level, selection)
    count = table["count"].to_numpy()
    population = table["population"].to_numpy(dtype=float)
    population = np.where(np.isfinite(population), population, 0.0)
    crude = poisson_rate(
        count, population, per=per, min_count=ws.config.rates.min_count, min_population=ws.config.rates.min_population
    )
    weights = area_weights(ws, level, rule)
    global_eb = empirical_bayes(count, population, per=per)
    spatial_eb = spatial_empirical_bayes(count, population, weights, per=per)
    risk = excess_risk(count, population)
    out = table.copy()
    out["rate"], out["rate_lower"], out["rate_upper"] = crude.rate, crude.lower, crude.upper
    out["unstable"] = crude.unstable
    out["rate_eb"] = global_eb.smoothed
    out["rate_spatial_eb"] = spatial_eb.smoothed
    out["excess_risk"], out["excess_risk_lower"], out["excess_risk_upper"] = risk.ratio, risk.lower, risk.upper
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
