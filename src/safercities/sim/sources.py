"""The synthetic city's other sources, beyond the police file: indicator values, fieldwork records and safety
walks, a governance assessment and actors registry, a crime-prevention plan, a victimisation survey, a
procurement history in OCDS and an intervention of known effect.

Each comes from its own module and its own random stream, so the city's crimes are the same with or without
them; :func:`simulate` writes the police side, :func:`add_sources` the rest (``safercities simulate`` and
``safercities demo`` call both).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from safercities.sim import SimulatedCity
from safercities.workspace import ImportResult, Workspace


def add_sources(city: SimulatedCity, seed: int | None = None) -> dict[str, Any]:
    """Write every other source of the synthetic city into its folder; return their truths, by source.

    ``sources.json`` lists the files written, so that a demo or a test finds them."""
    from safercities.sim.fieldwork import simulate_fieldwork
    from safercities.sim.governance import simulate_governance
    from safercities.sim.indicators import simulate_indicators
    from safercities.sim.interventions import plant_intervention
    from safercities.sim.plan import simulate_plan
    from safercities.sim.procurement import simulate_procurement
    from safercities.sim.survey import simulate_survey

    seed = city.seed if seed is None else int(seed)
    fieldwork = simulate_fieldwork(city, seed)
    truths: dict[str, Any] = {
        "indicators": simulate_indicators(city, seed),
        "fieldwork": fieldwork,
        "governance": simulate_governance(city, seed),
        "plan": simulate_plan(city, seed, fieldwork=fieldwork),
        "survey": _plain(simulate_survey(city, seed)),
        "procurement": simulate_procurement(city, seed),
        "intervention": plant_intervention(city, seed),
    }
    files = sorted(str(p.relative_to(city.outdir)) for p in Path(city.outdir).rglob("*") if p.is_file())
    (Path(city.outdir) / "sources.json").write_text(json.dumps({"seed": seed, "files": files}, indent=1) + "\n")
    return truths


def _plain(result: Any) -> Any:
    """A simulation result as something JSON can hold (its truth where it has one)."""
    return getattr(result, "truth", result)


def import_sources(ws: Workspace, source: Path) -> list[ImportResult]:
    """Import the sources :func:`add_sources` wrote in ``source``, as a team would import theirs (the procurement
    thresholds become the workspace's own ``procurement.toml``)."""
    from safercities.audit.fieldwork import import_fieldwork
    from safercities.audit.indicators import import_indicators
    from safercities.audit.walks import import_walks
    from safercities.governance.store import import_actors, import_answers
    from safercities.plan.store import import_plan
    from safercities.procurement.rules import load_rules
    from safercities.procurement.store import import_buyer_areas, import_ocds
    from safercities.survey.importing import import_survey

    rules = load_rules(source / "procurement" / "rules.toml")
    shutil.copyfile(source / "procurement" / "rules.toml", ws.root / "procurement.toml")  # the city's thresholds
    return [
        import_indicators(ws, source / "indicators.csv"),
        import_fieldwork(ws, source / "fieldwork.csv"),
        import_walks(ws, source / "walks.csv"),
        import_answers(ws, source / "governance_answers.csv"),
        import_actors(ws, source / "actors.yaml"),
        import_actors(ws, source / "plan_actors.yaml"),
        import_plan(ws, source / "plan.xlsx"),
        import_survey(ws, source / "survey.csv", source / "survey_design.toml"),
        *[import_ocds(ws, path, rules=rules) for path in sorted((source / "procurement").glob("releases-*.json"))],
        import_buyer_areas(ws, source / "procurement" / "buyer_areas.csv"),
        _procurement_indicator(ws, source / "procurement" / "procurement_risk.csv"),
    ]


def _procurement_indicator(ws: Workspace, path: Path) -> ImportResult:
    """The procurement screening fed into the audit's governance dimension, as a team would do it
    (`safercities procurement indicator --out F` then `safercities import indicators F`)."""
    from safercities.audit.indicators import import_indicators
    from safercities.procurement.place import governance_indicator

    governance_indicator(ws).to_csv(path, index=False)
    return import_indicators(ws, path, layout="long")
