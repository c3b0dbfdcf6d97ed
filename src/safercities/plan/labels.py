"""Words of the plan in English, Spanish and French: statuses, horizons, rules, and the workbook's README."""

from __future__ import annotations

from safercities.errors import check_choice

LANGUAGES = ("en", "es", "fr")


def _t(en: str, es: str, fr: str) -> dict[str, str]:
    return {"en": en, "es": es, "fr": fr}


LABELS: dict[str, dict[str, str]] = {
    # intervention statuses
    "status.planned": _t("Planned", "Planeada", "Prévue"),
    "status.in_progress": _t("In progress", "En curso", "En cours"),
    "status.done": _t("Done", "Concluida", "Terminée"),
    "status.suspended": _t("Suspended", "Suspendida", "Suspendue"),
    # recommendation statuses
    "recommendation.open": _t("Open", "Pendiente", "En attente"),
    "recommendation.in_progress": _t("In progress", "En atención", "En cours"),
    "recommendation.addressed": _t("Addressed", "Atendida", "Traitée"),
    "recommendation.dropped": _t("Dropped", "Descartada", "Abandonnée"),
    # horizons
    "horizon.short": _t("Short term (up to 1 year)", "Corto plazo (hasta 1 año)", "Court terme (jusqu'à 1 an)"),
    "horizon.medium": _t("Medium term (1 to 3 years)", "Mediano plazo (de 1 a 3 años)", "Moyen terme (1 à 3 ans)"),
    "horizon.long": _t("Long term (over 3 years)", "Largo plazo (más de 3 años)", "Long terme (plus de 3 ans)"),
    # monitoring statuses
    "progress.on_track": _t("On track", "En curso según lo previsto", "En bonne voie"),
    "progress.at_risk": _t("At risk", "En riesgo", "À risque"),
    "progress.off_track": _t("Off track", "Rezagada", "En retard"),
    "progress.no_data": _t("No data yet", "Sin datos aún", "Pas encore de données"),
    # rules
    "rule.horizon": _t(
        "Horizon: an intervention that ends within 1 year of its start is short term, within 3 years medium term, "
        "later long term.",
        "Plazo: una intervención que termina dentro de 1 año desde su inicio es de corto plazo, dentro de 3 años de "
        "mediano plazo, más tarde de largo plazo.",
        "Horizon : une intervention qui se termine dans l'année de son début est à court terme, dans les 3 ans à "
        "moyen terme, plus tard à long terme.",
    ),
    "rule.progress": _t(
        "Progress = (current - baseline) / (target - baseline): 0 at the baseline, 1 when the target is reached. "
        "Its interval carries the current value's uncertainty (a rate's exact Poisson interval, a survey "
        "estimate's interval or ±{z:.2f} standard errors); the baseline is the plan's fixed reference.",
        "Avance = (actual - línea base) / (meta - línea base): 0 en la línea base, 1 al alcanzar la meta. Su "
        "intervalo lleva la incertidumbre del valor actual (intervalo exacto de Poisson de una tasa, intervalo de "
        "una estimación de encuesta o ±{z:.2f} errores estándar); la línea base es la referencia fija del plan.",
        "Avancement = (actuel - référence) / (cible - référence) : 0 à la référence, 1 quand la cible est atteinte. "
        "Son intervalle porte l'incertitude de la valeur actuelle (intervalle exact de Poisson d'un taux, "
        "intervalle d'une estimation d'enquête ou ±{z:.2f} erreurs types) ; la référence est fixée par le plan.",
    ),
    "rule.status": _t(
        "Expected progress = share of the time from the end of the baseline period to the target date that has "
        "elapsed at the end of the current value's period. On track: the progress interval reaches the expected "
        "progress (upper bound >= expected). Off track: its upper bound is below half the expected progress. "
        "At risk: otherwise.",
        "Avance esperado = fracción del tiempo entre el fin del periodo base y la fecha meta transcurrida al fin "
        "del periodo del valor actual. Según lo previsto: el intervalo del avance alcanza el avance esperado "
        "(límite superior >= esperado). Rezagada: su límite superior está por debajo de la mitad del avance "
        "esperado. En riesgo: en otro caso.",
        "Avancement attendu = part du temps entre la fin de la période de référence et la date cible écoulée à la "
        "fin de la période de la valeur actuelle. En bonne voie : l'intervalle de l'avancement atteint "
        "l'avancement attendu (borne supérieure >= attendu). En retard : sa borne supérieure est sous la moitié "
        "de l'avancement attendu. À risque : sinon.",
    ),
    "rule.recommendations": _t(
        "Share addressed by a date = recommendations addressed on or before that date / all recommendations of "
        "the plan (dropped ones count as not addressed).",
        "Proporción atendida a una fecha = recomendaciones atendidas en esa fecha o antes / todas las "
        "recomendaciones del plan (las descartadas cuentan como no atendidas).",
        "Part traitée à une date = recommandations traitées à cette date ou avant / toutes les recommandations du "
        "plan (les abandonnées comptent comme non traitées).",
    ),
    # workbook README
    "readme.title": _t(
        "Crime-prevention plan: how to fill in this workbook",
        "Plan de prevención del delito: cómo llenar este libro",
        "Plan de prévention de la délinquance : comment remplir ce classeur",
    ),
    "readme.intro": _t(
        "Edit the sheets interventions, targets and recommendations, one row each, then import the file with "
        "`safercities plan import FILE`. Every row that cannot be used is reported with its sheet, row and column; "
        "the others are stored. Several values in one cell are separated by ';'. Dates as 2025-03-31 or 31/03/2025 "
        "(day first); numbers with a decimal point or a decimal comma. The sheet 'lists' holds the allowed values.",
        "Edite las hojas interventions, targets y recommendations, una fila por elemento, y luego importe el "
        "archivo con `safercities plan import ARCHIVO`. Cada fila que no pueda usarse se informa con su hoja, fila "
        "y columna; las demás se guardan. Varios valores en una celda se separan con ';'. Fechas como 2025-03-31 o "
        "31/03/2025 (día primero); números con punto o coma decimal. La hoja 'lists' contiene los valores "
        "permitidos.",
        "Modifiez les feuilles interventions, targets et recommendations, une ligne par élément, puis importez le "
        "fichier avec `safercities plan import FICHIER`. Chaque ligne inutilisable est signalée avec sa feuille, "
        "sa ligne et sa colonne ; les autres sont enregistrées. Plusieurs valeurs dans une cellule sont séparées "
        "par ';'. Dates comme 2025-03-31 ou 31/03/2025 (jour d'abord) ; nombres avec point ou virgule décimale. La "
        "feuille 'lists' contient les valeurs permises.",
    ),
    "readme.sheet": _t("Sheet", "Hoja", "Feuille"),
    "readme.column": _t("Column", "Columna", "Colonne"),
    "readme.required": _t("Required", "Obligatoria", "Obligatoire"),
    "readme.meaning": _t("Meaning", "Significado", "Signification"),
    "readme.yes": _t("yes", "sí", "oui"),
    "readme.no": _t("no", "no", "non"),
    # columns
    "column.intervention_id": _t(
        "Short unique id (letters, digits, '_', '-', '.')",
        "Identificador corto y único (letras, dígitos, '_', '-', '.')",
        "Identifiant court et unique (lettres, chiffres, '_', '-', '.')",
    ),
    "column.title_en": _t("Title in English", "Título en inglés", "Titre en anglais"),
    "column.title_es": _t("Title in Spanish", "Título en español", "Titre en espagnol"),
    "column.title_fr": _t(
        "Title in French (at least one title is needed)",
        "Título en francés (se necesita al menos un título)",
        "Titre en français (au moins un titre est nécessaire)",
    ),
    "column.practice_id": _t(
        "Practice of the library it follows, or 'custom'",
        "Práctica de la biblioteca que sigue, o 'custom'",
        "Pratique de la bibliothèque suivie, ou 'custom'",
    ),
    "column.problems": _t(
        "Priority problems it addresses (codebook ids)",
        "Problemas prioritarios que atiende (ids del libro de códigos)",
        "Problèmes prioritaires traités (ids du livre de codes)",
    ),
    "column.areas": _t(
        "Communities covered (area ids) or 'city'",
        "Comunidades cubiertas (ids de área) o 'city'",
        "Quartiers couverts (ids de zone) ou 'city'",
    ),
    "column.responsible": _t(
        "Actors who do the work (ids or names from the registry)",
        "Actores que realizan el trabajo (ids o nombres del registro)",
        "Acteurs qui font le travail (ids ou noms du registre)",
    ),
    "column.accountable": _t(
        "The one actor who answers for it",
        "El único actor que rinde cuentas",
        "L'unique acteur qui en répond",
    ),
    "column.consulted": _t("Actors consulted", "Actores consultados", "Acteurs consultés"),
    "column.informed": _t("Actors kept informed", "Actores informados", "Acteurs informés"),
    "column.budget": _t("Budget (a number)", "Presupuesto (un número)", "Budget (un nombre)"),
    "column.currency": _t(
        "Currency (ISO 4217 code, e.g. MXN)", "Moneda (código ISO 4217, p. ej. MXN)", "Devise (code ISO 4217, ex. MXN)"
    ),
    "column.funding_source": _t("Who funds it", "Quién lo financia", "Qui le finance"),
    "column.start_date": _t("First day", "Primer día", "Premier jour"),
    "column.end_date": _t("Last day", "Último día", "Dernier jour"),
    "column.horizon": _t(
        "short, medium or long (left empty: set by the rule)",
        "short, medium o long (vacío: lo fija la regla)",
        "short, medium ou long (vide : fixé par la règle)",
    ),
    "column.status": _t("Status", "Estado", "Statut"),
    "column.notes": _t("Free notes", "Notas libres", "Notes libres"),
    "column.target_id": _t("Short unique id", "Identificador corto y único", "Identifiant court et unique"),
    "column.indicator_id": _t("Indicator of the framework", "Indicador del marco", "Indicateur du cadre"),
    "column.scope": _t("Area id or 'city'", "Id de área o 'city'", "Id de zone ou 'city'"),
    "column.baseline_period": _t(
        "Baseline period: 2024, 2024-Q1 or 2024-03",
        "Periodo base: 2024, 2024-Q1 o 2024-03",
        "Période de référence : 2024, 2024-Q1 ou 2024-03",
    ),
    "column.baseline": _t(
        "Baseline value: computed from the workspace at import (type one only where the workspace has none)",
        "Valor base: se calcula con el espacio de trabajo al importar (escríbalo solo si este no lo tiene)",
        "Valeur de référence : calculée depuis l'espace de travail à l'import (saisissez-la seulement s'il ne l'a pas)",
    ),
    "column.baseline_lower": _t("Lower bound of the baseline's interval", "Límite inferior", "Borne inférieure"),
    "column.baseline_upper": _t("Upper bound of the baseline's interval", "Límite superior", "Borne supérieure"),
    "column.baseline_se": _t("Standard error of the baseline", "Error estándar de la base", "Erreur type"),
    "column.baseline_source": _t(
        "Filled in by safercities: 'store' (computed) or 'given' (typed)",
        "Lo llena safercities: 'store' (calculado) o 'given' (escrito)",
        "Rempli par safercities : 'store' (calculé) ou 'given' (saisi)",
    ),
    "column.target_value": _t("Value to reach", "Valor a alcanzar", "Valeur à atteindre"),
    "column.target_date": _t("Date by which to reach it", "Fecha para alcanzarlo", "Date pour l'atteindre"),
    "column.intervention_ids": _t(
        "Interventions that contribute (ids)",
        "Intervenciones que contribuyen (ids)",
        "Interventions qui y contribuent (ids)",
    ),
    "column.recommendation_id": _t("Short unique id", "Identificador corto y único", "Identifiant court et unique"),
    "column.text": _t("The recommendation", "La recomendación", "La recommandation"),
    "column.date_made": _t("Date it was made", "Fecha en que se emitió", "Date d'émission"),
    "column.date_addressed": _t(
        "Date it was addressed (needed when the status is 'addressed')",
        "Fecha en que se atendió (necesaria si el estado es 'addressed')",
        "Date de traitement (nécessaire si le statut est 'addressed')",
    ),
}


def label(key: str, lang: str = "en", **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``values`` filled in."""
    check_choice("lang", lang, LANGUAGES, "the plan's labels")
    text = LABELS[key][lang]
    return text.format(**values) if values else text
