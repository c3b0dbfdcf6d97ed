"""One cold run in a fresh process: ``python -m bench.cold CASE SIDE PARAM_JSON``.

Prints one JSON line: ``import_s`` (the side's libraries), ``call_s`` (one call), ``peak_rss_delta``
(bytes the resident set grew during the call), ``peak_rss_exact`` and a ``digest`` of the result.
Inputs are rebuilt from the case's seeds between the two timed parts and are not timed.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.harness import digest, load_case

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's resident-set high-water mark (Linux ≥ 4.0); False where unavailable."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    hwm, rss = _status_kib("VmHWM"), _status_kib("VmRSS")
    return hwm is not None and rss is not None and hwm <= rss + 64


def main(argv: list[str]) -> None:
    case_id, side, param_json = argv
    param = json.loads(param_json)
    case = load_case(case_id)
    t0 = time.perf_counter()
    case.cold_import(side)
    import_s = time.perf_counter() - t0
    inputs = case.cold_inputs(param)
    rss_before = _status_kib("VmRSS")
    exact = _reset_peak() and rss_before is not None
    t1 = time.perf_counter()
    result = case.cold_call(side, inputs, param)
    call_s = time.perf_counter() - t1
    if exact:
        peak_kib = _status_kib("VmHWM") or 0
        delta = max(0, peak_kib - (rss_before or 0)) * 1024
    else:  # ru_maxrss counts imports and inputs too: an upper bound
        delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - (rss_before or 0) * 1024
        delta = max(0, delta)
    print(
        json.dumps(
            {
                "import_s": import_s,
                "call_s": call_s,
                "peak_rss_delta": delta,
                "peak_rss_exact": exact,
                "digest": digest(result),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
