"""`safercities simulate` and `safercities demo`: the synthetic city, and everything run on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities.cli.common import console, friendly, stage, write_frame
from safercities.cli.import_cmds import report
from safercities.errors import WorkspaceError
from safercities.workspace import Workspace, init, open_workspace

DEMO_CRS, DEMO_TZ = "EPSG:32614", "America/Mexico_City"


@friendly
def simulate_command(
    outdir: Annotated[Path, typer.Argument(help="Folder for the simulated city's files.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same city.")] = 0,
) -> None:
    """Write a synthetic city in the formats real sources come in, with truth.json (the known parameters)."""
    from safercities.sim import simulate
    from safercities.sim.sources import add_sources

    with stage() as progress:
        progress("simulating the city")
        city = simulate(outdir, seed=seed)
        progress("simulating its other sources (indicators, fieldwork, survey, procurement, intervention)")
        add_sources(city)
    console.print(f"[green]simulated city[/] (seed {seed}) in {outdir}:")
    for path in sorted(outdir.iterdir()):
        console.print(f"  {path}")
    del city


@friendly
def demo_command(
    folder: Annotated[Path, typer.Argument(help="Folder for the demo: source files, workspace, outputs.")] = Path(
        "demo-city"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the simulated city.")] = 0,
    serve: Annotated[
        bool, typer.Option(help="Serve the dashboard afterwards on http://127.0.0.1:8000/ (public mode, demo users).")
    ] = True,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000,
) -> None:
    """Simulate a city, build its workspace, run what exists so far, and say where the outputs are."""
    from safercities.sim import simulate
    from safercities.sim.sources import import_sources

    source, root, outputs = folder / "source", folder / "workspace", folder / "outputs"
    if (root / "safercities.toml").exists():
        raise WorkspaceError(f"{root} already holds a workspace: remove {folder} or choose another folder")
    with stage() as progress:
        progress("simulating the city")
        city = simulate(source, seed=seed)
        progress("simulating its other sources")
        from safercities.sim.sources import add_sources

        add_sources(city)
        progress("creating the workspace")
        ws = init(root, name="Ciudad Demo", crs=DEMO_CRS, lang="es", timezone=DEMO_TZ)
    with ws, stage() as progress:
        areas = ws.import_areas(
            city.areas,
            id="area_id",
            name="name",
            population="population",
            level="level",
            parent="parent_id",
            progress=progress,
        )
        incidents = ws.import_incidents(city.incidents, mapping=city.mapping, progress=progress)
        progress("building the count cube and rates")
        written = [
            write_frame(ws.cube(by="month"), outputs / "cube_month.csv"),
            write_frame(ws.rates(by="year"), outputs / "rates_year.csv"),
            write_frame(ws.rates(by="year", level="district"), outputs / "rates_year_district.csv"),
            write_frame(ws.rejects(), outputs / "rejects.csv"),
        ]
        progress("writing the data-quality report")
        written += list(_quality(ws, outputs))
        progress("running the spatial and space-time analyses")
        written += _analyses(ws, outputs / "analyses")
        progress("importing the audit's, the survey's and procurement's sources")
        others = import_sources(ws, source)
        progress("indicators, survey estimates, dark figure, procurement screening")
        written += _source_outputs(ws, source, outputs)
        progress("running the local safety audit (steps 1-4) and writing its bundle")
        from safercities.audit.run import run_audit

        bundle = run_audit(ws, public=True, pdf=True)  # the demo serves it to the public
        written.append(bundle.path / "summary.html")
    report(areas)
    report(incidents)
    for result in others:
        report(result)
    console.print(f"\n[bold]Demo city ready[/] — workspace: {root}")
    for path in written:
        console.print(f"  {path}")
    console.print(f"Try: safercities -w {root} rates --by year")
    if serve:
        _serve(root, port)


def _serve(root: Path, port: int) -> None:
    """Serve the demo on loopback, with one account per role whose passwords are made now and printed."""
    import secrets

    import uvicorn

    from safercities.web import accounts
    from safercities.web.app import create_app

    with open_workspace(root) as ws:
        console.print("\n[bold]Demo accounts[/] (this demo only; passwords made now):")
        for role in accounts.ROLES:
            password = secrets.token_urlsafe(9)
            accounts.create_user(ws, f"demo-{role}", password, role, by="demo")
            console.print(f"  demo-{role} / {password}")
    console.print(f"[green]Dashboard:[/] http://127.0.0.1:{port}/ (Ctrl-C stops it)")
    uvicorn.run(create_app(root, public=True), host="127.0.0.1", port=port, log_level="warning")


def _analyses(ws: Workspace, folder: Path) -> list[Path]:
    """What an observatory runs each month, on the demo city: each output with its one-paragraph summary."""
    from safercities import analysis, spacetime
    from safercities.stats.kde import DensitySurface

    burglary = analysis.Selection(iccs="0501")
    surface = analysis.density(ws, cell_size=100.0, bandwidth=400.0)
    assert isinstance(surface, DensitySurface)  # per_population=False gives a density, not a risk surface
    results = {
        "rates.gpkg": analysis.area_rates(ws),
        "hotspots_grid.gpkg": analysis.hotspots(ws, cell_size=250.0).to_geodataframe(),
        "density.gpkg": surface.to_geodataframe(ws.config.crs),
        "emerging.gpkg": spacetime.emerging(ws, by="month").to_geodataframe(),
        "knox_burglary.csv": spacetime.near_repeats(ws, burglary, permutations=199).to_frame(),
        "alerts.csv": spacetime.early_warning(ws, min_history=40).alerts.to_frame(),
    }
    return [write_frame(frame, folder / name) for name, frame in results.items()]


def _source_outputs(ws: Workspace, source: Path, outputs: Path) -> list[Path]:
    """What the audit team reads first: indicator values, data maturity, survey indicators and the dark
    figure, fieldwork codes, and the procurement screening."""
    from safercities.audit.indicators import indicator_values
    from safercities.audit.maturity import data_maturity
    from safercities.procurement.report import screening_report
    from safercities.survey.darkfigure import survey_dark_figure
    from safercities.survey.indicators import survey_indicators

    folder = outputs / "audit"
    screening = screening_report(ws, lang=ws.config.lang)
    maturity = data_maturity(ws)
    frames = {
        "indicator_values.csv": indicator_values(ws),
        "data_maturity.csv": maturity.to_frame(ws.config.lang),
        "survey_indicators.csv": survey_indicators(ws, level="district"),
        "dark_figure.csv": survey_dark_figure(ws, level="district"),
        **{f"procurement_{name}.csv": frame for name, frame in screening.tables().items()},
    }
    return [write_frame(frame, folder / name) for name, frame in frames.items()]


def _quality(ws: Workspace, outputs: Path) -> tuple[Path, ...]:
    from safercities.quality import quality_report
    from safercities.report.quality import write_quality

    return write_quality(quality_report(ws), outputs, lang=ws.config.lang)
