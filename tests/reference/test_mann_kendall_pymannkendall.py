"""Mann-Kendall against pymannkendall's ``original_test`` (Hussain & Mahmud 2019), series by series.

Reference: pymannkendall 1.4.3, ``pymannkendall.original_test(x)`` (S, var_s with the ties correction, z with
the continuity correction, two-sided p, Tau, Sen's slope and intercept), on the same seeded series.
Tolerance: 1e-10 absolute (the same formulas; only floating-point rounding differs).
"""

from __future__ import annotations

import numpy as np
import pytest

from safercities.stats.emerging import mann_kendall

mk = pytest.importorskip("pymannkendall")
TOLERANCE = 1e-10


def _series() -> np.ndarray:
    rng = np.random.default_rng(20240501)
    counts = rng.poisson(2.0, size=(60, 24)).astype(float)  # many ties
    trend = rng.poisson(np.linspace(1, 6, 36), size=(40, 36)).astype(float)  # ties and a trend
    smooth = rng.normal(size=(40, 36)).cumsum(axis=1)  # no ties
    rows = [np.pad(counts, ((0, 0), (0, 12)), constant_values=3.0), trend, smooth]
    special = np.zeros((4, 36))
    special[1] = np.arange(36)
    special[2] = -np.arange(36)
    special[3, ::2] = 1.0
    return np.vstack([*rows, special])


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_every_statistic_equals_pymannkendall(engine: str) -> None:
    x = _series()
    ours = mann_kendall(x, slope=True, engine=engine)
    for i, row in enumerate(x):
        ref = mk.original_test(row)
        got = (ours.s[i], ours.var_s[i], ours.z[i], ours.p[i], ours.tau[i], ours.slope[i], ours.intercept[i])
        want = (ref.s, ref.var_s, ref.z, ref.p, ref.Tau, ref.slope, ref.intercept)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOLERANCE, err_msg=f"series {i}")


def test_all_zero_series_is_defined_as_pymannkendall_gives_it() -> None:
    ours = mann_kendall(np.zeros((3, 104)))
    ref = mk.original_test(np.zeros(104))
    assert ref.s == 0 and ref.var_s == 0 and ref.z == 0 and ref.p == 1
    assert np.all(ours.s == 0) and np.all(ours.var_s == 0) and np.all(ours.z == 0) and np.all(ours.p == 1)
