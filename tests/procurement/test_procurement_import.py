"""Importing OCDS into a workspace: the ledger (repeat, replace), rejects, warnings, and all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import safercities.workspace as sc
from safercities.errors import InputError
from safercities.procurement import store
from safercities.procurement.flags import compute_flags
from safercities.procurement.ocds import read_publication
from safercities.procurement.rules import load_rules


def _release(ocid: str, **tender: object) -> dict:
    return {"ocid": ocid, "id": f"{ocid}-1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"], "tender": tender}


def _package(path: Path, releases: list[dict]) -> Path:
    path.write_text(json.dumps({"releases": releases}), encoding="utf-8")
    return path


@pytest.fixture
def ws(tmp_path: Path):
    with sc.init(tmp_path / "ws", name="t", crs="EPSG:32614") as workspace:
        yield workspace


def test_repeat_replace_and_duplicate_ocid(ws, tmp_path: Path) -> None:
    first = _package(tmp_path / "a.json", [_release("A", procurementMethod="open"), _release("B")])
    result = store.import_ocds(ws, first)
    assert (result.accepted, result.rejected) == (2, 0)
    assert store.import_ocds(ws, first).already_imported
    again = store.import_ocds(ws, first, replace=True)
    assert again.accepted == 2 and ws.store.count("procurement_processes") == 2
    assert ws.store.count("procurement_tenders") == 2  # the children of the replaced import went with it
    other = _package(tmp_path / "b.json", [_release("B"), _release("C")])
    result = store.import_ocds(ws, other)
    assert (result.accepted, result.rejected) == (1, 1)
    assert result.rejects_by_reason == {"duplicate_ocid": 1}
    rejects = ws.rejects(result.import_id)
    assert rejects["reason"].str.contains("'B' is already in the workspace").all()


def test_warnings_name_the_missing_fields(ws, tmp_path: Path) -> None:
    path = _package(tmp_path / "thin.json", [_release("A", tenderPeriod={"startDate": "31/01/2024"})])
    warnings = " | ".join(store.import_ocds(ws, path).warnings)
    assert "short_submission unavailable" in warnings and "tender/tenderPeriod/startDate" in warnings
    assert "not ISO 8601" in warnings and "'31/01/2024'" in warnings
    assert "no procurement thresholds" in warnings
    assert "name no buyer" in warnings


def test_failed_child_write_leaves_no_import(ws, tmp_path: Path, monkeypatch) -> None:
    path = _package(tmp_path / "a.json", [_release("A")])
    real = ws.store.append

    def broken(table: str, rows):  # the disk fills up while the bids are written
        if table == "procurement_bids":
            raise OSError("disk full")
        return real(table, rows)

    monkeypatch.setattr(ws.store, "append", broken)
    with pytest.raises(OSError):
        store.import_ocds(ws, path)
    monkeypatch.undo()
    assert ws.store.count("procurement_processes") == 0 and ws.store.count("procurement_tenders") == 0
    assert store.import_ocds(ws, path).accepted == 1  # not taken for a repeat


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"releases": [{"id": "1"}]}', "has no text 'ocid'"),
        ("[1, 2", "not valid JSON"),
        ('{"records": [{"ocid": "x", "releases": [{"url": "u", "date": "2020"}]}]}', "neither embedded releases"),
        ('{"a": 1}', "not OCDS"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_publication(path)


def test_json_lines_and_records_with_linked_releases(tmp_path: Path) -> None:
    lines = tmp_path / "r.jsonl"
    lines.write_text("\n".join(json.dumps(_release(o, procurementMethod="open", numberOfTenderers=1)) for o in "AB"))
    frame, bids = store.read_frames(lines)
    assert list(frame["ocid"]) == ["A", "B"]
    assert compute_flags(frame, bids, load_rules()).processes["single_bidder"].tolist() == [1.0, 1.0]
    record = {
        "records": [
            {
                "ocid": "R",
                "releases": [{"url": "x", "date": "2024-01-01T00:00:00Z", "tag": ["tender"]}],
                "compiledRelease": {"ocid": "R", "date": "2024-02-01T00:00:00Z", "awards": [{"id": "1"}]},
            }
        ]
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    frame, _ = store.read_frames(path)
    assert frame.loc[0, "tender_published"].isoformat().startswith("2024-01-01")
