"""A load test of the dashboard on PostgreSQL: 50 clients read pages while an import runs.

The synthetic city's first half (file A) is in a PostgreSQL workspace; the dashboard (``create_app``,
public) is served by uvicorn on loopback; 50 client threads each read the three public pages a fixed
number of times while a separate process imports the second half (file B). Every answer must be a
200 with a whole page, and the pages after the import must show the new data. Prints the p95 latency.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

import pgkit
from safercities.sim import simulate
from safercities.store.postgres import with_schema
from safercities.workspace import init, open_workspace

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CLIENTS = 50
ROUNDS = 4  # per client, over the three pages: 600 requests
PAGES = ("/", "/map", "/map?iccs=04")


@pytest.fixture
def served(tmp_path: Path, pg_url: str):  # type: ignore[no-untyped-def]
    import uvicorn

    from safercities.web.app import create_app

    city = simulate(tmp_path / "city", seed=1)
    header, *lines = city.incidents.read_bytes().splitlines(keepends=True)
    a, b = city.mapping.parent / "a.csv", city.mapping.parent / "b.csv"
    a.write_bytes(header + b"".join(lines[: len(lines) // 2]))
    b.write_bytes(header + b"".join(lines[len(lines) // 2 :]))
    schema = f"test_load_{os.getpid()}"
    root = tmp_path / "ws"
    with init(root, name="Carga", crs=city.crs, timezone=city.timezone, database=with_schema(pg_url, schema)) as ws:
        ws.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(a, mapping=city.mapping)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(root, public=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", root, b, city.mapping
    server.should_exit = True
    thread.join(timeout=30)
    pgkit.drop_schemas(pg_url, {schema})


def _client(base: str) -> list[tuple[int, float, int]]:
    out = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(ROUNDS):
            for page in PAGES:
                start = time.perf_counter()
                answer = client.get(page)
                out.append((answer.status_code, time.perf_counter() - start, len(answer.text)))
    return out


def test_fifty_clients_read_pages_while_an_import_runs(served, capsys) -> None:  # type: ignore[no-untyped-def]
    base, root, b, mapping = served
    httpx.get(base + "/", timeout=60).raise_for_status()  # warm: the figures are cached once
    command = [sys.executable, "-c", "from safercities.cli.app import main; main()"]
    command += ["import", "incidents", str(b), "--mapping", str(mapping), "-w", str(root)]
    importer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [r for batch in pool.map(_client, [base] * CLIENTS) for r in batch]
    out, _ = importer.communicate(timeout=300)
    wall = time.perf_counter() - started
    assert importer.returncode == 0, out
    codes = [code for code, _, _ in results]
    errors = sum(code != 200 for code in codes)
    latencies = np.array([t for _, t, _ in results])
    with capsys.disabled():
        print(
            f"\n  [load] {len(results)} requests from {CLIENTS} clients during an import, {wall:.1f} s: "
            f"{errors} errors, p50 {np.percentile(latencies, 50) * 1000:.0f} ms, "
            f"p95 {np.percentile(latencies, 95) * 1000:.0f} ms, max {latencies.max() * 1000:.0f} ms",
            end="",
        )
    assert errors == 0 and len(results) == CLIENTS * ROUNDS * len(PAGES)
    assert min(size for _, _, size in results) > 1000  # whole pages
    with open_workspace(root, read_only=True) as ws:
        assert ws.store.count("imports") == 2 + 1  # areas, A, B
