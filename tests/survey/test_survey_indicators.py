"""SDG indicators and crime rates: point estimates equal a direct weighted computation; small cells withheld."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.sim.survey import SimulatedSurvey
from safercities.survey.data import load_survey
from safercities.survey.importing import import_survey
from safercities.survey.indicators import crime_rates, publish, sdg_indicators, survey_indicators
from safercities.survey.settings import SurveyRules, load_rules
from safercities.workspace import open_workspace


@pytest.fixture()
def imported(survey: SimulatedSurvey, workspace: Path) -> Path:
    with open_workspace(workspace) as ws:
        import_survey(ws, survey.export, survey.design)
    return workspace


def _export(survey: SimulatedSurvey) -> pd.DataFrame:
    return pd.read_csv(survey.export, sep=";", dtype=str, keep_default_na=False)


def _share(flag: pd.Series, base: pd.Series, weight: pd.Series) -> float:
    """Weighted share of ``flag`` among respondents in ``base``, written out from the raw export columns."""
    w = weight.astype(float)
    return float((w * (flag & base)).sum() / (w * base).sum())


def test_sdg_indicators_equal_a_direct_weighted_computation(survey: SimulatedSurvey, imported: Path) -> None:
    raw = _export(survey)
    w = raw["weight"]
    yes = lambda column: raw[column] == "yes"  # noqa: E731
    safe = raw["perceptions/safe_after_dark"]
    violent = ["personal_crimes/assault/assault", "personal_crimes/robbery/robbery",
               "personal_crimes/sexual_violence/sexual_violence"]  # fmt: skip
    victim = pd.concat([yes(f"{v}_12m") for v in violent], axis=1).any(axis=1)
    reported = pd.concat([yes(f"{v}_12m") & yes(f"{v}_reported") for v in violent], axis=1).any(axis=1)
    contact = yes("bribery/official_contact_12m")
    expected = {
        "16.1.3a": _share(yes("personal_crimes/assault/assault_12m"), raw["respondent/sex"] != "", w),
        "16.1.4": _share(safe.isin(["very_safe", "fairly_safe"]), safe != "dont_know", w),
        "16.3.1": _share(reported, victim, w),
        "16.5.1": _share(yes("bribery/bribe_asked_12m") | yes("bribery/bribe_paid_12m"), contact, w),
        "11.7.2": _share(
            yes("harassment/harass_physical_12m") | yes("harassment/harass_sexual_12m"), raw["_uuid"] != "", w
        ),
    }
    women = raw["respondent/sex"] == "female"
    expected_women = _share(safe.isin(["very_safe", "fairly_safe"]), women & (safe != "dont_know"), w)
    with open_workspace(imported) as ws:
        table = survey_indicators(ws, level="district")
    overall = table[table["by"] == "all"].set_index("indicator")
    for indicator, value in expected.items():
        assert overall.loc[indicator, "estimate"] == pytest.approx(value, rel=1e-12), indicator
    row = table[(table["by"] == "sex") & (table["domain"] == "female") & (table["indicator"] == "16.1.4")]
    assert row["estimate"].item() == pytest.approx(expected_women, rel=1e-12)
    assert set(table.loc[table["by"] == "area", "domain"]) == {d for d in raw["stratum"]}
    shown = table[~table["suppressed"]]
    assert (shown["lower"] <= shown["estimate"]).all() and (shown["estimate"] <= shown["upper"]).all()
    assert table["name"].str.contains("víctimas|seguros", case=False).any()  # the workspace speaks Spanish


def test_small_cells_are_withheld_with_the_reason_and_high_cvs_flagged(survey: SimulatedSurvey, imported: Path) -> None:
    with open_workspace(imported) as ws:
        data = load_survey(ws)
    rules = SurveyRules(max_cv=0.25, min_respondents=40)
    table = sdg_indicators(data, rules, by=("all", "sex", "area"))
    small = table["n"] < 40
    assert small.any() and (~small).any()
    assert table.loc[small, ["estimate", "se", "lower", "upper", "cv"]].isna().all().all()
    assert table.loc[small, "suppressed"].all() and not table.loc[~small, "suppressed"].any()
    assert table.loc[small, "note"].str.startswith("suppressed:").all()
    assert table.loc[small, "note"].str.contains("< 40").all()
    flagged = ~small & (table["cv"] > 0.25)
    assert flagged.any()
    assert (table["unreliable"] == flagged).all()
    assert table.loc[flagged, "note"].str.contains("CV above 25%").all()


def test_publish_never_shows_a_figure_below_the_minimum() -> None:
    frame = pd.DataFrame({"n": [29, 30, 31], "estimate": [0.1, 0.2, 0.3], "se": 0.01, "lower": 0.0, "upper": 1.0,
                          "cv": [0.1, 0.31, 0.2]})  # fmt: skip
    out = publish(frame, SurveyRules())
    assert out["estimate"].isna().tolist() == [True, False, False]
    assert out["unreliable"].tolist() == [False, True, False]


def test_crime_rates_prevalence_and_incidence(survey: SimulatedSurvey, imported: Path) -> None:
    raw = _export(survey)
    with open_workspace(imported) as ws:
        data = load_survey(ws)
    rates = crime_rates(data, SurveyRules(), by=("all",))
    burglary = rates[(rates["crime"] == "burglary")].set_index("measure")
    hh = raw["hh_weight"].astype(float)
    victim = raw["household_crimes/burglary/burglary_12m"] == "yes"
    times = pd.to_numeric(raw["household_crimes/burglary/burglary_times"], errors="coerce").fillna(0)
    assert burglary.loc["prevalence", "estimate"] == pytest.approx((hh * victim).sum() / hh.sum(), rel=1e-12)
    assert burglary.loc["per_1000", "estimate"] == pytest.approx(1000 * (hh * times).sum() / hh.sum(), rel=1e-12)
    assert burglary.loc["prevalence", "weighted_n"] == pytest.approx(survey.truth["households"], rel=1e-6)
    robbery = rates[(rates["crime"] == "robbery") & (rates["measure"] == "prevalence")]
    assert robbery["weighted_n"].item() == pytest.approx(raw["weight"].astype(float).sum(), rel=1e-12)


def test_rules_come_from_the_survey_table_of_the_settings(tmp_path: Path) -> None:
    assert load_rules(tmp_path) == SurveyRules()
    (tmp_path / "safercities.toml").write_text("[survey]\nmax_cv = 0.2\nmin_respondents = 50\n", encoding="utf-8")
    assert load_rules(tmp_path) == SurveyRules(max_cv=0.2, min_respondents=50)
    (tmp_path / "safercities.toml").write_text("[survey]\nmin_cases = 5\n", encoding="utf-8")
    with pytest.raises(Exception, match="unknown setting survey.min_cases"):
        load_rules(tmp_path)


def test_every_published_point_is_finite(survey: SimulatedSurvey, imported: Path) -> None:
    with open_workspace(imported) as ws:
        data = load_survey(ws)
    table = sdg_indicators(data, by=("all",), places=False)
    assert np.isfinite(table["estimate"]).all()
