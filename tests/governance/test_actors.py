"""The actors registry: reading and validating it, its network (checked by hand), and the RACI of plan actions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from safercities.errors import InputError
from safercities.governance import (
    actor_network,
    draw_network,
    isolated_actors,
    load_actors,
    network_measures,
    raci,
    raci_matrix,
    read_actors,
    registry_from_records,
)

EXAMPLE = Path(__file__).parent / "actors_example.yaml"


@pytest.fixture(scope="module")
def registry():
    return load_actors(EXAMPLE)


def test_the_yaml_registry_is_read_with_names_resolved_to_ids(registry) -> None:
    assert len(registry) == 8
    assert ("schools_board", "prevention_unit", "data_sharing") in set(
        registry.relations[["source", "target", "kind"]].itertuples(index=False, name=None)
    )
    assert registry.actors.set_index("actor_id").loc["schools_board", "mandate"] == ""
    labelled = registry.labelled("es").set_index("actor_id")
    assert labelled.loc["state_prosecutor", "sector_label"] == "Fiscalía"


def test_network_measures_by_hand(registry) -> None:
    # prevention_unit is linked to police, schools, residents, prosecutor and the mayor's office: 5 of 7 others;
    # every path between its partners and the ministry's branch goes through it or the mayor's office.
    graph = actor_network(registry)
    assert graph.number_of_edges() == 8
    measures = network_measures(graph).set_index("actor_id")
    assert measures.loc["prevention_unit", "partners"] == 5
    assert measures.loc["prevention_unit", "degree_centrality"] == pytest.approx(5 / 7)
    # betweenness of the mayor's office: it sits on the 5 shortest paths from the ministry to the unit's
    # five other partners... (ministry-unit and ministry-{police, schools, residents, prosecutor}) = 5 pairs,
    # normalised by (n-1)(n-2)/2 = 21 over the 8 nodes
    assert measures.loc["mayor_office", "betweenness"] == pytest.approx(5 / 21)
    # the unit lies on every path between its four leaf partners (6 pairs), between them and the mayor's office (4)
    # and between them and the ministry (4): 14 pairs
    assert measures.loc["prevention_unit", "betweenness"] == pytest.approx(14 / 21)
    assert (
        measures.loc["city_police", "coordination_links"] == 1
        and measures.loc["city_police", "data_sharing_links"] == 1
    )
    assert isolated_actors(graph) == ["daily_news"]
    assert measures.loc["daily_news", "isolated"] and measures["isolated"].sum() == 1


def test_the_network_is_drawn_as_a_png(registry, tmp_path: Path) -> None:
    path = draw_network(actor_network(registry), tmp_path / "actors.png", lang="fr")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000


def test_bad_rows_are_rejected_with_their_reasons(tmp_path: Path) -> None:
    actors = tmp_path / "actors.csv"
    actors.write_text(
        "actor_id,name,sector,level,mandate\n"
        "police,Police,police,local,Patrol\n"
        "police,Police again,police,local,\n"
        "dif,Family services,social services,local,\n"
        "judge,,courts,regional,\n"
        "bank,Bank,private_sector,galactic,\n"
        "ngo,NGO,community_groups,LOCAL,\n",
        encoding="utf-8",
    )
    links = tmp_path / "relations.csv"
    links.write_text(
        "source,target,kind\npolice,ngo,coordination\npolice,ghost,funding\nngo,police,gossip\nngo,ngo,coordination\n"
        "police,ngo,coordination\n",
        encoding="utf-8",
    )
    read = read_actors(actors, links)
    assert read.registry.ids == ["police", "ngo"]  # level compared without case
    reasons = read.rejects.set_index(["column_name", "row_number"])["reason_code"]
    assert reasons[("actor_id", 3)] == "duplicate_id"
    assert reasons[("sector", 4)] == "unknown_sector"
    assert reasons[("name", 5)] == "missing_value"
    assert reasons[("level", 6)] == "unknown_level"
    assert reasons[("relations.target", 3)] == "unknown_actor"
    assert reasons[("relations.kind", 4)] == "unknown_kind"
    assert reasons[("relations.target", 5)] == "self_relation"
    assert reasons[("relations.kind", 6)] == "duplicate_relation"
    with pytest.raises(InputError) as error:
        load_actors(actors, links)
    assert "actors.csv, row 3" in str(error.value) and "7 more rows are invalid" in str(error.value)


def test_an_excel_registry_with_two_sheets(registry, tmp_path: Path) -> None:
    path = tmp_path / "registry.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        registry.actors.drop(columns="row_number").to_excel(writer, sheet_name="actors", index=False)
        registry.relations.drop(columns="row_number").to_excel(writer, sheet_name="relations", index=False)
    again = load_actors(path)
    assert again.ids == registry.ids and len(again.relations) == len(registry.relations)


def test_raci_names_actors_from_the_registry(registry) -> None:
    actions = pd.DataFrame(
        {
            "action_id": ["A1", "A2"],
            "responsible": ["prevention_unit; Municipal police", ["schools_board"]],
            "accountable": ["mayor_office", "Mayor's office"],
            "consulted": ["residents_network", None],
            "informed": ["", "interior_ministry, daily_news"],
        }
    )
    long = raci(actions, registry)
    assert len(long) == 8
    assert long.loc[(long["action_id"] == "A1") & (long["role"] == "responsible"), "actor_id"].tolist() == [
        "prevention_unit",
        "city_police",
    ]
    matrix = raci_matrix(long)
    assert matrix.loc["A1", "mayor_office"] == "A" and matrix.loc["A2", "daily_news"] == "I"
    assert matrix.loc["A1", "residents_network"] == "C" and matrix.loc["A2", "residents_network"] == ""


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ({"responsible": "prevention_unt", "accountable": "mayor_office"}, "did you mean 'prevention_unit'"),
        (
            {"responsible": "city_police", "accountable": "mayor_office", "informed": "the pope"},
            "unknown actor 'the pope'",
        ),
        ({"responsible": "", "accountable": "mayor_office"}, "names no responsible actor"),
        ({"responsible": "city_police", "accountable": "mayor_office; prevention_unit"}, "exactly one accountable"),
    ],
)
def test_raci_errors_name_the_action_the_role_and_the_actor(registry, action: dict, words: str) -> None:
    with pytest.raises(InputError, match=words) as error:
        raci([{"action_id": "A7", **action}], registry)
    assert "A7" in str(error.value)


def test_a_registry_built_in_python_is_checked_as_a_file_is() -> None:
    built = registry_from_records(
        [
            {"id": "a", "name": "A", "sector": "police", "level": "local"},
            {"id": "b", "name": "B", "sector": "media", "level": "national"},
        ],
        [{"source": "a", "target": "B", "kind": "coordination"}],
    )
    assert built.relations["target"].tolist() == ["b"]
    with pytest.raises(InputError, match="sector 'army'"):
        registry_from_records([{"id": "a", "name": "A", "sector": "army", "level": "local"}])
