"""Design-based estimation: properties, exact identities between methods, errors and coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safercities.errors import InputError
from safercities.stats.survey import Design, calibrate, estimate, poststratify, rake, replicate_weights
from safercities.stats.survey.cells import make_cells
from safercities.stats.survey.replicate import replicate_totals
from safercities.stats.survey.variables import domain_codes


def sample(seed: int, n: int = 400, strata: int = 4, psus: int = 5) -> pd.DataFrame:
    """A stratified cluster sample with an answer, a yes/no item, a category and a domain."""
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, strata * psus, n)
    return pd.DataFrame(
        {
            "stratum": psu // psus,
            "psu": psu,
            "w": rng.uniform(5, 50, n),
            "y": rng.normal(50, 10, n) + (psu % 3) * 4,
            "x": rng.uniform(1, 3, n),
            "victim": (rng.random(n) < 0.2).astype(float),
            "kind": rng.choice(["a", "b", "c"], n),
            "sex": rng.choice(["f", "m"], n),
        }
    )


def design_of(frame: pd.DataFrame, **kwargs: object) -> Design:
    return Design(frame["w"], strata=frame["stratum"], psu=frame["psu"], **kwargs)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["mean", "total", "ratio", "proportion"]))
def test_row_order_does_not_matter(seed: int, kind: str) -> None:
    frame = sample(seed, n=120)
    shuffled = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    y = "victim" if kind == "proportion" else "y"

    def run(f: pd.DataFrame, method: str) -> pd.DataFrame:
        d = design_of(f)
        if method == "replicate":
            d = replicate_weights(d, "jkn")
        x = f["x"] if kind == "ratio" else None
        return estimate(d, f[y], kind=kind, denominator=x, domain=f["sex"], method=method)

    for method in ("taylor", "replicate"):
        a, b = run(frame, method), run(shuffled, method)
        cols = ["estimate", "se", "lower", "upper", "deff", "n", "weighted_n"]
        np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 1000))
def test_scaling_weights_keeps_means_and_scales_totals(seed: int, scale: float) -> None:
    frame = sample(seed, n=100)
    base = design_of(frame)
    scaled = Design(frame["w"] * scale, strata=frame["stratum"], psu=frame["psu"])
    a, b = estimate(base, frame["y"], domain=frame["kind"]), estimate(scaled, frame["y"], domain=frame["kind"])
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-9)
    ta = estimate(base, frame["y"], kind="total")
    tb = estimate(scaled, frame["y"], kind="total")
    np.testing.assert_allclose(tb[["estimate", "se"]], ta[["estimate", "se"]] * scale, rtol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_domain_is_not_a_subset(seed: int) -> None:
    """Same point estimate as the subset design, different SE (PSUs without members still count)."""
    frame = sample(seed, n=60, strata=3, psus=6)
    frame["domain"] = np.where(frame["psu"] % 4 == 0, "out", frame["sex"])  # some PSUs have no "f" at all
    full = estimate(design_of(frame), frame["y"], domain=frame["domain"]).set_index("domain")
    part = frame[frame["domain"] == "f"]
    if part["stratum"].nunique() < 3 or part.groupby("stratum")["psu"].nunique().min() < 2:
        return
    subset = estimate(design_of(part), part["y"]).iloc[0]
    assert full.loc["f", "estimate"] == pytest.approx(subset["estimate"], rel=1e-12)
    assert full.loc["f", "se"] != pytest.approx(subset["se"], rel=1e-6)
    assert full.loc["f", "n"] == len(part)


def test_domains_add_up_to_the_whole() -> None:
    frame = sample(1)
    design = design_of(frame)
    by = estimate(design, frame["y"], kind="total", domain=frame["kind"])
    whole = estimate(design, frame["y"], kind="total").iloc[0]
    assert by["estimate"].sum() == pytest.approx(whole["estimate"], rel=1e-12)
    assert by["weighted_n"].sum() == pytest.approx(frame["w"].sum(), rel=1e-12)


def test_crossed_domains_and_missing_labels() -> None:
    frame = sample(2)
    frame.loc[:9, "kind"] = None
    crossed = estimate(design_of(frame), frame["y"], domain=frame[["sex", "kind"]])
    assert len(crossed) == 6 and crossed["n"].sum() == len(frame) - 10
    one = crossed.set_index("domain").loc[[("f", "a")]].iloc[0]
    mask = (frame["sex"] == "f") & (frame["kind"] == "a")
    assert one["estimate"] == pytest.approx(np.average(frame["y"][mask], weights=frame["w"][mask]))
    codes, labels = domain_codes(frame["kind"], len(frame))
    assert (codes[:10] == -1).all() and labels == ["a", "b", "c"]


def test_missing_answers_drop_out_of_that_variable_only() -> None:
    frame = sample(3)
    frame.loc[::7, "y"] = np.nan
    out = estimate(design_of(frame), frame[["y", "x"]]).set_index("variable")
    answered = frame["y"].notna()
    assert out.loc["y", "n"] == answered.sum() and out.loc["x", "n"] == len(frame)
    assert out.loc["y", "estimate"] == pytest.approx(np.average(frame["y"][answered], weights=frame["w"][answered]))


def test_categorical_proportions_sum_to_one() -> None:
    frame = sample(4)
    out = estimate(design_of(frame), frame["kind"], kind="proportion", domain=frame["sex"])
    assert out.groupby("domain")["estimate"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert set(out["level"]) == {"a", "b", "c"}
    assert (out["lower"] > 0).all() and (out["upper"] < 1).all() and (out["lower"] < out["estimate"]).all()


# -------------------------------------------------------------------------------- exact identities
def test_srs_mean_is_the_textbook_formula_and_deff_is_one() -> None:
    rng = np.random.default_rng(5)
    n, population = 200, 5000
    y = rng.normal(10, 3, n)
    design = Design(np.full(n, population / n), fpc=np.full(n, population))
    out = estimate(design, y).iloc[0]
    assert out["se"] == pytest.approx(np.sqrt((1 - n / population) * y.var(ddof=1) / n), rel=1e-12)
    assert out["deff"] == pytest.approx(1.0, rel=1e-12)
    assert out["df"] == n - 1


def test_jackknife_and_brr_equal_taylor_for_totals() -> None:
    """For a linear estimator the JKn and BRR (and Fay) variances are exactly the Taylor variance."""
    frame = sample(6, strata=6, psus=2)
    design = design_of(frame)
    taylor = estimate(design, frame["y"], kind="total", domain=frame["sex"])
    for method in ("jkn", "brr", "fay"):
        reps = estimate(replicate_weights(design, method), frame["y"], kind="total", domain=frame["sex"])
        np.testing.assert_allclose(reps["se"], taylor["se"], rtol=1e-9)
    with_fpc = design_of(frame, fpc=np.full(len(frame), 10.0))
    np.testing.assert_allclose(
        estimate(replicate_weights(with_fpc, "jkn"), frame["y"], kind="total")["se"],
        estimate(with_fpc, frame["y"], kind="total")["se"],
        rtol=1e-9,
    )


def test_bootstrap_agrees_with_taylor_within_monte_carlo_error() -> None:
    frame = sample(7, n=800, strata=5, psus=12)
    design = design_of(frame)
    taylor = estimate(design, frame["y"]).iloc[0]["se"]
    boot = estimate(replicate_weights(design, "bootstrap", replicates=2000, seed=1), frame["y"]).iloc[0]["se"]
    assert boot == pytest.approx(taylor, rel=0.08)  # sd of a 2000-replicate SE ≈ 1.6 %


def test_replicate_engines_agree() -> None:
    frame = sample(8)
    made = replicate_weights(design_of(frame), "bootstrap", replicates=30, seed=2)
    dense = Design(frame["w"], replicate_weights=made.replicate_matrix(), replicate_method="bootstrap")
    dom, labels = domain_codes(frame["kind"], len(frame))
    cells = make_cells(dense, dom, len(labels))
    columns = np.column_stack([frame["y"], np.ones(len(frame))])
    sums = np.column_stack([cells.sum(dense.weights * c) for c in columns.T])
    a = replicate_totals(dense, cells, dom, columns, sums, engine="numba")
    b = replicate_totals(dense, cells, dom, columns, sums, engine="scipy")
    np.testing.assert_allclose(a, b, rtol=1e-12)
    np.testing.assert_allclose(
        estimate(dense, frame["y"], domain=frame["kind"])["se"], estimate(made, frame["y"], domain=frame["kind"])["se"]
    )


def test_supplied_jkn_replicates_need_their_factors_and_degrees_of_freedom_follow_rank() -> None:
    frame = sample(9, strata=4, psus=3)
    made = replicate_weights(design_of(frame), "jkn")
    assert made.df == 12 - 4  # rank of JKn replicates minus one = PSUs - strata, R's degf
    with pytest.raises(InputError, match="rscales"):
        Design(frame["w"], replicate_weights=made.replicate_matrix(), replicate_method="jkn")
    assert made.replicates is not None
    supplied = Design(
        frame["w"],
        replicate_weights=made.replicate_matrix(),
        replicate_method="jkn",
        replicate_rscales=made.replicates.rscales,
    )
    assert supplied.df == 8
    assert estimate(supplied, frame["y"])["se"].iloc[0] == pytest.approx(estimate(made, frame["y"])["se"].iloc[0])


# ------------------------------------------------------------------------------------ lonely PSUs
def lonely_sample() -> pd.DataFrame:
    frame = sample(10, strata=3, psus=4)
    frame.loc[frame["stratum"] == 2, "psu"] = 8  # stratum 2 keeps a single PSU
    return frame


def test_lonely_psu_fails_with_the_stratum_and_the_remedies() -> None:
    with pytest.raises(InputError) as err:
        design_of(lonely_sample())
    text = str(err.value)
    assert "Stratum 2" in text and "adjust" in text and "certainty" in text and "remove" in text and "collapse" in text


def test_lonely_psu_remedies() -> None:
    frame = lonely_sample()
    certainty = estimate(design_of(frame, lonely_psu="certainty"), frame["y"], kind="total").iloc[0]
    remove = estimate(design_of(frame, lonely_psu="remove"), frame["y"], kind="total").iloc[0]
    adjust = estimate(design_of(frame, lonely_psu="adjust"), frame["y"], kind="total").iloc[0]
    others = frame[frame["stratum"] < 2]
    alone = estimate(design_of(others), others["y"], kind="total").iloc[0]
    assert certainty["se"] == pytest.approx(alone["se"], rel=1e-12) == remove["se"]
    psu_totals = (frame["w"] * frame["y"]).groupby(frame["psu"]).sum()
    grand = psu_totals.sum() / psu_totals.size
    expected = np.sqrt(alone["se"] ** 2 + (psu_totals[8] - grand) ** 2)  # R: centred at the grand mean
    assert adjust["se"] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------------------------ calibration
def test_raking_reaches_every_margin_like_iterative_proportional_fitting() -> None:
    frame = sample(11)
    margins = {"sex": pd.Series({"f": 5200.0, "m": 4800.0}), "kind": pd.Series({"a": 3000.0, "b": 3000.0, "c": 4000.0})}
    raked = rake(design_of(frame), margins, frame)
    w = frame["w"].to_numpy().copy()
    for _ in range(200):  # textbook IPF, margin by margin
        for column, totals in margins.items():
            current = pd.Series(w).groupby(frame[column]).transform("sum").to_numpy()
            w = w * frame[column].map(totals).to_numpy() / current
    np.testing.assert_allclose(raked.weights, w, rtol=1e-8)


def test_calibrated_variable_has_no_variance_and_linear_in_x_neither() -> None:
    frame = sample(12)
    x = pd.DataFrame({"one": 1.0, "x": frame["x"]})
    totals = {"one": 10_000.0, "x": 21_000.0}
    for method, bounds in (("linear", None), ("raking", None), ("logit", (0.2, 5.0))):
        cal = calibrate(design_of(frame), x, totals, method=method, bounds=bounds)
        linear = 3.0 + 2.0 * frame["x"]
        out = estimate(cal, pd.DataFrame({"x": frame["x"], "linear": linear}), kind="total").set_index("variable")
        assert out.loc["x", "estimate"] == pytest.approx(21_000.0, rel=1e-9)
        assert out.loc["linear", "estimate"] == pytest.approx(3 * 10_000 + 2 * 21_000, rel=1e-9)
        assert out["se"].max() < 1e-6 * out["estimate"].max()
        g = cal.weights / frame["w"].to_numpy()
        if bounds is not None:
            assert g.min() >= bounds[0] - 1e-12 and g.max() <= bounds[1] + 1e-12


def test_poststratification_of_an_srs_is_the_textbook_estimator() -> None:
    frame = sample(13, n=300)
    design = Design(np.full(300, 10.0))
    totals = pd.Series({"f": 1600.0, "m": 1400.0})
    post = estimate(poststratify(design, frame["sex"], totals), frame["y"]).iloc[0]
    groups = frame.groupby("sex")["y"]
    expected = (groups.mean() * totals).sum() / totals.sum()
    assert post["estimate"] == pytest.approx(expected, rel=1e-12)
    # linearised variance: residuals from the post-stratum means, with-replacement SRS formula
    resid = frame["y"] - groups.transform("mean")
    g = frame["sex"].map(totals / groups.size() / 10.0)
    scores = 10.0 * g * resid / totals.sum()
    assert post["se"] == pytest.approx(np.sqrt(300 / 299 * ((scores - scores.mean()) ** 2).sum()), rel=1e-10)


def test_calibration_errors() -> None:
    frame = sample(14)
    design = design_of(frame)
    with pytest.raises(InputError, match="bounds"):
        calibrate(design, frame[["x"]], [20_000.0], method="logit")
    with pytest.raises(InputError, match="same population"):
        rake(design, {"sex": pd.Series({"f": 1.0, "m": 1.0}), "kind": pd.Series({"a": 1.0, "b": 1.0, "c": 5.0})}, frame)
    with pytest.raises(InputError, match="no population total") as err:
        rake(design, {"kind": pd.Series({"a": 1.0, "b": 1.0})}, frame)
    assert err.value.column == "kind"
    with pytest.raises(InputError, match="numeric"):
        calibrate(design, frame[["sex"]], [1.0])


# ------------------------------------------------------------------------------------ bad input
def test_bad_designs_and_requests_are_input_errors() -> None:
    frame = sample(15)
    with pytest.raises(InputError, match="respondent 3") as err:
        Design(np.where(np.arange(len(frame)) == 3, np.nan, frame["w"]))
    assert err.value.row == 3 and err.value.column == "weights"
    with pytest.raises(InputError, match="varies within stratum"):
        design_of(frame, fpc=np.arange(len(frame)) + 100.0)
    with pytest.raises(InputError, match="values for"):
        Design(frame["w"], strata=frame["stratum"][:10])
    design = design_of(frame)
    with pytest.raises(InputError, match="denominator"):
        estimate(design, frame["y"], kind="ratio")
    with pytest.raises(InputError, match="kind"):
        estimate(design, frame["y"], kind="median")
    with pytest.raises(InputError, match="no replicate weights"):
        estimate(design, frame["y"], method="replicate")
    with pytest.raises(InputError, match="two PSUs per stratum"):
        replicate_weights(design, "brr")
    with pytest.raises(InputError, match="unstratified"):
        replicate_weights(design, "jk1")


def test_intervals_for_proportions() -> None:
    frame = sample(16)
    design = design_of(frame)
    wald = estimate(design, frame["victim"], kind="proportion", interval="wald").iloc[0]
    logit = estimate(design, frame["victim"], kind="proportion").iloc[0]
    beta = estimate(design, frame["victim"], kind="proportion", interval="beta").iloc[0]
    assert wald["se"] == logit["se"] == beta["se"]
    for row in (wald, logit, beta):
        assert row["lower"] < row["estimate"] < row["upper"]
    assert logit["upper"] - logit["estimate"] > logit["estimate"] - logit["lower"]  # skewed away from 0
    none = estimate(design, np.zeros(len(frame)), kind="proportion", interval="beta").iloc[0]
    assert none["estimate"] == 0 and none["lower"] == 0 and 0 < none["upper"] < 0.05
    normal = estimate(design, frame["y"], df=np.inf).iloc[0]
    assert normal["upper"] - normal["estimate"] == pytest.approx(1.959963984540054 * normal["se"])
    with pytest.raises(InputError, match="for proportions"):
        estimate(design, frame["y"], interval="logit")


# ------------------------------------------------------------------------------------------ coverage
def test_intervals_cover_the_population_value_about_95_percent() -> None:
    """200 stratified two-stage samples from one finite population: the 95% t intervals of a domain
    mean (Taylor) and of a proportion (logit) cover the population value 90-98.5% of the time."""
    rng = np.random.default_rng(2026)
    strata, clusters, size = 6, 60, 40
    cluster = np.repeat(np.arange(strata * clusters), size)
    stratum = cluster // clusters
    sex = rng.integers(0, 2, cluster.size)
    y = 20 + 3 * stratum + rng.normal(0, 4, strata * clusters)[cluster] + rng.normal(0, 6, cluster.size) + 2 * sex
    victim = (rng.random(cluster.size) < 0.1 + 0.03 * stratum).astype(float)
    truth_y, truth_v = y[sex == 1].mean(), victim.mean()
    hits_y = hits_v = 0
    replications = 200
    for _ in range(replications):
        # 8 clusters per stratum (SRS without replacement), then 10 people per sampled cluster
        chosen = (rng.random((strata, clusters)).argsort(axis=1)[:, :8] + np.arange(strata)[:, None] * clusters).ravel()
        people = (rng.random((chosen.size, size)).argsort(axis=1)[:, :10] + chosen[:, None] * size).ravel()
        weights = np.full(people.size, (clusters / 8) * (size / 10))
        design = Design(weights, strata=stratum[people], psu=cluster[people], fpc=np.full(people.size, clusters))
        mean = estimate(design, y[people], domain=sex[people]).set_index("domain").loc[1]
        share = estimate(design, victim[people], kind="proportion").iloc[0]
        hits_y += mean["lower"] <= truth_y <= mean["upper"]
        hits_v += share["lower"] <= truth_v <= share["upper"]
    assert 0.90 <= hits_y / replications <= 0.985
    assert 0.90 <= hits_v / replications <= 0.985


def test_design_effects_as_r_survey() -> None:
    """R survey's tests/deff.Rout.save (cran/survey 014e4dba): 10 firms, SRS and unequal weights, no FPC."""
    uriage = np.array([15, 143, 21, 51, 337, 50, 274, 145, 15, 86], dtype=float)
    pps_w = np.array([20, 200, 11, 25, 550, 30, 250, 100, 10, 55], dtype=float)
    srs = Design(np.full(10, 100.0))
    mean, total = estimate(srs, uriage).iloc[0], estimate(srs, uriage, kind="total").iloc[0]
    assert mean["estimate"] == pytest.approx(113.700) and mean["se"] == pytest.approx(35.626, abs=5e-4)
    assert mean["deff"] == pytest.approx(1.010101, abs=5e-7) and total["deff"] == pytest.approx(1.010101, abs=5e-7)
    pps = Design(pps_w)
    mean, total = estimate(pps, uriage).iloc[0], estimate(pps, uriage, kind="total").iloc[0]
    assert mean["estimate"] == pytest.approx(243.914, abs=5e-4) and mean["se"] == pytest.approx(48.752, abs=5e-4)
    assert total["estimate"] == pytest.approx(305_136, abs=0.5) and total["se"] == pytest.approx(184_965, abs=0.5)
    # R's deff="replace" (with-replacement SRS) is ours times the FPC factor (1 - n / N-hat), N-hat = 1251
    assert mean["deff"] * (1 - 10 / 1251) == pytest.approx(1.974067, abs=5e-7)
    assert total["deff"] * (1 - 10 / 1251) == pytest.approx(18.15669, abs=5e-6)
