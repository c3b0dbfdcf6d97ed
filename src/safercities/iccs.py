"""The UNODC International Classification of Crime for Statistical Purposes (ICCS 1.0, 2015) as data.

Codes are strings of digits whose length gives the level: ``05`` (section, level 1),
``0502`` (level 2), ``05021`` (level 3), ``050211`` (level 4). Every code's first two
digits are its section, which is what cities are compared on when their local offence
codes are finer or coarser than one another's. The table ships as
``safercities/data/iccs.csv`` (see ``docs/iccs.md`` for its sources and coverage).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from safercities.errors import InputError

LANGUAGES = ("en", "es", "fr")
_LEVEL_BY_LENGTH = {2: 1, 4: 2, 5: 3, 6: 4}


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    source = resources.files("safercities") / "data" / "iccs.csv"
    with source.open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    frame["level"] = frame["level"].astype(int)
    return frame.set_index("code", drop=False)


def load_iccs() -> pd.DataFrame:
    """The ICCS table: one row per code, columns ``code, level, parent, name_en, name_es, name_fr``.

    The frame is indexed by ``code``; a copy is returned, so callers may change it freely.
    """
    return _table().copy()


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(_table()["code"])


def _as_code(code: Any) -> str:
    return str(code).strip() if code is not None else ""


def is_valid_code(code: Any) -> bool:
    """Whether ``code`` is an ICCS code at any level (``"05"``, ``"0502"``, ``"050211"``)."""
    return _as_code(code) in _codes()


def section_of(code: str) -> str:
    """The level-1 section of an ICCS code: its first two digits (``"050211"`` -> ``"05"``)."""
    text = _as_code(code)
    if not is_valid_code(text):
        raise InputError(f"'{text}' is not an ICCS code", hint="see `safercities iccs` or docs/iccs.md for the list")
    return text[:2]


def level_of(code: str) -> int:
    """The level of an ICCS code, 1 to 4, from its number of digits."""
    text = _as_code(code)
    if not is_valid_code(text):
        raise InputError(f"'{text}' is not an ICCS code", hint="see `safercities iccs` or docs/iccs.md for the list")
    return _LEVEL_BY_LENGTH[len(text)]


def name(code: str, lang: str = "en") -> str:
    """The name of an ICCS code in English, Spanish or French (``lang`` = 'en', 'es' or 'fr')."""
    if lang not in LANGUAGES:
        raise InputError(f"The 'lang' parameter of name must be one of {', '.join(LANGUAGES)}. Got '{lang}' instead.")
    text = _as_code(code)
    if not is_valid_code(text):
        raise InputError(f"'{text}' is not an ICCS code", hint="see `safercities iccs` or docs/iccs.md for the list")
    return str(_table().at[text, f"name_{lang}"])


def validate_codes(codes: pd.Series) -> pd.Series:
    """For each value, whether it is an ICCS code; missing values are not. Keeps the input's index."""
    text = codes.astype("string").str.strip()
    valid = text.isin(sorted(_codes())).fillna(False).astype(bool)
    return pd.Series(valid.to_numpy(dtype=bool), index=codes.index, name=codes.name)
