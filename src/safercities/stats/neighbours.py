"""Who neighbours whom: the constructors of :class:`~safercities.stats.weights.SpatialWeights`.

Pure functions: coordinates, polygons or a weights file in, a frozen ``SpatialWeights`` out (transform
"O", ``kind`` set, a provenance stamp). Inputs are never modified. Every neighbour search is one
vectorised pass (a k-d tree query, a hash of polygon vertices, numpy index arithmetic for grids), so
that a city's million incidents or ten thousand blocks take seconds, not minutes.

Definitions follow libpysal's ``Graph.build_*`` (the reference tests check them link for link):

* **contiguity**: two polygons are queen neighbours when they share a vertex, rook neighbours when
  they share an edge (two consecutive vertices), as GeoDa, libpysal and spdep's ``poly2nb`` decide
  by default. The vertices must coincide exactly: boundaries digitised separately (a vertex of one
  polygon lying on the middle of another's edge) do not touch under this rule.
* **knn**: the k nearest other points; among points at the same distance the lower position wins.
* **distance_band**: every other point at a distance ≤ threshold (coincident points included).
* **kernel**: the k nearest points, or all points within the bandwidth, weighted by a kernel of
  ``distance / bandwidth``; links the kernel gives zero weight are dropped, as libpysal's taper does.
* **lattice**: a regular grid, cells numbered row-major (position = row * ncols + col, row 0 first).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from safercities.errors import InputError, check_choice
from safercities.stats.provenance import stamp
from safercities.stats.weights import SpatialWeights

__all__ = ["KERNELS", "contiguity", "distance_band", "kernel", "knn", "lattice", "read_gal", "read_gwt"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


# -- kernels (z = distance / bandwidth; libpysal's Graph definitions, zero beyond the bandwidth) --------------------
def _triangular(z: FloatArray) -> FloatArray:
    return 1.0 - np.clip(z, 0.0, 1.0)


def _uniform(z: FloatArray) -> FloatArray:
    return (z < 1.0).astype(np.float64)


def _quadratic(z: FloatArray) -> FloatArray:
    return 0.75 * (1.0 - np.clip(z, 0.0, 1.0) ** 2)


def _quartic(z: FloatArray) -> FloatArray:
    return (15.0 / 16.0) * (1.0 - np.clip(z, 0.0, 1.0) ** 2) ** 2


def _gaussian(z: FloatArray) -> FloatArray:
    return np.exp(-0.5 * z**2) / math.sqrt(2.0 * math.pi)


KERNELS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "triangular": _triangular,
    "uniform": _uniform,
    "quadratic": _quadratic,
    "quartic": _quartic,
    "gaussian": _gaussian,
}
"""Kernel name → K(z). ``uniform`` is libpysal's ``boxcar``, ``quadratic`` its ``parabolic`` (Epanechnikov),
``quartic`` its ``bisquare``; ``gaussian`` is the standard normal density, cut at the bandwidth."""


# -- parameter checks (one message template) -------------------------------------------------------------------------
def _bad(name: str, where: str, must: str, got: object) -> InputError:
    return InputError(f"The '{name}' parameter of {where} must be {must}. Got {got!r} instead.")


def _check_int(name: str, value: object, where: str, low: int, high: int | None = None) -> int:
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):  # type: ignore[operator]
        rng = f"an int in the range [{low}, {high}]" if high is not None else f"an int >= {low}"
        raise _bad(name, where, rng, value)
    return int(value)  # type: ignore[call-overload]


def _check_real(name: str, value: object, where: str, *, positive: bool = True, allow_zero: bool = False) -> float:
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if ok and math.isfinite(float(value)):  # type: ignore[arg-type]
        v = float(value)  # type: ignore[arg-type]
        if not positive or v > 0 or (allow_zero and v == 0):
            return v
    must = "a finite real number" + ("" if not positive else " >= 0" if allow_zero else " > 0")
    raise _bad(name, where, must, value)


def _points(points_xy: ArrayLike, where: str) -> FloatArray:
    """The coordinates as a fresh (n, 2) float array, checked: finite, two columns."""
    try:
        xy = np.array(points_xy, dtype=np.float64)  # a copy: the caller's array is never touched
    except (TypeError, ValueError) as exc:
        raise _bad("points_xy", where, "an (n, 2) array of numbers", type(points_xy).__name__) from exc
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise _bad("points_xy", where, "an (n, 2) array of x, y coordinates", f"shape {xy.shape}")
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"points_xy of {where} holds {len(rows)} point(s) with missing or infinite coordinates "
            f"(first at position {rows[0]})",
            hint="drop or geocode them first",
        )
    return xy


def _ids(ids: ArrayLike | None, n: int, where: str) -> NDArray[Any]:
    if ids is None:
        return np.arange(n, dtype=np.int64)
    out = np.array(ids)
    if out.ndim != 1 or len(out) != n:
        raise _bad("ids", where, f"a 1-d array with one id per item ({n})", f"shape {out.shape}")
    return out


def _weights(
    ids: NDArray[Any], focal: IntArray, neighbor: IntArray, weight: FloatArray | None, kind: str, prov: dict[str, Any]
) -> SpatialWeights:
    return SpatialWeights.from_arrays(ids, focal, neighbor, weight, kind=kind, provenance=prov)


# -- nearest neighbours -----------------------------------------------------------------------------------------------
def _knn_search(xy: FloatArray, k: int, tree: cKDTree | None = None) -> tuple[IntArray, FloatArray]:
    """The k nearest other points of every point, (n, k) positions and distances, ordered by (distance, position).

    One tree query of k + 2 candidates; only the rows where the k-th and (k+1)-th candidates tie (or where
    more than k + 1 points coincide) are queried again with more candidates, doubling until the tie is
    resolved, so that the result never depends on the tree's internal order.
    """
    n = len(xy)
    tree = cKDTree(xy) if tree is None else tree
    rows = np.arange(n, dtype=np.int64)
    kk = min(k + 2, n)
    dist, idx = tree.query(xy, k=kk, workers=-1)
    idx = idx.astype(np.int64, copy=False)
    out_i = np.empty((n, k), dtype=np.int64)
    out_d = np.empty((n, k), dtype=np.float64)
    todo = rows
    while True:
        d_all, i_all = _order_candidates(dist, idx, todo)
        complete = np.ones(len(todo), dtype=bool) if kk == n else d_all[:, k] < d_all[:, k + 1]
        complete &= i_all[:, 0] == todo  # the point itself came first: fewer than kk points coincide
        done = todo[complete]
        out_i[done] = i_all[complete, 1 : k + 1]
        out_d[done] = d_all[complete, 1 : k + 1]
        todo = todo[~complete]
        if not len(todo):
            return out_i, out_d
        kk = min(2 * kk, n)
        dist, idx = tree.query(xy[todo], k=kk, workers=-1)
        idx = idx.astype(np.int64, copy=False)


def _order_candidates(dist: FloatArray, idx: IntArray, rows: IntArray) -> tuple[FloatArray, IntArray]:
    """Candidates of each row sorted by (distance, position), the point itself first."""
    is_self = idx == rows[:, None]
    key = np.where(is_self, -1.0, dist)
    if len(rows) and (np.any(is_self[:, 1:]) or np.any(key[:, 1:] == key[:, :-1])):
        order = np.lexsort((idx, key), axis=-1)
        return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)
    return dist, idx


def knn(points_xy: ArrayLike, k: int, ids: ArrayLike | None = None) -> SpatialWeights:
    """Binary weights linking each point to its ``k`` nearest other points (ties: lower position first).

    Asymmetric by nature: j may be among i's nearest without i being among j's.
    """
    xy = _points(points_xy, "knn")
    n = len(xy)
    if n < 2:
        raise _bad("points_xy", "knn", "at least 2 points", f"{n} point(s)")
    k = _check_int("k", k, "knn", 1, n - 1)
    id_arr = _ids(ids, n, "knn")
    neighbor, _ = _knn_search(xy, k)
    neighbor.sort(axis=1)  # links in (focal, neighbour) order, as SpatialWeights keeps them
    focal = np.repeat(np.arange(n, dtype=np.int64), k)
    prov = stamp("knn", {"k": k}, xy)
    return _weights(id_arr, focal, neighbor.ravel(), None, "knn", prov)


# -- distance band ----------------------------------------------------------------------------------------------------
def _pairs_within(xy: FloatArray, radius: float) -> tuple[IntArray, IntArray, FloatArray]:
    """Every ordered pair (i, j), i ≠ j, at distance ≤ radius, with its distance, sorted by (i, j).

    The tree gives each unordered pair once; both directions are laid out row by row through a CSR matrix
    (a counting sort by row, then a sort within each short row), far cheaper than sorting all links.
    """
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(radius, output_type="ndarray").astype(np.int64, copy=False)
    m = len(pairs)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    link = np.arange(1, 2 * m + 1, dtype=np.int64)  # 1-based, so that no stored value is an (implicit) zero
    csr = sp.csr_array((link, (rows, cols)), shape=(n, n))
    csr.sort_indices()
    order = csr.data - 1
    focal = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr))
    neighbor = csr.indices.astype(np.int64)
    src = order % m if m else order
    d = np.hypot(xy[pairs[src, 0], 0] - xy[pairs[src, 1], 0], xy[pairs[src, 0], 1] - xy[pairs[src, 1], 1])
    return focal, neighbor, d


def distance_band(
    points_xy: ArrayLike, threshold: float, ids: ArrayLike | None = None, *, binary: bool = True, alpha: float = -1.0
) -> SpatialWeights:
    """Links between points at most ``threshold`` apart; weight 1, or ``distance ** alpha`` when not ``binary``.

    Inverse-distance weights (``alpha`` < 0) are undefined for coincident points: they raise an error
    naming one such pair rather than an infinite weight.
    """
    xy = _points(points_xy, "distance_band")
    threshold = _check_real("threshold", threshold, "distance_band")
    if not isinstance(binary, bool | np.bool_):
        raise _bad("binary", "distance_band", "a bool", binary)
    alpha = _check_real("alpha", alpha, "distance_band", positive=False)
    id_arr = _ids(ids, len(xy), "distance_band")
    focal, neighbor, d = _pairs_within(xy, threshold)
    weight = None
    if not binary:
        if alpha < 0 and np.any(d == 0):
            first = np.flatnonzero(d == 0)[0]
            raise InputError(
                f"distance_band: points at positions {focal[first]} and {neighbor[first]} coincide, so the "
                f"inverse-distance weight distance ** {alpha} is infinite",
                hint="merge coincident points or use binary=True",
            )
        weight = d**alpha
    prov = stamp("distance_band", {"threshold": threshold, "binary": bool(binary), "alpha": alpha}, xy)
    return _weights(id_arr, focal, neighbor, weight, "distance_band", prov)


# -- kernels ----------------------------------------------------------------------------------------------------------
def kernel(
    points_xy: ArrayLike,
    bandwidth: float | None = None,
    *,
    k: int | None = None,
    function: str = "triangular",
    fixed: bool = True,
    diagonal: bool = False,
    ids: ArrayLike | None = None,
) -> SpatialWeights:
    """Kernel weights K(d_ij / h) (see :data:`KERNELS`); links with zero weight are dropped.

    * fixed, ``bandwidth`` given: every pair within the bandwidth (the k nearest only, when ``k`` is given);
    * fixed, ``bandwidth`` None: the k nearest, h = the largest distance of any point to its k-th neighbour;
    * adaptive (``fixed=False``): the k nearest, h_i = the distance from i to its own k-th neighbour.

    ``diagonal=True`` adds each point's link to itself with weight K(0), as Gi*-type statistics want.
    """
    where = "kernel"
    xy = _points(points_xy, where)
    n = len(xy)
    check_choice("function", function, tuple(KERNELS), where)
    for name, flag in (("fixed", fixed), ("diagonal", diagonal)):
        if not isinstance(flag, bool | np.bool_):
            raise _bad(name, where, "a bool", flag)
    if k is not None:
        if n < 2:
            raise _bad("points_xy", where, "at least 2 points when k is given", f"{n} point(s)")
        k = _check_int("k", k, where, 1, n - 1)
    if bandwidth is not None:
        bandwidth = _check_real("bandwidth", bandwidth, where)
        if not fixed:
            raise _bad("bandwidth", where, "None when fixed=False (the adaptive bandwidth comes from k)", bandwidth)
    elif k is None:
        raise _bad("k", where, "an int >= 1 when no bandwidth is given", k)
    id_arr = _ids(ids, n, where)
    kfun = KERNELS[function]
    if k is None:
        assert bandwidth is not None  # noqa: S101 - checked above; tells mypy
        focal, neighbor, d = _pairs_within(xy, bandwidth)
        h: float | FloatArray = bandwidth
    else:
        nbr, dist = _knn_search(xy, k)
        focal = np.repeat(np.arange(n, dtype=np.int64), k)
        neighbor, d = nbr.ravel(), dist.ravel()
        if not fixed:
            h = np.repeat(dist[:, -1], k)
            if np.any(h == 0):
                first = int(np.flatnonzero(h == 0)[0]) // k
                raise InputError(
                    f"kernel: point {first} has more than k = {k} coincident points, so its adaptive bandwidth is 0",
                    hint="increase k or merge coincident points",
                )
        else:
            h = float(dist[:, -1].max()) if bandwidth is None else bandwidth
            if h == 0:
                raise InputError("kernel: every point's k-th neighbour coincides with it; the bandwidth would be 0")
    weight = kfun(d / h)
    keep = (weight > 0) & (d <= h)
    focal, neighbor, weight = focal[keep], neighbor[keep], weight[keep]
    if diagonal:
        self_ = np.arange(n, dtype=np.int64)
        focal, neighbor = np.concatenate([focal, self_]), np.concatenate([neighbor, self_])
        weight = np.concatenate([weight, np.full(n, kfun(np.zeros(1))[0])])
    params = {"bandwidth": bandwidth, "k": k, "function": function, "fixed": bool(fixed), "diagonal": bool(diagonal)}
    if fixed and bandwidth is None:
        params["bandwidth_used"] = float(h)  # type: ignore[arg-type]
    return _weights(id_arr, focal, neighbor, weight, f"kernel:{function}", stamp("kernel", params, xy))


# -- regular grid -----------------------------------------------------------------------------------------------------
_ROOK_STEPS = ((-1, 0), (0, -1), (0, 1), (1, 0))
_QUEEN_STEPS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def lattice(nrows: int, ncols: int, *, rule: str = "rook", ids: ArrayLike | None = None) -> SpatialWeights:
    """Binary contiguity of an ``nrows`` x ``ncols`` grid, cells in row-major order (position = row * ncols + col).

    Rook: the 4 cells sharing an edge; queen: the 8 sharing an edge or a corner. No wrap-around.
    """
    nrows = _check_int("nrows", nrows, "lattice", 1)
    ncols = _check_int("ncols", ncols, "lattice", 1)
    check_choice("rule", rule, ("rook", "queen"), "lattice")
    n = nrows * ncols
    id_arr = _ids(ids, n, "lattice")
    r, c = np.divmod(np.arange(n, dtype=np.int64), ncols)
    focal_parts, neighbor_parts = [], []
    for dr, dc in _ROOK_STEPS if rule == "rook" else _QUEEN_STEPS:  # 4 or 8 vectorised offsets
        rr, cc = r + dr, c + dc
        ok = (rr >= 0) & (rr < nrows) & (cc >= 0) & (cc < ncols)
        focal_parts.append(np.flatnonzero(ok))
        neighbor_parts.append(rr[ok] * ncols + cc[ok])
    prov = stamp("lattice", {"nrows": nrows, "ncols": ncols, "rule": rule})
    return _weights(id_arr, np.concatenate(focal_parts), np.concatenate(neighbor_parts), None, f"lattice:{rule}", prov)


# -- polygon contiguity -----------------------------------------------------------------------------------------------
def _pairs_sharing(key: IntArray, owner: IntArray, n_owners: int) -> tuple[IntArray, IntArray, IntArray]:
    """Every ordered pair of distinct owners that hold the same key, with the key's position in ``key``.

    Keys (a vertex or an edge) and owners (a polygon) are de-duplicated first; then each group of owners of one
    key contributes its m (m - 1) ordered pairs, built with index arithmetic rather than a loop over groups.
    """
    packed = np.unique(key * n_owners + owner)
    k_, o_ = np.divmod(packed, n_owners)
    starts = np.flatnonzero(np.r_[True, k_[1:] != k_[:-1]])
    sizes = np.diff(np.r_[starts, len(k_)])
    shared = sizes > 1
    starts, sizes = starts[shared], sizes[shared]
    if not len(starts):
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    # for every member of a shared group: its position, and how many partners (the group size) it gets
    member = np.repeat(starts, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    msize = np.repeat(sizes, sizes)
    mstart = np.repeat(starts, sizes)
    a = np.repeat(member, msize)
    offset = np.arange(msize.sum()) - np.repeat(np.cumsum(msize) - msize, msize)
    b = np.repeat(mstart, msize) + offset
    distinct = a != b
    a, b = a[distinct], b[distinct]
    return o_[a], o_[b], k_[a]


def _polygon_rings(geoms: NDArray[Any]) -> tuple[FloatArray, IntArray, IntArray]:
    """All ring vertices: coordinates, the ring each belongs to, and the polygon (input position) of each ring."""
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    return coords, vertex_ring.astype(np.int64), part_owner[ring_part].astype(np.int64)


def _vertex_ids(coords: FloatArray) -> IntArray:
    """One integer per distinct (x, y) (exact equality)."""
    order = np.lexsort((coords[:, 1], coords[:, 0]))
    sx, sy = coords[order, 0], coords[order, 1]
    new = np.r_[True, (sx[1:] != sx[:-1]) | (sy[1:] != sy[:-1])]
    vid = np.empty(len(coords), dtype=np.int64)
    vid[order] = np.cumsum(new) - 1
    return vid


def contiguity(
    geometries: Any, ids: ArrayLike | None = None, *, rule: str = "queen", tolerance: float = 0.0
) -> SpatialWeights:
    """Binary contiguity of polygons: queen (a shared vertex) or rook (a shared edge, see the module docstring).

    ``geometries``: an array or GeoSeries of Polygons / MultiPolygons (holes and multi-part areas handled; an empty
    polygon is an island). For rook, ``tolerance`` is the total length of shared edges a pair must exceed to be
    linked (0: any shared edge). Areas with no neighbour stay in the result and are listed in ``.islands``.
    """
    where = "contiguity"
    check_choice("rule", rule, ("queen", "rook"), where)
    tolerance = _check_real("tolerance", tolerance, where, allow_zero=True)
    if rule == "queen" and tolerance:
        raise _bad("tolerance", where, "0 for rule='queen' (a shared vertex has no length)", tolerance)
    geoms = np.asarray(getattr(geometries, "geometry", geometries), dtype=object)
    if geoms.ndim != 1:
        raise _bad("geometries", where, "a 1-d array of polygons", f"shape {geoms.shape}")
    n = len(geoms)
    try:
        types = shapely.get_type_id(geoms)
    except TypeError as exc:
        raise _bad("geometries", where, "an array of shapely Polygons or MultiPolygons", "other objects") from exc
    bad = ~np.isin(types, (3, 6))  # Polygon, MultiPolygon (None has type -1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        kind_ = "a missing geometry" if geoms[first] is None else shapely.get_type_id(geoms[first])
        raise InputError(
            f"contiguity needs Polygons or MultiPolygons; position {first} holds "
            f"{kind_ if isinstance(kind_, str) else geoms[first].geom_type}"
        )
    id_arr = _ids(ids, n, where)
    coords, vertex_ring, ring_owner = _polygon_rings(geoms)
    owner = ring_owner[vertex_ring]
    vid = _vertex_ids(coords)
    if rule == "queen":
        focal, neighbor, _ = _pairs_sharing(vid, owner, n)
    else:
        same_ring = vertex_ring[1:] == vertex_ring[:-1]
        a, b = vid[:-1][same_ring], vid[1:][same_ring]
        real = a != b  # a repeated vertex is not an edge
        a, b = a[real], b[real]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        edge_key = lo * (int(vid.max()) + 1) + hi
        e_owner = owner[:-1][same_ring][real]
        focal, neighbor, shared_edge = _pairs_sharing(edge_key, e_owner, n)
        if tolerance > 0 and len(focal):
            start = coords[:-1][same_ring][real]
            end = coords[1:][same_ring][real]
            length = np.hypot(*(end - start).T)
            # one length per distinct edge key (the same edge may appear in both polygons)
            edge_keys, first_seen = np.unique(edge_key, return_index=True)
            per_link = length[first_seen][np.searchsorted(edge_keys, shared_edge)]
            pair = focal * n + neighbor
            upair, inverse = np.unique(pair, return_inverse=True)
            total = np.bincount(inverse, weights=per_link)
            long_enough = total > tolerance
            focal, neighbor = np.divmod(upair[long_enough], n)
    if len(focal):
        pair = np.unique(focal * n + neighbor)
        focal, neighbor = np.divmod(pair, n)
    prov = stamp("contiguity", {"rule": rule, "tolerance": tolerance}, coords, owner)
    return _weights(id_arr, focal, neighbor, None, f"contiguity:{rule}", prov)


# -- GeoDa / spdep weights files --------------------------------------------------------------------------------------
def _read_lines(path: str | Path, where: str) -> tuple[Path, list[str]]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"{where}: no such file", file=p) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot read the file ({exc})", file=p) from exc
    return p, text.splitlines()


def _header_n(p: Path, tokens: list[str], where: str) -> int:
    """``n``, ``0 n`` or ``0 n name idvar`` (GeoDa) → n."""
    if not tokens:
        raise InputError(f"{where}: the first line must give the number of areas, and it is empty", file=p, row=1)
    count = tokens[1] if len(tokens) >= 2 and tokens[0] == "0" else tokens[0]
    try:
        n = int(count)
    except ValueError as exc:
        raise InputError(
            f"{where}: the first line must start with the number of areas ('n' or '0 n'); found {count!r}",
            file=p,
            row=1,
        ) from exc
    if n < 0:
        raise InputError(f"{where}: the number of areas must be >= 0; found {n}", file=p, row=1)
    return n


def _id_array(tokens: list[str]) -> NDArray[Any]:
    """Ids as integers when every one is an integer, else as strings."""
    arr = np.array(tokens, dtype=str)
    try:
        as_int = arr.astype(np.int64)
    except ValueError:
        return arr.astype(object)
    return as_int


def read_gal(path: str | Path) -> SpatialWeights:
    """Read a GeoDa / spdep ``.gal`` file: a header line, then per area ``id count`` and a line of neighbour ids.

    The areas keep the file's order; ids are integers when every id is one.
    """
    where = "read_gal"
    p, lines = _read_lines(path, where)
    n = _header_n(p, lines[0].split() if lines else [], where)
    body = lines[1:]
    while len(body) > 2 * n and not body[-1].strip():
        body.pop()
    if len(body) == 2 * n - 1:  # an island's empty neighbour line may be missing at the very end
        body.append("")
    if len(body) != 2 * n:
        raise InputError(
            f"{where}: the header announces {n} areas, so {2 * n} lines should follow it; found {len(body)}",
            file=p,
            row=1,
            hint="each area needs an 'id count' line and a line of neighbour ids (empty when count is 0)",
        )
    heads = [line.split() for line in body[0::2]]
    lists = [line.split() for line in body[1::2]]
    area_ids: list[str] = []
    counts: list[int] = []
    for r, (head, nbrs) in enumerate(zip(heads, lists, strict=True)):  # one step per area, not per link
        line_no = 2 + 2 * r
        if len(head) != 2:
            raise InputError(f"{where}: expected 'id count', found {' '.join(head)!r}", file=p, row=line_no)
        try:
            count = int(head[1])
        except ValueError as exc:
            raise InputError(f"{where}: the count {head[1]!r} is not an integer", file=p, row=line_no) from exc
        if count != len(nbrs):
            raise InputError(
                f"{where}: area {head[0]} announces {count} neighbours but the next line lists {len(nbrs)}",
                file=p,
                row=line_no + 1,
            )
        area_ids.append(head[0])
        counts.append(count)
    tokens = [t for nbrs in lists for t in nbrs]
    id_arr = _id_array(area_ids + tokens)
    ids, nbr_ids = id_arr[:n], id_arr[n:]
    return _from_id_links(
        p,
        where,
        ids,
        np.repeat(ids, counts),
        nbr_ids,
        None,
        lambda link: 3 + 2 * int(np.searchsorted(np.cumsum(counts), link, side="right")),
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _from_id_links(
    p: Path,
    where: str,
    ids: NDArray[Any],
    focal_ids: NDArray[Any],
    nbr_ids: NDArray[Any],
    weight: FloatArray | None,
    line_of: Callable[[int], int],
) -> SpatialWeights:
    """Ids → positions, with errors that name the file and line of the first bad link."""
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    if len(sorted_ids) > 1 and np.any(sorted_ids[1:] == sorted_ids[:-1]):
        dup = sorted_ids[1:][sorted_ids[1:] == sorted_ids[:-1]][0]
        raise InputError(f"{where}: area id {_plain(dup)!r} appears twice", file=p)
    positions = []
    for name, values in (("focal", focal_ids), ("neighbour", nbr_ids)):
        pos = np.searchsorted(sorted_ids, values).clip(0, max(len(ids) - 1, 0))
        found = sorted_ids[pos] == values if len(ids) else np.zeros(len(values), dtype=bool)
        if not np.all(found):
            link = int(np.flatnonzero(~found)[0])
            raise InputError(
                f"{where}: {name} id {_plain(values[link])!r} is not one of the areas", file=p, row=line_of(link)
            )
        positions.append(order[pos].astype(np.int64))
    focal, neighbor = positions
    pair = focal * max(len(ids), 1) + neighbor
    order_pair = np.argsort(pair, kind="stable")
    repeat = pair[order_pair][1:] == pair[order_pair][:-1]
    if np.any(repeat):
        link = int(order_pair[1:][repeat].min())  # the first line that repeats an earlier link
        raise InputError(
            f"{where}: the link {_plain(focal_ids[link])!r} → {_plain(nbr_ids[link])!r} appears more than once",
            file=p,
            row=line_of(link),
        )
    if weight is not None and (not np.all(np.isfinite(weight)) or np.any(weight < 0)):
        link = int(np.flatnonzero(~(np.isfinite(weight) & (weight >= 0)))[0])
        raise InputError(f"{where}: weight {weight[link]!r} is not finite and >= 0", file=p, row=line_of(link))
    prov = stamp(where, {"path": str(p)}, p.read_bytes())
    return _weights(ids, focal, neighbor, weight, "file:" + p.suffix.lstrip(".").lower(), prov)


def read_gwt(path: str | Path, ids: ArrayLike | None = None) -> SpatialWeights:
    """Read a GeoDa ``.gwt`` file: a header line, then one ``i j w`` line per link.

    A GWT file lists links only, so an area without any neighbour cannot appear in it: when the header announces
    more areas than the links name, pass all area ids (in the order wanted) as ``ids``. Otherwise the areas take
    the order in which they first appear.
    """
    where = "read_gwt"
    p, lines = _read_lines(path, where)
    n = _header_n(p, lines[0].split() if lines else [], where)
    rows = [(no, line.split()) for no, line in enumerate(lines[1:], start=2) if line.strip()]
    bad = next(((no, t) for no, t in rows if len(t) != 3), None)
    if bad is not None:
        raise InputError(f"{where}: expected 'i j w', found {' '.join(bad[1])!r}", file=p, row=bad[0])
    line_nos = np.array([no for no, _ in rows], dtype=np.int64)
    table = np.array([t for _, t in rows], dtype=str).reshape(-1, 3)
    try:
        weight = table[:, 2].astype(np.float64)
    except ValueError:
        for no, t in rows:  # find the line for the message
            try:
                float(t[2])
            except ValueError:
                raise InputError(f"{where}: the weight {t[2]!r} is not a number", file=p, row=no) from None
        raise
    both = _id_array(list(table[:, 0]) + list(table[:, 1]))
    focal_ids, nbr_ids = both[: len(table)], both[len(table) :]
    if ids is None:
        _, first = np.unique(both, return_index=True)
        id_arr = both[np.sort(first)]
        if len(id_arr) != n:
            raise InputError(
                f"{where}: the header announces {n} areas but the links name {len(id_arr)}",
                file=p,
                row=1,
                hint="areas without neighbours cannot appear in a GWT file: pass all area ids as ids=",
            )
    else:
        id_arr = np.asarray(ids)
        if len(id_arr) != n:
            raise _bad("ids", where, f"one id per area announced in the header ({n})", f"{len(id_arr)} ids")
        if id_arr.dtype.kind in "iu" and both.dtype == object:
            id_arr = id_arr.astype(str).astype(object)
        elif id_arr.dtype.kind in "UO" and both.dtype.kind == "i":
            focal_ids, nbr_ids = focal_ids.astype(str).astype(object), nbr_ids.astype(str).astype(object)
            id_arr = id_arr.astype(object)
    return _from_id_links(p, where, id_arr, focal_ids, nbr_ids, weight, lambda link: int(line_nos[link]))
