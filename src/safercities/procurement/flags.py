"""Red flags of corruption risk in public procurement, computed on whole columns.

Each flag is 1.0 (raised), 0.0 (not raised) or NaN (cannot be computed for that process: a field it
needs is missing). Definitions, thresholds and sources are in :data:`CATALOGUE` and
``docs/procurement.md``; the thresholds come from :mod:`safercities.procurement.rules`.

Input: the analysis frame of :func:`safercities.procurement.extract.analysis_frame` (one row per
contracting process) and the bids table (one row per bid and tenderer). No loop runs over
processes: group-level flags (splitting, concentration, bid rotation) use sorted keys,
``searchsorted``, ``bincount`` and grouped joins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from safercities import __version__
from safercities.procurement.rules import Rules, load_rules

US_PER_DAY = 86_400_000_000
SUBMITTED = ("pending", "valid", "disqualified")


@dataclass(frozen=True)
class Flag:
    """One red flag: its id, the level it is raised at, the fields it needs and its source."""

    id: str
    level: str
    """'process' (raised per contracting process) or 'buyer' / 'supplier' (raised per organisation)."""
    fields: tuple[str, ...]
    """OCDS paths the flag reads; where they are missing it is unavailable."""
    source: str


CATALOGUE: tuple[Flag, ...] = (
    Flag(
        "single_bidder",
        "process",
        ("tender/procurementMethod", "tender/numberOfTenderers or bids/details/tenderers"),
        "OCP red-flags guide (2024) R018; Fazekas, Tóth & King (2016) single bidding",
    ),
    Flag(
        "non_open",
        "process",
        ("tender/procurementMethod",),
        "Fazekas, Tóth & King (2016) procedure type; OCP red-flags guide (2024)",
    ),
    Flag(
        "short_submission",
        "process",
        ("tender/tenderPeriod/startDate", "tender/tenderPeriod/endDate"),
        "OCP red-flags guide (2024) R003; Fazekas, Tóth & King (2016) advertisement period",
    ),
    Flag(
        "decision_period",
        "process",
        ("tender/tenderPeriod/endDate", "awards/date"),
        "Fazekas, Tóth & King (2016) decision period; OCP red-flags guide (2024)",
    ),
    Flag(
        "award_near_estimate",
        "process",
        ("tender/value/amount", "awards/value/amount"),
        "OCP red-flags guide (2024): award price very close to the estimated price",
    ),
    Flag(
        "value_amendment",
        "process",
        ("contracts/value/amount (first and latest release)",),
        "OCP red-flags guide (2024); Fazekas, Tóth & King (2016) contract modification; Directive 2014/24/EU art. 72",
    ),
    Flag(
        "split_below_threshold",
        "process",
        ("awards/value/amount", "awards/date", "awards/suppliers", "buyer"),
        "OCP red-flags guide (2024): contract splitting below procurement thresholds",
    ),
    Flag(
        "dominant_supplier",
        "process",
        ("buyer", "awards/suppliers"),
        "OCP red-flags guide (2024): repeated awards to the same supplier",
    ),
    Flag(
        "new_supplier_large",
        "process",
        ("awards/date", "awards/value/amount", "parties/details/registrationDate or award history"),
        "OCP red-flags guide (2024): recently created supplier wins a large contract",
    ),
    Flag(
        "late_publication",
        "process",
        ("awards/date or contracts/dateSigned", "release dates"),
        "OCP red-flags guide (2024): late publication of award or contract information",
    ),
    Flag(
        "missing_notice",
        "process",
        ("tender/procurementMethod", "awards", "release dates and tags"),
        "OCP red-flags guide (2024): no call for tenders published; Fazekas, Tóth & King (2016)",
    ),
    Flag(
        "identical_bids",
        "process",
        ("bids/details/value/amount", "bids/details/tenderers"),
        "OCP red-flags guide (2024) R028: identical bid prices",
    ),
    Flag(
        "bid_rotation",
        "process",
        ("bids/details/tenderers", "awards/suppliers"),
        "OECD Guidelines for Fighting Bid Rigging in Public Procurement (2009/2025): bid rotation patterns",
    ),
    Flag(
        "concentrated_buyer",
        "buyer",
        ("buyer", "awards/suppliers"),
        "Herfindahl-Hirschman index; US DOJ/FTC Horizontal Merger Guidelines (2010) 2,500 threshold",
    ),
    Flag(
        "rotating_supplier",
        "supplier",
        ("bids/details/tenderers", "awards/suppliers"),
        "OECD Guidelines for Fighting Bid Rigging in Public Procurement (2009/2025): bid rotation patterns",
    ),
)
PROCESS_FLAGS = tuple(f.id for f in CATALOGUE if f.level == "process")
BY_ID = {f.id: f for f in CATALOGUE}


@dataclass(frozen=True)
class FlagResult:
    """Process flags (1/0/NaN), the buyer and supplier tables, and what each flag could see."""

    processes: pd.DataFrame
    """ocid, buyer_id, supplier_id, then one float column per process flag."""
    buyers: pd.DataFrame
    """buyer_id, n_awards, hhi, top_supplier, top_share, concentrated_buyer."""
    suppliers: pd.DataFrame
    """supplier_id, n_bids, n_wins, n_partners, rotating_supplier."""
    rules: Rules
    provenance: dict[str, object] = field(default_factory=dict)

    def base_rates(self) -> pd.DataFrame:
        """Per flag: how many processes (or organisations) it could be computed for, raised for, and the share."""
        rows = []
        for flag in CATALOGUE:
            if flag.level == "process":
                values = self.processes[flag.id]
            elif flag.level == "buyer":
                values = self.buyers[flag.id]
            else:
                values = self.suppliers[flag.id]
            available = int(values.notna().sum())
            raised = int((values == 1).sum())
            rows.append(
                {
                    "flag": flag.id,
                    "level": flag.level,
                    "available": available,
                    "raised": raised,
                    "base_rate": raised / available if available else np.nan,
                    "source": flag.source,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        rates = self.base_rates()
        lines = [f"red flags over {len(self.processes):,} processes (rules: {self.rules.name})"]
        for flag, raised, available, rate in rates[["flag", "raised", "available", "base_rate"]].to_numpy():
            share = "n/a" if available == 0 else f"{rate:.1%}"
            lines.append(f"  {flag:<22} {raised:>8,} of {available:>8,} ({share})")
        return "\n".join(lines)


# -- helpers ---------------------------------------------------------------------------------------
def _us(values: pd.Series) -> np.ndarray:
    """Microseconds since the epoch (UTC) as float, NaN where missing."""
    raw = values.to_numpy(dtype="datetime64[us]").astype("int64")
    out = raw.astype("float64")
    out[raw == np.iinfo(np.int64).min] = np.nan
    return out


def _whole_days(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whole days from start to end (truncated toward zero, as chrono's ``num_days``)."""
    return np.trunc((end - start) / US_PER_DAY)


def _flag(raised: np.ndarray, available: np.ndarray) -> np.ndarray:
    return np.where(available, raised.astype("float64"), np.nan)


def _codes(values: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), len(uniques)


def _in(values: pd.Series, choices: list[str]) -> np.ndarray:
    return values.isin(choices).to_numpy()


def _member(values: pd.Series, pool: object) -> np.ndarray:
    """``values.isin(pool)`` for a large pool, hashed by Arrow (pandas' ``isin`` on Arrow strings loops in Python)."""
    left = pa.array(values.astype(object).to_numpy(), pa.string(), from_pandas=True)
    right = pa.array(np.asarray(pool, dtype=object), pa.string(), from_pandas=True)
    return np.asarray(pc.is_in(left, value_set=right).to_numpy(zero_copy_only=False), dtype=bool)


# -- process flags ---------------------------------------------------------------------------------
def single_bidder(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    method = frame["procurement_method"]
    competitive = _in(method, rules["competition"]["competitive_methods"])
    n = frame["n_bidders"].to_numpy(dtype="float64")
    available = method.notna().to_numpy() & (~competitive | ~np.isnan(n))
    return _flag(competitive & (n == 1), available)


def non_open(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    method = frame["procurement_method"]
    return _flag(~_in(method, rules["competition"]["open_methods"]), method.notna().to_numpy())


def submission_days(frame: pd.DataFrame) -> np.ndarray:
    return _whole_days(_us(frame["tender_start"]), _us(frame["tender_end"]))


def short_submission(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    settings = rules["submission_period"]
    days = submission_days(frame)
    minimum = np.full(len(frame), float(settings["min_days"]))
    method = frame["procurement_method"]
    for code, value in settings["by_method"].items():
        minimum[_in(method, [code])] = float(value)
    details = frame["procurement_method_details"]
    for code, value in settings["by_method_details"].items():
        minimum[_in(details, [code])] = float(value)
    available = ~np.isnan(days)
    raised = days < minimum
    if settings["methods"]:
        raised &= _in(method, settings["methods"])
    return _flag(raised, available)


def decision_days(frame: pd.DataFrame) -> np.ndarray:
    return _whole_days(_us(frame["tender_end"]), _us(frame["award_date"]))


def decision_period(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    settings = rules["decision_period"]
    days = decision_days(frame)
    return _flag((days < settings["min_days"]) | (days > settings["max_days"]), ~np.isnan(days))


def award_near_estimate(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    estimate = frame["tender_amount"].to_numpy(dtype="float64")
    award = frame["award_amount"].to_numpy(dtype="float64")
    available = (estimate > 0) & ~np.isnan(award) & ~_no_price_comparison(frame, rules)
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(award / estimate - 1.0)
    return _flag(gap <= rules["award_near_estimate"]["max_relative_gap"], available)


def value_amendment(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    original = frame["contract_original_amount"].to_numpy(dtype="float64")
    final = frame["contract_amount"].to_numpy(dtype="float64")
    available = (original > 0) & ~np.isnan(final)
    with np.errstate(invalid="ignore", divide="ignore"):
        increase = final / original - 1.0
    return _flag(increase > rules["amendment"]["max_increase"], available)


def _pair_codes(frame: pd.DataFrame) -> np.ndarray:
    buyer, _ = _codes(frame["buyer_id"])
    supplier, n_suppliers = _codes(frame["supplier_id"])
    pair = buyer * (n_suppliers + 1) + supplier
    pair[(buyer < 0) | (supplier < 0)] = -1
    return pair


def split_below_threshold(frame: pd.DataFrame, rules: Rules, currency: str) -> np.ndarray:
    """Awards just below a threshold, when the same buyer gave ``min_count`` of them to one supplier in a window."""
    settings = rules["splitting"]
    thresholds = np.asarray(settings["thresholds"], dtype="float64")
    amount = frame["award_amount"].to_numpy(dtype="float64")
    when = _us(frame["award_date"])
    pair = _pair_codes(frame)
    same_currency = (frame["currency"] == currency).to_numpy() | frame["currency"].isna().to_numpy()
    available = ~np.isnan(amount) & ~np.isnan(when) & (pair >= 0) & same_currency & (len(thresholds) > 0)
    if not len(thresholds):
        return np.full(len(frame), np.nan)
    near = ((amount[:, None] >= thresholds * (1 - settings["band"])) & (amount[:, None] < thresholds)).any(axis=1)
    near &= available
    rows = np.flatnonzero(near)
    day = np.floor(when[rows] / US_PER_DAY).astype(np.int64)
    key = pair[rows] * (1 << 24) + (day - day.min() if len(day) else day)
    order = np.sort(key)
    window = int(settings["window_days"])
    count = np.searchsorted(order, key + window, side="right") - np.searchsorted(order, key - window, side="left")
    raised = np.zeros(len(frame), dtype=bool)
    raised[rows] = count >= settings["min_count"]
    return _flag(raised, available)


def _buyer_shares(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per process: its buyer code, the buyer's award count, and the winner's count with that buyer; pair codes."""
    buyer, n_buyers = _codes(frame["buyer_id"])
    pair = _pair_codes(frame)
    has = pair >= 0
    per_buyer = np.bincount(buyer[has], minlength=max(n_buyers, 1))
    _, pair_index, pair_count = np.unique(pair[has], return_inverse=True, return_counts=True)
    winner_count = np.zeros(len(frame), dtype=np.int64)
    winner_count[has] = pair_count[pair_index]
    buyer_awards = np.where(buyer >= 0, per_buyer[np.maximum(buyer, 0)], 0)
    return buyer, buyer_awards, winner_count, has


def dominant_supplier(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    settings = rules["concentration"]
    _, buyer_awards, winner_count, has = _buyer_shares(frame)
    available = has & (buyer_awards >= settings["min_awards"])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = winner_count / buyer_awards
    return _flag(share >= settings["dominant_share"], available)


def new_supplier_large(frame: pd.DataFrame, rules: Rules, currency: str) -> np.ndarray:
    settings = rules["new_supplier"]
    when = _us(frame["award_date"])
    amount = frame["award_amount"].to_numpy(dtype="float64")
    supplier, n_suppliers = _codes(frame["supplier_id"])
    registered = _us(frame["supplier_registered"])
    # first award of each supplier in the data (used where no registration date is published)
    known = (supplier >= 0) & ~np.isnan(when)
    first = np.full(max(n_suppliers, 1), np.inf)
    np.minimum.at(first, supplier[known], when[known])
    first_seen = np.where(supplier >= 0, first[np.maximum(supplier, 0)], np.nan)
    start = np.nanmin(when) if known.any() else np.nan
    burnt_in = first_seen >= start + settings["burn_in_days"] * US_PER_DAY
    born = np.where(~np.isnan(registered), registered, np.where(burnt_in, first_seen, np.nan))
    same_currency = (frame["currency"] == currency).to_numpy() | frame["currency"].isna().to_numpy()
    valued = ~np.isnan(amount) & same_currency
    large_at = np.quantile(amount[valued], settings["large_quantile"]) if valued.any() else np.inf
    age = (when - born) / US_PER_DAY
    available = (supplier >= 0) & ~np.isnan(age) & valued
    return _flag((age < settings["max_age_days"]) & (amount >= large_at), available)


def late_publication(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    limit = rules["publication"]["max_delay_days"] * US_PER_DAY
    award_delay = _us(frame["award_published"]) - _us(frame["award_date"])
    contract_delay = _us(frame["contract_published"]) - _us(frame["date_signed"])
    available = ~np.isnan(award_delay) | ~np.isnan(contract_delay)
    raised = (award_delay > limit) | (contract_delay > limit)
    return _flag(raised, available)


def missing_notice(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    if not rules["publication"]["notice_required"]:
        return np.full(len(frame), np.nan)
    method = frame["procurement_method"]
    competitive = _in(method, rules["competition"]["competitive_methods"])
    awarded = frame["n_awards"].to_numpy() > 0
    notice = _us(frame["tender_published"])
    award = _us(frame["award_date"])
    late = np.isnan(notice) | (notice > award)
    available = method.notna().to_numpy() & awarded
    return _flag(competitive & late, available)


def _submitted(bids: pd.DataFrame) -> pd.DataFrame:
    status = bids["status"]
    keep = bids["tenderer_id"].notna() & (status.isna() | status.isin(SUBMITTED))
    return bids.loc[keep]


def _bidder_sets(submitted: pd.DataFrame) -> pd.DataFrame:
    """One row per submitted bid: ocid, who bid (the tenderer, or the sorted set of a consortium), amount, currency."""
    key = ["ocid", "bid_no"]
    size = submitted.groupby(key, sort=False)["tenderer_id"].transform("size")
    single = submitted[size == 1][[*key, "tenderer_id", "amount", "currency"]].rename(columns={"tenderer_id": "who"})
    joint = submitted[size > 1].sort_values([*key, "tenderer_id"])
    if len(joint):  # consortia are few: a join per consortium bid, not per process
        names = joint.groupby(key, sort=False)["tenderer_id"].agg(";".join).rename("who")
        first = joint.drop_duplicates(key).set_index(key)[["amount", "currency"]]
        single = pd.concat([single, first.join(names).reset_index()], ignore_index=True)
    return single


def identical_bids(frame: pd.DataFrame, bids: pd.DataFrame, rules: Rules) -> np.ndarray:
    """Different tenderers submitted the same amount in the same currency (Cardinal R028)."""
    submitted = _submitted(bids)
    offers = _bidder_sets(submitted).dropna(subset=["amount"]).drop_duplicates(["ocid", "who", "amount", "currency"])
    counts = offers.groupby(["ocid", "amount", "currency"], sort=False, dropna=False).size()
    flagged = counts[counts >= 2].index.get_level_values("ocid").unique()
    ocid = frame["ocid"]
    available = _member(ocid, offers["ocid"].unique()) & ~_no_price_comparison(frame, rules)
    return _flag(_member(ocid, flagged), available)


def _no_price_comparison(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    return _in(frame["procurement_method_details"], rules["exclusions"]["no_price_comparison"])


def rotation_pairs(frame: pd.DataFrame, bids: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Pairs of tenderers who met often, mostly together, and each won when they met (a rotation)."""
    settings = rules["bid_rotation"]
    submitted = _submitted(bids).drop_duplicates(["ocid", "tenderer_id"])[["ocid", "tenderer_id"]]
    n_bids = submitted["tenderer_id"].value_counts()
    # only processes with 2+ bidders make pairs; keep tenderers who bid at least min_cobids times
    keen = submitted[submitted["tenderer_id"].map(n_bids) >= settings["min_cobids"]]
    pairs = keen.merge(keen, on="ocid", suffixes=("_a", "_b"))
    pairs = pairs[pairs["tenderer_id_a"] < pairs["tenderer_id_b"]]
    winner = frame.set_index("ocid")["supplier_id"]
    won = pairs["ocid"].map(winner)
    pairs = pairs.assign(a_won=(won == pairs["tenderer_id_a"]), b_won=(won == pairs["tenderer_id_b"]))
    met = pairs.groupby(["tenderer_id_a", "tenderer_id_b"], sort=False).agg(
        cobids=("ocid", "size"), wins_a=("a_won", "sum"), wins_b=("b_won", "sum")
    )
    met = met.reset_index()
    fewer = np.minimum(met["tenderer_id_a"].map(n_bids), met["tenderer_id_b"].map(n_bids))
    met["overlap"] = met["cobids"] / fewer
    met["rotating"] = (
        (met["cobids"] >= settings["min_cobids"])
        & (met["overlap"] >= settings["min_overlap"])
        & (met["wins_a"] >= settings["min_wins_each"])
        & (met["wins_b"] >= settings["min_wins_each"])
    )
    return met


def bid_rotation(frame: pd.DataFrame, bids: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Processes in which both members of a rotating pair bid."""
    submitted = _submitted(bids).drop_duplicates(["ocid", "tenderer_id"])[["ocid", "tenderer_id"]]
    ring = pairs.loc[pairs["rotating"], ["tenderer_id_a", "tenderer_id_b"]]
    members = pd.unique(ring.to_numpy().ravel())
    inside = submitted[_member(submitted["tenderer_id"], members)]
    both = inside.merge(ring, left_on="tenderer_id", right_on="tenderer_id_a").merge(
        inside, left_on=["ocid", "tenderer_id_b"], right_on=["ocid", "tenderer_id"]
    )
    ocid = frame["ocid"]
    return _flag(_member(ocid, both["ocid"].unique()), _member(ocid, submitted["ocid"].unique()))


# -- organisation tables ---------------------------------------------------------------------------
def buyer_table(frame: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per buyer: awards, Herfindahl-Hirschman index of supplier shares (by number of awards), top supplier."""
    settings = rules["concentration"]
    awarded = frame.loc[frame["buyer_id"].notna() & frame["supplier_id"].notna(), ["buyer_id", "supplier_id"]]
    pair = awarded.value_counts().rename("wins").reset_index()
    totals = pair.groupby("buyer_id", sort=False)["wins"].transform("sum")
    pair["share"] = pair["wins"] / totals
    pair["share2"] = pair["share"] ** 2
    top = pair.sort_values(["buyer_id", "wins", "supplier_id"], ascending=[True, False, True]).drop_duplicates(
        "buyer_id"
    )
    table = pair.groupby("buyer_id").agg(n_awards=("wins", "sum"), hhi=("share2", "sum"))
    table = table.join(
        top.set_index("buyer_id")[["supplier_id", "share"]].rename(
            columns={"supplier_id": "top_supplier", "share": "top_share"}
        )
    )
    processes = frame["buyer_id"].value_counts().rename("n_processes")
    table = processes.to_frame().join(table, how="left")
    table["n_awards"] = table["n_awards"].fillna(0).astype("int64")
    enough = table["n_awards"] >= settings["min_awards"]
    table["concentrated_buyer"] = np.where(enough, (table["hhi"] > settings["max_hhi"]).astype(float), np.nan)
    table.index.name = "buyer_id"
    return table.reset_index().sort_values("buyer_id").reset_index(drop=True)


def supplier_table(frame: pd.DataFrame, bids: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per supplier: bids, wins, rotating partners, and the rotating-supplier flag (NaN without bid data)."""
    submitted = _submitted(bids).drop_duplicates(["ocid", "tenderer_id"])
    n_bids = submitted["tenderer_id"].value_counts().rename("n_bids")
    n_wins = frame["supplier_id"].value_counts().rename("n_wins")
    table = pd.concat([n_bids, n_wins], axis=1)
    table.index.name = "supplier_id"
    ring = pairs[pairs["rotating"]]
    partners = pd.concat([ring["tenderer_id_a"], ring["tenderer_id_b"]]).value_counts().rename("n_partners")
    table = table.join(partners)
    table[["n_bids", "n_wins", "n_partners"]] = table[["n_bids", "n_wins", "n_partners"]].fillna(0).astype("int64")
    table["rotating_supplier"] = np.where(table["n_bids"] > 0, (table["n_partners"] > 0).astype(float), np.nan)
    return table.reset_index().sort_values("supplier_id").reset_index(drop=True)


# -- all together ----------------------------------------------------------------------------------
def profile_currency(frame: pd.DataFrame, rules: Rules) -> str:
    """The currency amounts are compared in: the profile's, else the most common in the data."""
    if rules.currency:
        return rules.currency
    counts = frame["currency"].value_counts()
    return str(counts.index[0]) if len(counts) else ""


def excluded(frame: pd.DataFrame, rules: Rules) -> np.ndarray:
    """Processes no flag looks at: cancelled tenders and excluded procurement method details."""
    out = (frame["tender_status"] == "cancelled").to_numpy()
    details = rules["exclusions"]["procurement_method_details"]
    if details:
        out = out | _in(frame["procurement_method_details"], details)
    return out


def compute_flags(frame: pd.DataFrame, bids: pd.DataFrame, rules: Rules | None = None) -> FlagResult:
    """Every red flag for every process, and the buyer and supplier tables."""
    rules = rules or load_rules()
    skip = excluded(frame, rules)
    kept = frame[~skip].reset_index(drop=True)
    kept_bids = bids[_member(bids["ocid"], kept["ocid"])] if skip.any() else bids
    currency = profile_currency(kept, rules)
    pairs = rotation_pairs(kept, kept_bids, rules)
    columns = {
        "single_bidder": single_bidder(kept, rules),
        "non_open": non_open(kept, rules),
        "short_submission": short_submission(kept, rules),
        "decision_period": decision_period(kept, rules),
        "award_near_estimate": award_near_estimate(kept, rules),
        "value_amendment": value_amendment(kept, rules),
        "split_below_threshold": split_below_threshold(kept, rules, currency),
        "dominant_supplier": dominant_supplier(kept, rules),
        "new_supplier_large": new_supplier_large(kept, rules, currency),
        "late_publication": late_publication(kept, rules),
        "missing_notice": missing_notice(kept, rules),
        "identical_bids": identical_bids(kept, kept_bids, rules),
        "bid_rotation": bid_rotation(kept, kept_bids, pairs),
    }
    out = pd.DataFrame(
        {"ocid": frame["ocid"].to_numpy(), "buyer_id": frame["buyer_id"], "supplier_id": frame["supplier_id"]}
    )
    where = np.flatnonzero(~skip)
    for name, values in columns.items():
        column = np.full(len(frame), np.nan)
        column[where] = values
        out[name] = column
    return FlagResult(
        processes=out,
        buyers=buyer_table(kept, rules),
        suppliers=supplier_table(kept, kept_bids, pairs),
        rules=rules,
        provenance={
            "package": "safercities",
            "version": __version__,
            "rules": rules.origin,
            "currency": currency,
            "processes": len(frame),
            "excluded": int(skip.sum()),
        },
    )
