"""The synthetic city's governance files: the assessment recovers the planted levels, rejects and isolated actors."""

from __future__ import annotations

from pathlib import Path

import pytest

from safercities.governance import actor_network, isolated_actors, load_actors, network_measures, read_answers, score
from safercities.sim.governance import simulate_governance


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_planted_truth_is_recovered(tmp_path: Path, seed: int) -> None:
    truth = simulate_governance(outdir=tmp_path, seed=seed)
    read = read_answers(tmp_path / truth["files"]["answers"])
    assert read.rejects["reason_code"].value_counts().to_dict() == truth["rejects"]
    scores = score(read.answers)
    items = scores.items.set_index("item_id")["level"].astype(int).to_dict()
    assert items == truth["question_levels"]
    principles = scores.principles.set_index("principle")["level"].astype(int).to_dict()
    assert principles == truth["principle_levels"]
    graph = actor_network(load_actors(tmp_path / truth["files"]["actors"]))
    assert isolated_actors(graph) == truth["isolated_actors"]
    assert network_measures(graph).iloc[0]["actor_id"] == truth["broker"]


def test_the_same_seed_gives_the_same_files(tmp_path: Path) -> None:
    simulate_governance(outdir=tmp_path / "a", seed=4)
    simulate_governance(outdir=tmp_path / "b", seed=4)
    for name in ("governance_answers.csv", "actors.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
