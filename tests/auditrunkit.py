"""The synthetic city for the audit-run tests: its files drawn once, and workspaces built from them in stages.

Stages: ``areas`` (boundaries only), ``data`` (+ incidents and the indicator values of ``sim.indicators``),
``fieldwork`` (+ the focus groups, interviews and safety walks of ``sim.fieldwork``, consistent with the truth)
and ``survey`` (+ the victimisation survey of ``sim.survey``).
Each workspace is built by importing the files, so that tests on any backend get their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safercities.audit import fieldwork as fw
from safercities.audit import walks as wk
from safercities.audit.indicators import import_indicators
from safercities.sim import SimulatedCity, simulate
from safercities.sim.fieldwork import simulate_fieldwork
from safercities.sim.indicators import simulate_indicators
from safercities.sim.survey import simulate_survey
from safercities.survey.importing import import_survey
from safercities.workspace import init

STAGES = ("areas", "data", "fieldwork", "survey")


@dataclass(frozen=True)
class AuditCity:
    city: SimulatedCity
    indicators: dict[str, Any]
    fieldwork: dict[str, Any]

    def file(self, name: str) -> Path:
        return self.city.outdir / name

    def workspace(self, root: Path, stage: str = "fieldwork", lang: str = "es") -> Path:
        """A new workspace at ``root`` holding the city's data up to ``stage``."""
        assert stage in STAGES
        city = self.city
        with init(root, name="Ciudad Demo", crs=city.crs, timezone=city.timezone, lang=lang) as ws:
            ws.import_areas(
                city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
            )
            if stage != "areas":
                ws.import_incidents(city.incidents, mapping=city.mapping)
                import_indicators(ws, self.file(self.indicators["file"]))
            if stage in ("fieldwork", "survey"):
                fw.import_fieldwork(ws, self.file(self.fieldwork["files"]["fieldwork"]))
                wk.import_walks(ws, self.file(self.fieldwork["files"]["walks"]))
            if stage == "survey":
                survey = simulate_survey(city, seed=city.seed)
                import_survey(ws, survey.export, survey.design)
        return root


_BUILT: dict[int, AuditCity] = {}


def audit_city(folder_factory: Any, seed: int = 0) -> AuditCity:
    """The city's files, drawn once per seed for the test session."""
    if seed not in _BUILT:
        city = simulate(folder_factory.mktemp(f"audit-city-{seed}"), seed=seed)
        _BUILT[seed] = AuditCity(city, simulate_indicators(city), simulate_fieldwork(city, seed=seed))
    return _BUILT[seed]
