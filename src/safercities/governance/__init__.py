"""The urban safety governance assessment and the actors of crime prevention.

>>> from safercities.governance import load_questionnaire, score, gaps
>>> q = load_questionnaire()
>>> len(q.principles), len(q.capacities)
(8, 8)
"""

from safercities.governance.actors import (
    ActorRegistry,
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
from safercities.governance.assessment import (
    GovernanceScores,
    Questionnaire,
    answers_frame,
    blank_form,
    gaps,
    load_questionnaire,
    read_answers,
    score,
    write_form,
)

__all__ = [
    "ActorRegistry",
    "GovernanceScores",
    "Questionnaire",
    "actor_network",
    "answers_frame",
    "blank_form",
    "draw_network",
    "gaps",
    "isolated_actors",
    "load_actors",
    "load_questionnaire",
    "network_measures",
    "raci",
    "raci_matrix",
    "read_actors",
    "read_answers",
    "registry_from_records",
    "score",
    "write_form",
]
