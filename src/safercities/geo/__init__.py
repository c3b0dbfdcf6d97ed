"""Geometry kernels: fast point → area assignment (:class:`AreaIndex`)."""

from safercities.geo.assign import AMBIGUOUS, OUTSIDE, AreaIndex, fingerprint_of

__all__ = ["AMBIGUOUS", "OUTSIDE", "AreaIndex", "fingerprint_of"]
