"""A survey read back from the workspace: one row per respondent, its answers as columns, and its design.

:func:`load_survey` parses the stored JSON answers in one vectorised pass (pyarrow's JSON reader);
:func:`person_design` and :func:`household_design` build the estimation engine's
:class:`~safercities.stats.survey.Design` from the stored design file, for crimes against persons
and against households.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

from safercities.errors import InputError
from safercities.stats.survey.design import Design
from safercities.survey.designfile import SurveyDesignFile
from safercities.survey.importing import KIND, surveys
from safercities.survey.instrument import Instrument, load_instrument
from safercities.workspace import Workspace

DESIGN_COLUMNS = ("respondent_id", "submitted_at", "stratum", "psu", "fpc", "weight", "household_weight", "area_id")


@dataclass(frozen=True)
class SurveyData:
    """One imported survey: respondents (design columns + one column per question) and its design file."""

    survey_id: str
    import_id: int
    design: SurveyDesignFile
    respondents: pd.DataFrame
    replicate_weights: np.ndarray | None

    @property
    def n(self) -> int:
        return len(self.respondents)


def parse_answers(lines: pd.Series, instrument: Instrument | None = None) -> pd.DataFrame:
    """The JSON answer objects as a frame with one text column per question (missing answers as None)."""
    instrument = instrument or load_instrument()
    names = list(instrument.names())
    if len(lines) == 0:
        return pd.DataFrame(columns=names, dtype=object)
    schema = pa.schema([(name, pa.string()) for name in names])
    table = pajson.read_json(
        io.BytesIO(("\n".join(lines.to_list()) + "\n").encode("utf-8")),
        parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )
    frame = table.to_pandas()
    frame.index = lines.index
    return frame.astype(object).where(frame.notna(), None)


def parse_replicates(texts: pd.Series) -> np.ndarray:
    """Space-separated replicate weights (one string per respondent) as a respondents x replicates array."""
    values = np.array(" ".join(texts.to_list()).split(), dtype=np.float64)
    if values.size % len(texts):
        raise InputError("the stored replicate weights have different lengths; import the survey again")
    return values.reshape(len(texts), -1)


def load_survey(ws: Workspace, survey_id: str | None = None) -> SurveyData:
    """The survey ``survey_id`` (default: the one imported last) as :class:`SurveyData`."""
    held = surveys(ws)
    if held.empty:
        raise InputError(
            "the workspace has no survey yet", hint="import one with `safercities import survey FILE --design DESIGN`"
        )
    if survey_id is None:
        row = held.iloc[-1]
    else:
        match = held[held["survey_id"] == survey_id]
        if match.empty:
            raise InputError(f"no survey '{survey_id}'; the workspace holds: {', '.join(held['survey_id'])}")
        row = match.iloc[-1]
    rows = ws.store.read(KIND, "import_id = ?", [int(row["import_id"])]).reset_index(drop=True)
    answers = parse_answers(rows["answers"])
    respondents = pd.concat([rows[list(DESIGN_COLUMNS)], answers], axis=1)
    design: SurveyDesignFile = row["design"]
    replicates = parse_replicates(rows["replicate_weights"]) if design.replicates is not None and len(rows) else None
    return SurveyData(str(row["survey_id"]), int(row["import_id"]), design, respondents, replicates)


def household_weights(data: SurveyData) -> np.ndarray:
    """Household weights: the stored ones, else person weight / adults in the household (one respondent each)."""
    given = data.respondents["household_weight"].to_numpy(dtype=np.float64)
    if np.isfinite(given).all():
        return given
    answered = data.respondents.get("hh_adults", pd.Series(np.nan, index=data.respondents.index))
    adults = pd.to_numeric(answered, errors="coerce").to_numpy(dtype=np.float64)
    derived = data.respondents["weight"].to_numpy(dtype=np.float64) / adults
    weights = np.where(np.isfinite(given), given, derived)
    if not np.isfinite(weights).all():
        raise InputError(
            "household crimes need household weights: name them in [design] household_weight, "
            "or keep the question hh_adults so that they can be derived"
        )
    return weights


def _design(data: SurveyData, weights: np.ndarray, replicate_factor: np.ndarray | None) -> Design:
    frame = data.respondents
    spec = data.design
    replicates = None
    method = scale = rscales = None
    rho = 0.0
    mse = False
    if data.replicate_weights is not None and spec.replicates is not None:
        replicates = data.replicate_weights if replicate_factor is None else data.replicate_weights * replicate_factor
        method = spec.replicates.method
        scale = spec.replicates.scale
        rscales = np.asarray(spec.replicates.rscales) if spec.replicates.rscales else None
        rho = spec.replicates.fay_rho
        mse = spec.replicates.mse
    return Design(
        weights,
        strata=frame["stratum"].to_numpy(object) if spec.strata else None,
        psu=frame["psu"].to_numpy(object) if spec.psu else None,
        fpc=frame["fpc"].to_numpy(np.float64) if spec.fpc else None,
        replicate_weights=replicates,
        replicate_method=method,
        replicate_scale=scale,
        replicate_rscales=rscales,
        fay_rho=rho,
        lonely_psu=spec.lonely_psu,
        mse=mse,
    )


def person_design(data: SurveyData) -> Design:
    """The design for questions about the respondent (person weights)."""
    return _design(data, data.respondents["weight"].to_numpy(dtype=np.float64), None)


def household_design(data: SurveyData) -> Design:
    """The design for crimes against the household (household weights; replicates scaled alike)."""
    person = data.respondents["weight"].to_numpy(dtype=np.float64)
    weights = household_weights(data)
    return _design(data, weights, (weights / person)[:, None])
