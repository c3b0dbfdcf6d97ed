"""Coordinates as police files write them, checked and placed in the workspace CRS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyproj

from safercities.errors import CRSError, InputError


@dataclass(frozen=True)
class ParsedNumbers:
    values: np.ndarray
    missing: np.ndarray
    bad: np.ndarray


def parse_numbers(values: pa.Array, decimal: str) -> ParsedNumbers:
    """Text -> float64; a decimal comma is read when ``decimal == ','``; NaN/inf count as bad."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.utf8_trim_whitespace(values)
    missing = np.asarray(pc.fill_null(pc.equal(text, ""), True).to_numpy(zero_copy_only=False))
    if decimal == ",":
        text = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    ok = pc.match_substring_regex(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
    numbers = pc.cast(pc.if_else(ok, text, None), pa.float64())
    out = np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.float64)
    bad = ~missing & ~np.isfinite(out)
    return ParsedNumbers(out, missing, bad)


@dataclass(frozen=True)
class PlacedPoints:
    """Points in the workspace CRS, with the rows that cannot be placed and why."""

    x: np.ndarray
    y: np.ndarray
    swapped: np.ndarray
    out_of_range: np.ndarray
    outside_crs: np.ndarray


def check_decimal(values: ParsedNumbers, raw: pa.Array, decimal: str, file: Path, column: str) -> None:
    """Stop early when most coordinates fail only because of a decimal comma the mapping did not declare."""
    present = ~values.missing
    if decimal == "." and present.any() and values.bad[present].mean() > 0.5:
        commas = pc.sum(pc.cast(pc.match_substring_regex(raw, r"^\s*-?\d+,\d+\s*$"), pa.int64())).as_py() or 0
        if commas > 0.5 * present.sum():
            raise InputError(
                "coordinates are written with a decimal comma",
                file=file,
                column=column,
                hint='set [source] decimal = "," in the mapping',
            )


def place_points(
    x: np.ndarray,
    y: np.ndarray,
    *,
    source_crs: str,
    target_crs: pyproj.CRS,
    city_lonlat_bounds: tuple[float, float, float, float] | None,
    file: Path,
    columns: tuple[str, str],
) -> PlacedPoints:
    """Check lon/lat ranges, catch swapped and projected-as-lon/lat coordinates, and reproject."""
    try:
        source = pyproj.CRS.from_user_input(source_crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"{file}: unknown coordinates CRS '{source_crs}' in the mapping") from exc
    finite = np.isfinite(x) & np.isfinite(y)
    n = len(x)
    swapped = np.zeros(n, bool)
    out_of_range = np.zeros(n, bool)
    lon, lat = x, y
    if source.is_geographic:
        beyond = finite & ((np.abs(x) > 180) | (np.abs(y) > 90))
        if finite.any() and beyond.sum() > 0.5 * finite.sum():
            i = int(np.flatnonzero(beyond)[0])
            raise CRSError(
                f"{file}: coordinates in columns {columns[0]}, {columns[1]} look projected "
                f"(e.g. {x[i]:.1f}, {y[i]:.1f}), but the mapping declares {source_crs} (longitude/latitude); "
                "set [coordinates] crs to the file's projected CRS"
            )
        if city_lonlat_bounds is not None:
            w, s, e, nn = city_lonlat_bounds
            inside = (x >= w) & (x <= e) & (y >= s) & (y <= nn)
            swapped = finite & ~inside & (y >= w) & (y <= e) & (x >= s) & (x <= nn)
        else:
            swapped = finite & (np.abs(y) > 90) & (np.abs(x) <= 90)
        out_of_range = beyond & ~swapped
    transformer = pyproj.Transformer.from_crs(source, target_crs, always_xy=True)
    tx, ty = transformer.transform(np.where(finite, x, 0.0), np.where(finite, y, 0.0))
    tx, ty = np.asarray(tx, float), np.asarray(ty, float)
    if not source.is_geographic:
        back = pyproj.Transformer.from_crs(source, "EPSG:4326", always_xy=True)
        lon, lat = (np.asarray(v, float) for v in back.transform(np.where(finite, x, 0.0), np.where(finite, y, 0.0)))
    outside_crs = np.zeros(n, bool)
    area = target_crs.area_of_use
    if area is not None:
        margin = 1.0  # degrees: projections stay accurate a little beyond their stated area
        beyond_area = (lon < area.west - margin) | (lon > area.east + margin)
        beyond_area |= (lat < area.south - margin) | (lat > area.north + margin)
        outside_crs = finite & ~swapped & ~out_of_range & beyond_area
    outside_crs |= finite & ~(np.isfinite(tx) & np.isfinite(ty)) & ~swapped & ~out_of_range
    return PlacedPoints(tx, ty, swapped, out_of_range, outside_crs)
