"""Compiling OCDS releases into one compiled release per contracting process.

The merge routine of the standard (OCDS 1.1, "Merging"): releases are taken in order of their
``date``; for each field the latest value wins; ``null`` removes a field; arrays of objects that all
carry an ``id`` are merged item by item on that ``id`` ("identifier merge"), any other array is
replaced whole ("whole list merge"), as are the arrays the release schema marks ``wholeListMerge``.
``id``, ``date`` and ``tag`` are metadata of each release and are dropped; the compiled release gets
``tag = ["compiled"]``, the latest ``date`` and ``id = "{ocid}-{date}"``, as the reference
implementation (ocds-merge, used by OCDS Kit) does.

Alongside, :func:`history` keeps what the compiled release forgets and the red flags need: when
the process was first published, when its tender, awards and contracts first appeared, and the
first value each contract was published with (so that amendments to the value can be measured).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

OMIT_WHEN_MERGED = frozenset({"id", "date", "tag"})
WHOLE_LIST_MERGE = frozenset(
    {
        # OCDS 1.1 release schema: arrays declared "wholeListMerge": true, or whose items carry no `id`
        "additionalIdentifiers",
        "additionalClassifications",
        "changes",
        "coordinates",
    }
)


@dataclass
class History:
    """Publication facts about one process, gathered from its releases before they are merged."""

    ocid: str
    n_releases: int = 0
    first_published: str | None = None
    last_published: str | None = None
    tender_published: str | None = None
    award_published: str | None = None
    contract_published: str | None = None
    first_contract_value: dict[str, float] = field(default_factory=dict)
    """contract id -> the first amount it was published with."""


def _is_identifier_list(key: str, value: list[Any]) -> bool:
    return (
        key not in WHOLE_LIST_MERGE
        and bool(value)
        and all(isinstance(item, dict) and item.get("id") is not None for item in value)
    )


def _merge_object(output: dict[str, Any], incoming: dict[str, Any], top: bool = False) -> None:
    for key, value in incoming.items():
        if top and key in OMIT_WHEN_MERGED:
            continue
        if value is None:
            output.pop(key, None)
        elif isinstance(value, dict):
            current = output.get(key)
            if not isinstance(current, dict):
                current = {}
                output[key] = current
            _merge_object(current, value)
        elif isinstance(value, list) and _is_identifier_list(key, value):
            current = output.get(key)
            if not (isinstance(current, list) and _is_identifier_list(key, current)):
                current = []
                output[key] = current
            _merge_by_id(current, value)
        elif isinstance(value, list):
            if value:  # an empty array changes nothing (as in ocds-merge); a whole list is kept as published
                output[key] = value
        else:
            output[key] = value


def _merge_by_id(output: list[dict[str, Any]], incoming: list[dict[str, Any]]) -> None:
    position = {_id_key(item["id"]): n for n, item in enumerate(output)}
    for item in incoming:
        key = _id_key(item["id"])
        if key not in position:
            position[key] = len(output)
            output.append({})
        _merge_object(output[position[key]], item)


def _id_key(value: Any) -> str:
    return str(value)  # ocds-merge compares ids as text: 1 and "1" are the same item


def _date(release: dict[str, Any]) -> str:
    value = release.get("date")
    return value if isinstance(value, str) else ""


def compile_process(releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of one process's releases (all with the same ``ocid``)."""
    ordered = sorted(releases, key=_date)  # ocds-merge orders by the date text, stably
    if not ordered:
        raise ValueError("no releases to compile")
    ocid = ordered[0]["ocid"]
    latest = _date(ordered[-1])
    compiled: dict[str, Any] = {"tag": ["compiled"], "id": f"{ocid}-{latest}", "date": latest}
    for release in ordered:
        _merge_object(compiled, copy.deepcopy(release), top=True)
    return compiled


def _first(current: str | None, date: str) -> str | None:
    if not date:
        return current
    return date if current is None or date < current else current


def history(ocid: str, releases: list[dict[str, Any]], linked: Iterable[dict[str, Any]] = ()) -> History:
    """When each stage of the process was first published, and each contract's first published value."""
    facts = History(ocid)
    for release in sorted(releases, key=_date):
        date = _date(release)
        facts.n_releases += 1
        facts.first_published = _first(facts.first_published, date)
        facts.last_published = date if date and (facts.last_published or "") < date else facts.last_published
        if isinstance(release.get("tender"), dict) and release["tender"]:
            facts.tender_published = _first(facts.tender_published, date)
        if release.get("awards"):
            facts.award_published = _first(facts.award_published, date)
        for contract in release.get("contracts") or []:
            if not isinstance(contract, dict):
                continue
            facts.contract_published = _first(facts.contract_published, date)
            amount = (contract.get("value") or {}).get("amount") if isinstance(contract.get("value"), dict) else None
            key = str(contract.get("id"))
            if isinstance(amount, int | float) and key not in facts.first_contract_value:
                facts.first_contract_value[key] = float(amount)
    for link in linked:  # a record's linked releases: dates and tags only
        date = str(link["date"]) if isinstance(link.get("date"), str) else ""
        tags = set(link.get("tag") or [])
        facts.n_releases += 1
        facts.first_published = _first(facts.first_published, date)
        if date and (facts.last_published or "") < date:
            facts.last_published = date
        if tags & {"tender", "tenderUpdate", "tenderAmendment"}:
            facts.tender_published = _first(facts.tender_published, date)
        if tags & {"award", "awardUpdate"}:
            facts.award_published = _first(facts.award_published, date)
        if tags & {"contract", "contractUpdate", "contractAmendment", "implementation"}:
            facts.contract_published = _first(facts.contract_published, date)
    return facts


def compile_releases(
    releases: Iterable[dict[str, Any]],
    compiled: Iterable[dict[str, Any]] = (),
    linked: Iterable[dict[str, Any]] = (),
) -> list[tuple[dict[str, Any], History]]:
    """One compiled release (and its :class:`History`) per ``ocid``, in order of first appearance.

    ``compiled`` are compiled releases taken as published (records without embedded releases);
    a process that also has releases here is compiled from those releases.
    """
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for release in releases:
        grouped[release["ocid"]].append(release)
    links: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in linked:
        links[str(link.get("ocid"))].append(link)
    result = [(compile_process(group), history(ocid, group, links.get(ocid, ()))) for ocid, group in grouped.items()]
    for record in compiled:
        ocid = record.get("ocid")
        if isinstance(ocid, str) and ocid not in grouped:
            facts = history(ocid, [], links.get(ocid, ()))
            if facts.n_releases == 0:
                facts.n_releases = 1
                facts.first_published = facts.last_published = _date(record) or None
            result.append((record, facts))
    return result
