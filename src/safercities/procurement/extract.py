"""From compiled releases to the canonical procurement tables (one frame per table).

One pass over the compiled releases collects plain rows (the JSON tree cannot be walked without a
loop); every derived column after that is computed on whole columns. Organisation references are
read as OCDS 1.1 writes them (``{"id": ...}``) or as OCDS 1.0 did (``{"identifier": {"id": ...}}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from safercities.procurement.compile import History

INACTIVE_AWARDS = frozenset({"pending", "cancelled", "unsuccessful"})
"""Award statuses that do not give a contract; an award without a status counts as active."""
SUBMITTED_BIDS = frozenset({"pending", "valid", "disqualified"})
"""Bid statuses of bids actually submitted (OCDS bid statuses 'invited' and 'withdrawn' are not)."""


@dataclass(frozen=True)
class ProcurementTables:
    """The canonical tables of one import, before they get their import id."""

    processes: pd.DataFrame
    tenders: pd.DataFrame
    parties: pd.DataFrame
    bids: pd.DataFrame
    awards: pd.DataFrame
    contracts: pd.DataFrame
    amendments: pd.DataFrame

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {
            "procurement_processes": self.processes,
            "procurement_tenders": self.tenders,
            "procurement_parties": self.parties,
            "procurement_bids": self.bids,
            "procurement_awards": self.awards,
            "procurement_contracts": self.contracts,
            "procurement_amendments": self.amendments,
        }


def org_id(ref: Any) -> str | None:
    """The id of an organisation reference (OCDS 1.1 ``id``, else OCDS 1.0 ``identifier.id``)."""
    if not isinstance(ref, dict):
        return None
    value = ref.get("id")
    if value is None and isinstance(ref.get("identifier"), dict):
        value = ref["identifier"].get("id")
    return None if value is None or value == "" else str(value)


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _amount(value: Any) -> tuple[float | None, str | None]:
    if not isinstance(value, dict):
        return None, None
    amount = value.get("amount")
    currency = value.get("currency")
    number = float(amount) if isinstance(amount, int | float) and not isinstance(amount, bool) else None
    return number, currency if isinstance(currency, str) else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _point(tender: dict[str, Any]) -> tuple[float | None, float | None]:
    """The first delivery location of the tender's items (OCDS location extension), as lon/lat."""
    for item in tender.get("items") or []:
        coords = _get(item, "deliveryLocation", "geometry", "coordinates")
        if isinstance(coords, list) and len(coords) >= 2:
            try:
                return float(coords[0]), float(coords[1])
            except (TypeError, ValueError):
                continue
    return None, None


def extract(processes: Iterable[tuple[dict[str, Any], History]]) -> ProcurementTables:
    """The seven tables from compiled releases and their publication histories."""
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("p", "t", "pa", "b", "a", "c", "m")}
    for number, (release, facts) in enumerate(processes, start=1):
        _collect(number, release, facts, rows)
    return ProcurementTables(
        processes=_processes(pd.DataFrame(rows["p"], columns=list(PROCESS_COLUMNS))),
        tenders=_dates(pd.DataFrame(rows["t"], columns=list(TENDER_COLUMNS)), ["tender_start", "tender_end"]),
        parties=_dates(pd.DataFrame(rows["pa"], columns=list(PARTY_COLUMNS)), ["registered"]),
        bids=_dates(pd.DataFrame(rows["b"], columns=list(BID_COLUMNS)), ["date"]),
        awards=_dates(pd.DataFrame(rows["a"], columns=list(AWARD_COLUMNS)), ["date"]),
        contracts=_dates(pd.DataFrame(rows["c"], columns=list(CONTRACT_COLUMNS)), ["date_signed"]),
        amendments=_dates(pd.DataFrame(rows["m"], columns=list(AMENDMENT_COLUMNS)), ["date"]),
    )


PROCESS_COLUMNS = [
    "ocid",
    "source_row",
    "buyer_id",
    "buyer_name",
    "n_releases",
    "first_published",
    "last_published",
    "tender_published",
    "award_published",
    "contract_published",
    "longitude",
    "latitude",
    "compiled",
]
TENDER_COLUMNS = [
    "ocid",
    "tender_id",
    "title",
    "status",
    "procurement_method",
    "procurement_method_details",
    "main_category",
    "procuring_entity_id",
    "amount",
    "currency",
    "tender_start",
    "tender_end",
    "number_of_tenderers",
    "n_bidders",
]
PARTY_COLUMNS = ["ocid", "party_id", "name", "roles", "registered", "region"]
BID_COLUMNS = ["ocid", "bid_no", "bid_id", "tenderer_id", "status", "amount", "currency", "date"]
AWARD_COLUMNS = ["ocid", "award_id", "status", "active", "date", "amount", "currency", "supplier_id", "n_suppliers"]
CONTRACT_COLUMNS = [
    "ocid",
    "contract_id",
    "award_id",
    "status",
    "amount",
    "currency",
    "original_amount",
    "date_signed",
    "n_amendments",
]
AMENDMENT_COLUMNS = ["ocid", "scope", "contract_id", "amendment_id", "date", "rationale", "description"]


def _collect(number: int, release: dict[str, Any], facts: History, rows: dict[str, list[dict[str, Any]]]) -> None:
    ocid = release["ocid"]
    tender: dict[str, Any] = release["tender"] if isinstance(release.get("tender"), dict) else {}
    buyer = release.get("buyer")
    parties = [p for p in release.get("parties") or [] if isinstance(p, dict)]
    buyer_id = org_id(buyer) or next((org_id(p) for p in parties if "buyer" in (p.get("roles") or [])), None)
    lon, lat = _point(tender)
    rows["p"].append(
        {
            "ocid": ocid,
            "source_row": number,
            "buyer_id": buyer_id,
            "buyer_name": _text(_get(buyer, "name")),
            "n_releases": facts.n_releases,
            "first_published": facts.first_published,
            "last_published": facts.last_published,
            "tender_published": facts.tender_published,
            "award_published": facts.award_published,
            "contract_published": facts.contract_published,
            "longitude": lon,
            "latitude": lat,
            "compiled": json.dumps(release, ensure_ascii=False),
        }
    )
    # bids: the bids extension's bids.details, one row per (bid, tenderer)
    details = _get(release, "bids", "details")
    bidders: set[str] = set()
    for bid_no, bid in enumerate(details if isinstance(details, list) else [], start=1):
        if not isinstance(bid, dict):
            continue
        amount, currency = _amount(bid.get("value"))
        tenderers = [org_id(t) for t in bid.get("tenderers") or []] or [None]
        status = _text(bid.get("status"))
        for tenderer in tenderers:
            if tenderer and (status is None or status in SUBMITTED_BIDS):
                bidders.add(tenderer)
            rows["b"].append(
                {
                    "ocid": ocid,
                    "bid_no": bid_no,
                    "bid_id": _text(bid.get("id")),
                    "tenderer_id": tenderer,
                    "status": status,
                    "amount": amount,
                    "currency": currency,
                    "date": _text(bid.get("date")),
                }
            )
    listed = {org_id(t) for t in tender.get("tenderers") or []} - {None}
    published = tender.get("numberOfTenderers")
    published = int(published) if isinstance(published, int | float) and not isinstance(published, bool) else None
    amount, currency = _amount(tender.get("value"))
    rows["t"].append(
        {
            "ocid": ocid,
            "tender_id": _text(tender.get("id")),
            "title": _text(tender.get("title")),
            "status": _text(tender.get("status")),
            "procurement_method": _text(tender.get("procurementMethod")),
            "procurement_method_details": _text(tender.get("procurementMethodDetails")),
            "main_category": _text(tender.get("mainProcurementCategory")),
            "procuring_entity_id": org_id(tender.get("procuringEntity")),
            "amount": amount,
            "currency": currency,
            "tender_start": _text(_get(tender, "tenderPeriod", "startDate")),
            "tender_end": _text(_get(tender, "tenderPeriod", "endDate")),
            "number_of_tenderers": published,
            # who competed: the published count, else the bidders, else the listed tenderers
            "n_bidders": published if published is not None else (len(bidders or listed) or None),
        }
    )
    for party in parties:
        pid = org_id(party)
        if pid is None:
            continue
        about: dict[str, Any] = party["details"] if isinstance(party.get("details"), dict) else {}
        rows["pa"].append(
            {
                "ocid": ocid,
                "party_id": pid,
                "name": _text(party.get("name")),
                "roles": ";".join(str(r) for r in party.get("roles") or [] if r),
                "registered": _text(about.get("registrationDate") or about.get("foundingDate")),
                "region": _text(_get(party, "address", "region")),
            }
        )
    for award in release.get("awards") or []:
        if not isinstance(award, dict):
            continue
        amount, currency = _amount(award.get("value"))
        suppliers = [org_id(s) for s in award.get("suppliers") or []] or [None]
        status = _text(award.get("status"))
        for supplier in suppliers:
            rows["a"].append(
                {
                    "ocid": ocid,
                    "award_id": _text(award.get("id")),
                    "status": status,
                    "active": status not in INACTIVE_AWARDS,
                    "date": _text(award.get("date")),
                    "amount": amount,
                    "currency": currency,
                    "supplier_id": supplier,
                    "n_suppliers": len([s for s in suppliers if s]),
                }
            )
    for amendment in tender.get("amendments") or []:
        _amendment(rows, ocid, "tender", None, amendment)
    for contract in release.get("contracts") or []:
        if not isinstance(contract, dict):
            continue
        cid = _text(contract.get("id"))
        amount, currency = _amount(contract.get("value"))
        amendments = [a for a in contract.get("amendments") or [] if isinstance(a, dict)]
        rows["c"].append(
            {
                "ocid": ocid,
                "contract_id": cid,
                "award_id": _text(contract.get("awardID")),
                "status": _text(contract.get("status")),
                "amount": amount,
                "currency": currency,
                "original_amount": facts.first_contract_value.get(str(contract.get("id"))),
                "date_signed": _text(contract.get("dateSigned")),
                "n_amendments": len(amendments),
            }
        )
        for amendment in amendments:
            _amendment(rows, ocid, "contract", cid, amendment)


def _amendment(rows: dict[str, list[dict[str, Any]]], ocid: str, scope: str, cid: str | None, item: Any) -> None:
    if not isinstance(item, dict):
        return
    rows["m"].append(
        {
            "ocid": ocid,
            "scope": scope,
            "contract_id": cid,
            "amendment_id": _text(item.get("id")),
            "date": _text(item.get("date")),
            "rationale": _text(item.get("rationale")),
            "description": _text(item.get("description")),
        }
    )


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO 8601 text (any offset) to UTC timestamps; what does not parse becomes NaT."""
    text = values.astype("string")
    return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601").astype("datetime64[us, UTC]")


def _dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column + "_text"] = out[column]
        out[column] = parse_dates(out[column])
    return out


def _processes(frame: pd.DataFrame) -> pd.DataFrame:
    stamps = ["first_published", "last_published", "tender_published", "award_published", "contract_published"]
    out = _dates(frame, stamps).drop(columns=[c + "_text" for c in stamps])
    out["n_releases"] = out["n_releases"].astype("int64")
    out["source_row"] = out["source_row"].astype("int64")
    for column in ("longitude", "latitude"):
        out[column] = out[column].astype("float64")
    return out


def invalid_dates(tables: ProcurementTables) -> pd.DataFrame:
    """Dates given as text that did not parse: ocid, OCDS path, the text (for the rejects table)."""
    found = []
    for frame, column, path in (
        (tables.tenders, "tender_start", "tender/tenderPeriod/startDate"),
        (tables.tenders, "tender_end", "tender/tenderPeriod/endDate"),
        (tables.awards, "date", "awards/date"),
        (tables.contracts, "date_signed", "contracts/dateSigned"),
        (tables.parties, "registered", "parties/details/registrationDate"),
        (tables.bids, "date", "bids/details/date"),
    ):
        text = frame[column + "_text"]
        bad = text.notna() & frame[column].isna()
        if bad.any():
            found.append(pd.DataFrame({"ocid": frame.loc[bad, "ocid"], "path": path, "text": text[bad]}))
    if not found:
        return pd.DataFrame(columns=["ocid", "path", "text"])
    return pd.concat(found, ignore_index=True)


def drop_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if c.endswith("_text")])


def nan_to_none(values: pd.Series) -> np.ndarray:
    return values.astype(object).where(values.notna(), None).to_numpy(object)


ANALYSIS_COLUMNS = [
    "ocid",
    "buyer_id",
    "procurement_method",
    "procurement_method_details",
    "tender_status",
    "tender_amount",
    "currency",
    "tender_start",
    "tender_end",
    "n_bidders",
    "award_date",
    "award_amount",
    "supplier_id",
    "n_awards",
    "contract_amount",
    "contract_original_amount",
    "date_signed",
    "tender_published",
    "award_published",
    "contract_published",
    "supplier_registered",
    "longitude",
    "latitude",
]


def analysis_frame(
    processes: pd.DataFrame,
    tenders: pd.DataFrame,
    awards: pd.DataFrame,
    contracts: pd.DataFrame,
    parties: pd.DataFrame,
) -> pd.DataFrame:
    """One row per process with what the red flags read (grouped joins, no loop over processes).

    The winner is the supplier of the largest active award; amounts are summed over active awards and
    over contracts; the award date is the first active award's. The supplier's registration date is the
    earliest one any process publishes for that organisation.
    """
    base = processes[["ocid", "buyer_id", "tender_published", "award_published", "contract_published"]]
    base = base.assign(longitude=processes["longitude"], latitude=processes["latitude"])
    t = tenders.drop_duplicates("ocid").rename(columns={"status": "tender_status", "amount": "tender_amount"})
    t = t[
        [
            "ocid",
            "procurement_method",
            "procurement_method_details",
            "tender_status",
            "tender_amount",
            "currency",
            "tender_start",
            "tender_end",
            "n_bidders",
        ]
    ]
    frame = base.merge(t, on="ocid", how="left")
    active = awards[awards["active"].astype(bool)]
    per_award = active.drop_duplicates(["ocid", "award_id"])
    grouped = per_award.groupby("ocid", sort=False)
    by_process = pd.DataFrame(
        {
            "award_date": grouped["date"].min(),
            "award_amount": grouped["amount"].sum(min_count=1),
            "n_awards": grouped["award_id"].size(),
        }
    )
    largest = active.sort_values(["ocid", "amount"], ascending=[True, False], na_position="last")
    winner = largest.drop_duplicates("ocid").set_index("ocid")["supplier_id"]
    signed = contracts.groupby("ocid", sort=False)
    c = pd.DataFrame(
        {
            "contract_amount": signed["amount"].sum(min_count=1),
            "contract_original_amount": signed["original_amount"].sum(min_count=1),
            "date_signed": signed["date_signed"].min(),
        }
    )
    frame = frame.join(by_process, on="ocid").join(winner.rename("supplier_id"), on="ocid").join(c, on="ocid")
    registered = parties.dropna(subset=["registered"]).groupby("party_id")["registered"].min()
    registered = pd.to_datetime(registered, utc=True).astype("datetime64[us, UTC]")
    frame["supplier_registered"] = registered.reindex(frame["supplier_id"].astype(object)).to_numpy()
    frame["n_bidders"] = pd.to_numeric(frame["n_bidders"], errors="coerce").astype("float64")
    frame["n_awards"] = frame["n_awards"].fillna(0).astype("int64")
    for column in ("award_date", "date_signed", "supplier_registered"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return frame[ANALYSIS_COLUMNS].reset_index(drop=True)
