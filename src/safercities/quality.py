"""The data-quality report: what the analysis can and cannot trust in a workspace's incidents.

:func:`quality_report` asks the store for a handful of aggregations (never every incident) and
returns a frozen :class:`QualityReport` whose every number is a plain ``int``, ``float`` or ``str``
(dates in ISO 8601), so that the CLI, the HTML page and the JSON file show one and the same number.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

import safercities
from safercities import iccs
from safercities.errors import InputError
from safercities.workspace import Workspace

GEOCODING_REASONS = (
    "missing_coordinates",
    "bad_coordinates",
    "swapped_coordinates",
    "outside_crs",
    "outside_areas",
)
"""Reject reasons that mean a row could not be placed on the map."""
OUTSIDE_REASONS = ("outside_areas", "outside_crs")
"""Reject reasons for usable coordinates that fall outside the city."""
DUPLICATE_REASON = "duplicate_id"
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)
LONG_DELAY_DAYS = 365.0
GAP_SHARE = 0.25
"""A month with fewer incidents than this share of the median month is a gap."""
WINDOW_CLASSES = ("moment", "window_1d", "window_7d", "window_31d", "window_longer")
"""Occurrence time: a moment, or a window of at most 1, 7 or 31 days, or longer."""
FIELDS = ("reported_at", "location_type", "offence_label", "attributes")
"""Optional incident fields whose completeness is reported (the others are required at import)."""


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _iso(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _float(value: Any) -> float | None:
    if value is None or pd.isna(value):
        return None
    return float(value)


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    file: str
    sha256: str
    """The first 12 hex digits of the file's SHA-256."""
    username: str
    started_at: str
    status: str
    rows_read: int
    accepted: int
    rejected: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class FieldCompleteness:
    field: str
    filled: int
    share: float | None


@dataclass(frozen=True)
class WindowClass:
    window: str
    """One of :data:`WINDOW_CLASSES`."""
    count: int
    share: float | None


@dataclass(frozen=True)
class Geocoding:
    accepted: int
    not_geocoded: int
    """Rejects for missing, unreadable, swapped or out-of-CRS coordinates, or points outside every area."""
    share_geocoded: float | None
    """accepted / (accepted + not_geocoded)."""
    outside_city: int
    """Rejects ``outside_areas`` + ``outside_crs``."""
    with_coordinates: int
    """Rows whose coordinates were usable numbers: accepted + outside_city."""
    share_outside_city: float | None


@dataclass(frozen=True)
class Duplicates:
    rejected_duplicate_id: int
    """Rows rejected because their id was already seen (in the file or the store)."""
    exact_groups: int
    """Groups of accepted incidents with the same x, y, occurred_from and offence_code (possible double records)."""
    exact_rows: int
    """Accepted incidents in those groups."""
    exact_surplus: int
    """Incidents beyond the first of each group: how many could be double records."""


@dataclass(frozen=True)
class RejectReason:
    reason_code: str
    count: int
    share: float | None
    """Of all rejected rows."""
    example_reason: str
    example_file: str
    example_row: int
    """Row number of the first such reject (1 = first data row)."""


@dataclass(frozen=True)
class MonthCount:
    month: str
    """``YYYY-MM`` in the city's time zone."""
    count: int
    gap: bool


@dataclass(frozen=True)
class Coverage:
    timezone: str
    first_month: str
    last_month: str
    months: tuple[MonthCount, ...]
    median: float | None
    gap_threshold: float | None
    """Months with zero incidents or fewer than this (``GAP_SHARE`` x the median) are gaps."""
    gaps: tuple[str, ...]


@dataclass(frozen=True)
class Delays:
    """Reporting delay in days: reported_at - occurred_to."""

    count: int
    """Incidents with a report date."""
    share_with_report: float | None
    quantiles: dict[str, float | None]
    """``p10``, ``p25``, ``p50``, ``p75``, ``p90``, ``p99`` (linear interpolation, as numpy's default)."""
    mean: float | None
    min: float | None
    max: float | None
    negative: int
    """Reported before they occurred: a data error."""
    share_negative: float | None
    over_365: int
    share_over_365: float | None


@dataclass(frozen=True)
class SectionCount:
    section: str
    """ICCS level-1 code (``01`` ... ``11``)."""
    name: str
    """English name from :mod:`safercities.iccs`."""
    count: int
    share: float | None


@dataclass(frozen=True)
class OffenceCount:
    offence_code: str
    offence_label: str
    iccs_code: str
    count: int
    share: float | None


@dataclass(frozen=True)
class QualityReport:
    """Everything `safercities quality` shows; :meth:`to_dict` gives it as JSON-ready data."""

    workspace: str
    generated_at: str
    version: str
    rows_read: int
    accepted: int
    rejected: int
    imports: tuple[ImportSummary, ...]
    completeness: tuple[FieldCompleteness, ...]
    windows: tuple[WindowClass, ...]
    geocoding: Geocoding
    duplicates: Duplicates
    rejects: tuple[RejectReason, ...]
    coverage: Coverage
    delays: Delays
    sections: tuple[SectionCount, ...]
    offences: tuple[OffenceCount, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists, ints, floats, strings and None: ready for ``json.dumps``."""
        result: dict[str, Any] = json.loads(json.dumps(asdict(self)))
        return result

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def rejects_by_reason(self) -> dict[str, int]:
        return {r.reason_code: r.count for r in self.rejects}

    def summary(self) -> str:
        geo = self.geocoding.share_geocoded
        return (
            f"{self.workspace}: {self.rows_read} rows read, {self.accepted} accepted, {self.rejected} rejected; "
            f"geocoded {'-' if geo is None else f'{geo:.1%}'}; {len(self.coverage.gaps)} gap month(s)"
        )


def _imports(ws: Workspace) -> tuple[ImportSummary, ...]:
    frame = ws.imports()
    frame = frame[frame["kind"] == "incidents"].sort_values("import_id")
    out = []
    for row in frame.to_dict("records"):  # one per import, not per incident
        try:
            warnings = tuple(str(w) for w in json.loads(str(row["warnings"] or "[]")))
        except (json.JSONDecodeError, TypeError):
            warnings = (str(row["warnings"]),)
        out.append(
            ImportSummary(
                import_id=int(row["import_id"]),
                file=str(row["file"]),
                sha256=str(row["sha256"])[:12],
                username=str(row["username"]),
                started_at=_iso(pd.Timestamp(row["started_at"]).tz_convert("UTC")),
                status=str(row["status"]),
                rows_read=int(row["rows_read"]),
                accepted=int(row["rows_accepted"]),
                rejected=int(row["rows_rejected"]),
                warnings=warnings,
            )
        )
    return tuple(out)


def _coverage(monthly: pd.DataFrame, timezone: str) -> Coverage:
    if monthly.empty:
        return Coverage(timezone, "", "", (), None, None, ())
    counts = monthly["count"].astype(int)
    median = float(counts.median())
    threshold = GAP_SHARE * median
    gap = (counts == 0) | (counts < threshold)
    labels = pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m")
    months = tuple(MonthCount(str(m), int(c), bool(g)) for m, c, g in zip(labels, counts, gap, strict=True))
    return Coverage(
        timezone=timezone,
        first_month=str(labels.iloc[0]),
        last_month=str(labels.iloc[-1]),
        months=months,
        median=median,
        gap_threshold=threshold,
        gaps=tuple(m.month for m in months if m.gap),
    )


def _delays(raw: dict[str, object], accepted: int) -> Delays:
    count = int(raw["count"])  # type: ignore[call-overload]
    values = raw["quantiles"] if count else None
    qs = list(values) if isinstance(values, list | tuple) else [None] * len(QUANTILES)
    negative = int(raw["negative"])  # type: ignore[call-overload]
    long = int(raw["long"])  # type: ignore[call-overload]
    return Delays(
        count=count,
        share_with_report=_share(count, accepted),
        quantiles={f"p{round(q * 100)}": _float(v) for q, v in zip(QUANTILES, qs, strict=True)},
        mean=_float(raw["mean"]),
        min=_float(raw["min"]),
        max=_float(raw["max"]),
        negative=negative,
        share_negative=_share(negative, count),
        over_365=long,
        share_over_365=_share(long, count),
    )


def _section_name(code: str) -> str:
    try:
        return iccs.name(code, "en")
    except InputError:
        return ""


def quality_report(ws: Workspace) -> QualityReport:
    """The data-quality report of a workspace's incidents (see the module docstring)."""
    store = ws.store
    tz = ws.config.timezone
    totals = store.quality_totals()
    accepted = totals["incidents"]
    rejected = totals["rejects"]

    filled = store.quality_completeness(tz)
    completeness = tuple(FieldCompleteness(f, filled[f], _share(filled[f], accepted)) for f in FIELDS)
    windows = tuple(WindowClass(w, filled[w], _share(filled[w], accepted)) for w in WINDOW_CLASSES)

    reasons = store.quality_rejects_by_reason()
    by_reason = dict(zip(reasons["reason_code"].astype(str), reasons["count"].astype(int), strict=True))
    rejects = tuple(
        RejectReason(
            reason_code=str(code),
            count=int(count),
            share=_share(int(count), rejected),
            example_reason=str(reason),
            example_file=str(file),
            example_row=int(row),
        )
        for code, count, reason, file, row in zip(
            reasons["reason_code"],
            reasons["count"],
            reasons["reason"],
            reasons["file"],
            reasons["row_number"],
            strict=True,
        )
    )

    not_geocoded = sum(by_reason.get(r, 0) for r in GEOCODING_REASONS)
    outside = sum(by_reason.get(r, 0) for r in OUTSIDE_REASONS)
    geocoding = Geocoding(
        accepted=accepted,
        not_geocoded=not_geocoded,
        share_geocoded=_share(accepted, accepted + not_geocoded),
        outside_city=outside,
        with_coordinates=accepted + outside,
        share_outside_city=_share(outside, accepted + outside),
    )

    exact = store.quality_exact_duplicates()
    duplicates = Duplicates(
        rejected_duplicate_id=by_reason.get(DUPLICATE_REASON, 0),
        exact_groups=exact["groups"],
        exact_rows=exact["rows"],
        exact_surplus=exact["surplus"],
    )

    section_frame, local_frame = store.quality_offence_mix()
    sections = tuple(
        SectionCount(str(s), _section_name(str(s)), int(c), _share(int(c), accepted))
        for s, c in zip(section_frame["section"], section_frame["count"], strict=True)
    )
    offences = tuple(
        OffenceCount(
            offence_code=str(code),
            offence_label="" if label is None or pd.isna(label) else str(label),
            iccs_code=str(code_iccs),
            count=int(c),
            share=_share(int(c), accepted),
        )
        for code, label, code_iccs, c in zip(
            local_frame["offence_code"],
            local_frame["offence_label"],
            local_frame["iccs_code"],
            local_frame["count"],
            strict=True,
        )
    )

    return QualityReport(
        workspace=ws.config.name,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        version=safercities.__version__,
        rows_read=totals["rows_read"],
        accepted=accepted,
        rejected=rejected,
        imports=_imports(ws),
        completeness=completeness,
        windows=windows,
        geocoding=geocoding,
        duplicates=duplicates,
        rejects=rejects,
        coverage=_coverage(store.quality_monthly(tz), tz),
        delays=_delays(store.quality_delays(list(QUANTILES), LONG_DELAY_DAYS), accepted),
        sections=sections,
        offences=offences,
    )
