"""Flags and the risk index on tiny hand-built frames, every value worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safercities.procurement.compile import compile_process
from safercities.procurement.extract import ANALYSIS_COLUMNS
from safercities.procurement.flags import compute_flags
from safercities.procurement.index import risk_index
from safercities.procurement.rules import load_rules

EMPTY_BIDS = pd.DataFrame(columns=["ocid", "bid_no", "tenderer_id", "status", "amount", "currency"])


def _frame(**columns: object) -> pd.DataFrame:
    n = len(next(iter(columns.values())))  # type: ignore[arg-type]
    frame = pd.DataFrame({c: [None] * n for c in ANALYSIS_COLUMNS})
    for name, values in columns.items():
        frame[name] = values
    for c in ("award_date", "tender_start", "tender_end", "tender_published", "award_published", "contract_published",
              "date_signed", "supplier_registered"):  # fmt: skip
        frame[c] = pd.to_datetime(frame[c], utc=True)
    for c in ("tender_amount", "award_amount", "contract_amount", "contract_original_amount", "n_bidders"):
        frame[c] = pd.to_numeric(frame[c]).astype(float)
    frame["n_awards"] = frame["award_amount"].notna().astype(int)
    return frame


def test_splitting_needs_three_near_awards_in_the_window() -> None:
    days = ["2024-01-01", "2024-01-20", "2024-02-10", "2024-09-01", "2024-01-05"]
    frame = _frame(
        ocid=list("ABCDE"),
        buyer_id=["b"] * 5,
        supplier_id=["s", "s", "s", "s", "t"],
        award_amount=[95_000, 99_000, 97_000, 96_000, 98_000],
        award_date=days,
        currency=["MXN"] * 5,
    )
    rules = load_rules().with_("splitting", thresholds=[100_000.0])
    flags = compute_flags(frame, EMPTY_BIDS, rules).processes.set_index("ocid")["split_below_threshold"]
    # A, B, C: three awards of one pair within 90 days of each other; D is 200 days later; E another supplier
    assert flags.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]


def test_dominance_and_hhi() -> None:
    suppliers = ["s"] * 6 + ["t", "u", "v", "w"]
    frame = _frame(ocid=[str(i) for i in range(10)], buyer_id=["b"] * 10, supplier_id=suppliers)
    result = compute_flags(frame, EMPTY_BIDS, load_rules())
    assert result.processes["dominant_supplier"].tolist() == [1.0] * 6 + [0.0] * 4
    buyer = result.buyers.set_index("buyer_id").loc["b"]
    assert buyer["hhi"] == pytest.approx(0.6**2 + 4 * 0.1**2)
    assert buyer["concentrated_buyer"] == 1.0


def test_index_is_the_rarity_weighted_excess() -> None:
    # 20 buyers, one process each except buyer X with 5; only X's processes are single-bid open tenders
    buyers = ["X"] * 5 + [f"b{i}" for i in range(20)]
    frame = _frame(
        ocid=[str(i) for i in range(25)],
        buyer_id=buyers,
        procurement_method=["open"] * 25,
        n_bidders=[1] * 5 + [3] * 20,
    )
    result = compute_flags(frame, EMPTY_BIDS, load_rules().with_("risk", min_processes=1))
    index = risk_index(result, "buyer")
    rates = index.base_rates.set_index("flag")
    p = (5 + 0.5) / (25 + 1)
    assert rates.loc["single_bidder", "p"] == pytest.approx(p)
    w_single, w_open = -math.log(p), -math.log(0.5 / 26)
    x = index.table.set_index("id").loc["X"]
    # single_bidder and non_open (never raised, weight -ln(0.5/26)) are the flags X has
    assert x["index"] == pytest.approx(w_single * (1 - p) / (w_single + w_open))
    assert x["se"] == 0.0  # every process of X raises it: no sampling spread
    assert index.table.set_index("id").loc["b0", "index"] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "date": st.sampled_from(["2020-01-01", "2021-01-01", "2022-01-01"]),
                "tender": st.fixed_dictionaries(
                    {"title": st.one_of(st.none(), st.text(max_size=5)), "value": st.integers(0, 9)}
                ),
                "awards": st.lists(
                    st.fixed_dictionaries(
                        {"id": st.sampled_from(["1", "2"]), "status": st.sampled_from(["active", None])}
                    ),
                    max_size=3,
                ),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
def test_compile_properties(releases: list[dict]) -> None:
    """Latest wins, nulls remove, awards merged by id: checked against a direct reading of the releases."""
    for r in releases:
        r["ocid"] = "x"
    compiled = compile_process(releases)
    ordered = sorted(releases, key=lambda r: r["date"])
    assert compiled["date"] == ordered[-1]["date"] and compiled["tag"] == ["compiled"]
    titles = [r["tender"]["title"] for r in ordered]
    assert compiled["tender"].get("title") == titles[-1]
    assert compiled["tender"]["value"] == ordered[-1]["tender"]["value"]
    ids = {a["id"] for r in ordered for a in r["awards"]}
    assert {a["id"] for a in compiled.get("awards", [])} == ids
    for award in compiled.get("awards", []):
        last = [a["status"] for r in ordered for a in r["awards"] if a["id"] == award["id"]][-1]
        seen = [a["status"] for r in ordered for a in r["awards"] if a["id"] == award["id"]]
        if last is None:
            assert "status" not in award
        else:
            assert award["status"] == last
        assert np.all([s in (None, "active") for s in seen])
