"""What the scale tests share: the fixture's type and the settings of the synthetic city's workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import safercities.workspace as sc
from safercities.scale.export import Manifest
from safercities.sim import SimulatedCity

CRS, TIMEZONE = "EPSG:32614", "America/Mexico_City"


@dataclass(frozen=True)
class ScaleCity:
    """The workspace of the synthetic city, the simulated files, and its GeoParquet export."""

    ws: sc.Workspace
    city: SimulatedCity
    export: Path
    manifest: Manifest
