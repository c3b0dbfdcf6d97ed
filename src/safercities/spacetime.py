"""The observatory's analyses over time: trends, change, the weekly rhythm, emerging hot spots, alerts.

Like :mod:`safercities.analysis`, one service function per question over a workspace; the statistics
are the pure functions of :mod:`safercities.stats.timeseries`, :mod:`~safercities.stats.emerging` and
:mod:`~safercities.stats.earlywarning`. Periods are in the city's local time.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safercities.analysis import ALL, Selection, area_weights, areas_at
from safercities.errors import InputError, check_choice
from safercities.ingest.areas import lineage
from safercities.stats.earlywarning import AlertResult, BaselineResult, alerts, baseline
from safercities.stats.emerging import EmergingResult, emerging_hotspots
from safercities.stats.forecast import Evaluation, PlaceSurface, SelfExcitingFit, evaluate, fit_self_exciting, forecast
from safercities.stats.nearrepeat import KnoxResult, knox
from safercities.stats.timeseries import Decomposition, TimeProfile, YearOverYear, aoristic, decompose, year_over_year
from safercities.workspace import Workspace


def counts_by_period(
    ws: Workspace, by: str = "month", level: str | None = None, selection: Selection = ALL
) -> pd.DataFrame:
    """Areas (rows, in area id order) x local periods (columns) of the selected incidents, zeros included."""
    level = level or ws.default_level()
    links = lineage(ws.store.areas(), level).dropna(subset=["target_id"])
    long = ws.store.period_counts(by, links, ws.config.timezone, selection.iccs, selection.start, selection.end)
    if long.empty or long["count"].sum() == 0:  # the periods span the data, so zeros alone mean nothing selected
        raise InputError(f"no incidents ({selection.describe()}) to count by {by}")
    return long.pivot(index="area_id", columns="period", values="count").sort_index()


def trend(ws: Workspace, selection: Selection = ALL, *, by: str = "month") -> Decomposition:
    """The city's series split into trend, season and remainder (STL): is it rising, or is it the season?"""
    check_choice("by", by, ("month", "week"), "trend")
    series = counts_by_period(ws, by, selection=selection).sum(axis=0)
    series.index = pd.DatetimeIndex(series.index)
    return decompose(series.astype(float))


def change(ws: Workspace, year: int, level: str | None = None, selection: Selection = ALL) -> YearOverYear:
    """Each area's count in ``year`` against the year before: rate ratio, exact interval, FDR across areas."""
    now = Selection(selection.iccs, f"{year}-01-01", f"{year + 1}-01-01")
    before = Selection(selection.iccs, f"{year - 1}-01-01", f"{year}-01-01")
    counts_now = counts_by_period(ws, "year", level, now).sum(axis=1)
    counts_before = counts_by_period(ws, "year", level, before).sum(axis=1)
    return year_over_year(counts_now, counts_before.reindex(counts_now.index))


def weekly_rhythm(ws: Workspace, selection: Selection = ALL) -> TimeProfile:
    """Incidents by day of week x hour, windows of unknown occurrence shared out in proportion (aoristic)."""
    times = ws.store.incident_times(selection.iccs, selection.start, selection.end, ws.config.timezone)
    if len(times) == 0:
        raise InputError(f"no incidents {selection.describe()}")
    return aoristic(times["occurred_from"].to_numpy(), times["occurred_to"].to_numpy(), unit="dow_hour")


@dataclass(frozen=True)
class EmergingMap:
    """Emerging hot spot categories with the areas' geometry for the map."""

    areas: gpd.GeoDataFrame
    result: EmergingResult

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        frame = self.result.to_frame().reset_index(drop=True)
        places = self.areas.reset_index(drop=True)
        return gpd.GeoDataFrame(
            pd.concat([places, frame.drop(columns=["id"], errors="ignore")], axis=1), crs=places.crs
        )

    def summary(self) -> str:
        return self.result.summary()


def emerging(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    by: str = "month",
    level: str | None = None,
    alpha: float = 0.05,
    time_window: int = 0,
) -> EmergingMap:
    """Emerging hot spot analysis of areas: Gi* per period (FDR), Mann-Kendall trend, ArcGIS-style categories."""
    cube = counts_by_period(ws, by, level, selection)
    areas = areas_at(ws, level).set_index("area_id").loc[cube.index].reset_index()
    weights = area_weights(ws, level)
    result = emerging_hotspots(cube.to_numpy(dtype=float), weights, alpha=alpha, time_window=time_window)
    return EmergingMap(areas, result)


@dataclass(frozen=True)
class EarlyWarning:
    """Weekly expected counts per area from the past only, and the weeks that exceed them."""

    baseline: BaselineResult
    alerts: AlertResult

    def summary(self) -> str:
        return f"{self.baseline.summary()}\n{self.alerts.summary()}"


def early_warning(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    level: str | None = None,
    method: str = "negbin",
    alpha: float = 0.01,
    control: str = "fdr_bh",
    min_history: int = 52,
) -> EarlyWarning:
    """Alerts where a week's count in an area exceeds its seasonal baseline, false alarms controlled per week."""
    counts = counts_by_period(ws, "week", level, selection)
    counts.columns = pd.DatetimeIndex(counts.columns)
    if counts.shape[1] <= min_history:
        raise InputError(
            f"early warning needs more than {min_history} weeks of history; the data has {counts.shape[1]}",
            hint="lower min_history, or import more years",
        )
    fitted = baseline(counts.astype(float), method=method, alpha=alpha, min_history=min_history)
    return EarlyWarning(fitted, alerts(None, fitted, alpha=alpha, control=control))


__all__ = [
    "EarlyWarning",
    "EmergingMap",
    "change",
    "counts_by_period",
    "early_warning",
    "emerging",
    "near_repeats",
    "place_forecast",
    "trend",
    "weekly_rhythm",
]


def near_repeats(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    distance_bands: tuple[float, ...] = (0.0, 100.0, 200.0, 300.0, 400.0, float("inf")),
    time_bands: tuple[float, ...] = (0.0, 7.0, 14.0, 21.0, 28.0, float("inf")),
    metric: str = "euclidean",
    convention: str = "half-open",
    permutations: int = 999,
    seed: int = 0,
) -> KnoxResult:
    """The Knox test of the selected incidents: do events close in space follow each other closely in time?

    Times are the start of each incident's window in local days; distances in the workspace CRS (metres)."""
    points = ws.store.incident_points(selection.iccs, selection.start, selection.end, ws.config.timezone)
    if points.num_rows < 2:
        raise InputError(f"the Knox test needs at least two incidents ({selection.describe()})")
    instants = pd.to_datetime(points.column("occurred_from").to_pandas(), utc=True)  # same rows as x, y
    local = instants.dt.tz_convert(ws.config.timezone).dt.tz_localize(None).dt.normalize()
    days = ((local - local.min()) / pd.Timedelta(days=1)).to_numpy()
    return knox(
        points.column("x").to_numpy(),
        points.column("y").to_numpy(),
        days,
        distance_bands=distance_bands,
        time_bands=time_bands,
        metric=metric,
        convention=convention,
        permutations=permutations,
        rng=np.random.default_rng(seed),
    )


@dataclass(frozen=True)
class PlaceForecast:
    """Where the selected incidents are expected next: the forecast from the last day of data, and how a
    forecast made the same way ``horizon_days`` earlier fared against what then happened."""

    fit: SelfExcitingFit
    surface: PlaceSurface
    backtest: Evaluation
    crs: str

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One square cell per row with its expected count (places only: no person is ever scored)."""
        frame = self.surface.to_frame()
        half = self.surface.cell_size / 2
        cells = shapely.box(frame["x"] - half, frame["y"] - half, frame["x"] + half, frame["y"] + half)
        return gpd.GeoDataFrame(frame, geometry=cells, crs=self.crs)

    def summary(self) -> str:
        return f"{self.fit.summary()}\n{self.surface.summary()}\nBacktest: {self.backtest.summary()}"


def place_forecast(
    ws: Workspace,
    selection: Selection = ALL,
    *,
    horizon_days: float = 28.0,
    cell_size: float = 250.0,
    bandwidth: float = 750.0,
) -> PlaceForecast:
    """A self-exciting (Mohler-style) forecast of places for the next ``horizon_days``, with its backtest:
    the same model fitted up to ``horizon_days`` before the end, scored by hit rate and PAI against the
    naive "last period's hot spots"."""
    points = ws.store.incident_points(selection.iccs, selection.start, selection.end, ws.config.timezone)
    if points.num_rows < 30:
        raise InputError(f"a forecast needs at least 30 incidents ({selection.describe()}); found {points.num_rows}")
    instants = pd.to_datetime(points.column("occurred_from").to_pandas(), utc=True)
    t = ((instants - instants.min()) / pd.Timedelta(days=1)).to_numpy()
    x, y = points.column("x").to_numpy(), points.column("y").to_numpy()
    end = float(np.ceil(t.max()))
    cut = end - horizon_days
    bounds = tuple(shapely.total_bounds(shapely.union_all(shapely.from_wkb(ws.finest_areas()["geometry"]))))
    options = {"cell_size": cell_size, "bandwidth": bandwidth, "bounds": bounds}
    past = t < cut
    earlier = fit_self_exciting(x[past], y[past], t[past], period=(0.0, cut), **options)  # type: ignore[arg-type]
    trial = forecast(earlier, at_time=cut, horizon_days=horizon_days, events=(x[past], y[past], t[past]))
    then = (t >= cut) & (t < end)
    before = (t >= cut - horizon_days) & past
    scored = evaluate(trial, trial.count(x[then], y[then]), previous_counts=trial.count(x[before], y[before]))
    fit = fit_self_exciting(x, y, t, period=(0.0, end), **options)  # type: ignore[arg-type]
    ahead = forecast(fit, at_time=end, horizon_days=horizon_days, events=(x, y, t))
    return PlaceForecast(fit, ahead, scored, ws.config.crs)
