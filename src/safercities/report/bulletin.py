"""The monthly observatory bulletin: the month's figures for an audience, as HTML or PDF in en/es/fr.

Its numbers are those of :mod:`safercities.observatory`, the functions the dashboard pages call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from safercities import i18n, observatory
from safercities.observatory import PUBLIC, Audience, Headline
from safercities.report.figures import monthly_line
from safercities.report.render import render_html
from safercities.web.svgmap import choropleth
from safercities.workspace import Workspace


@dataclass(frozen=True)
class Bulletin:
    """Everything one month's bulletin shows, already filtered for its audience."""

    city: str
    month: str
    audience: str
    homicide: Headline
    sections: pd.DataFrame
    alerts: pd.DataFrame
    rates: pd.DataFrame
    series: pd.DataFrame
    min_count: int
    generated_at: str


def bulletin(ws: Workspace, month: str | None = None, audience: Audience = PUBLIC) -> Bulletin:
    """The bulletin of ``month`` (YYYY-MM; default: the last complete month of data)."""
    month = month or observatory.last_complete_month(ws)
    rates = observatory.area_rates(ws, audience)
    return Bulletin(
        city=ws.config.name,
        month=month,
        audience=audience.role,
        homicide=observatory.homicide_rate(ws, audience),
        sections=observatory.month_against_last_year(ws, audience, month),
        alerts=observatory.alerts_in_month(ws, audience, month),
        rates=rates,
        series=observatory.monthly_series(ws, audience),
        min_count=ws.config.disclosure.min_count,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def bulletin_html(b: Bulletin, lang: str) -> str:
    """The bulletin as a self-contained HTML page (figures embedded), ready for WeasyPrint."""
    gettext = i18n.translations(lang).gettext
    rates: Any = b.rates
    titles = [f"{name}: {i18n.number(rate, lang, 1)}" for name, rate in zip(rates["name"], rates["rate"], strict=True)]
    svg = choropleth(
        rates.geometry.to_numpy(),
        rates["rate_spatial_eb"].to_numpy(dtype=float),
        titles,
        (rates["unstable"] | rates["suppressed"]).to_numpy(),
        label=gettext("Rate per 100,000 inhabitants per year (spatially smoothed)"),
        hatch_label=gettext("unstable or suppressed"),
        fmt=lambda value: i18n.number(value, lang),
    )
    top = pd.DataFrame(rates.drop(columns="geometry")).sort_values("rate_spatial_eb", ascending=False).head(10)
    return render_html(
        "bulletin.html.j2",
        lang,
        b=b,
        chart=monthly_line(b.series, gettext("Recorded incidents"), highlight=b.month),
        svg=svg,
        sections=b.sections.to_dict("records"),
        alerts=b.alerts.to_dict("records"),
        top=top.to_dict("records"),
        month_start=f"{b.month}-01",
        isnan=lambda v: v is None or (isinstance(v, float) and np.isnan(v)),
    )
