"""Words of the practice library in English, Spanish and French: facet values, ratings, and the page's headings.

Same shape as :mod:`safercities.report.labels` (key -> {"en", "es", "fr"}). Problems and risk factors take their
names from the audit's codebook; everything else a practice page shows is here.
"""

from __future__ import annotations

from functools import cache

from safercities.errors import InputError, check_choice

LANGUAGES = ("en", "es", "fr")


def _t(en: str, es: str, fr: str) -> dict[str, str]:
    return {"en": en, "es": es, "fr": fr}


LABELS: dict[str, dict[str, str]] = {
    # approaches (UN Guidelines for the Prevention of Crime, art. 6; UNODC note on safer cities)
    "approach.developmental_social": _t(
        "Developmental and social prevention",
        "Prevención social y del desarrollo",
        "Prévention sociale et développementale",
    ),
    "approach.locally_based": _t(
        "Locally based prevention", "Prevención de base local", "Prévention ancrée localement"
    ),
    "approach.situational": _t("Situational prevention", "Prevención situacional", "Prévention situationnelle"),
    "approach.tertiary": _t(
        "Tertiary prevention (recidivism)", "Prevención terciaria (reincidencia)", "Prévention tertiaire (récidive)"
    ),
    "approach.community_policing": _t(
        "Community-oriented policing", "Policía orientada a la comunidad", "Police de proximité"
    ),
    "approach.access_to_justice": _t(
        "Access to justice and legal aid",
        "Acceso a la justicia y asistencia jurídica",
        "Accès à la justice et aide juridique",
    ),
    "approach.victim_support": _t("Victim support", "Apoyo a víctimas", "Aide aux victimes"),
    "approach.youth": _t(
        "Youth crime prevention", "Prevención del delito juvenil", "Prévention de la délinquance des jeunes"
    ),
    "approach.vawg": _t(
        "Violence against women and girls",
        "Violencia contra mujeres y niñas",
        "Violences faites aux femmes et aux filles",
    ),
    "approach.corruption_prevention": _t(
        "Corruption prevention in local administration",
        "Prevención de la corrupción en la administración local",
        "Prévention de la corruption dans l'administration locale",
    ),
    # ratings
    "rating.effective": _t("Effective", "Eficaz", "Efficace"),
    "rating.promising": _t("Promising", "Prometedora", "Prometteuse"),
    "rating.insufficient": _t("Insufficient evidence", "Evidencia insuficiente", "Données insuffisantes"),
    "rating.no_effect": _t("No effect", "Sin efecto", "Sans effet"),
    "rating.harmful": _t("Harmful", "Dañina", "Nocive"),
    "rating.scale": _t(
        "Evidence ratings follow CrimeSolutions' scale (effective, promising, no effects), with harmful shown apart "
        "from no effect and 'insufficient' where evaluations do not yet allow a rating. Ratings are our reading of "
        "the sources cited with each practice.",
        "Las calificaciones siguen la escala de CrimeSolutions (eficaz, prometedora, sin efecto), con «dañina» "
        "separada de «sin efecto» e «insuficiente» cuando las evaluaciones aún no permiten calificar. Son nuestra "
        "lectura de las fuentes citadas en cada práctica.",
        "Les appréciations suivent l'échelle de CrimeSolutions (efficace, prometteuse, sans effet), avec « nocive » "
        "distinguée de « sans effet » et « insuffisante » quand les évaluations ne permettent pas encore de conclure. "
        "Elles reflètent notre lecture des sources citées pour chaque pratique.",
    ),
    # cost bands
    "cost.low": _t("Low cost", "Costo bajo", "Coût faible"),
    "cost.medium": _t("Medium cost", "Costo medio", "Coût moyen"),
    "cost.high": _t("High cost", "Costo alto", "Coût élevé"),
    # target groups
    "target.general_population": _t("General population", "Población general", "Population générale"),
    "target.residents": _t("Residents", "Vecinos", "Habitants"),
    "target.children": _t("Children", "Niñas y niños", "Enfants"),
    "target.families": _t("Families", "Familias", "Familles"),
    "target.youth": _t("Young people", "Jóvenes", "Jeunes"),
    "target.at_risk_youth": _t("Young people at risk", "Jóvenes en riesgo", "Jeunes à risque"),
    "target.women_girls": _t("Women and girls", "Mujeres y niñas", "Femmes et filles"),
    "target.men_boys": _t("Men and boys", "Hombres y niños", "Hommes et garçons"),
    "target.victims": _t("Victims", "Víctimas", "Victimes"),
    "target.offenders": _t("Offenders", "Personas infractoras", "Auteurs d'infractions"),
    "target.people_who_use_drugs": _t("People who use drugs", "Personas que usan drogas", "Usagers de drogues"),
    "target.police": _t("Police officers", "Agentes de policía", "Policiers"),
    "target.public_officials": _t("Public officials", "Servidores públicos", "Agents publics"),
    "target.businesses": _t("Businesses", "Comercios y empresas", "Commerces et entreprises"),
    # settings
    "setting.home": _t("Home", "Hogar", "Domicile"),
    "setting.school": _t("School", "Escuela", "École"),
    "setting.street": _t("Street", "Calle", "Rue"),
    "setting.public_space": _t("Public space", "Espacio público", "Espace public"),
    "setting.public_transport": _t("Public transport", "Transporte público", "Transports publics"),
    "setting.neighbourhood": _t("Neighbourhood", "Barrio", "Quartier"),
    "setting.city": _t("Whole city", "Toda la ciudad", "Toute la ville"),
    "setting.commercial": _t("Commercial areas", "Zonas comerciales", "Zones commerciales"),
    "setting.nightlife": _t("Nightlife", "Vida nocturna", "Vie nocturne"),
    "setting.police": _t("Police", "Policía", "Police"),
    "setting.court": _t("Courts", "Tribunales", "Tribunaux"),
    "setting.prison_probation": _t("Prison and probation", "Prisión y libertad vigilada", "Prison et probation"),
    "setting.health_facility": _t("Health facilities", "Servicios de salud", "Établissements de santé"),
    "setting.local_administration": _t("Local administration", "Administración local", "Administration locale"),
    # sources
    "source.systematic_review": _t("Systematic review", "Revisión sistemática", "Revue systématique"),
    "source.meta_analysis": _t("Meta-analysis", "Metaanálisis", "Méta-analyse"),
    "source.randomised_trial": _t("Randomised trial", "Ensayo aleatorizado", "Essai randomisé"),
    "source.quasi_experiment": _t("Quasi-experiment", "Cuasi-experimento", "Quasi-expérience"),
    "source.observational": _t("Observational study", "Estudio observacional", "Étude observationnelle"),
    "source.guideline": _t("Standard or guideline", "Norma o directriz", "Norme ou ligne directrice"),
    "source.programme_description": _t("Programme description", "Descripción del programa", "Description de programme"),
    # EMMIE (College of Policing crime reduction toolkit)
    "emmie.effect": _t("Effect", "Efecto", "Effet"),
    "emmie.effect_quality": _t(
        "Quality of evidence on effect", "Calidad de la evidencia del efecto", "Qualité des preuves de l'effet"
    ),
    "emmie.mechanism": _t("Mechanism", "Mecanismo", "Mécanisme"),
    "emmie.moderators": _t("Moderators", "Moderadores", "Modérateurs"),
    "emmie.implementation": _t("Implementation", "Implementación", "Mise en œuvre"),
    "emmie.economics": _t("Economic cost", "Costo económico", "Coût économique"),
    "strength.strong": _t("strong", "sólida", "solide"),
    "strength.moderate": _t("moderate", "moderada", "modérée"),
    "strength.limited": _t("limited", "limitada", "limitée"),
    "strength.none": _t("none", "ninguna", "aucune"),
    "effect.reduces": _t("reduces crime", "reduce el delito", "réduit la délinquance"),
    "effect.mixed": _t("mixed", "mixto", "mitigé"),
    "effect.no_effect": _t("no effect", "sin efecto", "sans effet"),
    "effect.increases": _t("increases crime", "aumenta el delito", "augmente la délinquance"),
    # the page
    "page.title": _t(
        "Library of good and promising practices",
        "Biblioteca de prácticas buenas y prometedoras",
        "Bibliothèque de pratiques efficaces et prometteuses",
    ),
    "page.intro": _t(
        "Crime-prevention practices, what they address, how they work, what the evidence says and what they need. "
        "Practices rated no effect or harmful are kept so that nobody repeats them.",
        "Prácticas de prevención del delito: qué atienden, cómo funcionan, qué dice la evidencia y qué requieren. "
        "Las prácticas sin efecto o dañinas se conservan para que nadie las repita.",
        "Des pratiques de prévention : ce qu'elles traitent, comment elles agissent, ce que disent les évaluations et "
        "ce qu'elles demandent. Les pratiques sans effet ou nocives sont conservées pour que personne ne les répète.",
    ),
    "page.filter": _t("Filter by word", "Filtrar por palabra", "Filtrer par mot"),
    "page.practices": _t("practices", "prácticas", "pratiques"),
    "page.problems": _t("Problems addressed", "Problemas que atiende", "Problèmes traités"),
    "page.risk_factors": _t("Risk factors", "Factores de riesgo", "Facteurs de risque"),
    "page.protective_factors": _t("Protective factors", "Factores de protección", "Facteurs de protection"),
    "page.mechanism": _t("How it works", "Cómo funciona", "Comment cela agit"),
    "page.target_groups": _t("Target groups", "Población objetivo", "Publics visés"),
    "page.settings": _t("Settings", "Ámbitos", "Lieux d'action"),
    "page.evidence": _t("Evidence", "Evidencia", "Preuves"),
    "page.implementation": _t("What it needs", "Qué requiere", "Ce qu'il faut"),
    "page.partners": _t("Partners", "Aliados", "Partenaires"),
    "page.cost": _t("Cost", "Costo", "Coût"),
    "page.sources": _t("Sources", "Fuentes", "Sources"),
    "page.warning": _t("Warning", "Advertencia", "Avertissement"),
    "page.by_rating": _t("By evidence rating", "Por calificación de la evidencia", "Par appréciation des preuves"),
    "page.contents": _t("Approaches", "Enfoques", "Approches"),
    "page.updated": _t("Updated", "Actualizado", "Mis à jour"),
    "page.generated": _t("Generated by safercities", "Generado por safercities", "Produit par safercities"),
    "page.english_only": _t("", "(texto en inglés)", "(texte en anglais)"),
    # matching
    "match.problem": _t("problem {value}", "problema {value}", "problème {value}"),
    "match.risk_factors": _t("risk factors {value}", "factores de riesgo {value}", "facteurs de risque {value}"),
    "match.settings": _t("setting {value}", "ámbito {value}", "lieu {value}"),
    "match.target_groups": _t("target group {value}", "población {value}", "public {value}"),
    "match.discouraged": _t(
        "rated {rating}: shown so that it is not chosen",
        "calificada {rating}: se muestra para que no se elija",
        "jugée {rating} : affichée pour qu'elle ne soit pas retenue",
    ),
}


def label(key: str, lang: str = "en", **values: object) -> str:
    """The text of ``key`` in ``lang`` (English where a translation is empty), placeholders filled."""
    check_choice("lang", lang, LANGUAGES, "the practice labels")
    if key not in LABELS:
        raise InputError(f"no label '{key}'")
    text = LABELS[key][lang] or LABELS[key]["en"]
    return text.format(**values) if values else text


def facet_label(facet: str, value: str, lang: str = "en") -> str:
    """The words for a facet value: 'setting', 'school' -> 'School' / 'Escuela' / 'École'."""
    if facet in ("problem", "risk_factor", "protective_factor"):
        return code_label(value, lang)
    if facet == "partner":
        from safercities.governance.labels import label as governance_label

        return governance_label(f"sector.{value}", lang)
    return label(f"{_PREFIX.get(facet, facet)}.{value}", lang)


_PREFIX = {"target_group": "target", "evidence_strength": "source", "source_kind": "source"}


@cache
def _codebook_labels() -> dict[str, dict[str, str]]:
    """Labels of the audit codebook's codes, when the codebook is installed."""
    try:
        from safercities.audit.codebook import load_codebook

        book = load_codebook()
    except (ImportError, InputError):
        return {}
    return {code.id: dict(code.label) for code in book.codes.values()}


def code_label(code: str, lang: str = "en") -> str:
    """The codebook's name of a problem, risk factor or protective factor (its id in words if absent)."""
    check_choice("lang", lang, LANGUAGES, "the practice labels")
    names = _codebook_labels().get(code)
    if names:
        return names.get(lang) or names["en"]
    return code.replace("_", " ").capitalize()
