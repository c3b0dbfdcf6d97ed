"""The store: the only code that talks SQL to a database.

DuckDB with its spatial extension is the embedded default (:mod:`.duckdb`).
"""

from safercities.store.base import PERIODS, Store
from safercities.store.duckdb import DuckDBStore

__all__ = ["PERIODS", "DuckDBStore", "Store"]
