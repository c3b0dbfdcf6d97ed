"""The design file of a survey export: which columns hold the strata, PSUs, weights and replicate weights.

A small TOML or YAML file next to the export (see ``docs/survey.md``)::

    [survey]
    id = "victimisation-2025"
    period_start = "2024-01-01"     # the 12 months that "in the last 12 months" covers
    period_end = "2024-12-31"

    [design]
    weight = "weight"               # person weight (required)
    household_weight = "hh_weight"  # household weight, for household crimes (optional)
    strata = "stratum"
    psu = "psu"
    lonely_psu = "fail"             # or adjust, certainty, remove

    [replicates]                    # optional
    pattern = "repw_*"
    method = "jk1"                  # jk1, jkn, brr, fay, bootstrap, other

    [columns]                       # optional: a source column -> the question it answers
    P12 = "safe_after_dark"
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safercities.errors import InputError
from safercities.stats.survey.design import LONELY_PSU, REPLICATE_METHODS

SECTIONS = {
    "survey": ("id", "period_start", "period_end", "sheet"),
    "design": ("weight", "household_weight", "strata", "psu", "fpc", "lonely_psu", "id"),
    "replicates": ("columns", "pattern", "method", "scale", "rscales", "fay_rho", "mse"),
    "columns": (),
}


@dataclass(frozen=True)
class Replicates:
    """Where the replicate weights are (a list of columns or a glob pattern) and how to use them."""

    method: str
    columns: tuple[str, ...] = ()
    pattern: str = ""
    scale: float | None = None
    rscales: tuple[float, ...] | None = None
    fay_rho: float = 0.0
    mse: bool = False


@dataclass(frozen=True)
class SurveyDesignFile:
    """A parsed design file; ``origin`` is where it came from (for messages)."""

    survey_id: str
    weight: str
    household_weight: str = ""
    strata: str = ""
    psu: str = ""
    fpc: str = ""
    lonely_psu: str = "fail"
    id_column: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    sheet: str = ""
    replicates: Replicates | None = None
    columns: dict[str, str] = field(default_factory=dict)
    origin: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("period_start", "period_end"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SurveyDesignFile:
        data = dict(data)
        for key in ("period_start", "period_end"):
            data[key] = dt.date.fromisoformat(data[key]) if data.get(key) else None
        reps = data.get("replicates")
        if reps:
            reps = dict(reps)
            reps["columns"] = tuple(reps.get("columns") or ())
            reps["rscales"] = tuple(reps["rscales"]) if reps.get("rscales") else None
            data["replicates"] = Replicates(**reps)
        return cls(**data)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("design file not found", file=path) from exc
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot parse the design file: {exc}", file=path) from exc
    if not isinstance(data, dict):
        raise InputError("the design file must hold tables [survey], [design], [replicates], [columns]", file=path)
    return data


def _date(value: object, key: str, path: Path) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise InputError(f"survey.{key} must be an ISO date such as 2024-12-31; got {value!r}", file=path) from exc


def load_design(path: Path | str, default_id: str = "") -> SurveyDesignFile:
    """Read and check a design file (``.toml``, or ``.yaml``/``.yml``)."""
    path = Path(path)
    data = _read(path)
    for section, value in data.items():
        if section not in SECTIONS:
            raise InputError(f"unknown table [{section}]; expected {', '.join(SECTIONS)}", file=path)
        if not isinstance(value, dict):
            raise InputError(f"[{section}] must be a table of settings", file=path)
        unknown = [k for k in value if SECTIONS[section] and k not in SECTIONS[section]]
        if unknown:
            raise InputError(
                f"unknown setting {section}.{unknown[0]}; expected one of {', '.join(SECTIONS[section])}", file=path
            )
    survey = data.get("survey", {})
    design = data.get("design", {})
    if not design.get("weight"):
        raise InputError("design.weight is missing: name the column of the person weights", file=path)
    lonely = str(design.get("lonely_psu", "fail"))
    if lonely not in LONELY_PSU:
        raise InputError(f"design.lonely_psu must be one of {', '.join(LONELY_PSU)}; got {lonely!r}", file=path)
    replicates = None
    if "replicates" in data:
        reps = data["replicates"]
        method = str(reps.get("method", ""))
        if method not in REPLICATE_METHODS:
            raise InputError(
                f"replicates.method must be one of {', '.join(REPLICATE_METHODS)}; got {method!r}", file=path
            )
        columns = reps.get("columns") or ()
        if isinstance(columns, str):
            columns = (columns,)
        if not columns and not reps.get("pattern"):
            raise InputError('[replicates] needs columns = [...] or pattern = "repw*"', file=path)
        try:
            replicates = Replicates(
                method=method,
                columns=tuple(str(c) for c in columns),
                pattern=str(reps.get("pattern", "")),
                scale=float(reps["scale"]) if reps.get("scale") is not None else None,
                rscales=tuple(float(v) for v in reps["rscales"]) if reps.get("rscales") is not None else None,
                fay_rho=float(reps.get("fay_rho", 0.0)),
                mse=bool(reps.get("mse", False)),
            )
        except (TypeError, ValueError) as exc:
            raise InputError(f"[replicates]: {exc}", file=path) from exc
    start = _date(survey.get("period_start"), "period_start", path)
    end = _date(survey.get("period_end"), "period_end", path)
    if start and end and end < start:
        raise InputError("survey.period_end is before survey.period_start", file=path)
    return SurveyDesignFile(
        survey_id=str(survey.get("id") or default_id or path.stem),
        weight=str(design["weight"]),
        household_weight=str(design.get("household_weight", "")),
        strata=str(design.get("strata", "")),
        psu=str(design.get("psu", "")),
        fpc=str(design.get("fpc", "")),
        lonely_psu=lonely,
        id_column=str(design.get("id", "")),
        period_start=start,
        period_end=end,
        sheet=str(survey.get("sheet", "")),
        replicates=replicates,
        columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
        origin=str(path),
    )
