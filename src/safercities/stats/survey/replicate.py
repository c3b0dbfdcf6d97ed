"""Replicate-weight variance, and replicate weights made from a Taylor design.

The variance of an estimate from replicate weights is

    v = scale * sum_r rscales[r] * (theta_r - centre)**2

with ``theta_r`` the estimate recomputed with replicate ``r``'s weights and ``centre`` the mean of
the ``theta_r`` (or the full-sample estimate when the design says ``mse=True``), the convention of R's
``svrepdesign``. All replicate estimates of all domains and variables come from one sparse × dense
product (respondents' domain-placed values × the replicate weights), or, for replicates made here
(one factor per PSU), from the per-cell sums × the PSU factors: no loop over replicates or domains.

Made here (``replicate_weights``):

* ``jk1``: delete-one-PSU jackknife, unstratified: scale ``(1 - f)(n - 1)/n``;
* ``jkn``: delete-one-PSU jackknife within strata: ``rscales = (1 - f_h)(n_h - 1)/n_h``; strata with one
  PSU get no replicate (no variance contribution, as ``lonely_psu="certainty"``);
* ``brr`` / ``fay``: balanced repeated replication on two PSUs per stratum from the columns of a
  Sylvester Hadamard matrix (order: the smallest power of two above the number of strata), factors
  ``2 - rho`` and ``rho`` (``rho = 0`` for BRR); scale ``1/(R (1 - rho)^2)``; the FPC is not used;
* ``bootstrap``: Rao-Wu rescaling bootstrap drawing ``n_h - 1`` PSUs with replacement per stratum,
  factor ``1 - a_h + a_h k n_h/(n_h - 1)`` for a PSU drawn ``k`` times with ``a_h = sqrt(1 - f_h)``
  (Rao, Wu & Yue 1992); scale ``1/(R - 1)``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from safercities.errors import InputError, check_choice
from safercities.stats.survey.cells import Cells
from safercities.stats.survey.design import Design, Replicates, label_text

MAKE_METHODS = ("jk1", "jkn", "brr", "fay", "bootstrap")
JACKKNIFE_LIMIT = 20_000  # more PSUs than this: a delete-one jackknife is impractical; use the bootstrap


def _placed(values: NDArray[np.float64], place: NDArray[np.int64], width: int) -> sp.csr_array:
    """Rows × (domains · J) sparse matrix: row i holds its J values in its domain's block."""
    rows, j = values.shape
    keep = place >= 0
    columns = (np.where(keep, place, 0)[:, None] * j + np.arange(j)[None, :]).ravel()
    data = np.where(keep[:, None], values, 0.0).ravel()
    indptr = np.arange(0, rows * j + 1, j, dtype=np.int64)
    return sp.csr_array((data, columns.astype(np.int64), indptr), shape=(rows, width * j))


def _totals_kernel(place, values, weights, domains, chunks):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Compiled by numba: one pass over the replicate weights, rows split into ``chunks`` in parallel."""
    n, j_count = values.shape
    r_count = weights.shape[1]
    out = np.zeros((chunks, domains, j_count, r_count))
    for c in prange(chunks):
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            d = place[i]
            if d < 0:
                continue
            for j in range(j_count):
                v = values[i, j]
                if v != 0.0:
                    for r in range(r_count):
                        out[c, d, j, r] += v * weights[i, r]
    return out.sum(axis=0)


_COMPILED: list[object] = []
prange = range  # numba.prange once the kernel is compiled (this module does not import numba)


def _compiled_totals() -> object | None:
    """The numba kernel (compiled once, cached on disk), or None where numba is missing."""
    if not _COMPILED:
        try:
            import numba
        except ImportError:  # pragma: no cover - numba is a dependency; scipy is the fallback
            _COMPILED.append(None)
        else:
            global prange
            prange = numba.prange
            _COMPILED.append(numba.njit(cache=True, parallel=True, nogil=True)(_totals_kernel))
    return _COMPILED[0]


def replicate_totals(
    design: Design,
    cells: Cells,
    domain: NDArray[np.int64],
    columns: NDArray[np.float64],
    cell_sums: NDArray[np.float64],
    engine: str = "auto",
) -> NDArray[np.float64]:
    """Weighted totals per domain of each column under every replicate: domains × J × replicates.

    ``columns`` are the per-respondent values (respondents × J, unweighted) and ``cell_sums`` their
    design-weighted sums per cell (cells × J), used when the replicates are PSU factors. Supplied
    (dense) replicate weights go through a parallel numba kernel (``engine="numba"``) or a scipy
    sparse × dense product (``engine="scipy"``); both read the weights once.
    """
    reps = design.replicates
    assert reps is not None
    j = columns.shape[1]
    if reps.factors is not None:
        placed = _placed(cell_sums, cells.domain, cells.domains)
        totals = placed.T @ reps.factors[cells.psu]
        return np.asarray(totals).reshape(cells.domains, j, reps.count)
    assert reps.weights is not None
    kernel = _compiled_totals() if engine in ("auto", "numba") else None
    if kernel is not None:
        import numba

        chunks = max(1, min(numba.get_num_threads(), design.n // 10_000))
        values = np.ascontiguousarray(columns, dtype=np.float64)
        return np.asarray(kernel(domain, values, reps.weights, cells.domains, chunks))  # type: ignore[operator]
    placed = _placed(columns, domain, cells.domains)
    totals = placed.T @ reps.weights
    return np.asarray(totals).reshape(cells.domains, j, reps.count)


def replicate_variance(design: Design, theta: NDArray[np.float64], theta_r: NDArray[np.float64]) -> NDArray[np.float64]:
    """Variance from replicate estimates ``theta_r`` (… × replicates) around their mean or ``theta``."""
    reps = design.replicates
    assert reps is not None
    if reps.mse:
        centre = theta
    else:
        with np.errstate(invalid="ignore"):
            centre = theta_r.mean(axis=-1)
    dev = theta_r - centre[..., None]
    return np.asarray(reps.scale * (dev * dev) @ reps.rscales)


def replicate_weights(
    design: Design,
    method: str = "jkn",
    replicates: int = 80,
    seed: int = 0,
    *,
    fay_rho: float = 0.5,
    mse: bool = False,
) -> Design:
    """The design with replicate weights made from its strata and PSUs (see the module docstring).

    ``replicates`` is the number of bootstrap replicates; the jackknives make one replicate per PSU
    and BRR/Fay one per row of the Hadamard matrix. ``seed`` seeds the bootstrap.
    """
    check_choice("method", method, MAKE_METHODS, "replicate_weights")
    if method in ("jk1", "jkn") and design.n_psus > JACKKNIFE_LIMIT:
        raise InputError(
            f"A delete-one jackknife on {design.n_psus:,} PSUs would make as many replicates.",
            hint="use method='bootstrap', or group respondents into PSUs first",
        )
    if method == "jk1":
        factors, scale, rscales = _jk1(design)
    elif method == "jkn":
        factors, scale, rscales = _jkn(design)
    elif method in ("brr", "fay"):
        factors, scale, rscales = _brr(design, fay_rho if method == "fay" else 0.0)
    else:
        if replicates < 2:
            raise InputError(f"The bootstrap needs at least 2 replicates; got {replicates}.")
        factors, scale, rscales = _bootstrap(design, replicates, seed)
    reps = Replicates(method=method, scale=scale, rscales=rscales, mse=mse, factors=factors)
    made = design.with_weights(design.weights, reps)
    return made


def _jk1(design: Design) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    if design.n_strata > 1:
        raise InputError(
            "The JK1 jackknife is for unstratified designs; this one has strata.",
            hint="use method='jkn' (delete one PSU within its stratum)",
        )
    p = design.n_psus
    if p < 2:
        raise InputError("The jackknife needs at least two PSUs.")
    factors = np.full((p, p), p / (p - 1))
    np.fill_diagonal(factors, 0.0)
    scale = float((1.0 - design.fraction[0]) * (p - 1) / p)
    return factors, scale, np.ones(p)


def _jkn(design: Design) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    n_h = design.n_psu[design.psu_stratum]
    dropped = np.flatnonzero(n_h > 1)  # one replicate per PSU of a stratum with at least two
    if dropped.size == 0:
        raise InputError("The jackknife needs a stratum with at least two PSUs.")
    h = design.psu_stratum[dropped]
    same = design.psu_stratum[:, None] == h[None, :]
    boost = (n_h / np.maximum(n_h - 1, 1))[:, None]
    factors = np.where(same, boost, 1.0)
    factors[dropped, np.arange(dropped.size)] = 0.0
    nh = design.n_psu[h].astype(np.float64)
    rscales = (1.0 - design.fraction[h]) * (nh - 1.0) / nh
    return factors, 1.0, rscales


def _sylvester(order: int) -> NDArray[np.float64]:
    matrix = np.ones((1, 1))
    while matrix.shape[0] < order:
        matrix = np.block([[matrix, matrix], [matrix, -matrix]])
    return matrix


def _brr(design: Design, rho: float) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    if not 0.0 <= rho < 1.0:
        raise InputError(f"Fay's coefficient must lie in [0, 1); got {rho}.")
    if not (design.n_psu == 2).all():
        bad = design.strata_labels[np.flatnonzero(design.n_psu != 2)[0]]
        raise InputError(
            f"Balanced repeated replication needs exactly two PSUs per stratum; stratum {label_text(bad)} has "
            f"{design.n_psu[np.flatnonzero(design.n_psu != 2)[0]]}.",
            hint="collapse or split strata into pairs of PSUs (or use method='jkn' or 'bootstrap')",
        )
    strata = design.n_strata
    order = 1
    while order < strata + 1:
        order *= 2
    hadamard = _sylvester(order)[:, 1 : strata + 1]  # replicates × strata, the all-ones column skipped
    # PSU codes run within strata, so the first PSU of stratum h is the one with the smaller code
    first = np.ones(design.n_psus, bool)
    first[1:] = design.psu_stratum[1:] != design.psu_stratum[:-1]
    sign = hadamard[:, design.psu_stratum].T * np.where(first, 1.0, -1.0)[:, None]  # PSUs × replicates
    factors = np.where(sign > 0, 2.0 - rho, rho)
    return factors, 1.0 / (order * (1.0 - rho) ** 2), np.ones(order)


def _bootstrap(design: Design, replicates: int, seed: int) -> tuple[NDArray[np.float64], float, NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    n_h = design.n_psu
    first = np.concatenate([[0], np.cumsum(n_h)[:-1]])  # PSU codes are contiguous within strata
    draws_h = np.maximum(n_h - 1, 0)
    stratum_of_draw = np.repeat(np.arange(design.n_strata), draws_h)
    m = stratum_of_draw.size
    u = rng.random((replicates, m))
    psu = first[stratum_of_draw] + np.floor(u * n_h[stratum_of_draw]).astype(np.int64)
    key = (np.arange(replicates)[:, None] * design.n_psus + psu).ravel()
    times = np.bincount(key, minlength=replicates * design.n_psus).reshape(replicates, design.n_psus).T
    nh = n_h[design.psu_stratum].astype(np.float64)
    a = np.sqrt(1.0 - design.fraction[design.psu_stratum])[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        factors = 1.0 - a + a * times * (nh / (nh - 1.0))[:, None]
    factors[nh < 2] = 1.0  # a single-PSU stratum contributes no variance
    return factors, 1.0 / (replicates - 1), np.ones(replicates)
