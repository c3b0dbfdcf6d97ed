"""User-facing words of procurement screening in English, Spanish and French.

One dict per flag (name and one-line definition) and the words of the tables, key -> {"en", "es", "fr"},
in the form the project's gettext catalogs take mechanically (the key is the msgctxt).
"""

from __future__ import annotations

from safercities.errors import check_choice

LANGUAGES = ("en", "es", "fr")

FLAG_NAMES: dict[str, dict[str, str]] = {
    "single_bidder": {"en": "Single bidder", "es": "Oferente único", "fr": "Soumissionnaire unique"},
    "non_open": {"en": "Non-open procedure", "es": "Procedimiento no abierto", "fr": "Procédure non ouverte"},
    "short_submission": {
        "en": "Short submission period",
        "es": "Plazo de presentación corto",
        "fr": "Délai de soumission court",
    },
    "decision_period": {
        "en": "Unusual decision period",
        "es": "Plazo de decisión inusual",
        "fr": "Délai de décision inhabituel",
    },
    "award_near_estimate": {
        "en": "Award at the estimated price",
        "es": "Adjudicación al precio estimado",
        "fr": "Attribution au prix estimé",
    },
    "value_amendment": {
        "en": "Contract value raised by amendment",
        "es": "Valor del contrato aumentado por modificación",
        "fr": "Valeur du contrat augmentée par avenant",
    },
    "split_below_threshold": {
        "en": "Contracts split below a threshold",
        "es": "Contratos fraccionados bajo un umbral",
        "fr": "Marchés fractionnés sous un seuil",
    },
    "dominant_supplier": {
        "en": "Buyer's dominant supplier",
        "es": "Proveedor dominante del comprador",
        "fr": "Fournisseur dominant de l'acheteur",
    },
    "new_supplier_large": {
        "en": "New supplier, large contract",
        "es": "Proveedor nuevo, contrato grande",
        "fr": "Fournisseur récent, gros marché",
    },
    "late_publication": {"en": "Late publication", "es": "Publicación tardía", "fr": "Publication tardive"},
    "missing_notice": {
        "en": "No tender notice before the award",
        "es": "Sin convocatoria antes de la adjudicación",
        "fr": "Pas d'avis de marché avant l'attribution",
    },
    "identical_bids": {
        "en": "Identical bid prices",
        "es": "Ofertas con precios idénticos",
        "fr": "Offres de prix identiques",
    },
    "bid_rotation": {
        "en": "Bid rotation between the bidders",
        "es": "Rotación de ofertas entre los licitantes",
        "fr": "Rotation des offres entre soumissionnaires",
    },
    "concentrated_buyer": {
        "en": "Concentrated buyer (HHI)",
        "es": "Comprador concentrado (IHH)",
        "fr": "Acheteur concentré (IHH)",
    },
    "rotating_supplier": {
        "en": "Supplier in a bid rotation",
        "es": "Proveedor en una rotación de ofertas",
        "fr": "Fournisseur dans une rotation d'offres",
    },
}

FLAG_DEFINITIONS: dict[str, dict[str, str]] = {
    "single_bidder": {
        "en": "A competitive procedure (open or selective) received one bid.",
        "es": "Un procedimiento competitivo (abierto o restringido) recibió una sola oferta.",
        "fr": "Une procédure concurrentielle (ouverte ou restreinte) n'a reçu qu'une offre.",
    },
    "non_open": {
        "en": "The procedure was not open to every interested supplier.",
        "es": "El procedimiento no estuvo abierto a todo proveedor interesado.",
        "fr": "La procédure n'était pas ouverte à tout fournisseur intéressé.",
    },
    "short_submission": {
        "en": "Fewer whole days between the start and the end of the tender period than the rules require.",
        "es": "Menos días completos entre el inicio y el fin del periodo de licitación que los que exigen las reglas.",
        "fr": "Moins de jours entiers entre le début et la fin de la période de soumission que "
        "ne l'exigent les règles.",
    },
    "decision_period": {
        "en": "The award came too soon or too long after the bid deadline.",
        "es": "La adjudicación llegó demasiado pronto o demasiado tarde tras el cierre de ofertas.",
        "fr": "L'attribution est intervenue trop tôt ou trop tard après la date limite des offres.",
    },
    "award_near_estimate": {
        "en": "The awarded value is within a fraction of a percent of the estimated value.",
        "es": "El valor adjudicado difiere del valor estimado en menos de una fracción de punto porcentual.",
        "fr": "La valeur attribuée est à moins d'une fraction de pour cent de la valeur estimée.",
    },
    "value_amendment": {
        "en": "Amendments raised the contract value above the allowed share of its first value.",
        "es": "Las modificaciones elevaron el valor del contrato por encima de la proporción "
        "permitida de su valor inicial.",
        "fr": "Des avenants ont porté la valeur du marché au-delà de la part autorisée de sa valeur initiale.",
    },
    "split_below_threshold": {
        "en": "Several awards just below a procurement threshold, by one buyer to one supplier within a few weeks.",
        "es": "Varias adjudicaciones justo bajo un umbral, de un comprador a un proveedor en pocas semanas.",
        "fr": "Plusieurs attributions juste sous un seuil, d'un acheteur à un fournisseur en quelques semaines.",
    },
    "dominant_supplier": {
        "en": "The winner holds at least half of the buyer's awards.",
        "es": "El ganador tiene al menos la mitad de las adjudicaciones del comprador.",
        "fr": "Le titulaire détient au moins la moitié des attributions de l'acheteur.",
    },
    "new_supplier_large": {
        "en": "A supplier registered less than a year earlier wins a contract among the largest.",
        "es": "Un proveedor registrado hace menos de un año gana uno de los contratos más grandes.",
        "fr": "Un fournisseur immatriculé depuis moins d'un an remporte l'un des plus gros marchés.",
    },
    "late_publication": {
        "en": "The award or the contract was published long after it was made.",
        "es": "La adjudicación o el contrato se publicó mucho después de realizarse.",
        "fr": "L'attribution ou le marché a été publié longtemps après avoir été conclu.",
    },
    "missing_notice": {
        "en": "A competitive procedure whose tender was first published at or after the award.",
        "es": "Un procedimiento competitivo cuya licitación se publicó por primera vez con la adjudicación o después.",
        "fr": "Une procédure concurrentielle dont l'appel d'offres n'a été publié qu'à l'attribution ou après.",
    },
    "identical_bids": {
        "en": "Different bidders offered the same price in the same currency.",
        "es": "Distintos licitantes ofrecieron el mismo precio en la misma moneda.",
        "fr": "Des soumissionnaires différents ont offert le même prix dans la même devise.",
    },
    "bid_rotation": {
        "en": "Two bidders who nearly always bid together, and take turns to win, both bid here.",
        "es": "Aquí ofertan dos licitantes que casi siempre se presentan juntos y se turnan para ganar.",
        "fr": "Deux soumissionnaires qui se présentent presque toujours ensemble et gagnent à "
        "tour de rôle ont soumis ici.",
    },
    "concentrated_buyer": {
        "en": "The buyer's awards are concentrated on few suppliers (Herfindahl-Hirschman index above 0.25).",
        "es": "Las adjudicaciones del comprador se concentran en pocos proveedores (índice de "
        "Herfindahl-Hirschman > 0,25).",
        "fr": "Les attributions de l'acheteur sont concentrées sur peu de fournisseurs (indice "
        "de Herfindahl-Hirschman > 0,25).",
    },
    "rotating_supplier": {
        "en": "The supplier has a partner it nearly always bids with, each winning in turn.",
        "es": "El proveedor tiene un socio con el que casi siempre oferta, ganando cada uno por turnos.",
        "fr": "Le fournisseur a un partenaire avec lequel il soumissionne presque toujours, chacun gagnant à son tour.",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "procurement.title": {
        "en": "Corruption-risk screening of public procurement",
        "es": "Detección de riesgos de corrupción en la contratación pública",
        "fr": "Repérage des risques de corruption dans la commande publique",
    },
    "procurement.caveat": {
        "en": "A red flag is a reason to look closer, not evidence of wrongdoing.",
        "es": "Una alerta es un motivo para mirar de cerca, no una prueba de irregularidad.",
        "fr": "Un signal d'alerte invite à regarder de plus près ; ce n'est pas une preuve d'irrégularité.",
    },
    "procurement.flag": {"en": "Red flag", "es": "Alerta", "fr": "Signal d'alerte"},
    "procurement.base_rate": {"en": "Base rate", "es": "Tasa de base", "fr": "Taux de base"},
    "procurement.weight": {"en": "Weight", "es": "Peso", "fr": "Poids"},
    "procurement.available": {"en": "Computable for", "es": "Calculable para", "fr": "Calculable pour"},
    "procurement.raised": {"en": "Raised", "es": "Activadas", "fr": "Levés"},
    "procurement.buyer": {"en": "Buyer", "es": "Comprador", "fr": "Acheteur"},
    "procurement.supplier": {"en": "Supplier", "es": "Proveedor", "fr": "Fournisseur"},
    "procurement.process": {"en": "Contracting process", "es": "Proceso de contratación", "fr": "Procédure de marché"},
    "procurement.index": {"en": "Risk index", "es": "Índice de riesgo", "fr": "Indice de risque"},
    "procurement.high_risk": {"en": "High risk", "es": "Riesgo alto", "fr": "Risque élevé"},
    "procurement.main_flags": {"en": "Main flags", "es": "Alertas principales", "fr": "Principaux signaux"},
    "procurement.area_risk": {
        "en": "Procurement risk by area",
        "es": "Riesgo en la contratación por zona",
        "fr": "Risque dans la commande publique par secteur",
    },
    "procurement.rule": {
        "en": "Each flag weighs −ln of its base rate; the index is the weighted mean excess of the flags' shares "
        "over their base rates.",
        "es": "Cada alerta pesa −ln de su tasa de base; el índice es el exceso medio ponderado de las proporciones "
        "de alertas sobre sus tasas de base.",
        "fr": "Chaque signal pèse −ln de son taux de base ; l'indice est l'excès moyen pondéré des parts de signaux "
        "sur leurs taux de base.",
    },
}


def label(key: str, lang: str = "en") -> str:
    """The text of a flag name (its id), ``definition:<flag>``, or a word key, in ``lang``."""
    check_choice("lang", lang, LANGUAGES, "the procurement labels")
    if key.startswith("definition:"):
        return FLAG_DEFINITIONS[key.split(":", 1)[1]][lang]
    table = FLAG_NAMES if key in FLAG_NAMES else WORDS
    return table[key][lang]
