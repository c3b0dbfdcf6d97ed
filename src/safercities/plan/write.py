"""Writing the plan workbook that officials edit: a README sheet, the three plan sheets with drop-down lists, and a
'lists' sheet holding the allowed values (statuses, horizons, actors, practices, indicators, areas, problems).

Single-valued cells (status, horizon, accountable, practice, indicator, scope) refuse a value off the list; cells
that may hold several values separated by ';' (responsible, consulted, informed, problems, areas) offer the list as
a drop-down but accept any text, since the import checks each value and names the cell of any it cannot use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities.errors import check_choice
from safercities.plan.labels import LANGUAGES, label
from safercities.plan.model import (
    CITY,
    CUSTOM,
    DATE_COLUMNS,
    HORIZONS,
    INTERVENTION_STATUSES,
    NUMBER_COLUMNS,
    RECOMMENDATION_STATUSES,
    REQUIRED,
    SHEETS,
    Plan,
    empty_plan,
)
from safercities.plan.read import PlanContext

VALIDATED_ROWS = 500
"""Rows below the header that carry the drop-down lists."""
LISTS = "lists"

# sheet -> column -> (list name, strict)
_VALIDATION: dict[str, dict[str, tuple[str, bool]]] = {
    "interventions": {
        "practice_id": ("practices", True),
        "problems": ("problems", False),
        "areas": ("areas", False),
        "responsible": ("actors", False),
        "accountable": ("actors", True),
        "consulted": ("actors", False),
        "informed": ("actors", False),
        "horizon": ("horizons", True),
        "status": ("intervention_statuses", True),
    },
    "targets": {"indicator_id": ("indicators", True), "scope": ("areas", True)},
    "recommendations": {"responsible": ("actors", False), "status": ("recommendation_statuses", True)},
}


def _lists(context: PlanContext | None) -> dict[str, list[str]]:
    actors = context.actors.ids if context is not None and context.actors is not None else []
    return {
        "intervention_statuses": list(INTERVENTION_STATUSES),
        "horizons": list(HORIZONS),
        "recommendation_statuses": list(RECOMMENDATION_STATUSES),
        "actors": actors,
        "practices": [CUSTOM, *(context.practices if context else ())],
        "indicators": list(context.indicators if context else ()),
        "areas": [CITY, *((context.areas or ()) if context else ())],
        "problems": list(context.problems if context else ()),
    }


def _cell(value: Any) -> Any:
    """A stored value as an Excel cell: dates as dates, NaN as empty."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, np.floating | np.integer):
        return value.item()
    return value


def _readme(sheet: Any, lang: str) -> None:
    from openpyxl.styles import Font

    sheet.append([label("readme.title", lang)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([label("readme.intro", lang)])
    for rule in ("rule.horizon", "rule.status", "rule.recommendations"):
        sheet.append([label(rule, lang)])
    sheet.append([])
    sheet.append([label(k, lang) for k in ("readme.sheet", "readme.column", "readme.required", "readme.meaning")])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for name, columns in SHEETS.items():
        for column in columns:
            required = label("readme.yes" if column in REQUIRED[name] else "readme.no", lang)
            sheet.append([name, column, required, label(f"column.{column}", lang)])
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["D"].width = 90


def _validations(sheet: Any, name: str, lists: dict[str, list[str]], ranges: dict[str, str]) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    columns = list(SHEETS[name])
    for column, (list_name, strict) in _VALIDATION[name].items():
        if not lists[list_name]:
            continue
        letter = get_column_letter(columns.index(column) + 1)
        rule = DataValidation(
            type="list", formula1=ranges[list_name], allow_blank=True, showErrorMessage=strict, showDropDown=False
        )
        rule.error = f"{column}: choose a value of the list (sheet '{LISTS}')"
        rule.prompt = f"{column}: see sheet '{LISTS}'" + ("" if strict else "; several values separated by ';'")
        rule.showInputMessage = True
        sheet.add_data_validation(rule)
        rule.add(f"{letter}2:{letter}{VALIDATED_ROWS + 1}")
    for column in DATE_COLUMNS:
        if column in columns:
            letter = get_column_letter(columns.index(column) + 1)
            for row in range(2, VALIDATED_ROWS + 2):
                sheet[f"{letter}{row}"].number_format = "yyyy-mm-dd"


def write_workbook(
    path: Path | str, plan: Plan | None = None, context: PlanContext | None = None, lang: str = "en"
) -> Path:
    """Write ``plan`` (or an empty template) as an Excel workbook that :func:`read_plan` reads back."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    check_choice("lang", lang, LANGUAGES, "write_workbook")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plan = plan or empty_plan()
    book = Workbook()
    readme = book.active
    readme.title = "README"
    _readme(readme, lang)
    lists = _lists(context)
    store = book.create_sheet(LISTS)
    ranges = {}
    for i, (list_name, values) in enumerate(lists.items(), start=1):
        letter = get_column_letter(i)
        store.cell(row=1, column=i, value=list_name).font = Font(bold=True)
        for j, value in enumerate(values, start=2):
            store.cell(row=j, column=i, value=value)
        ranges[list_name] = f"{LISTS}!${letter}$2:${letter}${max(2, len(values) + 1)}"
    for name, columns in SHEETS.items():
        sheet = book.create_sheet(name, index=book.sheetnames.index(LISTS))
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        frame = getattr(plan, name)
        for record in frame[list(columns)].itertuples(index=False):
            sheet.append([_cell(v) for v in record])
        for i, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(column) + 4))
            if column in NUMBER_COLUMNS:
                for row in range(2, sheet.max_row + 1):
                    sheet.cell(row=row, column=i).number_format = "#,##0.00" if column == "budget" else "0.00"
        sheet.freeze_panes = "B2"
        _validations(sheet, name, lists, ranges)
    book.properties.title = "safercities plan"
    book.save(path)
    return path
