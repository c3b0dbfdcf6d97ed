"""What the police get to know: which crimes are recorded, when, and how precisely their time is known.

Each true crime is recorded with its offence's probability (the rest is the dark figure). A burglary's
time is known only as a window, from when the household left to when it came back; other offences
have a single moment. The report follows the end of the offence after an exponential delay.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from safercities.sim.catalogue import Offence

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WINDOW_ROUNDING_DAYS = 0.5 / 24.0
"""Victims give the window to the half hour: its start is rounded down and its end up."""
SHORT_ABSENCE_HOURS = 9.0
LONG_ABSENCE_HOURS = 60.0
LONG_ABSENCE_SHARE = 0.2


def record(
    rng: np.random.Generator, offence: IntArray, offences: tuple[Offence, ...], eligible: BoolArray
) -> BoolArray:
    """Whether each crime reaches the police file: Bernoulli(reporting probability of its offence)."""
    p = np.asarray([o.reporting_probability for o in offences])
    return np.asarray((rng.random(offence.size) < p[offence]) & eligible, dtype=bool)


def occurrence_windows(
    rng: np.random.Generator, t: FloatArray, offence: IntArray, offences: tuple[Offence, ...]
) -> tuple[FloatArray, FloatArray]:
    """(from, to) in days since the start: a window around the true moment for windowed offences, else the minute.

    The window length is log-normal, a working day or (one time in five) a weekend away; the true
    moment falls uniformly within it.
    """
    minute = np.floor(t * 1440.0) / 1440.0
    windowed = np.asarray([o.windowed for o in offences], dtype=bool)[offence]
    n = int(windowed.sum())
    long = rng.random(n) < LONG_ABSENCE_SHARE
    hours = np.where(long, LONG_ABSENCE_HOURS, SHORT_ABSENCE_HOURS) * rng.lognormal(0.0, 0.35, size=n)
    before = rng.random(n) * hours / 24.0
    start = np.floor((t[windowed] - before) / WINDOW_ROUNDING_DAYS) * WINDOW_ROUNDING_DAYS
    end = np.ceil((t[windowed] - before + hours / 24.0) / WINDOW_ROUNDING_DAYS) * WINDOW_ROUNDING_DAYS
    t_from, t_to = minute.copy(), minute.copy()
    t_from[windowed] = start
    t_to[windowed] = end
    return t_from, t_to


def report_times(
    rng: np.random.Generator, t_to: FloatArray, offence: IntArray, offences: tuple[Offence, ...]
) -> FloatArray:
    """Report moment (days since the start, to the minute): end of the offence plus an exponential delay."""
    delay = np.asarray([o.report_delay_days for o in offences])[offence]
    reported = t_to + rng.exponential(1.0, size=t_to.size) * delay
    return np.asarray(np.ceil(reported * 1440.0) / 1440.0, dtype=np.float64)


def folios(reported: FloatArray, start: np.datetime64, state: str = "QRO") -> npt.NDArray[np.str_]:
    """Investigation-file numbers "CI/QRO/2023/000123", numbered by report order within each year.

    ``reported`` must be sorted.
    """
    moments = start.astype("datetime64[m]") + np.round(reported * 1440.0).astype("timedelta64[m]")
    year = moments.astype("datetime64[Y]").astype(np.int64) + 1970
    first_of_year = np.searchsorted(year, year, side="left")
    number = np.arange(year.size) - first_of_year + 1
    return np.char.add(
        np.char.add(f"CI/{state}/", year.astype(str)), np.char.add("/", np.char.zfill(number.astype(str), 6))
    )
