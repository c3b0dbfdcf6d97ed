"""Messy cells never crash the import: every row is accepted or rejected with a reason (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safercities.sim.survey import SimulatedSurvey
from safercities.survey.designfile import SurveyDesignFile
from safercities.survey.importing import prepare_survey

DESIGN = SurveyDesignFile(survey_id="h", weight="weight", household_weight="hh_weight", strata="stratum", psu="psu",
                          lonely_psu="remove")  # fmt: skip
cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "yes", "no", "NaN", "-1", "0", "1e9", "12.5", "Sí", "very_safe  fairly_safe", "∞"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_row_is_kept_or_rejected_with_a_reason(survey: SimulatedSurvey, data: st.DataObject) -> None:
    export = pd.read_csv(survey.export, sep=";", dtype=str, keep_default_na=False).head(40)
    n_cells = data.draw(st.integers(1, 25))
    rows = data.draw(st.lists(st.integers(0, len(export) - 1), min_size=n_cells, max_size=n_cells))
    columns = data.draw(st.lists(st.sampled_from(list(export.columns)), min_size=n_cells, max_size=n_cells))
    values = data.draw(st.lists(cells, min_size=n_cells, max_size=n_cells))
    for row, column, value in zip(rows, columns, values, strict=True):
        export.loc[row, column] = value
    prepared = prepare_survey(export, np.arange(2, len(export) + 2), DESIGN, Path("messy.csv"))
    assert prepared.rows.num_rows + len(prepared.rejects) == len(export)
    assert prepared.rejects["reason"].str.len().gt(0).all()
    assert prepared.rejects["row_number"].is_unique
    weights = prepared.rows.column("weight").to_numpy()
    assert np.isfinite(weights).all() and (weights > 0).all()
