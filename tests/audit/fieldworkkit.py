"""The synthetic city with its fieldwork, imported into a workspace, and indicator values computed from it.

The indicator values here are computed straight from the imported incidents and the census file (the
framework's ids, the framework's definitions: recorded crimes per 100,000 residents by ICCS level-2 code over
the whole period, census shares in percent), independently of the indicator module, so that the integrated
analysis and the priorities are tested on numbers whose origin is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities.audit import fieldwork as fw
from safercities.audit import walks as wk
from safercities.sim import SimulatedCity, simulate
from safercities.sim.fieldwork import simulate_fieldwork
from safercities.stats.rates import exact_poisson_interval
from safercities.workspace import Workspace, init

CRIME_INDICATORS = {
    "homicide_rate": "0101",
    "assault_rate": "0201",
    "extortion_rate": "0205",
    "sexual_violence_rate": "0301",
    "robbery_rate": "0401",
    "burglary_rate": "0501",
    "theft_rate": "0502",
    "property_damage_rate": "0504",
    "drug_offence_rate": "0601",
}
CENSUS_INDICATORS = {
    "street_lighting_coverage": ("street_lighting", "higher_is_better"),
    "poverty_rate": ("poverty", "higher_is_worse"),
    "youth_unemployment_rate": ("youth_unemployment", "higher_is_worse"),
    "school_dropout_rate": ("school_dropout", "higher_is_worse"),
}
DIRECTIONS = {i: "higher_is_worse" for i in CRIME_INDICATORS} | {k: d for k, (_, d) in CENSUS_INDICATORS.items()}


@dataclass(frozen=True)
class FieldworkCity:
    city: SimulatedCity
    truth: dict[str, Any]
    root: Path
    fieldwork_import: Any
    walks_import: Any

    def open(self) -> Workspace:
        from safercities.workspace import open_workspace

        return open_workspace(self.root)


def build(folder: Path, seed: int = 0) -> FieldworkCity:
    city = simulate(folder / "source", seed=seed)
    truth = simulate_fieldwork(city, seed=seed)
    with init(folder / "ws", name="Fieldwork city", crs=city.crs, timezone=city.timezone) as ws:
        ws.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(city.incidents, mapping=city.mapping)
        segments = fw.import_fieldwork(ws, folder / "source" / truth["files"]["fieldwork"])
        walks = wk.import_walks(ws, folder / "source" / truth["files"]["walks"])
    return FieldworkCity(city, truth, folder / "ws", segments, walks)


def indicator_values(ws: Workspace, census_file: Path) -> pd.DataFrame:
    """Long indicator values (the VOCAB contract) for every community: crime rates and census shares."""
    communities = ws.finest_areas()[["area_id", "population"]]
    incidents = ws.incidents()
    counts = incidents.groupby(["area_id", "iccs_code"]).size().unstack(fill_value=0)
    frames = []
    for indicator, code in CRIME_INDICATORS.items():
        k = counts.get(code, pd.Series(0, index=counts.index)).reindex(communities["area_id"], fill_value=0)
        pop = communities["population"].to_numpy(float)
        lower, upper = exact_poisson_interval(k.to_numpy())
        frames.append(
            pd.DataFrame(
                {
                    "area_id": communities["area_id"],
                    "period": "2023-2024",
                    "indicator_id": indicator,
                    "value": k.to_numpy() / pop * 1e5,
                    "lower": lower / pop * 1e5,
                    "upper": upper / pop * 1e5,
                    "se": np.sqrt(k.to_numpy()) / pop * 1e5,
                    "source": "incidents",
                    "unit": "per_100k",
                }
            )
        )
    census = pd.read_csv(census_file, dtype={"area_id": str})
    for indicator, (column, _) in CENSUS_INDICATORS.items():
        frames.append(
            pd.DataFrame(
                {
                    "area_id": census["area_id"],
                    "period": "2020",
                    "indicator_id": indicator,
                    "value": census[column] * 100,
                    "lower": np.nan,
                    "upper": np.nan,
                    "se": np.nan,
                    "source": "census",
                    "unit": "percent",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


_BUILT: dict[int, FieldworkCity] = {}


def shared(tmp_path_factory: Any, seed: int = 0) -> FieldworkCity:
    """One built city per seed for the whole test session (tests must not change its workspace)."""
    if seed not in _BUILT:
        _BUILT[seed] = build(tmp_path_factory.mktemp(f"fieldwork-city-{seed}"), seed=seed)
    return _BUILT[seed]
