"""The screening report as data: one service function the CLI, the PDF report and the web page all call.

Disclosure: buyers and suppliers are public bodies and companies (no personal data); risk by area
follows the workspace's ``disclosure.min_count`` (areas with fewer processes are suppressed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from safercities.errors import WorkspaceError
from safercities.procurement.index import RULE, risk_index, weights
from safercities.procurement.labels import label
from safercities.procurement.place import area_risk
from safercities.procurement.rules import Rules
from safercities.procurement.store import workspace_flags
from safercities.workspace import Workspace


@dataclass(frozen=True)
class ScreeningReport:
    """Titles and tables of the procurement screening, in one language."""

    lang: str
    title: str
    caveat: str
    rule: str
    base_rates: pd.DataFrame
    buyers: pd.DataFrame
    suppliers: pd.DataFrame
    areas: pd.DataFrame
    headings: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, object] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "base_rates": self.base_rates,
            "buyers": self.buyers,
            "suppliers": self.suppliers,
            "areas": self.areas,
        }


def _organisations(table: pd.DataFrame) -> pd.DataFrame:
    columns = ["id", "n_processes", "index", "lower", "upper", "high_risk", "main_flags"]
    return table[columns].dropna(subset=["index"]).reset_index(drop=True)


def screening_report(
    ws: Workspace, rules: Rules | None = None, *, lang: str = "en", level: str | None = None, by: str = "year"
) -> ScreeningReport:
    """Base rates and weights of every flag, buyers and suppliers by risk index, and risk by area."""
    result = workspace_flags(ws, rules)
    rates = weights(result)
    rates.insert(1, "name", [label(f, lang) for f in rates["flag"]])
    rates["definition"] = [label(f"definition:{f}", lang) for f in rates["flag"]]
    try:
        areas = area_risk(ws, result, level=level, by=by)
    except WorkspaceError:  # no areas in the workspace: the report has no map part
        areas = pd.DataFrame()
    return ScreeningReport(
        lang=lang,
        title=label("procurement.title", lang),
        caveat=label("procurement.caveat", lang),
        rule=f"{label('procurement.rule', lang)}  {RULE}",
        base_rates=rates,
        buyers=_organisations(risk_index(result, "buyer").table),
        suppliers=_organisations(risk_index(result, "supplier").table),
        areas=areas,
        headings={
            "base_rates": f"{label('procurement.flag', lang)} — {label('procurement.base_rate', lang)}",
            "buyers": f"{label('procurement.buyer', lang)} — {label('procurement.index', lang)}",
            "suppliers": f"{label('procurement.supplier', lang)} — {label('procurement.index', lang)}",
            "areas": label("procurement.area_risk", lang),
        },
        provenance=result.provenance,
    )
