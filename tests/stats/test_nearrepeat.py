"""Knox test and near-repeat roles: brute-force O(n²) pair counts, both engines, both conventions, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import safercities.stats.nearrepeat as nr
from safercities.errors import InputError
from safercities.stats.nearrepeat import knox, near_repeat_events, nrc_edges

INF = math.inf


def brute_table(x, y, t, d_edges, t_edges, metric):  # type: ignore[no-untyped-def]
    """Every pair, O(n²): the half-open [a, b) table, pairs outside the edges left out."""
    i, j = np.triu_indices(len(x), 1)
    dx, dy = np.abs(x[i] - x[j]), np.abs(y[i] - y[j])
    d = dx + dy if metric == "manhattan" else np.hypot(dx, dy)
    dt = np.abs(t[i] - t[j])
    out = np.zeros((len(d_edges) - 1, len(t_edges) - 1), dtype=np.int64)
    for a in range(len(d_edges) - 1):
        for b in range(len(t_edges) - 1):
            inside = (d >= d_edges[a]) & (d < d_edges[a + 1]) & (dt >= t_edges[b]) & (dt < t_edges[b + 1])
            out[a, b] = int(inside.sum())
    return out


def events(n: int, seed: int, integral: bool = True):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, 500, n))  # rounded: ties in distance and same spots
    y = np.round(rng.uniform(0, 500, n))
    t = rng.integers(0, 60, n).astype(float) if integral else rng.uniform(0, 60, n)
    return x, y, t


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("integral", [True, False])
@pytest.mark.parametrize(
    ("d_edges", "t_edges"),
    [
        ([0, 1, 50, 100, 150, INF], [0, 7, 14, 21, INF]),
        ([0, 50, 120], [0, 3, 10]),  # finite last edges: pairs beyond are left out
        ([20, 60, INF], [2, 9, INF]),  # first edges above 0: a hidden band below them
    ],
)
def test_observed_matches_brute_force(metric, integral, d_edges, t_edges):  # type: ignore[no-untyped-def]
    x, y, t = events(300, 1, integral)
    r = knox(x, y, t, distance_bands=d_edges, time_bands=t_edges, metric=metric, permutations=19, rng=2)
    assert r.convention == "half-open"
    np.testing.assert_array_equal(r.observed, brute_table(x, y, t, d_edges, t_edges, metric))
    if math.isinf(d_edges[-1]) and math.isinf(t_edges[-1]) and d_edges[0] == 0 and t_edges[0] == 0:
        assert r.observed.sum() == r.n_pairs == 300 * 299 // 2
        assert np.all(r.expected.sum(axis=1) == pytest.approx(r.observed.sum(axis=1)))  # row totals are fixed


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_nrc_convention_matches_brute_force(metric):  # type: ignore[no-untyped-def]
    x, y, t = events(300, 3)
    r = knox(x, y, t, distance_bands=nrc_edges(100, 3), time_bands=nrc_edges(7, 3), metric=metric,
             convention="nrc", permutations=9)  # fmt: skip
    want = brute_table(x, y, t, [0, 1, 100, 200, 300, INF], [0, 7, 14, 21, INF], metric)
    np.testing.assert_array_equal(r.observed, want)
    assert r.convention == "nrc"
    assert r.nrc_distance_labels == ["Same location", "1 to 100", "101 to 200", "201 to 300", "More than 300"]
    assert r.nrc_time_labels == ["0 to 7", "8 to 14", "15 to 21", "More than 21"]
    assert list(r.table().index) == r.nrc_distance_labels
    frame = r.to_frame()
    assert len(frame) == 20 and set(frame["convention"]) == {"nrc"}
    assert frame.loc[0, "distance_band"] == "[0, 1)" and frame.loc[0, "nrc_distance"] == "Same location"
    assert "Near Repeat Calculator" in r.summary()


def test_engines_identical_and_seeded():  # type: ignore[no-untyped-def]
    x, y, t = events(400, 4)
    kw = dict(distance_bands=[0, 30, 80, INF], time_bands=[0, 5, 15, INF], permutations=99)
    a = knox(x, y, t, **kw, rng=7, engine="numba")
    b = knox(x, y, t, **kw, rng=7, engine="numpy")
    c = knox(x, y, t, **kw, rng=np.random.default_rng(7))
    for field in ("observed", "expected", "expected_median", "pvalues"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        np.testing.assert_array_equal(getattr(a, field), getattr(c, field))
    assert a.engine == "numba" and b.engine == "numpy"
    d = knox(x, y, t, **kw, rng=8)
    assert not np.array_equal(a.expected, d.expected)


def test_numpy_draws_without_numba(monkeypatch):  # type: ignore[no-untyped-def]
    x, y, t = events(200, 5)
    monkeypatch.setattr(nr, "_numba_available", lambda: False)
    r = knox(x, y, t, distance_bands=[0, 50, INF], time_bands=[0, 7, INF], permutations=199, rng=1)
    assert r.engine == "numpy"
    # no interaction: the expected table is about the observed one, the p-values are not extreme
    assert np.all(np.abs(r.ratio - 1) < 0.3)
    assert r.pvalues.min() > 0.005


def test_draws_are_permutations():  # type: ignore[no-untyped-def]
    dates = np.arange(1000, dtype=np.int32)
    groups = nr._draw(dates, np.random.default_rng(0), 40, True)
    lanes = groups.transpose(0, 2, 1).reshape(-1, 1000)[:40]
    assert all(np.array_equal(np.sort(lane), dates) for lane in lanes)
    # uniform: each position's mean over lanes near the overall mean
    assert abs(lanes.mean() - 499.5) < 1e-9 and abs(lanes[:, 0].mean() - 499.5) < 150


def test_detects_planted_interaction():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    x, y = rng.uniform(0, 5000, 600), rng.uniform(0, 5000, 600)
    t = rng.integers(0, 365, 600).astype(float)
    # 150 near repeats: 40 m and 3 days from an earlier event
    src = rng.integers(0, 600, 150)
    x = np.r_[x, x[src] + rng.uniform(-20, 20, 150)]
    y = np.r_[y, y[src] + rng.uniform(-20, 20, 150)]
    t = np.r_[t, t[src] + rng.integers(0, 3, 150)]
    r = knox(x, y, t, distance_bands=[0, 100, INF], time_bands=[0, 7, INF], permutations=199, rng=3)
    assert r.ratio[0, 0] > 5 and r.pvalues[0, 0] == pytest.approx(1 / 200) and r.pvalues_fdr[0, 0] < 0.05
    less = knox(x, y, t, distance_bands=[0, 100, INF], time_bands=[0, 7, INF], permutations=199, rng=3,
                alternative="less")  # fmt: skip
    assert less.pvalues[0, 0] == 1.0


def test_ties_same_spot_single_event_one_day():  # type: ignore[no-untyped-def]
    kw = dict(distance_bands=[0, 1, 100, INF], time_bands=[0, 1, 7, INF], permutations=19)
    # all events on one spot and one day: every pair in the first cell; permutations change nothing
    r = knox(np.zeros(5), np.zeros(5), np.zeros(5), **kw)
    assert r.observed[0, 0] == 10 and r.observed.sum() == 10
    assert r.expected[0, 0] == 10 and r.ratio[0, 0] == 1 and r.pvalues[0, 0] == 1
    # all on one day, spread in space
    x, y, _ = events(50, 6)
    r = knox(x, y, np.full(50, 3.0), **kw)
    np.testing.assert_array_equal(r.observed[:, 1:], 0)
    np.testing.assert_array_equal(r.observed, r.expected)
    # a single event, and none: no pairs, no ratios
    for n in (1, 0):
        r = knox(np.zeros(n), np.zeros(n), np.zeros(n), **kw)
        assert r.n_pairs == 0 and r.observed.sum() == 0 and np.isnan(r.ratio).all()


def test_result_is_frozen_and_stamped():  # type: ignore[no-untyped-def]
    x, y, t = events(100, 8)
    r = knox(x, y, t, distance_bands=[0, 50, INF], time_bands=[0, 7, INF], permutations=9, rng=5)
    with pytest.raises(AttributeError):
        r.convention = "nrc"  # type: ignore[misc]
    assert r.provenance["parameters"]["convention"] == "half-open" and r.provenance["parameters"]["rng"] == "seed 5"
    assert r.table("pvalues").shape == (2, 2) and r.table(labels="nrc").index[0] == "0 to 50"


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(distance_bands=[0], time_bands=[0, 7]),
        dict(distance_bands=[0, 100, 50], time_bands=[0, 7]),
        dict(distance_bands=[0, INF, 200], time_bands=[0, 7]),
        dict(distance_bands=[-1, 100], time_bands=[0, 7]),
        dict(distance_bands=[0, 100], time_bands=[0, 7], metric="chebyshev"),
        dict(distance_bands=[0, 100], time_bands=[0, 7], convention="closed"),
        dict(distance_bands=[0, 100], time_bands=[0, 7], permutations=-1),
        dict(distance_bands=[0, 100], time_bands=[0, 7], alternative="folded"),
    ],
)
def test_bad_input(kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(InputError):
        knox([0.0, 1.0], [0.0, 1.0], [0, 1], **kwargs)
    with pytest.raises(InputError):
        knox([0.0, np.nan], [0.0, 1.0], [0, 1], distance_bands=[0, 1], time_bands=[0, 1])


def test_near_repeat_roles_and_repeats():  # type: ignore[no-untyped-def]
    #            0: originator  1: repeat of 0  2: near-repeat of 0  3: isolated (far)  4: too late after 2
    x = np.array([0.0, 0.2, 60.0, 5000.0, 60.0, 0.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    t = np.array([10.0, 12.0, 12.0, 12.0, 40.0, 200.0])
    r = near_repeat_events(x, y, t, distance=100, days=14, tolerance=0.5)
    assert list(r.role) == ["originator", "repeat", "near-repeat", "isolated", "isolated", "isolated"]
    assert list(r.predecessor) == [-1, 0, 0, -1, -1, -1]
    assert list(r.followers) == [2, 1, 0, 0, 0, 0]  # 2 also follows 1 (same day, later in the input)
    assert r.chain[0] == r.chain[1] == r.chain[2] and len(set(r.chain)) == 4
    # repeat victimisation: location {0, 1, 5} (3 events: 2 repeats, after 2 and 188 days), {2, 4} (1, after 28)
    assert r.repeat_locations == 2 and r.repeats == 3 and r.n_locations == 3
    assert sorted(r.time_to_repeat) == [2.0, 28.0, 188.0]
    table = r.time_to_repeat_table()
    assert table["repeats"].sum() == 3 and table["repeats"].iloc[0] == 1
    assert r.counts() == {"originator": 1, "repeat": 1, "near-repeat": 1, "isolated": 3}
    assert "3 repeats" in r.summary() and len(r.to_frame()) == 6


def test_near_repeat_ties_and_edge_cases():  # type: ignore[no-untyped-def]
    # same spot, same day: the first in the input is the originator
    r = near_repeat_events([0.0, 0.0], [0.0, 0.0], [5.0, 5.0], distance=10, days=3)
    assert list(r.role) == ["originator", "repeat"] and list(r.time_to_repeat) == [0.0]
    r = near_repeat_events([0.0], [0.0], [1.0], distance=10, days=3)
    assert list(r.role) == ["isolated"] and r.repeats == 0
    r = near_repeat_events(np.zeros(0), np.zeros(0), np.zeros(0), distance=10, days=3)
    assert r.role.size == 0 and r.n_locations == 0
    with pytest.raises(InputError):
        near_repeat_events([0.0], [0.0], [1.0], distance=10, days=0)
    with pytest.raises(InputError):
        near_repeat_events([0.0], [0.0], [1.0], distance=10, days=3, tolerance=20)


def test_near_repeats_match_brute_force():  # type: ignore[no-untyped-def]
    x, y, t = events(300, 9)
    r = near_repeat_events(x, y, t, distance=40, days=5, metric="manhattan")
    n = len(x)
    order = np.lexsort((np.arange(n), t))
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    for j in range(n):
        d = np.abs(x - x[j]) + np.abs(y - y[j])
        earlier = (rank < rank[j]) & (d < 40) & (t[j] - t < 5)
        later = (rank > rank[j]) & (d < 40) & (t - t[j] < 5)
        assert r.followers[j] == later.sum()
        if (earlier & (d <= 0.5)).any():
            assert r.role[j] == "repeat"
        elif earlier.any():
            assert r.role[j] == "near-repeat"
        else:
            assert r.role[j] == ("originator" if later.any() else "isolated")
