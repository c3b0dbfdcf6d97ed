"""The synthetic city's procurement, drawn and imported once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import safercities.workspace as sc
from safercities.procurement import store
from safercities.procurement.rules import Rules, load_rules
from safercities.sim import SimulatedCity, simulate
from safercities.sim.procurement import History, draw_history, simulate_procurement


@dataclass(frozen=True)
class ProcurementCity:
    city: SimulatedCity
    folder: Path
    truth: dict[str, Any]
    ws_root: Path
    rules: Rules


@pytest.fixture(scope="session")
def history() -> History:
    return draw_history(np.random.default_rng(1), 3000)


@pytest.fixture(scope="session")
def city_rules() -> Rules:
    return load_rules().with_("splitting", thresholds=[300_000.0]).with_("profile", currency="MXN")


@pytest.fixture(scope="session")
def procurement_city(tmp_path_factory: pytest.TempPathFactory) -> ProcurementCity:
    root = tmp_path_factory.mktemp("procurement-city")
    city = simulate(root / "city", seed=0, n_communities=12, n_districts=2, years=2)
    truth = simulate_procurement(city, seed=0)
    folder = Path(city.outdir) / "procurement"
    with sc.init(root / "ws", name="procurement", crs=city.crs, timezone=city.timezone) as ws:
        ws.import_areas(
            city.areas, id="area_id", name="name", level="level", parent="parent_id", population="population"
        )
        for name in truth["files"]["releases"]:
            store.import_ocds(ws, folder / name)
        store.import_buyer_areas(ws, folder / truth["files"]["buyer_areas"])
    return ProcurementCity(city, folder, truth, root / "ws", load_rules(folder / truth["files"]["rules"]))
