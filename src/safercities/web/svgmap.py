"""Choropleth maps as inline SVG: area polygons on a plain background, no tile server, no JavaScript.

Rates are classed by quantiles into a ColorBrewer YlOrRd ramp; areas whose rate is unstable (or suppressed)
are hatched, so the eye does not read a colour the data cannot support. Each area carries a ``<title>``
(its name, rate and interval), and the page puts the same numbers in a table beside the map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import numpy as np
import shapely
from numpy.typing import NDArray

# ColorBrewer YlOrRd, 5 classes (Brewer, Harrower & Penn State, colorbrewer2.org)
RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#e5e7eb"
WIDTH = 640


def class_breaks(values: NDArray[np.float64], classes: int = len(RAMP)) -> NDArray[np.float64]:
    """Upper bounds of quantile classes over the finite values (ties collapse classes)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.array([], dtype=float)
    return np.unique(np.quantile(finite, np.linspace(0, 1, classes + 1)[1:]))


def _path(geometry: shapely.Geometry, x0: float, y1: float, scale: float) -> str:
    """The SVG path of a (multi)polygon, y flipped (SVG grows downwards)."""
    parts = []
    for polygon in getattr(geometry, "geoms", [geometry]):
        for ring in [polygon.exterior, *polygon.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            px, py = (xy[:, 0] - x0) * scale, (y1 - xy[:, 1]) * scale
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
            parts.append(f"M{points}Z")
    return " ".join(parts)


def choropleth(
    geometries: Sequence[shapely.Geometry],
    values: NDArray[np.float64],
    titles: Sequence[str],
    hatched: NDArray[np.bool_],
    *,
    label: str,
    fmt: Callable[[float], str] = "{:,.0f}".format,
    hatch_label: str = "unstable",
    marked: NDArray[np.bool_] | None = None,
    marked_label: str = "",
    categories: tuple[Sequence[str], Sequence[tuple[str, str]]] | None = None,
    points: Sequence[tuple[float, float, str, str]] = (),
) -> str:
    """An accessible SVG choropleth of ``values`` over ``geometries`` with a legend (``label`` names it).

    ``categories`` = (a fill colour per area, legend entries (colour, text)) draws categories instead of
    classed values; ``points`` = (x, y, colour, title) in the geometries' CRS are drawn on top (walks, say).
    """
    geoms = shapely.simplify(np.asarray(geometries, dtype=object), 0)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    span = max(maxx - minx, maxy - miny) or 1.0
    scale = WIDTH / span
    geoms = shapely.simplify(geoms, 0.5 / scale)  # half a pixel: invisible, and the page stays small
    height = (maxy - miny) * scale
    breaks = class_breaks(values)
    cls = np.searchsorted(breaks, values, side="left") if breaks.size else np.zeros(len(values), int)
    ramp = RAMP[-len(breaks) :] if breaks.size else RAMP
    shapes = []
    for i, geom in enumerate(geoms):
        if categories is not None:
            fill = categories[0][i]
        else:
            fill = ramp[min(int(cls[i]), len(ramp) - 1)] if np.isfinite(values[i]) else NO_DATA
        d = _path(geom, minx, maxy, scale)
        title = f"<title>{escape(titles[i])}</title>"
        shapes.append(f'<path d="{d}" fill="{fill}" class="area">{title}</path>')
        if hatched[i]:
            shapes.append(f'<path d="{d}" fill="url(#hatch)" class="hatch" aria-hidden="true"/>')
        if marked is not None and marked[i]:
            shapes.append(f'<path d="{d}" fill="none" class="marked" aria-hidden="true"/>')
    for x, y, colour, title in points:
        shapes.append(
            f'<circle cx="{(x - minx) * scale:.1f}" cy="{(maxy - y) * scale:.1f}" r="3" fill="{colour}" '
            f'stroke="#111" stroke-width=".6"><title>{escape(title)}</title></circle>'
        )
    legend_y = height + 18
    items = []
    if categories is not None:
        entries = list(categories[1])
    else:
        entries = []
        lower = float(np.nanmin(values)) if np.isfinite(values).any() else float("nan")
        for k, upper in enumerate(breaks):
            entries.append((ramp[k], f"{fmt(lower)} – {fmt(upper)}"))
            lower = float(upper)
    x, y = 8.0, legend_y
    for colour, text in entries:  # entries flow in rows, each as wide as its text (11 px type: ~6.2 px a letter)
        width = 26 + 6.2 * len(text)
        if x > 8 and x + width > WIDTH:
            x, y = 8.0, y + 18
        items.append(
            f'<rect x="{x:.0f}" y="{y}" width="14" height="14" fill="{colour}" stroke="#555" stroke-width=".5"/>'
            f'<text x="{x + 18:.0f}" y="{y + 11}">{escape(text)}</text>'
        )
        x += width
    legend_y = y
    row2 = legend_y + 22
    items.append(
        f'<rect x="8" y="{row2}" width="14" height="14" fill="url(#hatch)" stroke="#555" stroke-width=".5"/>'
        f'<text x="26" y="{row2 + 11}">{escape(hatch_label)}</text>'
        f'<rect x="190" y="{row2}" width="14" height="14" fill="{NO_DATA}" stroke="#555" stroke-width=".5"/>'
        f'<text x="208" y="{row2 + 11}">–</text>'
    )
    if marked is not None:
        items.append(
            f'<rect x="250" y="{row2}" width="14" height="14" fill="none" class="marked"/>'
            f'<text x="268" y="{row2 + 11}">{escape(marked_label)}</text>'
        )
    total = row2 + 24
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {WIDTH + 4:.0f} {total + 4:.0f}" role="img" '
        f'aria-label="{escape(label)}" class="choropleth">'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#333" stroke-width="1.2"/></pattern></defs>'
        "<style>.area{stroke:#fff;stroke-width:.7}.area:hover{stroke:#111;stroke-width:1.5}"
        ".hatch{pointer-events:none;opacity:.55}.marked{stroke:#1d4ed8;stroke-width:2.2;pointer-events:none}"
        "text{font:11px system-ui,sans-serif;fill:#333}</style>"
        f'<text x="8" y="{height + 12:.0f}" font-weight="600">{escape(label)}</text>'
        + "".join(shapes)
        + "".join(items)
        + "</svg>"
    )
