"""The values a plan's targets are measured with: the audit's indicator values (the long contract, with intervals and
standard errors) for each target's indicator, area and period, computed from the workspace's store.

A target's scope is an area id, or ``city`` for the workspace's single area of level ``city``. Its baseline is the
value at the baseline period; its current value is the latest value at a later period of the same kind (year,
quarter or month) that has ended by ``as_of``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import pandas as pd

from safercities.audit.framework import Framework, load_framework
from safercities.audit.indicators import VALUE_COLUMNS, imported_values, indicator_values, parse_period
from safercities.plan.model import CITY
from safercities.workspace import Workspace


def sub_framework(fw: Framework, ids: Iterable[str]) -> Framework:
    """The framework cut down to ``ids`` and the indicators their formulas refer to (so fewer are computed)."""
    wanted: set[str] = set()
    todo = [i for i in ids if i in fw.ids]
    while todo:
        indicator = fw.indicator(todo.pop())
        if indicator.id in wanted:
            continue
        wanted.add(indicator.id)
        todo.extend(indicator.formula.indicators if indicator.formula else ())
    kept = tuple(i for i in fw.indicators if i.id in wanted)
    return dataclasses.replace(fw, indicators=kept, _by_id={i.id: i for i in kept})


def scope_areas(ws: Workspace) -> pd.DataFrame:
    """area_id and level of every area, plus the row ``city`` -> the city-level area (when there is exactly one)."""
    areas = ws.store.areas()[["area_id", "level"]]
    city = areas.loc[areas["level"] == CITY]
    rows = [areas.assign(scope=areas["area_id"])]
    if len(city) == 1:
        rows.append(city.assign(scope=CITY))
    return pd.concat(rows, ignore_index=True)


def following_periods(label: str, last_end: pd.Timestamp) -> list[str]:
    """The periods of the same kind as ``label`` after it, each ending on or before ``last_end``."""
    period = parse_period(label)
    kind = "Q" if "Q" in period.label else "M" if len(period.label) == 7 else "Y"
    step = {"Y": pd.DateOffset(years=1), "Q": pd.DateOffset(months=3), "M": pd.DateOffset(months=1)}[kind]
    out = []
    start = period.end
    while start + step <= last_end:
        year = start.year
        out.append(
            str(year)
            if kind == "Y"
            else f"{year}-Q{(start.month - 1) // 3 + 1}"
            if kind == "Q"
            else f"{year}-{start.month:02d}"
        )
        start = start + step
    return out


def data_end(ws: Workspace) -> pd.Timestamp | None:
    """The end of the last period any data covers: the last incident's month, or the last imported period."""
    ends = []
    _, last = ws.store.time_span(timezone=ws.config.timezone)
    if last is not None:
        ends.append(pd.Timestamp(year=last.year, month=last.month, day=1) + pd.DateOffset(months=1))
    held = imported_values(ws)
    if len(held):
        ends.append(max(parse_period(p).end for p in held["period"].unique()))
    return max(ends) if ends else None


def measure(
    ws: Workspace,
    wanted: pd.DataFrame,
    framework: str | Framework = "default",
    confidence: float = 0.95,
    public: bool = False,
) -> pd.DataFrame:
    """Indicator values for the rows of ``wanted`` (scope, indicator_id, period), in the long contract plus scope.

    One call of :func:`~safercities.audit.indicators.indicator_values` per area level, over the framework cut down
    to the indicators asked for; a scope that is not an area gives no row. ``public=True`` withholds values resting
    on a count below the workspace's ``disclosure.min_count`` (they come back NaN).
    """
    columns = ["scope", *VALUE_COLUMNS]
    if wanted.empty:
        return pd.DataFrame(columns=columns)
    fw = load_framework(framework)
    places = wanted.merge(scope_areas(ws), on="scope", how="inner")
    frames = []
    for level, group in places.groupby("level"):
        got = indicator_values(
            ws,
            sub_framework(fw, group["indicator_id"].unique()),
            sorted(group["period"].unique()),
            level=str(level),
            confidence=confidence,
            public=public,
        )
        frames.append(group[["scope", "area_id", "indicator_id", "period"]].merge(got, how="inner"))
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns].drop_duplicates(["scope", "indicator_id", "period"])


def baselines(
    ws: Workspace,
    targets: pd.DataFrame,
    framework: str | Framework = "default",
    confidence: float = 0.95,
    public: bool = False,
) -> pd.DataFrame:
    """Each target's value at its baseline period (scope, indicator_id, period and the value columns)."""
    wanted = targets[["scope", "indicator_id", "baseline_period"]].rename(columns={"baseline_period": "period"})
    return measure(ws, wanted.drop_duplicates(), framework, confidence, public)


def currents(
    ws: Workspace,
    targets: pd.DataFrame,
    as_of: dt.date,
    framework: str | Framework = "default",
    confidence: float = 0.95,
    public: bool = False,
) -> pd.DataFrame:
    """Each target's latest value after its baseline period (periods ended by ``as_of`` and covered by data)."""
    end = data_end(ws)
    last = min(pd.Timestamp(as_of), end) if end is not None else None
    if last is None or targets.empty:
        return pd.DataFrame(columns=["target_id", "scope", *VALUE_COLUMNS])
    rows = [
        (target, scope, indicator, period)
        for target, scope, indicator, label in targets[
            ["target_id", "scope", "indicator_id", "baseline_period"]
        ].itertuples(index=False)
        for period in following_periods(label, last)
    ]
    wanted = pd.DataFrame(rows, columns=["target_id", "scope", "indicator_id", "period"])
    got = measure(ws, wanted[["scope", "indicator_id", "period"]].drop_duplicates(), framework, confidence, public)
    joined = wanted.merge(got, on=["scope", "indicator_id", "period"], how="inner")
    joined = joined[joined["value"].notna()]
    joined = joined.assign(_end=[parse_period(p).end for p in joined["period"]])
    latest = joined.sort_values("_end").drop_duplicates("target_id", keep="last").drop(columns="_end")
    return latest[["target_id", "scope", *VALUE_COLUMNS]].reset_index(drop=True)
