"""End to end: the synthetic city's files go through the real import, and the rejects are exactly the messy rows."""

from __future__ import annotations

from pathlib import Path

from safercities.sim import SimulatedCity
from safercities.workspace import init

REASONS = {
    "unparseable_date": "bad_date",
    "future_date": "future_date",
    "missing_coordinates": "missing_coordinates",
    "swapped_lat_lon": "swapped_coordinates",
    "outside_city": "outside_areas",
    "missing_offence": "missing_offence",
    "duplicate_folio": "duplicate_id",
}


def test_import_accepts_the_valid_rows_and_rejects_each_defect(city: SimulatedCity, tmp_path: Path) -> None:
    workspace = city.truth["workspace"]
    ws = init(tmp_path / "ws", name="Ciudad", crs=workspace["crs"], lang="es", timezone=workspace["timezone"])
    with ws:
        areas = ws.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        assert areas.rejected == 0 and areas.accepted == 1 + 6 + 60
        result = ws.import_incidents(city.incidents, mapping=city.mapping)
    assert result.rows_read == city.truth["file"]["rows"]
    assert result.accepted == city.truth["file"]["valid_rows"]
    assert result.rejects_by_reason == {REASONS[kind]: count for kind, count in city.truth["messy"].items()}
