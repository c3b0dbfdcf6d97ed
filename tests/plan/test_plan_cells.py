"""Cells as officials type them: amounts with a decimal comma or point, dates day first or ISO, Excel's own types."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from safercities.plan.cells import cell_text, parse_amounts, parse_dates


def _written(value: float, comma: bool, thousands: bool) -> str:
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    if comma:  # 1,234.50 -> 1.234,50
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


@given(
    cents=st.integers(0, 10**11),
    comma=st.booleans(),
    thousands=st.booleans(),
    sign=st.sampled_from(["", "$ ", "MXN "]),
)
def test_an_amount_reads_the_same_however_it_is_written(cents: int, comma: bool, thousands: bool, sign: str) -> None:
    value = cents / 100
    text = sign + _written(value, comma, thousands)
    got, ok = parse_amounts(pd.Series([text]))
    assert ok[0], text
    assert got[0] == round(value, 2), text


def test_amounts_that_are_not_numbers() -> None:
    got, ok = parse_amounts(pd.Series(["thirty", "", "1,2,3,4.5.6", "12 500,5", "7"]))
    assert ok.tolist() == [False, False, False, True, True]
    assert got[3] == 12500.5


@given(day=st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31)), form=st.sampled_from(["iso", "dmy", "dmy-", "cell"]))
def test_a_date_reads_the_same_however_it_is_written(day: dt.date, form: str) -> None:
    text = {
        "iso": day.isoformat(),
        "dmy": day.strftime("%d/%m/%Y"),
        "dmy-": day.strftime("%d-%m-%Y"),
        "cell": cell_text(dt.datetime(day.year, day.month, day.day)),  # a real Excel date cell
    }[form]
    assert parse_dates(pd.Series([text])).iloc[0].date() == day


def test_bad_dates_and_excel_cells() -> None:
    got = parse_dates(pd.Series(["31/02/2025", "2025-13-01", "soon", ""]))
    assert got.isna().all()
    assert cell_text(12.0) == "12" and cell_text(12.5) == "12.5" and cell_text(None) == ""
    assert cell_text(float("nan")) == "" and cell_text(True) == "true"
    assert cell_text(dt.datetime(2025, 3, 1, 14, 30)) == "2025-03-01T14:30:00"
    assert np.isnan(parse_amounts(pd.Series(["inf"]))[0][0])
