"""Answers and actors in a workspace: the import ledger, rejects kept, "latest wins", nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import safercities.workspace as sc
from safercities.errors import InputError
from safercities.governance import score
from safercities.governance.store import import_actors, import_answers, stored_actors, stored_answers

HERE = Path(__file__).parent


@pytest.fixture
def ws(tmp_path: Path):
    with sc.init(tmp_path / "city", name="Ciudad", crs="EPSG:32614") as workspace:
        yield workspace


def test_answers_are_stored_with_their_rejects_and_scored_as_read(ws) -> None:
    result = import_answers(ws, HERE / "hand_scored_answers.csv")
    assert (result.accepted, result.rejected) == (21, 4)
    assert set(ws.rejects(result.import_id)["reason_code"]) == {
        "unknown_item", "invalid_level", "missing_value", "duplicate_answer"
    }  # fmt: skip
    answers = stored_answers(ws)
    principles = score(answers).principles.set_index("principle")["level"]
    assert principles["government_leadership"] == 1 and principles["differentiation"] == 1
    assert import_answers(ws, HERE / "hand_scored_answers.csv").already_imported


def test_a_later_answer_replaces_the_earlier_one(ws, tmp_path: Path) -> None:
    import_answers(ws, HERE / "hand_scored_answers.csv")
    later = tmp_path / "round2.csv"
    later.write_text("institution,item_id,level,evidence\nMunicipality,GL3,4,Multi-year budget adopted\n", "utf-8")
    import_answers(ws, later)
    answers = stored_answers(ws).set_index(["institution", "item_id"])
    assert answers.loc[("Municipality", "GL3"), "level"] == 4
    assert len(answers) == 21
    assert (ws.store.read("audit_log")["target"] == "governance_answers").sum() == 2


def test_an_empty_workspace_says_what_to_do(ws) -> None:
    with pytest.raises(InputError, match="governance form"):
        stored_answers(ws)
    with pytest.raises(InputError, match="actors import"):
        stored_actors(ws)


def test_actors_round_trip_through_the_store(ws, tmp_path: Path) -> None:
    result = import_actors(ws, HERE / "actors_example.yaml")
    assert (result.accepted, result.rejected) == (8, 0)
    registry = stored_actors(ws)
    assert sorted(registry.ids) == sorted(yaml.safe_load((HERE / "actors_example.yaml").read_text())["actors"][i]["id"]
                                          for i in range(8))  # fmt: skip
    assert len(registry.relations) == 8
    # a CSV update: one actor renamed, a relation to an actor stored by the first import, one bad relation
    actors = tmp_path / "a.csv"
    actors.write_text("actor_id,name,sector,level\ndaily_news,Daily News Online,media,local\n", "utf-8")
    links = tmp_path / "r.csv"
    links.write_text(
        "source,target,kind\ndaily_news,prevention_unit,coordination\ndaily_news,nobody,funding\n", "utf-8"
    )
    second = import_actors(ws, actors, relations=links)
    assert (second.accepted, second.rejected) == (1, 1)
    assert ws.rejects(second.import_id)["column_name"].tolist() == ["relations.target"]
    registry = stored_actors(ws)
    assert registry.actors.set_index("actor_id").loc["daily_news", "name"] == "Daily News Online"
    assert len(registry.relations) == 9
