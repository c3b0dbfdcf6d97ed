"""A killed import leaves the store as it was: all or nothing, even under SIGKILL.

An import of a large generated file runs in a subprocess that reports its stages; once it says it
is writing to the store it is killed with SIGKILL after a short delay. The workspace is then opened
again (DuckDB replays or discards its WAL) and must hold exactly what it held before the import:
same row counts, same content hashes. If the process finished before the kill, or the kill landed
after the commit, the attempt is repeated with a shorter delay. Finally the same file imports whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import citykit as ck
import numpy as np
import pyproj
import pytest

import safercities.workspace as sc

N_ROWS = 300_000

CHILD = """
import sys
from safercities.workspace import open_workspace

def progress(message):
    print(message, flush=True)

with open_workspace(sys.argv[1]) as ws:
    ws.import_incidents(sys.argv[2], mapping=sys.argv[3], progress=progress)
print("finished", flush=True)
"""


def _big_file(path: Path, n: int) -> Path:
    rng = np.random.default_rng(11)
    # points in the middle 80% of the grid's squares, so every row is accepted
    col = rng.integers(0, ck.NX, n)
    row = rng.integers(0, ck.NY, n)
    x = ck.X0 + (col + 0.1 + 0.8 * rng.random(n)) * ck.SIDE
    y = ck.Y0 + (row + 0.1 + 0.8 * rng.random(n)) * ck.SIDE
    lon, lat = pyproj.Transformer.from_crs(ck.CRS, "EPSG:4326", always_xy=True).transform(x, y)
    day = rng.integers(1, 29, n)
    month = rng.integers(1, 13, n)
    hour = rng.integers(0, 24, n)
    codes = np.array(ck.OFFENCES["local_code"])[rng.integers(0, 4, n)]
    lines = [",".join(ck.HEADER)]
    lines += [
        f"F{i},{d:02d}/{m:02d}/2023 {h:02d}:15,,{c},{lo:.7f},{la:.7f}"
        for i, (d, m, h, c, lo, la) in enumerate(zip(day, month, hour, codes, lon, lat, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start(root: Path, data: Path, mapping: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "SAFERCITIES_USER": "crash-test"}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(data), str(mapping)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkill_during_the_write_leaves_the_store_unchanged(tmp_path: Path) -> None:
    with ck.make_city(tmp_path) as ws:
        src = tmp_path / "src"
        mapping = ck.write_mapping(src)
        # something already in the store, so that "unchanged" is not just "empty"
        ws.import_incidents(ck.write_csv(src / "earlier.csv", [ck.row("E1"), ck.row("E2", area="A5")]), mapping=mapping)
        root = ws.root
    data = _big_file(src / "big.csv", N_ROWS)
    before = ck.snapshot_path(root)
    assert before["incidents"][0] == 2

    killed_mid_write = False
    delays = [0.3, 0.15, 0.08, 0.04, 0.02, 0.01, 0.0]
    for delay in delays:
        proc = _start(root, data, mapping)
        assert proc.stdout is not None
        stages = []
        for line in proc.stdout:
            stages.append(line.strip())
            if line.startswith("writing to the store"):
                break
        else:
            proc.wait()
            errors = proc.stderr.read() if proc.stderr else ""
            pytest.fail(f"the import never reached the write stage: {stages} {errors}")
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        if proc.returncode != -signal.SIGKILL:
            continue  # it finished before the signal: try again, earlier
        after = ck.snapshot_path(root)
        if after["incidents"][0] == before["incidents"][0] + N_ROWS:
            # the commit landed before the kill: the import is whole; undo it and try earlier
            with sc.open_workspace(root) as ws:
                imports = ws.imports()
                assert imports["rows_accepted"].iloc[-1] == N_ROWS
                ws.store.delete_import(int(imports["import_id"].iloc[-1]))
                ws.store.con.execute("DELETE FROM imports WHERE status = 'replaced'")
                ws.store.con.execute("DELETE FROM audit_log WHERE username = 'crash-test'")
            before = ck.snapshot_path(root)
            continue
        assert after == before, f"killed {delay} s into the write, the store changed"
        killed_mid_write = True
        break
    assert killed_mid_write, "could not kill the import while it was writing"

    # the same file now imports whole, and is not mistaken for a repeat
    with sc.open_workspace(root) as ws:
        result = ws.import_incidents(data, mapping=mapping)
        assert not result.already_imported
        assert (result.rows_read, result.accepted, result.rejected) == (N_ROWS, N_ROWS, 0)
        assert ws.store.count("incidents") == 2 + N_ROWS
        assert ws.imports()["status"].tolist().count("committed") == 3
