"""Words of the governance assessment, the actors registry and the practice library in English, Spanish, French.

One dict, key -> {"en", "es", "fr"}, the same shape as :mod:`safercities.report.labels`, so that both convert
mechanically to gettext catalogs. The questionnaire's own texts (principles, capacities, questions, the maturity
scale) live in ``questionnaire.yaml``; the practices' texts in their YAML files.
"""

from __future__ import annotations

from safercities.errors import check_choice

LANGUAGES = ("en", "es", "fr")

LABELS: dict[str, dict[str, str]] = {
    # sectors of the actors (UNODC note on safer cities, para. 12)
    "sector.local_government": {"en": "Local government", "es": "Gobierno local", "fr": "Collectivité locale"},
    "sector.national_government": {
        "en": "National government",
        "es": "Gobierno nacional",
        "fr": "Gouvernement national",
    },
    "sector.international": {
        "en": "International organisation",
        "es": "Organismo internacional",
        "fr": "Organisation internationale",
    },
    "sector.police": {"en": "Police", "es": "Policía", "fr": "Police"},
    "sector.courts": {"en": "Courts", "es": "Tribunales", "fr": "Tribunaux"},
    "sector.prosecutors": {"en": "Public prosecutors", "es": "Fiscalía", "fr": "Ministère public"},
    "sector.probation": {
        "en": "Probation services",
        "es": "Servicios de libertad vigilada",
        "fr": "Services de probation",
    },
    "sector.prisons": {"en": "Prison services", "es": "Sistema penitenciario", "fr": "Administration pénitentiaire"},
    "sector.social_services": {"en": "Social services", "es": "Servicios sociales", "fr": "Services sociaux"},
    "sector.education": {"en": "Education", "es": "Educación", "fr": "Éducation"},
    "sector.housing": {"en": "Housing", "es": "Vivienda", "fr": "Logement"},
    "sector.health": {"en": "Health", "es": "Salud", "fr": "Santé"},
    "sector.urban_planning": {"en": "Urban planning", "es": "Planeación urbana", "fr": "Urbanisme"},
    "sector.transport": {"en": "Public transport", "es": "Transporte público", "fr": "Transports publics"},
    "sector.academia": {
        "en": "Academia and research",
        "es": "Academia e investigación",
        "fr": "Université et recherche",
    },
    "sector.community_groups": {
        "en": "Community groups",
        "es": "Organizaciones comunitarias",
        "fr": "Associations de quartier",
    },
    "sector.victim_organisations": {
        "en": "Victims' organisations",
        "es": "Organizaciones de víctimas",
        "fr": "Associations de victimes",
    },
    "sector.private_sector": {"en": "Private sector", "es": "Sector privado", "fr": "Secteur privé"},
    "sector.media": {"en": "Media", "es": "Medios de comunicación", "fr": "Médias"},
    # levels of government
    "level.international": {"en": "International", "es": "Internacional", "fr": "International"},
    "level.national": {"en": "National", "es": "Nacional", "fr": "National"},
    "level.regional": {"en": "Regional", "es": "Regional", "fr": "Régional"},
    "level.local": {"en": "Local", "es": "Local", "fr": "Local"},
    # relations
    "relation.coordination": {"en": "Coordination", "es": "Coordinación", "fr": "Coordination"},
    "relation.funding": {"en": "Funding", "es": "Financiamiento", "fr": "Financement"},
    "relation.data_sharing": {
        "en": "Data sharing",
        "es": "Intercambio de datos",
        "fr": "Partage de données",
    },
    # RACI
    "raci.responsible": {"en": "Responsible", "es": "Responsable", "fr": "Réalisateur"},
    "raci.accountable": {"en": "Accountable", "es": "Encargado de rendir cuentas", "fr": "Approbateur"},
    "raci.consulted": {"en": "Consulted", "es": "Consultado", "fr": "Consulté"},
    "raci.informed": {"en": "Informed", "es": "Informado", "fr": "Informé"},
    # network summary
    "network.title": {
        "en": "Actors and their relations",
        "es": "Actores y sus relaciones",
        "fr": "Acteurs et relations",
    },
    "network.isolated": {"en": "Isolated actors", "es": "Actores aislados", "fr": "Acteurs isolés"},
    "network.degree": {"en": "Partners", "es": "Socios", "fr": "Partenaires"},
    "network.betweenness": {"en": "Betweenness", "es": "Intermediación", "fr": "Intermédiarité"},
    # assessment
    "assessment.principle": {"en": "Principle", "es": "Principio", "fr": "Principe"},
    "assessment.capacity": {"en": "Capacity", "es": "Capacidad", "fr": "Capacité"},
    "assessment.item": {"en": "Question", "es": "Pregunta", "fr": "Question"},
    "assessment.level": {"en": "Maturity level", "es": "Nivel de madurez", "fr": "Niveau de maturité"},
    "assessment.rule": {"en": "Rule", "es": "Regla", "fr": "Règle"},
    "assessment.not_scored": {"en": "not scored", "es": "sin puntuar", "fr": "non noté"},
    "gap.below_target": {
        "en": "level {level} below the target {target}",
        "es": "nivel {level} por debajo de la meta {target}",
        "fr": "niveau {level} en dessous de la cible {target}",
    },
    "gap.unanswered": {
        "en": "no institution answered",
        "es": "ninguna institución respondió",
        "fr": "aucune institution n'a répondu",
    },
    "gap.divergent": {
        "en": "institutions disagree (answers from {low} to {high})",
        "es": "las instituciones discrepan (respuestas de {low} a {high})",
        "fr": "les institutions divergent (réponses de {low} à {high})",
    },
}


def label(key: str, lang: str = "en", **values: object) -> str:
    """The text of ``key`` in ``lang`` with its placeholders filled."""
    check_choice("lang", lang, LANGUAGES, "the labels")
    text = LABELS[key][lang]
    return text.format(**values) if values else text
