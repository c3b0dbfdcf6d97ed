"""Our red flags against OCDS Cardinal's fixtures (open-contracting/cardinal-rs, expected outputs verbatim).

Reference: ``../shared/data/ocds_cardinal`` (SOURCE.md), cardinal-rs commit b04158ab, files
``tests/fixtures/indicators/*.jsonl`` with ``*.expected``; upstream runs each fixture with the global
settings ``no_price_comparison_procurement_methods = "NPC"`` and ``[exclusions]
procurement_method_details = "EXC"``, which we mirror with ``[exclusions]``. Tolerance: exact.

Shared definitions (reproduced here, process level):

* R003 short submission period  -> ``short_submission`` (whole days < threshold; per method details; per method)
* R018 single bid received      -> ``single_bidder`` (competitive method and one tenderer)
* R028 identical bid prices     -> ``identical_bids`` (process level; Cardinal also flags the tenderers)

Not shared (see docs/procurement.md): R024, R058 (price gaps between bids, IQR fences), R025, R038
(disqualification and loss ratios with IQR fences), R030 (late bid won), R035, R036 (disqualification
patterns), R048 (supplier heterogeneity). Our flags read other fields (the estimate, award dates,
concentration per buyer) or are not implemented.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from safercities.procurement.flags import compute_flags
from safercities.procurement.rules import Rules, load_rules
from safercities.procurement.store import read_frames

HARNESS = {"exclusions": {"procurement_method_details": ["EXC"], "no_price_comparison": ["NPC"]}}


def _rules(**sections: dict) -> Rules:
    rules = load_rules()
    for section, values in {**HARNESS, **sections}.items():
        rules = rules.with_(section, **values)
    return rules


CASES = [
    ("R003", "short_submission", {}),
    ("R003-threshold-10", "short_submission", {"submission_period": {"min_days": 10}}),
    (
        "R003-procurement_method_details-x-5-y-10",
        "short_submission",
        {"submission_period": {"by_method_details": {"x": 5, "y": 10}}},
    ),
    (
        "R003-procurement_methods-open+selective",
        "short_submission",
        {"submission_period": {"methods": ["open", "selective"]}},
    ),
    ("R018", "single_bidder", {}),
    ("R028", "identical_bids", {}),
]


def _raised(folder: Path, name: str, flag: str, rules: Rules) -> dict[str, float]:
    frame, bids = read_frames(folder / f"{name}.jsonl")
    result = compute_flags(frame, bids, rules)
    values = result.processes.set_index("ocid")[flag]
    return {str(k): 1.0 for k, v in values.items() if v == 1}


@pytest.mark.parametrize(("name", "flag", "settings"), CASES, ids=[c[0] for c in CASES])
def test_cardinal_fixture(shared_data: Path, name: str, flag: str, settings: dict) -> None:
    folder = shared_data / "ocds_cardinal" / "tests_fixtures_indicators"
    expected = json.loads((folder / f"{name}.expected").read_text())
    code = name.split("-")[0]
    want = {ocid: values[code] for ocid, values in expected.get("OCID", {}).items()}
    assert _raised(folder, name, flag, _rules(**settings)) == want


@pytest.mark.parametrize(
    ("number", "flag"), [("003", "short_submission"), ("018", "single_bidder"), ("028", "identical_bids")]
)
def test_cardinal_documentation_examples(shared_data: Path, number: str, flag: str) -> None:
    """docs/examples/R: R003 {"F": 1}, R018 {"F": 1}, R028 {"F": 1} (run without the harness settings)."""
    folder = shared_data / "ocds_cardinal" / "docs_examples_R"
    assert _raised(folder, number, flag, load_rules()) == {"F": 1.0}


def test_not_raised_where_cardinal_does_not(shared_data: Path) -> None:
    """The R018 fixture's limited, direct, missing-method, two-tenderer and negative-count processes stay clear."""
    frame, bids = read_frames(shared_data / "ocds_cardinal" / "tests_fixtures_indicators" / "R018.jsonl")
    flags = compute_flags(frame, bids, _rules()).processes.set_index("ocid")["single_bidder"]
    assert flags[["limited", "direct", "multiple", "negative"]].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert np.isnan(flags["missing"])  # no procurementMethod: we say "cannot tell", Cardinal says nothing
