"""Deliberate defects in the police export, a known number of each, as real exports have them.

Each defect hits distinct rows of the clean table (as strings, in the file's layout); the duplicate folios
are extra copies of rows placed right after their original, as an export that was run twice over a
day's records gives. The importer must reject every defective row and the second copy of each duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

KINDS: tuple[str, ...] = (
    "unparseable_date",
    "future_date",
    "missing_coordinates",
    "swapped_lat_lon",
    "outside_city",
    "missing_offence",
    "duplicate_folio",
)
SHARE_PER_KIND = 0.0007
"""Rows hit by each kind, as a share of the recorded rows (seven kinds: about 0.5% in all)."""
FUTURE_YEARS = 100
"""A future date is a century typo: 2023 written as 2123."""
_BAD_DATES = ("31/02/{year} 10:00", "sin dato", "00/00/0000 00:00", "{year}-13-45")


@dataclass(frozen=True)
class Defects:
    """The defective table and what was done to it."""

    table: pd.DataFrame
    counts: dict[str, int]
    folios: dict[str, list[str]]
    damaged: npt.NDArray[np.bool_]
    """Per row of the clean table: True where a defect makes the row unusable (duplicates' originals stay usable)."""


def _decimal(values: npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
    return np.asarray(np.char.replace(np.char.mod("%.6f", values), ".", ","), dtype=object)


def _number(text: npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    return np.asarray(np.char.replace(text.astype(str), ",", "."), dtype=np.float64)


def _shift_year(text: npt.NDArray[np.object_], years: int) -> npt.NDArray[np.object_]:
    """``dd/mm/yyyy[ HH:MM]`` with the year moved by ``years``."""
    return np.asarray([f"{t[:6]}{int(t[6:10]) + years}{t[10:]}" for t in text], dtype=object)


def add_defects(rng: np.random.Generator, clean: pd.DataFrame) -> Defects:
    """Hit a known number of distinct rows with each defect of :data:`KINDS`; returns a new table."""
    n = len(clean)
    per_kind = max(1, round(SHARE_PER_KIND * n)) if n >= 2 * len(KINDS) else 0
    rows = rng.choice(n, size=per_kind * len(KINDS), replace=False) if per_kind else np.empty(0, np.int64)
    chosen = {kind: np.sort(rows[i * per_kind : (i + 1) * per_kind]) for i, kind in enumerate(KINDS)}
    col = {name: clean[name].to_numpy(dtype=object).copy() for name in clean.columns}

    r = chosen["unparseable_date"]
    pattern = rng.integers(0, len(_BAD_DATES), size=r.size)
    bad = [_BAD_DATES[p].format(year=text[6:10]) for p, text in zip(pattern, col["fecha_inicio"][r], strict=True)]
    col["fecha_inicio"][r] = bad
    col["fecha_hechos"][r] = [b.split(" ")[0] for b in bad]

    r = chosen["future_date"]
    for name in ("fecha_hechos", "fecha_inicio", "fecha_fin"):
        col[name][r] = _shift_year(col[name][r], FUTURE_YEARS)

    r = chosen["missing_coordinates"]
    col["latitud"][r] = ""
    col["longitud"][r] = ""

    r = chosen["swapped_lat_lon"]
    col["latitud"][r], col["longitud"][r] = col["longitud"][r], col["latitud"][r].copy()

    r = chosen["outside_city"]
    bearing = rng.uniform(0.0, 2.0 * np.pi, size=r.size)
    reach = rng.uniform(0.25, 0.4, size=r.size)  # degrees: 25 to 45 km away, well outside the city
    col["longitud"][r] = _decimal(_number(col["longitud"][r]) + reach * np.cos(bearing))
    col["latitud"][r] = _decimal(_number(col["latitud"][r]) + reach * np.sin(bearing))

    r = chosen["missing_offence"]
    col["clave_delito"][r] = ""
    col["delito"][r] = ""

    r = chosen["duplicate_folio"]
    position = np.concatenate([np.arange(n), r + 0.5])  # each copy right after its original
    take = np.concatenate([np.arange(n), r])[np.argsort(position, kind="stable")]
    table = pd.DataFrame({name: values[take] for name, values in col.items()}, columns=list(clean.columns))

    damaged = np.zeros(n, dtype=bool)
    for kind, r in chosen.items():
        if kind != "duplicate_folio":
            damaged[r] = True
    folio = clean["folio"].to_numpy(dtype=str)
    return Defects(
        table=table,
        counts={kind: int(chosen[kind].size) for kind in KINDS},
        folios={kind: folio[chosen[kind]].tolist() for kind in KINDS},
        damaged=damaged,
    )
