"""The synthetic city's governance assessment and actors registry, with what the assessment must find.

Every question gets a planted true level per principle; three institutions answer it — two with the true level,
one a level above or below (an optimist or a pessimist) — so that the lower median of the three is the true level
by construction and each principle's level is ⌊mean of its true levels⌋. A few rows are broken on purpose (an
unknown question, a level 7, a row without institution). The registry has a crime-prevention unit as broker and a
media outlet and a university with no relation (the isolated actors to find).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from safercities.errors import InputError
from safercities.governance.assessment import load_questionnaire
from safercities.sim import SimulatedCity

FILES = {"answers": "governance_answers.csv", "actors": "actors.yaml"}
INSTITUTIONS = ("Municipality", "Municipal police", "Civil society forum")
TRUE_LEVELS = {
    "government_leadership": 3,
    "socioeconomic_development": 2,
    "cooperation_partnerships": 3,
    "sustainability_accountability": 1,
    "knowledge_base": 2,
    "human_rights_lawfulness": 1,
    "interdependency": 2,
    "differentiation": 0,
}
"""The planted maturity of each question of a principle (all its questions share it)."""

ACTORS: list[dict[str, str]] = [
    {"id": "mayor", "name": "Mayor's office", "sector": "local_government", "level": "local"},
    {"id": "prevention", "name": "Crime prevention unit", "sector": "local_government", "level": "local",
     "mandate": "Focal point of the prevention strategy; chairs the security council"},
    {"id": "police", "name": "Municipal police", "sector": "police", "level": "local"},
    {"id": "prosecutor", "name": "State prosecutor", "sector": "prosecutors", "level": "regional"},
    {"id": "social", "name": "Family and social services", "sector": "social_services", "level": "local"},
    {"id": "schools", "name": "Schools board", "sector": "education", "level": "local"},
    {"id": "health", "name": "Hospital emergency department", "sector": "health", "level": "regional"},
    {"id": "ministry", "name": "Ministry of security", "sector": "national_government", "level": "national"},
    {"id": "forum", "name": "Civil society forum", "sector": "community_groups", "level": "local"},
    {"id": "radio", "name": "Community radio", "sector": "media", "level": "local"},
    {"id": "university", "name": "State university", "sector": "academia", "level": "regional"},
]  # fmt: skip
RELATIONS = [
    ("prevention", "police", "coordination"),
    ("prevention", "prosecutor", "coordination"),
    ("prevention", "social", "coordination"),
    ("prevention", "schools", "coordination"),
    ("prevention", "forum", "coordination"),
    ("ministry", "mayor", "funding"),
    ("mayor", "prevention", "funding"),
    ("police", "prevention", "data_sharing"),
    ("health", "prevention", "data_sharing"),
]


def simulate_governance(
    city: SimulatedCity | None = None, seed: int = 0, *, outdir: Path | None = None
) -> dict[str, Any]:
    """Write the answers (CSV) and the registry (YAML) next to the city's files; return the truth to recover.

    The assessment is about the city's institutions, not its crimes: it draws from its own generator (``seed``
    and a fixed stream key) and needs the city only for where to write (``outdir`` overrides it).
    """
    if city is None and outdir is None:
        raise InputError("simulate_governance needs the simulated city or an output folder")
    folder = Path(outdir or city.outdir)  # type: ignore[union-attr]
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([int(seed), 0x60F])
    items = load_questionnaire().items[["id", "principle"]]
    true = items["principle"].map(TRUE_LEVELS).to_numpy(int)
    n = len(items)
    odd = rng.integers(0, len(INSTITUTIONS), n)  # which institution departs from the truth on each question
    step = np.where(rng.uniform(size=n) < 0.5, -1, 1)
    rows = []
    for k, institution in enumerate(INSTITUTIONS):
        level = np.where(odd == k, np.clip(true + step, 0, 4), true)
        rows.append(
            pd.DataFrame(
                {
                    "institution": institution,
                    "item_id": items["id"],
                    "level": level.astype(str),
                    "evidence": [f"{institution}: document {i + 1}" if v >= 2 else "" for i, v in enumerate(level)],
                }
            )
        )
    answers = pd.concat(rows, ignore_index=True)
    broken = pd.DataFrame(
        [
            {"institution": "Municipality", "item_id": "ZZ9", "level": "2", "evidence": ""},
            {"institution": "Municipal police", "item_id": "GL1", "level": "7", "evidence": ""},
            {"institution": "", "item_id": "KB1", "level": "1", "evidence": ""},
        ]
    )
    at = np.sort(rng.choice(len(answers), size=len(broken), replace=False))
    parts, start = [], 0
    for position, (_, bad) in zip(at, broken.iterrows(), strict=True):
        parts += [answers.iloc[start:position], bad.to_frame().T]
        start = position
    answers = pd.concat([*parts, answers.iloc[start:]], ignore_index=True)
    answers.to_csv(folder / FILES["answers"], index=False, encoding="utf-8", lineterminator="\n")
    registry = {
        "actors": ACTORS,
        "relations": [{"source": s, "target": t, "kind": k} for s, t, k in RELATIONS],
    }
    (folder / FILES["actors"]).write_text(yaml.safe_dump(registry, allow_unicode=True, sort_keys=False), "utf-8")
    counts = items.groupby("principle").size()
    return {
        "seed": int(seed),
        "files": dict(FILES),
        "institutions": list(INSTITUTIONS),
        "question_levels": dict(zip(items["id"], true.tolist(), strict=True)),
        "principle_levels": {p: TRUE_LEVELS[p] for p in counts.index},  # ⌊mean⌋ of equal question levels
        "rejects": {"unknown_item": 1, "invalid_level": 1, "missing_value": 1},
        "isolated_actors": ["radio", "university"],
        "broker": "prevention",
        "notes": [
            "On every question two institutions give the true level and one departs by one level, so the lower "
            "median of the three is the true level.",
        ],
    }
