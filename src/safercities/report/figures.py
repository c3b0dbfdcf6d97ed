"""Static figures for printed reports (PNG as data URIs): what the dashboard draws with plotly, drawn with
matplotlib so that a PDF needs no browser."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def data_uri(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def monthly_line(series: pd.DataFrame, ylabel: str, highlight: str | None = None) -> str:
    """The monthly series (``period``, ``count``) as a line, the bulletin's month marked."""
    figure, axis = plt.subplots(figsize=(7.2, 2.6))
    periods = pd.to_datetime(series["period"])
    axis.plot(periods, series["count"], color="#1d4ed8", marker="o", markersize=3, linewidth=1.5)
    if highlight is not None:
        chosen = periods.dt.to_period("M") == pd.Period(highlight, freq="M")
        axis.plot(periods[chosen], series["count"][chosen], "o", color="#b42318", markersize=7)
    axis.set_ylim(bottom=0)
    axis.set_ylabel(ylabel)
    axis.grid(axis="y", color="#e5e7eb")
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    return data_uri(figure)
