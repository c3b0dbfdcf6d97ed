"""What every verb shares: the workspace option, error handling, progress and table output."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from safercities.errors import SafercitiesError

console = Console()
errors = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("-w", "--workspace", help="Workspace folder (default: the current folder or the one above it)."),
]


_global_workspace: list[Path | None] = [None]


def set_global_workspace(folder: Path | None) -> None:
    """Remember ``safercities -w DIR`` so that every verb acts on DIR."""
    _global_workspace[0] = folder


def chosen(folder: Path | None) -> Path | None:
    """The workspace a verb acts on: its own -w, the global -w, else the current folder (found upwards)."""
    return folder or _global_workspace[0]


def friendly(func: Callable[P, R]) -> Callable[P, R]:
    """A user's mistake becomes one red line and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SafercitiesError as exc:
            errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            errors.print("[yellow]interrupted: nothing was written[/]")
            raise typer.Exit(130) from None

    return wrapper


@contextmanager
def stage() -> Iterator[Callable[[str], None]]:
    """A spinner that shows which step of a long job is running."""
    with console.status("working…") as status:
        yield lambda message: status.update(f"{message}…")


def show_frame(frame: pd.DataFrame, title: str, limit: int = 20) -> None:
    """Print the first rows of a table."""
    table = Table(title=f"{title} ({len(frame):,} rows)" if len(frame) > limit else title)
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    console.print(table)


def write_frame(frame: pd.DataFrame, out: Path) -> Path:
    """Write a table as CSV, Parquet or GeoPackage, by the file's extension (geometry as WKT in a CSV)."""
    import geopandas as gpd

    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".gpkg":
        if not isinstance(frame, gpd.GeoDataFrame):
            raise SafercitiesError(f"{out}: a GeoPackage needs geometries; this table has none (use .csv or .parquet)")
        frame.to_file(out, driver="GPKG", engine="pyogrio")
    elif suffix == ".parquet":
        frame.to_parquet(out, index=False)
    elif suffix in (".csv", ".txt"):
        table = pd.DataFrame(frame.to_wkt()) if isinstance(frame, gpd.GeoDataFrame) else frame
        table.to_csv(out, index=False)
    else:
        raise SafercitiesError(f"{out}: unknown output format '{suffix}'; use .csv, .parquet or .gpkg")
    return out
