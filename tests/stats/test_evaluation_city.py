"""On the synthetic city: interventions of known effect and displacement are recovered; placebos find nothing.

Each city is simulated (seed 0, the default size), an intervention is planted by
:func:`safercities.sim.interventions.plant_intervention` with its own seed, and the altered police export is
imported into a workspace as ``safercities demo`` imports the original. The effect acts on recorded robberies
(ICCS 0401) of the treated communities from the start on, so the truth is the rate ratio ``effect``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import safercities.workspace as sc
from safercities.evaluation import Design, communities_worsened, evaluate_did, evaluate_its, evaluate_wdq, report
from safercities.sim import SimulatedCity, simulate
from safercities.sim.interventions import InterventionPlan, placebo_plan, plant_intervention

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("eval-city"), seed=0)


def workspace(city: SimulatedCity, truth: dict[str, Any], folder: Path) -> sc.Workspace:
    """A workspace of the city's areas and the altered police export (written next to ``folder``)."""
    ws = sc.init(folder, name="Ciudad Evaluada", crs=city.crs, timezone=city.timezone)
    ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                    parent="parent_id")  # fmt: skip
    ws.import_incidents(folder.parent / truth["incidents"], mapping=city.mapping)
    return ws


def design(truth: dict[str, Any]) -> Design:
    return Design(treated=tuple(truth["treated"]), start=truth["start"], iccs=truth["iccs"])


def test_known_effect_recovered_by_did_and_its(city: SimulatedCity, tmp_path: Path) -> None:
    truth = plant_intervention(city, seed=1, plan=InterventionPlan(effect=0.7, displacement=0.3), outdir=tmp_path)
    assert truth["removed"] > 0 and 0 < truth["displaced"] < truth["removed"]
    with workspace(city, truth, tmp_path / "ws") as ws:
        d = design(truth)
        effect = evaluate_did(ws, d)
        assert effect.lower <= 0.7 <= effect.upper
        assert effect.upper < 1
        assert effect.pretrend is not None and effect.pretrend.passed()
        series = evaluate_its(ws, d, slope_change=False)
        assert series.lower <= 0.7 <= series.upper
        result = report(ws, d, reporting_before=0.4, reporting_after=0.4)
        assert result.reporting is not None and result.reporting.adjusted_estimate == pytest.approx(effect.estimate)
        assert "Unintended consequences" in result.summary()


def test_strong_displacement_is_found_by_the_wdq(city: SimulatedCity, tmp_path: Path) -> None:
    plan = InterventionPlan(effect=0.5, displacement=1.0, n_treated=6)
    truth = plant_intervention(city, seed=2, plan=plan, outdir=tmp_path)
    with workspace(city, truth, tmp_path / "ws") as ws:
        quotient, difference = evaluate_wdq(ws, design(truth))
        assert quotient.reading == "displacement" and quotient.estimate < 0
        assert quotient.upper < 0  # the resampling interval excludes no displacement
        # the WDD's buffer component is the displaced count, within its interval
        low = difference.displacement - 1.96 * difference.displacement_se
        high = difference.displacement + 1.96 * difference.displacement_se
        assert low <= truth["displaced"] <= high and low > 0
        worsened = communities_worsened(ws, design(truth))
        assert set(worsened.loc[worsened["worsened"], "group"]) <= {"buffer"}


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15])
def test_placebo_finds_nothing_in_most_seeds(city: SimulatedCity, tmp_path: Path, seed: int) -> None:
    """A placebo's 95% interval holds 1 in 95% of seeds; these five were not chosen by their outcome."""
    truth = plant_intervention(city, seed=seed, plan=placebo_plan(), outdir=tmp_path)
    assert truth["removed"] == 0
    with workspace(city, truth, tmp_path / "ws") as ws:
        effect = evaluate_did(ws, design(truth))
        assert effect.lower <= 1.0 <= effect.upper
