"""The synthetic city's other sources, beyond the police file: indicator values, fieldwork records and safety
walks, a victimisation survey, a procurement history in OCDS and an intervention of known effect.

Each comes from its own module and its own random stream, so the city's crimes are the same with or without
them; :func:`simulate` writes the police side, :func:`add_sources` the rest (``safercities simulate`` and
``safercities demo`` call both).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safercities.sim import SimulatedCity


def add_sources(city: SimulatedCity, seed: int | None = None) -> dict[str, Any]:
    """Write every other source of the synthetic city into its folder; return their truths, by source.

    ``sources.json`` lists the files written, so that a demo or a test finds them."""
    from safercities.sim.fieldwork import simulate_fieldwork
    from safercities.sim.indicators import simulate_indicators
    from safercities.sim.interventions import plant_intervention
    from safercities.sim.procurement import simulate_procurement
    from safercities.sim.survey import simulate_survey

    seed = city.seed if seed is None else int(seed)
    truths: dict[str, Any] = {
        "indicators": simulate_indicators(city, seed),
        "fieldwork": simulate_fieldwork(city, seed),
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
