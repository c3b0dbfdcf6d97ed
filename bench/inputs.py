"""Seeded inputs for the benchmarks: a Voronoi "city" of areas and incident points over it.

Every run measures the same work: each generator takes an explicit seed and returns the same
arrays for the same arguments. (The synthetic city ``safercities.sim`` can replace this once it
offers seeded areas and incidents at these sizes.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import shapely

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    import pyarrow as pa

CITY_SIZE = 20_000.0
"""Side of the square city, in metres (a projected CRS)."""


@lru_cache(maxsize=8)
def voronoi_areas(n_areas: int, seed: int = 20240501) -> np.ndarray:
    """``n_areas`` non-overlapping Voronoi polygons tiling the square [0, CITY_SIZE]², seeded."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0.0, 0.0, CITY_SIZE, CITY_SIZE)
    sites = shapely.multipoints(rng.uniform(0.0, CITY_SIZE, (n_areas, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(sites, extend_to=box))
    cells = shapely.intersection(cells, box)
    # voronoi_polygons orders cells by GEOS's internal order: sort by centroid for a stable, readable order.
    c = shapely.get_coordinates(shapely.centroid(cells))
    areas = np.asarray(cells[np.lexsort((c[:, 0], c[:, 1]))], dtype=object)
    areas.flags.writeable = False
    return areas


@lru_cache(maxsize=4)
def incident_points(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """``n`` incident locations: 70% around 200 Gaussian hot spots, 30% spread evenly (2% of them
    slightly beyond the city's edge, as geocoding errors are), seeded."""
    rng = np.random.default_rng(seed)
    n_hot = int(n * 0.7)
    hot = rng.uniform(0.05 * CITY_SIZE, 0.95 * CITY_SIZE, (200, 2))
    which = rng.integers(0, len(hot), n_hot)
    spread = rng.uniform(0.003, 0.03, len(hot)) * CITY_SIZE
    xy_hot = hot[which] + rng.normal(0.0, 1.0, (n_hot, 2)) * spread[which, None]
    pad = 0.02 * CITY_SIZE
    xy_even = rng.uniform(-pad, CITY_SIZE + pad, (n - n_hot, 2))
    xy = np.concatenate([xy_hot, xy_even])[rng.permutation(n)]
    x, y = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


# -- B0 / B2: the same city placed in UTM 14N (Mexico City), a police export and a workspace ----------------------

WORKSPACE_CRS = "EPSG:32614"
TIMEZONE = "America/Mexico_City"
ORIGIN = (470_000.0, 2_130_000.0)
"""South-west corner of the square city in ``WORKSPACE_CRS`` (around Mexico City, lon -99.3, lat 19.3)."""

OFFENCES = (
    ("ROB-TRANS", "Robo a transeúnte", "0401"),
    ("ROB-CASA", "Robo a casa habitación", "0501"),
    ("HURTO", "Robo sin violencia", "0502"),
    ("ROB-VEH", "Robo de vehículo", "05021"),
    ("LES", "Lesiones dolosas", "0201"),
    ("AMEN", "Amenazas", "02012"),
    ("HOM", "Homicidio doloso", "0101"),
    ("NARCO", "Narcomenudeo", "0601"),
    ("FRAUDE", "Fraude", "0701"),
)
"""Local offence code, label and ICCS code, as a city's offence table lists them (9 codes, 6 sections)."""

OFFENCE_WEIGHTS = (0.25, 0.12, 0.2, 0.1, 0.12, 0.08, 0.01, 0.05, 0.07)
FIRST_DAY = np.datetime64("2023-01-01T00:00", "m")
DAYS = 731
"""Incidents fall over 2023-01-01 .. 2024-12-31 local time (Mexico City keeps no summer time since 2023)."""

MAPPING_TOML = """\
[source]
format = "csv"
encoding = "utf-8"
delimiter = ","

[columns]
id = "id"
occurred = "fecha"
offence_code = "clave"
x = "lon"
y = "lat"

[dates]
format = "%d/%m/%Y %H:%M"

[coordinates]
crs = "EPSG:4326"

[offences]
table = "offences.csv"
match = "code"
"""


def offence_table() -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(OFFENCES, columns=["local_code", "local_label", "iccs_code"])


def city_areas_utm(n_areas: int) -> np.ndarray:
    """The Voronoi areas moved to ``ORIGIN`` in ``WORKSPACE_CRS``."""
    return np.asarray(shapely.transform(voronoi_areas(n_areas), lambda xy: xy + np.array(ORIGIN)), dtype=object)


def write_areas_geojson(path: Path, n_areas: int) -> None:
    """The areas as a GeoJSON in ``WORKSPACE_CRS`` (``area_id`` A0001 …, ``population``), seeded."""
    import geopandas as gpd

    rng = np.random.default_rng(99)
    gpd.GeoDataFrame(
        {"area_id": [f"A{i + 1:04d}" for i in range(n_areas)], "population": rng.integers(500, 20_000, n_areas)},
        geometry=list(city_areas_utm(n_areas)),
        crs=WORKSPACE_CRS,
    ).to_file(path, driver="GeoJSON")


def police_export(n: int, seed: int = 11) -> pa.Table:
    """A police export of ``n`` rows as text columns ``id, fecha, clave, lon, lat`` (lon/lat, 6 decimals).

    Points from :func:`incident_points` (2% beyond the city's edge); dates ``dd/mm/yyyy HH:MM`` over two
    years; about 0.1% of rows each with a missing date, an impossible date (31/02) and an unknown offence.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyproj

    rng = np.random.default_rng(seed)
    x, y = incident_points(n)
    lon, lat = pyproj.Transformer.from_crs(WORKSPACE_CRS, "EPSG:4326", always_xy=True).transform(
        x + ORIGIN[0], y + ORIGIN[1]
    )
    minutes = FIRST_DAY + rng.integers(0, DAYS * 1440, n).astype("timedelta64[m]")
    fecha = pc.strftime(pa.array(minutes.astype("datetime64[s]")), "%d/%m/%Y %H:%M").to_numpy(zero_copy_only=False)
    codes = np.array([c for c, _, _ in OFFENCES], dtype=object)
    clave = codes[rng.choice(len(codes), n, p=np.array(OFFENCE_WEIGHTS) / sum(OFFENCE_WEIGHTS))]
    bad = rng.choice(n, 3 * (n // 1000), replace=False).reshape(3, -1)
    fecha[bad[0]] = ""
    fecha[bad[1]] = "31/02/2023 10:00"
    clave[bad[2]] = "DESCONOCIDO"
    return pa.table(
        {
            "id": pc.cast(pa.array(np.arange(1, n + 1) + 1_000_000_000), pa.string()),
            "fecha": pa.array(fecha, pa.string()),
            "clave": pa.array(clave, pa.string()),
            "lon": pc.cast(pa.array(np.round(lon, 6)), pa.string()),
            "lat": pc.cast(pa.array(np.round(lat, 6)), pa.string()),
        }
    )


def write_police_files(folder: Path, n: int, n_areas: int) -> None:
    """``police.csv`` (n rows), ``offences.csv``, ``mapping.toml`` and ``areas.geojson`` in ``folder``."""
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(police_export(n), folder / "police.csv", write_options=pacsv.WriteOptions(quoting_style="needed"))
    offence_table().to_csv(folder / "offences.csv", index=False)
    (folder / "mapping.toml").write_text(MAPPING_TOML, encoding="utf-8")
    write_areas_geojson(folder / "areas.geojson", n_areas)
