"""The WDQ by hand, its readings, the WDD's variance by hand, and clear errors (the published worked examples are
in tests/reference/test_wdq_wdd.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safercities.errors import InputError
from safercities.stats.evaluation import Counts, wdd, wdd_harm, wdq


def test_wdq_by_hand() -> None:
    # treated 100 -> 60, buffer 80 -> 90, control 200 -> 220
    # SM = 60/220 - 100/200 = -0.227273; BDM = 90/220 - 80/200 = 0.009091; WDQ = BDM / SM = -0.04
    # TNE = (100 * 220/200 - 60) + (80 * 220/200 - 90) = 50 - 2 = 48
    result = wdq((100, 60), (80, 90), (200, 220))
    assert result.success_measure == pytest.approx(60 / 220 - 0.5)
    assert result.buffer_measure == pytest.approx(90 / 220 - 0.4)
    assert result.estimate == pytest.approx((90 / 220 - 0.4) / (60 / 220 - 0.5))
    assert result.estimate == pytest.approx(-0.04)
    assert result.total_net_effect == pytest.approx(48.0)
    assert result.reading == "displacement"
    assert result.lower < result.estimate < result.upper


def test_wdq_readings() -> None:
    assert wdq((100, 60), (80, 70), (200, 220)).reading == "diffusion"
    no_success = wdq((100, 130), (80, 70), (200, 220))
    assert no_success.reading == "no_success" and np.isnan(no_success.estimate) and np.isnan(no_success.lower)
    assert "no success" in no_success.summary() and "pas de succès" in no_success.summary("fr")


def test_wdd_variance_is_the_sum_of_the_counts() -> None:
    result = wdd((50, 30), (60, 65), (40, 45), (70, 70))
    assert result.local == (30 - 50) - (65 - 60)
    assert result.displacement == (45 - 40) - (70 - 70)
    assert result.se == pytest.approx(np.sqrt(50 + 30 + 60 + 65 + 40 + 45 + 70 + 70))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 500), min_size=6, max_size=6))
def test_wdq_is_buffer_measure_over_success_and_tne_adds_up(counts: list[int]) -> None:
    r0, r1, b0, b1, c0, c1 = counts
    result = wdq((r0, r1), (b0, b1), (c0, c1), draws=200)
    sm, bdm = r1 / c1 - r0 / c0, b1 / c1 - b0 / c0
    assert result.success_measure == pytest.approx(sm)
    if sm < 0:
        assert result.estimate == pytest.approx(bdm / sm)
    else:
        assert np.isnan(result.estimate)
    assert result.total_net_effect == pytest.approx(r0 * c1 / c0 - r1 + b0 * c1 / c0 - b1)


def test_harm_weighted_wdd_by_hand() -> None:
    table = pd.DataFrame({"weight": [2.0, 10.0], "treated_pre": [10, 5], "treated_post": [6, 2],
                          "control_pre": [20, 8], "control_post": [20, 8]})  # fmt: skip
    result = wdd_harm(table)
    assert result.estimate == 2 * (-4) + 10 * (-3)
    assert result.se == pytest.approx(np.sqrt(4 * (10 + 6 + 40) + 100 * (5 + 2 + 16)))


def test_bad_counts_are_input_errors() -> None:
    with pytest.raises(InputError, match="non-negative"):
        Counts(-1, 3)
    with pytest.raises(InputError, match="before, after"):
        wdq((1, 2, 3), (1, 2), (1, 2))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="control area needs"):
        wdq((1, 2), (1, 2), (0, 2))
    with pytest.raises(InputError, match="both"):
        wdd((1, 2), (1, 2), (1, 2))
    with pytest.raises(InputError, match="positive"):
        wdd((1, 2), (1, 2), time_weights=(0, 1))
