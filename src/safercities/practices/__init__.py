"""The library of good and promising practices, searchable and matched to the audit's priorities.

>>> from safercities.practices import load_library, search, match
>>> library = load_library()
>>> hits = match([{"scope": "city", "problem": "burglary", "risk_factors": ["low_visibility"]}], library)
>>> hits.iloc[0]["rating"] in ("effective", "promising")
True
"""

from safercities.practices.catalogue import Library, load_library, workspace_library
from safercities.practices.matching import match
from safercities.practices.schema import PRACTICE_SCHEMA, validate_practice
from safercities.practices.search import search

__all__ = ["PRACTICE_SCHEMA", "Library", "load_library", "match", "search", "validate_practice", "workspace_library"]
