"""End to end on the synthetic city: the audit's priorities (fieldwork + indicators) matched to practices.

The fieldwork simulation plants robbery with poor lighting in one community; the audit ranks it, and matching
must bring the practices that work on dark streets first — and keep any harmful practice last, with a warning.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))

fieldworkkit = pytest.importorskip("fieldworkkit")

from safercities.practices import load_library, match  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory):
    from safercities.audit import fieldwork as fw
    from safercities.audit import walks as wk
    from safercities.audit.integrated import integrate
    from safercities.audit.priorities import prioritise

    city = fieldworkkit.shared(tmp_path_factory)
    with city.open() as ws:
        analysis = integrate(
            indicators=fieldworkkit.indicator_values(ws, city.city.census),
            directions=fieldworkkit.DIRECTIONS,
            segments=fw.segments(ws),
            observations=wk.observations(ws),
        )
    return city, prioritise(analysis, replications=0).to_frame()


def test_the_planted_robbery_with_poor_lighting_brings_lighting_and_design_first(audited) -> None:
    city, priorities = audited
    planted = city.truth["planted"]["robbery_lighting"]
    mine = priorities[(priorities["scope"] == planted["area_id"]) & (priorities["problem"] == "robbery")]
    assert len(mine) == 1 and "poor_lighting" in list(mine["risk_factors"].iloc[0])
    result = match(mine, load_library(), top=5)
    assert result.iloc[0]["practice_id"] == "street_lighting", result[["practice_id", "reason"]]
    assert result.iloc[0]["matched_problem"] and "poor_lighting" in result.iloc[0]["matched_risk_factors"]
    assert set(result["practice_id"][:5]) & {"cpted_design_review", "hot_spots_policing", "urban_upgrading_transport"}


def test_every_priority_of_the_city_gets_ranked_candidates_and_harm_comes_last_and_warned(audited) -> None:
    _, priorities = audited
    result = match(priorities, load_library())
    assert set(result["scope"]) <= set(priorities["scope"])
    for _, part in result.groupby(["scope", "problem"]):
        bad = part["rating"] == "harmful"
        if bad.any():
            assert part.loc[bad, "rank"].min() > part.loc[~bad, "rank"].max()
            assert (part.loc[bad, "warning"].str.len() > 0).all()
