"""Respondents grouped into cells (PSU × domain): the unit every variance formula sums over.

A domain estimate is a function of weighted sums over respondents of the domain; its linearised
variance needs those sums per PSU, and its replicate variance needs them per replicate. Grouping the
respondents once into occupied (PSU, domain) cells turns all of that into ``bincount`` calls over
cells instead of respondents × domains, and keeps memory at O(respondents) however many PSUs and
domains there are (a domain is estimated as a domain: PSUs without members count as zeros).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from safercities.stats.survey.design import Design

DENSE_LIMIT = 1 << 22  # PSU × domain grids up to this size are indexed directly, larger ones factorized


@dataclass(frozen=True)
class Cells:
    """Occupied (PSU, domain) cells: each respondent's cell, and each cell's PSU, stratum and domain."""

    index: NDArray[np.int64]  # respondent -> cell (-1: outside every domain)
    psu: NDArray[np.int64]
    stratum: NDArray[np.int64]
    domain: NDArray[np.int64]
    count: int
    domains: int

    def sum(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-cell sums of a per-respondent quantity (respondents outside every domain dropped)."""
        keep = self.index >= 0
        if keep.all():
            sums = np.bincount(self.index, weights=values, minlength=self.count)
        else:
            sums = np.bincount(self.index[keep], weights=values[keep], minlength=self.count)
        return sums.astype(np.float64, copy=False)

    def by_domain(self, cell_values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-domain sums of per-cell values."""
        return np.bincount(self.domain, weights=cell_values, minlength=self.domains).astype(np.float64, copy=False)


def make_cells(design: Design, domain: NDArray[np.int64], domains: int) -> Cells:
    """Group respondents into (PSU, domain) cells; ``domain`` is -1 for respondents in none."""
    outside = domain < 0
    if not design.clustered:
        # every respondent is its own PSU: one cell per respondent in a domain, nothing to group
        if not outside.any():
            return Cells(np.arange(design.n, dtype=np.int64), design.psu, design.stratum, domain, design.n, domains)
        kept = np.flatnonzero(~outside)
        index = np.full(design.n, -1, np.int64)
        index[kept] = np.arange(kept.size)
        return Cells(index, design.psu[kept], design.stratum[kept], domain[kept], int(kept.size), domains)
    key = design.psu * domains + domain
    if design.n_psus * domains <= max(DENSE_LIMIT, 4 * design.n):
        occupied = np.zeros(design.n_psus * domains, np.int64)
        occupied[key[~outside]] = 1
        position = np.cumsum(occupied) - 1
        cell_keys = np.flatnonzero(occupied)
        index = np.where(outside, -1, position[np.where(outside, 0, key)])
    else:
        code, cell_keys = pd.factorize(np.where(outside, -1, key), sort=True)
        if outside.any():
            # the sorted factorisation puts -1 first: shift it out
            index = code - 1
            cell_keys = cell_keys[1:]
        else:
            index = code
        index = index.astype(np.int64)
        cell_keys = np.asarray(cell_keys, dtype=np.int64)
    psu = cell_keys // domains
    return Cells(
        index=index.astype(np.int64),
        psu=psu,
        stratum=design.psu_stratum[psu],
        domain=cell_keys % domains,
        count=int(cell_keys.size),
        domains=domains,
    )
