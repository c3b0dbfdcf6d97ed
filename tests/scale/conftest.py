"""The synthetic city across clock changes, imported and exported once for the scale tests.

``simulate(start="2021-07-01", years=2)``: America/Mexico_City kept daylight-saving time until October 2022,
so the incidents cross three clock changes (2021-10-31, 2022-04-03, 2022-10-30) and the last stretch has none.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scalekit import CRS, TIMEZONE, ScaleCity

import safercities.workspace as sc
from safercities.scale.export import export_geoparquet
from safercities.sim import simulate


@pytest.fixture(scope="session")
def scale_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleCity]:
    folder = tmp_path_factory.mktemp("scale")
    city = simulate(folder / "source", seed=0, start="2021-07-01", years=2)
    with sc.init(folder / "workspace", name="Ciudad Demo", crs=CRS, lang="es", timezone=TIMEZONE) as ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
        manifest = export_geoparquet(ws, folder / "export")
        yield ScaleCity(ws, city, folder / "export", manifest)
