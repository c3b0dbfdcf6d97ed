"""R ``survey`` on its California API samples (../shared/data/survey_api): our estimates reproduce R's.

The published values (tests/testoutput/api.Rout.saved and Lumley's vignette, transcribed in
SOURCE.md) are printed to 5-7 significant digits: each is checked to half a unit of its last printed
digit. The same estimators run side by side with samplics (TaylorEstimator, ReplicateEstimator) are
checked to 1e-9 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.stats.survey import Design, estimate, replicate_weights

pytestmark = pytest.mark.filterwarnings("ignore:samplics is archived:FutureWarning")


def printed(value: float, digits: int) -> float:
    """Half a unit of the last printed digit of ``value`` given with ``digits`` significant digits."""
    return 0.5 * 10.0 ** (np.floor(np.log10(abs(value))) - digits + 1)


def close(got: float, value: float, digits: int) -> None:
    assert abs(got - value) <= printed(value, digits) * (1 + 1e-12), f"{got} vs published {value}"


@pytest.fixture(scope="module")
def api(shared_data: Path) -> dict[str, pd.DataFrame]:
    folder = shared_data / "survey_api"
    return {name: pd.read_csv(folder / f"{name}.csv") for name in ("apistrat", "apiclus1", "apisrs", "apipop")}


@pytest.fixture(scope="module")
def dstrat(api: dict[str, pd.DataFrame]) -> Design:
    s = api["apistrat"]
    return Design(s["pw"], strata=s["stype"], fpc=s["fpc"])


@pytest.fixture(scope="module")
def dclus1(api: dict[str, pd.DataFrame]) -> Design:
    c = api["apiclus1"]
    return Design(c["pw"], psu=c["dnum"], fpc=c["fpc"])


def test_population_values(api: dict[str, pd.DataFrame]) -> None:
    pop = api["apipop"]
    close(pop["api00"].mean(), 664.7126, 7)
    close(pop["enroll"].sum(), 3_811_472, 7)


def test_stratified_mean_and_total(api: dict[str, pd.DataFrame], dstrat: Design) -> None:
    s = api["apistrat"]
    mean = estimate(dstrat, s["api00"]).iloc[0]
    close(mean["estimate"], 662.29, 5)
    close(mean["se"], 9.4089, 5)
    assert mean["df"] == 200 - 3
    total = estimate(dstrat, s["enroll"], kind="total").iloc[0]
    close(total["estimate"], 3_687_178, 7)
    close(total["se"], 114_642, 6)


def test_cluster_mean_total_and_factor_totals(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    mean = estimate(dclus1, c["api00"]).iloc[0]
    close(mean["estimate"], 644.17, 5)
    close(mean["se"], 23.542, 5)
    assert mean["df"] == 15 - 1
    total = estimate(dclus1, c["enroll"], kind="total").iloc[0]
    close(total["estimate"], 3_404_940, 7)
    close(total["se"], 932_235, 6)
    stype = estimate(dclus1, c["stype"], kind="total").set_index("level")
    for level, value, se in [("E", 4873.97, 1333.32), ("H", 473.86, 158.70), ("M", 846.17, 167.55)]:
        close(stype.loc[level, "estimate"], value, 6 if value > 1000 else 5)
        close(stype.loc[level, "se"], se, 6 if se > 1000 else 5)


def test_cluster_ratio_whole_and_in_a_domain(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    whole = estimate(dclus1, c["api.stu"], kind="ratio", denominator=c["enroll"]).iloc[0]
    close(whole["estimate"], 0.8497087, 7)
    close(whole["se"], 0.008386297, 7)
    by = estimate(dclus1, c["api.stu"], kind="ratio", denominator=c["enroll"], domain=c["stype"]).set_index("domain")
    close(by.loc["H", "estimate"], 0.8300683, 7)
    close(by.loc["H", "se"], 0.01472607, 7)


def test_svyby_domain_means(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    by = estimate(dclus1, c[["ell", "meals"]], domain=c["stype"]).set_index(["domain", "variable"])
    published = {
        "ell": [(29.69444, 1.411617), (15.00000, 5.347065), (22.68000, 2.952862)],
        "meals": [(53.09028, 7.070399), (37.57143, 5.912262), (43.08000, 6.017110)],
    }
    for variable, rows in published.items():
        for level, (value, se) in zip("EHM", rows, strict=True):
            close(by.loc[(level, variable), "estimate"], value, 7)
            close(by.loc[(level, variable), "se"], se, 7)
            assert by.loc[(level, variable), "n"] == int((c["stype"] == level).sum())


def test_jk1_replicates_as_svrepdesign(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    rclus1 = replicate_weights(dclus1, "jk1")
    assert rclus1.replicates is not None and rclus1.replicates.count == 15
    mean = estimate(rclus1, c["api00"]).iloc[0]
    close(mean["estimate"], 644.17, 5)
    close(mean["se"], 26.329, 5)
    assert mean["df"] == 14
    mse = estimate(replicate_weights(dclus1, "jk1", mse=True), c["api00"]).iloc[0]
    close(mse["se"], 26.335, 5)
