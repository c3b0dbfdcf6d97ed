"""Writers: the synthetic city in the formats that real sources come in.

- ``areas.geojson``: RFC 7946 GeoJSON, WGS84 lon/lat, one feature per area (city, districts, communities).
- ``incidents.csv``: a Mexican prosecutor's export: Latin-1, ``;`` delimiter, CRLF, Spanish headers,
  ``dd/mm/yyyy`` dates, ``HH:MM`` times, decimal commas in the coordinates.
- ``offences.csv``: the local code -> ICCS table (UTF-8), as ``docs/mapping.md`` describes it.
- ``census.csv``: covariates per community (UTF-8, decimal points), as a statistics office publishes them.
- ``mapping.toml``: the mapping that reads ``incidents.csv``.
- ``truth.json`` and ``truth_events.csv``: the known generating parameters and every true crime.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from safercities.sim.catalogue import COVARIATES, Offence
from safercities.sim.covariates import Census
from safercities.sim.geography import City, geometries_to_lonlat

INCIDENT_COLUMNS: tuple[str, ...] = (
    "folio", "fecha_hechos", "hora_hechos", "fecha_inicio", "fecha_fin", "fecha_denuncia",
    "clave_delito", "delito", "latitud", "longitud", "tipo_lugar", "colonia",
)  # fmt: skip
LONLAT_DECIMALS = 7
"""Decimals of the GeoJSON vertices (about 1 cm)."""
POINT_DECIMALS = 6
"""Decimals of incident coordinates (about 10 cm), as GPS-tagged police records carry."""

MAPPING_TOML = """\
# How `safercities import incidents incidents.csv --mapping mapping.toml` reads the synthetic city's police export.
# The file is a prosecutor's export: Latin-1, ';', dd/mm/yyyy dates, decimal commas in the coordinates.
# Every row has a window fecha_inicio..fecha_fin (date and time in one column): for burglaries ("Robo a casa
# habitación") it runs from when the household left to when it came back; for the other offences both hold
# the same moment. fecha_hechos/hora_hechos is the moment as the officer wrote it: for burglaries that is when
# the burglary was discovered (the end of the window), a known trap for time-of-day analysis.

[source]
format = "csv"
encoding = "latin-1"
delimiter = ";"
decimal = ","
timezone = "America/Mexico_City"

[columns]
id = "folio"
occurred_from = "fecha_inicio"
occurred_to = "fecha_fin"
reported = "fecha_denuncia"
offence_code = "clave_delito"
offence_label = "delito"
x = "longitud"
y = "latitud"
location_type = "tipo_lugar"
keep = ["colonia", "fecha_hechos", "hora_hechos"]

[dates]
format = "%d/%m/%Y %H:%M"
time_format = "%H:%M"

[coordinates]
crs = "EPSG:4326"

[offences]
table = "offences.csv"
match = "code"
"""


def format_moments(days: npt.NDArray[np.float64], start: np.datetime64, pattern: str) -> npt.NDArray[np.object_]:
    """Days since ``start`` (local clock) as text, to the minute, e.g. pattern ``%d/%m/%Y %H:%M``."""
    minutes = np.round(np.asarray(days) * 1440.0).astype(np.int64).astype("timedelta64[m]")
    moments = pd.Series(start.astype("datetime64[m]") + minutes)
    return np.asarray(moments.dt.strftime(pattern).to_numpy(dtype=object), dtype=object)


def decimal_comma(values: npt.NDArray[np.float64], decimals: int = POINT_DECIMALS) -> npt.NDArray[np.str_]:
    """Numbers as a Spanish export writes them: ``20,591234``."""
    return np.char.replace(np.char.mod(f"%.{decimals}f", np.asarray(values, dtype=float)), ".", ",")


def incident_table(
    recorded: pd.DataFrame, city: City, offences: tuple[Offence, ...], start: np.datetime64
) -> pd.DataFrame:
    """The clean police export, one text row per recorded crime, in the order of ``recorded`` (by folio).

    ``recorded`` needs the columns folio, offence, community, t_from, t_to, reported, lon, lat, location_type.
    """
    offence = recorded["offence"].to_numpy(dtype=np.int64)
    windowed = np.asarray([o.windowed for o in offences], dtype=bool)[offence]
    t_from = recorded["t_from"].to_numpy(dtype=np.float64)
    t_to = recorded["t_to"].to_numpy(dtype=np.float64)
    written = np.where(windowed, t_to, t_from)  # the officer's "fecha de hechos": discovery, for a burglary
    codes = np.asarray([o.local_code for o in offences], dtype=object)
    labels = np.asarray([o.label for o in offences], dtype=object)
    colonia = np.asarray([name.upper() for name in city.community_names], dtype=object)
    return pd.DataFrame(
        {
            "folio": recorded["folio"].to_numpy(dtype=object),
            "fecha_hechos": format_moments(written, start, "%d/%m/%Y"),
            "hora_hechos": format_moments(written, start, "%H:%M"),
            "fecha_inicio": format_moments(t_from, start, "%d/%m/%Y %H:%M"),
            "fecha_fin": format_moments(t_to, start, "%d/%m/%Y %H:%M"),
            "fecha_denuncia": format_moments(recorded["reported"].to_numpy(dtype=np.float64), start, "%d/%m/%Y %H:%M"),
            "clave_delito": codes[offence],
            "delito": labels[offence],
            "latitud": decimal_comma(recorded["lat"].to_numpy(dtype=np.float64)),
            "longitud": decimal_comma(recorded["lon"].to_numpy(dtype=np.float64)),
            "tipo_lugar": recorded["location_type"].to_numpy(dtype=object),
            "colonia": colonia[recorded["community"].to_numpy(dtype=np.int64)],
        },
        columns=list(INCIDENT_COLUMNS),
    )


def write_incidents(path: Path, table: pd.DataFrame) -> Path:
    """Latin-1, ``;``-delimited, CRLF line ends, as exported from a Windows desktop."""
    table.to_csv(path, sep=";", index=False, encoding="latin-1", lineterminator="\r\n")
    return path


def _rounded(geom: shapely.Geometry) -> dict[str, Any]:
    rounded: Any = shapely.transform(geom, lambda c: np.round(c, LONLAT_DECIMALS))
    return dict(json.loads(json.dumps(rounded.__geo_interface__)))  # tuples -> lists


def write_areas(path: Path, city: City, census: Census) -> Path:
    """City, districts and communities as one GeoJSON FeatureCollection in lon/lat."""
    district_pop = np.bincount(city.district_of, weights=census.population, minlength=len(city.district_ids))
    geoms = geometries_to_lonlat(
        np.concatenate([np.asarray([city.outline], dtype=object), city.districts, city.communities])
    )
    props: list[dict[str, Any]] = [
        {"area_id": city.city_id, "name": city.city_name, "level": "city", "parent_id": None,
         "population": int(census.population.sum())},
    ]  # fmt: skip
    props += [
        {"area_id": d_id, "name": name, "level": "district", "parent_id": city.city_id, "population": int(pop)}
        for d_id, name, pop in zip(city.district_ids, city.district_names, district_pop, strict=True)
    ]
    props += [
        {"area_id": c_id, "name": name, "level": "community", "parent_id": city.district_ids[d], "population": int(pop)}
        for c_id, name, d, pop in zip(
            city.community_ids, city.community_names, city.district_of, census.population, strict=True
        )
    ]
    features = [
        {"type": "Feature", "properties": p, "geometry": _rounded(g)} for p, g in zip(props, geoms, strict=True)
    ]
    collection = {"type": "FeatureCollection", "name": "areas", "features": features}
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def write_offences(path: Path, offences: tuple[Offence, ...]) -> Path:
    """The local code -> ICCS table: ``local_code,local_label,iccs_code`` (UTF-8)."""
    frame = pd.DataFrame(
        {
            "local_code": [o.local_code for o in offences],
            "local_label": [o.label for o in offences],
            "iccs_code": [o.iccs_code for o in offences],
        }
    )
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def write_census(path: Path, city: City, census: Census) -> Path:
    """``area_id,name,population,households,<covariates>`` per community (UTF-8)."""
    frame = pd.DataFrame(
        {
            "area_id": list(city.community_ids),
            "name": list(city.community_names),
            "population": census.population,
            "households": census.households,
        }
    )
    for k, name in enumerate(COVARIATES):
        frame[name] = census.covariates[:, k]
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.4f")
    return path


def write_mapping(path: Path) -> Path:
    path.write_text(MAPPING_TOML, encoding="utf-8")
    return path


def write_truth(path: Path, truth: dict[str, Any]) -> Path:
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def write_events(path: Path, events: pd.DataFrame) -> Path:
    """Every true crime (recorded or not), UTF-8 CSV."""
    events.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path
