"""Reading a plan workbook: every row checked against the actors registry, the practice library, the indicator
framework, the codebook and the workspace's areas; the rows that pass are kept, the others rejected with their sheet,
row, column and reason (the first check a row fails).

The whole file is refused (an :class:`~safercities.errors.InputError`, nothing read) only when it cannot be a plan:
not a workbook, a sheet missing, a required column missing, or actors named while no registry is known.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities.audit.indicators import normalise_period, parse_period
from safercities.errors import InputError
from safercities.governance.actors import ActorRegistry
from safercities.plan.cells import parse_amounts, parse_dates, read_sheet, valid_ids
from safercities.plan.labels import LABELS
from safercities.plan.model import (
    CITY,
    CUSTOM,
    HORIZONS,
    INTERVENTION_STATUSES,
    RACI_COLUMNS,
    RECOMMENDATION_STATUSES,
    REQUIRED,
    SHEETS,
    TITLE_COLUMNS,
    Plan,
    horizon_of,
    join_list,
    split_list,
)
from safercities.practices.schema import PROBLEMS

REJECT_COLUMNS = ["row_number", "column_name", "reason_code", "reason", "raw"]


@dataclass(frozen=True)
class PlanContext:
    """What a plan's cells are checked against. ``areas=None`` leaves area ids unchecked (no workspace)."""

    actors: ActorRegistry | None
    practices: tuple[str, ...]
    indicators: tuple[str, ...]
    areas: tuple[str, ...] | None = None
    problems: tuple[str, ...] = PROBLEMS
    lang: str = "en"


@dataclass(frozen=True)
class PlanRead:
    """The valid rows of a workbook as a :class:`Plan`, its rejected rows, rows read and warnings."""

    plan: Plan
    rejects: pd.DataFrame
    rows_read: int
    warnings: tuple[str, ...] = ()


# -- rejects ----------------------------------------------------------------------------------------------


def _rejects(frame: pd.DataFrame, sheet: str, mask: pd.Series, column: str, code: str, reason: Any) -> pd.DataFrame:
    picked = frame[mask]
    why = reason[mask] if isinstance(reason, pd.Series) else pd.Series(reason, index=picked.index, dtype=object)
    where = "sheet '" + sheet + "', row " + picked["row_number"].astype(str) + ", column '" + column + "': "
    raw = [
        json.dumps({"sheet": sheet, **r}, ensure_ascii=False)
        for r in picked.drop(columns="row_number").to_dict("records")
    ]
    return pd.DataFrame(
        {
            "row_number": picked["row_number"].to_numpy(np.int64),
            "column_name": f"{sheet}.{column}",
            "reason_code": code,
            "reason": (where + why.astype(str)).to_numpy(object),
            "raw": np.asarray(raw, dtype=object),
        },
        columns=REJECT_COLUMNS,
    )


def _first_failure(
    frame: pd.DataFrame, sheet: str, checks: Iterable[tuple[str, Any, str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply checks in order (each a lazy thunk or a mask); a row is rejected for the first it fails."""
    rejected = pd.Series(False, index=frame.index)
    parts = [pd.DataFrame(columns=REJECT_COLUMNS)]
    for column, bad, code, reason in checks:
        mask = pd.Series(np.asarray(bad() if callable(bad) else bad, dtype=bool), index=frame.index) & ~rejected
        if mask.any():
            parts.append(_rejects(frame, sheet, mask, column, code, reason() if callable(reason) else reason))
        rejected |= mask
    rejects = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    return frame[~rejected].copy(), rejects


# -- cells ------------------------------------------------------------------------------------------------


def _choice(texts: pd.Series, choices: Sequence[str], prefixes: Sequence[str]) -> pd.Series:
    """Typed choices as ids: 'In progress', 'in-progress' and the label in any language all give 'in_progress'."""
    words = {c: c for c in choices}
    for prefix in prefixes:
        for choice in choices:
            for text in LABELS.get(f"{prefix}.{choice}", {}).values():
                words.setdefault(text.split(" (")[0].casefold(), choice)
    key = texts.str.strip().str.casefold()
    normalised = key.str.replace(r"[\s\-]+", "_", regex=True)
    return normalised.where(normalised.isin(choices), key.map(words)).fillna(texts)


def _unknown_items(texts: pd.Series, allowed: set[str], extra: tuple[str, ...] = ()) -> pd.Series:
    """For each cell, the items that are not allowed (joined), '' when all are."""
    return texts.map(lambda t: ", ".join(repr(v) for v in split_list(t) if v not in allowed and v not in extra))


def _hint(value: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""


def _resolve_actors(frame: pd.DataFrame, registry: ActorRegistry | None, columns: Sequence[str], need: dict[str, str]):
    """Per row: the first RACI problem as (column, message), and the cells with actor ids in place of names."""
    problems: list[tuple[str, str]] = []
    resolved = {c: [] for c in columns}  # type: dict[str, list[str]]
    for record in frame[list(columns)].to_dict("records"):
        trouble = ("", "")
        for column in columns:
            names = split_list(record[column])
            rule = need.get(column, "")
            if rule == "one_or_more" and not names and not trouble[0]:
                trouble = (column, "no actor named: at least one is needed")
            if rule == "exactly_one" and len(names) != 1 and not trouble[0]:
                trouble = (column, f"exactly one actor must be accountable, not {len(names)}")
            ids = []
            for name in names:
                if registry is None:
                    ids.append(name)
                    continue
                try:
                    ids.append(registry.resolve(name))
                except InputError as exc:
                    if not trouble[0]:
                        trouble = (column, str(exc))
                    ids.append(name)
            resolved[column].append(join_list(list(dict.fromkeys(ids))))
        problems.append(trouble)
    return problems, resolved


def _raci_checks(frame: pd.DataFrame, registry: ActorRegistry | None, columns: Sequence[str], need: dict[str, str]):
    problems, resolved = _resolve_actors(frame, registry, columns, need)
    where = pd.Series([p[0] for p in problems], index=frame.index)
    message = pd.Series([p[1] for p in problems], index=frame.index)
    checks = [(c, where == c, "unknown_actor", message) for c in columns]
    return checks, resolved


def _dates_ok(frame: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    text = frame[column]
    dates = parse_dates(text)
    return dates, text.eq(""), text.ne("") & dates.isna()


# -- sheets -----------------------------------------------------------------------------------------------


def _interventions(frame: pd.DataFrame, context: PlanContext) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    sheet = "interventions"
    warnings: list[str] = []
    ids = frame["intervention_id"]
    titles = frame[list(TITLE_COLUMNS)]
    practice = frame["practice_id"].where(frame["practice_id"].ne(""), CUSTOM)
    known_practices = set(context.practices) | {CUSTOM}
    areas = set(context.areas or ())
    budget, budget_ok = parse_amounts(frame["budget"])
    has_budget = frame["budget"].ne("")
    currency = frame["currency"].str.upper()
    start, no_start, bad_start = _dates_ok(frame, "start_date")
    end, no_end, bad_end = _dates_ok(frame, "end_date")
    horizon = _choice(frame["horizon"], HORIZONS, ("horizon",))
    status = _choice(frame["status"].where(frame["status"].ne(""), "planned"), INTERVENTION_STATUSES, ("status",))
    raci_checks, actors = _raci_checks(
        frame, context.actors, RACI_COLUMNS, {"responsible": "one_or_more", "accountable": "exactly_one"}
    )
    checks = [
        ("intervention_id", ids.eq(""), "missing_value", "the intervention has no id"),
        ("intervention_id", ~valid_ids(ids), "invalid_id", "id '" + ids + "' may hold only letters, digits, _ . -"),
        ("intervention_id", ids.duplicated(), "duplicate_id", "id '" + ids + "' appears on an earlier row"),
        (
            "title_en",
            ~titles.astype(bool).any(axis=1),
            "missing_value",
            "no title in any language (title_en, title_es, title_fr)",
        ),
        (
            "practice_id",
            ~practice.isin(known_practices),
            "unknown_practice",
            lambda: practice.map(
                lambda p: f"'{p}' is not a practice of the library nor 'custom'{_hint(p, context.practices)}"
            ),
        ),
        (
            "problems",
            frame["problems"].map(lambda t: len(split_list(t))).eq(0),
            "missing_value",
            "no priority problem named",
        ),
        (
            "problems",
            lambda: _unknown_items(frame["problems"], set(context.problems)).ne(""),
            "unknown_problem",
            lambda: (
                _unknown_items(frame["problems"], set(context.problems)) + " not among the problems of the codebook"
            ),
        ),
        (
            "areas",
            frame["areas"].map(lambda t: len(split_list(t))).eq(0),
            "missing_value",
            "no area covered (an area id or 'city')",
        ),
        (
            "areas",
            lambda: (_unknown_items(frame["areas"], areas, (CITY,)).ne("")) & (context.areas is not None),
            "unknown_area",
            lambda: _unknown_items(frame["areas"], areas, (CITY,)) + " not among the workspace's areas",
        ),
        *raci_checks,
        ("budget", has_budget & ~budget_ok, "not_a_number", "budget '" + frame["budget"] + "' is not a number"),
        ("budget", has_budget & budget_ok & (budget < 0), "negative", "a budget cannot be negative"),
        (
            "currency",
            has_budget & ~currency.str.fullmatch(r"[A-Z]{3}"),
            "invalid_currency",
            "currency '" + frame["currency"] + "' is not a three-letter ISO 4217 code (e.g. MXN, USD, EUR)",
        ),
        ("start_date", no_start, "missing_value", "no start date"),
        (
            "start_date",
            bad_start,
            "invalid_date",
            "'" + frame["start_date"] + "' is not a date (2025-03-31 or 31/03/2025)",
        ),
        ("end_date", no_end, "missing_value", "no end date"),
        ("end_date", bad_end, "invalid_date", "'" + frame["end_date"] + "' is not a date (2025-03-31 or 31/03/2025)"),
        ("end_date", end < start, "end_before_start", "the end date comes before the start date"),
        (
            "horizon",
            frame["horizon"].ne("") & ~horizon.isin(HORIZONS),
            "unknown_horizon",
            "horizon '" + frame["horizon"] + "' is not one of: " + ", ".join(HORIZONS),
        ),
        (
            "status",
            ~status.isin(INTERVENTION_STATUSES),
            "unknown_status",
            "status '" + frame["status"] + "' is not one of: " + ", ".join(INTERVENTION_STATUSES),
        ),
    ]
    kept, rejects = _first_failure(frame, sheet, checks)
    rule = pd.Series(horizon_of(start[kept.index], end[kept.index]), index=kept.index)
    given = horizon[kept.index].where(kept["horizon"].ne(""), rule)
    for row, got, want in zip(kept["row_number"], given, rule, strict=True):
        if got != want:
            warnings.append(
                f"sheet '{sheet}', row {row}, column 'horizon': '{got}' kept, though by its dates the rule says "
                f"'{want}'"
            )
    out = pd.DataFrame(
        {
            "intervention_id": kept["intervention_id"],
            **{c: kept[c] for c in TITLE_COLUMNS},
            "practice_id": practice[kept.index],
            "problems": kept["problems"].map(lambda t: join_list(split_list(t))),
            "areas": kept["areas"].map(lambda t: join_list(split_list(t))),
            **{c: pd.Series(actors[c], index=frame.index)[kept.index] for c in RACI_COLUMNS},
            "budget": pd.Series(budget, index=frame.index)[kept.index].where(has_budget[kept.index]),
            "currency": currency[kept.index],
            "funding_source": kept["funding_source"],
            "start_date": start[kept.index].dt.date,
            "end_date": end[kept.index].dt.date,
            "horizon": given,
            "status": status[kept.index],
            "notes": kept["notes"],
            "source_row": kept["row_number"],
        }
    )
    return out.reset_index(drop=True), rejects, warnings


def _targets(frame: pd.DataFrame, context: PlanContext, interventions: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    sheet = "targets"
    ids = frame["target_id"]
    areas = set(context.areas or ())
    period = frame["baseline_period"].map(normalise_period)
    numbers = {c: parse_amounts(frame[c]) for c in ("baseline", "baseline_lower", "baseline_upper", "baseline_se")}
    target, target_ok = parse_amounts(frame["target_value"])
    date, no_date, bad_date = _dates_ok(frame, "target_date")
    period_end = period.map(lambda p: parse_period(p).end if p else pd.NaT)
    links = _unknown_items(frame["intervention_ids"], interventions)
    checks: list[tuple[str, Any, str, Any]] = [
        ("target_id", ids.eq(""), "missing_value", "the target has no id"),
        ("target_id", ~valid_ids(ids), "invalid_id", "id '" + ids + "' may hold only letters, digits, _ . -"),
        ("target_id", ids.duplicated(), "duplicate_id", "id '" + ids + "' appears on an earlier row"),
        (
            "indicator_id",
            ~frame["indicator_id"].isin(context.indicators),
            "unknown_indicator",
            lambda: frame["indicator_id"].map(
                lambda i: f"'{i}' is not an indicator of the framework{_hint(i, context.indicators)}"
            ),
        ),
        ("scope", frame["scope"].eq(""), "missing_value", "no scope: an area id or 'city'"),
        (
            "scope",
            (context.areas is not None) & ~frame["scope"].isin(areas | {CITY}),
            "unknown_area",
            "'" + frame["scope"] + "' is not an area of the workspace nor 'city'",
        ),
        (
            "baseline_period",
            period.isna(),
            "invalid_period",
            "'"
            + frame["baseline_period"]
            + "' is not a period: a year (2024), a quarter (2024-Q1) or a month (2024-03)",
        ),
        *[
            (c, frame[c].ne("") & ~ok, "not_a_number", "'" + frame[c] + "' is not a number")
            for c, (_, ok) in numbers.items()
        ],
        ("target_value", frame["target_value"].eq(""), "missing_value", "no target value"),
        ("target_value", ~target_ok, "not_a_number", "'" + frame["target_value"] + "' is not a number"),
        ("target_date", no_date, "missing_value", "no target date"),
        (
            "target_date",
            bad_date,
            "invalid_date",
            "'" + frame["target_date"] + "' is not a date (2025-03-31 or 31/03/2025)",
        ),
        (
            "target_date",
            lambda: date <= pd.to_datetime(period_end),
            "target_before_baseline",
            "the target date must come after the end of the baseline period",
        ),
        ("intervention_ids", links.ne(""), "unknown_intervention", links + " not among the plan's interventions"),
    ]
    kept, rejects = _first_failure(frame, sheet, checks)
    idx = kept.index
    out = pd.DataFrame(
        {
            "target_id": kept["target_id"],
            "indicator_id": kept["indicator_id"],
            "scope": kept["scope"],
            "baseline_period": period[idx],
            **{c: pd.Series(v, index=frame.index)[idx] for c, (v, _) in numbers.items()},
            "baseline_source": np.where(frame.loc[idx, "baseline"].ne(""), "given", ""),
            "target_value": pd.Series(target, index=frame.index)[idx],
            "target_date": date[idx].dt.date,
            "intervention_ids": kept["intervention_ids"].map(lambda t: join_list(split_list(t))),
            "notes": kept["notes"],
            "source_row": kept["row_number"],
        }
    )
    return out.reset_index(drop=True), rejects


def _recommendations(
    frame: pd.DataFrame, context: PlanContext, interventions: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    sheet = "recommendations"
    ids = frame["recommendation_id"]
    status = _choice(
        frame["status"].where(frame["status"].ne(""), "open"), RECOMMENDATION_STATUSES, ("recommendation",)
    )
    made, _, bad_made = _dates_ok(frame, "date_made")
    addressed, no_addressed, bad_addressed = _dates_ok(frame, "date_addressed")
    raci_checks, actors = _raci_checks(frame, context.actors, ("responsible",), {"responsible": "one_or_more"})
    links = _unknown_items(frame["intervention_ids"], interventions)
    checks = [
        ("recommendation_id", ids.eq(""), "missing_value", "the recommendation has no id"),
        ("recommendation_id", ~valid_ids(ids), "invalid_id", "id '" + ids + "' may hold only letters, digits, _ . -"),
        ("recommendation_id", ids.duplicated(), "duplicate_id", "id '" + ids + "' appears on an earlier row"),
        ("text", frame["text"].eq(""), "missing_value", "the recommendation has no text"),
        *raci_checks,
        (
            "status",
            ~status.isin(RECOMMENDATION_STATUSES),
            "unknown_status",
            "status '" + frame["status"] + "' is not one of: " + ", ".join(RECOMMENDATION_STATUSES),
        ),
        (
            "date_made",
            bad_made,
            "invalid_date",
            "'" + frame["date_made"] + "' is not a date (2025-03-31 or 31/03/2025)",
        ),
        (
            "date_addressed",
            bad_addressed,
            "invalid_date",
            "'" + frame["date_addressed"] + "' is not a date (2025-03-31 or 31/03/2025)",
        ),
        (
            "date_addressed",
            status.eq("addressed") & no_addressed,
            "missing_value",
            "an addressed recommendation needs the date",
        ),
        (
            "date_addressed",
            status.ne("addressed") & ~no_addressed,
            "date_without_status",
            "a date addressed is given but the status is '" + status + "', not 'addressed'",
        ),
        ("date_addressed", addressed < made, "addressed_before_made", "addressed before the date it was made"),
        ("intervention_ids", links.ne(""), "unknown_intervention", links + " not among the plan's interventions"),
    ]
    kept, rejects = _first_failure(frame, sheet, checks)
    idx = kept.index
    out = pd.DataFrame(
        {
            "recommendation_id": kept["recommendation_id"],
            "text": kept["text"],
            "responsible": pd.Series(actors["responsible"], index=frame.index)[idx],
            "status": status[idx],
            "date_made": made[idx].dt.date,
            "date_addressed": addressed[idx].dt.date,
            "intervention_ids": kept["intervention_ids"].map(lambda t: join_list(split_list(t))),
            "notes": kept["notes"],
            "source_row": kept["row_number"],
        }
    )
    return out.reset_index(drop=True), rejects


# -- the workbook -----------------------------------------------------------------------------------------


def _frame(book: Any, sheet: str, path: Path, lang: str, warnings: list[str]) -> pd.DataFrame:
    names = {str(n).strip().casefold(): str(n) for n in book.sheetnames}
    if sheet not in names:
        raise InputError(
            f"the workbook has no sheet '{sheet}'",
            file=path,
            hint=f"sheets found: {', '.join(book.sheetnames)}; write a template with `safercities plan template`",
        )
    frame = read_sheet(book, names[sheet], path)
    if sheet == "interventions" and "title" in frame.columns:
        target = f"title_{lang}"
        frame[target] = frame[target].where(frame[target].ne(""), frame["title"]) if target in frame else frame["title"]
        frame = frame.drop(columns="title")
    missing = [c for c in REQUIRED[sheet] if c not in frame.columns]
    if missing:
        raise InputError(
            f"sheet '{sheet}' has no column {', '.join(map(repr, missing))}",
            file=path,
            column=missing[0],
            hint=f"columns found: {', '.join(c for c in frame.columns if c != 'row_number')}",
        )
    extra = [c for c in frame.columns if c not in SHEETS[sheet] and c not in ("row_number", "source_row")]
    if extra:
        warnings.append(f"sheet '{sheet}': columns ignored: {', '.join(extra)}")
    for column in SHEETS[sheet]:
        if column not in frame.columns:
            frame[column] = ""
    return frame


def read_plan(path: Path | str, context: PlanContext) -> PlanRead:
    """Read and check a plan workbook (sheets interventions, targets, recommendations; README and lists ignored)."""
    import openpyxl

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(f"a plan is an Excel workbook, not '{path.suffix}'", file=path, hint="save it as .xlsx")
    try:
        book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a file that is not a workbook
        raise InputError(f"cannot read as an Excel workbook: {exc}", file=path) from exc
    warnings: list[str] = []
    try:
        frames = {sheet: _frame(book, sheet, path, context.lang, warnings) for sheet in SHEETS}
    finally:
        book.close()
    named = (
        any(frames["interventions"][c].ne("").any() for c in RACI_COLUMNS)
        or frames["recommendations"]["responsible"].ne("").any()
    )
    if named and context.actors is None:
        raise InputError(
            "the plan names actors but the workspace holds no actors registry",
            file=path,
            hint="import the registry first with `safercities actors import FILE`",
        )
    interventions, bad_i, notes = _interventions(frames["interventions"], context)
    warnings.extend(notes)
    listed = set(frames["interventions"]["intervention_id"]) - {""}
    targets, bad_t = _targets(frames["targets"], context, listed)
    recommendations, bad_r = _recommendations(frames["recommendations"], context, listed)
    rejects = pd.concat([r for r in (bad_i, bad_t, bad_r) if len(r)] or [bad_i], ignore_index=True)
    plan = Plan(
        interventions.drop(columns="source_row").assign(source_row=interventions["source_row"]),
        targets,
        recommendations,
    )
    return PlanRead(plan, rejects, sum(len(f) for f in frames.values()), tuple(warnings))
