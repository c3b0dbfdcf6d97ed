"""The ``safercities`` command: one verb group per module, each a thin layer over the Python API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safercities import __version__
from safercities.cli import (
    analyse_cmds,
    audit_cmds,
    auditrun_cmds,
    backup_cmds,
    data_cmds,
    evaluate_cmds,
    fieldwork_cmds,
    governance_cmds,
    import_cmds,
    plan_cmds,
    procurement_cmds,
    report_cmds,
    sim_cmds,
    survey_cmds,
    web_cmds,
    workspace_cmds,
)
from safercities.cli.common import console, set_global_workspace

app = typer.Typer(
    name="safercities",
    help="Crime observatory, local safety audit and urban safety governance assessment for cities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        console.print(f"safercities {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    workspace: Annotated[
        Path | None, typer.Option("-w", "--workspace", help="Workspace folder for every verb (as git -C).")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Evidence for safer cities."""
    set_global_workspace(workspace)


app.command("init")(workspace_cmds.init_command)
app.add_typer(import_cmds.app, name="import")
app.add_typer(analyse_cmds.app, name="analyse")
app.command("rejects")(data_cmds.rejects_command)
app.command("imports")(data_cmds.imports_command)
app.command("cube")(data_cmds.cube_command)
app.command("rates")(data_cmds.rates_command)
app.command("presets")(data_cmds.presets_command)
app.command("iccs")(data_cmds.iccs_command)
app.command("quality")(data_cmds.quality_command)
app.command("simulate")(sim_cmds.simulate_command)
app.command("demo")(sim_cmds.demo_command)
for _module in (
    audit_cmds,
    auditrun_cmds,
    fieldwork_cmds,
    survey_cmds,
    governance_cmds,
    plan_cmds,
    evaluate_cmds,
    procurement_cmds,
    web_cmds,
    report_cmds,
    backup_cmds,
):
    _module.register(app, import_cmds.app)


def main() -> None:
    app()
