"""B3: kernel density surface, Gaussian kernel, on a square grid.

Ours: :func:`safercities.stats.kde.kde` on the binned path (linear binning + one FFT convolution),
intensity (points per m²). Peer: KDEpy ``FFTKDE(kernel="gaussian").fit(data).evaluate(grid_points)``
on the same cell centres (an (N², 2) grid sorted by x then y, built once, outside the timing), times n.
The peer runs in units of the bandwidth (data and grid divided by h, ``bw=1``; result divided by h²):
KDEpy cuts its Gaussian where the kernel falls below an absolute 1e-4, which at ``bw=250`` in metres
is 2.4 sd and loses 3% of the mass; at ``bw=1`` the cut is at 3.9 sd. The scaling is timed with the peer.

Exactness (checked on the warm-up results): at 401 cells (200 uniform, 200 drawn in proportion to the
density, and the maximum) the exact Gaussian sum over every point within 8 sd (a scipy cKDTree ball
query and a numpy sum, independent of our code); metric ``max |surface - exact| / max(exact)`` must be
≤ 1e-2 for ours, and ours and the peer must agree to 1e-2 of the maximum over the whole grid. At S,
scipy's exact ``gaussian_kde`` (covariance set to h² I) is evaluated at the same cells, as a check of
the reference itself (accuracy only; not timed). The errors go to the notes.
Cold: import + one call for each side (ours includes loading the numba kernels from their disk cache).
"""

from __future__ import annotations

from typing import Any

from bench.harness import Prepared

ID = "B3"
TITLE = "KDE surface (Gaussian)"
GOAL = 0.2
PEER = "KDEpy FFTKDE"

POINTS = {"S": 100_000, "M": 1_000_000, "L": 30_000_000}
GRID = {"S": 500, "M": 1000, "L": 2000}
BANDWIDTH = 250.0
"""Gaussian sd in metres (the city is 20 km across)."""
TOLERANCE = 1e-2
SAMPLE_SEED = 33


def skip_reason() -> str | None:
    try:
        import KDEpy  # noqa: F401
    except ImportError:
        return "KDEpy is not installed (pip install KDEpy)"
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"points": POINTS[size], "grid": GRID[size], "bandwidth": BANDWIDTH}]


def _label(param: dict[str, Any]) -> str:
    return f"{param['grid']}² grid × {param['points']:.0e} pts, h {param['bandwidth']:g} m".replace("e+0", "e")


def _inputs(param: dict[str, Any]) -> tuple[Any, Any, float, tuple[float, float, float, float], Any]:
    """Points, the cell size and bounds of an N x N grid whose centres enclose every point (as KDEpy needs),
    and KDEpy's grid points (x slowest), already in units of the bandwidth."""
    import numpy as np

    from bench.inputs import incident_points

    x, y = incident_points(param["points"])
    n_cells = param["grid"]
    extent = max(float(np.ptp(x)), float(np.ptp(y)))
    cell = extent / (n_cells - 2)
    x0, y0 = float(x.min()) - cell, float(y.min()) - cell
    bounds = (x0, y0, x0 + n_cells * cell, y0 + n_cells * cell)
    centres_x = x0 + cell * (np.arange(n_cells) + 0.5)
    centres_y = y0 + cell * (np.arange(n_cells) + 0.5)
    gx, gy = np.meshgrid(centres_x, centres_y, indexing="ij")
    grid = np.column_stack([gx.ravel(), gy.ravel()]) / param["bandwidth"]
    return x, y, cell, bounds, grid


def _ours(x: Any, y: Any, cell: float, bounds: Any, h: float) -> Any:
    from safercities.stats.kde import kde

    return kde(x, y, cell_size=cell, bounds=bounds, bandwidth=h, kernel="gaussian", method="binned").values


def _peer(x: Any, y: Any, grid: Any, n_cells: int, h: float) -> Any:
    import numpy as np
    from KDEpy import FFTKDE

    data = np.column_stack([x, y]) / h
    density = FFTKDE(kernel="gaussian", bw=1.0).fit(data).evaluate(grid)
    return density.reshape(n_cells, n_cells).T * (x.size / h**2)


def _exact_at(x: Any, y: Any, qx: Any, qy: Any, h: float) -> Any:
    """The exact Gaussian intensity at (qx, qy): every point within 8 sd, found with a cKDTree."""
    import numpy as np
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([x, y]))
    hits = tree.query_ball_point(np.column_stack([qx, qy]), r=8 * h, return_sorted=False)
    sizes = np.fromiter((len(a) for a in hits), dtype=np.int64, count=len(hits))
    idx = np.concatenate([np.asarray(a, dtype=np.int64) for a in hits])
    owner = np.repeat(np.arange(len(hits)), sizes)
    d2 = (x[idx] - qx[owner]) ** 2 + (y[idx] - qy[owner]) ** 2
    return np.bincount(owner, weights=np.exp(-d2 / (2 * h * h)), minlength=len(hits)) / (2 * np.pi * h * h)


def _scipy_at(x: Any, y: Any, qx: Any, qy: Any, h: float) -> Any:
    import numpy as np
    from scipy import linalg
    from scipy.stats import gaussian_kde

    class Isotropic(gaussian_kde):
        def _compute_covariance(self) -> None:
            self.factor = 1.0
            self.covariance = np.eye(2) * h * h
            self.cho_cov = linalg.cholesky(self.covariance, lower=True)
            self.log_det = 2 * np.log(np.diag(self.cho_cov * np.sqrt(2 * np.pi))).sum()

    return Isotropic(np.vstack([x, y]))(np.vstack([qx, qy])) * x.size


def _sample_cells(surface: Any, seed: int) -> tuple[Any, Any]:
    """(row, col) of 200 uniform cells, 200 drawn in proportion to the surface, and its maximum."""
    import numpy as np

    rng = np.random.default_rng(seed)
    flat = np.clip(surface.ravel(), 0, None)
    uniform = rng.integers(0, flat.size, 200)
    weighted = rng.choice(flat.size, 200, p=flat / flat.sum())
    cells = np.unique(np.concatenate([uniform, weighted, [int(np.argmax(flat))]]))
    return np.divmod(cells, surface.shape[1])


def _rel_err(values: Any, exact: Any) -> float:
    import numpy as np

    return float(np.abs(values - exact).max() / exact.max())


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import numpy as np

    h = param["bandwidth"]
    x, y, cell, bounds, grid = _inputs(param)
    n_cells = param["grid"]
    first = _ours(x, y, cell, bounds, h)
    rows, cols = _sample_cells(first, SAMPLE_SEED)
    centres = bounds[0] + cell * (np.arange(n_cells) + 0.5), bounds[1] + cell * (np.arange(n_cells) + 0.5)
    qx, qy = centres[0][cols], centres[1][rows]
    exact = _exact_at(x, y, qx, qy, h)
    peer_first = _peer(x, y, grid, n_cells, h)
    notes = {
        "cell": f"{cell:.1f} m",
        "ours vs exact": f"{_rel_err(first[rows, cols], exact):.1e}",
        "KDEpy vs exact": f"{_rel_err(peer_first[rows, cols], exact):.1e}",
    }
    if size == "S":
        notes["scipy vs exact"] = f"{_rel_err(_scipy_at(x, y, qx, qy, h), exact):.1e}"

    def check(ours: Any, peer: Any) -> None:
        assert ours.shape == peer.shape == (n_cells, n_cells), f"shapes differ: {ours.shape} vs {peer.shape}"
        err = _rel_err(ours[rows, cols], exact)
        assert err <= TOLERANCE, f"ours vs exact: max relative error {err:.2e} > {TOLERANCE:g}"
        agree = float(np.abs(ours - peer).max() / peer.max())
        assert agree <= TOLERANCE, f"ours vs KDEpy: max relative difference {agree:.2e} > {TOLERANCE:g}"

    return Prepared(
        label=_label(param),
        ours=lambda: _ours(x, y, cell, bounds, h),
        peer=lambda: _peer(x, y, grid, n_cells, h),
        check=check,
        notes=notes,
    )


def cold_import(side: str) -> None:
    import numpy  # noqa: F401

    if side == "ours":
        import safercities.stats.kde  # noqa: F401
    else:
        import KDEpy  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return _inputs(param)


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    x, y, cell, bounds, grid = inputs
    if side == "ours":
        return _ours(x, y, cell, bounds, param["bandwidth"])
    return _peer(x, y, grid, param["grid"], param["bandwidth"])
