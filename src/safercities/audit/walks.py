"""Exploratory strolls and safety walks: geolocated ratings imported, placed in their area and summarised.

An observation is a point (longitude/latitude, or x/y in the workspace CRS) rated 1 to 5 in one category —
lighting, visibility, maintenance, abandoned buildings, people around, security presence, public transport,
feeling of safety — where 1 is very bad for safety and 5 very good (for abandoned buildings: 1 = many, 5 = none).
Each point gets its area from the workspace's area index, as incidents do; a point outside the city, a rating
outside 1..5, an unknown category or a bad date is rejected with its row and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyproj
from scipy import stats

from safercities.audit.codebook import Codebook, load_codebook
from safercities.audit.records import (
    Ledger,
    check_date_order,
    check_file,
    find_columns,
    flag_dates,
    fold,
    fold_series,
    held_ids,
    make_ids,
    optional_text,
    parse_dates,
    text_column,
    translate,
)
from safercities.errors import InputError
from safercities.geo.assign import AreaIndex
from safercities.ingest.coords import parse_numbers, place_points
from safercities.ingest.mapping import SourceOptions
from safercities.ingest.readers import RawTable, read_table
from safercities.workspace import ImportResult, Workspace, file_sha256

KIND = "walk_observations"
CATEGORIES = (
    "lighting",
    "visibility",
    "maintenance",
    "abandoned_buildings",
    "people_around",
    "security_presence",
    "public_transport",
    "feeling_of_safety",
)
_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "lighting": ("light", "street lighting", "alumbrado", "luz", "luminarias", "eclairage"),
    "visibility": ("sightlines", "visibilidad", "visibilite"),
    "maintenance": ("upkeep", "cleanliness", "limpieza", "entretien", "mantenimiento"),
    "abandoned_buildings": ("vacant buildings", "vacant lots", "baldios", "abandono", "batiments abandonnes"),
    "people_around": ("people", "presence of people", "gente", "afluencia", "passants", "frequentation"),
    "security_presence": ("police", "policia", "police presence", "vigilancia", "seguridad", "securite"),
    "public_transport": ("transport", "transit", "transporte", "transports", "bus"),
    "feeling_of_safety": ("safety", "feeling safe", "sensacion de seguridad", "percepcion", "sentiment de securite"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "category": ("categoria", "categorie", "aspect", "aspecto", "item", "indicator"),
    "rating": ("score", "calificacion", "puntuacion", "puntaje", "valoracion", "evaluation", "rate"),
    "date": ("observed_on", "fecha", "date_observation", "observation_date"),
    "lon": ("longitude", "longitud", "lng", "long", "x_lon"),
    "lat": ("latitude", "latitud", "y_lat"),
    "x": ("easting", "x_coord", "coord_x"),
    "y": ("northing", "y_coord", "coord_y"),
    "note": ("notes", "comment", "comments", "comentario", "observacion", "observaciones", "remarque", "nota"),
    "observation_id": ("id", "point_id", "punto", "obs_id"),
    "walk_id": ("walk", "recorrido", "marche", "route", "stroll"),
}
RATINGS = (1, 5)


@dataclass(frozen=True)
class PreparedWalks:
    rows: pa.Table
    rejects: pd.DataFrame
    rows_read: int
    warnings: tuple[str, ...]


def category_lookup(codebook: Codebook | None = None) -> pd.Series:
    """Folded category word or label (en/es/fr) -> category id."""
    pairs = {fold(c): c for c in CATEGORIES}
    for category, words in _CATEGORY_WORDS.items():
        pairs.update({fold(w): category for w in words})
    for signal in (codebook or load_codebook()).walk_categories.values():
        pairs.update({fold(label): signal.id for label in signal.label.values()})
    return pd.Series(pairs, dtype=object)


def _numbers(raw: RawTable, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Floats of a coordinate column (a decimal comma is read when the cell has no point) and the missing mask."""
    text = text_column(raw, column)
    text = text.where(text.str.contains(r"\.", regex=True), text.str.replace(",", ".", regex=False))
    parsed = parse_numbers(pa.array(text, pa.string()), ".")
    values = np.where(parsed.bad, np.nan, parsed.values)
    return values, parsed.missing


def prepare_walks(
    raw: RawTable,
    codebook: Codebook,
    *,
    index: AreaIndex,
    area_ids: np.ndarray,
    lonlat_bounds: tuple[float, float, float, float] | None,
    crs: pyproj.CRS,
    id_prefix: str,
    existing_ids: frozenset[str] = frozenset(),
    date_order: str = "dmy",
    today: dt.date | None = None,
) -> PreparedWalks:
    """Check every row of a walk file and place its points (pure: the area index is passed in)."""
    cols = find_columns(raw, COLUMNS, ("category", "rating", "date"), "safety-walk")
    geographic = "lon" in cols and "lat" in cols
    if not geographic and not ("x" in cols and "y" in cols):
        raise InputError(
            "a safety-walk file needs coordinates: columns lon and lat (WGS84), or x and y (the workspace CRS)",
            file=raw.path,
            hint="columns found: " + ", ".join(repr(c) for c in raw.columns.column_names[:30]),
        )
    xcol, ycol = (cols["lon"], cols["lat"]) if geographic else (cols["x"], cols["y"])
    ledger = Ledger(raw.columns.num_rows)
    category_text = text_column(raw, cols["category"])
    ledger.flag((category_text == "").to_numpy(), "missing_value", cols["category"], "the category is empty")
    category = translate(fold_series(category_text), category_lookup(codebook))
    ledger.flag(
        (category == "").to_numpy(),
        "unknown_category",
        cols["category"],
        "unknown category '" + category_text + "' (use " + ", ".join(CATEGORIES) + ")",
    )
    rating_text = text_column(raw, cols["rating"])
    ledger.flag((rating_text == "").to_numpy(), "missing_value", cols["rating"], "the rating is empty")
    rating = pd.to_numeric(rating_text.str.replace(",", ".", regex=False), errors="coerce").to_numpy(float)
    whole = np.isfinite(rating) & (rating == np.round(rating)) & (rating >= RATINGS[0]) & (rating <= RATINGS[1])
    ledger.flag(~whole, "bad_rating", cols["rating"], "rating '" + rating_text + "' is not a whole number from 1 to 5")
    x, x_missing = _numbers(raw, xcol)
    y, y_missing = _numbers(raw, ycol)
    ledger.flag(x_missing | y_missing, "missing_value", xcol, "the point has no coordinates")
    ledger.flag(~np.isfinite(x) | ~np.isfinite(y), "bad_coordinates", xcol, "the coordinates are not numbers")
    source = "EPSG:4326" if geographic else crs.to_string()
    placed = place_points(
        x,
        y,
        source_crs=source,
        target_crs=crs,
        city_lonlat_bounds=lonlat_bounds,
        file=raw.path,
        columns=(xcol, ycol),
    )
    ledger.flag(placed.swapped, "bad_coordinates", xcol, "longitude and latitude look swapped")
    ledger.flag(placed.out_of_range, "bad_coordinates", xcol, "longitude/latitude out of range")
    ledger.flag(placed.outside_crs, "outside_city", xcol, "the point is far outside the city")
    where = index.assign(placed.x, placed.y)
    ledger.flag(where < 0, "outside_city", xcol, "the point falls outside every area of the city")
    dates = parse_dates(raw, cols["date"], date_order, today)
    flag_dates(ledger, dates, cols["date"])
    observation_id = make_ids(text_column(raw, cols.get("observation_id")), id_prefix, raw.row_numbers)
    id_column = cols.get("observation_id", "observation_id")
    repeated = observation_id.duplicated(keep="first").to_numpy() & ledger.alive
    ledger.flag(repeated, "duplicate_id", id_column, "observation id '" + observation_id + "' appears earlier")
    ledger.flag(
        observation_id.isin(existing_ids).to_numpy(),
        "duplicate_id",
        id_column,
        "observation id '" + observation_id + "' is already in the workspace (from another file)",
    )
    keep = ledger.alive
    note = text_column(raw, cols.get("note"))
    walk = text_column(raw, cols.get("walk_id"))
    rows = pa.table(
        {
            "observation_id": pa.array(observation_id[keep].to_numpy(object), pa.string()),
            "walk_id": optional_text(walk[keep]),
            "area_id": pa.array(area_ids[np.maximum(where, 0)][keep], pa.string()),
            "x": pa.array(placed.x[keep], pa.float64()),
            "y": pa.array(placed.y[keep], pa.float64()),
            "category": pa.array(category[keep].to_numpy(object), pa.string()),
            "rating": pa.array(rating[keep].astype(np.int32), pa.int32()),
            "note": optional_text(note[keep]),
            "observed_on": pa.array(dates.values[keep], pa.date32()),
            "source_row": pa.array(raw.row_numbers[keep], pa.int64()),
        }
    )
    return PreparedWalks(rows, ledger.frame(raw), raw.rows_read, ())


def import_walks(
    ws: Workspace,
    path: Path | str,
    *,
    replace: bool = False,
    date_order: str = "dmy",
    sheet: str = "",
    codebook: Codebook | None = None,
) -> ImportResult:
    """Import a safety-walk file (CSV or XLSX): each point placed in its area or rejected with the reason."""
    path = Path(path)
    check_file(path)
    check_date_order(date_order)
    sha = file_sha256(path)
    repeat = ws.repeated_import(KIND, path, sha, replace)
    if repeat is not None:
        return repeat
    raw = read_table(path, SourceOptions(sheet=sheet))
    index, area_ids, bounds = ws.area_index()
    prepared = prepare_walks(
        raw,
        codebook or load_codebook(),
        index=index,
        area_ids=area_ids,
        lonlat_bounds=bounds,
        crs=ws.config.pyproj_crs,
        id_prefix=sha[:12],
        existing_ids=held_ids(ws, KIND, "observation_id", sha, replace),
        date_order=date_order,
    )
    options: dict[str, object] = {"date_order": date_order, "sheet": sheet, "encoding": raw.encoding}
    return ws.commit_import(
        KIND, path, sha, replace, prepared.rows, prepared.rejects, prepared.rows_read, prepared.warnings, options
    )


def observations(ws: Workspace) -> pd.DataFrame:
    """The walk observations held by the workspace (points in the workspace CRS)."""
    frame = ws.store.read(KIND)
    frame["observed_on"] = pd.to_datetime(frame["observed_on"])
    return frame.sort_values(["area_id", "category", "observation_id"], kind="stable").reset_index(drop=True)


def walk_points(ws: Workspace) -> gpd.GeoDataFrame:
    """The observations as points for the map (workspace CRS)."""
    frame = observations(ws)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]), crs=ws.config.crs)


def walk_summary(observations: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean rating by area and category with n, standard deviation, standard error and a t interval.

    ``badness`` = (5 - mean) / 4 puts the mean on 0 (all rated 5) .. 1 (all rated 1), the scale the integrated
    analysis uses. With one observation the standard error and the interval are NaN, not zero.
    """
    if not 0 < confidence < 1:
        raise InputError(f"The 'confidence' parameter of walk_summary must be in (0, 1). Got {confidence!r} instead.")
    grouped = observations.groupby(["area_id", "category"], sort=True)["rating"]
    out = grouped.agg(n="count", mean_rating="mean", sd="std").reset_index()
    out["se"] = out["sd"] / np.sqrt(out["n"])
    t = stats.t.ppf(0.5 + confidence / 2, np.maximum(out["n"].to_numpy() - 1, 1))
    half = np.where(out["n"] > 1, t * out["se"], np.nan)
    out["lower"] = np.clip(out["mean_rating"] - half, RATINGS[0], RATINGS[1])
    out["upper"] = np.clip(out["mean_rating"] + half, RATINGS[0], RATINGS[1])
    out["badness"] = (RATINGS[1] - out["mean_rating"]) / (RATINGS[1] - RATINGS[0])
    ids = observations.groupby(["area_id", "category"], sort=True)["observation_id"].agg(list).reset_index()
    return out.merge(ids.rename(columns={"observation_id": "observation_ids"}), on=["area_id", "category"])
