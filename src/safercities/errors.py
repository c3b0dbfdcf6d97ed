"""The domain error hierarchy.

A user's mistake raises a subclass of :class:`SafercitiesError`; the CLI prints
its message on one line and exits non-zero, never with a traceback. Messages say
what is wrong, where (file, row, column) and how to fix it.
"""

from __future__ import annotations

from pathlib import Path


class SafercitiesError(Exception):
    """Base of every error a user can cause and fix."""

    exit_code = 2


class InputError(SafercitiesError):
    """A file, column, row or value that cannot be used as given."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        where = []
        if self.file:
            where.append(self.file)
        if row is not None:
            where.append(f"row {row}")
        if column:
            where.append(f"column '{column}'")
        text = f"{': '.join([', '.join(where)])}: {message}" if where else message
        if hint:
            text = f"{text} ({hint})"
        self.message = message
        super().__init__(text)


class MappingError(InputError):
    """A mapping file that names missing columns or holds invalid settings."""


class CRSError(SafercitiesError):
    """A coordinate reference system that is unknown or does not fit the data."""


class WorkspaceError(SafercitiesError):
    """No workspace where one is expected, or a workspace that cannot be opened."""


class DisclosureError(SafercitiesError):
    """A request that would show protected data to an audience not authorised for it."""


def check_choice(name: str, value: object, choices: tuple[object, ...] | list[object], where: str) -> None:
    """Raise one message template for a parameter outside its allowed values."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InputError(f"The '{name}' parameter of {where} must be one of {allowed}. Got {value!r} instead.")
