"""safercities: evidence for safer cities.

>>> import safercities as sc
>>> ws = sc.open("my-city")          # doctest: +SKIP
>>> ws.cube(by="month")              # doctest: +SKIP
"""

from safercities.errors import (
    CRSError,
    DisclosureError,
    InputError,
    MappingError,
    SafercitiesError,
    WorkspaceError,
)

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "DisclosureError",
    "InputError",
    "MappingError",
    "SafercitiesError",
    "WorkspaceError",
    "__version__",
    "init",
    "open",
]


def __getattr__(name: str) -> object:
    # Lazy so that `import safercities` stays light for the CLI's start-up time.
    if name in ("init", "open", "Workspace"):
        from safercities import workspace

        return getattr(workspace, name if name != "open" else "open_workspace")
    raise AttributeError(name)
