"""The benchmark harness: interleaved warm timing, cold subprocess runs, exactness, one table, JSON.

How each number is measured (``../shared/BENCHMARKS.md``):

* **warm**: in this process, on the same inputs, after one warm-up call of each side; then
  ``repeats`` rounds of ours, peer, ours, peer … (A B A B, so drift hits both alike); the
  median of each side; **ratio = ours / peer**.
* **exact**: the warm-up results of the two sides go through the case's ``check``; a mismatch
  fails the case loudly (red row, non-zero exit status). A faster wrong answer is a failure.
* **cold**: a fresh ``python -m bench.cold`` process per run: it imports the side's libraries
  (timed), builds the inputs from the same seeds (not timed), then runs one call (timed);
  cold = import + call. The cold result is checked against the warm one as well.
* **peak memory**: in that child, the growth of the resident set during the call alone: the
  kernel's high-water mark (``VmHWM``) is reset just before the call (``/proc/self/clear_refs``)
  and read after it, minus the resident set before it. This counts C allocations (GEOS, GDAL,
  DuckDB) that ``tracemalloc`` misses. Where the reset is unavailable, ``ru_maxrss`` is used and
  the figure is an upper bound (marked ``≤``).

This module imports only the standard library at the top, so that a cold child's import time is
the libraries' own.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

SIZES = ("S", "M", "L")
REPEATS = {"S": 7, "M": 5, "L": 2}
COLD_REPEATS = {"S": 2, "M": 2, "L": 1}
RESULTS_DIR = Path(__file__).resolve().parent / "results"


# The registry: case id → module under bench.cases, found from the file names: a case is a module
# bench/cases/b<number>_<name>.py (see bench/cases/b1_assign.py for the interface).
def _discover() -> dict[str, str]:
    cases = Path(__file__).resolve().parent / "cases"
    found = {}
    for path in cases.glob("b[0-9]*_*.py"):
        number = path.stem.split("_", 1)[0][1:]
        found[f"B{int(number)}"] = f"bench.cases.{path.stem}"
    return dict(sorted(found.items(), key=lambda item: int(item[0][1:])))


REGISTRY: dict[str, str] = _discover()


class CaseModule(Protocol):
    """What a case module provides (module-level names)."""

    ID: str
    TITLE: str
    GOAL: float
    PEER: str

    def skip_reason(self) -> str | None: ...
    def params(self, size: str) -> list[dict[str, Any]]: ...
    def prepare(self, size: str, param: dict[str, Any]) -> Prepared: ...
    def cold_import(self, side: str) -> None: ...
    def cold_inputs(self, param: dict[str, Any]) -> Any: ...
    def cold_call(self, side: str, inputs: Any, param: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Prepared:
    """One case at one size, ready to time: two zero-argument callables on the same inputs."""

    label: str
    ours: Callable[[], Any]
    peer: Callable[[], Any]
    check: Callable[[Any, Any], None]
    """Raises ``AssertionError`` (with a message) when ours differs from peer beyond tolerance."""
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Row:
    """One line of the table and one record of the JSON results."""

    case: str
    size: str
    label: str
    goal: float
    peer_name: str
    status: str = "ok"  # ok | skipped | FAILED (not exact) | ERROR
    message: str = ""
    ours_s: list[float] = field(default_factory=list)
    peer_s: list[float] = field(default_factory=list)
    ours_median: float | None = None
    peer_median: float | None = None
    ratio: float | None = None
    exact: bool | None = None
    cold_ours_s: list[float] = field(default_factory=list)
    cold_peer_s: list[float] = field(default_factory=list)
    cold_ratio: float | None = None
    peak_rss_ours: int | None = None
    peak_rss_peer: int | None = None
    peak_rss_exact: bool = True
    notes: dict[str, str] = field(default_factory=dict)
    param: dict[str, Any] = field(default_factory=dict)

    @property
    def meets_goal(self) -> bool | None:
        return None if self.ratio is None else self.ratio <= self.goal


def load_case(case_id: str) -> CaseModule:
    """Import a registered case module."""
    if case_id not in REGISTRY:
        raise SystemExit(f"unknown case {case_id!r}; registered: {', '.join(REGISTRY)}")
    return importlib.import_module(REGISTRY[case_id])  # type: ignore[return-value]


def digest(result: Any) -> str:
    """A content hash of a result (numpy array or anything with a stable ``repr``)."""
    tobytes = getattr(result, "tobytes", None)
    data = tobytes() if callable(tobytes) else repr(result).encode()
    return hashlib.sha256(data).hexdigest()


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_interleaved(
    ours: Callable[[], Any], peer: Callable[[], Any], repeats: int
) -> tuple[list[float], list[float], Any, Any]:
    """Warm-up both, then ``repeats`` rounds of A B (ours first on even rounds, peer first on odd)."""
    ours_result = ours()
    peer_result = peer()
    t_ours: list[float] = []
    t_peer: list[float] = []
    for r in range(repeats):
        if r % 2 == 0:
            t_ours.append(_timed(ours))
            t_peer.append(_timed(peer))
        else:
            t_peer.append(_timed(peer))
            t_ours.append(_timed(ours))
    return t_ours, t_peer, ours_result, peer_result


def run_cold(case_id: str, side: str, param: dict[str, Any]) -> dict[str, Any]:
    """One cold run in a fresh interpreter (``python -m bench.cold``); returns its JSON report."""
    root = Path(__file__).resolve().parent.parent
    cmd = [sys.executable, "-m", "bench.cold", case_id, side, json.dumps(param)]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"cold {side} run failed:\n{proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_case(
    case: CaseModule, size: str, param: dict[str, Any], *, repeats: int, cold_repeats: int, echo: Callable[[str], None]
) -> Row:
    """Time one case at one size: warm interleaved, exactness, cold runs and peak memory."""
    row = Row(case=case.ID, size=size, label="", goal=case.GOAL, peer_name=case.PEER, param=param)
    try:
        prepared = case.prepare(size, param)
        row.label = prepared.label
        row.notes = dict(prepared.notes)
        echo(f"{case.ID} {size} {prepared.label}: warm ×{repeats} …")
        row.ours_s, row.peer_s, ours_result, peer_result = time_interleaved(prepared.ours, prepared.peer, repeats)
        row.ours_median = statistics.median(row.ours_s)
        row.peer_median = statistics.median(row.peer_s)
        row.ratio = row.ours_median / row.peer_median
        try:
            prepared.check(ours_result, peer_result)
            row.exact = True
        except AssertionError as exc:
            row.exact = False
            row.status = "FAILED"
            row.message = f"ours ≠ peer: {exc}"
            return row
        want = digest(ours_result)
        del prepared, ours_result, peer_result
        gc.collect()
        for k in range(cold_repeats):
            echo(f"{case.ID} {size} {row.label}: cold run {k + 1}/{cold_repeats} …")
            for side in ("ours", "peer") if k % 2 == 0 else ("peer", "ours"):
                rep = run_cold(case.ID, side, param)
                seconds = rep["import_s"] + rep["call_s"]
                (row.cold_ours_s if side == "ours" else row.cold_peer_s).append(seconds)
                peak = int(rep["peak_rss_delta"])
                row.peak_rss_exact = row.peak_rss_exact and bool(rep["peak_rss_exact"])
                if side == "ours":
                    row.peak_rss_ours = max(peak, row.peak_rss_ours or 0)
                    row.notes.setdefault("cold import ours", f"{rep['import_s']:.2f}s")
                    if rep["digest"] != want:
                        row.exact = False
                        row.status = "FAILED"
                        row.message = "the cold run of ours gave a different result from the warm one"
                else:
                    row.peak_rss_peer = max(peak, row.peak_rss_peer or 0)
                    row.notes.setdefault("cold import peer", f"{rep['import_s']:.2f}s")
        if row.cold_ours_s and row.cold_peer_s:
            row.cold_ratio = statistics.median(row.cold_ours_s) / statistics.median(row.cold_peer_s)
    except Exception as exc:  # a broken case must not hide the others' numbers
        row.status = "ERROR"
        row.message = f"{type(exc).__name__}: {exc}"
        echo(traceback.format_exc())
    return row


def run(
    case_ids: Sequence[str],
    sizes: Sequence[str],
    *,
    repeats: int | None = None,
    cold: bool = True,
    echo: Callable[[str], None] = print,
) -> list[Row]:
    """Run every registered case at every size; skipped cases get a row that says why."""
    rows: list[Row] = []
    for size in sizes:
        for case_id in case_ids:
            case = load_case(case_id)
            reason = case.skip_reason()
            if reason:
                rows.append(
                    Row(case=case.ID, size=size, label="—", goal=case.GOAL, peer_name=case.PEER,
                        status="skipped", message=reason)
                )  # fmt: skip
                continue
            for param in case.params(size):
                rows.append(
                    run_case(
                        case,
                        size,
                        param,
                        repeats=repeats or REPEATS[size],
                        cold_repeats=COLD_REPEATS[size] if cold else 0,
                        echo=echo,
                    )
                )
    return rows


def environment() -> dict[str, Any]:
    """What the numbers depend on: machine, Python, thread settings, library versions."""
    versions: dict[str, str] = {}
    for name in ("safercities", "numpy", "shapely", "geopandas", "pandas", "rasterio", "scipy", "duckdb"):
        try:
            versions[name] = importlib.import_module(name).__version__
        except Exception:  # noqa: BLE001 - a missing peer is reported, not fatal
            versions[name] = "absent"
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS") or k == "GDAL_NUM_THREADS"}
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "thread_env": threads,
        "versions": versions,
    }


def write_json(rows: Sequence[Row], sizes: Sequence[str], out_dir: Path = RESULTS_DIR) -> Path:
    """Write the results (and the environment) to ``bench/results/<UTC time>.json`` and ``latest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    payload = {
        "when": stamp,
        "sizes": list(sizes),
        "environment": environment(),
        "method": "ratio = median(ours) / median(peer), warm interleaved A B; cold = fresh process, import + one call",
        "rows": [asdict(r) | {"meets_goal": r.meets_goal} for r in rows],
    }
    path = out_dir / f"{stamp}.json"
    text = json.dumps(payload, indent=2)
    path.write_text(text)
    (out_dir / "latest.json").write_text(text)
    return path


def _fmt_s(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"


def _fmt_mib(v: int | None, exact: bool) -> str:
    if v is None:
        return "—"
    return f"{'' if exact else '≤'}{v / 2**20:.0f} MiB"


def print_table(rows: Sequence[Row]) -> None:
    """One table for the whole run (rich)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="safercities benchmarks (ratio = ours / peer; warm = median of interleaved runs)")
    for col, justify in [
        ("case", "left"),
        ("size", "left"),
        ("workload", "left"),
        ("ours", "right"),
        ("peer", "right"),
        ("ratio", "right"),
        ("goal", "right"),
        ("exact?", "center"),
        ("cold ours", "right"),
        ("cold peer", "right"),
        ("cold ratio", "right"),
        ("peak RSS Δ ours / peer", "right"),
        ("notes", "left"),
    ]:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        if r.status == "skipped":
            table.add_row(r.case, r.size, r.label, "", "", "", f"≤ {r.goal:g}", "", "", "", "", "",
                          f"[yellow]skipped: {r.message}[/]")  # fmt: skip
            continue
        ratio = "—" if r.ratio is None else f"{r.ratio:.3f}"
        if r.meets_goal is not None:
            ratio = f"[green]{ratio}[/]" if r.meets_goal else f"[red]{ratio}[/]"
        exact = {True: "[green]yes[/]", False: "[bold red]NO[/]", None: "—"}[r.exact]
        notes = "; ".join(f"{k} {v}" for k, v in r.notes.items())
        if r.status != "ok":
            notes = f"[bold red]{r.status}: {r.message}[/] {notes}"
        mem = f"{_fmt_mib(r.peak_rss_ours, r.peak_rss_exact)} / {_fmt_mib(r.peak_rss_peer, r.peak_rss_exact)}"
        table.add_row(
            r.case,
            r.size,
            r.label,
            _fmt_s(r.ours_median),
            _fmt_s(r.peer_median),
            ratio,
            f"≤ {r.goal:g}",
            exact,
            _fmt_s(statistics.median(r.cold_ours_s)) if r.cold_ours_s else "—",
            _fmt_s(statistics.median(r.cold_peer_s)) if r.cold_peer_s else "—",
            "—" if r.cold_ratio is None else f"{r.cold_ratio:.3f}",
            mem,
            notes,
        )
    Console(width=max(240, Console().width)).print(table)
