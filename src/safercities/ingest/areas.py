"""Read a city's area boundaries (GeoJSON, GeoPackage, Shapefile, CSV with WKT) into the ``areas`` table.

This is the pure part of ``safercities import areas FILE``: it reads one file, validates every row
and returns the accepted areas (in the workspace CRS), the rejected rows with their reasons, and
the warnings. It writes nothing; the workspace/store side stores what it returns.

Areas nest (city > district > community) through ``parent_id``; levels may arrive in separate
files, so a parent may also be an id already in the store (``known_parents``).

Row numbers (``source_row``, ``rejects.row_number``) are those a spreadsheet shows, as for every
import: the header is row 1, so the first feature or the first CSV line after the header is row 2.

Population numbers written as text are read with one rule (documented in :func:`parse_numbers`):
``1234,5`` is a decimal comma, ``12.345`` / ``12,345`` / ``1.234.567`` are thousands separators, and
where both ``.`` and ``,`` appear the last one is the decimal mark (``1.234,5`` and ``1,234.5``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from safercities.errors import CRSError, InputError
from safercities.ingest.readers import detect_encoding, normalise_name, resolve_column

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
"""Column names tried, in order, when a CSV's WKT column is not named."""
RAW_WKT_CHARS = 200
"""Geometry text kept in a reject's ``raw`` JSON."""
WESTERN_ENCODINGS = ("cp1252", "latin_1", "iso8859_15")
"""Preferred when charset-normalizer finds these as likely as another code page."""
ROWS_LISTED = 10
"""Row numbers listed in a warning before it says ``…``."""

AREA_COLUMNS = ["area_id", "name", "level", "parent_id", "population", "geometry", "source_row"]
REJECT_COLUMNS = ["row_number", "column_name", "reason", "raw"]
_TYPE_NAMES = (
    "Point",
    "LineString",
    "LinearRing",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
    "GeometryCollection",
)
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


@dataclass(frozen=True)
class AreaColumns:
    """Source column names for each field of an area ("" = absent)."""

    id: str
    name: str = ""
    population: str = ""
    level: str = ""
    parent: str = ""
    geometry: str = ""
    """The WKT column of a CSV; "" tries wkt, geometry, geom, the_geom. Ignored for GIS formats."""


@dataclass(frozen=True)
class AreasRead:
    """What :func:`read_areas` found in one file."""

    areas: gpd.GeoDataFrame
    """area_id, name, level, parent_id, population, geometry (target CRS, valid, polygonal), source_row."""
    rejects: pd.DataFrame
    """row_number, column_name, reason, raw (the source row as JSON); a row may be rejected for several reasons."""
    warnings: tuple[str, ...]
    rows_read: int

    @property
    def rows_rejected(self) -> int:
        """Rows with at least one reject."""
        return int(self.rejects["row_number"].nunique())


# --------------------------------------------------------------------------------------------- reading


def _decode(path: Path, encoding: str | None) -> str:
    """The file's text in the given encoding, else the one the importer detects (UTF-8, cp1252, …)."""
    data = path.read_bytes()
    chosen = detect_encoding(data[: 1 << 20], encoding or "auto")
    try:
        return data.decode(chosen).lstrip("\ufeff")
    except (LookupError, UnicodeDecodeError) as exc:
        hint = "give it with --encoding"
        raise InputError(f"cannot decode the file as {chosen}: {exc}", file=path, hint=hint) from exc


def sniff_delimiter(header: str) -> str:
    """The delimiter among , ; and tab that occurs most often outside quotes in the header line (ties: ',').

    The header is used because WKT in the data rows is full of commas.
    """
    outside, quoted = [], False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(ch)
    text = "".join(outside)
    counts = {d: text.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _pick(mask: Any, yes: Any, no: Any) -> np.ndarray:
    """``np.where`` over object arrays (None allowed)."""
    return np.asarray(
        np.where(np.asarray(mask, dtype=bool), np.asarray(yes, dtype=object), np.asarray(no, dtype=object))
    )


def _read_csv(
    path: Path, columns: AreaColumns, encoding: str | None
) -> tuple[pd.DataFrame, np.ndarray, str, np.ndarray]:
    """A CSV with WKT: attributes as text, geometries parsed, and the name of the WKT column.

    Returns the attribute frame, the geometry array (None where missing or unparseable), the WKT column
    name and a per-row status text ("", "missing", "unparseable").
    """
    text = _decode(path, encoding)
    header = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(header)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            f"cannot read as CSV (delimiter {delimiter!r}): {exc}",
            file=path,
            hint="with a ',' delimiter the WKT column must be in double quotes",
        ) from exc
    available = list(frame.columns)
    if columns.geometry:
        wkt_col = resolve_column(columns.geometry, available, path, "geometry (WKT)")
    else:
        found = [c for name in WKT_COLUMNS for c in available if normalise_name(c) == normalise_name(name)]
        if not found:
            raise InputError(
                f"no WKT geometry column (tried {', '.join(WKT_COLUMNS)}); the columns are: "
                + ", ".join(repr(c) for c in available),
                file=path,
                hint="name it with --geometry",
            )
        wkt_col = found[0]
    # ragged rows leave NaN; an EWKT prefix ("SRID=4326;") is dropped: the CRS comes from source_crs
    wkt = frame[wkt_col].fillna("").str.strip().str.replace(r"^SRID=\d+;", "", regex=True)
    missing = (wkt == "").to_numpy()
    geoms = np.asarray(shapely.from_wkt(_pick(missing, None, wkt.to_numpy(dtype=object)), on_invalid="ignore"))
    status = _pick(missing, "missing", _pick(pd.isna(geoms), "unparseable", ""))
    return frame, geoms, wkt_col, status


def _read_gis(path: Path, layer: str | None, encoding: str | None, warnings: list[str]) -> gpd.GeoDataFrame:
    """A GeoJSON, GeoPackage or Shapefile layer through GDAL (pyogrio); warns when other layers are left."""
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(f"GDAL cannot open the file: {exc}", file=path) from exc
    if not layers:
        raise InputError("the file holds no layer", file=path)
    if layer is None:
        layer = layers[0]
        if len(layers) > 1:
            others = ", ".join(repr(name) for name in layers[1:])
            warnings.append(f"{path.name} has {len(layers)} layers; read the first, '{layer}' (not read: {others})")
    elif layer not in layers:
        raise InputError(f"no layer '{layer}'; the layers are: {', '.join(map(repr, layers))}", file=path)
    kwargs = {"encoding": encoding} if encoding else {}
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio", **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"GDAL cannot read layer '{layer}': {exc}", file=path) from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise InputError(f"layer '{layer}' has no geometry", file=path)
    return frame


# --------------------------------------------------------------------------------------------- values


def _as_text(values: pd.Series) -> np.ndarray:
    """Ids, names, levels as stripped text (object array), None where missing or blank; 12.0 reads as '12'."""
    out = np.full(len(values), None, dtype=object)
    present = values.notna().to_numpy()
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        text = values[present].astype(str).str.strip().to_numpy(dtype=object)
    else:
        num = values[present].to_numpy(dtype=float)
        whole = np.isfinite(num) & (num == np.floor(num)) & (np.abs(num) < 2**53)  # exact as int64
        text = np.where(
            whole,
            pd.Series(np.where(whole, num, 0)).astype("int64").astype(str).to_numpy(dtype=object),
            values[present].astype(str).to_numpy(dtype=object),
        )
    out[present] = text
    out[pd.Series(out, dtype=object).eq("").to_numpy(bool)] = None
    return out


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from a column as written in English, Spanish or French files; returns (values, not-a-number mask).

    Rule for text: spaces (also non-breaking and thin) and apostrophes are thousands separators. A number
    written as ``d{1,3}`` followed by groups of exactly three digits, all after the same mark
    (``12.345``, ``12,345``, ``1.234.567``), uses that mark for thousands: population counts are not
    written with three decimals. Where both ``.`` and ``,`` appear, the last one is the decimal mark
    (``1.234,5`` → 1234.5, ``1,234.5`` → 1234.5). Any other single comma is a decimal comma
    (``1234,5`` → 1234.5). Blank cells are missing (NaN), not errors.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        nums = values.to_numpy(dtype=float, na_value=np.nan)
        return nums, np.zeros(len(values), dtype=bool)
    text = values.astype(object).where(values.notna(), "").astype(str)
    text = text.str.replace(r"[\s\u00a0\u202f']", "", regex=True)
    blank = text == ""
    grouped = text.str.fullmatch(r"[+-]?\d{1,3}([.,])\d{3}(?:\1\d{3})*")
    dot_decimal = text.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+\.\d*")
    comma_decimal = text.str.fullmatch(r"[+-]?\d{1,3}(?:\.\d{3})+,\d*") | text.str.fullmatch(r"[+-]?\d*,\d+")
    cleaned = np.select(
        [grouped.to_numpy(bool), dot_decimal.to_numpy(bool), comma_decimal.to_numpy(bool)],
        [
            text.str.replace(r"[.,]", "", regex=True).to_numpy(dtype=object),
            text.str.replace(",", "", regex=False).to_numpy(dtype=object),
            text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False).to_numpy(dtype=object),
        ],
        text.to_numpy(dtype=object),
    )
    nums = pd.to_numeric(pd.Series(cleaned, dtype=object), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~blank.to_numpy(bool) & np.isnan(nums)
    return nums, bad


def _polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygons of each geometry (e.g. of make_valid's GeometryCollections); None where none is left."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    parts2, index2 = shapely.get_parts(parts, return_index=True)  # flatten MultiPolygons inside collections
    owner = index[index2]
    keep = shapely.get_type_id(parts2) == shapely.GeometryType.POLYGON
    parts2, owner = parts2[keep], owner[keep]
    keep = ~shapely.is_empty(parts2)
    parts2, owner = parts2[keep], owner[keep]
    out = np.full(len(geoms), None, dtype=object)
    if len(parts2) == 0:
        return out
    counts = np.bincount(owner, minlength=len(geoms))
    present = np.flatnonzero(counts)
    multi = shapely.multipolygons(parts2, indices=np.searchsorted(present, owner))
    out[present] = multi
    single = counts == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _rows_text(rows: np.ndarray) -> str:
    shown = ", ".join(str(r) for r in rows[:ROWS_LISTED])
    return shown + (", …" if len(rows) > ROWS_LISTED else "")


# --------------------------------------------------------------------------------------------- main


class _Rejects:
    """Collects rejects as arrays: (row index, column, reason)."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, column: str, reasons: np.ndarray | str) -> None:
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        why = np.full(len(idx), reasons, dtype=object) if isinstance(reasons, str) else np.asarray(reasons)[idx]
        self.parts.append(pd.DataFrame({"index": idx, "column_name": column, "reason": why}))
        self.bad[idx] = True


def _raw_json(attrs: pd.DataFrame, wkt: np.ndarray, geom_col: str) -> np.ndarray:
    """Each row's attributes as JSON text, with its geometry as WKT cut to RAW_WKT_CHARS characters."""
    raw = attrs.copy()
    cut = pd.Series(wkt, index=raw.index, dtype=object)
    long = cut.notna() & (cut.astype(str).str.len() > RAW_WKT_CHARS)
    cut[long] = cut[long].astype(str).str.slice(0, RAW_WKT_CHARS) + "…"
    raw[geom_col] = cut
    if len(raw) == 0:
        return np.array([], dtype=object)
    text = raw.to_json(orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str)
    return np.array(text.rstrip("\n").split("\n"), dtype=object)


def _check_crs(path: Path, crs: pyproj.CRS, geoms: np.ndarray, warnings: list[str]) -> None:
    """A lon/lat CRS whose coordinates are clearly projected is an error; the reverse is a warning."""
    present = geoms[~pd.isna(geoms)]
    if len(present) == 0:
        return
    bounds = shapely.total_bounds(present)
    if not np.all(np.isfinite(bounds)):
        return
    xmax = max(abs(bounds[0]), abs(bounds[2]))
    ymax = max(abs(bounds[1]), abs(bounds[3]))
    if crs.is_geographic and (xmax > 180 or ymax > 90):
        raise CRSError(
            f"{path}: the CRS is {crs.to_string()} (longitude/latitude) but coordinates reach "
            f"x={xmax:,.0f}, y={ymax:,.0f}: the data looks projected. Give its real CRS with --source-crs "
            "(e.g. the city's UTM zone or state plane)."
        )
    if crs.is_projected and xmax <= 180 and ymax <= 90:
        warnings.append(
            f"{path.name}: every coordinate lies within ±180/±90 although the CRS {crs.to_string()} is projected: "
            "the data may be longitude/latitude (EPSG:4326)"
        )


def read_areas(
    path: Path,
    columns: AreaColumns,
    target_crs: str,
    *,
    default_level: str = "area",
    layer: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    known_parents: set[str] | frozenset[str] = frozenset(),
) -> AreasRead:
    """Read, validate and reproject one file of area boundaries; never writes.

    ``known_parents`` are area ids already in the store, so that a file of districts can name the city
    imported before it as parent. Rows that fail a check land in ``rejects``; a cycle in the parent links,
    a missing column, an unreadable file or a missing/implausible CRS raise :class:`InputError` /
    :class:`CRSError`.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if not columns.id:
        raise InputError("the id column must be named (--id)", file=path)
    try:
        target = pyproj.CRS.from_user_input(target_crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"Unknown target CRS '{target_crs}': give an EPSG code such as EPSG:32614.") from exc
    source: pyproj.CRS | None = None
    if source_crs:
        try:
            source = pyproj.CRS.from_user_input(source_crs)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"Unknown source CRS '{source_crs}': give an EPSG code such as EPSG:4326.") from exc

    warnings: list[str] = []
    if path.suffix.lower() in CSV_SUFFIXES:
        if source is None:
            raise CRSError(
                f"{path}: a CSV with WKT carries no CRS; give the CRS of its coordinates with --source-crs "
                "(e.g. EPSG:4326 for longitude/latitude)"
            )
        attrs, geoms, geom_col, status = _read_csv(path, columns, encoding)
        wkt_text = attrs[geom_col].to_numpy(dtype=object)
        crs = source
    else:
        frame = _read_gis(path, layer, encoding, warnings)
        geom_col = "geometry"
        geoms = frame.geometry.to_numpy(dtype=object)
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        missing = pd.isna(geoms) | shapely.is_empty(geoms)
        status = _pick(missing, "missing", "")
        wkt_text = _pick(missing, None, shapely.to_wkt(_pick(missing, None, geoms), rounding_precision=-1))
        file_crs = pyproj.CRS.from_user_input(frame.crs) if frame.crs is not None else None
        if file_crs is None and source is None:
            raise CRSError(
                f"{path}: the file has no CRS (e.g. a shapefile without its .prj); "
                "give the CRS of its coordinates with --source-crs"
            )
        if source is not None and file_crs is not None and not source.equals(file_crs, ignore_axis_order=True):
            warnings.append(
                f"{path.name}: the file says its CRS is {file_crs.to_string()}; "
                f"read as {source.to_string()} as --source-crs asks"
            )
        crs = source if source is not None else file_crs  # type: ignore[assignment]

    n = len(attrs)
    if n == 0:
        raise InputError("the file holds no rows", file=path)
    available = [str(c) for c in attrs.columns]
    attrs.columns = pd.Index(available)
    rows = np.arange(2, n + 2)  # spreadsheet rows: the header is row 1
    rejects = _Rejects(n)

    # ---- ids
    id_col = resolve_column(columns.id, available, path, "id")
    ids = _as_text(attrs[id_col])
    no_id = pd.isna(ids)
    rejects.add(no_id, id_col, "missing id")
    id_text = pd.Series(ids, dtype=object).fillna("").astype(str)
    dup = id_text.duplicated(keep="first").to_numpy(bool) & ~no_id
    first_row = id_text.map(pd.Series(rows, index=id_text).loc[lambda s: ~s.index.duplicated()]).astype(str)
    rejects.add(dup, id_col, ("duplicate id '" + id_text + "' (first in row " + first_row + ")").to_numpy(object))

    # ---- other attributes
    names = (
        _as_text(attrs[resolve_column(columns.name, available, path, "name")])
        if columns.name
        else np.full(n, None, dtype=object)
    )
    if columns.level:
        levels = _as_text(attrs[resolve_column(columns.level, available, path, "level")])
        levels = _pick(pd.isna(levels), default_level, levels)
    else:
        levels = np.full(n, default_level, dtype=object)
    population = np.full(n, np.nan)
    if columns.population:
        pop_col = resolve_column(columns.population, available, path, "population")
        population, not_number = parse_numbers(attrs[pop_col])
        quoted = "population '" + attrs[pop_col].astype(object).astype(str).str.strip() + "' is "
        rejects.add(not_number, pop_col, (quoted + "not a number").to_numpy(object))
        rejects.add(~not_number & (population < 0), pop_col, (quoted + "negative").to_numpy(object))
        rejects.add(~not_number & np.isinf(population), pop_col, (quoted + "not finite").to_numpy(object))
    parent_col = resolve_column(columns.parent, available, path, "parent") if columns.parent else ""
    parents = _as_text(attrs[parent_col]) if parent_col else np.full(n, None, dtype=object)

    # ---- geometry: presence, type, CRS plausibility, reprojection, validity
    rejects.add(np.asarray(status == "missing"), geom_col, "missing or empty geometry")
    rejects.add(np.asarray(status == "unparseable"), geom_col, "geometry is not valid WKT")
    present = np.asarray(status == "", dtype=bool)
    geoms = _pick(present, geoms, None)
    types = shapely.get_type_id(geoms)
    non_polygonal = present & ~np.isin(types, _POLYGONAL)
    type_names = np.array([*_TYPE_NAMES, ""], dtype=object)  # index -1 (missing) -> ""
    rejects.add(non_polygonal, geom_col, type_names[types] + " geometry is not a polygon")
    geoms = np.asarray(shapely.force_2d(_pick(present & ~non_polygonal, geoms, None)))
    _check_crs(path, crs, geoms, warnings)
    if not crs.equals(target):
        geoms = gpd.GeoSeries(geoms, crs=crs).to_crs(target).to_numpy(dtype=object)
    bounds = shapely.bounds(geoms)
    untransformable = ~pd.isna(geoms) & ~np.all(np.isfinite(bounds), axis=1)
    rejects.add(untransformable, geom_col, f"coordinates cannot be transformed from {crs.to_string()} to {target_crs}")
    geoms = _pick(untransformable, None, geoms)
    has_geom = ~pd.isna(geoms)
    invalid = has_geom & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        repaired = _polygonal_parts(shapely.make_valid(geoms[invalid]))
        lost = pd.isna(repaired)
        bad_rows = np.flatnonzero(invalid)
        why = np.full(n, "", dtype=object)
        why[bad_rows] = (
            "invalid geometry (" + pd.Series(reasons, dtype=object).astype(str) + ") and make_valid leaves no polygon"
        )
        rejects.add(np.isin(np.arange(n), bad_rows[lost]), geom_col, why)
        geoms[bad_rows] = repaired
        fixed = rows[bad_rows[~lost]]
        if len(fixed):
            noun = "geometry" if len(fixed) == 1 else "geometries"
            warnings.append(f"{len(fixed)} invalid {noun} repaired with make_valid (rows {_rows_text(fixed)})")

    # ---- parents: cycles among the file's areas, then unknown or rejected parents (cascading)
    first = ~no_id & ~dup
    position = pd.Series(np.flatnonzero(first), index=pd.Index(ids[first], dtype=object))
    has_parent = ~pd.isna(parents)
    parent_pos = np.full(n, -1)
    in_file = has_parent & pd.Series(parents, dtype=object).isin(position.index).to_numpy(bool)
    parent_pos[in_file] = position.loc[parents[in_file]].to_numpy()
    parent_pos[~first] = -1
    _check_cycles(parent_pos, ids, path)
    unknown = has_parent & ~in_file & ~pd.Series(parents, dtype=object).isin(set(known_parents)).to_numpy(bool)
    parent_text = pd.Series(parents, dtype=object).fillna("").astype(str)
    rejects.add(
        unknown,
        parent_col,
        ("parent_id '" + parent_text + "' refers to no area in this file nor in the store").to_numpy(object),
    )
    parent_row = pd.Series(rows[np.maximum(parent_pos, 0)]).astype(str)
    orphan_why = ("parent '" + parent_text + "' (row " + parent_row + ") was rejected").to_numpy(object)
    while True:  # a child of a rejected parent is rejected too; one pass per level of nesting
        orphan = in_file & ~rejects.bad & (parent_pos >= 0) & rejects.bad[np.maximum(parent_pos, 0)]
        if not orphan.any():
            break
        rejects.add(orphan, parent_col, orphan_why)

    # ---- results
    ok = ~rejects.bad
    areas = gpd.GeoDataFrame(
        {
            "area_id": pd.Series(ids[ok], dtype="str"),
            "name": pd.Series(names[ok], dtype=object),
            "level": pd.Series(levels[ok], dtype="str"),
            "parent_id": pd.Series(parents[ok], dtype=object),
            "population": pd.Series(population[ok], dtype="float64"),
            "geometry": gpd.GeoSeries(geoms[ok], crs=target),
            "source_row": pd.Series(rows[ok], dtype="int64"),
        },
        geometry="geometry",
        crs=target,
    )
    if rejects.parts:
        found = pd.concat(rejects.parts, ignore_index=True).sort_values("index", kind="stable")
        raw = _raw_json(attrs.iloc[found["index"].unique()], wkt_text[found["index"].unique()], geom_col)
        raw_by_index = dict(zip(found["index"].unique(), raw, strict=True))
        table = pd.DataFrame(
            {
                "row_number": rows[found["index"].to_numpy()].astype("int64"),
                "column_name": found["column_name"].astype(str).to_numpy(),
                "reason": found["reason"].astype(str).to_numpy(),
                "raw": found["index"].map(raw_by_index).astype(str).to_numpy(),
            }
        )
    else:
        table = pd.DataFrame({c: pd.Series(dtype="int64" if c == "row_number" else "str") for c in REJECT_COLUMNS})
    return AreasRead(areas=areas, rejects=table, warnings=tuple(warnings), rows_read=n)


def _check_cycles(parent_pos: np.ndarray, ids: np.ndarray, path: Path) -> None:
    """Raise InputError naming the areas on a cycle of parent links (pointer doubling, no row loop)."""
    n = len(parent_pos)
    ancestor = parent_pos.copy()
    steps = 1
    while steps < n + 1:
        ancestor = np.where(ancestor >= 0, ancestor[np.maximum(ancestor, 0)], -1)
        steps *= 2
    # after >= n steps, whoever still has an ancestor is on a cycle or leads into one
    on_cycle = np.unique(ancestor[ancestor >= 0])
    if len(on_cycle):
        named = ", ".join(f"'{ids[i]}'" for i in on_cycle[:ROWS_LISTED])
        raise InputError(
            f"the parent links form a cycle through {named}{', …' if len(on_cycle) > ROWS_LISTED else ''}",
            file=path,
            hint="an area cannot be its own ancestor",
        )


# --------------------------------------------------------------------------------------------- hierarchy


def _tree(areas: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, position of each area's parent or -1, has-no-children mask) of an areas table."""
    ids = areas["area_id"].astype(str).to_numpy(dtype=object)
    index = pd.Index(ids, dtype=object)
    if not index.is_unique:
        dup = sorted(set(index[index.duplicated()]))[:ROWS_LISTED]
        raise InputError(f"area ids must be unique; repeated: {', '.join(map(repr, dup))}")
    parents = areas["parent_id"].astype(object)
    parent_pos = index.get_indexer(parents.where(parents.notna(), None).to_numpy(dtype=object))
    has_child = np.zeros(len(ids), dtype=bool)
    has_child[parent_pos[parent_pos >= 0]] = True
    return ids, parent_pos, ~has_child


def finest_level_ids(areas: pd.DataFrame) -> set[str]:
    """Ids of the areas that have no children: the units incidents are counted in."""
    ids, _, finest = _tree(areas)
    return {str(i) for i in ids[finest]}


def lineage(areas: pd.DataFrame, level: str) -> pd.DataFrame:
    """For every finest area (no children), its ancestor at ``level`` (itself if it is at that level).

    Returns columns ``area_id`` and ``target_id``; a finest area with no ancestor at ``level`` gets None,
    so that counts rolled up to ``level`` can show what did not fit. Walks up one level per step.
    """
    levels = sorted(set(areas["level"].dropna().astype(str)))
    if level not in levels:
        raise InputError(f"unknown level '{level}'; the levels present are: {', '.join(map(repr, levels))}")
    ids, parent_pos, finest = _tree(areas)
    at_level = areas["level"].astype(str).to_numpy() == level
    current = np.flatnonzero(finest)
    start = current.copy()
    target = np.full(len(current), -1)
    for _ in range(len(ids) + 1):
        walking = current >= 0
        hit = walking & at_level[np.maximum(current, 0)]
        target[hit] = current[hit]
        current = np.where(walking & ~hit, parent_pos[np.maximum(current, 0)], -1)
        if (current < 0).all():
            break
    else:
        raise InputError("the parent links form a cycle; lineage cannot be traced")
    target_ids = np.where(target >= 0, ids[np.maximum(target, 0)], None)
    return pd.DataFrame(
        {"area_id": pd.Series(ids[start], dtype="str"), "target_id": pd.Series(target_ids, dtype=object)}
    )
