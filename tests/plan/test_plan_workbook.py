"""The plan workbook: round trip through a file a person edited, rejects named by sheet/row/column, the ledger."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from plankit import lattice_workspace, sample_plan, write_sample

from safercities.errors import InputError
from safercities.governance import raci
from safercities.governance.store import stored_actors
from safercities.plan import export_plan, import_plan, plan_changes, plan_history, stored_plan, write_template
from safercities.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = lattice_workspace(tmp_path / "city")
    yield workspace
    workspace.close()


def _rows(sheet: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, int]:
    """Column name -> column number (1-based) from the header."""
    return {cell.value: cell.column for cell in sheet[1] if cell.value}


def test_the_plan_round_trips_through_a_file_a_person_edited(ws: Workspace, tmp_path: Path) -> None:
    first = import_plan(ws, write_sample(ws, tmp_path / "plan.xlsx"))
    assert (first.accepted, first.rejected) == (3, 0), first.warnings
    before = stored_plan(ws)
    exported = export_plan(ws, tmp_path / "exported.xlsx")

    # a person opens the exported file in Excel and edits it
    book = openpyxl.load_workbook(exported)
    sheet = book["interventions"]
    col = _rows(sheet)
    assert sheet.cell(row=3, column=col["intervention_id"]).value == "I2"
    sheet.cell(row=3, column=col["status"]).value = "In progress"  # a status, typed as words
    sheet.cell(row=2, column=col["budget"]).value = "1.250.000,75"  # a decimal comma, thousands with dots
    new = {
        "intervention_id": "I4", "title_es": "Patrullaje a pie", "practice_id": "hot_spots_policing",
        "problems": "robbery", "areas": "K32", "responsible": "Municipal police", "accountable": "mayor_office",
        "budget": "45000,5", "currency": "mxn", "start_date": "01/07/2023", "end_date": dt.datetime(2024, 6, 30),
        "status": "planned",
    }  # fmt: skip  # horizon, consulted, informed, funding and notes left blank
    for name, value in new.items():
        sheet.cell(row=5, column=col[name]).value = value
    targets = book["targets"]
    tcol = _rows(targets)
    targets.cell(row=3, column=tcol["target_value"]).value = "25,5"
    recs = book["recommendations"]
    rcol = _rows(recs)
    recs.cell(row=4, column=rcol["status"]).value = "addressed"
    recs.cell(row=4, column=rcol["date_addressed"]).value = dt.date(2023, 8, 1)
    edited = tmp_path / "edited.xlsx"
    book.save(edited)

    second = import_plan(ws, edited)
    assert (second.accepted, second.rejected) == (4, 0), ws.rejects(second.import_id)
    after = stored_plan(ws)
    got = after.interventions.set_index("intervention_id")
    assert got.loc["I2", "status"] == "in_progress"
    assert got.loc["I1", "budget"] == 1_250_000.75
    assert got.loc["I4", "budget"] == 45_000.5
    assert got.loc["I4", "currency"] == "MXN"
    assert got.loc["I4", "responsible"] == "city_police"  # a name resolved to the registry's id
    assert got.loc["I4", "start_date"] == dt.date(2023, 7, 1)
    assert got.loc["I4", "horizon"] == "short"  # blank: set by the rule (2023-07-01 -> 2024-06-30)
    assert got.loc["I4", "title_es"] == "Patrullaje a pie"
    assert after.title("en")["I4"] == "Patrullaje a pie"  # no English title: the Spanish one
    assert after.targets.set_index("target_id").loc["T2", "target_value"] == 25.5
    rec = after.recommendations.set_index("recommendation_id").loc["R3"]
    assert (rec["status"], rec["date_addressed"]) == ("addressed", dt.date(2023, 8, 1))
    # everything not edited is as it was
    pd.testing.assert_frame_equal(
        after.interventions.loc[after.interventions["intervention_id"] == "I3"].drop(columns="source_row"),
        before.interventions.loc[before.interventions["intervention_id"] == "I3"].drop(columns="source_row"),
    )
    # every change is on record
    changes = json.loads(ws.imports().set_index("import_id").loc[second.import_id, "options"])["changes"]
    assert "interventions: added I4" in changes
    assert "interventions: I2 status: 'planned' -> 'in_progress'" in changes
    assert "targets: T2 target_value: '30' -> '25.5'" in changes
    assert len(plan_history(ws)) == 2

    # exporting and importing again changes nothing
    again = export_plan(ws, tmp_path / "again.xlsx")
    third = import_plan(ws, again)
    assert plan_changes(after, stored_plan(ws)) == []
    assert json.loads(ws.imports().set_index("import_id").loc[third.import_id, "options"])["changes"] == []
    assert import_plan(ws, again).already_imported


def test_bad_cells_are_rejected_naming_sheet_row_and_column(ws: Workspace, tmp_path: Path) -> None:
    path = write_sample(ws, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(path)
    sheet, col = book["interventions"], _rows(book["interventions"])
    sheet.cell(row=2, column=col["accountable"]).value = "Chief of police"  # not in the registry
    sheet.cell(row=3, column=col["status"]).value = "finished"
    sheet.cell(row=4, column=col["end_date"]).value = "31/12/2022"  # before its start
    targets, tcol = book["targets"], _rows(book["targets"])
    targets.cell(row=2, column=tcol["indicator_id"]).value = "robery_rate"
    targets.cell(row=3, column=tcol["target_value"]).value = "thirty"
    recs, rcol = book["recommendations"], _rows(book["recommendations"])
    recs.cell(row=2, column=rcol["date_addressed"]).value = None  # addressed, but no date
    recs.cell(row=5, column=rcol["intervention_ids"]).value = "I9"
    book.save(path)

    result = import_plan(ws, path)
    assert (result.accepted, result.rejected) == (0, 7)
    rejects = ws.rejects(result.import_id).set_index("column_name")
    expected = {
        "interventions.accountable": (2, "unknown_actor"),
        "interventions.status": (3, "unknown_status"),
        "interventions.end_date": (4, "end_before_start"),
        "targets.indicator_id": (2, "unknown_indicator"),
        "targets.target_value": (3, "not_a_number"),
        "recommendations.date_addressed": (2, "missing_value"),
        "recommendations.intervention_ids": (5, "unknown_intervention"),
    }
    assert {c: (int(r.row_number), r.reason_code) for c, r in rejects.iterrows()} == expected
    reason = rejects.loc["interventions.accountable", "reason"]
    assert reason.startswith("sheet 'interventions', row 2, column 'accountable': unknown actor 'Chief of police'")
    assert "did you mean" in rejects.loc["targets.indicator_id", "reason"]
    assert "robbery_rate" in rejects.loc["targets.indicator_id", "reason"]
    assert json.loads(rejects.loc["interventions.status", "raw"])["sheet"] == "interventions"
    plan = stored_plan(ws)  # the valid rows are the plan in force
    assert plan.interventions.empty and plan.targets.empty
    assert sorted(plan.recommendations["recommendation_id"]) == ["R2", "R3"]


def test_a_file_that_is_not_a_plan_is_refused_whole_and_the_store_is_unchanged(ws: Workspace, tmp_path: Path) -> None:
    path = write_sample(ws, tmp_path / "plan.xlsx")
    book = openpyxl.load_workbook(path)
    del book["targets"]
    book.save(tmp_path / "no_targets.xlsx")
    book = openpyxl.load_workbook(path)
    book["interventions"].delete_cols(_rows(book["interventions"])["accountable"])
    book.save(tmp_path / "no_accountable.xlsx")
    (tmp_path / "plan.csv").write_text("intervention_id\nI1\n", encoding="utf-8")
    imports, rejects = len(ws.imports()), ws.store.count("rejects")
    with pytest.raises(InputError, match="no sheet 'targets'"):
        import_plan(ws, tmp_path / "no_targets.xlsx")
    with pytest.raises(InputError, match="column 'accountable'"):
        import_plan(ws, tmp_path / "no_accountable.xlsx")
    with pytest.raises(InputError, match="Excel workbook"):
        import_plan(ws, tmp_path / "plan.csv")
    with pytest.raises(InputError, match="no plan yet"):
        stored_plan(ws)
    assert (len(ws.imports()), ws.store.count("rejects")) == (imports, rejects)
    assert ws.store.count("plan_interventions") == ws.store.count("plan_targets") == 0


def test_actors_named_in_a_workspace_without_a_registry_are_refused(tmp_path: Path) -> None:
    from plankit import build

    city = build(tmp_path / "bare")
    from safercities.workspace import open_workspace

    with open_workspace(city.root) as ws:
        plan_file = write_sample(ws, tmp_path / "plan.xlsx")
        with pytest.raises(InputError, match="no actors registry"):
            import_plan(ws, plan_file)


def test_raci_of_the_plan_and_an_unknown_actor(ws: Workspace, tmp_path: Path) -> None:
    import_plan(ws, write_sample(ws, tmp_path / "plan.xlsx"))
    plan = stored_plan(ws)
    registry = stored_actors(ws)
    long = raci(plan.raci_actions(), registry)
    assert set(long.loc[long["action_id"] == "I1", "actor_id"]) == {
        "city_police", "residents_network", "mayor_office", "schools_board", "daily_news"
    }  # fmt: skip
    actions = plan.raci_actions().copy()
    actions.loc[0, "consulted"] = "Ministry of Magic"
    with pytest.raises(InputError, match="unknown actor 'Ministry of Magic'"):
        raci(actions, registry)


def test_the_horizon_rule_fills_blanks_and_a_disagreeing_horizon_is_kept_with_a_warning(
    ws: Workspace, tmp_path: Path
) -> None:
    plan = sample_plan()
    plan.interventions.loc[0, "horizon"] = "long"  # I1 lasts under a year
    result = import_plan(ws, write_sample(ws, tmp_path / "plan.xlsx", plan))
    got = stored_plan(ws).interventions.set_index("intervention_id")["horizon"].to_dict()
    assert got == {"I1": "long", "I2": "medium", "I3": "long"}
    assert any("row 2, column 'horizon'" in w and "'short'" in w for w in result.warnings)


def test_the_template_has_a_readme_and_drop_down_lists(ws: Workspace, tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx", ws, lang="es")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["README", "interventions", "targets", "recommendations", "lists"]
    assert "Plan de prevención" in book["README"]["A1"].value
    rules = {
        str(v.sqref): (v.formula1, v.showErrorMessage) for v in book["interventions"].data_validations.dataValidation
    }
    col = {c.value: c.column_letter for c in book["interventions"][1]}
    assert rules[f"{col['status']}2:{col['status']}501"] == ("lists!$A$2:$A$5", True)
    assert rules[f"{col['horizon']}2:{col['horizon']}501"][1] is True
    assert rules[f"{col['responsible']}2:{col['responsible']}501"][1] is False  # several actors allowed
    lists = pd.DataFrame(book["lists"].values)
    lists.columns = lists.iloc[0]
    assert set(lists["actors"].dropna().iloc[1:]) == set(stored_actors(ws).ids)
    assert "K21" in set(lists["areas"].dropna())
    empty = import_plan(ws, path)  # an empty template imports as an empty plan
    assert (empty.accepted, empty.rejected) == (0, 0)
    bare = write_template(tmp_path / "bare.xlsx")  # no workspace: no actors listed
    assert openpyxl.load_workbook(bare)["lists"]["D2"].value is None
