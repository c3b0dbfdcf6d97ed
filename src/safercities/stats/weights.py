"""Spatial weights: who neighbours whom, and how much, as one tidy adjacency validated once.

A :class:`SpatialWeights` holds three aligned arrays (``focal``, ``neighbor``, ``weight``) over
positions ``0..n-1`` and the ids those positions stand for, sorted by focal then neighbour. It is
frozen: :meth:`transformed` returns a new object. Areas without neighbours (islands) are kept and
reported, never dropped. Constructors live in :mod:`safercities.stats.neighbours`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from safercities.errors import InputError, check_choice

if TYPE_CHECKING:
    import pandas as pd

TRANSFORMS = ("O", "B", "R")
"""O: as built; B: binary (every link weighs 1); R: row-standardised (each row sums to 1)."""


@dataclass(frozen=True, eq=False)
class SpatialWeights:
    """An n x n sparse weights matrix as a tidy list of links (see the module docstring)."""

    ids: NDArray[Any]
    focal: NDArray[np.int64]
    neighbor: NDArray[np.int64]
    weight: NDArray[np.float64]
    transform: str = "O"
    kind: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    base_weight: NDArray[np.float64] | None = field(default=None, repr=False)
    """The weights as built, kept so that any transform can be undone."""

    @classmethod
    def from_arrays(
        cls,
        ids: ArrayLike,
        focal: ArrayLike,
        neighbor: ArrayLike,
        weight: ArrayLike | None = None,
        *,
        kind: str = "",
        provenance: dict[str, Any] | None = None,
    ) -> SpatialWeights:
        """Validate and sort links given as positions (0..n-1); ``weight`` defaults to 1."""
        ids_arr = np.asarray(ids)
        n = len(ids_arr)
        f = np.asarray(focal, dtype=np.int64).ravel()
        j = np.asarray(neighbor, dtype=np.int64).ravel()
        w = np.ones(len(f)) if weight is None else np.asarray(weight, dtype=np.float64).ravel()
        if not (len(f) == len(j) == len(w)):
            raise InputError(f"focal, neighbor and weight must have one length. Got {len(f)}, {len(j)}, {len(w)}.")
        if len(f) and (f.min() < 0 or j.min() < 0 or f.max() >= n or j.max() >= n):
            raise InputError(f"links must refer to positions 0..{n - 1}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise InputError("weights must be finite and non-negative")
        if len(np.unique(ids_arr)) != n:
            raise InputError("ids must be unique")
        key = f * np.int64(max(n, 1)) + j  # one int64 per link: n * n stays below 2**63 for n below 3e9
        if len(key) > 1 and not np.all(key[1:] > key[:-1]):  # constructors emit sorted links: skip the sort
            order = np.argsort(key, kind="stable")
            f, j, w, key = f[order], j[order], w[order], key[order]
            if np.any(key[1:] == key[:-1]):
                raise InputError("a link appears twice")
        for array in (ids_arr, f, j, w):
            array.flags.writeable = False
        return cls(ids_arr, f, j, w, "O", kind, dict(provenance or {}))

    # -- what it is ---------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.ids)

    @cached_property
    def cardinalities(self) -> NDArray[np.int64]:
        """Number of neighbours of each area."""
        return np.bincount(self.focal, minlength=self.n).astype(np.int64)

    @property
    def islands(self) -> NDArray[Any]:
        """Ids of the areas with no neighbour."""
        return self.ids[self.cardinalities == 0]

    @cached_property
    def sparse(self) -> sp.csr_matrix:
        """The weights as a scipy CSR matrix (rows = focal)."""
        return sp.csr_matrix((self.weight, (self.focal, self.neighbor)), shape=(self.n, self.n))

    @property
    def s0(self) -> float:
        """Sum of all weights."""
        return float(self.weight.sum())

    @property
    def s1(self) -> float:
        """1/2 sum over links of (w_ij + w_ji)^2."""
        m = self.sparse
        return float(0.5 * (m + m.T).power(2).sum())

    @property
    def s2(self) -> float:
        """Sum over areas of (row sum + column sum)^2."""
        m = self.sparse
        return float(((np.asarray(m.sum(axis=1)).ravel() + np.asarray(m.sum(axis=0)).ravel()) ** 2).sum())

    def is_symmetric(self, tolerance: float = 1e-12) -> bool:
        difference = self.sparse - self.sparse.T
        return bool(difference.nnz == 0 or abs(difference).max() <= tolerance)

    def to_frame(self) -> pd.DataFrame:
        """One row per link: focal id, neighbour id, weight."""
        import pandas as pd  # lazily: a cold CLI run of the hotspot kernels should not pay for pandas

        return pd.DataFrame({"focal": self.ids[self.focal], "neighbor": self.ids[self.neighbor], "weight": self.weight})

    def summary(self) -> str:
        islands = len(self.islands)
        card = self.cardinalities
        return (
            f"{self.kind or 'weights'} ({self.transform}): {self.n} areas, {len(self.focal)} links, "
            f"neighbours min {card.min() if self.n else 0} / mean {card.mean() if self.n else 0:.2f} / "
            f"max {card.max() if self.n else 0}, {islands} island{'s' if islands != 1 else ''}"
        )

    # -- new objects ---------------------------------------------------------------------------------
    def transformed(self, transform: str) -> SpatialWeights:
        """The same links with weights binary ('B'), row-standardised ('R') or as built ('O')."""
        check_choice("transform", transform, TRANSFORMS, "SpatialWeights.transformed")
        if transform == self.transform:
            return self
        base = self.weight if self.base_weight is None else self.base_weight
        if transform == "O":
            weight = base
        elif transform == "B":
            weight = np.ones(len(self.focal))
        else:
            sums = np.bincount(self.focal, weights=base, minlength=self.n)
            weight = base / sums[self.focal]
        weight = np.asarray(weight, dtype=np.float64)
        weight.flags.writeable = False
        return SpatialWeights(
            self.ids, self.focal, self.neighbor, weight, transform, self.kind, self.provenance, base_weight=base
        )

    def lag(self, values: ArrayLike) -> NDArray[np.float64]:
        """The spatial lag W x."""
        x = np.asarray(values, dtype=np.float64)
        if x.shape[0] != self.n:
            raise InputError(f"values must have one entry per area ({self.n}). Got {x.shape[0]} instead.")
        return np.asarray(self.sparse @ x)

    def subset(self, keep: ArrayLike) -> SpatialWeights:
        """The weights among the areas where ``keep`` is true (links to other areas dropped), re-transformed."""
        mask = np.asarray(keep, dtype=bool)
        if mask.shape != (self.n,):
            raise InputError(f"keep must have one entry per area ({self.n}). Got shape {mask.shape} instead.")
        base = self.transformed("O")
        position = np.cumsum(mask) - 1
        link = mask[base.focal] & mask[base.neighbor]
        kept = SpatialWeights.from_arrays(
            base.ids[mask],
            position[base.focal[link]],
            position[base.neighbor[link]],
            base.weight[link],
            kind=self.kind,
            provenance=self.provenance,
        )
        return kept.transformed(self.transform)
