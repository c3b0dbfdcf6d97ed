"""Procurement in the workspace: importing OCDS files, and reading back what the flags need.

An import reads a file (:mod:`ocds`), compiles one record per process (:mod:`compile`), splits it
into the canonical tables (:mod:`extract`), checks what the red flags will be able to see, and writes
through the workspace's import ledger (``ws.repeated_import`` / ``ws.commit_import``): the same
file twice changes nothing, ``replace`` swaps an earlier import for this one, and processes whose
``ocid`` another import already holds are rejected with their reason.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from safercities.errors import InputError, WorkspaceError
from safercities.procurement import extract as ex
from safercities.procurement.compile import compile_releases
from safercities.procurement.flags import BY_ID, FlagResult, compute_flags
from safercities.procurement.ocds import read_publication
from safercities.procurement.rules import Rules, load_rules
from safercities.schema import TABLES
from safercities.workspace import ImportResult, Workspace, file_sha256

KIND = "procurement_processes"
CHILDREN = (
    "procurement_tenders",
    "procurement_parties",
    "procurement_bids",
    "procurement_awards",
    "procurement_contracts",
    "procurement_amendments",
)
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    """A frame as an Arrow table with the store's column types (import_id left out)."""
    arrays = {}
    for column, sqltype in TABLES[table].items():
        if column == "import_id":
            continue
        values = frame[column]
        kind = sqltype.split()[0]
        if kind == "TIMESTAMPTZ":
            arrays[column] = pa.array(pd.to_datetime(values, utc=True), pa.timestamp("us", tz="UTC"))
        elif kind == "DOUBLE":
            arrays[column] = pa.array(pd.to_numeric(values, errors="coerce"), pa.float64(), from_pandas=True)
        elif kind in ("INTEGER", "BIGINT"):
            numbers = pd.to_numeric(values, errors="coerce").astype("Int64")
            arrays[column] = pa.array(numbers, pa.int32() if kind == "INTEGER" else pa.int64(), from_pandas=True)
        elif kind == "BOOLEAN":
            arrays[column] = pa.array(values.astype(bool), pa.bool_())
        else:
            arrays[column] = pa.array(ex.nan_to_none(values), pa.string())
    return pa.table(arrays)


def coverage_warnings(frame: pd.DataFrame, result: FlagResult) -> tuple[str, ...]:
    """One message per flag that cannot be computed for some or all processes, naming the fields it needs."""
    messages = []
    n = len(frame)
    rates = result.base_rates()
    for name, available in zip(rates["flag"].astype(str), rates["available"].astype(int), strict=True):
        flag = BY_ID[name]
        if flag.level != "process" or available == n:
            continue
        need = ", ".join(flag.fields)
        if name == "split_below_threshold" and not result.rules["splitting"]["thresholds"]:
            messages.append(f"flag {name} unavailable: the rules name no procurement thresholds ([splitting])")
        elif available == 0:
            messages.append(f"flag {name} unavailable: no process has what it needs ({need})")
        else:
            messages.append(f"flag {name} computable for {available:,} of {n:,} processes (needs {need})")
    return tuple(messages)


def import_ocds(
    ws: Workspace,
    path: Path | str,
    *,
    replace: bool = False,
    encoding: str | None = None,
    rules: Rules | None = None,
    progress: Progress = _quiet,
) -> ImportResult:
    """Import an OCDS file (release or record package, JSON Lines, flattened CSV/XLSX) into the workspace."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    repeat = ws.repeated_import(KIND, path, sha, replace)
    if repeat is not None:
        return repeat
    progress("reading OCDS")
    publication = read_publication(path, encoding=encoding)
    if not publication.releases and not publication.compiled:
        raise InputError("the file holds no releases or records", file=path)
    progress("compiling releases")
    compiled = compile_releases(publication.releases, publication.compiled, publication.linked)
    tables = ex.extract(compiled)
    replacing = ws.store.find_import(KIND, sha) if replace else None
    held = ws.store.read("procurement_processes", "import_id IS DISTINCT FROM ?", [replacing])["ocid"]
    taken = tables.processes["ocid"].isin(set(held))
    rejects = pd.DataFrame(
        {
            "row_number": tables.processes.loc[taken, "source_row"].to_numpy(),
            "column_name": "ocid",
            "reason_code": "duplicate_ocid",
            "reason": "process '" + tables.processes.loc[taken, "ocid"].astype(str) + "' is already in the workspace "
            "(from another import); import a newer file with --replace of that one, or merge the releases first",
            "raw": None,
        }
    )
    keep = set(tables.processes.loc[~taken, "ocid"])
    frames = {name: frame[frame["ocid"].isin(keep)] for name, frame in tables.as_dict().items()}
    warnings = list(_date_warnings(tables))
    if frames[KIND]["buyer_id"].isna().any():
        missing = int(frames[KIND]["buyer_id"].isna().sum())
        warnings.append(f"{missing:,} processes name no buyer (buyer/id or a party with role 'buyer')")
    progress("checking what the red flags can see")
    frame = ex.analysis_frame(
        frames[KIND],
        frames["procurement_tenders"],
        frames["procurement_awards"],
        frames["procurement_contracts"],
        frames["procurement_parties"],
    )
    if len(frame):
        warnings += coverage_warnings(frame, compute_flags(frame, frames["procurement_bids"], rules or load_rules()))
    options: dict[str, object] = {
        "form": publication.form,
        "encoding": publication.encoding,
        "ocds_version": publication.version,
        "publisher": publication.publisher,
        "releases": len(publication.releases),
    }
    progress("writing to the store")
    return ws.commit_import(
        KIND,
        path,
        sha,
        replace,
        _arrow(frames[KIND], KIND),
        rejects,
        len(tables.processes),
        tuple(warnings),
        options,
        related={name: _arrow(frames[name], name) for name in CHILDREN},  # one transaction: all or nothing
    )


def _date_warnings(tables: ex.ProcurementTables) -> tuple[str, ...]:
    bad = ex.invalid_dates(tables)
    if bad.empty:
        return ()
    out = []
    for path, group in bad.groupby("path", sort=True):
        first = group.iloc[0]
        out.append(
            f"{len(group):,} dates in {path} are not ISO 8601 and were left empty "
            f"(e.g. process '{first['ocid']}': {first['text']!r})"
        )
    return tuple(out)


def import_buyer_areas(ws: Workspace, path: Path | str, *, replace: bool = False) -> ImportResult:
    """Import a CSV of ``buyer_id,area_id``: where each buyer's processes count when they carry no location."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    kind = "procurement_buyer_areas"
    repeat = ws.repeated_import(kind, path, sha, replace)
    if repeat is not None:
        return repeat
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read the table: {exc}", file=path) from exc
    for column in ("buyer_id", "area_id"):
        if column not in table.columns:
            raise InputError(f"missing column '{column}'", file=path, column=column, hint="columns: buyer_id,area_id")
    known = set(ws.store.read("areas")["area_id"])
    row_number = pd.Series(range(2, len(table) + 2))
    unknown = ~table["area_id"].isin(known)
    empty = (table["buyer_id"].str.strip() == "") | (table["area_id"].str.strip() == "")
    bad = unknown | empty
    rejects = pd.DataFrame(
        {
            "row_number": row_number[bad].to_numpy(),
            "column_name": "area_id",
            "reason_code": "unknown_area",
            "reason": "area '" + table.loc[bad, "area_id"] + "' is not an area of the workspace",
            "raw": (table.loc[bad, "buyer_id"] + "," + table.loc[bad, "area_id"]).to_numpy(),
        }
    )
    good = table[~bad]
    rows = pa.table(
        {
            "buyer_id": pa.array(good["buyer_id"].to_numpy(object), pa.string()),
            "area_id": pa.array(good["area_id"].to_numpy(object), pa.string()),
        }
    )
    return ws.commit_import(kind, path, sha, replace, rows, rejects, len(table), (), {})


def load(ws: Workspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analysis frame (one row per process) and the bids, from the workspace."""
    store = ws.store
    processes = store.read("procurement_processes")
    if processes.empty:
        raise WorkspaceError("the workspace has no procurement data: run `safercities procurement import FILE` first")
    frame = ex.analysis_frame(
        processes,
        store.read("procurement_tenders"),
        store.read("procurement_awards"),
        store.read("procurement_contracts"),
        store.read("procurement_parties"),
    )
    return frame, store.read("procurement_bids")


def read_frames(path: Path | str, encoding: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analysis frame and the bids of one OCDS file, without a workspace (for a quick screening)."""
    publication = read_publication(path, encoding=encoding)
    tables = ex.extract(compile_releases(publication.releases, publication.compiled, publication.linked))
    frame = ex.analysis_frame(tables.processes, tables.tenders, tables.awards, tables.contracts, tables.parties)
    return frame, tables.bids


def workspace_flags(ws: Workspace, rules: Rules | None = None) -> FlagResult:
    """Every red flag over the workspace's processes (the service the CLI, the report and the web call)."""
    frame, bids = load(ws)
    return compute_flags(frame, bids, rules or workspace_rules(ws))


def workspace_rules(ws: Workspace) -> Rules:
    """The workspace's own thresholds: ``procurement.toml`` beside ``safercities.toml`` when there is one
    (the country's rules, set once for every verb, report and page), else the shipped defaults."""
    own = ws.root / "procurement.toml"
    return load_rules(own if own.exists() else None)


def counts(ws: Workspace) -> dict[str, Any]:
    """How many rows each procurement table holds."""
    return {name: ws.store.count(name) for name in (KIND, *CHILDREN)}
