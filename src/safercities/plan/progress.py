"""Progress towards a target, with the current value's uncertainty carried through, and the status rule.

Pure functions over arrays (one element per target):

* **progress** = (current - baseline) / (target - baseline): 0 at the baseline, 1 at the target, negative when the
  indicator moved away from it. It is linear in the current value, so the current value's interval maps exactly
  onto an interval of progress (the bounds swap when the target lies below the baseline). A value with a standard
  error but no interval gets value ± z·se. The baseline is the plan's fixed reference point (its own interval is
  shown next to it, not folded into progress).
* **expected progress** = the share of the time from the end of the baseline period to the target date that has
  elapsed at the end of the current value's period (0 to 1).
* **status**: ``on_track`` when the progress interval reaches the expected progress (upper bound >= expected),
  ``off_track`` when its upper bound is below half of it, ``at_risk`` otherwise; ``no_data`` when there is no
  current value, no baseline, or the target equals the baseline.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
STATUSES = ("on_track", "at_risk", "off_track", "no_data")
OFF_TRACK_SHARE = 0.5
"""Off track when the progress interval's upper bound is below this share of the expected progress."""


def _f(x: object) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def value_interval(
    value: object, lower: object, upper: object, se: object, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """The interval of each value: its own (lower, upper) where given, else value ± z·se, else the value itself."""
    v, lo, hi, s = _f(value), _f(lower), _f(upper), _f(se)
    z = stats.norm.ppf(0.5 + confidence / 2)
    has_interval = np.isfinite(lo) & np.isfinite(hi)
    has_se = np.isfinite(s) & ~has_interval
    out_lo = np.where(has_interval, lo, np.where(has_se, v - z * s, v))
    out_hi = np.where(has_interval, hi, np.where(has_se, v + z * s, v))
    return out_lo, out_hi


def progress(
    baseline: object, target: object, current: object, lower: object, upper: object
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(progress, lower, upper): (current - baseline) / (target - baseline) and the image of [lower, upper].

    NaN where the baseline or the current value is missing or the target equals the baseline.
    """
    b, t = _f(baseline), _f(target)
    span = np.where(t != b, t - b, np.nan)
    with np.errstate(invalid="ignore"):
        p = (_f(current) - b) / span
        a = (_f(lower) - b) / span
        c = (_f(upper) - b) / span
    return p, np.fmin(a, c), np.fmax(a, c)


def expected_share(start: object, now: object, end: object) -> FloatArray:
    """Share of [start, end] elapsed at ``now`` (datetime64 arrays), clipped to 0..1; NaN where unknown."""
    s = np.asarray(start, dtype="datetime64[D]")
    n = np.asarray(now, dtype="datetime64[D]")
    e = np.asarray(end, dtype="datetime64[D]")
    total = (e - s).astype(np.float64)
    done = (n - s).astype(np.float64)
    nat = np.isnat(s) | np.isnat(n) | np.isnat(e) | (total <= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip(done / np.where(nat, np.nan, total), 0.0, 1.0)
    return np.where(nat, np.nan, share)


def status(progress_lower: object, progress_upper: object, expected: object) -> npt.NDArray[np.str_]:
    """The status of each target by the rule (see the module): on_track, at_risk, off_track or no_data."""
    lo, hi, e = _f(progress_lower), _f(progress_upper), _f(expected)
    missing = ~(np.isfinite(lo) & np.isfinite(hi) & np.isfinite(e))
    with np.errstate(invalid="ignore"):
        on = hi >= e
        off = hi < OFF_TRACK_SHARE * e
    return np.select([missing, on, off], ["no_data", "on_track", "off_track"], default="at_risk").astype(str)
