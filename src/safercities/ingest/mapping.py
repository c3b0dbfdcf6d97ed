"""The mapping file: how a source file's columns become incidents.

A mapping is a TOML file (see ``docs/mapping.md`` and ``examples/mapping.toml``);
presets for well-known open police-data formats ship in ``ingest/presets``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from safercities.errors import MappingError

FORMATS = ("auto", "csv", "excel", "parquet", "geojson")
DATE_ORDERS = ("", "dmy", "mdy", "ymd")


@dataclass(frozen=True)
class SourceOptions:
    """How to read the file."""

    format: str = "auto"
    encoding: str = "auto"
    delimiter: str = "auto"
    decimal: str = "."
    sheet: str = ""
    timezone: str = ""
    skip_rows: int = 0


@dataclass(frozen=True)
class Columns:
    """Source column names for each canonical field ("" = absent)."""

    id: str = ""
    occurred: str = ""
    occurred_time: str = ""
    occurred_from: str = ""
    occurred_to: str = ""
    reported: str = ""
    offence_code: str = ""
    offence_label: str = ""
    x: str = ""
    y: str = ""
    location_type: str = ""
    keep: tuple[str, ...] = ()

    def used(self) -> dict[str, str]:
        """Canonical field -> source column, for the fields this mapping names."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "keep" and getattr(self, f.name)}


@dataclass(frozen=True)
class DateOptions:
    """How dates are written. ``format`` is a strptime pattern, 'iso', 'excel' or 'auto'."""

    format: str = "auto"
    time_format: str = "%H:%M"
    order: str = ""


@dataclass(frozen=True)
class OffenceOptions:
    """The local offence code -> ICCS table and which source column is looked up in it."""

    table: Path | None = None
    match: str = "code"


@dataclass(frozen=True)
class Mapping:
    """A validated mapping; construct it with :func:`load_mapping` or :func:`preset`."""

    source: SourceOptions = field(default_factory=SourceOptions)
    columns: Columns = field(default_factory=Columns)
    dates: DateOptions = field(default_factory=DateOptions)
    crs: str = "EPSG:4326"
    offences: OffenceOptions = field(default_factory=OffenceOptions)
    origin: str = "<mapping>"

    def __post_init__(self) -> None:
        c = self.columns
        if self.source.format not in FORMATS:
            raise MappingError(
                f"source.format must be one of {', '.join(FORMATS)}; got '{self.source.format}'", file=self.origin
            )
        if self.source.decimal not in (".", ","):
            raise MappingError(f"source.decimal must be '.' or ','; got '{self.source.decimal}'", file=self.origin)
        if self.dates.order not in DATE_ORDERS:
            raise MappingError(f"dates.order must be 'dmy', 'mdy' or 'ymd'; got '{self.dates.order}'", file=self.origin)
        if self.offences.match not in ("code", "label"):
            raise MappingError(
                f"offences.match must be 'code' or 'label'; got '{self.offences.match}'", file=self.origin
            )
        if not (c.occurred or c.occurred_from):
            raise MappingError("columns.occurred (or columns.occurred_from) is required", file=self.origin)
        if c.occurred and c.occurred_from:
            raise MappingError("give columns.occurred or columns.occurred_from/occurred_to, not both", file=self.origin)
        if not (c.offence_code or c.offence_label):
            raise MappingError("columns.offence_code or columns.offence_label is required", file=self.origin)
        if bool(c.x) != bool(c.y):
            raise MappingError("columns.x and columns.y go together", file=self.origin)
        if not c.x:
            raise MappingError(
                "columns.x and columns.y are required: incidents are placed in areas by their point", file=self.origin
            )


_SECTIONS = {"source": SourceOptions, "columns": Columns, "dates": DateOptions}


def mapping_from_dict(data: dict[str, Any], origin: str, base: Path | None) -> Mapping:
    """Build a :class:`Mapping` from parsed TOML, naming any unknown key."""
    known = {"source", "columns", "dates", "coordinates", "offences"}
    for key in data:
        if key not in known:
            raise MappingError(f"unknown section [{key}]; expected one of {', '.join(sorted(known))}", file=origin)
    parts: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        section = dict(data.get(name, {}))
        allowed = {f.name for f in fields(cls)}
        for key in section:
            if key not in allowed:
                raise MappingError(
                    f"unknown key '{key}' in [{name}]; expected one of {', '.join(sorted(allowed))}", file=origin
                )
        if name == "columns" and "keep" in section:
            section["keep"] = tuple(section["keep"])
        parts[name] = cls(**section)
    coords = data.get("coordinates", {})
    offences = dict(data.get("offences", {}))
    table = offences.get("table")
    if table:
        path = Path(table)
        if not path.is_absolute() and base is not None:
            path = base / path
        offences["table"] = path
    return Mapping(
        source=parts["source"],
        columns=parts["columns"],
        dates=parts["dates"],
        crs=coords.get("crs", "EPSG:4326"),
        offences=OffenceOptions(**offences),
        origin=origin,
    )


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError("mapping file not found", file=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"invalid TOML: {exc}", file=path) from exc
    return mapping_from_dict(data, str(path), path.parent)


def preset_names() -> list[str]:
    """The presets shipped with safercities (``--preset NAME``)."""
    folder = resources.files("safercities.ingest") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset(name: str) -> Mapping:
    """A shipped mapping for a well-known open police-data format."""
    folder = Path(str(resources.files("safercities.ingest") / "presets"))
    path = folder / f"{name}.toml"
    if not path.exists():
        raise MappingError(f"unknown preset '{name}'; available: {', '.join(preset_names()) or 'none'}")
    return load_mapping(path)
