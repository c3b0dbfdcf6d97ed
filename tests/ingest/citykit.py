"""A tiny city for the ingest and CLI tests: six 1 km UTM squares, an offence table and a mapping.

Everything here is built by construction, so that tests can state what an import must give
without running the importer first:

* the areas are squares in UTM 14N (EPSG:32614) written to a lon/lat GeoJSON near Querétaro
  (lon -100.39, lat 20.59);
* :func:`point_in` gives the lon/lat of a point at a chosen place inside a chosen square
  (fractions kept away from the edges, so the expected area is never a matter of rounding);
* the offence table maps four local codes to ICCS codes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyproj
from shapely.geometry import box

import safercities.workspace as sc

CRS = "EPSG:32614"
TIMEZONE = "America/Mexico_City"
LON0, LAT0 = -100.39, 20.59
SIDE = 1000.0  # metres
NX, NY = 3, 2

_to_utm = pyproj.Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
_to_lonlat = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
X0, Y0 = (round(v, -3) for v in _to_utm.transform(LON0, LAT0))  # south-west corner, whole kilometres

# area_id -> (column, row) in the grid; A1..A3 the southern row, A4..A6 the northern one
GRID = {f"A{j * NX + i + 1}": (i, j) for j in range(NY) for i in range(NX)}
POPULATION = {area: 1000.0 * (k + 1) for k, area in enumerate(GRID)}
NAMES = {area: f"Colonia {area}" for area in GRID}

OFFENCES = pd.DataFrame(
    {
        "local_code": ["ROB", "HUR", "LES", "ALLAN"],
        "local_label": ["Robo con violencia", "Hurto", "Lesiones", "Allanamiento"],
        "iccs_code": ["0401", "0502", "0201", "0501"],
    }
)

HEADER = ["folio", "fecha", "delito", "clave", "lon", "lat"]

MAPPING = """\
[source]
encoding = "{encoding}"
delimiter = "{delimiter}"
decimal = "{decimal}"

[columns]
id = "folio"
occurred = "fecha"
offence_code = "clave"
offence_label = "delito"
x = "lon"
y = "lat"

[dates]
format = "{date_format}"
order = "{order}"

[coordinates]
crs = "{crs}"

[offences]
table = "offences.csv"
match = "code"
"""


def square(area_id: str) -> tuple[float, float, float, float]:
    """UTM bounds (minx, miny, maxx, maxy) of an area."""
    i, j = GRID[area_id]
    x, y = X0 + i * SIDE, Y0 + j * SIDE
    return x, y, x + SIDE, y + SIDE


def areas_utm() -> gpd.GeoDataFrame:
    """The areas as built, in UTM (the independent reference for point-in-area checks)."""
    return gpd.GeoDataFrame(
        {
            "area_id": list(GRID),
            "name": [NAMES[a] for a in GRID],
            "population": [POPULATION[a] for a in GRID],
        },
        geometry=[box(*square(a)) for a in GRID],
        crs=CRS,
    )


def point_utm(area_id: str, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
    minx, miny, _, _ = square(area_id)
    return minx + fx * SIDE, miny + fy * SIDE


def point_in(area_id: str, fx: float = 0.5, fy: float = 0.5) -> tuple[float, float]:
    """lon/lat of the point at fractions (fx, fy) of the square ``area_id``."""
    lon, lat = _to_lonlat.transform(*point_utm(area_id, fx, fy))
    return float(lon), float(lat)


def city_lonlat_bounds() -> tuple[float, float, float, float]:
    minx, miny = X0, Y0
    maxx, maxy = X0 + NX * SIDE, Y0 + NY * SIDE
    return tuple(_to_lonlat.transform_bounds(minx, miny, maxx, maxy))  # type: ignore[return-value]


def write_areas(folder: Path) -> Path:
    """The areas as a lon/lat GeoJSON."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "areas.geojson"
    areas_utm().to_crs("EPSG:4326").to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def write_offences(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "offences.csv"
    OFFENCES.to_csv(path, index=False)
    return path


def write_mapping(folder: Path, name: str = "mapping.toml", extra: str = "", **options: str) -> Path:
    """A mapping for files with :data:`HEADER`; options: encoding, delimiter, decimal, date_format, order, crs."""
    folder.mkdir(parents=True, exist_ok=True)
    values = {
        "encoding": "auto",
        "delimiter": "auto",
        "decimal": ".",
        "date_format": "auto",
        "order": "dmy",
        "crs": "EPSG:4326",
    }
    values.update(options)
    write_offences(folder)
    path = folder / name
    path.write_text(MAPPING.format(**values) + extra, encoding="utf-8")
    return path


def make_city(folder: Path, timezone: str = TIMEZONE) -> sc.Workspace:
    """A workspace in ``folder/ws`` with the six areas imported; source files go to ``folder/src``."""
    ws = sc.init(folder / "ws", name="Ciudad Pequeña", crs=CRS, timezone=timezone)
    ws.import_areas(write_areas(folder / "src"), id="area_id", name="name", population="population")
    return ws


def row(
    folio: str,
    fecha: str = "15/03/2023 10:30",
    clave: str = "ROB",
    area: str = "A1",
    fx: float = 0.5,
    fy: float = 0.5,
    delito: str | None = None,
) -> list[str]:
    """One source row with its point inside ``area``."""
    lon, lat = point_in(area, fx, fy)
    labels = dict(zip(OFFENCES["local_code"], OFFENCES["local_label"], strict=True))
    label = delito if delito is not None else labels.get(clave, "otro")
    return [folio, fecha, label, clave, f"{lon:.6f}", f"{lat:.6f}"]


def csv_text(rows: list[list[str]], delimiter: str = ",", header: list[str] | None = None) -> str:
    """A CSV document (no quoting needed for the values this kit writes)."""
    lines = [delimiter.join(header or HEADER)] + [delimiter.join(r) for r in rows]
    return "\n".join(lines) + "\n"


def write_csv(
    path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8", header: list[str] | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(rows, delimiter, header).encode(encoding))
    return path


def _frame_digest(frame: pd.DataFrame) -> str:
    """A content hash of a table that does not depend on row order."""
    lines = sorted(
        "\x1f".join("<NA>" if v is None or (isinstance(v, float) and v != v) else repr(v) for v in rec)
        for rec in frame.astype(object).itertuples(index=False, name=None)
    )
    return hashlib.sha256("\x1e".join(lines).encode("utf-8", "surrogatepass")).hexdigest()


def snapshot(ws: sc.Workspace) -> dict[str, tuple[int, str]]:
    """Row count and content hash of every table of the store."""
    out: dict[str, tuple[int, str]] = {}
    for table in ws.store.table_names():
        frame = ws.store.read(table)
        out[table] = (len(frame), _frame_digest(frame))
    return out


def snapshot_path(root: Path) -> dict[str, tuple[int, str]]:
    with sc.open_workspace(root) as ws:
        return snapshot(ws)
