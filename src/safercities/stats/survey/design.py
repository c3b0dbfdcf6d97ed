"""A complex sample design: weights, strata, primary sampling units (PSUs), FPC, replicate weights.

The design is checked once and held as integer codes, so that every estimate afterwards is a handful
of ``bincount`` calls: each respondent's stratum (``stratum``), PSU (``psu``, numbered across the
whole sample) and, per PSU, its stratum (``psu_stratum``), the number of PSUs sampled in each stratum
(``n_psu``) and the first-stage sampling fraction (``fraction``).

Conventions follow R's ``survey`` package (Lumley): an FPC value above 1 is the population size of
the stratum (of PSUs when PSUs are given, of respondents otherwise), a value in (0, 1] is the sampling
fraction; the variance is the first-stage ("ultimate cluster") estimator; the design degrees of
freedom are PSUs minus strata (``degf``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice

LONELY_PSU = ("fail", "adjust", "certainty", "remove")
REPLICATE_METHODS = ("jk1", "jkn", "brr", "fay", "bootstrap", "other")


def codes(labels: ArrayLike, name: str) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Integer codes 0..k-1 for ``labels`` (sorted levels) and the levels; missing labels refused."""
    series = pd.Series(np.asarray(labels) if not isinstance(labels, pd.Series) else labels.to_numpy())
    if series.isna().any():
        row = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InputError(f"The {name} is missing for respondent {row}.", row=row, column=name)
    code, levels = pd.factorize(series, sort=True)
    return code.astype(np.int64), np.asarray(levels)


@dataclass(frozen=True)
class Replicates:
    """Replicate weights and the constants of their variance formula.

    ``variance = scale * sum_r rscales[r] * (theta_r - centre)**2`` with centre the full-sample
    estimate when ``mse`` else the mean of the replicate estimates (R's ``survey.replicates.mse``).
    The weights are held either dense (``weights``, respondents × replicates) or, when made here,
    compressed as one factor per PSU (``factors``, PSUs × replicates; weight = w × factor[psu]).
    """

    method: str
    scale: float
    rscales: NDArray[np.float64]
    mse: bool
    weights: NDArray[np.float64] | None = None
    factors: NDArray[np.float64] | None = None

    @property
    def count(self) -> int:
        source = self.weights if self.weights is not None else self.factors
        assert source is not None
        return int(source.shape[1])


class Design:
    """A checked sample design (see the module docstring); immutable once built.

    ``lonely_psu`` says what a stratum with a single PSU does to the variance: ``"fail"`` (an
    :class:`InputError` naming the stratum), ``"adjust"`` (its PSU total is centred at the grand mean
    of all PSU totals, R's ``survey.lonely.psu="adjust"``), ``"certainty"`` or ``"remove"`` (it
    contributes nothing, as a PSU taken with certainty).
    """

    def __init__(
        self,
        weights: ArrayLike,
        strata: ArrayLike | None = None,
        psu: ArrayLike | None = None,
        fpc: ArrayLike | float | None = None,
        replicate_weights: ArrayLike | None = None,
        replicate_method: str | None = None,
        replicate_scale: float | None = None,
        replicate_rscales: ArrayLike | None = None,
        fay_rho: float = 0.0,
        lonely_psu: str = "fail",
        *,
        mse: bool = False,
        df: float | None = None,
    ) -> None:
        check_choice("lonely_psu", lonely_psu, LONELY_PSU, "Design")
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise InputError("The design weights must be a non-empty one-dimensional array.", column="weights")
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"Weight {w[row]!r} of respondent {row} is missing, infinite or negative.",
                row=row,
                column="weights",
                hint="every respondent needs a sampling weight ≥ 0",
            )
        n = w.size
        self.weights: NDArray[np.float64] = w
        self.n = n
        if strata is None:
            self.stratum = np.zeros(n, np.int64)
            self.strata_labels: NDArray[Any] = np.array(["all"], dtype=object)
        else:
            self._check_length(strata, "strata")
            self.stratum, self.strata_labels = codes(strata, "stratum")
        if psu is None:
            # each respondent its own PSU, numbered stratum by stratum (PSU codes run within strata)
            self.psu = np.empty(n, np.int64)
            self.psu[np.argsort(self.stratum, kind="stable")] = np.arange(n, dtype=np.int64)
            self.clustered = False
        else:
            self._check_length(psu, "psu")
            psu_code, _ = codes(psu, "psu")
            # PSUs are numbered within strata (a label may repeat across strata, as in R's nest=TRUE)
            pair = self.stratum * (int(psu_code.max()) + 1) + psu_code
            self.psu = pd.factorize(pair, sort=True)[0].astype(np.int64)
            self.clustered = True
        self.n_psus = int(self.psu.max()) + 1
        psu_stratum = np.zeros(self.n_psus, np.int64)
        psu_stratum[self.psu] = self.stratum
        self.psu_stratum: NDArray[np.int64] = psu_stratum
        self.n_strata = len(self.strata_labels)
        self.n_psu: NDArray[np.int64] = np.bincount(psu_stratum, minlength=self.n_strata)
        self.fraction: NDArray[np.float64] = self._fractions(fpc)
        self.lonely_psu = lonely_psu
        self.lonely: NDArray[np.bool_] = self.n_psu == 1
        if self.lonely.any() and lonely_psu == "fail" and replicate_weights is None:
            raise self.lonely_error()
        self.replicates: Replicates | None = None
        if replicate_weights is not None:
            self.replicates = self._replicates(
                replicate_weights, replicate_method, replicate_scale, replicate_rscales, fay_rho, mse
            )
        self._df = df
        self.calibration: Any = None  # a calibration.Calibration once the weights are calibrated

    # -- construction helpers -------------------------------------------------------------------
    def _check_length(self, values: ArrayLike, name: str) -> None:
        size = len(values) if hasattr(values, "__len__") else np.asarray(values).size  # type: ignore[arg-type]
        if size != self.n:
            raise InputError(f"The {name} has {size} values for {self.n} weights.", column=name)

    def _fractions(self, fpc: ArrayLike | float | None) -> NDArray[np.float64]:
        """First-stage sampling fraction per stratum from population sizes (>1) or fractions (≤1)."""
        if fpc is None:
            return np.zeros(self.n_strata)
        values = np.broadcast_to(np.asarray(fpc, dtype=np.float64), (self.n,))
        if not np.isfinite(values).all() or (values <= 0).any():
            row = int(np.flatnonzero(~np.isfinite(values) | (values <= 0))[0])
            raise InputError("The FPC must be a positive population size or sampling fraction.", row=row, column="fpc")
        lo = np.empty(self.n_strata)
        lo[self.stratum] = values  # some value of each stratum: any other value there means it varies
        varies = np.flatnonzero(values != lo[self.stratum])
        if varies.size:
            raise InputError(
                f"The FPC varies within stratum {label_text(self.strata_labels[self.stratum[varies[0]]])}.",
                row=int(varies[0]),
                column="fpc",
                hint="give one population size (or fraction) per stratum",
            )
        fraction = np.where(lo > 1, self.n_psu / np.where(lo > 1, lo, 1.0), lo)
        over = np.flatnonzero(fraction > 1 + 1e-12)
        if over.size:
            h = over[0]
            raise InputError(
                f"Stratum {label_text(self.strata_labels[h])} has {self.n_psu[h]} sampled units "
                f"but an FPC population of {lo[h]:g}.",
                column="fpc",
            )
        return np.minimum(fraction, 1.0)

    def lonely_error(self) -> InputError:
        """The error for strata with a single PSU, naming them and the standard remedies."""
        names = ", ".join(label_text(s) for s in self.strata_labels[self.lonely][:5])
        more = "" if self.lonely.sum() <= 5 else f" and {int(self.lonely.sum()) - 5} more"
        return InputError(
            f"Stratum {names}{more} has a single primary sampling unit, so its variance cannot be estimated.",
            column="strata",
            hint=(
                "collapse it with a similar stratum, or choose lonely_psu='adjust' (centre at the grand mean), "
                "'certainty' (a PSU taken with certainty) or 'remove' (no variance contribution)"
            ),
        )

    def _replicates(
        self,
        replicate_weights: ArrayLike,
        method: str | None,
        scale: float | None,
        rscales: ArrayLike | None,
        fay_rho: float,
        mse: bool,
    ) -> Replicates:
        if method is None:
            raise InputError(
                "Replicate weights need their method.",
                hint="replicate_method='jk1', 'jkn', 'brr', 'fay' or 'bootstrap'",
            )
        check_choice("replicate_method", method, REPLICATE_METHODS, "Design")
        rw = np.asarray(replicate_weights, dtype=np.float64)
        if rw.ndim != 2 or rw.shape[0] != self.n:
            raise InputError(
                f"The replicate weights must be a respondents × replicates table; "
                f"got shape {rw.shape} for {self.n} weights.",
                column="replicate_weights",
            )
        if not np.isfinite(rw.sum(axis=0)).all() and not np.isfinite(rw).all():  # the sum: one cheap pass
            row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(rw)))
            raise InputError("A replicate weight is missing or infinite.", row=row, column=f"replicate {col + 1}")
        r = rw.shape[1]
        if r < 2:
            raise InputError("At least two replicate weights are needed.", column="replicate_weights")
        if method == "jkn" and rscales is None:
            raise InputError(
                "JKn replicate weights need their per-replicate factors (1 - f_h)(n_h - 1) / n_h.",
                hint="pass replicate_rscales, or make the replicates with replicate_weights(design, 'jkn')",
            )
        sc, rs = default_scales(method, r, fay_rho)
        if scale is not None:
            sc = float(scale)
        if rscales is not None:
            rs = np.broadcast_to(np.asarray(rscales, dtype=np.float64), (r,)).copy()
            if rs.shape != (r,) or not np.isfinite(rs).all():
                raise InputError(f"replicate_rscales must hold {r} finite numbers.", column="replicate_rscales")
        return Replicates(method=method, scale=sc, rscales=rs, mse=mse, weights=np.ascontiguousarray(rw))

    # -- derived quantities ---------------------------------------------------------------------
    @property
    def method(self) -> str:
        """``"taylor"`` or the replicate method."""
        return "taylor" if self.replicates is None else self.replicates.method

    @cached_property
    def df(self) -> float:
        """Design degrees of freedom: PSUs minus strata (Taylor), rank of the replicates minus 1 (R's degf).

        The rank of supplied replicate weights is that of the rows of one respondent per PSU (up to
        20,000 PSUs) plus a seeded sample of 4 rows per replicate: a lower bound that equals the rank
        unless replicate weights vary within PSUs in ways these rows miss (pass ``df`` to set it).
        """
        if self._df is not None:
            return float(self._df)
        if self.replicates is None:
            return float(max(self.n_psus - self.n_strata, 1))
        reps = self.replicates
        if reps.factors is not None:
            matrix = reps.factors
        else:
            assert reps.weights is not None
            rows = np.random.default_rng(0).integers(0, self.n, min(self.n, 4 * reps.count))
            if self.n_psus <= 20_000:
                first = np.zeros(self.n_psus, np.int64)
                first[self.psu] = np.arange(self.n)  # one respondent of each PSU
                rows = np.union1d(first, rows)
            matrix = reps.weights[rows]
        gram = np.einsum("ij,ik->jk", matrix, matrix)  # small: plain loops beat a threaded BLAS call
        return float(max(numerical_rank(gram) - 1, 1))

    def replicate_matrix(self) -> NDArray[np.float64]:
        """The replicate weights as a dense respondents × replicates array."""
        if self.replicates is None:
            raise InputError("This design has no replicate weights.", hint="make them with replicate_weights(design)")
        if self.replicates.weights is not None:
            return self.replicates.weights
        assert self.replicates.factors is not None
        return self.weights[:, None] * self.replicates.factors[self.psu]

    def with_weights(self, weights: NDArray[np.float64], replicates: Replicates | None = None) -> Design:
        """A copy with new weights (and replicates); the structure is shared."""
        new = object.__new__(Design)
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k != "df"})
        new.weights = np.asarray(weights, dtype=np.float64)
        new.replicates = replicates if replicates is not None else self.replicates
        return new

    def __repr__(self) -> str:
        kind = self.method
        reps = f", {self.replicates.count} replicates" if self.replicates is not None else ""
        return f"Design({self.n} respondents, {self.n_strata} strata, {self.n_psus} PSUs, {kind}{reps})"


def numerical_rank(gram: NDArray[np.float64], tol: float = 1e-5) -> int:
    """Rank of a matrix from its Gram matrix by pivoted Cholesky: pivots above ``tol``² × the largest.

    ``tol`` is relative to the matrix's scale, as R's ``qr(..., tol=1e-5)`` used by ``degf``.
    """
    size = gram.shape[0]
    residual = np.diag(gram).astype(np.float64).copy()
    if size == 0 or residual.max() <= 0:
        return 0
    floor = tol * tol * residual.max()
    factor = np.zeros((size, size))
    rank = 0
    while rank < size:
        j = int(np.argmax(residual))
        if residual[j] <= floor:
            break
        column = (gram[:, j] - factor[:, :rank] @ factor[j, :rank]) / np.sqrt(residual[j])
        factor[:, rank] = column
        residual = residual - column * column
        residual[j] = -np.inf
        rank += 1
    return rank


def label_text(label: Any) -> str:
    """A label as a message shows it: numbers plain, text quoted."""
    value = label.item() if isinstance(label, np.generic) else label
    return repr(value)


def default_scales(method: str, replicates: int, fay_rho: float = 0.0) -> tuple[float, NDArray[np.float64]]:
    """The usual ``scale`` and ``rscales`` of a replicate method (R ``svrepdesign`` defaults)."""
    ones = np.ones(replicates)
    if method == "jk1":
        return (replicates - 1) / replicates, ones
    if method == "brr":
        return 1.0 / replicates, ones
    if method == "fay":
        if not 0.0 <= fay_rho < 1.0:
            raise InputError(f"Fay's coefficient must lie in [0, 1); got {fay_rho}.")
        return 1.0 / (replicates * (1.0 - fay_rho) ** 2), ones
    if method == "bootstrap":
        return 1.0 / (replicates - 1), ones
    return 1.0, ones


def as_labels(values: ArrayLike | Sequence[Any]) -> NDArray[Any]:
    """A one-dimensional array of labels."""
    return np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
