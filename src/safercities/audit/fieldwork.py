"""Focus groups and interviews: coded segments imported, validated, counted and quoted.

A record is one coded segment of a session: the community where the session was held, the participant group
(women, youth, elders, business, prisoners, other), the date, the codes of the codebook it speaks of and the
quote. Rows are checked like every import (unknown code, unknown area, unknown group, bad date, duplicate id)
and committed whole through the workspace's import ledger; outputs are code frequencies by community and group
and the quotes behind each code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from safercities.audit.codebook import Codebook, load_codebook
from safercities.audit.records import (
    Ledger,
    check_date_order,
    check_file,
    find_columns,
    flag_dates,
    fold,
    fold_series,
    held_ids,
    make_ids,
    match_areas,
    optional_text,
    parse_dates,
    text_column,
    translate,
)
from safercities.errors import InputError
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import RawTable, read_table
from safercities.workspace import ImportResult, Workspace, file_sha256

KIND = "fieldwork_segments"

GROUPS: dict[str, dict[str, str]] = {
    "women": {"en": "Women", "es": "Mujeres", "fr": "Femmes"},
    "youth": {"en": "Youth", "es": "Jóvenes", "fr": "Jeunes"},
    "elders": {"en": "Elders", "es": "Personas mayores", "fr": "Aînés"},
    "business": {"en": "Business owners", "es": "Comerciantes", "fr": "Commerçants"},
    "prisoners": {"en": "People in prison", "es": "Personas privadas de la libertad", "fr": "Personnes détenues"},
    "other": {"en": "Other", "es": "Otro", "fr": "Autre"},
}
"""Participant groups of the Safety Audits method, with their labels."""

_GROUP_WORDS = {
    "women": ("woman", "mujer", "femme", "female", "girls", "ninas"),
    "youth": ("young people", "youths", "joven", "jeune", "adolescentes", "adolescents", "young"),
    "elders": ("elderly", "older people", "seniors", "adultos mayores", "mayores", "tercera edad", "aine", "aines"),
    "business": ("businesses", "shopkeepers", "traders", "negocios", "comercio", "empresarios", "commercant"),
    "prisoners": ("inmates", "detenus", "reclusos", "internos", "ppl", "privados de la libertad", "people in prison"),
    "other": ("otros", "autres", "mixed", "mixto", "mixte", "residents", "vecinos", "habitants"),
}
SESSION_KINDS: dict[str, tuple[str, ...]] = {
    "focus_group": ("focus group", "fg", "grupo focal", "groupe de discussion", "groupe focal"),
    "interview": ("entrevista", "entretien", "interviews", "key informant interview", "kii"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "area_id": ("community", "area", "comunidad", "colonia", "barrio", "communaute", "quartier", "area_name"),
    "participant_group": ("group", "grupo", "groupe", "participants", "participantes"),
    "date": ("session_date", "fecha", "date_session", "fecha_sesion"),
    "codes": ("code", "codigos", "codigo", "code_ids", "codes_ids"),
    "quote": ("cita", "citation", "text", "texto", "verbatim", "segment"),
    "session_id": ("session", "sesion", "seance", "session_code"),
    "session_kind": ("kind", "type", "tipo", "session_type", "method", "metodo"),
    "segment_id": ("quote_id", "id", "segment_code", "id_cita"),
}
REQUIRED = ("area_id", "participant_group", "date", "codes")
_SPLIT = r"\s*[;,|\n]\s*"


def _lookup(words: dict[str, tuple[str, ...]], labels: dict[str, dict[str, str]] | None = None) -> pd.Series:
    """Folded word -> canonical id, from the ids, their synonyms and their labels in every language."""
    pairs = {fold(key): key for key in words}
    for key, synonyms in words.items():
        pairs.update({fold(word): key for word in synonyms})
        for label in (labels or {}).get(key, {}).values():
            pairs[fold(label)] = key
    return pd.Series(pairs, dtype=object)


def code_lookup(codebook: Codebook) -> pd.Series:
    """Folded code id or label (en/es/fr) -> code id."""
    pairs: dict[str, str] = {}
    for code in codebook.codes.values():
        for label in code.label.values():
            pairs.setdefault(fold(label), code.id)
    pairs.update({fold(code): code for code in codebook.codes})  # an id wins over a label
    return pd.Series(pairs, dtype=object)


@dataclass(frozen=True)
class PreparedSegments:
    """Rows ready for the store, the rejects and the warnings of one fieldwork file."""

    rows: pa.Table
    rejects: pd.DataFrame
    rows_read: int
    warnings: tuple[str, ...]


def parse_codes(cells: pd.Series, lookup: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Canonical ';'-joined codes of each cell, and the unknown words of each cell ('' if none)."""
    tokens = cells.str.split(_SPLIT, regex=True).explode()
    tokens = tokens[tokens.fillna("") != ""]
    codes = fold_series(tokens).map(lookup)
    unknown = tokens[codes.isna()]
    found = codes.dropna().reset_index().drop_duplicates()
    found.columns = ["row", "code"]
    joined = found.groupby("row", sort=False)["code"].agg(";".join).reindex(cells.index, fill_value="")
    bad = ("'" + unknown + "'").groupby(level=0).agg(", ".join).reindex(cells.index, fill_value="")
    return joined.astype(str), bad.astype(str)


def prepare_segments(
    raw: RawTable,
    codebook: Codebook,
    areas: pd.DataFrame,
    *,
    id_prefix: str,
    existing_ids: frozenset[str] = frozenset(),
    date_order: str = "dmy",
    today: dt.date | None = None,
) -> PreparedSegments:
    """Check every row of a fieldwork file (pure: the workspace's areas and ids are passed in)."""
    cols = find_columns(raw, COLUMNS, REQUIRED, "fieldwork")
    n = raw.columns.num_rows
    ledger = Ledger(n)
    area_text = text_column(raw, cols["area_id"])
    group_text = text_column(raw, cols["participant_group"])
    codes_text = text_column(raw, cols["codes"])
    kind_text = text_column(raw, cols.get("session_kind"))
    for field_name in ("area_id", "participant_group", "codes"):
        column = cols[field_name]
        ledger.flag((text_column(raw, column) == "").to_numpy(), "missing_value", column, f"the {field_name} is empty")
    area_id = match_areas(area_text, areas)
    ledger.flag(
        (area_id == "").to_numpy(), "unknown_area", cols["area_id"], "no area '" + area_text + "' in the workspace"
    )
    group = translate(fold_series(group_text), _lookup(_GROUP_WORDS, GROUPS))
    ledger.flag(
        (group == "").to_numpy(),
        "unknown_group",
        cols["participant_group"],
        "unknown participant group '" + group_text + "' (use " + ", ".join(GROUPS) + ")",
    )
    kind = translate(fold_series(kind_text), _lookup(dict(SESSION_KINDS)))
    kind = kind.where(kind_text != "", "focus_group")
    if "session_kind" in cols:
        ledger.flag(
            (kind == "").to_numpy(),
            "unknown_session_kind",
            cols["session_kind"],
            "unknown session kind '" + kind_text + "' (use focus_group or interview)",
        )
    codes, unknown = parse_codes(codes_text, code_lookup(codebook))
    ledger.flag(
        (unknown != "").to_numpy(),
        "unknown_code",
        cols["codes"],
        "unknown code(s) " + unknown + " (see `safercities fieldwork codebook`)",
    )
    dates = parse_dates(raw, cols["date"], date_order, today)
    flag_dates(ledger, dates, cols["date"])
    segment_id = make_ids(text_column(raw, cols.get("segment_id")), id_prefix, raw.row_numbers)
    id_column = cols.get("segment_id", "segment_id")
    repeated = segment_id.duplicated(keep="first").to_numpy() & ledger.alive
    ledger.flag(repeated, "duplicate_id", id_column, "segment id '" + segment_id + "' appears earlier in the file")
    ledger.flag(
        segment_id.isin(existing_ids).to_numpy(),
        "duplicate_id",
        id_column,
        "segment id '" + segment_id + "' is already in the workspace (from another file)",
    )
    session_given = text_column(raw, cols.get("session_id"))
    day = pd.Series(np.datetime_as_string(dates.values, unit="D"), index=area_id.index)
    session_id = session_given.where(session_given != "", area_id + "/" + group + "/" + day)
    keep = ledger.alive
    quote = text_column(raw, cols.get("quote"))
    warnings = []
    blank_quotes = int(((quote == "") & keep).sum())
    if blank_quotes:
        warnings.append(f"{blank_quotes} kept segment(s) have no quote (codes only)")
    if "quote" not in cols:
        warnings.append("the file has no quote column: segments are stored with their codes only")
    rows = pa.table(
        {
            "segment_id": pa.array(segment_id[keep].to_numpy(object), pa.string()),
            "session_id": pa.array(session_id[keep].to_numpy(object), pa.string()),
            "session_kind": pa.array(kind[keep].to_numpy(object), pa.string()),
            "area_id": pa.array(area_id[keep].to_numpy(object), pa.string()),
            "participant_group": pa.array(group[keep].to_numpy(object), pa.string()),
            "session_date": pa.array(dates.values[keep], pa.date32()),
            "codes": pa.array(codes[keep].to_numpy(object), pa.string()),
            "quote": optional_text(quote[keep]),
            "source_row": pa.array(raw.row_numbers[keep], pa.int64()),
        }
    )
    return PreparedSegments(rows, ledger.frame(raw), raw.rows_read, tuple(warnings))


def import_fieldwork(
    ws: Workspace,
    path: Path | str,
    *,
    replace: bool = False,
    date_order: str = "dmy",
    sheet: str = "",
    codebook: Codebook | None = None,
) -> ImportResult:
    """Import a focus-group / interview file (CSV or XLSX): every row stored or rejected with its reason."""
    path = Path(path)
    check_file(path)
    check_date_order(date_order)
    sha = file_sha256(path)
    repeat = ws.repeated_import(KIND, path, sha, replace)
    if repeat is not None:
        return repeat
    raw = read_table(path, SourceOptions(sheet=sheet))
    prepared = prepare_segments(
        raw,
        codebook or load_codebook(),
        ws.store.areas()[["area_id", "name"]],
        id_prefix=sha[:12],
        existing_ids=held_ids(ws, KIND, "segment_id", sha, replace),
        date_order=date_order,
    )
    options: dict[str, object] = {"date_order": date_order, "sheet": sheet, "encoding": raw.encoding}
    return ws.commit_import(
        KIND, path, sha, replace, prepared.rows, prepared.rejects, prepared.rows_read, prepared.warnings, options
    )


def segments(ws: Workspace) -> pd.DataFrame:
    """The coded segments held by the workspace."""
    frame = ws.store.read(KIND)
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    return frame.sort_values(["area_id", "session_date", "segment_id"], kind="stable").reset_index(drop=True)


def explode_codes(segments: pd.DataFrame, codebook: Codebook | None = None) -> pd.DataFrame:
    """One row per segment x code, with the code's kind and role (threat, vulnerability, capacity)."""
    long = segments.assign(code=segments["codes"].str.split(";")).explode("code", ignore_index=True)
    long = long[long["code"].fillna("") != ""]
    book = (codebook or load_codebook()).to_frame()[["code", "kind", "role", "dimension"]]
    return long.merge(book, on="code", how="left")


def code_frequencies(
    segments: pd.DataFrame, codebook: Codebook | None = None, by: tuple[str, ...] = ("area_id", "participant_group")
) -> pd.DataFrame:
    """How often each code came up, by ``by`` (community, group, both or neither).

    ``segments`` counts the coded segments that carry the code; ``sessions`` the sessions where it came up at
    least once; ``share`` = sessions / sessions held in the cell (how many groups raised it, the saturation
    measure of qualitative analysis).
    """
    unknown = sorted(set(by) - {"area_id", "participant_group", "session_kind"})
    if unknown:
        raise InputError(f"cannot count codes by {unknown}; use area_id, participant_group or session_kind")
    keys = list(by)
    long = explode_codes(segments, codebook)
    counted = long.groupby([*keys, "code", "kind", "role"], sort=False).agg(
        segments=("segment_id", "nunique"), sessions=("session_id", "nunique")
    )
    counted = counted.reset_index()
    held = segments.groupby(keys)["session_id"].nunique().rename("sessions_held") if keys else None
    if held is not None:
        counted = counted.merge(held.reset_index(), on=keys, how="left")
    else:
        counted["sessions_held"] = segments["session_id"].nunique()
    counted["share"] = counted["sessions"] / counted["sessions_held"]
    order = [*keys, "segments"] if keys else ["segments"]
    ascending = [True] * len(keys) + [False]
    return counted.sort_values(order, ascending=ascending, kind="stable").reset_index(drop=True)


def quotes(segments: pd.DataFrame, code: str, area_id: str | None = None, codebook: Codebook | None = None):
    """The quotes coded with ``code`` (optionally in one community), with session, group and date."""
    book = codebook or load_codebook()
    if code not in book.codes:
        raise InputError(f"unknown code '{code}'", hint="see `safercities fieldwork codebook` for the codes")
    mask = segments["codes"].str.contains(rf"(?:^|;){re.escape(code)}(?:;|$)", regex=True)
    if area_id is not None:
        mask &= segments["area_id"] == area_id
    columns = ["segment_id", "area_id", "participant_group", "session_id", "session_date", "codes", "quote"]
    return segments.loc[mask, columns].reset_index(drop=True)
