"""The core victimisation questionnaire and its XLSForm.

The questionnaire lives in ``questionnaire.yaml`` (English, Spanish, French). :func:`load_instrument`
reads it into frozen objects: the crime types with their ICCS codes, every question with the group
path it sits in (what KoboToolbox and ODK use to name an export's columns) and the answer codes it
allows. :func:`xlsform_sheets` lays it out as the survey / choices / settings sheets of an XLSForm,
and :func:`write_xlsform` writes the workbook that KoboToolbox and ODK Collect load as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from safercities.config import LANGUAGES
from safercities.errors import InputError, check_choice

CRIME_ROLES = ("5y", "12m", "times", "reported", "why_not")
"""The questions of every crime block, suffixed to the crime's key: ``burglary_5y``, ``burglary_12m`` ..."""
UNITS = ("household", "person")
CRIME_GROUPS = {"household": "household_crimes", "person": "personal_crimes"}
MAX_TIMES = 99


@dataclass(frozen=True)
class Choice:
    name: str
    labels: dict[str, str]


@dataclass(frozen=True)
class Crime:
    """A crime type asked about: who it is about (household or person) and its ICCS code."""

    key: str
    unit: str
    iccs: str
    labels: dict[str, str]
    ask: dict[str, str]

    def question(self, role: str) -> str:
        """The name of one of this crime's questions (``role`` in :data:`CRIME_ROLES`)."""
        return f"{self.key}_{role}"


@dataclass(frozen=True)
class Question:
    """One question: its XLSForm type, the list of choices it draws from, and the groups it sits in."""

    name: str
    kind: str
    """text, integer, select_one, select_multiple or note."""
    list_name: str | None
    labels: dict[str, str]
    path: tuple[str, ...]
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: dict[str, str] | None = None
    required: bool = False
    crime: str | None = None

    @property
    def xlsform_type(self) -> str:
        return f"{self.kind} {self.list_name}" if self.list_name else self.kind


@dataclass(frozen=True)
class Instrument:
    """The questionnaire: crimes, questions in the order asked, and the choice lists."""

    form_id: str
    version: str
    title: dict[str, str]
    languages: dict[str, str]
    choices: dict[str, tuple[Choice, ...]]
    crimes: tuple[Crime, ...]
    questions: tuple[Question, ...]
    rows: tuple[dict[str, Any], ...]
    """The survey sheet's rows (groups opened and closed), labels as {lang: text}."""

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    def names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self.questions if q.kind != "note")

    def codes(self, name: str) -> tuple[str, ...]:
        """The answer codes a select question allows."""
        q = self.question(name)
        return tuple(c.name for c in self.choices[q.list_name]) if q.list_name else ()

    def crime(self, key: str) -> Crime:
        for c in self.crimes:
            if c.key == key:
                return c
        raise KeyError(key)


def _labels(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not set(LANGUAGES) <= set(value):
        raise ValueError(f"questionnaire: {where} needs a text in each of {', '.join(LANGUAGES)}")
    return {lang: str(value[lang]) for lang in LANGUAGES}


def _crime_rows(crime: Crime, followups: dict[str, dict[str, str]], outer: str) -> list[dict[str, Any]]:
    """The group of one crime: asked over five years, then the last 12 months, times, reporting, reasons."""
    q = crime.question
    yes = "= 'yes'"
    return [
        {"type": "begin_group", "name": crime.key, "label": crime.labels, "path": (outer,)},
        {"type": "select_one yes_no_dk", "name": q("5y"), "label": crime.ask, "required": True},
        {
            "type": "select_one yes_no_dk",
            "name": q("12m"),
            "label": followups["last_12m"],
            "relevant": f"${{{q('5y')}}} {yes}",
            "required": True,
        },
        {
            "type": "integer",
            "name": q("times"),
            "label": followups["times_12m"],
            "relevant": f"${{{q('12m')}}} {yes}",
            "constraint": f". >= 1 and . <= {MAX_TIMES}",
            "constraint_message": followups["times_12m_message"],
        },
        {
            "type": "select_one yes_no_dk",
            "name": q("reported"),
            "label": followups["reported"],
            "relevant": f"${{{q('12m')}}} {yes}",
            "required": True,
        },
        {
            "type": "select_multiple why_not_reported",
            "name": q("why_not"),
            "label": followups["why_not"],
            "relevant": f"${{{q('reported')}}} = 'no'",
        },
        {"type": "end_group", "name": crime.key},
    ]


def _parse(data: dict[str, Any]) -> Instrument:
    choices = {
        list_name: tuple(Choice(str(c["name"]), _labels(c, f"choice {list_name}/{c['name']}")) for c in items)
        for list_name, items in data["choices"].items()
    }
    crimes = tuple(
        Crime(
            key=c["key"],
            unit=c["unit"],
            iccs=str(c["iccs"]),
            labels=_labels(c["label"], c["key"]),
            ask=_labels(c["ask"], c["key"]),
        )
        for c in data["crimes"]
    )
    followups = {k: _labels(v, k) for k, v in data["followups"].items()}
    consent = "${consent} = 'yes'"
    rows: list[dict[str, Any]] = []
    for section in data["sections"]:
        if "crimes" in section:
            unit = section["crimes"]
            group = CRIME_GROUPS[unit]
            rows.append(
                {
                    "type": "begin_group",
                    "name": group,
                    "label": _labels(data[f"{'household' if unit == 'household' else 'personal'}_crimes_group"], group),
                    "relevant": consent,
                }
            )
            for crime in (c for c in crimes if c.unit == unit):
                rows += _crime_rows(crime, followups, group)
            rows.append({"type": "end_group", "name": group})
            continue
        rows.append(
            {
                "type": "begin_group",
                "name": section["name"],
                "label": _labels(section["label"], section["name"]),
                "relevant": section.get("relevant"),
            }
        )
        if "note" in section:
            rows.append({"type": "note", "name": f"{section['name']}_note", "label": _labels(section["note"], "note")})
        for item in section["questions"]:
            row = dict(item)
            row["label"] = _labels(item["label"], item["name"])
            if "constraint_message" in item:
                row["constraint_message"] = _labels(item["constraint_message"], item["name"])
            rows.append(row)
        rows.append({"type": "end_group", "name": section["name"]})
    questions = []
    path: list[str] = []
    crime_keys = {c.key for c in crimes}
    for row in rows:
        if row["type"] == "begin_group":
            path.append(row["name"])
        elif row["type"] == "end_group":
            path.pop()
        else:
            kind, _, list_name = str(row["type"]).partition(" ")
            questions.append(
                Question(
                    name=row["name"],
                    kind=kind,
                    list_name=list_name or None,
                    labels=row["label"],
                    path=tuple(path),
                    relevant=row.get("relevant"),
                    constraint=row.get("constraint"),
                    constraint_message=row.get("constraint_message"),
                    required=bool(row.get("required", False)),
                    crime=path[-1] if path and path[-1] in crime_keys else None,
                )
            )
    names = [q.name for q in questions]
    if len(set(names)) != len(names):
        raise ValueError("questionnaire: question names must be unique")
    return Instrument(
        form_id=data["form_id"],
        version=str(data["version"]),
        title=_labels(data["title"], "title"),
        languages={lang: str(data["languages"][lang]) for lang in LANGUAGES},
        choices=choices,
        crimes=crimes,
        questions=tuple(questions),
        rows=tuple(rows),
    )


@lru_cache(maxsize=1)
def load_instrument() -> Instrument:
    """The shipped questionnaire (``questionnaire.yaml``), parsed once."""
    text = resources.files("safercities.survey").joinpath("questionnaire.yaml").read_text(encoding="utf-8")
    return _parse(yaml.safe_load(text))


def _language_column(kind: str, instrument: Instrument, lang: str) -> str:
    return f"{kind}::{instrument.languages[lang]} ({lang})"


def xlsform_sheets(
    lang: str = "en", areas: pd.DataFrame | None = None, instrument: Instrument | None = None
) -> dict[str, pd.DataFrame]:
    """The XLSForm as three sheets: ``survey``, ``choices`` and ``settings``, labels in all three languages.

    ``lang`` is the form's default language. With ``areas`` (columns ``area_id`` and ``name``) the
    interviewer picks the area from that list; without, they type its code.
    """
    check_choice("lang", lang, LANGUAGES, "survey form")
    instrument = instrument or load_instrument()
    langs = list(LANGUAGES)
    survey_rows = []
    for row in instrument.rows:
        out: dict[str, object] = {"type": row["type"], "name": row["name"]}
        if row["name"] == "area" and areas is not None and len(areas):
            out["type"] = "select_one areas"
        for field in ("label", "constraint_message"):
            if isinstance(row.get(field), dict):
                for code in langs:
                    out[_language_column(field, instrument, code)] = row[field][code]
        for field in ("relevant", "constraint"):
            if row.get(field):
                out[field] = row[field]
        if row.get("required"):
            out["required"] = "yes"
        survey_rows.append(out)
    choice_rows: list[dict[str, object]] = [
        dict[str, object](list_name=list_name, name=c.name)
        | {_language_column("label", instrument, code): c.labels[code] for code in langs}
        for list_name, items in instrument.choices.items()
        for c in items
    ]
    if areas is not None and len(areas):
        names = areas["name"].fillna(areas["area_id"]).astype(str)
        choice_rows += [
            dict[str, object](list_name="areas", name=str(area_id))
            | {_language_column("label", instrument, code): f"{name} ({area_id})" for code in langs}
            for area_id, name in zip(areas["area_id"], names, strict=True)
        ]
    label_columns = [_language_column("label", instrument, code) for code in langs]
    message_columns = [_language_column("constraint_message", instrument, code) for code in langs]
    survey_columns = ["type", "name", *label_columns, "required", "relevant", "constraint", *message_columns]
    settings = pd.DataFrame(
        [
            {
                "form_title": instrument.title[lang],
                "form_id": instrument.form_id,
                "version": instrument.version,
                "default_language": f"{instrument.languages[lang]} ({lang})",
                "instance_name": "concat(${area}, '-', ${cluster}, '-', ${household})",
            }
        ]
    )
    return {
        "survey": pd.DataFrame(survey_rows).reindex(columns=survey_columns),
        "choices": pd.DataFrame(choice_rows).reindex(columns=["list_name", "name", *label_columns]),
        "settings": settings,
    }


def write_xlsform(out: Path | str, lang: str = "en", areas: pd.DataFrame | None = None) -> Path:
    """Write the questionnaire as an XLSForm workbook (``.xlsx``) that KoboToolbox and ODK load as it is."""
    from openpyxl import Workbook

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"an XLSForm is an .xlsx workbook; got '{out.suffix or out.name}'", file=out)
    sheets = xlsform_sheets(lang, areas)
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, frame in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for values in frame.itertuples(index=False):
            sheet.append([None if pd.isna(v) else v for v in values])
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out
