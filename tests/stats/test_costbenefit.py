"""Cost-benefit and harm: the shipped tables read and state their source, lookups by longest ICCS prefix, the
benefit-cost ratio by hand with its interval from the effect's sampling distribution, replaceable tables with clear
errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from safercities.errors import InputError
from safercities.stats.costbenefit import benefit_cost, harm_index, harm_weights, lookup, unit_costs


def test_shipped_tables_state_source_year_currency() -> None:
    costs = unit_costs()
    assert set(costs["currency"]) == {"GBP"} and set(costs["price_year"]) == {"2015/16"}
    assert costs.set_index("iccs_code").loc["0401", "unit_cost"] == 11320  # robbery, Home Office 2018
    header = Path(costs.attrs["source"]).read_text(encoding="utf-8")
    assert "Research Report 99" in header and "Heeks" in header
    weights = harm_weights()
    assert weights.set_index("iccs_code").loc["0101", "weight_days"] == 15 * 365
    assert "Sherman" in Path(weights.attrs["source"]).read_text(encoding="utf-8")


def test_longest_prefix_lookup() -> None:
    costs = unit_costs()
    got = lookup(["05021", "050211", "05029", "0502", "0701", "020111", "0201"], costs, "unit_cost")
    assert got.iloc[0] == got.iloc[1] == 10290  # vehicle theft, and its sub-code
    assert got.iloc[2] == got.iloc[3] == 870  # other theft: the general theft figure
    assert np.isnan(got.iloc[4])  # fraud is not costed
    assert got.iloc[5] == 14050 and got.iloc[6] == 5930


def test_benefit_cost_by_hand() -> None:
    observed = pd.Series({"0401": 80.0, "0501": 40.0, "0701": 5.0})
    result = benefit_cost(observed, log_rate_ratio=np.log(0.8), se=0.1, cost=100_000, draws=200_000, seed=1)
    prevented = observed * (1 / 0.8 - 1)  # 20, 10, 1.25
    benefit = 20 * 11320 + 10 * 5930  # fraud has no unit cost
    assert result.benefit == pytest.approx(benefit)
    assert result.estimate == pytest.approx(benefit / 100_000)
    assert result.prevented == pytest.approx(prevented.sum())
    assert result.uncosted == ("0701",)
    # interval: benefit x (exp(-Z) - 1) / (1/0.8 - 1) with Z ~ N(log 0.8, 0.1); quantiles map monotonically
    z = stats.norm.ppf([0.975, 0.025], np.log(0.8), 0.1)
    expected = benefit / (1 / 0.8 - 1) * (np.exp(-z) - 1) / 100_000
    assert (result.lower, result.upper) == pytest.approx(tuple(expected), abs=0.01)  # Monte Carlo error ~0.007
    p_above = stats.norm.cdf(-np.log(1 + 100_000 / (benefit / (1 / 0.8 - 1))), np.log(0.8), 0.1)
    assert result.probability_above_one == pytest.approx(p_above, abs=0.005)
    assert result.harm_prevented == pytest.approx(20 * 365 + 10 * 40 + 1.25 * 14)


def test_reporting_rate_scales_prevented_crimes() -> None:
    observed = pd.Series({"0401": 50.0})
    base = benefit_cost(observed, log_rate_ratio=-0.2, se=0.05, cost=1000)
    half = benefit_cost(observed, log_rate_ratio=-0.2, se=0.05, cost=1000, reporting_rate=0.5)
    assert half.benefit == pytest.approx(2 * base.benefit)
    assert half.prevented == pytest.approx(2 * base.prevented)


def test_harm_index_next_to_counts() -> None:
    counts = pd.DataFrame({"iccs_code": ["0101", "0502", "0899"], "count": [2, 100, 3]})
    out = harm_index(counts)
    assert list(out["harm"][:2]) == [2 * 5475, 100 * 1]
    assert np.isnan(out["harm"].iloc[2])  # no weight: not silently zero


def test_replacement_tables_and_their_errors(tmp_path: Path) -> None:
    mine = tmp_path / "costs.csv"
    mine.write_text("# local figures\niccs_code,unit_cost,currency\n0401,2500,MXN\n04,100,MXN\n", encoding="utf-8")
    table = unit_costs(mine)
    assert lookup(["0401", "0402"], table, "unit_cost").tolist() == [2500, 100]
    bad = tmp_path / "bad.csv"
    bad.write_text("iccs_code,unit_cost,currency\n0401,2500,MXN\nROBO,10,MXN\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3.*iccs_code.*not an ICCS code"):
        unit_costs(bad)
    bad.write_text("iccs_code,unit_cost,currency\n0401,-5,MXN\n", encoding="utf-8")
    with pytest.raises(InputError, match="non-negative number"):
        unit_costs(bad)
    bad.write_text("iccs_code,unit_cost,currency\n0401,5,MXN\n0501,5,USD\n", encoding="utf-8")
    with pytest.raises(InputError, match="mixes currencies"):
        unit_costs(bad)
    bad.write_text("code,cost\n0401,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column"):
        unit_costs(bad)
    with pytest.raises(InputError, match="cannot read"):
        unit_costs(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="cost"):
        benefit_cost(pd.Series({"0401": 1.0}), log_rate_ratio=-0.1, se=0.1, cost=0)
