"""User-facing words of the reports in English, Spanish and French.

One dict, key -> {"en", "es", "fr"}, so that it converts mechanically to gettext catalogs later:
the key is the msgctxt/msgid, each language's text its msgstr. Placeholders use ``str.format``
names (``{count}``), which Babel keeps as they are.
"""

from __future__ import annotations

from safercities.errors import check_choice

LANGUAGES = ("en", "es", "fr")

LABELS: dict[str, dict[str, str]] = {
    "quality.title": {
        "en": "Data quality report",
        "es": "Informe de calidad de los datos",
        "fr": "Rapport sur la qualité des données",
    },
    "quality.intro": {
        "en": "What the analysis can and cannot trust in the incident data of this workspace.",
        "es": "Lo que el análisis puede y no puede dar por cierto en los datos de incidentes de este espacio.",
        "fr": "Ce que l'analyse peut et ne peut pas tenir pour sûr dans les données d'incidents de cet espace.",
    },
    "generated": {"en": "Generated", "es": "Generado", "fr": "Généré le"},
    "version": {"en": "safercities version", "es": "versión de safercities", "fr": "version de safercities"},
    "workspace": {"en": "Workspace", "es": "Espacio de trabajo", "fr": "Espace de travail"},
    "none": {"en": "none", "es": "ninguno", "fr": "aucun"},
    "yes": {"en": "yes", "es": "sí", "fr": "oui"},
    "no": {"en": "no", "es": "no", "fr": "non"},
    "count": {"en": "Count", "es": "Número", "fr": "Nombre"},
    "share": {"en": "Share", "es": "Proporción", "fr": "Part"},
    "value": {"en": "Value", "es": "Valor", "fr": "Valeur"},
    # rows
    "rows.title": {"en": "Rows", "es": "Filas", "fr": "Lignes"},
    "rows.read": {"en": "Rows read", "es": "Filas leídas", "fr": "Lignes lues"},
    "rows.accepted": {"en": "Accepted", "es": "Aceptadas", "fr": "Acceptées"},
    "rows.rejected": {"en": "Rejected", "es": "Rechazadas", "fr": "Rejetées"},
    # imports
    "imports.title": {"en": "Imports", "es": "Importaciones", "fr": "Importations"},
    "imports.id": {"en": "Import", "es": "Importación", "fr": "Importation"},
    "imports.file": {"en": "File", "es": "Archivo", "fr": "Fichier"},
    "imports.sha256": {"en": "SHA-256 (start)", "es": "SHA-256 (inicio)", "fr": "SHA-256 (début)"},
    "imports.user": {"en": "User", "es": "Usuario", "fr": "Utilisateur"},
    "imports.time": {"en": "Time (UTC)", "es": "Hora (UTC)", "fr": "Heure (UTC)"},
    "imports.status": {"en": "Status", "es": "Estado", "fr": "Statut"},
    "imports.warnings": {"en": "Warnings", "es": "Advertencias", "fr": "Avertissements"},
    "imports.none": {
        "en": "No incident file has been imported yet.",
        "es": "Aún no se ha importado ningún archivo de incidentes.",
        "fr": "Aucun fichier d'incidents n'a encore été importé.",
    },
    # completeness
    "completeness.title": {
        "en": "Completeness of fields",
        "es": "Completitud de los campos",
        "fr": "Complétude des champs",
    },
    "completeness.field": {"en": "Field", "es": "Campo", "fr": "Champ"},
    "completeness.filled": {"en": "Filled in", "es": "Con dato", "fr": "Renseigné"},
    "field.reported_at": {"en": "Report date", "es": "Fecha de denuncia", "fr": "Date de plainte"},
    "field.location_type": {"en": "Type of place", "es": "Tipo de lugar", "fr": "Type de lieu"},
    "field.offence_label": {"en": "Offence label", "es": "Nombre del delito", "fr": "Libellé de l'infraction"},
    "field.attributes": {
        "en": "Other kept columns",
        "es": "Otras columnas conservadas",
        "fr": "Autres colonnes conservées",
    },
    "windows.title": {
        "en": "When it happened: a moment or a window",
        "es": "Cuándo ocurrió: un momento o un intervalo",
        "fr": "Quand cela s'est produit : un instant ou un intervalle",
    },
    "windows.class": {"en": "Occurrence time", "es": "Hora del hecho", "fr": "Heure des faits"},
    "window.moment": {"en": "A moment", "es": "Un momento", "fr": "Un instant"},
    "window.window_1d": {
        "en": "Window up to 1 day",
        "es": "Intervalo de hasta 1 día",
        "fr": "Intervalle d'au plus 1 jour",
    },
    "window.window_7d": {
        "en": "Window of 1 to 7 days",
        "es": "Intervalo de 1 a 7 días",
        "fr": "Intervalle de 1 à 7 jours",
    },
    "window.window_31d": {
        "en": "Window of 7 to 31 days",
        "es": "Intervalo de 7 a 31 días",
        "fr": "Intervalle de 7 à 31 jours",
    },
    "window.window_longer": {
        "en": "Window longer than 31 days",
        "es": "Intervalo de más de 31 días",
        "fr": "Intervalle de plus de 31 jours",
    },
    # geocoding
    "geocoding.title": {"en": "Location", "es": "Ubicación", "fr": "Localisation"},
    "geocoding.share": {"en": "Share geocoded", "es": "Proporción geolocalizada", "fr": "Part géolocalisée"},
    "geocoding.not_geocoded": {
        "en": "Rows that could not be placed",
        "es": "Filas que no se pudieron ubicar",
        "fr": "Lignes impossibles à localiser",
    },
    "geocoding.outside": {
        "en": "Share outside the city",
        "es": "Proporción fuera de la ciudad",
        "fr": "Part hors de la ville",
    },
    "geocoding.outside_rows": {
        "en": "Rows outside the city",
        "es": "Filas fuera de la ciudad",
        "fr": "Lignes hors de la ville",
    },
    "geocoding.note": {
        "en": "Geocoded: accepted over accepted plus rows rejected for missing, unreadable, swapped or "
        "out-of-range coordinates or points outside every area. Outside the city: points outside every area "
        "or the CRS's area over rows with usable coordinates.",
        "es": "Geolocalizada: aceptadas sobre aceptadas más filas rechazadas por coordenadas ausentes, ilegibles, "
        "invertidas o fuera de rango, o puntos fuera de toda área. Fuera de la ciudad: puntos fuera de toda área "
        "o del ámbito del SRC sobre las filas con coordenadas utilizables.",
        "fr": "Géolocalisée : acceptées sur acceptées plus lignes rejetées pour coordonnées absentes, illisibles, "
        "inversées ou hors limites, ou points hors de toute zone. Hors de la ville : points hors de toute zone "
        "ou du domaine du SRC sur les lignes aux coordonnées exploitables.",
    },
    # duplicates
    "duplicates.title": {"en": "Duplicates", "es": "Duplicados", "fr": "Doublons"},
    "duplicates.rejected": {
        "en": "Rejected as duplicate id",
        "es": "Rechazadas por folio duplicado",
        "fr": "Rejetées pour identifiant en double",
    },
    "duplicates.groups": {
        "en": "Groups of accepted incidents at the same place, time and offence",
        "es": "Grupos de incidentes aceptados en el mismo lugar, hora y delito",
        "fr": "Groupes d'incidents acceptés au même lieu, à la même heure, pour la même infraction",
    },
    "duplicates.rows": {
        "en": "Incidents in those groups",
        "es": "Incidentes en esos grupos",
        "fr": "Incidents dans ces groupes",
    },
    "duplicates.surplus": {
        "en": "Possible double records",
        "es": "Posibles registros dobles",
        "fr": "Doubles saisies possibles",
    },
    # rejects
    "rejects.title": {
        "en": "Rejected rows by reason",
        "es": "Filas rechazadas por motivo",
        "fr": "Lignes rejetées par motif",
    },
    "rejects.reason": {"en": "Reason", "es": "Motivo", "fr": "Motif"},
    "rejects.example": {"en": "Example", "es": "Ejemplo", "fr": "Exemple"},
    "rejects.row": {"en": "Row", "es": "Fila", "fr": "Ligne"},
    "rejects.none": {"en": "No row was rejected.", "es": "No se rechazó ninguna fila.", "fr": "Aucune ligne rejetée."},
    "reason.missing_date": {"en": "Missing date", "es": "Fecha ausente", "fr": "Date absente"},
    "reason.bad_date": {"en": "Unreadable date", "es": "Fecha ilegible", "fr": "Date illisible"},
    "reason.future_date": {"en": "Date in the future", "es": "Fecha en el futuro", "fr": "Date dans le futur"},
    "reason.bad_window": {
        "en": "Window ends before it starts",
        "es": "El intervalo termina antes de empezar",
        "fr": "L'intervalle finit avant de commencer",
    },
    "reason.missing_offence": {"en": "Missing offence", "es": "Delito ausente", "fr": "Infraction absente"},
    "reason.unknown_offence": {
        "en": "Offence without ICCS code",
        "es": "Delito sin código ICCS",
        "fr": "Infraction sans code ICCS",
    },
    "reason.missing_coordinates": {
        "en": "Missing coordinates",
        "es": "Coordenadas ausentes",
        "fr": "Coordonnées absentes",
    },
    "reason.bad_coordinates": {
        "en": "Unreadable or invalid coordinates",
        "es": "Coordenadas ilegibles o inválidas",
        "fr": "Coordonnées illisibles ou invalides",
    },
    "reason.swapped_coordinates": {
        "en": "Latitude and longitude swapped",
        "es": "Latitud y longitud invertidas",
        "fr": "Latitude et longitude inversées",
    },
    "reason.outside_crs": {
        "en": "Outside the CRS's area",
        "es": "Fuera del ámbito del SRC",
        "fr": "Hors du domaine du SRC",
    },
    "reason.outside_areas": {
        "en": "Outside every area",
        "es": "Fuera de toda área",
        "fr": "Hors de toute zone",
    },
    "reason.duplicate_id": {"en": "Duplicate id", "es": "Folio duplicado", "fr": "Identifiant en double"},
    "reason.ragged_row": {
        "en": "Wrong number of columns",
        "es": "Número de columnas incorrecto",
        "fr": "Nombre de colonnes incorrect",
    },
    # coverage
    "coverage.title": {"en": "Time coverage by month", "es": "Cobertura temporal por mes", "fr": "Couverture par mois"},
    "coverage.month": {"en": "Month", "es": "Mes", "fr": "Mois"},
    "coverage.gap": {"en": "Gap", "es": "Hueco", "fr": "Lacune"},
    "coverage.gaps": {"en": "Gap months", "es": "Meses con hueco", "fr": "Mois lacunaires"},
    "coverage.range": {"en": "From {first} to {last}", "es": "De {first} a {last}", "fr": "De {first} à {last}"},
    "coverage.note": {
        "en": "Months in the time zone {timezone}. A gap is a month with no incident or fewer than {threshold} "
        "(a quarter of the median month, {median}).",
        "es": "Meses en la zona horaria {timezone}. Un hueco es un mes sin incidentes o con menos de {threshold} "
        "(la cuarta parte del mes mediano, {median}).",
        "fr": "Mois dans le fuseau horaire {timezone}. Une lacune est un mois sans incident ou avec moins de "
        "{threshold} (le quart du mois médian, {median}).",
    },
    "coverage.chart": {
        "en": "Bar chart of incidents per month from {first} to {last}; gap months are highlighted: {gaps}.",
        "es": "Gráfico de barras de incidentes por mes de {first} a {last}; meses con hueco resaltados: {gaps}.",
        "fr": "Histogramme des incidents par mois de {first} à {last} ; mois lacunaires mis en évidence : {gaps}.",
    },
    "coverage.empty": {
        "en": "No incident in the workspace.",
        "es": "No hay incidentes en el espacio de trabajo.",
        "fr": "Aucun incident dans l'espace de travail.",
    },
    # delays
    "delays.title": {
        "en": "Reporting delay (days from the end of the event to the report)",
        "es": "Demora de la denuncia (días desde el fin del hecho hasta la denuncia)",
        "fr": "Délai de plainte (jours entre la fin des faits et la plainte)",
    },
    "delays.count": {
        "en": "Incidents with a report date",
        "es": "Incidentes con fecha de denuncia",
        "fr": "Incidents avec une date de plainte",
    },
    "delays.quantile": {"en": "Quantile", "es": "Cuantil", "fr": "Quantile"},
    "delays.days": {"en": "Days", "es": "Días", "fr": "Jours"},
    "delays.mean": {"en": "Mean", "es": "Media", "fr": "Moyenne"},
    "delays.negative": {
        "en": "Reported before they occurred (data error)",
        "es": "Denunciados antes de ocurrir (error de datos)",
        "fr": "Déclarés avant les faits (erreur de données)",
    },
    "delays.over_365": {
        "en": "Reported more than 365 days later",
        "es": "Denunciados más de 365 días después",
        "fr": "Déclarés plus de 365 jours après",
    },
    # offences
    "offences.title": {"en": "Offence mix", "es": "Composición de los delitos", "fr": "Répartition des infractions"},
    "offences.sections": {"en": "By ICCS section", "es": "Por sección ICCS", "fr": "Par section ICCS"},
    "offences.local": {"en": "By local offence", "es": "Por delito local", "fr": "Par infraction locale"},
    "offences.section": {"en": "ICCS section", "es": "Sección ICCS", "fr": "Section ICCS"},
    "offences.code": {"en": "Code", "es": "Clave", "fr": "Code"},
    "offences.label": {"en": "Offence", "es": "Delito", "fr": "Infraction"},
    "offences.iccs": {"en": "ICCS", "es": "ICCS", "fr": "ICCS"},
}


def label(key: str, lang: str = "en", **values: object) -> str:
    """The text of ``key`` in ``lang`` (English where a language lacks it), with ``values`` filled in."""
    check_choice("lang", lang, LANGUAGES, "label")
    entry = LABELS.get(key)
    if entry is None:
        return key.format(**values) if values else key
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def labels_for(lang: str) -> dict[str, str]:
    """Every label in one language (English where it lacks one): what a template reads."""
    check_choice("lang", lang, LANGUAGES, "labels_for")
    return {key: entry.get(lang) or entry["en"] for key, entry in LABELS.items()}
