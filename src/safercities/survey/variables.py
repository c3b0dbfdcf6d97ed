"""Analysis variables derived from the answers: victimisation, reporting, safety, trust, bribery, harassment.

Each is 1/0 where the answers decide it and missing (NaN) where they do not (does not know, refused,
not asked), so that the engine drops a respondent from that variable's denominator only, the way the
SDG metadata define the indicators. Derivations are vectorised over respondents.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safercities.survey.instrument import Instrument, load_instrument

AGE_GROUPS = ((15, 29), (30, 44), (45, 59), (60, 200))
AGE_LABELS = ("15-29", "30-44", "45-59", "60+")
WG_DOMAINS = ("wg_seeing", "wg_hearing", "wg_walking", "wg_remembering", "wg_selfcare", "wg_communicating")
PHYSICAL = ("assault",)
PSYCHOLOGICAL = ("threats",)
SEXUAL = ("sexual_violence",)
VIOLENT = ("assault", "robbery", "sexual_violence")
"""Crimes whose victims make the denominator of SDG 16.3.1 (violence: physical, sexual, robbery)."""


def _binary(values: pd.Series, ones: tuple[str, ...], zeros: tuple[str, ...]) -> pd.Series:
    out = pd.Series(np.nan, index=values.index)
    out[values.isin(ones)] = 1.0
    out[values.isin(zeros)] = 0.0
    return out


def _any(columns: list[pd.Series]) -> pd.Series:
    """1 if any is 1; 0 if all are 0; else missing."""
    frame = pd.concat(columns, axis=1)
    out = pd.Series(np.nan, index=frame.index)
    out[(frame == 0).all(axis=1)] = 0.0
    out[(frame == 1).any(axis=1)] = 1.0
    return out


def _answer(answers: pd.DataFrame, name: str) -> pd.Series:
    if name in answers:
        return answers[name].astype(object)
    return pd.Series(None, index=answers.index, dtype=object)


def crime_variables(answers: pd.DataFrame, key: str) -> pd.DataFrame:
    """For one crime: ``victim_<key>`` (12 months), ``victim5y_<key>``, ``incidents_<key>``, ``reported_<key>``."""
    five = _answer(answers, f"{key}_5y")
    twelve = _answer(answers, f"{key}_12m")
    victim5 = _binary(five, ("yes",), ("no",))
    victim = pd.Series(np.nan, index=answers.index)
    victim[victim5 == 0] = 0.0
    victim[(victim5 == 1) & (twelve == "no")] = 0.0
    victim[(victim5 == 1) & (twelve == "yes")] = 1.0
    times = pd.to_numeric(_answer(answers, f"{key}_times"), errors="coerce")
    incidents = pd.Series(np.nan, index=answers.index)
    incidents[victim == 0] = 0.0
    incidents[victim == 1] = times[victim == 1]
    reported = _binary(_answer(answers, f"{key}_reported"), ("yes",), ("no",)).where(victim == 1)
    return pd.DataFrame(
        {
            f"victim_{key}": victim,
            f"victim5y_{key}": victim5,
            f"incidents_{key}": incidents,
            f"reported_{key}": reported,
        }
    )


def disability(answers: pd.DataFrame) -> pd.Series:
    """Washington Group short-set cut-off: a lot of difficulty, or cannot do, in at least one domain."""
    with_disability = [_binary(_answer(answers, d), ("a_lot", "cannot"), ("none", "some")) for d in WG_DOMAINS]
    return _any(with_disability)


def age_group(age: pd.Series) -> pd.Series:
    years = pd.to_numeric(age, errors="coerce")
    bins = [g[0] for g in AGE_GROUPS] + [AGE_GROUPS[-1][1] + 1]
    return pd.cut(years, bins=bins, right=False, labels=list(AGE_LABELS)).astype(object).where(years.notna())


def derive(respondents: pd.DataFrame, instrument: Instrument | None = None) -> pd.DataFrame:
    """Every analysis variable, one row per respondent (same index as ``respondents``)."""
    instrument = instrument or load_instrument()
    parts = [crime_variables(respondents, c.key) for c in instrument.crimes]
    crimes = pd.concat(parts, axis=1)
    out = pd.DataFrame(index=respondents.index)
    out["sex"] = _answer(respondents, "sex").where(_answer(respondents, "sex").isin(("female", "male")))
    out["age_group"] = age_group(_answer(respondents, "age"))
    dis = disability(respondents)
    out["disability"] = dis.map({1.0: "with disability", 0.0: "without disability"})
    out["area_id"] = respondents.get("area_id", pd.Series(None, index=respondents.index))
    out["physical_violence"] = _any([crimes[f"victim_{k}"] for k in PHYSICAL])
    out["psychological_violence"] = _any([crimes[f"victim_{k}"] for k in PSYCHOLOGICAL])
    out["sexual_violence"] = _any([crimes[f"victim_{k}"] for k in SEXUAL])
    out["any_violence"] = _any([out["physical_violence"], out["psychological_violence"], out["sexual_violence"]])
    violent_victim = _any([crimes[f"victim_{k}"] for k in VIOLENT]) == 1
    reported_any = _any([crimes[f"reported_{k}"].where(crimes[f"victim_{k}"] == 1, 0.0) for k in VIOLENT])
    out["reported_violence"] = reported_any.where(violent_victim)
    out["feels_safe"] = _binary(
        _answer(respondents, "safe_after_dark"), ("very_safe", "fairly_safe"), ("fairly_unsafe", "very_unsafe")
    )
    out["trusts_police"] = _binary(_answer(respondents, "trust_police"), ("a_lot", "some"), ("little", "none"))
    out["trusts_courts"] = _binary(_answer(respondents, "trust_courts"), ("a_lot", "some"), ("little", "none"))
    contact = _answer(respondents, "official_contact_12m") == "yes"
    asked = _binary(_answer(respondents, "bribe_asked_12m"), ("yes",), ("no",))
    paid = _binary(_answer(respondents, "bribe_paid_12m"), ("yes",), ("no",))
    out["bribery"] = _any([asked, paid]).where(contact)
    physical = _binary(_answer(respondents, "harass_physical_12m"), ("yes",), ("no",))
    sexual = _binary(_answer(respondents, "harass_sexual_12m"), ("yes",), ("no",))
    out["harassment"] = _any([physical, sexual])
    out["harassment_physical"] = physical
    out["harassment_sexual"] = sexual
    places = " " + _answer(respondents, "harass_place").fillna("").astype(str) + " "
    for place in instrument.codes("harass_place"):
        chosen = places.str.contains(f" {place} ", regex=False).astype(float)
        out[f"harassment_at_{place}"] = chosen.where(out["harassment"] == 1, out["harassment"])
    return pd.concat([out, crimes], axis=1)
