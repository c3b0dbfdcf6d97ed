"""The dark figure on the synthetic city: survey totals as direct weighted sums, police counts as in the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from safercities.errors import InputError
from safercities.sim import SimulatedCity
from safercities.sim.survey import POLICE_TO_SURVEY, SimulatedSurvey
from safercities.survey.darkfigure import most_understated, survey_dark_figure
from safercities.survey.importing import import_survey
from safercities.survey.instrument import load_instrument
from safercities.workspace import open_workspace


@pytest.fixture()
def imported(survey: SimulatedSurvey, workspace: Path) -> Path:
    with open_workspace(workspace) as ws:
        import_survey(ws, survey.export, survey.design)
    return workspace


def _direct_totals(survey: SimulatedSurvey) -> pd.Series:
    """Per ICCS level-2 group: sum of weight x incidents from the raw export (household crimes: household weight)."""
    raw = pd.read_csv(survey.export, sep=";", dtype=str, keep_default_na=False)
    totals: dict[str, float] = {}
    for crime in load_instrument().crimes:
        group = "household_crimes" if crime.unit == "household" else "personal_crimes"
        times = pd.to_numeric(raw[f"{group}/{crime.key}/{crime.key}_times"], errors="coerce").fillna(0)
        weight = raw["hh_weight" if crime.unit == "household" else "weight"].astype(float)
        totals[crime.iccs[:4]] = totals.get(crime.iccs[:4], 0.0) + float((weight * times).sum())
    return pd.Series(totals)


def test_city_totals_police_counts_and_the_log_scale_interval(
    city: SimulatedCity, survey: SimulatedSurvey, imported: Path
) -> None:
    with open_workspace(imported) as ws:
        table = survey_dark_figure(ws, level="city", lang="en").set_index("iccs")
    direct = _direct_totals(survey)
    for group, total in direct.items():
        assert table.loc[group, "survey_total"] == pytest.approx(total, rel=1e-9), group
    # police: recorded crimes of the reference year in the truth, by ICCS group (the file's damaged rows aside)
    events = city.true_events()
    offences = pd.read_csv(city.offences, dtype=str).set_index("local_code")["iccs_code"]
    day = events["occurred"].str.slice(0, 10)
    year = (day >= survey.truth["period_start"]) & (day <= survey.truth["period_end"]) & (events["recorded"] == 1)
    truth = events[year].assign(iccs=events["offence"].map(offences).str.slice(0, 4)).groupby("iccs").size()
    for group in direct.index:
        recorded = table.loc[group, "police_recorded"]
        assert abs(recorded - truth.get(group, 0)) <= 0.03 * truth.get(group, 0) + 2, group
    row = table.loc["0501"]
    t = stats.t.ppf(0.975, 6 * 20 - 6)
    assert row["reporting_rate"] == pytest.approx(row["police_recorded"] / row["survey_total"])
    assert row["reporting_lower"] == pytest.approx(row["reporting_rate"] * np.exp(-t * row["survey_cv"]))
    assert row["reporting_upper"] == pytest.approx(row["reporting_rate"] * np.exp(t * row["survey_cv"]))
    assert row["understatement"] == pytest.approx(1 / row["reporting_rate"])


def test_the_survey_total_interval_holds_the_true_burglaries(survey: SimulatedSurvey, imported: Path) -> None:
    crimes = pd.DataFrame(survey.truth["crimes"])
    true_total = crimes.loc[crimes["crime"] == "burglary", "incidents"].sum()
    with open_workspace(imported) as ws:
        row = survey_dark_figure(ws, level="city").set_index("iccs").loc["0501"]
    # one sample: the truth falls inside this interval (coverage over many samples is in test_coverage.py)
    assert row["survey_lower"] <= true_total <= row["survey_upper"]
    assert {code for code, key in POLICE_TO_SURVEY.items() if key == "burglary"} == {"501"}


def test_areas_with_few_respondents_are_withheld_and_the_most_understated_listed(imported: Path) -> None:
    with open_workspace(imported) as ws:
        table = survey_dark_figure(ws, level="community")
    small = table["n"] < 30
    assert small.any() and (~small).any()
    assert table.loc[small, ["survey_total", "reporting_rate", "understatement"]].isna().all().all()
    top = most_understated(table, top=2)
    assert (top.groupby("iccs").size() <= 2).all()
    assert not top["suppressed"].any()
    for _, group in top.groupby("iccs"):
        assert group["understatement"].is_monotonic_decreasing


def test_a_survey_without_reference_period_is_refused(survey: SimulatedSurvey, workspace: Path, tmp_path: Path) -> None:
    design = tmp_path / "d.toml"
    design.write_text('[design]\nweight = "weight"\nstrata = "stratum"\npsu = "psu"\n', encoding="utf-8")
    with open_workspace(workspace) as ws:
        import_survey(ws, survey.export, design)
        with pytest.raises(InputError, match="no reference period"):
            survey_dark_figure(ws)
