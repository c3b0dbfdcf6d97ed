"""A victimisation survey of the synthetic city: the dark figure seen from the households.

The city's adults and households are drawn once (:func:`survey_population`), and every true crime of
the survey's reference year (the last 12 months of the simulated period, from ``truth_events.csv``)
that a household survey can see is given to a resident of the community where it happened: crimes
against persons to an adult (risk by sex and age, and a frailty that makes repeat victims), crimes
against homes and vehicles to a household. Whether the victim reported the most recent incident is
whether the police recorded it, so that survey and police file tell one story. Theft of personal
belongings, which the city's police file does not carry, is drawn here at a known rate. Perceptions
(safety after dark, trust), bribery, harassment in public spaces, sex, age and functioning (Washington
Group short set) are drawn from known per-community probabilities.

:func:`draw_sample` takes a two-stage stratified sample: strata are the districts; primary sampling
units are blocks of about ``block_households`` households, drawn with probability proportional to
their households and with replacement; then ``households_per_psu`` households by simple random
sampling, and one adult at random in each. Weights are the inverse of the selection probabilities.

:func:`simulate_survey` writes the sample as KoboToolbox exports it (``survey.csv``: ``;``-separated,
group paths in the headers, ``_uuid`` and ``_submission_time``, select_multiple answers both as
space-separated codes and one 0/1 column per choice), the design file (``survey_design.toml``) and
``survey_truth.json``, the finite-population values every estimate should recover.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from safercities.sim import SimulatedCity
from safercities.survey.instrument import CRIME_GROUPS, MAX_TIMES, Instrument, load_instrument

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FILES = {"export": "survey.csv", "design": "survey_design.toml", "truth": "survey_truth.json"}

POLICE_TO_SURVEY: dict[str, str] = {
    "201": "assault",
    "203": "assault",  # family violence is physical assault by a family member
    "202": "threats",
    "204": "extortion",
    "301": "sexual_violence",
    "302": "sexual_violence",
    "401": "robbery",  # street robbery; robbery of businesses is not a household survey's
    "501": "burglary",
    "502": "vehicle_theft",
    "503": "vehicle_parts_theft",
    "504": "property_damage",
    "701": "fraud",
}
"""The synthetic police codes a household survey sees, and the questionnaire crime each one is."""
PERSONAL_THEFT_PER_1000 = 45.0
"""Thefts of personal belongings per 1,000 adults per year at average youth unemployment (not in the police file)."""
PERSONAL_THEFT_REPORTING = 0.15

# relative risk of being the victim of a crime against persons, by sex (female, male) and age group
RISK_BY_SEX: dict[str, tuple[float, float]] = {
    "assault": (0.8, 1.3),
    "sexual_violence": (1.8, 0.2),
    "robbery": (0.9, 1.1),
}
RISK_YOUNG: dict[str, float] = {"assault": 1.8, "sexual_violence": 2.0, "robbery": 1.5, "personal_theft": 1.3}
"""Extra relative risk for adults aged 15-29."""
FRAILTY_SHAPE = 0.6
"""Gamma frailty (mean 1): a small shape concentrates crimes on repeat victims."""
AGE_BANDS = ((15, 30, 0.33), (30, 45, 0.28), (45, 60, 0.22), (60, 91, 0.17))
WG_DOMAINS = ("wg_seeing", "wg_hearing", "wg_walking", "wg_remembering", "wg_selfcare", "wg_communicating")
WG_LEVELS = ("none", "some", "a_lot", "cannot")
DONT_KNOW_SHARE = 0.02
"""Share of adults who would answer 'does not know' to safety after dark (and to each trust question)."""


@dataclass(frozen=True)
class SurveyPlan:
    """The sample: PSUs per stratum (district), households per PSU, and the size of a block."""

    psus_per_stratum: int = 20
    households_per_psu: int = 12
    block_households: int = 120


@dataclass(frozen=True)
class SurveyPopulation:
    """Every adult and household of the city, with what happened to them in the reference year."""

    period_start: dt.date
    period_end: dt.date
    """Last day of the reference year (inclusive)."""
    community_ids: tuple[str, ...]
    district_ids: tuple[str, ...]
    district_of: IntArray
    """Per community."""
    block_community: IntArray
    block_size: IntArray
    """Households per block."""
    block_first: IntArray
    """First household of each block (households are sorted by community, then block)."""
    hh_block: IntArray
    hh_adults: IntArray
    hh_first: IntArray
    """First adult of each household (adults are sorted by household)."""
    person_household: IntArray
    answers: pd.DataFrame
    """One row per adult: the answer codes they would give (the household's crimes on every adult of it)."""
    incidents: dict[str, IntArray]
    """Per crime: incidents in the reference year per adult (crimes against persons) or household."""
    reported_last: dict[str, BoolArray]
    police: pd.DataFrame
    """Police-recorded incidents of the reference year: area_id x police code."""

    @property
    def n_adults(self) -> int:
        return int(self.person_household.size)

    def person_community(self) -> IntArray:
        return np.asarray(self.block_community[self.hh_block[self.person_household]], dtype=np.int64)


def _frailty(rng: np.random.Generator, n: int) -> FloatArray:
    return np.asarray(rng.gamma(FRAILTY_SHAPE, 1.0 / FRAILTY_SHAPE, size=n), dtype=np.float64)


def _assign(rng: np.random.Generator, group: IntArray, weight: FloatArray, event_group: IntArray) -> IntArray:
    """For each event, a unit of its group drawn with probability ∝ ``weight`` (units sorted by group)."""
    cum = np.cumsum(weight)
    n_groups = int(group.max()) + 1
    ends = np.searchsorted(group, np.arange(n_groups), side="right")
    starts = np.searchsorted(group, np.arange(n_groups), side="left")
    before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    total = cum[np.maximum(ends - 1, 0)] - before
    target = before[event_group] + rng.random(event_group.size) * total[event_group]
    unit = np.searchsorted(cum, target, side="right")
    return np.asarray(np.minimum(unit, ends[event_group] - 1), dtype=np.int64)


def _last_flag(unit: IntArray, time: npt.NDArray[Any], flag: BoolArray, n: int) -> BoolArray:
    """Per unit, the flag of its most recent event (False when it had none)."""
    out = np.zeros(n, dtype=bool)
    if unit.size == 0:
        return out
    order = np.lexsort((time, unit))
    last = np.r_[unit[order][1:] != unit[order][:-1], True]
    out[unit[order][last]] = flag[order][last]
    return out


YES_NO = ("yes", "no")


def _coded(
    codes: npt.ArrayLike, categories: tuple[str, ...] | list[str], asked: BoolArray | None = None
) -> pd.Categorical[str]:
    """Answers as a categorical (codes into ``categories``), blank where the question was not ``asked``.

    Held as codes, not text, so that the city's hundreds of thousands of adults cost little.
    """
    code = np.asarray(codes, dtype=np.int64)
    if asked is not None:
        code = np.where(asked, code, -1)
    return pd.Categorical.from_codes(code, categories=pd.Index(list(categories)))


def _yes_no(flag: BoolArray, asked: BoolArray | None = None) -> pd.Categorical[str]:
    return _coded(np.where(flag, 0, 1), YES_NO, asked)


def _choices(
    rng: np.random.Generator, options: tuple[str, ...], n: int, p: list[float] | None, second: float
) -> pd.Categorical[str]:
    """One option each (with probabilities ``p``), and a second, different one with probability ``second``."""
    k = len(options)
    first = rng.choice(k, n, p=p)
    other = rng.integers(0, k, n)
    pair = (rng.random(n) < second) & (other != first)
    # category i * (k + 1) is option i alone; i * (k + 1) + 1 + j is "option_i option_j"
    categories = [text for i in range(k) for text in (options[i], *(f"{options[i]} {options[j]}" for j in range(k)))]
    return _coded(first * (k + 1) + np.where(pair, 1 + other, 0), categories)


def _logistic(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _reference_year(city: SimulatedCity) -> tuple[dt.date, dt.date]:
    end = dt.date.fromisoformat(str(city.truth["parameters"]["end"]))
    try:
        start = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 1, day=28)
    return start, end - dt.timedelta(days=1)


def survey_population(city: SimulatedCity, seed: int = 0) -> SurveyPopulation:
    """Draw the city's adults and households and give them the reference year's crimes (see the module doc)."""
    rng = np.random.default_rng([int(seed), 7_311])
    census = pd.read_csv(city.census, dtype={"area_id": str})
    areas = json.loads(city.areas.read_text(encoding="utf-8"))["features"]
    parent = {f["properties"]["area_id"]: f["properties"]["parent_id"] for f in areas}
    community_ids = tuple(census["area_id"])
    district_ids = tuple(sorted({parent[c] for c in community_ids}))
    district_of = np.asarray([district_ids.index(parent[c]) for c in community_ids], dtype=np.int64)
    households = census["households"].to_numpy(np.int64)
    n_c = len(community_ids)

    # blocks and households
    n_blocks = np.maximum(2, np.round(households / SurveyPlan.block_households)).astype(np.int64)
    hh_community = np.repeat(np.arange(n_c), households)
    local = np.arange(hh_community.size) - np.repeat(np.cumsum(households) - households, households)
    block_in_c = (local * n_blocks[hh_community]) // households[hh_community]
    block_offset = np.cumsum(n_blocks) - n_blocks
    hh_block = (block_offset[hh_community] + block_in_c).astype(np.int64)
    block_community = np.repeat(np.arange(n_c), n_blocks).astype(np.int64)
    block_size = np.bincount(hh_block, minlength=int(n_blocks.sum())).astype(np.int64)
    block_first = (np.cumsum(block_size) - block_size).astype(np.int64)
    hh_adults = (1 + rng.binomial(3, 0.45, size=hh_community.size)).astype(np.int64)
    hh_first = (np.cumsum(hh_adults) - hh_adults).astype(np.int64)
    person_household = np.repeat(np.arange(hh_community.size), hh_adults).astype(np.int64)
    person_community = hh_community[person_household]
    n_p = person_household.size

    # who the adults are
    female = rng.random(n_p) < 0.52
    band = rng.choice(len(AGE_BANDS), size=n_p, p=[b[2] for b in AGE_BANDS])
    low = np.asarray([b[0] for b in AGE_BANDS])[band]
    high = np.asarray([b[1] for b in AGE_BANDS])[band]
    age = rng.integers(low, high)
    young = age < 30
    # functioning: the chance of each level grows with age
    wg_scale = 0.03 + 0.25 * ((age - 15) / 75.0) ** 2
    wg = {}
    for domain in WG_DOMAINS:
        u = rng.random(n_p)
        level = np.where(u < wg_scale * 0.08, 3, np.where(u < wg_scale * 0.35, 2, np.where(u < wg_scale * 1.6, 1, 0)))
        wg[domain] = np.asarray(level, dtype=np.int64)

    # the reference year's crimes, from the city's truth
    start, last_day = _reference_year(city)
    events = city.true_events()
    day = events["occurred"].str.slice(0, 10)
    in_year = (day >= start.isoformat()) & (day <= last_day.isoformat()) & (events["area_id"].fillna("") != "")
    index_of = {c: i for i, c in enumerate(community_ids)}
    instrument = load_instrument()
    covariates = census.set_index("area_id")
    youth_unemployment = covariates["youth_unemployment"].to_numpy(np.float64)
    incidents: dict[str, IntArray] = {}
    reported_last: dict[str, BoolArray] = {}
    for crime in instrument.crimes:
        key = crime.key
        codes = [code for code, k in POLICE_TO_SURVEY.items() if k == key]
        if codes:
            chosen = events[in_year & events["offence"].isin(codes)]
            group = chosen["area_id"].map(index_of).to_numpy(np.int64)
            times = chosen["occurred"].to_numpy(object)
            recorded = chosen["recorded"].to_numpy(np.int64) == 1
        else:  # personal theft: drawn here, never in the police file
            expected = adults_in(person_community, n_c) * PERSONAL_THEFT_PER_1000 / 1000.0
            expected = expected * (1.0 + 2.0 * (youth_unemployment - youth_unemployment.mean()))
            counts = rng.poisson(np.maximum(expected, 0.0))
            group = np.repeat(np.arange(n_c), counts).astype(np.int64)
            times = rng.random(group.size)
            recorded = rng.random(group.size) < PERSONAL_THEFT_REPORTING
        if crime.unit == "household":
            weight = _frailty(rng, hh_community.size)
            unit = _assign(rng, hh_community, weight, group)
            size = hh_community.size
        else:
            sex_risk = RISK_BY_SEX.get(key, (1.0, 1.0))
            weight = _frailty(rng, n_p) * np.where(female, sex_risk[0], sex_risk[1])
            weight = weight * np.where(young, RISK_YOUNG.get(key, 1.0), 1.0)
            unit = _assign(rng, person_community, weight, group)
            size = n_p
        incidents[key] = np.bincount(unit, minlength=size).astype(np.int64)
        reported_last[key] = _last_flag(unit, times, recorded, size)

    # what every adult would answer
    answers = _answers(rng, instrument, incidents, reported_last, person_household, person_community, female, age, wg)
    answers = _perceptions(
        rng, answers, census, incidents, person_household, person_community, female, young, n_c, households
    )
    police = (
        events[in_year & (events["recorded"] == 1)]
        .groupby(["area_id", "offence"])
        .size()
        .rename("recorded")
        .reset_index()
    )
    return SurveyPopulation(
        period_start=start,
        period_end=last_day,
        community_ids=community_ids,
        district_ids=district_ids,
        district_of=district_of,
        block_community=block_community,
        block_size=block_size,
        block_first=block_first,
        hh_block=hh_block,
        hh_adults=hh_adults,
        hh_first=hh_first,
        person_household=person_household,
        answers=answers,
        incidents=incidents,
        reported_last=reported_last,
        police=police,
    )


def adults_in(person_community: IntArray, n_c: int) -> FloatArray:
    return np.bincount(person_community, minlength=n_c).astype(np.float64)


def _answers(
    rng: np.random.Generator,
    instrument: Instrument,
    incidents: dict[str, IntArray],
    reported_last: dict[str, BoolArray],
    person_household: IntArray,
    person_community: IntArray,
    female: BoolArray,
    age: IntArray,
    wg: dict[str, IntArray],
) -> pd.DataFrame:
    """The crime blocks and the respondent's own answers; household crimes repeated on each adult."""
    n_p = person_household.size
    columns: dict[str, Any] = {
        "sex": _coded(female.astype(np.int64), ("male", "female")),
        "age": _coded(age - AGE_BANDS[0][0], [str(a) for a in range(AGE_BANDS[0][0], AGE_BANDS[-1][1])]),
        "hh_adults": None,
        "consent": _coded(np.zeros(n_p, np.int64), ("yes",)),
    }
    reasons = instrument.codes(instrument.crimes[0].question("why_not"))
    for crime in instrument.crimes:
        count = incidents[crime.key]
        reported = reported_last[crime.key]
        if crime.unit == "household":
            count = count[person_household]
            reported = reported[person_household]
        victim = count > 0
        rate = count.mean()
        earlier = rng.random(n_p) < 1.0 - np.exp(-4.0 * rate * (0.5 + rng.random(n_p)))
        five = victim | earlier
        columns[crime.question("5y")] = _yes_no(five)
        columns[crime.question("12m")] = _yes_no(victim, five)
        columns[crime.question("times")] = _coded(
            np.minimum(count, MAX_TIMES), [str(i) for i in range(MAX_TIMES + 1)], victim
        )
        columns[crime.question("reported")] = _yes_no(reported, victim)
        why = _choices(rng, reasons, n_p, None, 0.4)
        columns[crime.question("why_not")] = _coded(why.codes, list(why.categories), victim & ~reported)
    for domain, level in wg.items():
        columns[domain] = _coded(level, WG_LEVELS)
    return pd.DataFrame(columns)


def _perceptions(
    rng: np.random.Generator,
    answers: pd.DataFrame,
    census: pd.DataFrame,
    incidents: dict[str, IntArray],
    person_household: IntArray,
    person_community: IntArray,
    female: BoolArray,
    young: BoolArray,
    n_c: int,
    households: IntArray,
) -> pd.DataFrame:
    """Safety after dark, trust, bribery and harassment, from known per-community probabilities."""
    n_p = person_household.size
    adults = adults_in(person_community, n_c)
    violent = sum(np.bincount(person_community, weights=incidents[k], minlength=n_c) for k in ("assault", "robbery"))
    violent_rate = violent / adults  # incidents per adult per year
    lighting = census["street_lighting"].to_numpy(np.float64)
    poverty = census["poverty"].to_numpy(np.float64)
    c = person_community
    p_safe = _logistic(1.3 - 0.9 * female - 25.0 * violent_rate[c] + 3.0 * (lighting[c] - 0.75))
    safe = rng.random(n_p) < p_safe
    very = rng.random(n_p) < 0.35
    safety_level = np.where(safe, np.where(very, 0, 1), np.where(very, 3, 2))
    safety_level = np.where(rng.random(n_p) < DONT_KNOW_SHARE, 4, safety_level)
    safety_levels = ("very_safe", "fairly_safe", "fairly_unsafe", "very_unsafe", "dont_know")
    p_trust_police = _logistic(0.4 - 2.5 * (poverty[c] - 0.3) - 10.0 * violent_rate[c])
    trust_levels = ("a_lot", "some", "little", "none", "dont_know")

    def trust(p: FloatArray) -> pd.Categorical[str]:
        high = rng.random(n_p) < p
        strong = rng.random(n_p) < 0.3
        level = np.where(high, np.where(strong, 0, 1), np.where(strong, 3, 2))
        return _coded(np.where(rng.random(n_p) < DONT_KNOW_SHARE, 4, level), trust_levels)

    contact = rng.random(n_p) < 0.4
    p_asked = _logistic(-2.4 + 3.0 * (poverty[c] - 0.3))
    asked = contact & (rng.random(n_p) < p_asked)
    paid = contact & np.where(asked, rng.random(n_p) < 0.55, rng.random(n_p) < 0.02)
    unemployment = census["youth_unemployment"].to_numpy(np.float64)
    p_physical = np.clip((0.04 + 0.03 * young) * (1.0 + 3.0 * unemployment[c]), 0, 1)
    p_sexual = np.clip(np.where(female, np.where(young, 0.30, 0.12), 0.04) * (1.0 + 2.0 * unemployment[c]), 0, 1)
    physical = rng.random(n_p) < p_physical
    sexual = rng.random(n_p) < p_sexual
    places = ("street", "public_transport", "park", "market_shop", "work_school", "bar_venue")
    where = _choices(rng, places, n_p, [0.45, 0.25, 0.08, 0.1, 0.07, 0.05], 0.3)
    adults_of_household = np.bincount(person_household)
    return answers.assign(
        hh_adults=_coded(adults_of_household[person_household] - 1, [str(a) for a in range(1, 31)]),
        safe_after_dark=_coded(safety_level, safety_levels),
        trust_police=trust(p_trust_police),
        trust_courts=trust(p_trust_police - 0.1),
        official_contact_12m=_yes_no(contact),
        bribe_asked_12m=_yes_no(asked, contact),
        bribe_paid_12m=_yes_no(paid, contact),
        harass_physical_12m=_yes_no(physical),
        harass_sexual_12m=_yes_no(sexual),
        harass_place=_coded(where.codes, list(where.categories), physical | sexual),
    )


@dataclass(frozen=True)
class SurveySample:
    """The drawn respondents: their adult index, design variables and weights."""

    person: IntArray
    household: IntArray
    stratum: npt.NDArray[np.object_]
    psu: npt.NDArray[np.object_]
    block: IntArray
    weight: FloatArray
    household_weight: FloatArray


def draw_sample(population: SurveyPopulation, rng: np.random.Generator, plan: SurveyPlan | None = None) -> SurveySample:
    """Stratified two-stage sample: blocks PPS with replacement per district, SRS of households, one adult each."""
    plan = plan or SurveyPlan()
    block_stratum = population.district_of[population.block_community]
    m = plan.psus_per_stratum
    chosen_blocks, draw_prob = [], []
    for h in range(len(population.district_ids)):  # a handful of strata
        blocks = np.flatnonzero(block_stratum == h)
        p = population.block_size[blocks] / population.block_size[blocks].sum()
        pick = rng.choice(blocks.size, size=m, replace=True, p=p)
        chosen_blocks.append(blocks[pick])
        draw_prob.append(p[pick])
    block = np.concatenate(chosen_blocks)
    prob = np.concatenate(draw_prob)
    n_psu = block.size
    size = population.block_size[block]
    # every household of every drawn PSU, with a random key; the n smallest keys per PSU are taken
    psu_of_pair = np.repeat(np.arange(n_psu), size)
    offset = np.arange(psu_of_pair.size) - np.repeat(np.cumsum(size) - size, size)
    household_of_pair = population.block_first[block][psu_of_pair] + offset
    order = np.lexsort((rng.random(psu_of_pair.size), psu_of_pair))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - np.repeat(np.cumsum(size) - size, size)
    take = rank < plan.households_per_psu
    psu = psu_of_pair[take]
    household = household_of_pair[take]
    n_taken = np.minimum(size, plan.households_per_psu)[psu]
    adults = population.hh_adults[household]
    person = population.hh_first[household] + (rng.random(household.size) * adults).astype(np.int64)
    household_weight = (1.0 / (m * prob[psu])) * (size[psu] / n_taken)
    stratum_ids = np.asarray(population.district_ids, dtype=object)
    block_ids = _block_ids(population)
    psu_ids = np.char.add(np.char.add(block_ids[block].astype(str), "#"), (np.arange(n_psu) % m + 1).astype(str))
    return SurveySample(
        person=person.astype(np.int64),
        household=household.astype(np.int64),
        stratum=stratum_ids[population.district_of[population.block_community[block[psu]]]],
        psu=psu_ids[psu].astype(object),
        block=block[psu].astype(np.int64),
        weight=household_weight * adults,
        household_weight=household_weight,
    )


def _block_ids(population: SurveyPopulation) -> npt.NDArray[np.str_]:
    community = np.asarray(population.community_ids)[population.block_community]
    first_block = np.searchsorted(population.block_community, population.block_community, side="left")
    number = np.arange(population.block_community.size) - first_block + 1
    return np.char.add(np.char.add(community.astype(str), "-B"), np.char.zfill(number.astype(str), 3))


def sample_frame(population: SurveyPopulation, sample: SurveySample) -> pd.DataFrame:
    """The sample as an analysis frame: design columns and every answer (question names as columns)."""
    answers = population.answers.iloc[sample.person].reset_index(drop=True).astype(object)
    answers = answers.where(answers.notna(), None)
    block_ids = _block_ids(population)
    community = np.asarray(population.community_ids, dtype=object)[population.block_community[sample.block]]
    design = pd.DataFrame(
        {
            "stratum": sample.stratum,
            "psu": sample.psu,
            "weight": sample.weight,
            "household_weight": sample.household_weight,
            "area_id": community,
            "area": community,
            "cluster": block_ids[sample.block].astype(object),
            "household": (sample.household - population.block_first[sample.block] + 1).astype(str).astype(object),
        }
    )
    return pd.concat([design, answers], axis=1)


def kobo_export(
    frame: pd.DataFrame, instrument: Instrument, rng: np.random.Generator, interviewed: dt.date
) -> pd.DataFrame:
    """The frame as KoboToolbox writes a CSV export: group-path headers, metadata, one-hot select_multiple."""
    n = len(frame)
    out: dict[str, Any] = {
        "start": None,
        "end": None,
    }
    for q in instrument.questions:
        if q.kind == "note":
            continue
        header = "/".join((*q.path, q.name))
        values = frame[q.name] if q.name in frame else pd.Series(None, index=frame.index, dtype=object)
        out[header] = values.to_numpy(object)
        if q.kind == "select_multiple":
            chosen = " " + values.fillna("").astype(str) + " "
            for code in instrument.codes(q.name):
                flag = chosen.str.contains(f" {code} ", regex=False).astype(int).astype(str)
                out[f"{header}/{code}"] = np.where(values.notna(), flag, "").astype(object)
    seconds = rng.integers(8 * 3600, 20 * 3600, n)
    days = rng.integers(0, 28, n)
    begun = pd.Timestamp(interviewed) + pd.to_timedelta(days, unit="D") + pd.to_timedelta(seconds, unit="s")
    ended = begun + pd.to_timedelta(rng.integers(15 * 60, 45 * 60, n), unit="s")
    out["start"] = begun.strftime("%Y-%m-%dT%H:%M:%S.000-06:00")
    out["end"] = ended.strftime("%Y-%m-%dT%H:%M:%S.000-06:00")
    ids = [str(uuid.UUID(bytes=b.tobytes())) for b in rng.integers(0, 256, (n, 16), dtype=np.uint8)]
    out["_id"] = np.arange(1, n + 1) + 40_000_000
    out["_uuid"] = ids
    out["_submission_time"] = (ended + pd.to_timedelta(6, unit="h")).strftime("%Y-%m-%dT%H:%M:%S")
    out["_validation_status"] = ""
    out["_status"] = "submitted_via_web"
    out["__version__"] = "vSafercities2026"
    out["_index"] = np.arange(1, n + 1)
    # columns the analyst adds after fieldwork
    out["stratum"] = frame["stratum"].to_numpy(object)
    out["psu"] = frame["psu"].to_numpy(object)
    out["weight"] = np.round(frame["weight"].to_numpy(np.float64), 6)
    out["hh_weight"] = np.round(frame["household_weight"].to_numpy(np.float64), 6)
    return pd.DataFrame(out)


DESIGN_TOML = """\
# The design of the synthetic city's victimisation survey (safercities.sim.survey)
[survey]
id = "{survey_id}"
period_start = "{start}"
period_end = "{end}"

[design]
weight = "weight"
household_weight = "hh_weight"
strata = "stratum"
psu = "psu"
lonely_psu = "fail"
"""


def _share(value: FloatArray, weight: FloatArray, group: IntArray, n: int) -> FloatArray:
    """Per group, the mean of ``value`` over units where it is defined (NaN excluded)."""
    ok = np.isfinite(value)
    num = np.bincount(group[ok], weights=value[ok] * weight[ok], minlength=n)
    den = np.bincount(group[ok], weights=weight[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(num / den, dtype=np.float64)


def population_truth(population: SurveyPopulation) -> dict[str, Any]:
    """The finite-population values the survey estimates: SDG indicators by domain, crimes by area, the dark figure.

    Computed from the latent arrays (counts and flags), independently of the estimation code.
    """
    instrument = load_instrument()
    a = population.answers
    n_p = population.n_adults
    female = (a["sex"] == "female").to_numpy()
    age = a["age"].astype(int).to_numpy()
    wg = np.column_stack([a[d].isin(("a_lot", "cannot")).to_numpy() for d in WG_DOMAINS]).any(axis=1)
    community = population.person_community()
    district = np.asarray(population.district_of[community], dtype=np.int64)
    age_group = np.asarray(np.digitize(age, [30, 45, 60]), dtype=np.int64)
    ones = np.ones(n_p)
    victim = {k: (v > 0) for k, v in population.incidents.items()}
    physical = victim["assault"]
    psychological = victim["threats"]
    sexual = victim["sexual_violence"]
    violent = victim["assault"] | victim["robbery"] | victim["sexual_violence"]
    reported = (
        (victim["assault"] & population.reported_last["assault"])
        | (victim["robbery"] & population.reported_last["robbery"])
        | (victim["sexual_violence"] & population.reported_last["sexual_violence"])
    )
    safety = a["safe_after_dark"].to_numpy(object)
    feels_safe = np.where(safety == "dont_know", np.nan, np.isin(safety, ("very_safe", "fairly_safe")).astype(float))
    contact = (a["official_contact_12m"] == "yes").to_numpy()
    bribe = ((a["bribe_asked_12m"] == "yes") | (a["bribe_paid_12m"] == "yes")).to_numpy()
    harassment = ((a["harass_physical_12m"] == "yes") | (a["harass_sexual_12m"] == "yes")).to_numpy()
    indicators_spec = {
        "16.1.3_physical": physical.astype(float),
        "16.1.3_psychological": psychological.astype(float),
        "16.1.3_sexual": sexual.astype(float),
        "16.1.3_any": (physical | psychological | sexual).astype(float),
        "16.1.4": feels_safe,
        "16.3.1": np.where(violent, reported.astype(float), np.nan),
        "16.5.1": np.where(contact, bribe.astype(float), np.nan),
        "11.7.2": harassment.astype(float),
    }
    domains: dict[str, tuple[IntArray, list[str]]] = {
        "all": (np.zeros(n_p, np.int64), ["all"]),
        "sex": (female.astype(np.int64), ["male", "female"]),
        "age_group": (age_group.astype(np.int64), ["15-29", "30-44", "45-59", "60+"]),
        "disability": (np.asarray(wg, dtype=np.int64), ["without disability", "with disability"]),
        "district": (district, list(population.district_ids)),
    }
    indicators = []
    for name, value in indicators_spec.items():
        for variable, (code, labels) in domains.items():
            shares = _share(value, ones, code, len(labels))
            indicators += [
                {"indicator": name, "by": variable, "domain": label, "value": float(s)}
                for label, s in zip(labels, shares, strict=True)
            ]
    # crimes by community: prevalence (share of adults or households) and incidents
    n_c = len(population.community_ids)
    hh_community = population.block_community[population.hh_block]
    crimes = []
    for crime in instrument.crimes:
        count = population.incidents[crime.key]
        where = hh_community if crime.unit == "household" else community
        units = np.bincount(where, minlength=n_c).astype(float)
        victims = np.bincount(where, weights=(count > 0).astype(float), minlength=n_c)
        total = np.bincount(where, weights=count.astype(float), minlength=n_c)
        crimes += [
            {
                "crime": crime.key,
                "unit": crime.unit,
                "iccs": crime.iccs,
                "area_id": population.community_ids[i],
                "district_id": population.district_ids[population.district_of[i]],
                "units": int(units[i]),
                "victims": int(victims[i]),
                "incidents": int(total[i]),
            }
            for i in range(n_c)
        ]
    return {
        "generator": "safercities.sim.survey",
        "period_start": population.period_start.isoformat(),
        "period_end": population.period_end.isoformat(),
        "adults": n_p,
        "households": int(population.hh_adults.size),
        "indicators": indicators,
        "crimes": crimes,
        "police_recorded": population.police.to_dict(orient="records"),
        "police_to_survey": POLICE_TO_SURVEY,
        "notes": [
            "Values are finite-population values over the city's adults (or households, for household crimes) in "
            "the reference year; 16.1.4 excludes adults who would answer 'does not know'.",
            "A survey incident is a true crime of the city given to a resident of the community where it happened; "
            "it was reported if the police recorded it. Personal theft is not in the police file.",
        ],
    }


@dataclass(frozen=True)
class SimulatedSurvey:
    """Where the survey files were written, the sample and the truth."""

    export: Path
    design: Path
    truth_path: Path
    truth: dict[str, Any]
    respondents: int


def simulate_survey(
    city: SimulatedCity, seed: int = 0, plan: SurveyPlan | None = None, outdir: Path | None = None
) -> SimulatedSurvey:
    """Draw the population and one sample from ``seed``; write the export, the design file and the truth.

    The files are ``survey.csv``, ``survey_design.toml`` and ``survey_truth.json`` in ``outdir`` (default: the
    city's folder).
    """
    outdir = Path(outdir or city.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    population = survey_population(city, seed)
    rng = np.random.default_rng([int(seed), 7_312])
    sample = draw_sample(population, rng, plan)
    frame = sample_frame(population, sample)
    instrument = load_instrument()
    interviewed = population.period_end + dt.timedelta(days=2)
    export = kobo_export(frame, instrument, rng, interviewed)
    paths = {key: outdir / name for key, name in FILES.items()}
    export.to_csv(paths["export"], sep=";", index=False, encoding="utf-8", lineterminator="\n")
    survey_id = f"victimisation-{population.period_end.year}"
    paths["design"].write_text(
        DESIGN_TOML.format(
            survey_id=survey_id, start=population.period_start.isoformat(), end=population.period_end.isoformat()
        ),
        encoding="utf-8",
    )
    truth = population_truth(population) | {
        "seed": int(seed),
        "survey_id": survey_id,
        "plan": {
            "psus_per_stratum": (plan or SurveyPlan()).psus_per_stratum,
            "households_per_psu": (plan or SurveyPlan()).households_per_psu,
            "block_households": (plan or SurveyPlan()).block_households,
            "strata": "districts",
            "psu": "blocks, PPS (households) with replacement",
        },
        "respondents": int(len(frame)),
    }
    paths["truth"].write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return SimulatedSurvey(paths["export"], paths["design"], paths["truth"], truth, int(len(frame)))


__all__ = [
    "CRIME_GROUPS",
    "SimulatedSurvey",
    "SurveyPlan",
    "SurveyPopulation",
    "draw_sample",
    "population_truth",
    "sample_frame",
    "simulate_survey",
    "survey_population",
]
