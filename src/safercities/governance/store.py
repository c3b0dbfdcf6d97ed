"""The assessment's answers and the actors registry in a workspace, imported through the project's import ledger.

Both follow "latest wins": a later import replaces an institution's answer to a question, or an actor (with its
outgoing relations), so that a city can re-run the assessment or update its registry file by file while every
import and every rejected row stays on record. Re-importing the same file changes nothing (same SHA-256).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from safercities.errors import InputError
from safercities.governance.actors import (
    ACTOR_COLUMNS,
    RELATION_COLUMNS,
    ActorRegistry,
    check_relations,
    read_actors,
)
from safercities.governance.assessment import Questionnaire, load_questionnaire, read_answers
from safercities.workspace import ImportResult, Workspace, file_sha256


def _latest(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """For each key, the row of the latest import (and the last row within it)."""
    ordered = frame.sort_values(["import_id", "source_row"], kind="stable")
    return ordered.drop_duplicates(keys, keep="last").reset_index(drop=True)


def import_answers(
    ws: Workspace, path: Path | str, *, replace: bool = False, questionnaire: Questionnaire | None = None
) -> ImportResult:
    """Import a filled answer form: valid rows stored, bad rows kept in ``rejects`` with their reasons."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    repeat = ws.repeated_import("governance_answers", path, sha, replace)
    if repeat is not None:
        return repeat
    result = read_answers(path, questionnaire or load_questionnaire())
    answers = result.answers
    rows = pa.table(
        {
            "institution": pa.array(answers["institution"].to_numpy(object), pa.string()),
            "item_id": pa.array(answers["item_id"].to_numpy(object), pa.string()),
            "level": pa.array(answers["level"].to_numpy(float), pa.float64(), from_pandas=True).cast(pa.int32()),
            "answer": pa.array(answers["answer"].to_numpy(object), pa.string()),
            "evidence": pa.array(answers["evidence"].to_numpy(object), pa.string()),
            "respondent": pa.array(answers["respondent"].to_numpy(object), pa.string()),
            "answered_on": pa.array(answers["answered_on"].to_numpy(object), pa.string()),
            "source_row": pa.array(answers["source_row"].to_numpy(np.int64), pa.int64()),
        }
    )
    return ws.commit_import(
        "governance_answers", path, sha, replace, rows, result.rejects, result.rows_read, result.warnings, {}
    )


def stored_answers(ws: Workspace) -> pd.DataFrame:
    """The answers in force: each institution's latest answer to each question."""
    frame = ws.store.read("governance_answers")
    if frame.empty:
        raise InputError(
            "the workspace holds no governance answers yet",
            hint="write a form with `safercities governance form`, fill it in, then `safercities governance import`",
        )
    frame = _latest(frame, ["institution", "item_id"])
    frame["level"] = pd.to_numeric(frame["level"], errors="coerce").astype(float)
    frame["evidence"] = frame["evidence"].fillna("")
    return frame


def import_actors(
    ws: Workspace, path: Path | str, *, relations: Path | str | None = None, replace: bool = False
) -> ImportResult:
    """Import an actors registry (YAML, Excel, or CSV + relations CSV); relations may name actors already stored."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    if relations is not None:  # the pair of files is one import: hash them together
        sha = file_sha256(path)[:32] + file_sha256(Path(relations))[:32]
    repeat = ws.repeated_import("stakeholders", path, sha, replace)
    if repeat is not None:
        return repeat
    read = read_actors(path, relations)
    rejects = read.rejects
    registry = read.registry
    held = ws.store.read("stakeholders")
    if len(held) and len(rejects):
        # relations rejected only because their ends are stored by an earlier import get a second chance
        unknown = rejects["reason_code"].eq("unknown_actor") & rejects["column_name"].str.startswith("relations.")
        if unknown.any():
            retry = pd.DataFrame([json.loads(r) for r in rejects.loc[unknown, "raw"]])
            retry.insert(0, "row_number", rejects.loc[unknown, "row_number"].to_numpy())
            known = pd.concat([registry.actors, _latest(held, ["actor_id"])[list(ACTOR_COLUMNS)]], ignore_index=True)
            ok, still = check_relations(retry, known.drop_duplicates("actor_id"))
            still = still.assign(column_name="relations." + still["column_name"].astype(str))
            registry = ActorRegistry(
                registry.actors,
                pd.concat([registry.relations, ok[["row_number", *RELATION_COLUMNS]]], ignore_index=True),
                registry.origin,
            )
            rejects = pd.concat([rejects[~unknown], still], ignore_index=True)
    outgoing = (
        registry.relations.groupby("source")[["target", "kind", "note"]].apply(
            lambda f: json.dumps(f.to_dict(orient="records"), ensure_ascii=False)
        )
        if len(registry.relations)
        else pd.Series(dtype=object)
    )
    actors = registry.actors
    orphans = sorted(set(registry.relations["source"]) - set(actors["actor_id"]))
    warnings = (
        [f"relations from actors stored earlier are not updated by this file: {', '.join(orphans)}"] if orphans else []
    )
    rows = pa.table(
        {
            "actor_id": pa.array(actors["actor_id"].to_numpy(object), pa.string()),
            "name": pa.array(actors["name"].to_numpy(object), pa.string()),
            "sector": pa.array(actors["sector"].to_numpy(object), pa.string()),
            "level": pa.array(actors["level"].to_numpy(object), pa.string()),
            "mandate": pa.array(actors["mandate"].to_numpy(object), pa.string()),
            "relations": pa.array(outgoing.reindex(actors["actor_id"]).fillna("[]").to_numpy(object), pa.string()),
            "source_row": pa.array(actors["row_number"].to_numpy(np.int64), pa.int64()),
        }
    )
    options: dict[str, object] = {"relations": str(relations)} if relations is not None else {}
    return ws.commit_import("stakeholders", path, sha, replace, rows, rejects, read.rows_read, tuple(warnings), options)


def stored_actors(ws: Workspace) -> ActorRegistry:
    """The registry in force: each actor's latest version, with the relations it declares."""
    held = ws.store.read("stakeholders")
    if held.empty:
        raise InputError("the workspace holds no actors yet", hint="run `safercities actors import FILE` first")
    actors = _latest(held, ["actor_id"])
    relations = [
        {"row_number": int(row), "source": str(actor), **link}
        for actor, row, text in zip(
            actors["actor_id"].tolist(), actors["source_row"].tolist(), actors["relations"].tolist(), strict=True
        )
        for link in json.loads(str(text))
    ]
    links = pd.DataFrame(relations, columns=["row_number", *RELATION_COLUMNS]).fillna("")
    links = links[links["target"].isin(set(actors["actor_id"]))].reset_index(drop=True)
    actors = actors.rename(columns={"source_row": "row_number"})
    actors["mandate"] = actors["mandate"].fillna("")
    return ActorRegistry(actors[["row_number", *ACTOR_COLUMNS]], links, origin=str(ws.root))
