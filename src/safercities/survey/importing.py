"""Import a survey export (KoboToolbox, ODK Central, or a generic CSV/XLSX) with its design file.

Column names are matched to the questionnaire's questions as the tools write them: KoboToolbox
prefixes the group path with ``/`` (``household_crimes/burglary/burglary_5y``), ODK Central with
``-``, and a generic file may use bare names or rename columns in the design file's ``[columns]``.
A select_multiple answer comes as one column of space-separated codes or as one 0/1 column per
choice (``harass_place/street``). Answers may be codes or, for select_one questions, labels in any
of the three languages.

Every row is kept or rejected with its reason (unknown answer code, missing or non-positive weight,
missing stratum or PSU, age missing or outside 15-110, unknown area, duplicated respondent,
interview declined). A stratum left with a single PSU stops the import with the standard remedies.
The import is one transaction (:meth:`Workspace.commit_import`); the design file is stored as JSON
in the import's ledger row.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from safercities.errors import InputError
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import read_table
from safercities.survey.designfile import SurveyDesignFile, load_design
from safercities.survey.instrument import Instrument, load_instrument
from safercities.workspace import ImportResult, Workspace, file_sha256

KIND = "survey_respondents"
MIN_AGE, MAX_AGE = 15, 110
ID_COLUMNS = ("_uuid", "meta/instanceID", "meta-instanceID", "instanceID", "KEY")
TIME_COLUMNS = ("_submission_time", "SubmissionDate", "end")
TOOL_COLUMNS = frozenset(
    {
        "_id", "_index", "_status", "_submitted_by", "__version__", "_version_", "_tags", "_notes",
        "_validation_status", "_attachments", "_geolocation", "_parent_index", "_parent_table_name",
        "_xform_id_string", "_duration", "start", "end", "today", "deviceid", "username", "phonenumber",
        "formhub/uuid", "meta/rootUuid", "meta/deprecatedID", "SubmitterID", "SubmitterName", "AttachmentsPresent",
        "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion", "instanceName",
        "meta-instanceName", "meta/instanceName", "KEY", "SubmissionDate", "_uuid", "_submission_time",
    }
)  # fmt: skip
"""Columns that KoboToolbox and ODK Central add to every export; they are not answers."""
_SEPARATOR = re.compile(r"[/\-.]")
_TRUE = frozenset({"1", "true", "yes", "verdadero", "vrai", "1.0"})
_FALSE = frozenset({"0", "false", "no", "falso", "faux", "0.0", ""})

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ColumnPlan:
    """Which source column answers which question (or which choice of a select_multiple)."""

    questions: dict[str, str]
    one_hot: dict[str, dict[str, str]]
    respondent_id: str
    submitted_at: str
    replicates: tuple[str, ...]
    ignored: tuple[str, ...]


def plan_columns(columns: list[str], design: SurveyDesignFile, instrument: Instrument, file: Path) -> ColumnPlan:
    """Match the export's columns to questions, design columns, replicate weights and tool metadata."""
    names = set(instrument.names())
    multiple = {q.name for q in instrument.questions if q.kind == "select_multiple"}
    design_columns = {c for c in (design.weight, design.household_weight, design.strata, design.psu, design.fpc) if c}
    if design.id_column:
        design_columns.add(design.id_column)
    for column in sorted(design_columns | set(design.columns)):
        if column not in columns:
            raise InputError(
                f"the design file names column '{column}', which the export does not have",
                file=file,
                hint=f"columns present: {', '.join(columns[:12])}{' …' if len(columns) > 12 else ''}",
            )
    replicates: tuple[str, ...] = ()
    if design.replicates is not None:
        reps = design.replicates
        if reps.columns:
            missing = [c for c in reps.columns if c not in columns]
            if missing:
                raise InputError(f"replicate weight column '{missing[0]}' is not in the export", file=file)
            replicates = reps.columns
        else:
            replicates = tuple(c for c in columns if fnmatch.fnmatchcase(c, reps.pattern))
            if len(replicates) < 2:
                raise InputError(
                    f"replicates.pattern '{reps.pattern}' matches {len(replicates)} columns; at least 2 are needed",
                    file=file,
                )
    taken = design_columns | set(replicates)
    questions: dict[str, str] = {}
    one_hot: dict[str, dict[str, str]] = {}
    ignored: list[str] = []

    def claim(question: str, column: str) -> None:
        if question in questions:
            raise InputError(
                f"columns '{questions[question]}' and '{column}' both answer question '{question}'",
                file=file,
                hint="rename one of them, or map the right one in the design file's [columns]",
            )
        questions[question] = column

    for column, question in design.columns.items():
        if question not in names:
            raise InputError(f"[columns] maps '{column}' to '{question}', which is not a question", file=file)
        claim(question, column)
    for column in columns:
        if column in taken or column in design.columns:
            continue
        parts = [p for p in _SEPARATOR.split(column) if p]
        if column in names:
            claim(column, column)
        elif parts and parts[-1] in names and column not in TOOL_COLUMNS:
            claim(parts[-1], column)
        elif len(parts) >= 2 and parts[-2] in multiple and parts[-1] in instrument.codes(parts[-2]):
            one_hot.setdefault(parts[-2], {})[parts[-1]] = column
        else:
            ignored.append(column)
    respondent_id = design.id_column or next((c for c in ID_COLUMNS if c in columns), "")
    submitted_at = next((c for c in TIME_COLUMNS if c in columns), "")
    unknown = tuple(c for c in ignored if c not in TOOL_COLUMNS and c not in (respondent_id, submitted_at))
    return ColumnPlan(questions, one_hot, respondent_id, submitted_at, replicates, unknown)


class _Ledger:
    """Rejected rows: the first reason found for each row is the one kept."""

    def __init__(self, n: int) -> None:
        self.rejected = np.zeros(n, dtype=bool)
        self.parts: list[pd.DataFrame] = []

    def reject(self, mask: np.ndarray, column: str, code: str, reason: pd.Series | str, raw: pd.Series) -> None:
        new = np.asarray(mask, dtype=bool) & ~self.rejected
        if not new.any():
            return
        reasons = reason[new] if isinstance(reason, pd.Series) else pd.Series(reason, index=raw.index)[new]
        self.parts.append(
            pd.DataFrame(
                {
                    "position": np.flatnonzero(new),
                    "column_name": column,
                    "reason_code": code,
                    "reason": reasons.to_numpy(object),
                    "raw": raw[new].to_numpy(object),
                }
            )  # fmt: skip
        )
        self.rejected |= new

    def frame(self, row_numbers: np.ndarray) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["row_number", "column_name", "reason_code", "reason", "raw"])
        out = pd.concat(self.parts, ignore_index=True).sort_values("position", kind="stable")
        out.insert(0, "row_number", row_numbers[out.pop("position").to_numpy()])
        return out.reset_index(drop=True)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna("").astype(str).str.strip()


def _label_lookup(instrument: Instrument, list_name: str) -> dict[str, str]:
    """Lower-cased label (any language) or code -> code, for answers exported as labels."""
    lookup: dict[str, str] = {}
    for choice in instrument.choices[list_name]:
        for label in choice.labels.values():
            lookup.setdefault(label.strip().lower(), choice.name)
        lookup[choice.name.lower()] = choice.name
    return lookup


def _select_one(values: pd.Series, question: str, instrument: Instrument, ledger: _Ledger, column: str) -> pd.Series:
    codes = instrument.codes(question)
    lookup = _label_lookup(instrument, instrument.question(question).list_name or "")
    mapped = values.where(values.isin(codes), values.str.lower().map(lookup))
    bad = (values != "") & mapped.isna()
    ledger.reject(
        bad.to_numpy(),
        column,
        "unknown_code",
        "unknown answer '" + values + f"' to {question}; expected one of " + ", ".join(codes),
        values,
    )
    return mapped.where(values != "")


def _select_multiple(
    frame: pd.DataFrame, question: str, plan: ColumnPlan, instrument: Instrument, ledger: _Ledger
) -> pd.Series | None:
    codes = instrument.codes(question)
    if question in plan.questions:
        column = plan.questions[question]
        values = _text(frame, column).str.split().str.join(" ")
        tokens = values.str.split().explode()
        bad_token = tokens[tokens.notna() & ~tokens.isin(codes)]
        bad = values.index.isin(bad_token.index)
        first_bad = bad_token.groupby(level=0).first().reindex(values.index).fillna("")
        ledger.reject(
            bad,
            column,
            "unknown_code",
            "unknown choice '" + first_bad + f"' for {question}; expected codes among " + ", ".join(codes),
            values,
        )
        return values.where(values != "")
    if question not in plan.one_hot:
        return None
    joined = pd.Series("", index=frame.index)
    for choice in codes:
        if choice not in plan.one_hot[question]:
            continue
        column = plan.one_hot[question][choice]
        cell = _text(frame, column).str.lower()
        ok = cell.isin(_TRUE | _FALSE)
        ledger.reject(
            (~ok).to_numpy(), column, "unknown_code", f"{column} must be 1 or 0 (chosen or not)", frame[column]
        )
        joined = joined.where(~cell.isin(_TRUE), (joined + " " + choice).str.strip())
    return joined.where(joined != "")


def _integers(values: pd.Series) -> pd.Series:
    number = pd.to_numeric(values.where(values != ""), errors="coerce")
    whole = number.where(np.isfinite(number) & (number == np.round(number)))
    return whole


def _number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.str.replace(",", ".", regex=False).where(values != ""), errors="coerce")


@dataclass(frozen=True)
class PreparedSurvey:
    rows: pa.Table
    rejects: pd.DataFrame
    rows_read: int
    warnings: tuple[str, ...]
    accepted: pd.DataFrame


def prepare_survey(
    frame: pd.DataFrame,
    row_numbers: np.ndarray,
    design: SurveyDesignFile,
    file: Path,
    known_areas: frozenset[str] = frozenset(),
    instrument: Instrument | None = None,
) -> PreparedSurvey:
    """Check every row of an export against the questionnaire and the design; rows to store and rejects."""
    instrument = instrument or load_instrument()
    plan = plan_columns(list(frame.columns), design, instrument, file)
    n = len(frame)
    ledger = _Ledger(n)
    warnings: list[str] = []
    frame = frame.reset_index(drop=True)
    # --- respondent identity -----------------------------------------------------------------------
    if plan.respondent_id:
        rid = _text(frame, plan.respondent_id).str.removeprefix("uuid:")
        ledger.reject((rid == "").to_numpy(), plan.respondent_id, "missing_id", "the respondent id is empty", rid)
    else:
        rid = pd.Series([f"row{r}" for r in row_numbers], dtype=object)
        warnings.append("no respondent id column (_uuid, meta/instanceID, KEY or design.id): rows are numbered")
    # --- the design ----------------------------------------------------------------------------------
    for name, column, required in (
        ("weight", design.weight, True),
        ("household weight", design.household_weight, False),
    ):
        if not column:
            continue
        raw = _text(frame, column)
        value = _number(raw)
        bad = value.isna() | ~(value > 0) | ~np.isfinite(value)
        code = "missing_weight" if required else "missing_household_weight"
        reason = np.where(raw == "", f"the {name} is missing", f"the {name} must be a number > 0, got '" + raw + "'")
        ledger.reject(bad.to_numpy(), column, code, pd.Series(reason, index=raw.index), raw)
    for name, column in (("stratum", design.strata), ("PSU", design.psu)):
        if column:
            raw = _text(frame, column)
            ledger.reject((raw == "").to_numpy(), column, f"missing_{name.lower()}", f"the {name} is missing", raw)
    if design.fpc:
        raw = _text(frame, design.fpc)
        value = _number(raw)
        ledger.reject(
            (value.isna() | ~(value > 0)).to_numpy(), design.fpc, "bad_fpc", "the FPC must be a number > 0", raw
        )
    replicate_text = pd.Series("", index=frame.index)
    for column in plan.replicates:
        raw = _text(frame, column)
        value = _number(raw)
        ledger.reject(
            (value.isna() | ~(value >= 0)).to_numpy(),
            column,
            "bad_replicate_weight",
            f"replicate weight {column} must be a number >= 0",
            raw,
        )
        replicate_text = (replicate_text + " " + value.fillna(0.0).astype(float).map(repr)).str.lstrip()
    # --- answers ------------------------------------------------------------------------------------
    answers: dict[str, pd.Series] = {}
    consent = plan.questions.get("consent")
    if consent:
        said = _select_one(_text(frame, consent), "consent", instrument, ledger, consent)
        ledger.reject((said == "no").to_numpy(), consent, "declined", "the interview was declined", frame[consent])
    for q in instrument.questions:
        if q.kind == "note":
            continue
        if q.kind == "select_multiple":
            got = _select_multiple(frame, q.name, plan, instrument, ledger)
            if got is not None:
                answers[q.name] = got
            continue
        if q.name not in plan.questions:
            continue
        column = plan.questions[q.name]
        values = _text(frame, column)
        if q.kind == "select_one":
            answers[q.name] = _select_one(values, q.name, instrument, ledger, column)
        elif q.kind == "integer":
            number = _integers(values)
            low, high = (MIN_AGE, MAX_AGE) if q.name == "age" else (1, 99 if q.crime else 30)
            bad = (values != "") & (number.isna() | (number < low) | (number > high))
            code = "bad_age" if q.name == "age" else "bad_number"
            ledger.reject(
                bad.to_numpy(),
                column,
                code,
                f"{q.name} must be a whole number from {low} to {high}, got '" + values + "'",
                values,
            )
            answers[q.name] = number.astype("Int64").astype(str).where(number.notna())
        else:
            answers[q.name] = values.where(values != "")
    if "age" not in plan.questions:
        raise InputError("no column answers the question 'age'", file=file, hint="map it in the design's [columns]")
    age_missing = answers["age"].isna()
    ledger.reject(
        age_missing.to_numpy(),
        plan.questions["age"],
        "bad_age",
        "the age is missing",
        _text(frame, plan.questions["age"]),
    )
    area_column = plan.questions.get("area")
    area = answers.get("area", pd.Series(np.nan, index=frame.index, dtype=object))
    if area_column and known_areas:
        unknown = area.notna() & ~area.isin(known_areas)
        ledger.reject(
            unknown.to_numpy(),
            area_column,
            "unknown_area",
            "area '" + area.fillna("") + "' is not in the workspace",
            area,
        )
    elif area_column:
        warnings.append("the workspace has no areas yet: area codes were not checked")
    duplicated = rid.duplicated() & (rid != "") & ~pd.Series(ledger.rejected)
    ledger.reject(duplicated.to_numpy(), plan.respondent_id or "row", "duplicate_id", "the respondent id repeats", rid)
    missing_questions = [q for q in instrument.names() if q not in answers]
    if missing_questions:
        warnings.append(f"questions not in the file: {', '.join(missing_questions)}")
    if plan.ignored:
        warnings.append(f"columns not used: {', '.join(plan.ignored)}")
    keep = ~ledger.rejected
    if design.strata and design.psu and design.replicates is None:
        _check_lonely(frame.loc[keep, design.strata], frame.loc[keep, design.psu], design)
    # --- rows to store -------------------------------------------------------------------------------
    answer_frame = pd.DataFrame(answers).loc[keep]
    json_lines = answer_frame.to_json(orient="records", lines=True, force_ascii=False)
    answer_json = json_lines.splitlines() if len(answer_frame) else []
    submitted = (
        pd.to_datetime(_text(frame, plan.submitted_at), errors="coerce", utc=True, format="mixed")
        if plan.submitted_at
        else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    )

    def column_or_none(column: str, numeric: bool) -> pa.Array:
        if not column:
            return pa.nulls(int(keep.sum()), pa.float64() if numeric else pa.string())
        raw = _text(frame, column)[keep]
        if numeric:
            return pa.array(_number(raw).to_numpy(float), pa.float64())
        return pa.array(raw.to_numpy(object), pa.string())

    rows = pa.table(
        {
            "survey_id": pa.array([design.survey_id] * int(keep.sum()), pa.string()),
            "respondent_id": pa.array(rid[keep].to_numpy(object), pa.string()),
            "submitted_at": pa.array(submitted[keep], pa.timestamp("us", tz="UTC"), from_pandas=True),
            "stratum": column_or_none(design.strata, False),
            "psu": column_or_none(design.psu, False),
            "fpc": column_or_none(design.fpc, True),
            "weight": column_or_none(design.weight, True),
            "household_weight": column_or_none(design.household_weight, True),
            "area_id": pa.array(area[keep].to_numpy(object), pa.string(), from_pandas=True),
            "answers": pa.array(answer_json, pa.string()),
            "replicate_weights": pa.array(
                replicate_text[keep].to_numpy(object) if plan.replicates else [None] * int(keep.sum()), pa.string()
            ),
            "source_row": pa.array(row_numbers[keep], pa.int64()),
        }
    )
    return PreparedSurvey(rows, ledger.frame(row_numbers), n, tuple(warnings), answer_frame)


def _check_lonely(strata: pd.Series, psu: pd.Series, design: SurveyDesignFile) -> None:
    """A stratum with a single PSU has no variance estimate: stop, naming it, unless the design says what to do."""
    if design.lonely_psu != "fail":
        return
    counts = pd.DataFrame({"s": strata.astype(str), "p": psu.astype(str)}).groupby("s")["p"].nunique()
    lonely = counts[counts == 1]
    if lonely.empty:
        return
    names = ", ".join(f"'{s}'" for s in lonely.index[:5]) + (f" and {len(lonely) - 5} more" if len(lonely) > 5 else "")
    raise InputError(
        f"stratum {names} has a single primary sampling unit, so its variance cannot be estimated",
        file=design.origin or None,
        column=design.strata,
        hint=(
            "the standard remedies: collapse it with a similar stratum (give both the same stratum code), or set "
            'lonely_psu = "adjust" in [design] (the stratum is centred at the overall mean, as R\'s survey package '
            'does), "certainty" if its PSU was taken with certainty, or "remove"'
        ),
    )


def import_survey(
    ws: Workspace,
    path: Path | str,
    design: SurveyDesignFile | Path | str,
    *,
    replace: bool = False,
    progress: Progress = _quiet,
) -> ImportResult:
    """Import a survey export with its design file: every row stored or rejected with its reason, in one transaction."""
    path = Path(path)
    design = design if isinstance(design, SurveyDesignFile) else load_design(design, default_id=path.stem)
    if not path.exists():
        raise InputError("file not found", file=path)
    sha = file_sha256(path)
    repeat = ws.repeated_import(KIND, path, sha, replace)
    if repeat is not None:
        return repeat
    replacing = ws.store.find_import(KIND, sha) if replace else None
    for held in surveys(ws).itertuples():
        if held.survey_id == design.survey_id and held.import_id != replacing:
            raise InputError(
                f"survey '{design.survey_id}' is already in the workspace (import {held.import_id}, {held.file})",
                file=design.origin or None,
                hint="give this one another id in [survey] id, or import the same file again with --replace",
            )
    progress("reading the export")
    raw = read_table(path, SourceOptions(sheet=design.sheet))
    frame = raw.columns.to_pandas()
    areas = ws.store.areas()
    progress("checking every answer")
    prepared = prepare_survey(frame, raw.row_numbers, design, path, frozenset(areas["area_id"]))
    rejects = prepared.rejects
    if len(raw.ragged):
        ragged = raw.ragged.assign(column_name=None, reason_code="ragged_row")
        rejects = pd.concat([rejects, ragged[rejects.columns]], ignore_index=True)
    options: dict[str, object] = {
        "design": design.to_json(),
        "instrument_version": load_instrument().version,
        "encoding": raw.encoding,
        "delimiter": raw.delimiter,
    }
    progress("writing to the store")
    return ws.commit_import(KIND, path, sha, replace, prepared.rows, rejects, raw.rows_read, prepared.warnings, options)


def surveys(ws: Workspace) -> pd.DataFrame:
    """The surveys held: survey_id, import_id, file, respondents and the design (parsed)."""
    log = ws.store.read("imports", "kind = ? AND status = 'committed'", [KIND])
    designs = [SurveyDesignFile.from_json(json.loads(o)["design"]) for o in log["options"]]
    return pd.DataFrame(
        {
            "survey_id": [d.survey_id for d in designs],
            "import_id": log["import_id"].to_numpy(),
            "file": log["file"].to_numpy(),
            "respondents": log["rows_accepted"].to_numpy(),
            "design": designs,
        }
    )
