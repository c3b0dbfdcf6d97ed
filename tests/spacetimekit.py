"""Two hand-built cities for the space-time tests (tests/test_spacetime.py, tests/cli/test_spacetime_cli.py).

Both use the 4 x 4 lattice of 1 km communities ``K{col}{row}`` of :mod:`analysiskit` (two districts: ``D1`` =
columns 0-1, ``D2`` = columns 2-3), the time zone America/Mexico_City (UTC-6 all year since 2023) and incidents
appended straight into the store, so that every count is known before the store is asked.

:func:`build_main`: 2023-2025, every count fixed by construction (no randomness):

* robbery (ICCS 0401), every community, ``SEASON[month]`` incidents a month (peak in July), plus ``HOT_EXTRA``
  in each of the four communities of ``HOT`` (the north-east 2 x 2 block) in October-December 2025 only. Even-
  numbered incidents of a month fall on a Friday at 22:15 local, odd-numbered ones at hours 00-20 of days 1-28:
  Friday 22:00-23:00 is the busiest hour of the week by far;
* theft (ICCS 0502) in ``CHANGED`` only: ``THEFT[year]`` a year (30, 30, 90: tripled in 2025);
* burglary (ICCS 0501) in K01, one a month, known only within the window Saturday 10:00-12:00 (the month's
  first Saturday): half an incident in each of the two hours;
* assault (ICCS 0201) in K10, one a month at 23:30 local on the month's last day, which is already the next
  month in UTC.

:func:`build_outbreak`: 156 weeks from Monday 2023-01-02, seeded Poisson weekly counts per community
(ICCS 0101) around a seasonal mean, and an outbreak of ``OUTBREAK_SIZE`` extra incidents (ICCS 0102) in
``OUTBREAK_AREA`` in the week starting ``OUTBREAK_WEEK``: selecting ICCS 0101 gives the same city without it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

import analysiskit as ak
import safercities as sc

ZONE = "America/Mexico_City"
CRS = ak.CRS
IDS = sorted(ak.area_id(c) for c in ak.LATTICE)
DISTRICT = {ak.area_id(c): ak._district(c) for c in ak.LATTICE}
YEARS = (2023, 2024, 2025)
MONTHS = pd.period_range("2023-01", "2025-12", freq="M")

SEASON = {1: 6, 2: 6, 3: 8, 4: 10, 5: 12, 6: 14, 7: 18, 8: 14, 9: 12, 10: 10, 11: 8, 12: 6}
"""Robberies per community in each calendar month: the planted season, peak in July."""
HOT = ("K22", "K23", "K32", "K33")
HOT_MONTHS = ("2025-10", "2025-11", "2025-12")
HOT_EXTRA = 20
CHANGED, STEADY = "K00", "K11"
THEFT = {2023: 30, 2024: 30, 2025: 90}
BURGLARY_AREA, ASSAULT_AREA = "K01", "K10"

WEEKS = pd.date_range("2023-01-02", periods=156, freq="7D")
OUTBREAK_AREA, OUTBREAK_WEEK, OUTBREAK_SIZE = "K12", pd.Timestamp("2025-06-02"), 15


@dataclass(frozen=True)
class City:
    root: Path
    incidents: pd.DataFrame
    """area_id, iccs, start and end (local wall-clock times, naive) of every incident appended."""


def _areas_csv(folder: Path) -> Path:
    squares = {ak.area_id(c): ak.square(c) for c in ak.LATTICE}
    lines = ["id;level;parent;wkt"]
    for district in ("D1", "D2"):
        members = [squares[a] for a in IDS if DISTRICT[a] == district]
        lines.append(f"{district};district;;{shapely.union_all(members).wkt}")
    lines += [f"{a};community;{DISTRICT[a]};{squares[a].wkt}" for a in IDS]
    path = folder / "areas.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _store(folder: Path, incidents: pd.DataFrame) -> Path:
    """A workspace in ``folder/ws`` with the lattice and ``incidents`` appended (local times converted to UTC)."""
    ws = sc.init(folder / "ws", name="Espacio-Tiempo", crs=CRS, timezone=ZONE)
    try:
        ws.import_areas(_areas_csv(folder), id="id", level="level", parent="parent", source_crs=CRS)
        n = len(incidents)
        utc = {
            side: pd.DatetimeIndex(incidents[side]).tz_localize(ZONE).tz_convert("UTC").as_unit("us")
            for side in ("start", "end")
        }
        cells = {ak.area_id(c): c for c in ak.LATTICE}
        col = np.array([cells[a][0] for a in incidents["area_id"]], dtype=float)
        row = np.array([cells[a][1] for a in incidents["area_id"]], dtype=float)
        frac = (np.arange(n) % 97) / 97 * 0.8 + 0.1  # inside the square, never on an edge
        table = pa.table(
            {
                "incident_id": pa.array([f"I{i:06d}" for i in range(n)]),
                "occurred_from": pa.array(utc["start"], pa.timestamp("us", tz="UTC")),
                "occurred_to": pa.array(utc["end"], pa.timestamp("us", tz="UTC")),
                "offence_code": pa.array(incidents["iccs"].to_numpy()),
                "iccs_code": pa.array(incidents["iccs"].to_numpy()),
                "x": ak.X0 + (col + frac) * ak.SIDE,
                "y": ak.Y0 + (row + frac[::-1]) * ak.SIDE,
                "area_id": pa.array(incidents["area_id"].to_numpy()),
                "import_id": pa.array(np.zeros(n, np.int32)),
                "source_row": pa.array(np.arange(n)),
            }
        )
        ws.store.append("incidents", table)
        codes = sorted(set(incidents["iccs"]))
        ws.store.append("offence_codes", pa.table({"local_code": codes, "iccs_code": codes}))
    finally:
        ws.close()
    return folder / "ws"


def robbery_count(area: str, month: pd.Period) -> int:
    """Robberies planted in ``area`` in local ``month``."""
    extra = HOT_EXTRA if area in HOT and str(month) in HOT_MONTHS else 0
    return SEASON[month.month] + extra


def _robberies(area: str, month: pd.Period) -> list[pd.Timestamp]:
    first = month.start_time
    fridays = [d for d in pd.date_range(first, month.end_time.normalize(), freq="D") if d.day_of_week == 4]
    times = []
    for k in range(robbery_count(area, month)):
        if k % 2 == 0:
            times.append(fridays[(k // 2) % len(fridays)] + pd.Timedelta(hours=22, minutes=15))
        else:
            day, hour = (k * 3) % 28, k % 21  # days 1-28, hours 00-20: never Friday 22h
            times.append(first + pd.Timedelta(days=day, hours=hour, minutes=30))
    return times


def main_incidents() -> pd.DataFrame:
    rows: list[tuple[str, str, pd.Timestamp, pd.Timestamp]] = []
    for month in MONTHS:
        for area in IDS:
            rows += [(area, "0401", t, t) for t in _robberies(area, month)]
        saturday = next(d for d in pd.date_range(month.start_time, periods=7, freq="D") if d.day_of_week == 5)
        rows.append((BURGLARY_AREA, "0501", saturday + pd.Timedelta(hours=10), saturday + pd.Timedelta(hours=12)))
        last = month.start_time + pd.Timedelta(days=calendar.monthrange(month.year, month.month)[1] - 1)
        late = last + pd.Timedelta(hours=23, minutes=30)
        rows.append((ASSAULT_AREA, "0201", late, late))
    for year, n in THEFT.items():
        for k in range(n):
            t = pd.Timestamp(year=year, month=1 + k % 12, day=10 + k // 12, hour=14)
            rows.append((CHANGED, "0502", t, t))
    return pd.DataFrame(rows, columns=["area_id", "iccs", "start", "end"])


def build_main(folder: Path) -> City:
    incidents = main_incidents()
    return City(_store(folder, incidents), incidents)


def weekly_means() -> np.ndarray:
    """Expected incidents per community (rows, IDS order) and week: 3 to 5 a week, seasonal (one harmonic)."""
    years = (WEEKS - pd.Timestamp("2023-01-01")) / pd.Timedelta(days=365.25)
    season = np.exp(0.35 * np.cos(2 * np.pi * (np.asarray(years) - 0.5)))
    level = 3.0 + 2.0 * (np.arange(len(IDS)) % 4) / 3.0
    return np.asarray(level[:, None] * season[None, :])


def outbreak_incidents(seed: int = 20250602) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(weekly_means())
    rows: list[tuple[str, str, pd.Timestamp, pd.Timestamp]] = []
    for i, area in enumerate(IDS):
        for w, week in enumerate(WEEKS):
            for k in range(int(counts[i, w])):
                t = week + pd.Timedelta(days=k % 7, hours=8 + k % 12)
                rows.append((area, "0101", t, t))
    for k in range(OUTBREAK_SIZE):
        t = OUTBREAK_WEEK + pd.Timedelta(days=k % 7, hours=9 + k % 10)
        rows.append((OUTBREAK_AREA, "0102", t, t))
    return pd.DataFrame(rows, columns=["area_id", "iccs", "start", "end"])


def build_outbreak(folder: Path) -> City:
    incidents = outbreak_incidents()
    return City(_store(folder, incidents), incidents)
