"""The synthetic city's public procurement: an OCDS history with planted corruption patterns.

:func:`draw_history` draws, on whole arrays, a procurement history (processes and bids, the columns of
:func:`safercities.procurement.extract.analysis_frame`) made of a clean part and three planted
patterns, and returns the truth:

* a **cartel**: a few suppliers who bid together in the tenders of some buyers, take turns to win,
  and win at the estimated price while the others bid higher (cover bids);
* **split contracts**: buyers who give one supplier several direct awards just below the direct-award
  threshold within a few weeks;
* a **captured buyer**: most of its awards go to one young supplier, through single-bid tenders with
  short submission periods, snap decisions, tender notices published late, and value amendments.

:func:`write_releases` writes the history as OCDS 1.1 release packages (one per year; tender, award,
contract and amendment releases), and :func:`simulate_procurement` does both for a simulated city,
placing processes in its communities (delivery locations and a buyer → community table).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CURRENCY = "MXN"
DIRECT_THRESHOLD = 300_000.0
"""The synthetic city's direct-award ceiling: below it, a buyer may award without a tender."""
PREFIX = "ocds-sc0000"
US_PER_DAY = 86_400_000_000
CATEGORIES = ("goods", "services", "works")


@dataclass(frozen=True)
class History:
    """A drawn procurement history: one row per process, one row per bid, the organisations, and the truth."""

    processes: pd.DataFrame
    bids: pd.DataFrame
    buyers: pd.DataFrame
    suppliers: pd.DataFrame
    truth: dict[str, Any]


def _ids(prefix: str, n: int, start: int = 0) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(start, start + n).astype(str), 5)).astype(object)


def _stamp(origin: np.datetime64, days: np.ndarray) -> pd.Series:
    """UTC timestamps ``days`` (float, NaN = missing) after ``origin``."""
    values = origin + np.round(np.nan_to_num(days) * 86_400).astype("timedelta64[s]")
    out = pd.Series(values.astype("datetime64[us]")).dt.tz_localize("UTC")
    return out.where(~np.isnan(days))


def draw_history(
    rng: np.random.Generator,
    n_processes: int = 3000,
    *,
    start: str = "2023-01-01",
    days: int = 730,
    n_buyers: int | None = None,
    n_suppliers: int | None = None,
) -> History:
    """A clean history of ``n_processes`` processes plus the planted patterns (about 8% more)."""
    origin = np.datetime64(start, "us")
    n_buyers = n_buyers or max(30, n_processes // 100)
    n_suppliers = n_suppliers or max(400, n_processes // 8)
    scale = max(1, n_processes // 3000)
    buyers = pd.DataFrame({"buyer_id": _ids("MUN-", n_buyers), "kind": "clean"})
    suppliers = pd.DataFrame(
        {
            "supplier_id": _ids("RFC-", n_suppliers),
            "category": rng.choice(CATEGORIES, n_suppliers),
            "registered_day": np.where(
                rng.random(n_suppliers) < 0.03, rng.uniform(0, days, n_suppliers), -rng.uniform(365, 7300, n_suppliers)
            ),
            "kind": "clean",
        }
    )
    # the planted organisations: taken from the end of the lists
    n_cartel_buyers, n_split_buyers, n_captured = 3 * scale, 2 * scale, scale
    special = n_cartel_buyers + n_split_buyers + n_captured
    cartel_buyers = buyers["buyer_id"].to_numpy()[-special : -special + n_cartel_buyers]
    split_buyers = buyers["buyer_id"].to_numpy()[-n_split_buyers - n_captured : -n_captured]
    captured_buyers = buyers["buyer_id"].to_numpy()[-n_captured:]
    buyers.loc[buyers["buyer_id"].isin(cartel_buyers), "kind"] = "cartel target"
    buyers.loc[buyers["buyer_id"].isin(split_buyers), "kind"] = "splitting"
    buyers.loc[buyers["buyer_id"].isin(captured_buyers), "kind"] = "captured"
    cartels = [suppliers["supplier_id"].to_numpy()[-5 * (k + 1) : len(suppliers) - 5 * k] for k in range(scale)]
    cartel_members = np.concatenate(cartels)
    favourites = suppliers["supplier_id"].to_numpy()[-5 * scale - n_captured - n_split_buyers : -5 * scale]
    captured_suppliers, split_suppliers = favourites[:n_captured], favourites[n_captured:]
    suppliers.loc[suppliers["supplier_id"].isin(cartel_members), ["kind", "category"]] = ["cartel", "works"]
    suppliers.loc[suppliers["supplier_id"].isin(captured_suppliers), "kind"] = "captured winner"
    suppliers.loc[suppliers["supplier_id"].isin(split_suppliers), "kind"] = "split winner"
    # captured winners are young companies, registered a month into the history
    suppliers.loc[suppliers["supplier_id"].isin(captured_suppliers), "registered_day"] = 30.0
    clean_suppliers = suppliers[suppliers["kind"] == "clean"]
    clean_buyers = buyers["buyer_id"].to_numpy()[: n_buyers - n_split_buyers - n_captured]

    blocks = [
        _clean(rng, n_processes, clean_buyers, clean_suppliers, days),
        _cartel(rng, 60 * scale, cartel_buyers, cartels, days),
        _splitting(rng, split_buyers, split_suppliers, days),
        _captured(rng, 45 * scale, captured_buyers, captured_suppliers, clean_suppliers, days),
    ]
    offsets = np.cumsum([0] + [len(b[0]) for b in blocks])
    table = pd.concat([b[0].assign(row=b[0]["row"] + o) for b, o in zip(blocks, offsets, strict=False)])
    bids = pd.concat([b[1].assign(row=b[1]["row"] + o) for b, o in zip(blocks, offsets, strict=False)])
    table, bids = table.reset_index(drop=True), bids.reset_index(drop=True)
    order = np.argsort(table["tender_day"].to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table["ocid"] = _ids(f"{PREFIX}-", len(table), start=1)
    bids["ocid"] = bids["row"].map(pd.Series(table["ocid"].to_numpy(), index=table["row"].to_numpy()))
    registered = suppliers.set_index("supplier_id")["registered_day"]
    processes = _as_analysis(table, registered, origin)
    bid_rows = pd.DataFrame(
        {
            "ocid": bids["ocid"].to_numpy(),
            "bid_no": bids["bid_no"].astype("int64").to_numpy(),
            "bid_id": bids["bid_no"].astype(str).to_numpy(),
            "tenderer_id": bids["tenderer_id"].to_numpy(),
            "status": "valid",
            "amount": bids["amount"].to_numpy(),
            "currency": CURRENCY,
        }
    )
    truth = {
        "start": start,
        "days": days,
        "currency": CURRENCY,
        "direct_threshold": DIRECT_THRESHOLD,
        "processes": int(len(processes)),
        "clean_processes": int((table["pattern"] == "clean").sum()),
        "cartel": {
            "suppliers": [list(map(str, c)) for c in cartels],
            "buyers": list(map(str, cartel_buyers)),
            "ocids": table.loc[table["pattern"] == "cartel", "ocid"].tolist(),
        },
        "splitting": {
            "buyers": list(map(str, split_buyers)),
            "suppliers": list(map(str, split_suppliers)),
            "ocids": table.loc[table["pattern"] == "splitting", "ocid"].tolist(),
        },
        "captured": {
            "buyers": list(map(str, captured_buyers)),
            "suppliers": list(map(str, captured_suppliers)),
            "ocids": table.loc[table["pattern"] == "captured", "ocid"].tolist(),
        },
        "clean_buyers": sorted(map(str, buyers.loc[buyers["kind"] == "clean", "buyer_id"])),
        "clean_suppliers": sorted(map(str, suppliers.loc[suppliers["kind"] == "clean", "supplier_id"])),
    }
    processes["pattern"] = table["pattern"].to_numpy()
    processes["category"] = table["category"].to_numpy()
    return History(processes, bid_rows, buyers, suppliers, truth)


def _frame(n: int, **columns: Any) -> pd.DataFrame:
    base = {
        "row": np.zeros(n, dtype=np.int64),
        "pattern": "clean",
        "category": "goods",
        "buyer_id": None,
        "supplier_id": None,
        "method": "open",
        "estimate": np.nan,
        "award": np.nan,
        "tender_day": np.zeros(n),
        "submission_days": np.full(n, np.nan),
        "decision_days": np.zeros(n),
        "award_delay": np.zeros(n),
        "sign_delay": np.ones(n),
        "contract_delay": np.zeros(n),
        "amend_factor": np.full(n, np.nan),
        "notice": np.ones(n, dtype=bool),
        "n_bidders": np.full(n, np.nan),
    }
    base.update(columns)
    return pd.DataFrame(base)


def _bids_for(
    rng: np.random.Generator, rows: np.ndarray, k: np.ndarray, pool: np.ndarray, estimate: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """``k[i]`` draws of bidders for process ``rows[i]`` from ``pool``, bids around the estimate; the lowest wins."""
    n_total = int(k.sum())
    owner = np.repeat(np.arange(len(rows)), k)
    tenderer = pool[rng.integers(0, len(pool), n_total)]
    amount = np.round(np.repeat(estimate, k) * rng.uniform(0.78, 1.04, n_total), -2)
    # a supplier drawn twice for the same process bids once
    bids = pd.DataFrame({"row": rows[owner], "tenderer_id": tenderer, "amount": amount, "owner": owner})
    bids = bids.drop_duplicates(["owner", "tenderer_id"]).reset_index(drop=True)
    bids["bid_no"] = bids.groupby("owner").cumcount() + 1
    lowest = bids.sort_values(["owner", "amount"], kind="stable")
    winner = lowest.drop_duplicates("owner")
    counts = np.bincount(bids["owner"].to_numpy(), minlength=len(rows))
    return bids.drop(columns="owner"), winner["tenderer_id"].to_numpy(), winner["amount"].to_numpy(), counts


def _clean(rng: np.random.Generator, n: int, buyers: np.ndarray, suppliers: pd.DataFrame, days: int):
    category = rng.choice(CATEGORIES, n, p=[0.45, 0.4, 0.15])
    estimate = np.round(np.exp(rng.normal(np.log(450_000), 1.1, n)), -2)
    cheap = estimate < DIRECT_THRESHOLD
    method = np.where(
        cheap,
        np.where(rng.random(n) < 0.85, "direct", "limited"),
        np.where(rng.random(n) < 0.75, "open", "selective"),
    )
    competitive = np.isin(method, ["open", "selective"])
    k = np.where(competitive, 1 + rng.poisson(2.6, n), np.where(method == "limited", 3, 1))
    k = np.where(competitive & (rng.random(n) < 0.08), 1, k)
    rows = np.arange(n)
    pools = [suppliers.loc[suppliers["category"] == c, "supplier_id"].to_numpy() for c in CATEGORIES]
    pool_index = np.searchsorted(np.array(CATEGORIES), category)
    bids_parts, winners, awards, k = [], np.empty(n, dtype=object), np.empty(n), k.copy()
    for c in range(len(CATEGORIES)):  # three categories, not a loop over processes
        sel = np.flatnonzero(pool_index == c)
        part, win, amount, distinct = _bids_for(rng, rows[sel], k[sel], pools[c], estimate[sel])
        bids_parts.append(part)
        winners[sel], awards[sel], k[sel] = win, amount, distinct
    direct = method == "direct"
    awards = np.where(direct, np.round(estimate * rng.uniform(0.90, 1.0, n), -2), awards)
    bids = pd.concat(bids_parts, ignore_index=True)
    bids = bids[~np.isin(bids["row"].to_numpy(), rows[direct])]  # direct awards have no bids
    amended = rng.random(n) < 0.06
    frame = _frame(
        n,
        row=rows,
        category=category,
        buyer_id=rng.choice(buyers, n),
        supplier_id=winners,
        method=method,
        estimate=estimate,
        award=awards,
        tender_day=rng.uniform(0, days - 150, n),
        submission_days=np.where(
            method == "open", rng.uniform(20, 45, n), np.where(method == "selective", rng.uniform(15, 30, n), np.nan)
        ),
        decision_days=np.where(direct, rng.uniform(0, 5, n), rng.uniform(8, 60, n)),
        award_delay=np.where(rng.random(n) < 0.03, rng.uniform(31, 90, n), rng.uniform(0, 10, n)),
        sign_delay=rng.uniform(1, 10, n),
        contract_delay=rng.uniform(0, 10, n),
        amend_factor=np.where(amended, rng.uniform(1.01, 1.09, n), np.nan),
        n_bidders=np.where(direct, np.nan, k).astype(float),
    )
    return frame, bids


def _cartel(rng: np.random.Generator, n: int, buyers: np.ndarray, cartels: list[np.ndarray], days: int):
    ring = rng.integers(0, len(cartels), n)
    members = np.stack(cartels)[ring]  # n x 5
    rows = np.arange(n)
    estimate = np.round(np.exp(rng.normal(np.log(2_500_000), 0.6, n)), -2)
    turn = np.arange(n) % 5
    present = rng.random((n, 5)) < 0.85
    present[np.arange(n), turn] = True
    win_price = np.round(estimate * rng.uniform(0.996, 1.0, n), -2)
    cover = np.round(estimate[:, None] * rng.uniform(1.02, 1.10, (n, 5)), -2)
    price = np.where(np.arange(5)[None, :] == turn[:, None], win_price[:, None], cover)
    r, c = np.nonzero(present)
    bids = pd.DataFrame({"row": rows[r], "tenderer_id": members[r, c], "amount": price[r, c]})
    bids["bid_no"] = bids.groupby("row").cumcount() + 1
    frame = _frame(
        n,
        row=rows,
        pattern="cartel",
        category="works",
        buyer_id=rng.choice(buyers, n),
        supplier_id=members[np.arange(n), turn],
        method="open",
        estimate=estimate,
        award=win_price,
        tender_day=np.sort(rng.uniform(0, days - 150, n)),
        submission_days=rng.uniform(20, 40, n),
        decision_days=rng.uniform(8, 40, n),
        award_delay=rng.uniform(0, 10, n),
        sign_delay=rng.uniform(1, 10, n),
        contract_delay=rng.uniform(0, 10, n),
        n_bidders=present.sum(axis=1).astype(float),
    )
    return frame, bids


def _splitting(rng: np.random.Generator, buyers: np.ndarray, suppliers: np.ndarray, days: int):
    episodes, per = 3, 4
    n = len(buyers) * episodes * per
    who = np.repeat(np.arange(len(buyers)), episodes * per)
    episode_start = rng.uniform(0, days - 200, len(buyers) * episodes)
    start = np.repeat(episode_start, per) + rng.uniform(0, 40, n)
    rows = np.arange(n)
    award = np.round(DIRECT_THRESHOLD * rng.uniform(0.90, 0.995, n), -2)
    frame = _frame(
        n,
        row=rows,
        pattern="splitting",
        category="services",
        buyer_id=buyers[who],
        supplier_id=suppliers[who],
        method="direct",
        estimate=award,
        award=award,
        tender_day=start,
        decision_days=rng.uniform(0, 3, n),
        award_delay=rng.uniform(0, 10, n),
        sign_delay=rng.uniform(1, 5, n),
        contract_delay=rng.uniform(0, 10, n),
    )
    return frame, pd.DataFrame(columns=["row", "tenderer_id", "amount", "bid_no"])


def _captured(
    rng: np.random.Generator,
    n: int,
    buyers: np.ndarray,
    winners: np.ndarray,
    others: pd.DataFrame,
    days: int,
):
    which = rng.integers(0, len(buyers), n)
    rows = np.arange(n)
    favoured = rng.random(n) < 0.8
    supplier = np.where(favoured, winners[which], rng.choice(others["supplier_id"].to_numpy(), n))
    estimate = np.round(np.exp(rng.normal(np.log(1_800_000), 0.7, n)), -2)
    award = np.round(estimate * rng.uniform(0.97, 1.0, n), -2)
    single = favoured & (rng.random(n) < 0.75)
    k = np.where(single, 1, 2)
    bid_rows = np.repeat(rows, k)
    position = np.arange(len(bid_rows)) - np.repeat(np.cumsum(k) - k, k)
    loser = rng.choice(others["supplier_id"].to_numpy(), len(bid_rows))
    tenderer = np.where(position == 0, np.repeat(supplier, k), loser)
    amount = np.where(position == 0, np.repeat(award, k), np.round(np.repeat(award, k) * 1.08, -2))
    bids = pd.DataFrame({"row": bid_rows, "tenderer_id": tenderer, "amount": amount, "bid_no": position + 1})
    first_quarter = rng.uniform(60, days - 150, n)
    frame = _frame(
        n,
        row=rows,
        pattern="captured",
        category="works",
        buyer_id=buyers[which],
        supplier_id=supplier,
        method="open",
        estimate=estimate,
        award=award,
        tender_day=first_quarter,
        submission_days=np.where(favoured, rng.uniform(4, 9, n), rng.uniform(20, 30, n)),
        decision_days=np.where(favoured, rng.uniform(0, 1.5, n), rng.uniform(10, 30, n)),
        award_delay=rng.uniform(0, 10, n),
        sign_delay=rng.uniform(1, 5, n),
        contract_delay=rng.uniform(0, 10, n),
        amend_factor=np.where(favoured & (rng.random(n) < 0.5), rng.uniform(1.25, 1.6, n), np.nan),
        notice=~(favoured & (rng.random(n) < 0.3)),
        n_bidders=k.astype(float),
    )
    return frame, bids


def _as_analysis(table: pd.DataFrame, registered: pd.Series, origin: np.datetime64) -> pd.DataFrame:
    """The drawn history in the columns of the analysis frame (what an import of the releases gives)."""
    tender_day = table["tender_day"].to_numpy()
    submission = table["submission_days"].to_numpy()
    has_period = ~np.isnan(submission)
    tender_end_day = np.where(has_period, tender_day + submission, tender_day)
    award_day = tender_end_day + table["decision_days"].to_numpy()
    signed_day = award_day + table["sign_delay"].to_numpy()
    amended = ~np.isnan(table["amend_factor"].to_numpy())
    award = table["award"].to_numpy()
    notice = table["notice"].to_numpy()
    return pd.DataFrame(
        {
            "ocid": table["ocid"].to_numpy(),
            "buyer_id": table["buyer_id"].to_numpy(),
            "procurement_method": table["method"].to_numpy(),
            "procurement_method_details": None,
            "tender_status": "complete",
            "tender_amount": table["estimate"].to_numpy(),
            "currency": CURRENCY,
            "tender_start": _stamp(origin, np.where(has_period, tender_day, np.nan)),
            "tender_end": _stamp(origin, np.where(has_period, tender_end_day, np.nan)),
            "n_bidders": table["n_bidders"].to_numpy(dtype=float),
            "award_date": _stamp(origin, award_day),
            "award_amount": award,
            "supplier_id": table["supplier_id"].to_numpy(),
            "n_awards": np.ones(len(table), dtype=np.int64),
            "contract_amount": np.where(amended, np.round(award * table["amend_factor"].to_numpy(), -2), award),
            "contract_original_amount": award,
            "date_signed": _stamp(origin, signed_day),
            "tender_published": _stamp(origin, np.where(notice, tender_day, np.nan)),
            "award_published": _stamp(origin, award_day + table["award_delay"].to_numpy()),
            "contract_published": _stamp(origin, signed_day + table["contract_delay"].to_numpy()),
            "supplier_registered": _stamp(origin, table["supplier_id"].map(registered).to_numpy(dtype=float)),
            "longitude": np.nan,
            "latitude": np.nan,
        }
    )


# -- writing OCDS ----------------------------------------------------------------------------------
def _iso(stamp: Any) -> str | None:
    return None if pd.isna(stamp) else pd.Timestamp(stamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(amount: float) -> dict[str, Any] | None:
    return None if np.isnan(amount) else {"amount": float(amount), "currency": CURRENCY}


def _releases(row: dict[str, Any], bids: list[dict[str, Any]], registered: dict[str, str | None]) -> list[dict]:
    """The releases of one process: tender (if a notice was published), award, contract, amendment."""
    ocid = row["ocid"]
    buyer = {"id": row["buyer_id"], "name": f"Municipality department {row['buyer_id']}"}
    method = row["procurement_method"]
    tender: dict[str, Any] = {
        "id": f"{ocid}-tender",
        "title": f"{row['category']} for {row['buyer_id']}",
        "status": "active",
        "procurementMethod": method,
        "mainProcurementCategory": row["category"],
        "value": _value(row["tender_amount"]),
    }
    if not pd.isna(row["tender_start"]):
        tender["tenderPeriod"] = {"startDate": _iso(row["tender_start"]), "endDate": _iso(row["tender_end"])}
    if not np.isnan(row["longitude"]):
        tender["items"] = [
            {
                "id": "1",
                "description": row["category"],
                "deliveryLocation": {"geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]}},
            }
        ]
    base = {"ocid": ocid, "initiationType": "tender", "buyer": buyer}
    buyer_party = {"id": row["buyer_id"], "name": buyer["name"], "roles": ["buyer", "procuringEntity"]}
    out = []
    if not pd.isna(row["tender_published"]):
        out.append(
            {**base, "id": f"{ocid}-01", "date": _iso(row["tender_published"]), "tag": ["tender"],
             "parties": [buyer_party], "tender": tender}
        )  # fmt: skip
    supplier = row["supplier_id"]
    tenderers = sorted({b["tenderer_id"] for b in bids} | {supplier})
    parties = [buyer_party] + [
        {
            "id": t,
            "name": f"Company {t}",
            "roles": ["tenderer", "supplier"] if t == supplier else ["tenderer"],
            **({"details": {"registrationDate": registered[t]}} if registered.get(t) else {}),
        }
        for t in tenderers
    ]
    award_tender = {**tender, "status": "complete"}
    if not np.isnan(row["n_bidders"]):
        award_tender["numberOfTenderers"] = int(row["n_bidders"])
    award = {
        "id": f"{ocid}-award-1",
        "status": "active",
        "date": _iso(row["award_date"]),
        "value": _value(row["award_amount"]),
        "suppliers": [{"id": supplier, "name": f"Company {supplier}"}],
    }
    award_release = {
        **base,
        "id": f"{ocid}-02",
        "date": _iso(row["award_published"]),
        "tag": ["award"] if out else ["tender", "award"],
        "parties": parties,
        "tender": award_tender,
        "awards": [award],
    }
    if bids:
        award_release["bids"] = {
            "details": [
                {
                    "id": b["bid_id"],
                    "status": "valid",
                    "tenderers": [{"id": b["tenderer_id"], "name": f"Company {b['tenderer_id']}"}],
                    "value": _value(b["amount"]),
                }
                for b in bids
            ]
        }
    out.append(award_release)
    contract = {
        "id": f"{ocid}-contract-1",
        "awardID": award["id"],
        "status": "active",
        "value": _value(row["contract_original_amount"]),
        "dateSigned": _iso(row["date_signed"]),
    }
    out.append({"ocid": ocid, "id": f"{ocid}-03", "date": _iso(row["contract_published"]), "tag": ["contract"],
                "contracts": [contract]})  # fmt: skip
    if row["contract_amount"] != row["contract_original_amount"]:
        when = pd.Timestamp(row["contract_published"]) + pd.Timedelta(days=120)
        out.append(
            {
                "ocid": ocid,
                "id": f"{ocid}-04",
                "date": _iso(when),
                "tag": ["contractAmendment"],
                "contracts": [
                    {
                        "id": contract["id"],
                        "value": _value(row["contract_amount"]),
                        "amendments": [
                            {
                                "id": "1",
                                "date": _iso(when),
                                "rationale": "additional works",
                                "amendsReleaseID": f"{ocid}-03",
                            }
                        ],
                    }
                ],
            }
        )
    return out


def write_releases(history: History, outdir: Path, per_file: str = "year") -> list[Path]:
    """The history as OCDS 1.1 release packages, one per year of first publication (``releases-YYYY.json``)."""
    outdir.mkdir(parents=True, exist_ok=True)
    processes = history.processes
    origin = np.datetime64(history.truth["start"], "us")
    stamps = _stamp(origin, history.suppliers["registered_day"].to_numpy(dtype=float)).map(_iso)
    registered = dict(zip(history.suppliers["supplier_id"].astype(str), stamps, strict=True))
    bids_by: dict[Any, list[dict[str, Any]]] = {
        o: [{str(k): v for k, v in r.items()} for r in g.to_dict("records")]
        for o, g in history.bids.groupby("ocid", sort=False)
    }
    year = pd.to_datetime(processes["award_published"]).dt.year.to_numpy()
    paths = []
    for y in np.unique(year):
        releases = []
        for row in processes[year == y].to_dict("records"):  # writing JSON: one process at a time
            releases += _releases({str(k): v for k, v in row.items()}, bids_by.get(row["ocid"], []), registered)
        package = {
            "uri": f"https://example.org/safercities/ocds/releases-{y}.json",
            "version": "1.1",
            "extensions": [
                "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
            ],
            "publishedDate": f"{y}-12-31T23:59:59Z",
            "publisher": {"name": "Synthetic city procurement office (safercities)"},
            "license": "https://creativecommons.org/publicdomain/zero/1.0/",
            "releases": releases,
        }
        path = outdir / f"releases-{y}.json"
        path.write_text(json.dumps(package, ensure_ascii=False, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


RULES_TOML = """# Procurement rules of the synthetic city (safercities sim): defaults plus its direct-award ceiling.
[profile]
name = "synthetic city"
country = "MX"
currency = "MXN"
source = "safercities.sim.procurement: direct awards are allowed below 300,000 MXN"

[splitting]
thresholds = [300000.0]
"""


def place(
    history: History, areas_geojson: Path, rng: np.random.Generator, located: float = 0.6
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each buyer in a community; ``located`` of the processes carry a delivery point in their buyer's community."""
    import geopandas as gpd

    areas = gpd.read_file(areas_geojson)
    communities = areas[areas["level"] == "community"].sort_values("area_id").reset_index(drop=True)
    buyers = history.buyers["buyer_id"].to_numpy()
    home = communities["area_id"].to_numpy()[rng.permutation(len(buyers)) % len(communities)]
    buyer_areas = pd.DataFrame({"buyer_id": buyers, "area_id": home})
    points = communities.set_index("area_id").geometry.representative_point()
    processes = history.processes.copy()
    area = processes["buyer_id"].map(dict(zip(buyers, home, strict=True)))
    has_point = rng.random(len(processes)) < located
    processes["longitude"] = np.where(has_point, area.map(points.x).to_numpy(dtype=float), np.nan)
    processes["latitude"] = np.where(has_point, area.map(points.y).to_numpy(dtype=float), np.nan)
    return processes, buyer_areas


def simulate_procurement(city: Any, seed: int = 0, n_processes: int = 3000) -> dict[str, Any]:
    """Write the city's procurement history under ``city.outdir / 'procurement'`` and return its truth.

    Files: ``releases-YYYY.json`` (OCDS 1.1 release packages), ``buyer_areas.csv`` (buyer_id, area_id)
    and ``rules.toml`` (the city's red-flag thresholds). The truth lists the planted organisations and
    processes, and the files.
    """
    rng = np.random.default_rng([seed, 11])
    start = str(city.truth.get("params", {}).get("start", "2023-01-01"))[:10]
    n_days = int(city.truth.get("params", {}).get("n_days", 730))
    history = draw_history(rng, n_processes, start=start, days=n_days)
    processes, buyer_areas = place(history, city.areas, rng)
    history = History(processes, history.bids, history.buyers, history.suppliers, history.truth)
    outdir = Path(city.outdir) / "procurement"
    paths = write_releases(history, outdir)
    buyer_areas.to_csv(outdir / "buyer_areas.csv", index=False)
    (outdir / "rules.toml").write_text(RULES_TOML, encoding="utf-8")
    truth = dict(history.truth)
    truth["files"] = {
        "releases": [p.name for p in paths],
        "buyer_areas": "buyer_areas.csv",
        "rules": "rules.toml",
    }
    truth["buyer_areas"] = dict(zip(buyer_areas["buyer_id"], buyer_areas["area_id"], strict=True))
    (outdir / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth
