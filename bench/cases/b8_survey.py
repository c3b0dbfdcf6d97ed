"""B8: design-based domain means of a victimisation survey, Taylor and 80 replicate weights.

Input (seeded, built once per size, not timed): a stratified two-stage sample of 1e5 / 1e6 / 1e7
respondents in 50 strata × 8 PSUs (first-stage fraction 5 %), lognormal weights, 32 domains (e.g.
community × sex × age band), an answer ``y`` with PSU and domain effects, and 80 Rao-Wu bootstrap
replicate weights (a dense respondents × 80 matrix, as a survey agency ships them).

Ours: :func:`safercities.stats.survey.estimate` on a :class:`Design` built from the raw arrays, for
the 32 domain means: by Taylor linearisation, or from the replicate weights. Peer: samplics
``TaylorEstimator(PopParam.mean)`` with stratum, PSU, FPC and domain, or
``ReplicateEstimator(RepMethod.bootstrap, PopParam.mean)`` with the same replicate coefficients.
Exactness: per domain, estimates and standard errors equal to 1e-9 relative (and the Taylor
degrees of freedom equal). At L (1e7) only Taylor: the replicate peer would copy the 6.4 GB
replicate matrix once per domain.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Prepared

ID = "B8"
TITLE = "survey: 32 domain means, Taylor / 80 replicates"
GOAL = 0.05
PEER = "samplics TaylorEstimator / ReplicateEstimator"

RESPONDENTS = {"S": 100_000, "M": 1_000_000, "L": 10_000_000}
STRATA, PSUS, DOMAINS, REPLICATES, FRACTION = 50, 8, 32, 80, 0.05
SEED = 2026


def skip_reason() -> str | None:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "samplics is archived"
            import samplics  # noqa: F401
    except ImportError:
        return "samplics is not installed"
    return None


def params(size: str) -> list[dict[str, Any]]:
    methods = ["taylor"] if size == "L" else ["taylor", "replicate"]
    return [{"respondents": RESPONDENTS[size], "method": m} for m in methods]


def inputs(param: dict[str, Any]) -> dict[str, Any]:
    """The seeded sample: design columns, answer, domain and (for replicates) the replicate weights."""
    import numpy as np

    from safercities.stats.survey import Design, replicate_weights

    n = param["respondents"]
    rng = np.random.default_rng(SEED)
    psu = np.sort(rng.integers(0, STRATA * PSUS, n))  # respondents grouped by PSU, PSUs by stratum
    stratum = psu // PSUS
    domain = rng.integers(0, DOMAINS, n)
    psu_effect = rng.normal(0, 2, STRATA * PSUS)
    weights = rng.lognormal(3, 0.4, n)
    y = 10 + domain % 7 + psu_effect[psu] + rng.normal(0, 5, n)
    fpc = np.full(n, PSUS / FRACTION)
    data = {"y": y, "weights": weights, "stratum": stratum, "psu": psu, "domain": domain, "fpc": fpc}
    if param["method"] == "replicate":
        made = replicate_weights(Design(weights, strata=stratum, psu=psu, fpc=fpc), "bootstrap", REPLICATES, seed=1)
        assert made.replicates is not None
        data["replicates"] = made.replicate_matrix()
        data["coefs"] = made.replicates.scale * made.replicates.rscales
    return data


class Means:
    """Domain means and standard errors, sorted by domain; ``tobytes`` for the harness digest."""

    def __init__(self, domains: Any, estimate: Any, se: Any, df: float) -> None:
        import numpy as np

        order = np.argsort(np.asarray(domains))
        self.domains = np.asarray(domains)[order]
        self.estimate = np.asarray(estimate, dtype=float)[order]
        self.se = np.asarray(se, dtype=float)[order]
        self.df = float(df)

    def tobytes(self) -> bytes:
        import numpy as np

        return np.concatenate([self.estimate, self.se, [self.df]]).tobytes()


def check(ours: Means, peer: Means) -> None:
    import numpy as np

    assert np.array_equal(ours.domains, peer.domains), "the domains differ"
    for name in ("estimate", "se"):
        a, b = getattr(ours, name), getattr(peer, name)
        worst = float(np.max(np.abs(a - b) / np.abs(b)))
        assert worst <= 1e-9, f"{name}s differ by up to {worst:.2g} relative"
    assert ours.df == peer.df, f"degrees of freedom: ours {ours.df}, peer {peer.df}"


def ours(data: dict[str, Any], method: str) -> Means:
    from safercities.stats.survey import Design, estimate

    if method == "taylor":
        design = Design(data["weights"], strata=data["stratum"], psu=data["psu"], fpc=data["fpc"])
    else:
        design = Design(
            data["weights"],
            replicate_weights=data["replicates"],
            replicate_method="bootstrap",
            replicate_scale=1.0,
            replicate_rscales=data["coefs"],
        )
    frame = estimate(design, data["y"], domain=data["domain"])
    return Means(frame["domain"].to_numpy(int), frame["estimate"], frame["se"], frame["df"].iloc[0])


def peer(data: dict[str, Any], method: str) -> Means:
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from samplics import ReplicateEstimator, TaylorEstimator
        from samplics.utils.types import PopParam, RepMethod

    if method == "taylor":
        est = TaylorEstimator(PopParam.mean)
        fpc = dict.fromkeys(range(STRATA), 1.0 - FRACTION)
        est.estimate(
            y=data["y"],
            samp_weight=data["weights"],
            stratum=data["stratum"],
            psu=data["psu"],
            fpc=fpc,
            domain=data["domain"],
        )
        df = est.degree_of_freedom
    else:
        est = ReplicateEstimator(RepMethod.bootstrap, PopParam.mean)
        est.estimate(
            y=data["y"],
            samp_weight=data["weights"],
            rep_weights=data["replicates"],
            rep_coefs=data["coefs"],
            domain=data["domain"],
        )
        df = est.degree_of_freedom
    keys = np.array(list(est.point_est))
    return Means(keys, [est.point_est[k] for k in keys], [est.stderror[k] for k in keys], df)


def _label(param: dict[str, Any]) -> str:
    n = f"{param['respondents']:.0e}".replace("e+0", "e")
    what = "Taylor" if param["method"] == "taylor" else f"{REPLICATES} bootstrap replicates"
    return f"{n} respondents, {DOMAINS} domains, {what}"


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    data = inputs(param)
    method = param["method"]
    return Prepared(
        label=_label(param),
        ours=lambda: ours(data, method),
        peer=lambda: peer(data, method),
        check=check,
        notes={"design": f"{STRATA} strata × {PSUS} PSUs, fpc {FRACTION:.0%}"},
    )


def cold_import(side: str) -> None:
    if side == "ours":
        import safercities.stats.survey  # noqa: F401
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            import samplics  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return inputs(param)


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    return ours(inputs, param["method"]) if side == "ours" else peer(inputs, param["method"])
