"""What every store backend offers, so that services never write SQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

import pandas as pd
import pyarrow as pa

PERIODS = ("day", "week", "month", "quarter", "year")


class Store(Protocol):
    """One interface, several databases (DuckDB now, PostgreSQL/PostGIS next)."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def append(self, table: str, rows: pa.Table) -> None: ...

    def read(self, table: str, where: str | None = None, params: list[object] | None = None) -> pd.DataFrame: ...

    def count(self, table: str) -> int: ...

    def next_import_id(self) -> int: ...

    def find_import(self, kind: str, sha256: str) -> int | None: ...

    def delete_import(self, import_id: int) -> None: ...

    def areas(self) -> pd.DataFrame: ...

    def cube(self, by: str, lineage: pd.DataFrame, sections: list[str], timezone: str) -> pd.DataFrame: ...

    def close(self) -> None: ...

    def table_names(self) -> Iterator[str]: ...
