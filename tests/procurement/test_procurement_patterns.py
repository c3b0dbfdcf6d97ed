"""The planted patterns of the synthetic city are found; its clean part raises few flags.

Truth: ``safercities.sim.procurement`` (a cartel rotating wins, contracts split below the 300,000 MXN
direct-award ceiling, a captured buyer). The history goes through the real chain: OCDS release
packages written, imported into a workspace, compiled, flagged.
"""

from __future__ import annotations

import pandas as pd
import pytest

from safercities.procurement.flags import PROCESS_FLAGS
from safercities.procurement.index import risk_index
from safercities.procurement.store import read_frames, workspace_flags
from safercities.sim.procurement import write_releases
from safercities.workspace import open_workspace


@pytest.fixture(scope="module")
def flagged(procurement_city):
    with open_workspace(procurement_city.ws_root, read_only=True) as ws:
        return workspace_flags(ws, procurement_city.rules)


def test_every_process_imported(procurement_city, flagged) -> None:
    assert len(flagged.processes) == procurement_city.truth["processes"]


def test_cartel_found(procurement_city, flagged) -> None:
    truth = procurement_city.truth["cartel"]
    members = {s for ring in truth["suppliers"] for s in ring}
    suppliers = flagged.suppliers.set_index("supplier_id")
    assert suppliers.loc[sorted(members), "rotating_supplier"].eq(1).all()
    rotation = flagged.processes.set_index("ocid")["bid_rotation"]
    assert rotation[truth["ocids"]].mean() > 0.95
    index = risk_index(flagged, "supplier").table.set_index("id")
    assert index.loc[sorted(members), "high_risk"].all()


def test_split_contracts_found(procurement_city, flagged) -> None:
    truth = procurement_city.truth["splitting"]
    split = flagged.processes.set_index("ocid")["split_below_threshold"]
    assert split[truth["ocids"]].mean() > 0.9
    buyers = risk_index(flagged, "buyer").table.set_index("id")
    assert buyers.loc[truth["buyers"], "high_risk"].all()
    assert "split_below_threshold" in buyers.loc[truth["buyers"][0], "main_flags"]


def test_captured_buyer_found(procurement_city, flagged) -> None:
    truth = procurement_city.truth["captured"]
    buyers = flagged.buyers.set_index("buyer_id")
    assert buyers.loc[truth["buyers"], "concentrated_buyer"].eq(1).all()
    assert (buyers.loc[truth["buyers"], "top_supplier"] == truth["suppliers"]).all()
    index = risk_index(flagged, "buyer").table.set_index("id")
    assert index.loc[truth["buyers"], "high_risk"].all()
    suppliers = risk_index(flagged, "supplier").table.set_index("id")
    assert suppliers.loc[truth["suppliers"], "high_risk"].all()


def test_clean_part_raises_few_flags(procurement_city, flagged) -> None:
    truth = procurement_city.truth
    planted = set(truth["cartel"]["ocids"]) | set(truth["splitting"]["ocids"]) | set(truth["captured"]["ocids"])
    clean = flagged.processes[~flagged.processes["ocid"].isin(planted)]
    rates = clean[list(PROCESS_FLAGS)].mean()
    print("\nflag rate on the clean processes:\n" + rates.round(4).to_string())
    buyers = risk_index(flagged, "buyer").table
    suppliers = risk_index(flagged, "supplier").table
    clean_buyers = buyers[buyers["id"].isin(truth["clean_buyers"]) & buyers["index"].notna()]
    clean_suppliers = suppliers[suppliers["id"].isin(truth["clean_suppliers"]) & suppliers["index"].notna()]
    false_buyers = clean_buyers["high_risk"].mean()
    false_suppliers = clean_suppliers["high_risk"].mean()
    print(
        f"false-flag rate: {false_buyers:.1%} of {len(clean_buyers)} clean buyers, "
        f"{false_suppliers:.1%} of {len(clean_suppliers)} clean suppliers rated high risk"
    )
    # the flags that point at a scheme are almost never raised on clean processes
    for flag in ("split_below_threshold", "bid_rotation", "dominant_supplier", "value_amendment", "missing_notice"):
        assert rates[flag] < 0.01, flag
    assert false_buyers <= 0.05
    assert false_suppliers <= 0.02


def test_written_releases_compile_back_to_the_drawn_history(history, tmp_path) -> None:
    """Writing the drawn history as OCDS and reading it back gives the same analysis frame, column for column."""
    paths = write_releases(history, tmp_path)
    read = [read_frames(path) for path in paths]
    frame = pd.concat([f for f, _ in read], ignore_index=True).set_index("ocid").sort_index()
    bids = pd.concat([b for _, b in read], ignore_index=True)
    drawn = history.processes.set_index("ocid").sort_index()[frame.columns].copy()
    # without a tender notice, the tender is first published with the award
    drawn["tender_published"] = drawn["tender_published"].fillna(drawn["award_published"])
    for column in frame.columns:
        pd.testing.assert_series_equal(frame[column], drawn[column], check_dtype=False, obj=column)
    assert len(bids) == len(history.bids)
