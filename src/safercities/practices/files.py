"""Adding, importing and exporting practices: YAML (one file per practice or a list), JSON, CSV and Excel.

A spreadsheet holds one practice per row: list facets are separated by ';', texts have one column per language
(``title_en``, ``title_es`` …), needs are one per line, and sources one per line as
``kind | year | citation | url``. Every row is checked against the schema; bad rows are rejected with the file,
the row and the field at fault, and the good ones kept — the same way as every import of the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from safercities.errors import InputError
from safercities.governance.files import TABULAR, YAML, read_rows, read_yaml, sheet_names
from safercities.practices.catalogue import Library
from safercities.practices.schema import LANGUAGES, schema_errors, validate_practice

TEXTS = ("title", "summary", "mechanism", "warning")
LISTS = ("approaches", "problems", "risk_factors", "protective_factors", "target_groups", "settings")
EMMIE = ("effect", "effect_quality", "mechanism", "moderators", "implementation", "economics")
COLUMNS = (
    ["id"]
    + [f"{t}_{lang}" for t in ("title", "summary", "mechanism") for lang in LANGUAGES]
    + list(LISTS)
    + ["rating", "basis_en", "basis_es", "basis_fr"]
    + [f"emmie_{d}" for d in EMMIE]
    + ["needs", "partners", "cost", "sources"]
    + [f"warning_{lang}" for lang in LANGUAGES]
    + ["updated"]
)


def practice_to_row(practice: dict[str, Any]) -> dict[str, str]:
    """One practice as one spreadsheet row."""
    row: dict[str, str] = {"id": practice["id"]}
    for key in ("title", "summary", "mechanism", "warning"):
        for lang in LANGUAGES:
            row[f"{key}_{lang}"] = (practice.get(key) or {}).get(lang, "")
    for key in LISTS:
        row[key] = "; ".join(practice.get(key, []))
    evidence = practice["evidence"]
    row["rating"] = evidence["rating"]
    for lang in LANGUAGES:
        row[f"basis_{lang}"] = evidence["basis"].get(lang, "")
    for dim in EMMIE:
        row[f"emmie_{dim}"] = evidence.get("emmie", {}).get(dim, "")
    row["needs"] = "\n".join(practice["implementation"]["needs"])
    row["partners"] = "; ".join(practice["implementation"].get("partners", []))
    row["cost"] = practice["cost"]
    row["sources"] = "\n".join(
        " | ".join([s["kind"], str(s["year"]), s["citation"]] + ([s["url"]] if s.get("url") else []))
        for s in practice["sources"]
    )
    row["updated"] = practice.get("updated", "")
    return {c: row.get(c, "") for c in COLUMNS}


def _split(text: str) -> list[str]:
    return [p.strip() for p in str(text).replace(",", ";").split(";") if p.strip()]


def _source(line: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split(" | ")]
    source: dict[str, Any] = {"kind": parts[0], "citation": parts[2] if len(parts) > 2 else ""}
    try:
        source["year"] = int(parts[1]) if len(parts) > 1 else None
    except ValueError:
        source["year"] = parts[1]  # the schema names the field and the bad value
    if len(parts) > 3 and parts[3]:
        source["url"] = parts[3]
    return source


def row_to_practice(row: dict[str, str]) -> dict[str, Any]:
    """One spreadsheet row as a practice (not yet validated): the inverse of :func:`practice_to_row`."""
    practice: dict[str, Any] = {"id": row.get("id", "")}
    for key in ("title", "summary", "mechanism", "warning"):
        texts = {lang: row.get(f"{key}_{lang}", "") for lang in LANGUAGES if row.get(f"{key}_{lang}", "")}
        if texts:
            practice[key] = texts
    for key in LISTS:
        practice[key] = _split(row.get(key, ""))
    evidence: dict[str, Any] = {"rating": row.get("rating", ""), "scale": "crimesolutions"}
    evidence["basis"] = {lang: row[f"basis_{lang}"] for lang in LANGUAGES if row.get(f"basis_{lang}", "")}
    emmie = {d: row[f"emmie_{d}"] for d in EMMIE if row.get(f"emmie_{d}", "")}
    if emmie:
        evidence["emmie"] = emmie
    practice["evidence"] = evidence
    needs = [n.strip() for n in str(row.get("needs", "")).splitlines() if n.strip()]
    practice["implementation"] = {"needs": needs, "partners": _split(row.get("partners", ""))}
    practice["cost"] = row.get("cost", "")
    practice["sources"] = [_source(line) for line in str(row.get("sources", "")).splitlines() if line.strip()]
    if row.get("updated"):
        practice["updated"] = str(row["updated"])[:10]
    return practice


@dataclass(frozen=True)
class PracticesRead:
    """The valid practices of a file and its rejected entries (row, field, reason)."""

    practices: list[dict[str, Any]]
    rejects: pd.DataFrame
    rows_read: int


def read_practices(path: Path | str) -> PracticesRead:
    """Read practices from YAML, JSON, CSV or Excel; invalid entries are rejected with their reasons."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    suffix = path.suffix.lower()
    if suffix in YAML or suffix == ".json":
        if suffix == ".json":
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"not valid JSON: {exc}", file=path) from exc
        else:
            data = read_yaml(path)
        entries = data if isinstance(data, list) else [data]
        numbered = list(enumerate(entries, start=1))
    elif suffix in TABULAR:
        rows = read_rows(path, "practices" if "practices" in sheet_names(path) else "")
        if "id" not in rows.columns:
            raise InputError("the practices table has no column 'id'", file=path, column="id")
        records = [{str(k): str(v) for k, v in r.items()} for r in rows.to_dict(orient="records")]
        numbered = [(int(r.pop("row_number")), row_to_practice(r)) for r in records]
    else:
        raise InputError(f"unknown practice file type '{suffix}'", file=path, hint="use .yaml, .json, .csv or .xlsx")
    good, bad = [], []
    seen: set[str] = set()
    for number, entry in numbered:
        problems = schema_errors(entry)
        if not problems and entry["id"] in seen:
            problems = [f"id: practice '{entry['id']}' appears on an earlier row"]
        if problems:
            field = problems[0].split(":", 1)[0]
            bad.append(
                {
                    "row_number": number,
                    "column_name": field,
                    "reason_code": "invalid_practice",
                    "reason": "; ".join(problems[:4]),
                    "raw": json.dumps(entry, ensure_ascii=False, default=str)[:2000],
                }
            )
        else:
            seen.add(entry["id"])
            good.append(entry)
    rejects = pd.DataFrame(bad, columns=["row_number", "column_name", "reason_code", "reason", "raw"])
    return PracticesRead(good, rejects, len(numbered))


def practice_yaml(practice: dict[str, Any]) -> str:
    return yaml.safe_dump(practice, allow_unicode=True, sort_keys=False, width=110)


def add_practices(practices: list[dict[str, Any]], folder: Path | str) -> list[Path]:
    """Write each (valid) practice as ``<folder>/<id>.yaml``, replacing an earlier version of the same id."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for practice in practices:
        validate_practice(practice)
        path = folder / f"{practice['id']}.yaml"
        path.write_text(practice_yaml(practice), encoding="utf-8")
        written.append(path)
    return written


def export_library(library: Library, path: Path | str) -> Path:
    """Write the library as YAML (a list), JSON, CSV, Excel, or a folder of one YAML file per practice."""
    path = Path(path)
    suffix = path.suffix.lower()
    practices = list(library)
    if suffix == "":
        add_practices(practices, path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in YAML:
        path.write_text(yaml.safe_dump(practices, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(practices, ensure_ascii=False, indent=1), encoding="utf-8")
    elif suffix in (".csv", ".xlsx"):
        frame = pd.DataFrame([practice_to_row(p) for p in practices], columns=list(COLUMNS))
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_excel(path, sheet_name="practices", index=False, engine="openpyxl")
    else:
        raise InputError(
            f"unknown export format '{suffix}'", file=path, hint="use .yaml, .json, .csv, .xlsx or a folder"
        )
    return path
