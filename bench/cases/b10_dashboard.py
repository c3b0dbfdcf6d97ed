"""B10: dashboard pages over a city of 1e6 incidents, served by uvicorn on loopback.

Input: B2's workspace (1,000 Voronoi areas in Mexico City, 1e6 / 1e7 incidents over 2023-2024), copied to a
temporary folder (the server writes sessions there), served with ``create_app(public=True)`` by uvicorn in a
thread on 127.0.0.1, read with httpx.

Ours: one round of the three public pages as a visitor opens them (``/``, ``/map``, ``/map?iccs=04``), over
HTTP, warm (the figures cached until the next import). Peer (no PyPI peer: a dashboard without its cache):
the same figures computed from the store for each page (``observatory.homicide_rate``, ``recent_change``,
``monthly_series``, ``area_rates`` twice), without HTML or HTTP.
Goal: besides the ratio, the p95 latency of 200 requests after warm-up (round robin over the three pages)
must stay under 300 ms; the check fails otherwise. Exactness: the overview page shows the homicide rate
that ``observatory.homicide_rate`` computes.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import Prepared

ID = "B10"
TITLE = "dashboard pages, p95 of 200 requests"
GOAL = 1.0
PEER = "the same figures without the cache"
ROWS = {"S": 1_000_000, "M": 1_000_000, "L": 10_000_000}
PAGES = ("/", "/map", "/map?iccs=04")
REQUESTS = 200
P95_LIMIT = 0.300


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [] if size == "M" else [{"rows": ROWS[size], "areas": 1_000}]


class Server:
    """uvicorn serving the dashboard in a background thread on a free loopback port."""

    def __init__(self, root: Path) -> None:
        import socket

        import uvicorn

        from safercities.web.app import create_app

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(root, public=True)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def url(self, page: str) -> str:
        return f"http://127.0.0.1:{self.port}{page}"


def _round(client: Any, server: Server) -> list[str]:
    pages = []
    for page in PAGES:
        answer = client.get(server.url(page))
        answer.raise_for_status()
        pages.append(answer.text)
    return pages


def _latencies(client: Any, server: Server) -> list[float]:
    out = []
    for k in range(REQUESTS):
        start = time.perf_counter()
        client.get(server.url(PAGES[k % len(PAGES)])).raise_for_status()
        out.append(time.perf_counter() - start)
    return out


def _figures(ws: Any) -> list[Any]:
    from safercities import observatory

    who = observatory.PUBLIC
    return [
        observatory.homicide_rate(ws, who),
        observatory.recent_change(ws, who),
        observatory.monthly_series(ws, who),
        observatory.area_rates(ws, who),
        observatory.area_rates(ws, who, "04"),
    ]


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    import httpx
    import numpy as np

    from bench.cases.b2_cube import workspace_folder
    from safercities import i18n, observatory

    source = workspace_folder(param) / "ws"
    root = Path(tempfile.mkdtemp(prefix="b10-")) / "ws"
    shutil.copytree(source, root)
    server = Server(root)
    ws = server.app.state.workspace
    client = httpx.Client(timeout=60)
    _round(client, server)  # warm-up: the figures are computed and cached
    latencies = np.array(_latencies(client, server))
    p50, p95 = float(np.percentile(latencies, 50)), float(np.percentile(latencies, 95))
    homicide = observatory.homicide_rate(ws, observatory.PUBLIC)

    def check(ours: list[str], peer: list[Any]) -> None:
        expected = i18n.number(peer[0].value, ws.config.lang, 1)
        assert expected in ours[0], f"the overview does not show the homicide rate {expected}"
        assert p95 < P95_LIMIT, f"p95 latency {p95 * 1000:.0f} ms over {REQUESTS} requests exceeds 300 ms"

    return Prepared(
        label=f"{param['rows']:.0e} incidents, {len(PAGES)} pages".replace("e+0", "e"),
        ours=lambda: _round(client, server),
        peer=lambda: _figures(ws),
        check=check,
        notes={
            "p50_ms": f"{p50 * 1000:.1f}",
            "p95_ms": f"{p95 * 1000:.1f}",
            "requests": str(REQUESTS),
            "homicide_rate": f"{homicide.value:.2f}",
        },
    )


def cold_import(side: str) -> None:
    import safercities.observatory  # noqa: F401

    if side == "ours":
        import safercities.web.app  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    from bench.cases.b2_cube import workspace_folder

    source = workspace_folder(param) / "ws"
    root = Path(tempfile.mkdtemp(prefix="b10-cold-")) / "ws"
    shutil.copytree(source, root)
    return root


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    """Cold: the first visit after the server starts (ours), or the figures from a fresh process (peer)."""
    if side == "ours":
        from fastapi.testclient import TestClient

        from safercities.web.app import create_app

        with TestClient(create_app(inputs, public=True), base_url="https://testserver") as client:
            return [client.get(page).text for page in PAGES]
    from safercities.workspace import open_workspace

    with open_workspace(inputs) as ws:
        return _figures(ws)
