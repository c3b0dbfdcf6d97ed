"""Dates as police files write them: strict parsing, day/month order, windows, clocks and time zones.

Every expected instant is computed independently with ``zoneinfo`` / ``datetime`` (and, for the
daylight-saving rules, cross-checked with pandas), never with the code under test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from safercities.errors import InputError
from safercities.ingest.dates import ParsedTimes, parse_times

FILE = Path("incidents.csv")
UTC = dt.UTC


def parse(
    values: list[str | None],
    fmt: str = "auto",
    order: str = "",
    tz: str = "UTC",
    times: list[str | None] | None = None,
    time_format: str = "%H:%M",
) -> ParsedTimes:
    return parse_times(
        pa.array([v if v is not None else "" for v in values], pa.string()),
        fmt=fmt,
        order=order,
        timezone=tz,
        column="fecha",
        file=FILE,
        times=None if times is None else pa.array([t if t is not None else "" for t in times], pa.string()),
        time_format=time_format,
    )


def utc(tz: str, *parts: int, fold: int = 0) -> dt.datetime:
    """The naive UTC instant of a local clock time in ``tz`` (zoneinfo; fold=0 is the first of a repeat)."""
    local = dt.datetime(*parts, tzinfo=ZoneInfo(tz), fold=fold)  # type: ignore[misc]
    return local.astimezone(UTC).replace(tzinfo=None)


def instants(values: np.ndarray) -> list[dt.datetime | None]:
    return [None if np.isnat(v) else v.astype("datetime64[us]").item() for v in values]


# ------------------------------------------------------------------------------------------ strictness


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "auto"])
def test_impossible_dates_are_rejected_not_rolled_over(fmt: str) -> None:
    got = parse(
        ["28/02/2023", "31/02/2023", "29/02/2023", "29/02/2024", "31/04/2023", "00/01/2023", "32/01/2023"]
        + ["15/03/2023"] * 5,  # 'auto' needs most rows readable to recognise the format
        fmt=fmt,
        order="dmy",
    )
    assert got.bad.tolist() == [False, True, True, False, True, True, True] + [False] * 5
    assert instants(got.start)[0] == dt.datetime(2023, 2, 28)
    assert instants(got.start)[3] == dt.datetime(2024, 2, 29)
    assert all(v is None for v, bad in zip(instants(got.start), got.bad, strict=True) if bad)


def test_impossible_times_are_rejected() -> None:
    got = parse(["2023-03-01 24:00", "2023-03-01 23:60", "2023-03-01 23:59"], fmt="%Y-%m-%d %H:%M")
    assert got.bad.tolist() == [True, True, False]


def test_missing_is_not_bad() -> None:
    got = parse(["15/03/2023", "", "   ", None], fmt="%d/%m/%Y")
    assert got.missing.tolist() == [False, True, True, True]
    assert got.bad.tolist() == [False, False, False, False]


def test_garbage_is_bad() -> None:
    got = parse(["15/03/2023", "ayer", "15/03/2023 a las 10"], fmt="%d/%m/%Y")
    assert got.bad.tolist() == [False, True, True]


# ------------------------------------------------------------------------------------------ day/month order


def test_ambiguous_order_is_refused_with_advice() -> None:
    with pytest.raises(InputError) as info:
        parse(["03/04/2024", "05/06/2024", "12/11/2024"])
    text = str(info.value)
    assert "ambiguous" in text
    assert "order" in text and "[dates]" in text
    assert "incidents.csv" in text


@pytest.mark.parametrize(
    ("order", "expected"),
    [("dmy", [(2024, 4, 3), (2024, 6, 5)]), ("mdy", [(2024, 3, 4), (2024, 5, 6)])],
)
def test_order_given_resolves_ambiguity(order: str, expected: list[tuple[int, int, int]]) -> None:
    got = parse(["03/04/2024", "05/06/2024"], order=order, tz="America/Mexico_City")
    assert instants(got.start) == [utc("America/Mexico_City", *d) for d in expected]


def test_order_is_told_by_the_data_when_it_can() -> None:
    dmy = parse(["03/04/2024", "25/04/2024"])
    assert instants(dmy.start) == [dt.datetime(2024, 4, 3), dt.datetime(2024, 4, 25)]
    mdy = parse(["03/04/2024", "04/25/2024"])
    assert instants(mdy.start) == [dt.datetime(2024, 3, 4), dt.datetime(2024, 4, 25)]


def test_order_contradicted_by_the_data() -> None:
    with pytest.raises(InputError, match="order"):
        parse(["03/04/2024", "25/04/2024"], order="mdy")


def test_explicit_format() -> None:
    got = parse(["15.03.2023 22:05", "01.12.2023 07:00"], fmt="%d.%m.%Y %H:%M", tz="America/Mexico_City")
    assert instants(got.start) == [
        utc("America/Mexico_City", 2023, 3, 15, 22, 5),
        utc("America/Mexico_City", 2023, 12, 1, 7, 0),
    ]
    assert instants(got.end) == instants(got.start)  # moments


def test_format_that_is_not_a_pattern() -> None:
    with pytest.raises(InputError, match="strptime"):
        parse(["2023-01-01"], fmt="yyyy-mm-dd")


# ------------------------------------------------------------------------------------------ ISO and windows


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2024-03-05T14:30", "2024-12-31T00:05"], [(2024, 3, 5, 14, 30), (2024, 12, 31, 0, 5)]),
        (["2024-03-05 14:30:15", "2024-12-31 00:05:00"], [(2024, 3, 5, 14, 30, 15), (2024, 12, 31, 0, 5)]),
        (["2024-03-05", "2024-12-31"], [(2024, 3, 5), (2024, 12, 31)]),
    ],
)
def test_iso_auto_detected(values: list[str], expected: list[tuple[int, ...]]) -> None:
    tz = "America/Mexico_City"
    got = parse(values, tz=tz)  # type: ignore[arg-type]
    assert not got.bad.any()
    assert instants(got.start) == [utc(tz, *e) for e in expected]


def test_iso_auto_with_some_rows_without_time() -> None:
    got = parse(["2024-03-05 14:30:00", "2024-03-05 16:00:00", "2024-03-05 18:00:00", "2024-03-06"])
    assert not got.bad.any()
    assert instants(got.start)[3] == dt.datetime(2024, 3, 6)
    assert instants(got.end)[3] == dt.datetime(2024, 3, 6, 23, 59, 59)


def test_iso_with_and_without_time() -> None:
    tz = "America/Mexico_City"
    got = parse(["2024-03-05T14:30", "2024-03-05 14:30:15", "2024-03-05"], fmt="iso", tz=tz)
    assert not got.bad.any()
    assert instants(got.start) == [utc(tz, 2024, 3, 5, 14, 30), utc(tz, 2024, 3, 5, 14, 30, 15), utc(tz, 2024, 3, 5)]
    # a date alone is a day window: to the last second of that local day
    assert instants(got.end) == [
        utc(tz, 2024, 3, 5, 14, 30),
        utc(tz, 2024, 3, 5, 14, 30, 15),
        utc(tz, 2024, 3, 5, 23, 59, 59),
    ]


def test_day_windows() -> None:
    tz = "America/Mexico_City"
    got = parse(["15/03/2023", "31/12/2023"], fmt="%d/%m/%Y", tz=tz)
    assert instants(got.start) == [utc(tz, 2023, 3, 15), utc(tz, 2023, 12, 31)]
    assert instants(got.end) == [utc(tz, 2023, 3, 15, 23, 59, 59), utc(tz, 2023, 12, 31, 23, 59, 59)]


@pytest.mark.parametrize("fmt", ["%Y-%m", "auto"])
def test_month_windows(fmt: str) -> None:
    got = parse(["2024-02", "2023-02", "2023-12"], fmt=fmt)
    assert instants(got.start) == [dt.datetime(2024, 2, 1), dt.datetime(2023, 2, 1), dt.datetime(2023, 12, 1)]
    # inclusive end: the last second of the month (29 February in a leap year)
    assert instants(got.end) == [
        dt.datetime(2024, 2, 29, 23, 59, 59),
        dt.datetime(2023, 2, 28, 23, 59, 59),
        dt.datetime(2023, 12, 31, 23, 59, 59),
    ]


def test_month_windows_across_british_summer_time() -> None:
    tz = "Europe/London"
    got = parse(["2024-03", "2024-04", "2024-10", "2024-11"], fmt="%Y-%m", tz=tz)
    starts = [utc(tz, 2024, m, 1) for m in (3, 4, 10, 11)]
    ends = [
        utc(tz, 2024, 3, 31, 23, 59, 59),
        utc(tz, 2024, 4, 30, 23, 59, 59),
        utc(tz, 2024, 10, 31, 23, 59, 59),
        utc(tz, 2024, 11, 30, 23, 59, 59),
    ]
    assert instants(got.start) == starts
    assert instants(got.end) == ends
    # written out, so that a wrong zone database cannot agree with itself
    assert starts[0] == dt.datetime(2024, 3, 1, 0, 0) and ends[0] == dt.datetime(2024, 3, 31, 22, 59, 59)  # GMT -> BST
    assert starts[2] == dt.datetime(2024, 9, 30, 23, 0) and ends[2] == dt.datetime(2024, 10, 31, 23, 59, 59)  # BST->GMT
    assert got.ambiguous == 0 and got.nonexistent == 0


def test_day_window_on_the_day_clocks_go_forward() -> None:
    got = parse(["31/03/2024"], fmt="%d/%m/%Y", tz="Europe/London")
    assert instants(got.start) == [dt.datetime(2024, 3, 31, 0, 0)]
    assert instants(got.end) == [dt.datetime(2024, 3, 31, 22, 59, 59)]  # 23:59:59 BST: a 23-hour day


def test_separate_time_column() -> None:
    tz = "America/Mexico_City"
    got = parse(["15/03/2023", "16/03/2023", "17/03/2023"], fmt="%d/%m/%Y", tz=tz, times=["22:05", "", "7:30"])
    assert instants(got.start) == [utc(tz, 2023, 3, 15, 22, 5), utc(tz, 2023, 3, 16), utc(tz, 2023, 3, 17, 7, 30)]
    # with a time it is a moment; without, the row stays a day window
    assert instants(got.end) == [
        utc(tz, 2023, 3, 15, 22, 5),
        utc(tz, 2023, 3, 16, 23, 59, 59),
        utc(tz, 2023, 3, 17, 7, 30),
    ]
    assert not got.bad.any()


def test_separate_time_column_with_a_bad_time() -> None:
    got = parse(["15/03/2023", "16/03/2023"], fmt="%d/%m/%Y", times=["25:61", "10:00"])
    assert got.bad.tolist() == [True, False]


def test_separate_time_column_with_seconds_format() -> None:
    got = parse(["2023-03-15"], fmt="%Y-%m-%d", times=["22:05:09"], time_format="%H:%M:%S")
    assert instants(got.start) == [dt.datetime(2023, 3, 15, 22, 5, 9)]


# ------------------------------------------------------------------------------------------ Excel serials


@pytest.mark.parametrize("fmt", ["excel", "auto"])
def test_excel_serial_dates(fmt: str) -> None:
    epoch = dt.datetime(1899, 12, 30)
    serials = [45000, 45000.5, 45366.75, 1]
    got = parse([str(s) for s in serials], fmt=fmt)
    assert instants(got.start) == [epoch + dt.timedelta(days=s) for s in serials]
    assert instants(got.start)[0] == dt.datetime(2023, 3, 15)  # Excel shows 45000 as 15/03/2023
    # a whole serial is a day, a fraction a moment
    assert instants(got.end)[0] == dt.datetime(2023, 3, 15, 23, 59, 59)
    assert instants(got.end)[1] == instants(got.start)[1]


def test_excel_serial_out_of_range() -> None:
    got = parse(["45000", "-3", "99999999", "nan", "inf"], fmt="excel")
    assert got.bad.tolist() == [False, True, True, True, True]


# ------------------------------------------------------------------------------------------ 12-hour clocks


@pytest.mark.parametrize("fmt", ["%m/%d/%Y %I:%M:%S %p", "auto"])
def test_twelve_hour_clock_chicago(fmt: str) -> None:
    tz = "America/Chicago"
    got = parse(
        ["01/05/2015 11:30:00 PM", "01/05/2015 12:15:00 AM", "01/05/2015 12:15:00 PM", "01/31/2016 11:45:00 PM"],
        fmt=fmt,
        order="mdy",
        tz=tz,
    )
    assert not got.bad.any()
    expected = [
        utc(tz, 2015, 1, 5, 23, 30),
        utc(tz, 2015, 1, 5, 0, 15),
        utc(tz, 2015, 1, 5, 12, 15),
        utc(tz, 2016, 1, 31, 23, 45),
    ]
    assert instants(got.start) == expected
    assert expected[0] == dt.datetime(2015, 1, 6, 5, 30)  # CST is UTC-6
    assert instants(got.end) == expected


# ------------------------------------------------------------------------------------------ daylight saving


def test_nonexistent_local_time_moves_forward_and_is_counted() -> None:
    tz = "America/New_York"
    got = parse(["2024-03-10 02:30", "2024-03-10 01:30", "2024-03-10 03:30"], fmt="%Y-%m-%d %H:%M", tz=tz)
    # 02:30 does not exist: the first valid instant after the gap is 03:00 EDT = 07:00 UTC
    first_valid = utc(tz, 2024, 3, 10, 3, 0)
    assert first_valid == dt.datetime(2024, 3, 10, 7, 0)
    assert instants(got.start) == [first_valid, utc(tz, 2024, 3, 10, 1, 30), utc(tz, 2024, 3, 10, 3, 30)]
    shifted = pd.Timestamp("2024-03-10 02:30").tz_localize(tz, nonexistent="shift_forward").tz_convert("UTC")
    assert shifted.tz_localize(None).to_pydatetime() == first_valid
    assert got.nonexistent == 1 and got.ambiguous == 0
    assert not got.bad.any()


def test_ambiguous_local_time_takes_the_first_and_is_counted() -> None:
    tz = "America/New_York"
    got = parse(["2024-11-03 01:30", "2024-11-03 00:30", "2024-11-03 02:30"], fmt="%Y-%m-%d %H:%M", tz=tz)
    first = utc(tz, 2024, 11, 3, 1, 30, fold=0)  # 01:30 EDT
    assert first == dt.datetime(2024, 11, 3, 5, 30)
    assert utc(tz, 2024, 11, 3, 1, 30, fold=1) == dt.datetime(2024, 11, 3, 6, 30)  # the second, not taken
    assert instants(got.start) == [first, utc(tz, 2024, 11, 3, 0, 30), utc(tz, 2024, 11, 3, 2, 30)]
    pandas_first = pd.Timestamp("2024-11-03 01:30").tz_localize(tz, ambiguous=True).tz_convert("UTC")
    assert pandas_first.tz_localize(None).to_pydatetime() == first
    assert got.ambiguous == 1 and got.nonexistent == 0


def test_many_clock_times_against_zoneinfo() -> None:
    """Every half hour over both 2024 transitions in New York, against zoneinfo one by one."""
    tz = "America/New_York"
    rng = np.random.default_rng(42)
    days = [dt.datetime(2024, 3, 9), dt.datetime(2024, 3, 10), dt.datetime(2024, 11, 3), dt.datetime(2024, 6, 1)]
    clocks = [d + dt.timedelta(minutes=30 * k) for d in days for k in range(48)]
    clocks += [dt.datetime(2024, 1, 1) + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 525_600, 200)]
    got = parse([c.strftime("%Y-%m-%d %H:%M") for c in clocks], fmt="%Y-%m-%d %H:%M", tz=tz)
    zone = ZoneInfo(tz)
    expected = []
    for c in clocks:
        local = c.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != c:  # in the spring gap
            local = (c + dt.timedelta(hours=1)).replace(minute=0, tzinfo=zone)
        expected.append(local.astimezone(UTC).replace(tzinfo=None))
    assert instants(got.start) == expected
    assert got.nonexistent == 2  # 02:00 and 02:30 on 10 March
    assert got.ambiguous == 2  # 01:00 and 01:30 on 3 November


def test_auto_when_the_first_value_is_not_a_slash_date() -> None:
    """Found by test_robustness: detect_format took the separator from the first value, assuming it was a date."""
    got = parse(["ayer", "15/03/2023 10:30", "16/03/2023 11:00"], order="dmy")
    assert got.bad.tolist() == [True, False, False]
    assert instants(got.start)[1:] == [dt.datetime(2023, 3, 15, 10, 30), dt.datetime(2023, 3, 16, 11, 0)]


def test_one_impossible_slash_date_is_a_reject_not_a_refusal() -> None:
    """15/13/2023 is no date in either order: that row is bad, and the others still tell day-first."""
    got = parse_times(
        pa.array(["15/13/2023", "14/03/2023 10:00", "01/02/2023"]),
        fmt="auto",
        order="",
        timezone="UTC",
        column="fecha",
        file=Path("x.csv"),
    )
    assert got.bad.tolist() == [True, False, False]
    assert got.start[1] == np.datetime64("2023-03-14T10:00")
    assert got.start[2] == np.datetime64("2023-02-01T00:00")
