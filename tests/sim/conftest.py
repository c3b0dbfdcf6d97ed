"""The synthetic city, simulated once per test session (seed 0, default size)."""

from __future__ import annotations

import pytest

from safercities.sim import SimulatedCity, simulate


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> SimulatedCity:
    return simulate(tmp_path_factory.mktemp("sim-seed0"), seed=0)
