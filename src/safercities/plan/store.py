"""The plan in a workspace: imported from its workbook through the import ledger, read back, exported for editing.

One workbook is one import, all or nothing: its interventions, targets and recommendations are written in one
transaction (``ws.commit_import`` with the targets and recommendations as related rows), rejected rows are kept in
``rejects`` with sheet, row, column and reason, and what changed since the plan before (rows added, removed, cells
changed) is recorded in the import's log entry. The plan in force is the latest import; re-importing the same file
changes nothing. Baselines are computed from the store at import, with their intervals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from safercities.audit.framework import Framework, load_framework
from safercities.errors import InputError
from safercities.plan.model import SHEETS, Plan
from safercities.plan.read import PlanContext, read_plan
from safercities.plan.write import write_workbook
from safercities.practices import workspace_library
from safercities.practices.schema import PROBLEMS
from safercities.tables.plan import TABLES
from safercities.workspace import ImportResult, Workspace, file_sha256

KIND = "plan_interventions"
TABLE_OF = {"interventions": "plan_interventions", "targets": "plan_targets", "recommendations": "plan_recommendations"}
KEYS = {"interventions": "intervention_id", "targets": "target_id", "recommendations": "recommendation_id"}
BASELINE_TOLERANCE = 1e-6
"""Relative difference above which a typed baseline is reported as differing from the store's."""


def plan_context(ws: Workspace, framework: str | Framework = "default") -> PlanContext:
    """What a plan is checked against in this workspace: its actors, practices, framework, areas and the codebook."""
    from safercities.governance.store import stored_actors

    try:
        actors = stored_actors(ws)
    except InputError:
        actors = None
    return PlanContext(
        actors=actors,
        practices=tuple(workspace_library(ws.root).ids),
        indicators=load_framework(framework).ids,
        areas=tuple(sorted(ws.store.areas()["area_id"])),
        problems=PROBLEMS,
        lang=ws.config.lang,
    )


def _arrow(frame: pd.DataFrame, table: str) -> pa.Table:
    """Rows for a plan table: the table's columns (less import_id) with their SQL types."""
    types = {"VARCHAR": pa.string(), "DOUBLE": pa.float64(), "DATE": pa.date32(), "BIGINT": pa.int64()}
    arrays = {}
    for column, sql in TABLES[table].items():
        if column == "import_id":
            continue
        kind = types[sql.split()[0]]
        values = frame[column]
        if kind == pa.float64():
            arrays[column] = pa.array(
                pd.to_numeric(values, errors="coerce").to_numpy(np.float64), kind, from_pandas=True
            )
        elif kind == pa.date32():
            arrays[column] = pa.array([None if pd.isna(v) else v for v in values], kind)
        elif kind == pa.int64():
            arrays[column] = pa.array(values.to_numpy(np.int64), kind)
        else:
            arrays[column] = pa.array([None if pd.isna(v) else str(v) for v in values], kind)
    return pa.table(arrays)


def _with_baselines(
    ws: Workspace, targets: pd.DataFrame, fw: Framework, confidence: float
) -> tuple[pd.DataFrame, list[str]]:
    """Targets with their baseline from the store (a typed one is kept only where the store has none)."""
    from safercities.plan.values import baselines

    if targets.empty:
        return targets, []
    got = baselines(ws, targets, fw, confidence).rename(
        columns={"period": "baseline_period", "value": "_v", "lower": "_lo", "upper": "_hi", "se": "_se"}
    )
    merged = targets.merge(got[["scope", "indicator_id", "baseline_period", "_v", "_lo", "_hi", "_se"]], how="left")
    warnings = []
    store = merged["_v"].notna()
    typed = merged["baseline"].notna()
    differs = store & typed & ~np.isclose(merged["baseline"], merged["_v"], rtol=BASELINE_TOLERANCE, atol=0)
    for row, given, value in merged.loc[differs, ["source_row", "baseline", "_v"]].itertuples(index=False):
        warnings.append(
            f"sheet 'targets', row {row}, column 'baseline': the typed {given:g} differs from the store's {value:g}; "
            "the store's value is used"
        )
    for column, source in (
        ("baseline", "_v"),
        ("baseline_lower", "_lo"),
        ("baseline_upper", "_hi"),
        ("baseline_se", "_se"),
    ):
        merged[column] = merged[source].where(store, merged[column])
    merged["baseline_source"] = np.where(store, "store", np.where(typed, "given", ""))
    for row in merged.loc[~store & ~typed, "source_row"]:
        warnings.append(
            f"sheet 'targets', row {row}: no baseline: the workspace has no value for this indicator, scope and period "
            "yet; it will be computed when monitoring once the data is there"
        )
    for row in merged.loc[merged["baseline"] == merged["target_value"], "source_row"]:
        warnings.append(f"sheet 'targets', row {row}: the target value equals the baseline, so progress is undefined")
    direction = merged["indicator_id"].map({i.id: i.higher_is_worse for i in fw.indicators})
    wrong = merged["baseline"].notna() & ((merged["target_value"] > merged["baseline"]) == direction.astype(bool))
    wrong &= merged["target_value"] != merged["baseline"]
    for row, indicator in merged.loc[wrong, ["source_row", "indicator_id"]].itertuples(index=False):
        aim = "lower" if direction[merged["indicator_id"] == indicator].iloc[0] else "higher"
        warnings.append(
            f"sheet 'targets', row {row}: the target moves '{indicator}' the wrong way (for this indicator {aim} is "
            "better)"
        )
    return merged.drop(columns=["_v", "_lo", "_hi", "_se"]), warnings


def _latest_import(ws: Workspace) -> int | None:
    held = ws.store.read("imports", "kind = ? AND status = 'committed'", [KIND])
    return int(held["import_id"].max()) if len(held) else None


def _dates(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values, errors="coerce")
    return pd.Series([None if pd.isna(v) else v.date() for v in stamps], index=values.index, dtype=object)


def stored_plan(ws: Workspace) -> Plan:
    """The plan in force: the rows of the latest plan import."""
    latest = _latest_import(ws)
    if latest is None:
        raise InputError(
            "the workspace holds no plan yet",
            hint="write one with `safercities plan template OUT.xlsx`, fill it in, then `safercities plan import FILE`",
        )
    frames = {}
    for sheet, table in TABLE_OF.items():
        frame = ws.store.read(table, "import_id = ?", [latest]).sort_values("source_row", kind="stable")
        for column in frame.columns:
            if TABLES[table][column].startswith("DATE"):
                frame[column] = _dates(frame[column])
            elif TABLES[table][column].startswith("VARCHAR"):
                frame[column] = frame[column].fillna("")
        frames[sheet] = frame.drop(columns="import_id").reset_index(drop=True)
    return Plan(frames["interventions"], frames["targets"], frames["recommendations"], import_id=latest)


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def plan_changes(old: Plan | None, new: Plan) -> list[str]:
    """What changed from ``old`` to ``new``: rows added and removed, and each changed cell (old -> new)."""
    changes: list[str] = []
    for sheet, key in KEYS.items():
        after = getattr(new, sheet).set_index(key)
        before = getattr(old, sheet).set_index(key) if old is not None else after.iloc[:0]
        columns = [c for c in SHEETS[sheet] if c != key and c != "baseline_source"]
        for item in after.index.difference(before.index):
            changes.append(f"{sheet}: added {item}")
        for item in before.index.difference(after.index):
            changes.append(f"{sheet}: removed {item}")
        for item in after.index.intersection(before.index):
            for column in columns:
                was, now = _as_text(before.at[item, column]), _as_text(after.at[item, column])
                if was != now:
                    changes.append(f"{sheet}: {item} {column}: '{was}' -> '{now}'")
    return changes


def import_plan(
    ws: Workspace,
    path: Path | str,
    *,
    replace: bool = False,
    framework: str | Framework = "default",
    confidence: float = 0.95,
) -> ImportResult:
    """Import a plan workbook: the valid rows become the plan in force, the rest go to ``rejects`` with reasons."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    repeat = ws.repeated_import(KIND, path, sha, replace)
    if repeat is not None:
        return repeat
    fw = load_framework(framework)
    read = read_plan(path, plan_context(ws, fw))
    targets, notes = _with_baselines(ws, read.plan.targets, fw, confidence)
    plan = Plan(read.plan.interventions, targets, read.plan.recommendations)
    try:
        before = stored_plan(ws) if _latest_import(ws) is not None else None
    except InputError:
        before = None
    options: dict[str, object] = {"framework": fw.id, "changes": plan_changes(before, plan)}
    return ws.commit_import(
        KIND,
        path,
        sha,
        replace,
        _arrow(plan.interventions, "plan_interventions"),
        read.rejects,
        read.rows_read,
        (*read.warnings, *notes),
        options,
        related={
            "plan_targets": _arrow(plan.targets, "plan_targets"),
            "plan_recommendations": _arrow(plan.recommendations, "plan_recommendations"),
        },
    )


def plan_history(ws: Workspace) -> pd.DataFrame:
    """Every plan import: when, who, which file, rows stored and rejected, and what it changed."""
    import json

    held = ws.store.read("imports", "kind = ?", [KIND]).sort_values("import_id")
    changes = [json.loads(o or "{}").get("changes", []) for o in held["options"]]
    return held.assign(n_changes=[len(c) for c in changes], changes=["; ".join(c) for c in changes])[
        [
            "import_id",
            "file",
            "username",
            "finished_at",
            "status",
            "rows_accepted",
            "rows_rejected",
            "n_changes",
            "changes",
        ]  # fmt: skip
    ].reset_index(drop=True)


def export_plan(ws: Workspace, path: Path | str, *, lang: str | None = None, framework: str = "default") -> Path:
    """Write the plan in force as the workbook people edit (baselines filled in, drop-down lists from the workspace)."""
    return write_workbook(path, stored_plan(ws), plan_context(ws, framework), lang or ws.config.lang)


def write_template(
    path: Path | str, ws: Workspace | None = None, *, lang: str = "en", framework: str = "default"
) -> Path:
    """An empty plan workbook; with a workspace, its actors, areas, practices and indicators fill the lists."""
    if ws is not None:
        context = plan_context(ws, framework)
    else:
        from safercities.practices import load_library

        context = PlanContext(None, tuple(load_library().ids), load_framework(framework).ids, None, PROBLEMS, lang)
    return write_workbook(path, None, context, lang)
