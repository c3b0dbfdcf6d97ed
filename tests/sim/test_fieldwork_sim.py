"""The synthetic city's fieldwork, on the session's city of tests/sim/conftest.py: reproducible, untouched
crimes, and what residents and walkers say follows the ground truth (walk lighting ratings track the census
lighting; focus groups raise a problem more often where its true rate is higher, by a Poisson GLM in
statsmodels)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from safercities.errors import InputError
from safercities.sim import SimulatedCity
from safercities.sim.fieldwork import OFFENCE_PROBLEM, _problem_rates, simulate_fieldwork


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def test_the_same_seed_gives_the_same_files_and_the_crimes_are_untouched(city: SimulatedCity, tmp_path: Path):
    before = city.truth_path.read_bytes(), city.incidents.read_bytes()
    one = simulate_fieldwork(city, seed=0, outdir=tmp_path / "a")
    two = simulate_fieldwork(city, seed=0, outdir=tmp_path / "b")
    simulate_fieldwork(city, seed=1, outdir=tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") and one == two
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert (city.truth_path.read_bytes(), city.incidents.read_bytes()) == before
    planted = [v["area_id"] for v in one["planted"].values()]
    assert len(set(planted)) == 3 and set(planted) <= set(one["communities"])
    assert len(one["communities"]) == 12


def test_the_planted_communities_are_what_their_names_say(city: SimulatedCity, tmp_path: Path) -> None:
    truth = simulate_fieldwork(city, seed=0, outdir=tmp_path)
    census = pd.read_csv(city.census, dtype={"area_id": str}).set_index("area_id")
    counts = city.counts()
    population = census["population"]
    robbery = counts[counts["offence"].isin(["street_robbery", "business_robbery"])].groupby("area_id")["true"].sum()
    total = counts.groupby("area_id")["true"].sum() / population
    dark = truth["planted"]["robbery_lighting"]["area_id"]
    assert census.loc[dark, "street_lighting"] <= census["street_lighting"].quantile(0.25)
    assert (robbery / population)[dark] >= (robbery / population).quantile(0.9)
    assert total[truth["planted"]["fear_vs_crime"]["area_id"]] == total[population >= 1500].min()
    bright = truth["planted"]["lighting_walks_vs_indicator"]["area_id"]
    assert census.loc[bright, "street_lighting"] >= census["street_lighting"].quantile(0.9)


def test_walk_lighting_ratings_follow_the_census_lighting(city: SimulatedCity, tmp_path: Path) -> None:
    truth = simulate_fieldwork(city, seed=0, outdir=tmp_path)
    walks = pd.read_csv(tmp_path / "walks.csv")
    walks = walks[walks["id"].str.startswith("W0")]
    walks["area_id"] = walks["recorrido"].str.split("-").str[0]
    planted = [v["area_id"] for v in truth["planted"].values()]
    lighting = walks[walks["categoria"] == "Iluminación"].groupby("area_id")["calificacion"].mean().drop(planted)
    census = pd.read_csv(city.census, dtype={"area_id": str}).set_index("area_id")
    rho = stats.spearmanr(lighting, census.loc[lighting.index, "street_lighting"]).statistic
    assert rho > 0.8
    assert set(walks["calificacion"]) <= {1, 2, 3, 4, 5}


def test_focus_groups_raise_a_problem_more_where_its_true_rate_is_higher(city: SimulatedCity, tmp_path: Path):
    truth = simulate_fieldwork(city, seed=0, n_communities=30, outdir=tmp_path)
    census = pd.read_csv(city.census, dtype={"area_id": str})
    relative, _ = _problem_rates(city, census)
    segments = pd.read_csv(tmp_path / "fieldwork.csv")
    segments = segments[segments["id_cita"].str.startswith("Q0")]
    segments = segments[~segments["colonia"].isin([v["area_id"] for v in truth["planted"].values()])]
    codes = segments.assign(code=segments["codigos"].str.split("; ")).explode("code")
    problems = sorted(set(OFFENCE_PROBLEM.values()))
    counts = codes[codes["code"].isin(problems)].groupby(["colonia", "code"]).size()
    counts = counts.unstack(fill_value=0).reindex(columns=problems, fill_value=0).stack().rename("n").reset_index()
    counts["relative"] = relative.stack().reindex(pd.MultiIndex.from_frame(counts[["colonia", "code"]])).to_numpy()
    counts = counts[counts["relative"] > 0]
    design = pd.get_dummies(counts["code"], dtype=float).assign(log_relative=np.log(counts["relative"].clip(0.05, 20)))
    exposure = np.log(segments.groupby("colonia").size().reindex(counts["colonia"]).to_numpy())
    fit = sm.GLM(counts["n"], design, family=sm.families.Poisson(), offset=exposure).fit()
    low, high = fit.conf_int().loc["log_relative"]
    assert low > 0 and high < 2  # mentions rise with the true rate (proportionally, up to the codes' competition)


def test_a_bad_number_of_communities_is_refused(city: SimulatedCity, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="n_communities"):
        simulate_fieldwork(city, n_communities=2, outdir=tmp_path)
