"""Procurement risk by place: processes into areas, risk by area and period, the governance indicator.

A process is placed by its delivery location (``tender/items/deliveryLocation``, lon/lat) in the
workspace's finest areas; a process without one takes the area its buyer is mapped to (the
``procurement_buyer_areas`` table). Risk by area is the mean process risk score (the rarity-weighted
share of raised flags, :func:`safercities.procurement.index.process_scores`) with its standard error
(the standard deviation of the scores over the square root of their number) and a normal interval;
areas with fewer processes than the disclosure rule's ``min_count`` are suppressed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyproj
from scipy import stats

from safercities.ingest.areas import lineage
from safercities.procurement.flags import FlagResult
from safercities.procurement.index import process_scores
from safercities.procurement.rules import Rules
from safercities.procurement.store import workspace_flags
from safercities.workspace import Workspace

INDICATOR_ID = "procurement_risk"
SOURCE = "safercities procurement red flags (OCDS)"
UNIT = "index"
"""The framework's unit id: a rarity-weighted share of red flags raised, from 0 to 1."""
INDICATOR_COLUMNS = ["area_id", "period", "indicator_id", "value", "lower", "upper", "se", "source", "unit"]


def place_processes(ws: Workspace) -> pd.DataFrame:
    """ocid, area_id (finest level) and how it was placed ('location', 'buyer' or None)."""
    processes = ws.store.read("procurement_processes")[["ocid", "buyer_id", "longitude", "latitude"]]
    area = pd.Series(None, index=processes.index, dtype=object)
    how = pd.Series(None, index=processes.index, dtype=object)
    located = processes["longitude"].notna() & processes["latitude"].notna()
    if located.any() and not ws.finest_areas().empty:
        index, area_ids, _ = ws.area_index()
        to_ws = pyproj.Transformer.from_crs("EPSG:4326", ws.config.crs, always_xy=True)
        x, y = to_ws.transform(
            processes.loc[located, "longitude"].to_numpy(), processes.loc[located, "latitude"].to_numpy()
        )
        where = index.assign(np.asarray(x), np.asarray(y))
        inside = where >= 0
        rows = processes.index[located][inside]
        area[rows] = area_ids[where[inside]]
        how[rows] = "location"
    mapping = ws.store.read("procurement_buyer_areas").drop_duplicates("buyer_id").set_index("buyer_id")["area_id"]
    by_buyer = processes["buyer_id"].map(mapping)
    fill = area.isna() & by_buyer.notna()
    area[fill] = by_buyer[fill]
    how[fill] = "buyer"
    return pd.DataFrame({"ocid": processes["ocid"], "area_id": area, "placed_by": how})


def area_risk(
    ws: Workspace,
    result: FlagResult | None = None,
    *,
    level: str | None = None,
    by: str = "year",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per area (at ``level``) and period (of the award date): processes, mean risk score, se, interval, flags."""
    if by not in ("year", "quarter", "month", "all"):
        raise ValueError(f"by must be year, quarter, month or all, not {by!r}")
    result = result or workspace_flags(ws)
    placed = place_processes(ws)
    scores = process_scores(result).rename_axis("ocid").reset_index()
    frame = result.processes[["ocid"]].merge(scores, on="ocid").merge(placed, on="ocid", how="left")
    awards = ws.store.read("procurement_awards", "active")  # through the store: DuckDB and PostgreSQL alike
    awarded = awards.groupby("ocid")["date"].min().rename("award_date").reset_index()
    frame = frame.merge(awarded, on="ocid", how="left")
    when = pd.to_datetime(frame["award_date"], utc=True).dt.tz_convert(ws.config.timezone).dt.tz_localize(None)
    if by == "all":
        frame["period"] = "all"
    else:
        frame["period"] = when.dt.to_period({"year": "Y", "quarter": "Q", "month": "M"}[by]).astype(str)
        frame.loc[when.isna(), "period"] = None
    areas = ws.store.areas()
    level = level or ws.default_level()
    links = lineage(areas, level).dropna(subset=["target_id"]).set_index("area_id")["target_id"]
    frame["area_id"] = frame["area_id"].map(links)
    frame = frame.dropna(subset=["area_id", "period", "risk_score"])
    grouped = frame.groupby(["area_id", "period"], sort=True)["risk_score"]
    table = grouped.agg(n_processes="size", value="mean", sd="std").reset_index()
    table["se"] = table["sd"] / np.sqrt(table["n_processes"])
    z = stats.norm.ppf(0.5 + confidence / 2)
    table["lower"] = (table["value"] - z * table["se"]).clip(lower=0)
    table["upper"] = (table["value"] + z * table["se"]).clip(upper=1)
    small = table["n_processes"] < ws.config.disclosure.min_count
    table.loc[small, ["value", "se", "lower", "upper"]] = np.nan
    table["suppressed"] = small
    return table.drop(columns="sd")


def governance_indicator(
    ws: Workspace, rules: Rules | None = None, *, level: str | None = None, by: str = "year"
) -> pd.DataFrame:
    """The ``procurement_risk`` indicator per area and period, in the long form the audit framework imports.

    Columns: area_id, period, indicator_id, value, lower, upper, se, source, unit. Higher is worse.
    """
    result = workspace_flags(ws, rules)
    table = area_risk(ws, result, level=level, by=by)
    table = table.assign(indicator_id=INDICATOR_ID, source=SOURCE, unit=UNIT)
    return table[INDICATOR_COLUMNS].reset_index(drop=True)
