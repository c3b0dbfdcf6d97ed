"""`safercities analyse …`: the observatory's spatial analytics, each a thin call of safercities.analysis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.errors import SafercitiesError
from safercities.workspace import open_workspace

app = typer.Typer(help="Where crime concentrates and what it goes with: rates, grids, density, hotspots, models.")

LevelOption = Annotated[str | None, typer.Option(help="Area level (default: the finest).")]
IccsOption = Annotated[
    str | None, typer.Option("--iccs", help="Only offences whose ICCS code starts so (e.g. 04, 0501).")
]
StartOption = Annotated[str | None, typer.Option(help="From this local date (YYYY-MM-DD), included.")]
EndOption = Annotated[str | None, typer.Option(help="To this local date (YYYY-MM-DD), excluded.")]
OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the result (.gpkg, .parquet or .csv) and a .txt summary.")
]


def _selection(iccs: str | None, start: str | None, end: str | None):  # type: ignore[no-untyped-def]
    from safercities.analysis import Selection

    return Selection(iccs=iccs, start=start, end=end)


def _deliver(frame: pd.DataFrame, summary: str, out: Path | None, title: str, columns: list[str]) -> None:
    """Write the table and the summary when asked (first, so that a closed pipe loses nothing), then print."""
    if out is not None:
        write_frame(frame, out)
        out.with_suffix(".txt").write_text(summary + "\n", encoding="utf-8")
    console.print(summary, highlight=False)
    show_frame(frame[columns], title, limit=10)
    if out is not None:
        console.print(f"wrote {out} and {out.with_suffix('.txt')}")


@app.command("rates")
@friendly
def rates_command(
    level: LevelOption = None,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    per: Annotated[float, typer.Option(help="Rate per this many inhabitants.")] = 100_000,
    total: Annotated[bool, typer.Option("--total", help="Rates over the whole period instead of per year.")] = False,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Rates per area and year with exact intervals, global and spatial empirical Bayes smoothing, excess risk."""
    from safercities.analysis import area_rates

    selection = _selection(iccs, start, end)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        table = area_rates(ws, level, selection, per=per, annual=not total)
    flagged = int(table["unstable"].sum())
    span = "over the whole period" if total else f"per year (over {table.attrs['years']:.2f} years)"
    summary = (
        f"Rates per {per:,.0f} inhabitants {span} for {len(table)} areas ({selection.describe()}): "
        f"{int(table['count'].sum()):,} incidents; {flagged} rates unstable (few events or small population) — "
        "read their smoothed values (rate_eb, rate_spatial_eb) instead."
    )
    columns = ["area_id", "name", "count", "population", "rate", "rate_lower", "rate_upper", "rate_spatial_eb"]
    _deliver(table.round(2), summary, out, "rates by area", columns)


@app.command("concentration")
@friendly
def concentration_command(
    places: Annotated[str, typer.Option(help="Places: areas or grid.")] = "areas",
    level: LevelOption = None,
    cell_size: Annotated[float, typer.Option(help="Grid cell size in metres (places = grid).")] = 250.0,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples for intervals (0 = none).")] = 0,
    seed: Annotated[int, typer.Option(help="Random seed of the bootstrap.")] = 0,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Lorenz curve, Gini and generalised Gini, and the share of crime in the top 1%, 5% and 10% of places."""
    from safercities.analysis import place_concentration

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = place_concentration(
            ws,
            _selection(iccs, start, end),
            places=places,
            level=level,
            cell_size=cell_size,
            bootstrap=bootstrap,
            seed=seed,
        )
    frame = result.to_frame()
    _deliver(frame, result.summary(), out, "concentration", list(frame.columns))


@app.command("grid")
@friendly
def grid_command(
    cell_size: Annotated[
        float, typer.Option(help="Cell size in metres (hexagons: the closest H3 resolution).")
    ] = 250.0,
    shape: Annotated[str, typer.Option(help="square or h3.")] = "square",
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Incident counts on a square grid or on H3 hexagons over the city, empty cells included."""
    from safercities.analysis import grid_counts

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = grid_counts(ws, _selection(iccs, start, end), cell_size=cell_size, shape=shape)
    frame = result.to_geodataframe() if out is not None and out.suffix.lower() == ".gpkg" else result.to_frame()
    _deliver(frame, result.summary(), out, "cells", [c for c in frame.columns if c != "geometry"][:8])


@app.command("regress")
@friendly
def regress_command(
    covariates: Annotated[Path, typer.Argument(help="A table of covariates per area (CSV, Excel, Parquet).")],
    id: Annotated[str, typer.Option("--id", help="Column of the area id in the covariates table.")] = "area_id",  # noqa: A002
    columns: Annotated[
        str | None, typer.Option(help="Covariates to use, comma-separated (default: all numeric).")
    ] = None,
    model: Annotated[
        str, typer.Option(help="poisson, negbin (count models), ols, lag or error (rate models).")
    ] = "negbin",
    step: Annotated[
        float, typer.Option("--step", help="Describe rate ratios per this change of each covariate.")
    ] = 1.0,
    level: LevelOption = None,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """What crime goes with: count models give rate ratios with intervals; OLS adds spatial diagnostics."""
    from safercities.analysis import correlates, read_covariates

    names = [c.strip() for c in columns.split(",")] if columns else None
    table = read_covariates(covariates, id, names)
    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = correlates(ws, table, level, _selection(iccs, start, end), model=model)
    if model in ("poisson", "negbin"):
        per = dict.fromkeys(table.columns, step)
        summary = result.summary(per=per)  # type: ignore[attr-defined]
        frame = result.to_frame(per=per).reset_index()  # type: ignore[attr-defined]
    else:
        summary = result.summary()  # type: ignore[attr-defined]
        frame = result.to_frame().reset_index()  # type: ignore[attr-defined]
    _deliver(frame, summary, out, f"{model} model", list(frame.columns)[:6])


@app.command("kde")
@friendly
def kde_command(
    cell_size: Annotated[float, typer.Option(help="Cell size in metres.")] = 100.0,
    bandwidth: Annotated[
        str, typer.Option(help="Bandwidth in metres, or a rule: rule, nrd, silverman, scott.")
    ] = "rule",
    kernel: Annotated[str, typer.Option(help="quartic or gaussian.")] = "quartic",
    per_population: Annotated[
        bool, typer.Option("--per-population", help="A risk surface: incidents over population (dual KDE).")
    ] = False,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Kernel density of incidents (points per km²), or a risk surface per inhabitant."""
    from safercities.analysis import density

    try:
        width: float | str = float(bandwidth)
    except ValueError:
        width = bandwidth
    with open_workspace(chosen(workspace), read_only=True) as ws:
        surface = density(
            ws,
            _selection(iccs, start, end),
            cell_size=cell_size,
            bandwidth=width,
            kernel=kernel,
            per_population=per_population,
        )
        crs = ws.config.crs
    spatial = out is not None and out.suffix.lower() == ".gpkg"
    if per_population:
        frame = surface.to_frame()
        if spatial:
            cells = surface.events.to_geodataframe(crs)  # type: ignore[union-attr]
            frame = cells.assign(**{c: frame[c].to_numpy() for c in frame.columns if c not in cells.columns})
        summary = surface.events.summary()  # type: ignore[union-attr]
    else:
        frame = surface.to_geodataframe(crs) if spatial else surface.to_frame()  # type: ignore[union-attr]
        summary = surface.summary()
    _deliver(frame, summary, out, "density by cell", [c for c in frame.columns if c != "geometry"][:6])


PlacesOption = Annotated[str, typer.Option(help="Places: areas or grid.")]
ValueOption = Annotated[str, typer.Option(help="On areas: rate_eb (default), rate or count.")]
PermutationsOption = Annotated[int, typer.Option(help="Conditional permutations for the p-values.")]
SeedOption = Annotated[int, typer.Option(help="Random seed of the permutations.")]


@app.command("hotspots")
@friendly
def hotspots_command(
    statistic: Annotated[str, typer.Option(help="gi_star, gi or local_moran.")] = "gi_star",
    places: PlacesOption = "grid",
    level: LevelOption = None,
    cell_size: Annotated[float, typer.Option(help="Grid cell size in metres (places = grid).")] = 250.0,
    value: ValueOption = "rate_eb",
    permutations: PermutationsOption = 999,
    seed: SeedOption = 0,
    alpha: Annotated[float, typer.Option(help="False discovery rate for the significance flags.")] = 0.05,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Hot and cold spots (Getis-Ord Gi*) or clusters and outliers (local Moran), FDR-controlled."""
    from safercities.analysis import hotspots

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = hotspots(
            ws,
            _selection(iccs, start, end),
            statistic=statistic,
            places=places,
            level=level,
            cell_size=cell_size,
            value=value,
            permutations=permutations,
            seed=seed,
            alpha=alpha,
        )
    frame = result.to_geodataframe()
    shown = [c for c in ("area_id", "cell_id", "z", "p", "p_fdr", "label") if c in frame.columns]
    _deliver(frame, result.summary(), out, "local statistics", shown)


@app.command("moran")
@friendly
def moran_command(
    places: PlacesOption = "areas",
    level: LevelOption = None,
    cell_size: Annotated[float, typer.Option(help="Grid cell size in metres (places = grid).")] = 250.0,
    value: ValueOption = "rate_eb",
    permutations: PermutationsOption = 999,
    seed: SeedOption = 0,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Global spatial autocorrelation: Moran's I and Geary's C with analytic and permutation inference."""
    from safercities.analysis import autocorrelation

    with open_workspace(chosen(workspace), read_only=True) as ws:
        moran_result, geary_result = autocorrelation(
            ws,
            _selection(iccs, start, end),
            places=places,
            level=level,
            cell_size=cell_size,
            value=value,
            permutations=permutations,
            seed=seed,
        )
    frame = pd.concat([moran_result.to_frame(), geary_result.to_frame()]).reset_index()
    summary = f"{moran_result.summary()}\n{geary_result.summary()}"
    _deliver(frame, summary, out, "global autocorrelation", list(frame.columns)[:7])


@app.command("trend")
@friendly
def trend_command(
    by: Annotated[str, typer.Option("--by", help="month or week.")] = "month",
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The city's series split into trend, season and remainder (STL)."""
    from safercities.spacetime import trend

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = trend(ws, _selection(iccs, start, end), by=by)
    frame = result.to_frame().reset_index()
    _deliver(frame, result.summary(), out, "trend and season", list(frame.columns)[:6])


@app.command("change")
@friendly
def change_command(
    year: Annotated[int, typer.Option(help="The year compared with the one before.")],
    level: LevelOption = None,
    iccs: IccsOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Year-over-year change per area: rate ratio, exact interval and p-value, FDR across areas."""
    from safercities.spacetime import change

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = change(ws, year, level, _selection(iccs, None, None))
    frame = result.to_frame().reset_index()
    _deliver(frame, result.summary(), out, f"{year} against {year - 1}", list(frame.columns)[:7])


@app.command("rhythm")
@friendly
def rhythm_command(
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Day of week x hour profile; incidents known only within a window are shared out (aoristic)."""
    from safercities.spacetime import weekly_rhythm

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = weekly_rhythm(ws, _selection(iccs, start, end))
    frame = result.to_frame().reset_index()
    _deliver(frame, result.summary(), out, "day x hour", list(frame.columns)[:9])


@app.command("emerging")
@friendly
def emerging_command(
    by: Annotated[str, typer.Option("--by", help="Time slice: week, month or quarter.")] = "month",
    level: LevelOption = None,
    alpha: Annotated[float, typer.Option(help="False discovery rate within each slice.")] = 0.05,
    time_window: Annotated[int, typer.Option(help="Earlier slices in each Gi* neighbourhood (0: none).")] = 0,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Emerging hot spots per area: new, consecutive, intensifying, persistent, diminishing, sporadic, …"""
    from safercities.spacetime import emerging

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = emerging(ws, _selection(iccs, start, end), by=by, level=level, alpha=alpha, time_window=time_window)
    frame = result.to_geodataframe()
    _deliver(frame, result.summary(), out, "emerging hot spots", ["area_id", "category", "trend_z", "n_hot", "n_cold"])


@app.command("alerts")
@friendly
def alerts_command(
    method: Annotated[str, typer.Option(help="Baseline: negbin (seasonal GLM) or farrington.")] = "negbin",
    alpha: Annotated[float, typer.Option(help="Alert level (false discovery rate across areas, per week).")] = 0.01,
    min_history: Annotated[int, typer.Option(help="Weeks of past data a baseline needs.")] = 52,
    level: LevelOption = None,
    iccs: IccsOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Early warning: weeks in which an area's count exceeds its seasonal baseline from the past only."""
    from safercities.spacetime import early_warning

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = early_warning(
            ws, _selection(iccs, None, None), level=level, method=method, alpha=alpha, min_history=min_history
        )
    frame = result.alerts.to_frame()
    _deliver(frame, result.summary(), out, "alerts", list(frame.columns)[:7])


@app.command("knox")
@friendly
def knox_command(
    distances: Annotated[str, typer.Option(help="Distance band edges in metres, comma-separated; 'inf' closes.")] = (
        "0,100,200,300,400,inf"
    ),
    days: Annotated[str, typer.Option(help="Time band edges in days, comma-separated; 'inf' closes.")] = (
        "0,7,14,21,28,inf"
    ),
    metric: Annotated[str, typer.Option(help="euclidean or manhattan.")] = "euclidean",
    convention: Annotated[str, typer.Option(help="half-open ([a, b)) or nrc (Near Repeat Calculator labels).")] = (
        "half-open"
    ),
    permutations: PermutationsOption = 999,
    seed: SeedOption = 0,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Near repeats: the Knox test over distance x time bands, Knox ratios and permutation p-values."""
    from safercities.spacetime import near_repeats

    def edges(text: str, name: str) -> tuple[float, ...]:
        try:
            return tuple(float(v) for v in text.split(","))
        except ValueError:
            raise SafercitiesError(f"--{name} must be numbers separated by commas (e.g. 0,100,200,inf)") from None

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = near_repeats(
            ws,
            _selection(iccs, start, end),
            distance_bands=edges(distances, "distances"),
            time_bands=edges(days, "days"),
            metric=metric,
            convention=convention,
            permutations=permutations,
            seed=seed,
        )
    frame = result.to_frame()
    _deliver(frame, result.summary(), out, "Knox table", list(frame.columns)[:7])


@app.command("forecast")
@friendly
def forecast_command(
    horizon: Annotated[float, typer.Option(help="Days ahead.")] = 28.0,
    cell_size: Annotated[float, typer.Option(help="Cell size in metres.")] = 250.0,
    bandwidth: Annotated[float, typer.Option(help="Background smoothing bandwidth in metres.")] = 750.0,
    iccs: IccsOption = None,
    start: StartOption = None,
    end: EndOption = None,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Where incidents are expected next (places, never people), with a backtest by hit rate and PAI."""
    from safercities.spacetime import place_forecast

    with open_workspace(chosen(workspace), read_only=True) as ws:
        result = place_forecast(
            ws, _selection(iccs, start, end), horizon_days=horizon, cell_size=cell_size, bandwidth=bandwidth
        )
    frame = result.to_geodataframe() if out is not None and out.suffix.lower() == ".gpkg" else result.surface.to_frame()
    _deliver(frame, result.summary(), out, "expected events by cell", ["row", "col", "x", "y", "value"])
