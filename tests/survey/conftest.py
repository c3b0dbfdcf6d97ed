"""The synthetic city and its survey, drawn once per test session; a workspace holding areas and incidents."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from safercities.sim import SimulatedCity, simulate
from safercities.sim.survey import SimulatedSurvey, simulate_survey
from safercities.workspace import init


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("survey-city"), seed=0)


@pytest.fixture(scope="session")
def survey(city: SimulatedCity) -> SimulatedSurvey:
    return simulate_survey(city, seed=0)


@pytest.fixture(scope="session")
def base_workspace(city: SimulatedCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the city's areas and incidents (no survey yet), built once."""
    root = tmp_path_factory.mktemp("survey-ws") / "ws"
    with init(root, name="Ciudad", crs=city.crs, lang="es", timezone=city.timezone) as ws:
        ws.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(city.incidents, mapping=city.mapping)
    return root


@pytest.fixture()
def workspace(base_workspace: Path, tmp_path: Path) -> Path:
    """A fresh copy of the base workspace for one test."""
    root = tmp_path / "ws"
    shutil.copytree(base_workspace, root)
    return root
