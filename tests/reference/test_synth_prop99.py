"""Synthetic control against the published California Proposition 99 results.

Data: ``synth_prop99/MLAB_data_ADH2010_original.txt``, the authors' MATLAB matrix (predictors in rows 2-8, cigarette
sales 1970-2000 in rows 9-39, California last). References (see SOURCE.md there):

* Abadie, Diamond & Hainmueller (2010), JASA 105(490), Table 2: Colorado 0.164, Connecticut 0.069, Montana 0.199,
  Nevada 0.234, Utah 0.334, every other donor 0;
* Stata ``synth2`` (nested, allopt): pre-period RMSPE 1.7557, ATT 1989-2000 -19.00; weights Utah 0.334, Nevada 0.235,
  Montana 0.202, Colorado 0.161, Connecticut 0.068;
* tidysynth 0.2.0: California ranks first of 39 by post/pre MSPE ratio, Fisher exact p = 1/39 = 0.0256;
* ADH 2010 abstract: by 2000 sales were about 26 packs lower than synthetic California.

Tolerances: 0.01 on each weight (the published weights differ by up to 0.007 between the paper and synth2; the
optimum is flat in V), 0.01 on the RMSPE, 0.1 on the mean gap, 1 pack on the 2000 gap.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.stats.evaluation import synth

STATES = {
    1: "Alabama", 2: "Arkansas", 3: "California", 4: "Colorado", 5: "Connecticut", 6: "Delaware", 7: "Georgia",
    8: "Idaho", 9: "Illinois", 10: "Indiana", 11: "Iowa", 12: "Kansas", 13: "Kentucky", 14: "Louisiana", 15: "Maine",
    16: "Minnesota", 17: "Mississippi", 18: "Missouri", 19: "Montana", 20: "Nebraska", 21: "Nevada",
    22: "New Hampshire", 23: "New Mexico", 24: "North Carolina", 25: "North Dakota", 26: "Ohio", 27: "Oklahoma",
    28: "Pennsylvania", 29: "Rhode Island", 30: "South Carolina", 31: "South Dakota", 32: "Tennessee", 33: "Texas",
    34: "Utah", 35: "Vermont", 36: "Virginia", 37: "West Virginia", 38: "Wisconsin", 39: "Wyoming",
}  # fmt: skip
PREDICTORS = ["ln_income", "retail_price", "age15to24", "beer", "cigsale_1988", "cigsale_1980", "cigsale_1975"]
TABLE2 = {"Colorado": 0.164, "Connecticut": 0.069, "Montana": 0.199, "Nevada": 0.234, "Utah": 0.334}
SYNTH2 = {"Utah": 0.334, "Nevada": 0.235, "Montana": 0.202, "Colorado": 0.161, "Connecticut": 0.068}


@pytest.fixture(scope="module")
def prop99(shared_data: Path):  # type: ignore[no-untyped-def]
    matrix = np.loadtxt(shared_data / "synth_prop99" / "MLAB_data_ADH2010_original.txt")
    states = [STATES[int(code)] for code in matrix[0]]
    predictors = pd.DataFrame(matrix[1:8], index=PREDICTORS, columns=states)
    outcome = pd.DataFrame(matrix[8:], index=range(1970, 2001), columns=states)
    return synth(outcome, "California", 1989, predictors=predictors, placebo=True)


def test_donor_weights_are_the_published_ones(prop99) -> None:  # type: ignore[no-untyped-def]
    weights = prop99.weights
    for state, published in TABLE2.items():
        assert weights[state] == pytest.approx(published, abs=0.01), state
        assert weights[state] == pytest.approx(SYNTH2[state], abs=0.01), state
    others = weights.drop(list(TABLE2))
    assert others.max() < 0.005 and len(weights) == 38


def test_pre_period_rmspe_and_gaps(prop99) -> None:  # type: ignore[no-untyped-def]
    assert prop99.pre_rmspe == pytest.approx(1.7557, abs=0.01)
    assert prop99.gap == pytest.approx(-19.00, abs=0.1)
    gap_2000 = float(prop99.path.set_index("period").loc[2000, "gap"])
    assert gap_2000 == pytest.approx(-26.0, abs=1.0)


def test_predictor_balance_is_table_1(prop99) -> None:  # type: ignore[no-untyped-def]
    synthetic = prop99.predictors["synthetic"]
    published = {"retail_price": 89.41, "beer": 24.20, "cigsale_1988": 91.62, "cigsale_1980": 120.43,
                 "cigsale_1975": 126.99, "ln_income": 9.86}  # fmt: skip
    for name, value in published.items():
        assert synthetic[name] == pytest.approx(value, rel=0.01), name


def test_placebo_in_space_rank_is_first_of_39(prop99) -> None:  # type: ignore[no-untyped-def]
    assert len(prop99.placebos) == 39
    assert prop99.p_value == pytest.approx(1 / 39)
    ranked = prop99.placebos.sort_values("ratio", ascending=False)
    assert ranked.iloc[0]["unit"] == "California"
    assert prop99.gap_upper < 0  # the placebo-calibrated interval excludes no effect
