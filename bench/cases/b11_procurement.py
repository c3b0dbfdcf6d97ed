"""B11: OCDS red flags over 1e5 / 1e6 contracting processes.

Input (built once, not timed): :func:`safercities.sim.procurement.draw_history` with 1e5 (S) or 1e6 (M) clean
processes plus the planted cartel, split contracts and captured buyers (buyers and suppliers scale with the size),
as the analysis frame (one row per process) and the bids table; the default rules with the synthetic city's
300,000 MXN direct-award ceiling as the splitting threshold.

Ours: :func:`safercities.procurement.flags.compute_flags` (whole columns; sorted keys and ``searchsorted`` for
splitting windows, ``bincount`` for buyer shares, one self-join for co-bidding).
Peer: the same flags in plain pandas as an analyst would write them: row conditions on columns, then
``groupby(...).apply`` per buyer-supplier pair (splitting windows, on the near-threshold awards), per buyer
(dominance, HHI), per supplier (first award), and a self-merge of bids with a ``groupby`` per pair (rotation).
Exactness: every process flag identical (NaN where a flag cannot be computed, 1/0 elsewhere), the buyers'
concentration flag and the suppliers' rotation flag identical.
"""

from __future__ import annotations

from typing import Any

from bench.harness import Prepared

ID = "B11"
TITLE = "OCDS red flags"
GOAL = 0.3
PEER = "the same flags in plain pandas (groupby-apply)"
PROCESSES = {"S": 100_000, "M": 1_000_000, "L": 1_000_000}
FLAGS = [
    "single_bidder",
    "non_open",
    "short_submission",
    "decision_period",
    "award_near_estimate",
    "value_amendment",
    "split_below_threshold",
    "dominant_supplier",
    "new_supplier_large",
    "late_publication",
    "missing_notice",
    "identical_bids",
    "bid_rotation",
]
DAY = 86_400.0


def skip_reason() -> str | None:
    return None


def params(size: str) -> list[dict[str, Any]]:
    return [{"processes": PROCESSES[size]}]


def _inputs(n: int) -> tuple[Any, Any, Any]:
    import numpy as np

    from safercities.procurement.rules import load_rules
    from safercities.sim.procurement import DIRECT_THRESHOLD, draw_history

    history = draw_history(np.random.default_rng(11), n)
    rules = load_rules().with_("splitting", thresholds=[DIRECT_THRESHOLD]).with_("profile", currency="MXN")
    frame = history.processes.drop(columns=["pattern", "category"])
    return frame, history.bids, rules


class Flags:
    """Process flags, buyers' concentration and suppliers' rotation; ``tobytes`` hashes them (sorted)."""

    def __init__(self, processes: Any, buyers: Any, suppliers: Any) -> None:
        self.processes = processes.sort_values("ocid").reset_index(drop=True)[["ocid", *FLAGS]]
        self.buyers = buyers.sort_values("buyer_id").reset_index(drop=True)
        self.suppliers = suppliers.sort_values("supplier_id").reset_index(drop=True)

    def tobytes(self) -> bytes:
        import pandas as pd

        parts = [pd.util.hash_pandas_object(t, index=False) for t in (self.processes, self.buyers, self.suppliers)]
        return b"".join(p.to_numpy().tobytes() for p in parts)


def _ours(frame: Any, bids: Any, rules: Any) -> Flags:
    from safercities.procurement.flags import compute_flags

    result = compute_flags(frame, bids, rules)
    return Flags(
        result.processes,
        result.buyers[["buyer_id", "concentrated_buyer"]],
        result.suppliers[["supplier_id", "rotating_supplier"]],
    )


def _peer(df: Any, bids: Any, rules: Any) -> Flags:  # noqa: C901 - one analyst's notebook cell
    import numpy as np
    import pandas as pd

    out = pd.DataFrame({"ocid": df["ocid"]})
    method = df["procurement_method"]
    competitive = method.isin(rules["competition"]["competitive_methods"])

    def flag(raised: Any, available: Any) -> Any:
        return pd.Series(np.where(available, raised, np.nan), index=df.index).astype(float)

    out["single_bidder"] = flag(
        competitive & (df["n_bidders"] == 1), method.notna() & (~competitive | df["n_bidders"].notna())
    )
    out["non_open"] = flag(~method.isin(rules["competition"]["open_methods"]), method.notna())
    days = np.trunc((df["tender_end"] - df["tender_start"]).dt.total_seconds() / DAY)
    out["short_submission"] = flag(days < rules["submission_period"]["min_days"], days.notna())
    decision = np.trunc((df["award_date"] - df["tender_end"]).dt.total_seconds() / DAY)
    period = rules["decision_period"]
    out["decision_period"] = flag((decision < period["min_days"]) | (decision > period["max_days"]), decision.notna())
    gap = (df["award_amount"] / df["tender_amount"] - 1).abs()
    out["award_near_estimate"] = flag(
        gap <= rules["award_near_estimate"]["max_relative_gap"],
        (df["tender_amount"] > 0) & df["award_amount"].notna(),
    )
    increase = df["contract_amount"] / df["contract_original_amount"] - 1
    out["value_amendment"] = flag(
        increase > rules["amendment"]["max_increase"],
        (df["contract_original_amount"] > 0) & df["contract_amount"].notna(),
    )

    # splitting: near-threshold awards, then per buyer-supplier pair count those within the window
    split = rules["splitting"]
    t = split["thresholds"][0]
    has_pair = df["buyer_id"].notna() & df["supplier_id"].notna()
    available = df["award_amount"].notna() & df["award_date"].notna() & has_pair
    near = available & (df["award_amount"] >= t * (1 - split["band"])) & (df["award_amount"] < t)
    candidates = df.loc[near, ["buyer_id", "supplier_id", "award_date"]].copy()
    candidates["day"] = np.floor(
        (candidates["award_date"] - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds() / DAY
    )

    def in_window(group: Any) -> Any:
        d = group["day"].to_numpy()
        counts = [int(((d >= x - split["window_days"]) & (d <= x + split["window_days"])).sum()) for x in d]
        return pd.Series(counts, index=group.index)

    window = candidates.groupby(["buyer_id", "supplier_id"], group_keys=False)[["day"]].apply(in_window)
    raised = pd.Series(False, index=df.index)
    raised[window.index] = window >= split["min_count"]
    out["split_below_threshold"] = flag(raised, available)

    # dominance and HHI per buyer
    conc = rules["concentration"]
    awarded = df[has_pair]

    def shares(group: Any) -> Any:
        counts = group["supplier_id"].value_counts()
        return group["supplier_id"].map(counts) / len(group)

    share = awarded.groupby("buyer_id", group_keys=False)[["supplier_id"]].apply(shares)
    n_buyer = awarded.groupby("buyer_id")["supplier_id"].transform("size")
    dominant = pd.Series(np.nan, index=df.index)
    ok = n_buyer >= conc["min_awards"]
    dominant[ok[ok].index] = (share[ok[ok].index] >= conc["dominant_share"]).astype(float)
    out["dominant_supplier"] = dominant

    def hhi(group: Any) -> float:
        s = group["supplier_id"].value_counts(normalize=True)
        return float((s**2).sum())

    buyers = awarded.groupby("buyer_id")[["supplier_id"]].apply(hhi).rename("hhi").to_frame()
    buyers["n"] = awarded.groupby("buyer_id").size()
    buyers = buyers.reindex(df["buyer_id"].dropna().unique())
    buyers["concentrated_buyer"] = np.where(buyers["n"] >= conc["min_awards"], buyers["hhi"] > conc["max_hhi"], np.nan)
    buyers["concentrated_buyer"] = buyers["concentrated_buyer"].astype(float)

    # new supplier, large award
    new = rules["new_supplier"]
    first = df.groupby("supplier_id")["award_date"].apply(lambda s: s.min())
    first_seen = df["supplier_id"].map(first)
    start = df["award_date"].min()
    born = df["supplier_registered"].where(
        df["supplier_registered"].notna(),
        first_seen.where(first_seen >= start + pd.Timedelta(days=new["burn_in_days"])),
    )
    age = (df["award_date"] - born).dt.total_seconds() / DAY
    large = df["award_amount"].quantile(new["large_quantile"])
    out["new_supplier_large"] = flag(
        (age < new["max_age_days"]) & (df["award_amount"] >= large),
        df["supplier_id"].notna() & age.notna() & df["award_amount"].notna(),
    )

    # publication
    limit = pd.Timedelta(days=rules["publication"]["max_delay_days"])
    award_delay = df["award_published"] - df["award_date"]
    contract_delay = df["contract_published"] - df["date_signed"]
    out["late_publication"] = flag(
        (award_delay > limit) | (contract_delay > limit), award_delay.notna() | contract_delay.notna()
    )
    late_notice = df["tender_published"].isna() | (df["tender_published"] > df["award_date"])
    out["missing_notice"] = flag(competitive & late_notice, method.notna() & (df["n_awards"] > 0))

    # identical bids
    valid = bids[bids["tenderer_id"].notna() & bids["status"].isin(["pending", "valid", "disqualified"])]
    priced = valid.dropna(subset=["amount"]).drop_duplicates(["ocid", "tenderer_id", "amount", "currency"])
    same = priced.groupby(["ocid", "amount", "currency"]).size()
    out["identical_bids"] = flag(
        df["ocid"].isin(same[same >= 2].reset_index()["ocid"]), df["ocid"].isin(priced["ocid"])
    )

    # bid rotation: pairs of tenderers who met often, mostly together, each winning
    rot = rules["bid_rotation"]
    who = valid.drop_duplicates(["ocid", "tenderer_id"])[["ocid", "tenderer_id"]]
    n_bids = who["tenderer_id"].value_counts()
    keen = who[who["tenderer_id"].map(n_bids) >= rot["min_cobids"]]
    pairs = keen.merge(keen, on="ocid")
    pairs = pairs[pairs["tenderer_id_x"] < pairs["tenderer_id_y"]]
    pairs = pairs.merge(df[["ocid", "supplier_id"]], on="ocid")
    pairs["x_won"] = pairs["supplier_id"] == pairs["tenderer_id_x"]
    pairs["y_won"] = pairs["supplier_id"] == pairs["tenderer_id_y"]
    met = pairs.groupby(["tenderer_id_x", "tenderer_id_y"]).agg(
        cobids=("ocid", "size"), wins_x=("x_won", "sum"), wins_y=("y_won", "sum")
    )
    met = met.reset_index()
    fewer = np.minimum(met["tenderer_id_x"].map(n_bids), met["tenderer_id_y"].map(n_bids))
    ring = met[
        (met["cobids"] >= rot["min_cobids"])
        & (met["cobids"] / fewer >= rot["min_overlap"])
        & (met["wins_x"] >= rot["min_wins_each"])
        & (met["wins_y"] >= rot["min_wins_each"])
    ].rename(columns={"tenderer_id_x": "a", "tenderer_id_y": "b"})[["a", "b"]]
    both = who.merge(ring, left_on="tenderer_id", right_on="a").merge(
        who.rename(columns={"tenderer_id": "b"}), on=["ocid", "b"]
    )
    out["bid_rotation"] = flag(df["ocid"].isin(both["ocid"]), df["ocid"].isin(who["ocid"]))
    suppliers = pd.concat([n_bids.rename("n_bids"), df["supplier_id"].value_counts().rename("n_wins")], axis=1)
    members = set(ring["a"]) | set(ring["b"])
    suppliers["rotating_supplier"] = np.where(
        suppliers["n_bids"].fillna(0) > 0, suppliers.index.isin(list(members)), np.nan
    ).astype(float)
    suppliers.index.name = "supplier_id"
    return Flags(
        out,
        buyers.rename_axis("buyer_id").reset_index()[["buyer_id", "concentrated_buyer"]],
        suppliers.reset_index()[["supplier_id", "rotating_supplier"]],
    )


def check(ours: Flags, peer: Flags) -> None:
    import numpy as np

    assert len(ours.processes) == len(peer.processes), "process counts differ"
    assert (ours.processes["ocid"].to_numpy() == peer.processes["ocid"].to_numpy()).all()
    for name in FLAGS:
        a, b = ours.processes[name].to_numpy(), peer.processes[name].to_numpy()
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        assert same.all(), f"{name}: {int((~same).sum())} processes differ"
    for mine, theirs, column in (
        (ours.buyers, peer.buyers, "concentrated_buyer"),
        (ours.suppliers, peer.suppliers, "rotating_supplier"),
    ):
        assert len(mine) == len(theirs), f"{column}: {len(mine)} vs {len(theirs)} organisations"
        a, b = mine[column].to_numpy(), theirs[column].to_numpy()
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        assert same.all(), f"{column}: {int((~same).sum())} organisations differ"


def prepare(size: str, param: dict[str, Any]) -> Prepared:
    frame, bids, rules = _inputs(param["processes"])
    raised = int(_ours(frame, bids, rules).processes[FLAGS].eq(1).any(axis=1).sum())
    return Prepared(
        label=f"{len(frame):.1e} processes, {len(bids):.1e} bids".replace("e+0", "e"),
        ours=lambda: _ours(frame, bids, rules),
        peer=lambda: _peer(frame, bids, rules),
        check=check,
        notes={"processes with a flag": f"{raised:,}"},
    )


def cold_import(side: str) -> None:
    import pandas  # noqa: F401

    if side == "ours":
        import safercities.procurement.flags  # noqa: F401


def cold_inputs(param: dict[str, Any]) -> Any:
    return _inputs(param["processes"])


def cold_call(side: str, inputs: Any, param: dict[str, Any]) -> Any:
    frame, bids, rules = inputs
    return _ours(frame, bids, rules) if side == "ours" else _peer(frame, bids, rules)
