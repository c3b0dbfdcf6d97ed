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

from safercities.stats.survey import Design, calibrate, estimate, poststratify, rake, replicate_weights

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


# ---------------------------------------------------------------------------------------------
# Calibration, raking and post-stratification: R survey's own saved test outputs on the same data,
# github.com/cran/survey commit 014e4dba41e1a0834234ea502335bb4d5383068f, tests/rakecheck.Rout.save
# and tests/caleg.Rout.save (values transcribed; printed to 5-7 digits).
POP_TYPES = pd.Series({"E": 4421, "H": 755, "M": 1018})
POP_SCHWIDE = pd.Series({"No": 1072, "Yes": 5122})


def test_rake_matches_calibrate_raking(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    raked = rake(dclus1, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, c)
    mean = estimate(raked, c["api00"]).iloc[0]
    close(mean["estimate"], 641.23, 5)
    close(mean["se"], 23.704, 5)
    total = estimate(raked, c["enroll"], kind="total").iloc[0]
    close(total["estimate"], 3_647_280, 7)  # calibrate(calfun="raking"), the exact raking fit
    close(total["se"], 400_603, 6)
    reached = estimate(raked, c[["stype", "sch.wide"]], kind="total").set_index("level")["estimate"]
    assert reached.to_dict() == pytest.approx({**POP_TYPES.to_dict(), **POP_SCHWIDE.to_dict()}, rel=1e-9)


def test_rake_replicate_design(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    raked = rake(replicate_weights(dclus1, "jk1"), {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, c)
    mean = estimate(raked, c["api00"]).iloc[0]
    close(mean["estimate"], 641.23, 5)
    close(mean["se"], 26.874, 5)
    total = estimate(raked, c["enroll"], kind="total").iloc[0]
    close(total["estimate"], 3_647_280, 7)
    close(total["se"], 463_582, 6)


def test_rake_partial_joint_distribution(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c, pop = api["apiclus1"], api["apipop"]
    joint = c["stype"] + ":" + c["sch.wide"]
    pop_joint = (pop["stype"] + ":" + pop["sch.wide"]).value_counts()
    raked = rake(dclus1, {"joint": pop_joint, "comp.imp": pd.Series({"No": 1712, "Yes": 4482})}, c.assign(joint=joint))
    mean = estimate(raked, c["api00"]).iloc[0]
    close(mean["estimate"], 642.61, 5)  # calibrate(~stype*sch.wide+comp.imp, calfun="raking")
    close(mean["se"], 22.731, 5)


def test_poststratify_equals_linear_calibration_on_the_strata(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c = api["apiclus1"]
    post = poststratify(dclus1, c["stype"], POP_TYPES)
    indicators = pd.get_dummies(c["stype"]).astype(float)
    linear = calibrate(dclus1, indicators, POP_TYPES)
    np.testing.assert_allclose(post.weights, linear.weights, rtol=1e-12)
    a, b = estimate(post, c["api00"]).iloc[0], estimate(linear, c["api00"]).iloc[0]
    assert a["se"] == pytest.approx(b["se"], rel=1e-10)
    assert estimate(post, c["stype"], kind="total")["se"].max() < 1e-6


def test_linear_calibration_g_range_and_bounds(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    c, pop = api["apiclus1"], api["apipop"]
    x = pd.DataFrame({"(Intercept)": 1.0, "enroll": c["enroll"].astype(float)})
    totals = [len(pop), pop["enroll"].sum()]
    g = calibrate(dclus1, x, totals).weights / dclus1.weights
    close(g.min(), 0.7906782, 7)
    close(g.max(), 1.7891164, 8)
    bounded = calibrate(dclus1, x, totals, bounds=(0.6, 1.5)).weights / dclus1.weights
    close(bounded.min(), 0.7198751, 7)
    assert bounded.max() == pytest.approx(1.5, abs=1e-12)
    cal = calibrate(dclus1, x, totals)
    enroll = estimate(cal, c["enroll"], kind="total").iloc[0]
    close(enroll["estimate"], 3_811_472, 7)
    assert enroll["se"] < 1e-6  # a calibration variable is known without error


def test_ratio_calibration_is_the_ratio_estimator(api: dict[str, pd.DataFrame], dstrat: Design) -> None:
    s, pop = api["apistrat"], api["apipop"]
    total = estimate(dstrat, s["api.stu"], kind="total").iloc[0]
    close(total["estimate"], 3_086_009, 7)
    close(total["se"], 99_477, 5)
    calibrated = calibrate(dstrat, s[["enroll"]], [pop["enroll"].sum()], variance=s["enroll"])
    ratio = estimate(calibrated, s["api.stu"], kind="total").iloc[0]
    close(ratio["estimate"], 3_190_038, 7)
    close(ratio["se"], 29_566, 5)


# ---------------------------------------------------------------------------------------------
# samplics run side by side (same estimators, to 1e-9 relative)
def _samplics_frame(est: object, domains: bool) -> pd.DataFrame:
    point = est.point_est  # type: ignore[attr-defined]
    se = est.stderror  # type: ignore[attr-defined]
    if domains:
        return pd.DataFrame({"estimate": pd.Series(point), "se": pd.Series(se)}).sort_index()
    return pd.DataFrame({"estimate": [point], "se": [se]})


@pytest.mark.parametrize("kind", ["mean", "total", "ratio"])
def test_taylor_against_samplics(api: dict[str, pd.DataFrame], kind: str) -> None:
    from samplics import TaylorEstimator
    from samplics.utils.types import PopParam

    s = api["apistrat"]
    design = Design(s["pw"], strata=s["stype"], fpc=s["fpc"])
    fpc = (1 - s.groupby("stype").size() / s.groupby("stype")["fpc"].first()).to_dict()
    x = s["enroll"].to_numpy(float) if kind == "ratio" else None
    for domain in (None, s["awards"].to_numpy()):
        peer = TaylorEstimator(PopParam(kind.capitalize()))
        peer.estimate(
            y=s["api.stu"].to_numpy(float),
            samp_weight=s["pw"].to_numpy(),
            x=x,
            stratum=s["stype"].to_numpy(),
            fpc=fpc,
            domain=domain,
        )
        theirs = _samplics_frame(peer, domain is not None)
        ours = estimate(
            design, s["api.stu"], kind=kind, denominator=s["enroll"] if x is not None else None, domain=domain
        )
        np.testing.assert_allclose(ours["estimate"], theirs["estimate"], rtol=1e-9)
        np.testing.assert_allclose(ours["se"], theirs["se"], rtol=1e-9)
        lower = pd.Series(peer.lower_ci) if domain is not None else [peer.lower_ci]
        np.testing.assert_allclose(ours["lower"], lower, rtol=1e-9)  # t with PSUs - strata df
        assert ours["df"].iloc[0] == peer.degree_of_freedom


def test_cluster_proportions_against_samplics(api: dict[str, pd.DataFrame], dclus1: Design) -> None:
    from samplics import TaylorEstimator
    from samplics.utils.types import PopParam

    c = api["apiclus1"]
    peer = TaylorEstimator(PopParam.prop)
    peer.estimate(
        y=c["sch.wide"].to_numpy(),
        samp_weight=c["pw"].to_numpy(),
        psu=c["dnum"].to_numpy(),
        fpc=1 - 15 / 757,
        domain=c["stype"].to_numpy(),
    )
    ours = estimate(dclus1, c["sch.wide"], kind="proportion", domain=c["stype"]).set_index(["domain", "level"])
    for d, levels in peer.point_est.items():
        for level, value in levels.items():
            row = ours.loc[(d, level)]
            assert row["estimate"] == pytest.approx(value, rel=1e-9)
            assert row["se"] == pytest.approx(peer.stderror[d][level], rel=1e-9)
            assert row["lower"] == pytest.approx(peer.lower_ci[d][level], rel=1e-9)  # logit interval, t(14)
            assert row["upper"] == pytest.approx(peer.upper_ci[d][level], rel=1e-9)


@pytest.mark.parametrize("method", ["jk1", "bootstrap"])
def test_replicates_against_samplics(api: dict[str, pd.DataFrame], dclus1: Design, method: str) -> None:
    from samplics import ReplicateEstimator
    from samplics.utils.types import PopParam, RepMethod

    c = api["apiclus1"]
    design = replicate_weights(dclus1, method, replicates=50, seed=3)
    assert design.replicates is not None
    coefs = design.replicates.scale * design.replicates.rscales
    rep_method = RepMethod.jackknife if method == "jk1" else RepMethod.bootstrap
    for domain in (None, c["stype"].to_numpy()):
        peer = ReplicateEstimator(rep_method, PopParam.mean)
        peer.estimate(
            y=c["api00"].to_numpy(float),
            samp_weight=c["pw"].to_numpy(),
            rep_weights=design.replicate_matrix(),
            rep_coefs=coefs,
            domain=domain,
        )
        theirs = _samplics_frame(peer, domain is not None)
        ours = estimate(design, c["api00"], domain=domain)
        np.testing.assert_allclose(ours["estimate"], theirs["estimate"], rtol=1e-9)
        np.testing.assert_allclose(ours["se"], theirs["se"], rtol=1e-9)
