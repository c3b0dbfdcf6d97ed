"""A hand-built city for the analysis tests, every number known by construction.

* 16 communities ``K00``..``K33`` (``K{col}{row}``) on a 4 x 4 lattice of 1 km UTM squares (EPSG:32614),
  plus an island community ``K50`` one square east of the lattice's south-east corner, with an empty
  square (column 4) between them: it has no neighbour.
* Two districts: ``D1`` = columns 0-1 (8 communities), ``D2`` = columns 2-3 and the island (9).
* Populations: ``1000 * (1 + col + 4 * row)``, except ``K11`` which has nobody (a park); the island 2000.
* Incidents, one at a distinct point inside its square (never on an edge):

  - robbery (ROB, ICCS 0401) in January 2023: ``col + 2 * row`` per lattice community, 3 on the island;
  - theft (HUR, ICCS 0502) in February 2023: ``(col * row) % 3`` per lattice community, 1 on the island;
  - burglary (ALLAN, ICCS 0501) on 2023-01-31 23:30 local time (05:30 UTC on 1 February) in K00 and K30;
  - one assault (LES, ICCS 0201) in K22 on 2023-03-05: the "single incident" selection;
  - two points outside every area (in the gap column, and 50 km away): rejected at import.

``plain=True`` builds the same lattice without the island and with K11 populated (for the spatial
regression models, which need every area populated and connected).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import box

import safercities.workspace as sc

CRS = "EPSG:32614"
TIMEZONE = "America/Mexico_City"
SIDE = 1000.0
_to_utm = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
X0, Y0 = (round(v, -3) for v in _to_utm.transform(-100.39, 20.59))

LATTICE = [(i, j) for j in range(4) for i in range(4)]
ISLAND = (5, 0)
ZERO = "K11"

OFFENCES = pd.DataFrame(
    {
        "local_code": ["ROB", "HUR", "LES", "ALLAN"],
        "local_label": ["Robo con violencia", "Hurto", "Lesiones", "Allanamiento"],
        "iccs_code": ["0401", "0502", "0201", "0501"],
    }
)

MAPPING = """\
[source]
encoding = "utf-8"
delimiter = ","

[columns]
id = "folio"
occurred = "fecha"
offence_code = "clave"
x = "x"
y = "y"

[dates]
format = "%d/%m/%Y %H:%M"
order = "dmy"

[coordinates]
crs = "EPSG:32614"

[offences]
table = "offences.csv"
match = "code"
"""


def area_id(cell: tuple[int, int]) -> str:
    return f"K{cell[0]}{cell[1]}"


def square(cell: tuple[int, int]) -> shapely.Polygon:
    i, j = cell
    return box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE, Y0 + (j + 1) * SIDE)


@dataclass(frozen=True)
class City:
    """What was built: the workspace folder, the communities as built, and the incidents per community."""

    root: Path
    src: Path
    communities: gpd.GeoDataFrame  # area_id, district, population, geometry (sorted by area_id)
    incidents: pd.DataFrame  # folio, area_id, iccs, local date, x, y (accepted ones only)
    outside: int  # rows rejected because they fall outside every area

    @property
    def ids(self) -> list[str]:
        return list(self.communities["area_id"])

    def counts(self, iccs: str = "", start: str | None = None, end: str | None = None) -> pd.Series:
        """Incidents per community (zeros included, sorted by id) for an ICCS prefix and a local date window."""
        keep = self.incidents["iccs"].str.startswith(iccs)
        if start is not None:
            keep &= self.incidents["date"] >= start
        if end is not None:
            keep &= self.incidents["date"] < end
        got = self.incidents.loc[keep].groupby("area_id").size()
        return got.reindex(self.ids, fill_value=0).astype(np.int64)


def _cells(plain: bool) -> list[tuple[int, int]]:
    return LATTICE if plain else [*LATTICE, ISLAND]


def _population(cell: tuple[int, int], plain: bool) -> float:
    if cell == ISLAND:
        return 2000.0
    if area_id(cell) == ZERO and not plain:
        return 0.0
    return 1000.0 * (1 + cell[0] + 4 * cell[1])


def _district(cell: tuple[int, int]) -> str:
    return "D1" if cell[0] <= 1 else "D2"


def communities(plain: bool = False) -> gpd.GeoDataFrame:
    cells = _cells(plain)
    frame = gpd.GeoDataFrame(
        {
            "area_id": [area_id(c) for c in cells],
            "name": [f"Colonia {area_id(c)}" for c in cells],
            "district": [_district(c) for c in cells],
            "population": [_population(c, plain) for c in cells],
        },
        geometry=[square(c) for c in cells],
        crs=CRS,
    )
    return frame.sort_values("area_id").reset_index(drop=True)


def _incidents(plain: bool) -> tuple[pd.DataFrame, list[tuple[float, float]]]:
    """(accepted incidents, points outside every area)."""
    rows: list[dict[str, object]] = []

    def add(cell: tuple[int, int], code: str, when: str, k: int) -> None:
        # k-th incident of this community: distinct points on a small lattice well inside the square
        fx, fy = 0.1 + 0.08 * (k % 10), 0.1 + 0.08 * (k // 10)
        x, y = X0 + (cell[0] + fx) * SIDE, Y0 + (cell[1] + fy) * SIDE
        iccs = dict(zip(OFFENCES["local_code"], OFFENCES["iccs_code"], strict=True))[code]
        rows.append({"area_id": area_id(cell), "clave": code, "iccs": iccs, "fecha": when, "x": x, "y": y})

    for cell in _cells(plain):
        k = 0
        rob = 3 if cell == ISLAND else cell[0] + 2 * cell[1]
        hur = 1 if cell == ISLAND else (cell[0] * cell[1]) % 3
        for n in range(rob):
            add(cell, "ROB", f"{10 + n % 15:02d}/01/2023 12:00", k)
            k += 1
        for n in range(hur):
            add(cell, "HUR", f"{5 + n:02d}/02/2023 09:00", k)
            k += 1
        if cell in ((0, 0), (3, 0)):
            add(cell, "ALLAN", "31/01/2023 23:30", k)
            k += 1
        if cell == (2, 2):
            add(cell, "LES", "05/03/2023 18:00", k)
            k += 1
    frame = pd.DataFrame(rows)
    frame.insert(0, "folio", [f"F{n:04d}" for n in range(len(frame))])
    day, month, year = frame["fecha"].str.slice(0, 2), frame["fecha"].str.slice(3, 5), frame["fecha"].str.slice(6, 10)
    frame["date"] = year + "-" + month + "-" + day
    outside = [(X0 + 4.5 * SIDE, Y0 + 0.5 * SIDE), (X0 + 50_000.0, Y0 + 50_000.0)]
    return frame, outside


def build(folder: Path, plain: bool = False) -> City:
    """Write the sources to ``folder/src`` and a workspace to ``folder/ws`` with areas and incidents imported."""
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    comm = communities(plain)
    districts = comm.dissolve(by="district", as_index=False)[["district", "geometry"]]
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "code": districts["district"],
                    "name": "Distrito " + districts["district"],
                    "level": "district",
                    "parent": None,
                    "pop": np.nan,
                    "geometry": districts.geometry,
                }
            ),
            pd.DataFrame(
                {
                    "code": comm["area_id"],
                    "name": comm["name"],
                    "level": "community",
                    "parent": comm["district"],
                    "pop": comm["population"],
                    "geometry": comm.geometry,
                }
            ),
        ],
        ignore_index=True,
    )
    gpd.GeoDataFrame(table, geometry="geometry", crs=CRS).to_file(src / "areas.gpkg", driver="GPKG", engine="pyogrio")
    OFFENCES.to_csv(src / "offences.csv", index=False)
    (src / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    accepted, outside = _incidents(plain)
    extra = pd.DataFrame(
        {
            "folio": ["OUT1", "OUT2"],
            "fecha": ["15/01/2023 12:00"] * 2,
            "clave": ["ROB"] * 2,
            "x": [p[0] for p in outside],
            "y": [p[1] for p in outside],
        }
    )
    source = pd.concat([accepted[["folio", "fecha", "clave", "x", "y"]], extra], ignore_index=True)
    source.to_csv(src / "incidents.csv", index=False)
    ws = sc.init(folder / "ws", name="Ciudad Construida", crs=CRS, timezone=TIMEZONE)
    try:
        ws.import_areas(src / "areas.gpkg", id="code", name="name", population="pop", level="level", parent="parent")
        ws.import_incidents(src / "incidents.csv", mapping=src / "mapping.toml")
    finally:
        ws.close()
    return City(folder / "ws", src, comm, accepted, len(outside))
