"""Knox tables on Chicago residential burglary against the Near Repeat Calculator v1.3 and NearRepeat 0.1.1.

Reference set: ``../shared/data/nearrepeat_chicago`` (SOURCE.md there): ``chicago_be_month1.csv`` (970 burglaries,
EPSG:26971 metres, dates at day resolution) from github.com/wsteenbeek/NearRepeat @ f48d2131, with

* R1: NRC v1.3 (Ratcliffe 2009) summary ``chicago_be_month1_NRsummary_2019-09-23_143005.htm``: Manhattan distance,
  3 spatial bands of 100 m, 3 temporal bands of 7 days, 20 iterations;
* R1b: the same table taking the NRC labels literally (NearRepeat vignette NRC.html);
* R2: ``NearRepeat(x, y, time, sds = c(0, 0.1, 200, 400, 600), tds = c(0, 7, 14, 21))`` (vignette NearRepeat.html,
  Manhattan, 999 permutations, seed 9489).

Observed tables are deterministic: equal cell for cell. Knox ratios and p-values are Monte Carlo estimates on both
sides; the tolerances are stated next to each check. Peer: pointpats ``knox()`` and ``Knox`` count the same pairs.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.stats.nearrepeat import knox, nrc_edges

INF = math.inf

# R1: NRC v1.3 observed frequencies (rows Same location, 1 to 100, 101 to 200, 201 to 300, More than 300;
# columns 0 to 7, 8 to 14, 15 to 21, More than 21)
NRC_OBSERVED = [
    [28, 5, 5, 2],
    [44, 13, 8, 4],
    [97, 56, 19, 16],
    [77, 67, 45, 20],
    [182194, 146149, 95237, 45879],
]
NRC_RATIO = [  # the NRC's Knox ratios, 20 iterations (the "More than 300" row is not published)
    [1.652, 0.43, 0.629, 0.576],
    [1.685, 0.6, 0.569, 0.559],
    [1.318, 0.945, 0.513, 0.884],
    [0.938, 1.028, 1.071, 1.011],
]
NRC_ITERATIONS = 20
# R1b: the labels taken literally: [0,1),[1,101),[101,201),[201,301),[301,inf) x [0,8),[8,15),[15,22),[22,inf)
LITERAL_OBSERVED = [
    [29, 4, 5, 2],
    [45, 15, 7, 2],
    [106, 48, 21, 13],
    [88, 64, 46, 15],
    [206611, 138108, 88321, 36415],
]
# R2: NearRepeat 0.1.1 vignette, [a, b) bands, pairs beyond 600 m or at 21 days and more left out
NR_OBSERVED = [[28, 5, 5], [141, 69, 27], [186, 140, 100], [237, 192, 128]]
NR_RATIO = [
    [1.8027842, 0.4043552, 0.6128082],
    [1.4121203, 0.8621871, 0.5170609],
    [1.0144070, 0.9499294, 1.0511474],
    [0.9754211, 0.9806536, 1.0071754],
]
NR_P = [[0.001, 1.000, 0.943], [0.001, 0.929, 1.000], [0.435, 0.785, 0.312], [0.696, 0.635, 0.479]]
NR_PERMUTATIONS = 999


@pytest.fixture(scope="module")
def month1(shared_data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path = shared_data / "nearrepeat_chicago" / "chicago_be_month1.csv"
    df = pd.read_csv(path, header=None, names=["x", "y", "date"])
    days = (pd.to_datetime(df["date"]) - pd.Timestamp("2015-12-31")).dt.days.to_numpy().astype(float)
    return df["x"].to_numpy(), df["y"].to_numpy(), days


def expected_from_ratio(observed: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    return np.asarray(observed, dtype=float) / np.asarray(ratio, dtype=float)


def test_nrc_table_exact_and_ratios(month1):  # type: ignore[no-untyped-def]
    x, y, t = month1
    r = knox(x, y, t, distance_bands=nrc_edges(100, 3), time_bands=nrc_edges(7, 3), metric="manhattan",
             convention="nrc", permutations=999, rng=20240501)  # fmt: skip
    np.testing.assert_array_equal(r.observed, NRC_OBSERVED)
    assert r.convention == "nrc"
    assert list(r.table().index) == ["Same location", "1 to 100", "101 to 200", "201 to 300", "More than 300"]
    assert list(r.table().columns) == ["0 to 7", "8 to 14", "15 to 21", "More than 21"]
    # Ratios: the NRC's expected count (observed / its ratio) is a mean of 20 permuted counts, ours of 999. A cell's
    # permuted count has variance about its mean E (Poisson-like), so the two means differ by sd ~ sqrt(E/20 + E/999);
    # we allow 4 sd (plus the 3-decimal rounding of the published ratio), which fails about once in 15,000 cells.
    e_nrc = expected_from_ratio(np.asarray(NRC_OBSERVED[:4]), np.asarray(NRC_RATIO))
    e_ours = r.expected[:4]
    sd = np.sqrt(e_ours / NRC_ITERATIONS + e_ours / 999)
    rounding = e_nrc * 0.0005 / np.asarray(NRC_RATIO)
    assert np.all(np.abs(e_nrc - e_ours) <= 4 * sd + rounding), np.round((e_nrc - e_ours) / sd, 2)
    assert r.ratio[0, 0] > 1.5 and r.pvalues[0, 0] == pytest.approx(0.001)


def test_literal_labels_table(month1):  # type: ignore[no-untyped-def]
    x, y, t = month1
    r = knox(x, y, t, distance_bands=[0, 1, 101, 201, 301, INF], time_bands=[0, 8, 15, 22, INF],
             metric="manhattan", permutations=0)  # fmt: skip
    np.testing.assert_array_equal(r.observed, LITERAL_OBSERVED)
    assert r.convention == "half-open"
    assert not np.array_equal(r.observed, NRC_OBSERVED)  # the labels taken literally are not the NRC's table


def test_nearrepeat_vignette(month1):  # type: ignore[no-untyped-def]
    x, y, t = month1
    r = knox(x, y, t, distance_bands=[0, 0.1, 200, 400, 600], time_bands=[0, 7, 14, 21], metric="manhattan",
             permutations=NR_PERMUTATIONS, rng=9489)  # fmt: skip
    np.testing.assert_array_equal(r.observed, NR_OBSERVED)
    # Ratios: both expected counts are means of 999 permuted counts (variance about E each): sd ~ sqrt(2E/999);
    # 4 sd, which for these cells is 0.02 to 0.08 in the ratio.
    e_ref = expected_from_ratio(np.asarray(NR_OBSERVED), np.asarray(NR_RATIO))
    sd = np.sqrt(2 * r.expected / NR_PERMUTATIONS)
    assert np.all(np.abs(e_ref - r.expected) <= 4 * sd), np.round((e_ref - r.expected) / sd, 2)
    # p-values: each is a binomial proportion over 999 permutations: sd sqrt(p(1-p)/999) on each side; 4 sd of the
    # difference plus 2/1000 (the +1 and the ties' share), i.e. at most about 0.09; p is kept within [0.01, 0.99]
    # in the sd, as a published 1.000 or 0.001 is itself an estimate.
    p_ref = np.asarray(NR_P)
    p_mid = np.clip(p_ref, 0.01, 0.99)
    p_sd = np.sqrt(2 * p_mid * (1 - p_mid) / NR_PERMUTATIONS)
    assert np.all(np.abs(p_ref - r.pvalues) <= 4 * p_sd + 0.002), np.round(r.pvalues, 3)
    assert (r.pvalues_fdr[:2, 0] < 0.01).all()


def test_pointpats_peer_counts(month1):  # type: ignore[no-untyped-def]
    from pointpats.spacetime import Knox
    from pointpats.spacetime import knox as pp_knox

    x, y, t = month1
    r = knox(x, y, t, distance_bands=[0, 200, INF], time_bands=[0, 7, INF], permutations=0)
    coords = np.column_stack([x, y])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pointpats' knox() is deprecated in favour of Knox
        # pointpats closes both thresholds (d <= delta, dt <= tau): dt <= 6 is [0, 7) for whole days, and no pair
        # is at exactly 200 m
        peer = pp_knox(coords, t.reshape(-1, 1).copy(), delta=200, tau=6, permutations=0)
        cls = Knox(coords, t.reshape(-1, 1).copy(), delta=200, tau=6, permutations=0)
    assert r.observed[0, 0] == peer["stat"] == cls.nst
    assert r.observed[0].sum() == cls.observed[0].sum()  # all pairs within 200 m
