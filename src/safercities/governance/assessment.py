"""The urban safety governance assessment: the questionnaire, its answers, maturity scores and gaps.

Each institution answers each question with a maturity level from 0 (absent) to 4 (embedded) and a note on the
evidence, or "dk" (don't know). The scores follow one stated rule, shown next to every figure:

* a question's level is the **lower median** of the institutions' answers ("don't know" left out), so that one
  optimistic institution does not lift it and an even split takes the lower of the two middle answers;
* a principle's (or capacity's) level is the **mean of its questions' levels, rounded down**, provided at least
  half of its questions were answered; otherwise it is not scored;
* a gap is a principle, capacity or question below the target level (3, "operational", by default), a question
  nobody answered, or a question on which institutions' answers are two or more levels apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities import __version__
from safercities.errors import InputError, check_choice
from safercities.governance.files import YAML, read_rows, read_yaml, require_columns
from safercities.governance.labels import LANGUAGES, label

QUESTIONNAIRE = Path(__file__).with_name("questionnaire.yaml")
LEVELS = (0, 1, 2, 3, 4)
DONT_KNOW = ("dk", "na", "n/a", "ns", "nsp", "ns/nc", "?", "don't know", "no sabe", "ne sait pas")
DEFAULT_TARGET = 3
MIN_COVERAGE = 0.5
DIVERGENCE = 2

RULE = {
    "en": "question = lower median of the institutions' answers; principle = ⌊mean of its questions⌋ "
    "when at least half are answered",
    "es": "pregunta = mediana inferior de las respuestas de las instituciones; principio = ⌊media de sus "
    "preguntas⌋ si al menos la mitad tiene respuesta",
    "fr": "question = médiane inférieure des réponses des institutions ; principe = ⌊moyenne de ses questions⌋ "
    "si au moins la moitié ont une réponse",
}


@dataclass(frozen=True)
class Questionnaire:
    """The questions, the principles and capacities they belong to, and the maturity scale, in en/es/fr."""

    name: dict[str, str]
    scale: pd.DataFrame
    principles: pd.DataFrame
    capacities: pd.DataFrame
    items: pd.DataFrame
    path: str = ""

    def text(self, kind: str, key: str, lang: str = "en") -> str:
        """The label of a principle or capacity, or the question of an item, in ``lang``."""
        check_choice("lang", lang, LANGUAGES, "the questionnaire")
        table = {"principle": self.principles, "capacity": self.capacities, "item": self.items}[kind]
        column = "question" if kind == "item" else "label"
        return str(table.set_index("id").at[key, f"{column}_{lang}"])

    def items_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row per question: id, principle, capacity and the question in ``lang``."""
        check_choice("lang", lang, LANGUAGES, "the questionnaire")
        return self.items[["id", "principle", "capacity", f"question_{lang}"]].rename(
            columns={f"question_{lang}": "question"}
        )


def _texts(value: object, what: str, path: str, required: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) for lang in required):
        raise InputError(f"{what} needs its text in {', '.join(required)}", file=path)
    return {lang: str(value[lang]).strip() for lang in LANGUAGES}


def _table(entries: object, what: str, path: str, texts: tuple[str, ...], keys: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(entries, list) or not entries:
        raise InputError(f"the questionnaire needs a non-empty list '{what}'", file=path)
    rows = []
    for entry in entries:
        if not isinstance(entry, dict) or "id" not in entry and "level" not in entry:
            raise InputError(f"each entry of '{what}' needs an id", file=path)
        row: dict[str, Any] = {k: entry.get(k) for k in keys}
        for name in texts:
            row.update({f"{name}_{lang}": t for lang, t in _texts(entry.get(name), f"{what} {row}", path).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def parse_questionnaire(data: object, path: str = "<questionnaire>") -> Questionnaire:
    """Check a questionnaire's structure: unique ids, known principles/capacities, every one with questions."""
    if not isinstance(data, dict):
        raise InputError("a questionnaire is a mapping with scale, principles, capacities and items", file=path)
    scale = _table(data.get("scale"), "scale", path, ("label", "description"), ("level",))
    principles = _table(data.get("principles"), "principles", path, ("label", "description"), ("id",))
    capacities = _table(data.get("capacities"), "capacities", path, ("label",), ("id",))
    items = _table(data.get("items"), "items", path, ("question",), ("id", "principle", "capacity"))
    if sorted(scale["level"].tolist()) != list(LEVELS):
        raise InputError(f"the scale must have the levels {list(LEVELS)}", file=path)
    for name, table in (("principles", principles), ("capacities", capacities), ("items", items)):
        dupes = table["id"][table["id"].duplicated()]
        if len(dupes):
            raise InputError(f"{name} id '{dupes.iloc[0]}' appears twice", file=path)
    items["capacity"] = items["capacity"].where(items["capacity"].notna(), None)
    bad = items[~items["principle"].isin(principles["id"])]
    if len(bad):
        raise InputError(
            f"question '{bad['id'].iloc[0]}' names unknown principle '{bad['principle'].iloc[0]}'", file=path
        )
    bad = items[items["capacity"].notna() & ~items["capacity"].isin(capacities["id"])]
    if len(bad):
        raise InputError(
            f"question '{bad['id'].iloc[0]}' names unknown capacity '{bad['capacity'].iloc[0]}'", file=path
        )
    for name, table, column in (("principle", principles, "principle"), ("capacity", capacities, "capacity")):
        empty = table.loc[~table["id"].isin(items[column]), "id"]
        if len(empty):
            raise InputError(f"{name} '{empty.iloc[0]}' has no question", file=path)
    return Questionnaire(
        name=_texts(data.get("name"), "the questionnaire's name", path),
        scale=scale.sort_values("level").reset_index(drop=True),
        principles=principles,
        capacities=capacities,
        items=items,
        path=path,
    )


@cache
def _shipped() -> Questionnaire:
    return parse_questionnaire(read_yaml(QUESTIONNAIRE), str(QUESTIONNAIRE))


def load_questionnaire(path: Path | str | None = None) -> Questionnaire:
    """The shipped questionnaire (eight principles, eight capacities, 26 questions), or one from ``path``."""
    if path is None:
        return _shipped()
    return parse_questionnaire(read_yaml(Path(path)), str(path))


# -- the blank form and the answers --------------------------------------------------------------


def blank_form(
    questionnaire: Questionnaire | None = None, lang: str = "en", institutions: list[str] | None = None
) -> pd.DataFrame:
    """The form to fill in: one row per institution x question, with empty level and evidence columns."""
    q = questionnaire or load_questionnaire()
    items = q.items_frame(lang)
    items["principle"] = [q.text("principle", p, lang) for p in items["principle"]]
    items["capacity"] = [q.text("capacity", c, lang) if isinstance(c, str) else "" for c in items["capacity"]]
    who = institutions or [""]
    form = pd.concat([items.assign(institution=i) for i in who], ignore_index=True)
    form = form.rename(columns={"id": "item_id"}).assign(level="", evidence="", respondent="")
    return form[["institution", "item_id", "principle", "capacity", "question", "level", "evidence", "respondent"]]


def scale_frame(questionnaire: Questionnaire | None = None, lang: str = "en") -> pd.DataFrame:
    q = questionnaire or load_questionnaire()
    return q.scale[["level", f"label_{lang}", f"description_{lang}"]].set_axis(
        ["level", "label", "description"], axis=1
    )


def write_form(
    path: Path | str,
    questionnaire: Questionnaire | None = None,
    lang: str = "en",
    institutions: list[str] | None = None,
) -> Path:
    """Write the blank form as CSV, or as Excel with a second sheet explaining the scale."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    form = blank_form(questionnaire, lang, institutions)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        form.to_csv(path, index=False)
    elif suffix == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            form.to_excel(writer, sheet_name="answers", index=False)
            scale_frame(questionnaire, lang).to_excel(writer, sheet_name="scale", index=False)
    else:
        raise InputError(f"unknown form format '{suffix}'", file=path, hint="use .csv or .xlsx")
    return path


@dataclass(frozen=True)
class AnswersRead:
    """The valid answers of a file, its rejected rows with their reasons, and warnings."""

    answers: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: int
    warnings: tuple[str, ...] = ()


ANSWER_COLUMNS = ("institution", "item_id", "level", "answer", "evidence", "respondent", "answered_on")


def check_answers(rows: pd.DataFrame, questionnaire: Questionnaire) -> AnswersRead:
    """Validate text rows (row_number, institution, item_id, level, evidence …); reject the bad ones.

    An empty level is a question not yet answered (skipped with a warning, not a reject); "dk" and its
    translations mean "don't know" (kept, not scored).
    """
    from safercities.governance.actors import _first_failure, duplicated_among  # one reject format for the package

    frame = rows.copy()
    for column in ("evidence", "respondent", "answered_on"):
        if column not in frame.columns:
            frame[column] = ""
    blank = frame["level"] == ""
    skipped = int(blank.sum())
    frame = frame[~blank]
    answer = frame["level"].str.lower().str.replace(r"\.0+$", "", regex=True)
    dont_know = answer.isin(DONT_KNOW)
    numeric = answer.isin([str(v) for v in LEVELS])
    items = set(questionnaire.items["id"])
    item = frame["item_id"].str.upper()
    frame = frame.assign(item_id=item)
    checks = [
        ("institution", frame["institution"] == "", "missing_value", "the answer names no institution"),
        (
            "item_id",
            ~item.isin(items),
            "unknown_item",
            "question '" + frame["item_id"] + "' is not in the questionnaire",
        ),
        (
            "level",
            ~(numeric | dont_know),
            "invalid_level",
            "level '" + frame["level"] + "' is not 0, 1, 2, 3, 4 or dk (don't know)",
        ),
        (
            "item_id",
            duplicated_among(frame, ["institution", "item_id"]),
            "duplicate_answer",
            frame["institution"] + " already answered question " + item + " on an earlier row",
        ),
    ]
    kept, rejects = _first_failure(frame, checks)
    level = pd.to_numeric(answer.reindex(kept.index).where(~dont_know.reindex(kept.index)), errors="coerce")
    answers = pd.DataFrame(
        {
            "institution": kept["institution"].to_numpy(object),
            "item_id": kept["item_id"].to_numpy(object),
            "level": level.to_numpy(float),
            "answer": np.where(np.isnan(level.to_numpy(float)), "dk", level.astype("Int64").astype(str)),
            "evidence": kept["evidence"].to_numpy(object),
            "respondent": kept["respondent"].to_numpy(object),
            "answered_on": kept["answered_on"].to_numpy(object),
            "source_row": kept["row_number"].to_numpy(np.int64),
        }
    )
    warnings = []
    if skipped:
        warnings.append(f"{skipped} rows without a level were skipped (questions not yet answered)")
    unsupported = int(((answers["level"] >= 2) & (answers["evidence"] == "")).sum())
    if unsupported:
        warnings.append(f"{unsupported} answers at level 2 or above give no evidence note")
    return AnswersRead(answers, rejects, len(rows), tuple(warnings))


def read_answers(path: Path | str, questionnaire: Questionnaire | None = None) -> AnswersRead:
    """Read a filled form (CSV or Excel, sheet 'answers' if there is one) and validate it."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.suffix.lower() in YAML:
        raise InputError("answers come as a CSV or Excel form", file=path, hint="write one with `governance form`")
    from safercities.governance.files import sheet_names

    rows = read_rows(path, "answers" if "answers" in sheet_names(path) else "")
    if "item" in rows.columns and "item_id" not in rows.columns:
        rows = rows.rename(columns={"item": "item_id"})
    if "answer" in rows.columns and "level" not in rows.columns:
        rows = rows.rename(columns={"answer": "level"})
    if "date" in rows.columns and "answered_on" not in rows.columns:
        rows = rows.rename(columns={"date": "answered_on"})
    require_columns(rows, ("institution", "item_id", "level"), path, "answers")
    return check_answers(rows, questionnaire or load_questionnaire())


def answers_frame(records: list[dict[str, Any]] | pd.DataFrame, questionnaire: Questionnaire | None = None):
    """Answers given in Python (institution, item_id, level as 0-4 or 'dk', evidence) checked as a file is."""
    frame = pd.DataFrame(records).fillna("").astype(str)
    frame.insert(0, "row_number", np.arange(1, len(frame) + 1, dtype=np.int64))
    result = check_answers(frame, questionnaire or load_questionnaire())
    if len(result.rejects):
        first = result.rejects.iloc[0]
        raise InputError(str(first["reason"]), row=int(first["row_number"]), column=str(first["column_name"]))
    return result.answers


# -- scores --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GovernanceScores:
    """Maturity by question, principle, capacity and institution, with the rule behind each figure."""

    items: pd.DataFrame
    principles: pd.DataFrame
    capacities: pd.DataFrame
    by_institution: pd.DataFrame
    institutions: tuple[str, ...]
    questionnaire: Questionnaire = field(repr=False)
    min_coverage: float = MIN_COVERAGE
    provenance: dict[str, object] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.principles

    def summary(self, lang: str = "en") -> str:
        lines = [f"{self.questionnaire.name[lang]} — {len(self.institutions)} institutions", RULE[lang]]
        levels = self.principles["level"].to_numpy(float)
        for principle, level in zip(self.principles["principle"].tolist(), levels, strict=True):
            shown = label("assessment.not_scored", lang) if math.isnan(level) else str(int(level))
            lines.append(f"  {self.questionnaire.text('principle', str(principle), lang)}: {shown}")
        return "\n".join(lines)


def _fmt(value: float) -> str:
    return "dk" if math.isnan(value) else str(int(value))


def _item_levels(answers: pd.DataFrame, q: Questionnaire, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per question (and per ``by`` group): lower median across institutions, range, counts, evidence notes."""
    keys = [*by, "item_id"]
    given = answers.dropna(subset=["level"]).sort_values(["institution", "item_id"])
    grouped = given.groupby(keys)["level"]
    pairs = given.assign(pair=given["institution"] + "=" + given["level"].astype(int).astype(str))
    notes = answers.loc[answers["evidence"] != ""]
    notes = notes.assign(note=notes["institution"] + ": " + notes["evidence"])
    stats = pd.DataFrame(
        {
            "level": grouped.quantile(0.5, interpolation="lower"),
            "low": grouped.min(),
            "high": grouped.max(),
            "answered": grouped.size(),
            "answers": pairs.groupby(keys)["pair"].agg(", ".join),
        }
    )
    items = q.items[["id", "principle", "capacity"]].rename(columns={"id": "item_id"})
    if by:
        groups = answers[list(by)].drop_duplicates()
        items = groups.merge(items, how="cross")
    out = items.set_index(keys).join(stats, how="left")
    out["answered"] = out["answered"].fillna(0).astype(int)
    out["dont_know"] = answers.loc[answers["level"].isna()].groupby(keys).size().reindex(out.index).fillna(0)
    out["dont_know"] = out["dont_know"].astype(int)
    out["evidence"] = notes.groupby(keys)["note"].agg(" | ".join).reindex(out.index).fillna("")
    out["answers"] = out["answers"].fillna("")
    out["rule"] = np.where(
        out["answered"] > 0,
        "lower median(" + out["answers"] + ") = " + out["level"].map(_fmt),
        "no answer",
    )
    return out.reset_index()


def _group_levels(
    items: pd.DataFrame, key: str, ids: list[str], min_coverage: float, by: tuple[str, ...] = ()
) -> pd.DataFrame:
    """⌊mean of question levels⌋ per principle or capacity (and ``by`` group), with coverage and the rule."""
    keys = [*by, key]
    scored = items.dropna(subset=["level"])
    grouped = items.groupby(keys)
    frame = pd.DataFrame(
        {
            "mean": grouped["level"].mean(),
            "lowest": grouped["level"].min(),
            "questions": grouped.size(),
            "answered": grouped["level"].count(),
            "terms": scored.assign(t=scored["item_id"] + "=" + scored["level"].astype(int).astype(str))
            .groupby(keys)["t"]
            .agg(", ".join),
            "missing": items[items["level"].isna()].groupby(keys)["item_id"].agg(", ".join),
        }
    )
    frame["coverage"] = frame["answered"] / frame["questions"]
    ok = (frame["answered"] > 0) & (frame["coverage"] >= min_coverage)
    frame["level"] = np.where(ok, np.floor(frame["mean"]), np.nan)
    mean_text = frame["mean"].map(lambda v: f"{v:.2f}" if not math.isnan(v) else "")
    scored_rule = "⌊mean(" + frame["terms"].fillna("") + ")⌋ = ⌊" + mean_text + "⌋ = " + frame["level"].map(_fmt)
    unscored_rule = (
        "not scored: "
        + frame["answered"].astype(str)
        + " of "
        + frame["questions"].astype(str)
        + f" questions answered (needs {min_coverage:.0%})"
    )
    frame["rule"] = np.where(ok, scored_rule, unscored_rule)
    tail = (frame["answered"] > 0) & frame["missing"].notna()
    frame.loc[tail, "rule"] = frame.loc[tail, "rule"] + "; unanswered: " + frame.loc[tail, "missing"]
    frame = frame.reset_index()
    order = {g: i for i, g in enumerate(ids)}
    frame = frame.assign(_order=frame[key].map(order)).sort_values([*by, "_order"]).drop(columns="_order")
    columns = [*by, key, "level", "mean", "lowest", "questions", "answered", "coverage", "rule"]
    return frame[columns].reset_index(drop=True)


def score(
    answers: pd.DataFrame, questionnaire: Questionnaire | None = None, min_coverage: float = MIN_COVERAGE
) -> GovernanceScores:
    """Maturity levels (0-4) per question, principle and capacity, and per institution x principle."""
    q = questionnaire or load_questionnaire()
    if not 0 < min_coverage <= 1:
        raise InputError(f"The 'min_coverage' parameter of score must be in (0, 1]. Got {min_coverage!r} instead.")
    required = ("institution", "item_id", "level")
    missing = [c for c in required if c not in answers.columns]
    if missing:
        raise InputError(f"the answers need the columns {list(required)}; missing {missing}")
    answers = answers.assign(
        level=pd.to_numeric(answers["level"], errors="coerce").astype(float),
        evidence=answers["evidence"].fillna("") if "evidence" in answers.columns else "",
    )
    unknown = sorted(set(answers["item_id"]) - set(q.items["id"]))
    if unknown:
        raise InputError(f"answers to questions not in the questionnaire: {', '.join(map(str, unknown))}")
    outside = answers["level"].notna() & ~answers["level"].isin(LEVELS)
    if outside.any():
        raise InputError(f"levels must be 0-4 or missing (don't know); got {answers.loc[outside, 'level'].iloc[0]}")
    items = _item_levels(answers, q)
    principles = _group_levels(items, "principle", q.principles["id"].tolist(), min_coverage)
    capacities = _group_levels(items.dropna(subset=["capacity"]), "capacity", q.capacities["id"].tolist(), min_coverage)
    institutions = tuple(sorted(answers["institution"].unique()))
    own = _item_levels(answers, q, by=("institution",))
    by_institution = _group_levels(own, "principle", q.principles["id"].tolist(), min_coverage, by=("institution",))[
        ["institution", "principle", "level", "mean", "answered", "rule"]
    ]
    return GovernanceScores(
        items=items,
        principles=principles,
        capacities=capacities,
        by_institution=by_institution,
        institutions=institutions,
        questionnaire=q,
        min_coverage=min_coverage,
        provenance={"version": __version__, "rule": RULE["en"], "answers": len(answers), "questionnaire": q.path},
    )


def gaps(scores: GovernanceScores, target: int = DEFAULT_TARGET, lang: str = "en") -> pd.DataFrame:
    """What falls short: principles, capacities and questions below ``target``, unanswered or divergent.

    Sorted by kind (principle, capacity, question), then by the size of the gap, then in questionnaire order.
    """
    check_choice("target", target, LEVELS[1:], "gaps")
    check_choice("lang", lang, LANGUAGES, "gaps")
    q = scores.questionnaire
    parts = []
    for kind, frame, key in (
        ("principle", scores.principles, "principle"),
        ("capacity", scores.capacities, "capacity"),
    ):
        low = frame[frame["level"].isna() | (frame["level"] < target)]
        parts.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "id": low[key].to_numpy(object),
                    "principle": low[key].to_numpy(object) if kind == "principle" else None,
                    "label": [q.text(kind, k, lang) for k in low[key]],
                    "level": low["level"].to_numpy(float),
                    "reason": [
                        label("gap.below_target", lang, level=_fmt(v), target=target)
                        if not math.isnan(v)
                        else label("assessment.not_scored", lang)
                        for v in low["level"]
                    ],
                    "rule": low["rule"].to_numpy(object),
                    "evidence": "",
                    "order": np.arange(len(low)),
                }
            )
        )
    items = scores.items.reset_index(drop=True)
    below = items["level"] < target
    unanswered = items["answered"] == 0
    divergent = (items["high"] - items["low"]) >= DIVERGENCE
    flagged = items[below | unanswered | divergent]
    reasons = []
    columns = [flagged[c].to_numpy(float) for c in ("answered", "level", "low", "high")]
    for answered, level, low, high in zip(*columns, strict=True):
        why = []
        if answered == 0:
            why.append(label("gap.unanswered", lang))
        elif level < target:
            why.append(label("gap.below_target", lang, level=_fmt(level), target=target))
        if answered and high - low >= DIVERGENCE:
            why.append(label("gap.divergent", lang, low=_fmt(low), high=_fmt(high)))
        reasons.append("; ".join(why))
    parts.append(
        pd.DataFrame(
            {
                "kind": "item",
                "id": flagged["item_id"].to_numpy(object),
                "principle": flagged["principle"].to_numpy(object),
                "label": [q.text("item", i, lang) for i in flagged["item_id"]],
                "level": flagged["level"].to_numpy(float),
                "reason": reasons,
                "rule": flagged["rule"].to_numpy(object),
                "evidence": flagged["evidence"].to_numpy(object),
                "order": flagged.index.to_numpy(),
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out.insert(5, "target", target)
    out.insert(6, "gap", target - out["level"])
    kinds = {"principle": 0, "capacity": 1, "item": 2}
    out = out.assign(_kind=out["kind"].map(kinds), _gap=out["gap"].fillna(target + 1))
    out = out.sort_values(["_kind", "_gap", "order"], ascending=[True, False, True])
    return out.drop(columns=["_kind", "_gap", "order"]).reset_index(drop=True)
