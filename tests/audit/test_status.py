"""`audit_status` on the synthetic city in three stages: exactly what is missing, step by step."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditrunkit import AuditCity, audit_city
from safercities.audit.framework import load_framework
from safercities.audit.run import run_audit
from safercities.audit.run_labels import text
from safercities.audit.status import STATES, audit_status
from safercities.errors import InputError
from safercities.sim.indicators import FROM_OTHER_SOURCES
from safercities.workspace import open_workspace


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> AuditCity:
    return audit_city(tmp_path_factory)


@pytest.fixture(scope="module")
def stages(city: AuditCity, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("status")
    return {stage: city.workspace(folder / stage, stage) for stage in ("areas", "data", "fieldwork")}


def _city_level(city: AuditCity) -> set[str]:
    """The imported indicators that the simulation gives for the whole city only."""
    return {k for k, v in city.indicators["indicators"].items() if v["level"] == "city"} & set(load_framework().ids)


def test_with_boundaries_only_nothing_can_run(stages: dict[str, Path]) -> None:
    with open_workspace(stages["areas"], read_only=True) as ws:
        status = audit_status(ws, lang="en")
    states = {s.step: s.state for s in status.steps}
    fw = load_framework()
    # formulas over areas alone (density, say) may give a few values; nothing of the imported ones is there
    imported = {i.id for i in fw.indicators if i.imported}
    assert imported <= set(status.missing_indicators["indicator_id"])
    assert states[3] == states[4] == "blocked" and states[5] == "outside"
    assert text("need.fieldwork_or_walks", "en") in status.step(3).missing
    assert text("need.fieldwork", "en") in status.step(2).missing
    assert text("need.walks", "en") in status.step(2).missing
    assert status.counts["segments"] == 0 and status.counts["areas"] == 60


def test_with_indicators_status_lists_exactly_the_missing_data(stages: dict[str, Path], city: AuditCity) -> None:
    with open_workspace(stages["data"], read_only=True) as ws:
        status = audit_status(ws, lang="en")
    # missing: the city-level ones, and procurement risk (from the OCDS screening, not imported here)
    missing = status.missing_indicators.set_index("indicator_id")["status"]
    assert set(missing.index) == _city_level(city) | FROM_OTHER_SOURCES
    assert set(missing[list(_city_level(city))]) == {"other_level"}
    fw = load_framework()
    dims = {fw.indicator(i).dimension for i in _city_level(city) | FROM_OTHER_SOURCES}
    one = status.step(1)
    assert one.state == "partial" and len(one.missing) == len(dims)
    for dimension in dims:
        name = fw.dimension(dimension).name["en"]
        line = next(m for m in one.missing if name in m)
        part = [i for i in _city_level(city) | FROM_OTHER_SOURCES if fw.indicator(i).dimension == dimension]
        assert all(i in line for i in part) and f"no values for {len(part)} of its" in line
    assert status.step(2).state == "partial"
    assert list(status.step(2).missing) == [text("need.fieldwork", "en"), text("need.walks", "en")]
    assert status.step(3).state == "blocked"
    assert list(status.step(3).missing) == [text("need.fieldwork_or_walks", "en"), text("need.survey", "en")]
    assert list(status.step(4).missing) == [text("need.fieldwork_or_walks", "en")]


def test_with_fieldwork_only_the_survey_is_missing(stages: dict[str, Path], city: AuditCity) -> None:
    with open_workspace(stages["fieldwork"], read_only=True) as ws:
        status = audit_status(ws, lang="en")
    assert status.step(2).state == "ready" and status.step(2).missing == ()
    assert status.step(3).state == "partial" and list(status.step(3).missing) == [text("need.survey", "en")]
    assert status.step(4).state == "ready" and status.step(4).missing == ()
    assert status.counts["segments"] > 0 and status.counts["walk_observations"] > 0
    frame = status.to_frame()
    assert list(frame["step"]) == [1, 2, 3, 4, 5] and set(frame["state"]) <= set(STATES)
    assert status.missing()[0].startswith("1. ")


def test_with_a_survey_nothing_is_missing_beyond_step_one(city: AuditCity, tmp_path: Path) -> None:
    root = city.workspace(tmp_path / "ws", "survey")
    with open_workspace(root, read_only=True) as ws:
        status = audit_status(ws, lang="en")
    assert [s.state for s in status.steps] == ["partial", "ready", "ready", "ready", "outside"]
    assert status.counts["surveys"] == 1
    assert [line.split(".")[0] for line in status.missing()] == ["1", "1", "5"]


def test_after_an_audit_status_names_the_selected_communities_still_unvisited(
    stages: dict[str, Path], city: AuditCity, tmp_path: Path
) -> None:
    root = city.workspace(tmp_path / "ws", "fieldwork")
    with open_workspace(root, read_only=True) as ws:
        bundle = run_audit(ws, draws=20, replications=0)
        status = audit_status(ws, lang="es")
    selection = bundle.table("selection")
    selected = set(selection.loc[selection["selected"], "area_id"])
    pending = sorted(selected - set(city.fieldwork["communities"]))
    line = next(m for m in status.step(2).missing if "aún no tienen trabajo de campo" in m)
    assert line.startswith(f"{len(pending)} comunidades") and all(a in line for a in pending)


def test_a_selection_indicator_without_values_blocks_the_selection(stages: dict[str, Path]) -> None:
    with open_workspace(stages["data"], read_only=True) as ws:
        status = audit_status(ws, selection_indicator="women_elected_share", lang="fr")
        with pytest.raises(InputError, match="lang"):
            audit_status(ws, lang="de")
    assert status.step(2).state == "blocked"
    assert "women_elected_share" in status.step(2).missing[0] and "moins de trois" in status.step(2).missing[0]
