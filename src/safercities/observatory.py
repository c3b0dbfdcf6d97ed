"""The observatory's figures for an audience: what the dashboard, the bulletin and the CLI all show.

Every page, report and verb reads its numbers from here, so that they agree. Each function takes an
:class:`Audience`: an authorised analyst sees exact counts; everyone else sees counts from 1 to
``disclosure.min_count - 1`` suppressed (shown as "<min_count") and never an incident's own location.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from safercities import analysis
from safercities.errors import InputError, check_choice
from safercities.iccs import name as iccs_name
from safercities.stats.rates import poisson_rate
from safercities.stats.timeseries import year_over_year
from safercities.workspace import Workspace

ROLES = ("admin", "analyst", "viewer", "public")


@dataclass(frozen=True)
class Audience:
    """Who is looking: admins and analysts are authorised for exact counts and incident-level data."""

    role: str = "public"

    def __post_init__(self) -> None:
        check_choice("role", self.role, ROLES, "the audience")

    @property
    def authorised(self) -> bool:
        return self.role in ("admin", "analyst")


ANALYST = Audience("analyst")
PUBLIC = Audience("public")


def suppressed(counts: pd.Series | np.ndarray, ws: Workspace, audience: Audience) -> np.ndarray:
    """Which counts this audience may not see: 1 .. min_count-1 (zero is not disclosive of a person)."""
    values = np.asarray(counts, dtype=float)
    if audience.authorised:
        return np.zeros(values.shape, dtype=bool)
    return (values >= 1) & (values < ws.config.disclosure.min_count)


@dataclass(frozen=True)
class Headline:
    """One headline figure with its interval and the comparison that gives it a direction."""

    key: str
    value: float
    lower: float
    upper: float
    unit: str
    period: str
    count: float
    previous: float
    """The same figure in the previous period (NaN where there is none)."""
    change: float
    change_lower: float
    change_upper: float
    suppressed: bool
    note: str


def full_years(ws: Workspace) -> list[int]:
    """Calendar years (local time) the incident data covers from 1 January to 31 December."""
    first, last = ws.store.time_span(None, None, None, ws.config.timezone)
    if first is None or last is None:
        return []
    start = first.year if (first.month, first.day) == (1, 1) else first.year + 1
    end = last.year if (last.month, last.day) == (12, 31) else last.year - 1
    return list(range(start, end + 1))


def _city_count(ws: Workspace, iccs: str | None, start: str, end: str) -> int:
    table = ws.store.area_counts(iccs, start, end, ws.config.timezone)
    return int(table["count"].sum()) if len(table) else 0


def _city_population(ws: Workspace) -> float:
    finest = ws.finest_areas()
    return float(np.nansum(finest["population"].to_numpy(dtype=float)))


def homicide_rate(ws: Workspace, audience: Audience) -> Headline:
    """SDG 16.1.1: intentional homicides (ICCS 0101) per 100,000 inhabitants in the last full year, with
    Garwood's exact interval, and its change from the year before (exact conditional rate ratio)."""
    years = full_years(ws)
    population = _city_population(ws)
    if not years or population <= 0:
        nan = float("nan")
        return Headline("sdg_16_1_1", nan, nan, nan, "per_100k", "", nan, nan, nan, nan, nan, False, "no_full_year")
    year = years[-1]
    now = _city_count(ws, "0101", f"{year}-01-01", f"{year + 1}-01-01")
    rate = poisson_rate([now], [population], per=100_000)
    previous, change, low, high = float("nan"), float("nan"), float("nan"), float("nan")
    if len(years) > 1:
        before = _city_count(ws, "0101", f"{year - 1}-01-01", f"{year}-01-01")
        previous = float(poisson_rate([before], [population], per=100_000).rate[0])
        ratio = year_over_year([now], [before])
        change, low, high = float(ratio.ratio[0] - 1), float(ratio.lower[0] - 1), float(ratio.upper[0] - 1)
    hidden = bool(suppressed(np.array([now]), ws, audience)[0])
    return Headline(
        key="sdg_16_1_1",
        value=float(rate.rate[0]),
        lower=float(rate.lower[0]),
        upper=float(rate.upper[0]),
        unit="per_100k",
        period=str(year),
        count=float("nan") if hidden else float(now),
        previous=previous,
        change=change,
        change_lower=low,
        change_upper=high,
        suppressed=hidden,
        note="unstable" if bool(rate.unstable[0]) else "",
    )


def recent_change(ws: Workspace, audience: Audience, months: int = 12) -> pd.DataFrame:
    """Recorded incidents per ICCS section in the last ``months`` full months against the ``months`` before,
    with the exact rate ratio and its interval; small counts suppressed for the audience."""
    monthly = section_months(ws)
    if monthly.empty:
        return pd.DataFrame(columns=["iccs_section", "name", "now", "before", "ratio", "lower", "upper"])
    periods = sorted(monthly["period"].unique())
    last_month = pd.Timestamp(periods[-1])
    _, last = ws.store.time_span(None, None, None, ws.config.timezone)
    if last is not None and last < last_month + pd.offsets.MonthEnd(0):  # the last month is not complete
        periods = periods[:-1]
    now_periods, before_periods = periods[-months:], periods[-2 * months : -months]
    wide = monthly.pivot_table(index="iccs_section", columns="period", values="count", aggfunc="sum", fill_value=0)
    now = wide[now_periods].sum(axis=1)
    before = wide[before_periods].sum(axis=1) if before_periods else now * np.nan
    ratio = year_over_year(now.to_numpy(), np.nan_to_num(before.to_numpy()))
    out = pd.DataFrame(
        {
            "iccs_section": now.index,
            "name": [iccs_name(code, ws.config.lang) for code in now.index],
            "now": now.to_numpy(dtype=float),
            "before": before.to_numpy(dtype=float),
            "ratio": ratio.ratio,
            "lower": ratio.lower,
            "upper": ratio.upper,
        }
    )
    out.attrs["now"] = (str(now_periods[0])[:7], str(now_periods[-1])[:7]) if now_periods else ("", "")
    for column in ("now", "before"):
        hide = suppressed(out[column], ws, audience)
        out.loc[hide, column] = np.nan
        out.loc[hide, ["ratio", "lower", "upper"]] = np.nan
    return out


def section_months(ws: Workspace) -> pd.DataFrame:
    """City-wide counts by month and ICCS section (local months), zeros included."""
    cube = ws.cube(by="month")
    if cube.empty:
        return pd.DataFrame(columns=["period", "iccs_section", "count"])
    return cube.groupby(["period", "iccs_section"])["count"].sum().reset_index()


def monthly_series(ws: Workspace, audience: Audience, iccs: str | None = None) -> pd.DataFrame:
    """The city's monthly counts (one section, or all), with small months suppressed for the audience."""
    monthly = section_months(ws)
    if iccs:
        monthly = monthly[monthly["iccs_section"] == iccs[:2]]
    series = monthly.groupby("period")["count"].sum().reset_index()
    series["count"] = series["count"].astype(float)
    series.loc[suppressed(series["count"], ws, audience), "count"] = np.nan
    return series


def area_rates(
    ws: Workspace, audience: Audience, iccs: str | None = None, level: str | None = None
) -> gpd.GeoDataFrame:
    """Annual rates per 100,000 by area with exact intervals and smoothed rates, for maps and tables;
    counts below the disclosure threshold suppressed (and their crude rate with them) for the audience."""
    rates = analysis.area_rates(ws, level, analysis.Selection(iccs=iccs))
    hide = suppressed(rates["count"], ws, audience)
    rates["suppressed"] = hide
    rates["count"] = rates["count"].astype(float)
    disclosive = ["count", "rate", "rate_lower", "rate_upper", "excess_risk", "excess_risk_lower", "excess_risk_upper"]
    rates.loc[hide, disclosive] = np.nan
    return rates


def month_against_last_year(ws: Workspace, audience: Audience, month: str) -> pd.DataFrame:
    """Counts per ICCS section in ``month`` (YYYY-MM) against the same month a year before, with the exact
    rate ratio (days in the month as exposure, so February of a leap year is fair) and its interval."""
    now = pd.Period(month, freq="M")
    before = now - 12
    monthly = section_months(ws)
    monthly["month"] = pd.PeriodIndex(pd.to_datetime(monthly["period"]), freq="M")
    wide = monthly.pivot_table(index="iccs_section", columns="month", values="count", aggfunc="sum", fill_value=0)
    if now not in wide.columns:
        span = f"the data covers {wide.columns.min()} to {wide.columns.max()}"
        raise InputError(f"no incident data for {month}", hint=span)
    counts_now = wide[now]
    counts_before = wide[before] if before in wide.columns else counts_now * np.nan
    ratio = year_over_year(
        counts_now.to_numpy(),
        np.nan_to_num(counts_before.to_numpy()),
        exposure_now=now.days_in_month,
        exposure_before=before.days_in_month,
    )
    out = pd.DataFrame(
        {
            "iccs_section": counts_now.index,
            "name": [iccs_name(code, ws.config.lang) for code in counts_now.index],
            "now": counts_now.to_numpy(dtype=float),
            "before": counts_before.to_numpy(dtype=float),
            "ratio": ratio.ratio,
            "lower": ratio.lower,
            "upper": ratio.upper,
        }
    )
    if before not in wide.columns:
        out[["ratio", "lower", "upper"]] = np.nan
    for column in ("now", "before"):
        hide = suppressed(out[column], ws, audience)
        out.loc[hide, column] = np.nan
        out.loc[hide, ["ratio", "lower", "upper"]] = np.nan
    return out


def alerts_in_month(ws: Workspace, audience: Audience, month: str) -> pd.DataFrame:
    """Early-warning alerts (weeks above an area's seasonal baseline, FDR-controlled) starting in ``month``,
    with area names; observed counts below the disclosure threshold suppressed for the audience."""
    from safercities.spacetime import early_warning

    columns = ["area_id", "name", "week", "observed", "expected", "upper", "p_value"]
    try:
        warning = early_warning(ws, min_history=40)
    except InputError:
        return pd.DataFrame(columns=columns)
    alerts = warning.alerts.to_frame()
    weeks = pd.PeriodIndex(pd.to_datetime(alerts["week"]), freq="M")
    alerts = alerts[weeks == pd.Period(month, freq="M")]
    names = ws.store.areas().set_index("area_id")["name"]
    alerts = alerts.assign(name=names.reindex(alerts["area_id"]).to_numpy())[columns].reset_index(drop=True)
    alerts["observed"] = alerts["observed"].astype(float)
    alerts.loc[suppressed(alerts["observed"], ws, audience), "observed"] = np.nan
    return alerts


def last_complete_month(ws: Workspace) -> str:
    """The latest month (YYYY-MM, local time) the incident data covers to its last day."""
    _, last = ws.store.time_span(None, None, None, ws.config.timezone)
    if last is None:
        raise InputError("the workspace has no incidents yet")
    month = pd.Period(last, freq="M")
    return str(month if last.normalize() >= month.end_time.normalize() else month - 1)


def hot_spot_areas(ws: Workspace, iccs: str | None = None, level: str | None = None) -> pd.DataFrame:
    """Areas that are hot or cold spots of the empirical Bayes rate (Getis-Ord Gi*, 999 permutations, seed 0,
    false discovery rate 5%): aggregates of several areas, so they are shown to every audience."""
    found = analysis.hotspots(
        ws, analysis.Selection(iccs=iccs), places="areas", level=level, value="rate_eb", permutations=999, seed=0
    )
    frame = found.to_geodataframe()
    return pd.DataFrame({"area_id": frame["area_id"], "label": frame["label"], "p_fdr": frame["p_fdr"]})


@dataclass(frozen=True)
class AreaProfile:
    """One community's crime picture: its rates by ICCS section against the city's, and its months."""

    area_id: str
    name: str
    level: str
    population: float
    years: float
    sections: pd.DataFrame
    """iccs_section, name, count, rate, lower, upper, city_rate, ratio, ratio_lower, ratio_upper."""
    monthly: pd.DataFrame


def area_profile(ws: Workspace, audience: Audience, area_id: str) -> AreaProfile:
    """Rates per 100,000 a year of each ICCS section in the area and in the city, the area's excess risk
    (observed / expected at the city's rate, exact interval), and its monthly counts; small counts
    suppressed for the audience."""
    from safercities.stats.rates import exact_poisson_interval

    areas = ws.store.areas().set_index("area_id")
    if area_id not in areas.index:
        raise InputError(f"unknown area '{area_id}'")
    level = str(areas.loc[area_id, "level"])
    population = float(ws.populations(level).get(area_id, np.nan))
    years = analysis.years_covered(ws)
    cube = ws.cube(by="year", level=level)
    by_section = cube.groupby(["area_id", "iccs_section"])["count"].sum().unstack(fill_value=0)
    here = by_section.loc[area_id] if area_id in by_section.index else by_section.iloc[0] * 0
    city = by_section.sum()
    city_population = float(np.nansum(ws.populations(level).to_numpy(dtype=float)))
    exposure = population * years
    rate = poisson_rate(here.to_numpy(), np.full(len(here), exposure), per=100_000)
    expected = exposure * city.to_numpy() / (city_population * years)  # at the city's rate of each section
    low, high = exact_poisson_interval(here.to_numpy())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio, ratio_lower, ratio_upper = here.to_numpy() / expected, low / expected, high / expected
    sections = pd.DataFrame(
        {
            "iccs_section": here.index,
            "name": [iccs_name(code, ws.config.lang) for code in here.index],
            "count": here.to_numpy(dtype=float),
            "rate": rate.rate,
            "lower": rate.lower,
            "upper": rate.upper,
            "city_rate": city.to_numpy() / (city_population * years) * 100_000,
            "ratio": ratio,
            "ratio_lower": ratio_lower,
            "ratio_upper": ratio_upper,
        }
    )
    hide = suppressed(sections["count"], ws, audience)
    sections.loc[hide, ["count", "rate", "lower", "upper", "ratio", "ratio_lower", "ratio_upper"]] = np.nan
    months = ws.cube(by="month", level=level)
    monthly = months[months["area_id"] == area_id].groupby("period")["count"].sum().reset_index()
    monthly["count"] = monthly["count"].astype(float)
    monthly.loc[suppressed(monthly["count"], ws, audience), "count"] = np.nan
    return AreaProfile(
        area_id=area_id,
        name=str(areas.loc[area_id, "name"] or area_id),
        level=level,
        population=population,
        years=years,
        sections=sections,
        monthly=monthly,
    )


def emerging_areas(ws: Workspace, iccs: str | None = None, level: str | None = None) -> pd.DataFrame:
    """Each area's emerging hot spot category over the months (Gi* per month with FDR, Mann-Kendall trend):
    a pattern of a neighbourhood over time, shown to every audience."""
    from safercities.spacetime import emerging

    found = emerging(ws, analysis.Selection(iccs=iccs), by="month", level=level).to_geodataframe()
    return pd.DataFrame({"area_id": found["area_id"], "category": found["category"]})
