"""Unit tests of the weights constructors: definitions on tiny cases, ties, islands, errors, no mutation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from safercities.errors import InputError
from safercities.stats import neighbours as nb


def links(w: nb.SpatialWeights) -> set[tuple[object, object]]:
    return set(zip(w.ids[w.focal].tolist(), w.ids[w.neighbor].tolist(), strict=True))


def test_knn_ties_go_to_the_lower_position() -> None:
    # a plus sign: the centre (0) has four neighbours at distance 1; k = 2 takes positions 1 and 2
    xy = np.array([[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]], dtype=float)
    w = nb.knn(xy, 2)
    assert {j for i, j in links(w) if i == 0} == {1, 2}
    assert w.kind == "knn" and w.transform == "O" and w.provenance["parameters"]["k"] == 2
    assert np.all(w.cardinalities == 2)


def test_knn_on_a_lattice_is_independent_of_input_order() -> None:
    g = np.stack(np.meshgrid(np.arange(20.0), np.arange(20.0)), -1).reshape(-1, 2)
    perm = np.random.default_rng(3).permutation(len(g))
    a = nb.knn(g, 6)
    b = nb.knn(g[perm], 6, ids=perm)
    # positions differ, but both pick the lower-position tie: compare each on its own terms
    assert len(a.focal) == len(b.focal) == 6 * len(g)
    assert np.all(a.cardinalities == 6)


def test_knn_coincident_points() -> None:
    xy = np.array([[0, 0]] * 4 + [[5, 5]], dtype=float)
    w = nb.knn(xy, 2)
    assert {j for i, j in links(w) if i == 3} == {0, 1}
    assert not np.any(w.focal == w.neighbor)


def test_knn_k_too_large_and_bad_values() -> None:
    xy = np.zeros((3, 2)) + np.arange(3)[:, None]
    with pytest.raises(InputError, match=r"The 'k' parameter of knn must be an int in the range \[1, 2\]. Got 3"):
        nb.knn(xy, 3)
    with pytest.raises(InputError, match="'k' parameter"):
        nb.knn(xy, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="missing or infinite"):
        nb.knn(np.array([[0, 0], [np.nan, 1], [2, 2]]), 1)
    with pytest.raises(InputError, match="points_xy"):
        nb.knn(np.zeros((4, 3)), 1)


def test_inputs_are_not_mutated() -> None:
    xy = np.random.default_rng(1).uniform(0, 10, (50, 2))
    xy.flags.writeable = False
    before = xy.copy()
    nb.knn(xy, 3)
    nb.distance_band(xy, 2.0, binary=False)
    nb.kernel(xy, k=4, fixed=False, function="gaussian")
    assert np.array_equal(xy, before)


def test_distance_band_weights_and_coincident_points() -> None:
    xy = np.array([[0, 0], [3, 4], [10, 0], [10, 0]], dtype=float)
    w = nb.distance_band(xy, 5.0)
    assert links(w) == {(0, 1), (1, 0), (2, 3), (3, 2)}
    with pytest.raises(InputError, match="coincide"):
        nb.distance_band(xy, 5.0, binary=False)
    w = nb.distance_band(xy[:3], 5.0, binary=False, alpha=-2.0)
    assert np.allclose(w.weight, 1 / 25)
    assert list(w.islands) == [2]
    with pytest.raises(InputError, match="The 'threshold' parameter of distance_band must be a finite real number > 0"):
        nb.distance_band(xy, -1)


@pytest.mark.parametrize("function", list(nb.KERNELS))
def test_kernel_values(function: str) -> None:
    xy = np.array([[0, 0], [1, 0], [3, 0]], dtype=float)
    w = nb.kernel(xy, 2.0, function=function, diagonal=True)
    z = {"triangular": 0.5, "uniform": 1.0, "quadratic": 0.75 * 0.75, "quartic": 15 / 16 * 0.75**2}
    got = dict(zip(zip(w.focal.tolist(), w.neighbor.tolist(), strict=True), w.weight.tolist(), strict=True))
    expected = z.get(function, np.exp(-0.125) / np.sqrt(2 * np.pi))
    assert got[(0, 1)] == pytest.approx(expected, rel=1e-12)
    assert (0, 2) not in got  # beyond the bandwidth
    assert ((1, 2) in got) == (function == "gaussian")  # on the bandwidth: only the gaussian is not zero there
    assert got[(2, 2)] == pytest.approx(nb.KERNELS[function](np.zeros(1))[0])


def test_kernel_adaptive_bandwidth() -> None:
    xy = np.array([[0, 0], [1, 0], [3, 0], [7, 0]], dtype=float)
    w = nb.kernel(xy, k=2, fixed=False, function="gaussian")
    # point 3's two nearest are 2 (d = 4) and 1 (d = 6): h = 6
    got = dict(zip(zip(w.focal.tolist(), w.neighbor.tolist(), strict=True), w.weight.tolist(), strict=True))
    assert got[(3, 2)] == pytest.approx(np.exp(-0.5 * (4 / 6) ** 2) / np.sqrt(2 * np.pi))
    with pytest.raises(InputError, match="'bandwidth' parameter of kernel must be None when fixed=False"):
        nb.kernel(xy, 2.0, k=2, fixed=False)
    with pytest.raises(InputError, match="'function' parameter of kernel must be one of"):
        nb.kernel(xy, 2.0, function="epanechnikov")
    with pytest.raises(InputError, match="'k' parameter of kernel"):
        nb.kernel(xy)


def test_lattice_row_major() -> None:
    w = nb.lattice(2, 3)
    # 0 1 2 / 3 4 5
    assert {j for i, j in links(w) if i == 1} == {0, 2, 4}
    q = nb.lattice(2, 3, rule="queen")
    assert {j for i, j in links(q) if i == 1} == {0, 2, 3, 4, 5}
    assert len(nb.lattice(1, 1).islands) == 1
    with pytest.raises(InputError, match="'nrows' parameter of lattice"):
        nb.lattice(0, 3)


def _squares() -> np.ndarray:
    b = shapely.box
    return np.array(
        [
            b(0, 0, 1, 1),
            b(1, 0, 2, 1),  # rook neighbour of 0
            b(2, 1, 3, 2),  # touches 1 at a corner only
            shapely.difference(b(10, 10, 14, 14), b(11, 11, 13, 13)),  # a polygon with a hole
            b(11, 11, 13, 13),  # fills the hole
            shapely.MultiPolygon([b(20, 0, 21, 1), b(1, 1, 2, 2)]),  # a multipolygon, one part on top of 1
            b(50, 50, 51, 51),  # an island
        ],
        dtype=object,
    )


def test_contiguity_queen_rook_holes_multipolygons_islands() -> None:
    geoms = _squares()
    before = shapely.to_wkb(geoms)
    q = nb.contiguity(geoms, ids=list("abcdefg"))
    r = nb.contiguity(geoms, rule="rook")
    assert ("b", "c") in links(q) and (1, 2) not in links(r)
    assert (3, 4) in links(r) and (4, 3) in links(r)
    assert (5, 1) in links(r) and ("f", "a") in links(q) and (5, 0) not in links(r)
    assert list(q.islands) == ["g"] and list(r.islands) == [6]
    assert q.is_symmetric() and r.is_symmetric()
    assert np.array_equal(shapely.to_wkb(geoms), before)


def test_contiguity_rook_tolerance() -> None:
    geoms = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], dtype=object)
    assert len(nb.contiguity(geoms, rule="rook", tolerance=0.5).focal) == 2
    assert len(nb.contiguity(geoms, rule="rook", tolerance=1.0).focal) == 0
    with pytest.raises(InputError, match="'tolerance' parameter of contiguity"):
        nb.contiguity(geoms, tolerance=1.0)


def test_contiguity_rejects_non_polygons() -> None:
    with pytest.raises(InputError, match="position 1"):
        nb.contiguity(np.array([shapely.box(0, 0, 1, 1), shapely.Point(0, 0)], dtype=object))
    with pytest.raises(InputError, match="missing geometry"):
        nb.contiguity(np.array([shapely.box(0, 0, 1, 1), None], dtype=object))


def test_read_gal_forms(tmp_path: Path) -> None:
    p = tmp_path / "w.gal"
    p.write_text("0 3 shape POLYID\n1 1\n2\n2 2\n1 3\n3 1\n2\n")
    w = nb.read_gal(p)
    assert list(w.ids) == [1, 2, 3] and links(w) == {(1, 2), (2, 1), (2, 3), (3, 2)}
    p.write_text("3\nA 1\nB\nB 1\nA\nC 0\n\n")
    w = nb.read_gal(p)
    assert list(w.islands) == ["C"]


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        ("x\n", 1, "number of areas"),
        ("2\n1 1\n2\n2 2\n1\n", 5, "announces 2 neighbours"),
        ("2\n1 1\n9\n2 1\n1\n", 3, "neighbour id 9"),
        ("2\n1 1\n2\n", 1, "4 lines should follow"),
        ("2\n1 x\n2\n2 1\n1\n", 2, "not an integer"),
    ],
)
def test_read_gal_errors_name_file_and_line(tmp_path: Path, text: str, line: int, match: str) -> None:
    p = tmp_path / "bad.gal"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        nb.read_gal(p)
    assert err.value.file == str(p) and err.value.row == line


def test_read_gwt(tmp_path: Path) -> None:
    p = tmp_path / "w.gwt"
    p.write_text("0 3 shape ID\n1 2 0.5\n2 1 0.5\n2 3 1.25\n")
    assert list(nb.read_gwt(p).ids) == [1, 2, 3]
    w = nb.read_gwt(p, ids=[3, 2, 1])
    assert list(w.ids) == [3, 2, 1]
    assert w.to_frame().set_index(["focal", "neighbor"]).weight.to_dict() == {(2, 1): 0.5, (1, 2): 0.5, (2, 3): 1.25}
    p.write_text("0 4 shape ID\n1 2 0.5\n")
    with pytest.raises(InputError, match="pass all area ids"):
        nb.read_gwt(p)
    assert list(nb.read_gwt(p, ids=[1, 2, 3, 4]).islands) == [2, 3, 4]  # no link from 2
    p.write_text("3\n1 2 0.5\n2 1 zz\n")
    with pytest.raises(InputError, match="not a number") as err:
        nb.read_gwt(p)
    assert err.value.row == 3
    p.write_text("2\n1 2 0.5\n1 2 0.5\n")
    with pytest.raises(InputError, match="more than once") as err:
        nb.read_gwt(p)
    assert err.value.row == 3
