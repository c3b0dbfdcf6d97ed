"""The workspace settings file, ``safercities.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyproj
import tomli_w

from safercities.errors import CRSError, InputError, check_choice

CONFIG_NAME = "safercities.toml"
LANGUAGES = ("en", "es", "fr")


@dataclass(frozen=True)
class Disclosure:
    """Rules applied before any figure reaches an audience that is not an authorised analyst."""

    min_count: int = 5
    """Counts from 1 to ``min_count - 1`` are suppressed in public outputs."""
    location_precision_m: float = 250.0
    """Public maps show locations no finer than this grid (metres)."""


@dataclass(frozen=True)
class RateRules:
    """When a rate is flagged as unstable."""

    min_population: int = 1000
    min_count: int = 20
    """Below 20 events the relative standard error of a Poisson rate exceeds 22% (NCHS rule)."""


@dataclass(frozen=True)
class WorkspaceConfig:
    """What a city's workspace is: its name, CRS, time zone, language and rules."""

    name: str
    crs: str
    lang: str = "en"
    timezone: str = "UTC"
    database: str = "store.duckdb"
    disclosure: Disclosure = field(default_factory=Disclosure)
    rates: RateRules = field(default_factory=RateRules)

    def __post_init__(self) -> None:
        check_choice("lang", self.lang, LANGUAGES, "the workspace")
        try:
            crs = pyproj.CRS.from_user_input(self.crs)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"Unknown CRS '{self.crs}': give an EPSG code such as EPSG:32614.") from exc
        if crs.is_geographic:
            raise CRSError(
                f"The workspace CRS must be projected (metres), but '{self.crs}' is geographic; "
                "use the UTM zone of the city, e.g. EPSG:32614."
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(
                f"Unknown time zone '{self.timezone}': use an IANA name such as America/Mexico_City."
            ) from exc

    @property
    def pyproj_crs(self) -> pyproj.CRS:
        return pyproj.CRS.from_user_input(self.crs)

    def with_(self, **changes: object) -> WorkspaceConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_config(folder: Path) -> WorkspaceConfig:
    """Read ``safercities.toml`` from a workspace folder."""
    path = folder / CONFIG_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", file=path) from exc
    ws = data.get("workspace", {})
    try:
        return WorkspaceConfig(
            name=ws["name"],
            crs=ws["crs"],
            lang=ws.get("lang", "en"),
            timezone=ws.get("timezone", "UTC"),
            database=ws.get("database", "store.duckdb"),
            disclosure=Disclosure(**data.get("disclosure", {})),
            rates=RateRules(**data.get("rates", {})),
        )
    except KeyError as exc:
        raise InputError(f"missing setting workspace.{exc.args[0]}", file=path) from exc
    except TypeError as exc:
        raise InputError(f"unknown setting: {exc}", file=path) from exc


def save_config(folder: Path, config: WorkspaceConfig) -> Path:
    """Write ``safercities.toml``; the file is the single source of the settings. Tables that other modules
    read themselves (``[survey]``, say) are kept as they are."""
    path = folder / CONFIG_NAME
    try:
        kept = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except tomllib.TOMLDecodeError:
        kept = {}
    data = kept | {
        "workspace": {
            "name": config.name,
            "crs": config.crs,
            "lang": config.lang,
            "timezone": config.timezone,
            "database": config.database,
        },
        "disclosure": asdict(config.disclosure),
        "rates": asdict(config.rates),
    }
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path
