"""The words of the audit run, its status and its summary, in English, Spanish and French.

One dict, key -> {"en", "es", "fr"}, as :mod:`safercities.report.labels`, so that it converts to gettext
catalogs mechanically; placeholders are ``str.format`` names.
"""

from __future__ import annotations

from typing import Any

from safercities.config import LANGUAGES
from safercities.errors import check_choice

LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Local safety audit", "es": "Auditoría local de seguridad", "fr": "Diagnostic local de sécurité"},
    "intro": {
        "en": "This summary presents the quantitative diagnosis of {city}: how its {areas} communities compare on "
        "{dimensions} dimensions of safety, which communities were chosen for focus groups, interviews and "
        "safety walks, and, where that fieldwork has been done, the priority problems it points to. Every "
        "figure can be traced to its data in the tables of the audit folder.",
        "es": "Este resumen presenta el diagnóstico cuantitativo de {city}: cómo se comparan sus {areas} "
        "comunidades en {dimensions} dimensiones de la seguridad, qué comunidades se eligieron para grupos "
        "focales, entrevistas y recorridos exploratorios y, donde ese trabajo de campo ya se hizo, los problemas "
        "prioritarios que señala. Cada cifra remite a sus datos en las tablas de la carpeta de la auditoría.",
        "fr": "Ce résumé présente le diagnostic quantitatif de {city} : comment ses {areas} communautés se "
        "comparent sur {dimensions} dimensions de la sécurité, quelles communautés ont été retenues pour les "
        "groupes de discussion, les entretiens et les marches exploratoires et, là où ce travail de terrain a "
        "été fait, les problèmes prioritaires qu'il désigne. Chaque chiffre renvoie à ses données dans les "
        "tableaux du dossier du diagnostic.",
    },
    "meta": {
        "en": "Framework: {framework} (version {version}) · data up to {as_of} · audit {audit} · safercities {sc}",
        "es": "Marco: {framework} (versión {version}) · datos hasta el {as_of} · auditoría {audit} · safercities {sc}",
        "fr": "Cadre : {framework} (version {version}) · données jusqu'au {as_of} · diagnostic {audit} · "
        "safercities {sc}",
    },
    "contents": {"en": "Contents", "es": "Contenido", "fr": "Sommaire"},
    # sections
    "done.title": {"en": "What was done", "es": "Qué se hizo", "fr": "Ce qui a été fait"},
    "headlines.title": {"en": "Main findings", "es": "Hallazgos principales", "fr": "Principaux constats"},
    "ranking.title": {
        "en": "Communities ranked by the overall index",
        "es": "Comunidades ordenadas por el índice general",
        "fr": "Communautés classées selon l'indice général",
    },
    "selection.title": {
        "en": "Communities selected for fieldwork",
        "es": "Comunidades seleccionadas para el trabajo de campo",
        "fr": "Communautés retenues pour le travail de terrain",
    },
    "priorities.title": {"en": "Priority problems", "es": "Problemas prioritarios", "fr": "Problèmes prioritaires"},
    "missing.title": {"en": "What is missing", "es": "Qué falta", "fr": "Ce qui manque"},
    "reproduce.title": {
        "en": "How to reproduce this audit",
        "es": "Cómo reproducir esta auditoría",
        "fr": "Comment reproduire ce diagnostic",
    },
    # steps
    "step": {"en": "Step {n}", "es": "Paso {n}", "fr": "Étape {n}"},
    "step.1": {"en": "Quantitative diagnosis", "es": "Diagnóstico cuantitativo", "fr": "Diagnostic quantitatif"},
    "step.2": {
        "en": "Selection of communities and fieldwork",
        "es": "Selección de comunidades y trabajo de campo",
        "fr": "Choix des communautés et travail de terrain",
    },
    "step.3": {"en": "Integrated analysis", "es": "Análisis integrado", "fr": "Analyse intégrée"},
    "step.4": {"en": "Priorities", "es": "Prioridades", "fr": "Priorités"},
    "step.5": {"en": "Implementation", "es": "Implementación", "fr": "Mise en œuvre"},
    "step.1.done": {
        "en": "{used} of the framework's {total} indicators had values for the {areas} communities "
        "({level}); they were combined into a score per dimension and an overall score ({normalisation} "
        "normalisation, {aggregation} mean, {weights}). {draws} simulations that vary these choices give each "
        "community's rank an interval.",
        "es": "{used} de los {total} indicadores del marco tenían valores para las {areas} comunidades "
        "({level}); se combinaron en una puntuación por dimensión y una general (normalización {normalisation}, "
        "media {aggregation}, {weights}). {draws} simulaciones que varían estas elecciones dan a la posición "
        "de cada comunidad un intervalo.",
        "fr": "{used} des {total} indicateurs du cadre avaient des valeurs pour les {areas} communautés "
        "({level}) ; ils ont été combinés en un score par dimension et un score général (normalisation "
        "{normalisation}, moyenne {aggregation}, {weights}). {draws} simulations qui font varier ces choix "
        "donnent au rang de chaque communauté un intervalle.",
    },
    "step.2.done": {
        "en": "{selected} communities were drawn by lot within strata of {indicator} (seed {seed}). Fieldwork "
        "held: {sessions} focus groups and interviews ({segments} coded segments), {walks} safety-walk "
        "observations.",
        "es": "Se sortearon {selected} comunidades dentro de estratos de {indicator} (semilla {seed}). Trabajo "
        "de campo registrado: {sessions} grupos focales y entrevistas ({segments} fragmentos codificados), "
        "{walks} observaciones de recorridos exploratorios.",
        "fr": "{selected} communautés ont été tirées au sort dans des strates de {indicator} (graine {seed}). "
        "Travail de terrain enregistré : {sessions} groupes de discussion et entretiens ({segments} extraits "
        "codés), {walks} observations de marches exploratoires.",
    },
    "step.3.done": {
        "en": "Indicators, fieldwork codes, walk ratings{survey} were brought together for {communities} "
        "communities: {disagreements} places where the sources disagree.",
        "es": "Se reunieron indicadores, códigos del trabajo de campo, calificaciones de recorridos{survey} para "
        "{communities} comunidades: {disagreements} casos en que las fuentes no coinciden.",
        "fr": "Indicateurs, codes du travail de terrain, notes des marches{survey} ont été réunis pour "
        "{communities} communautés : {disagreements} cas où les sources divergent.",
    },
    "step.3.survey": {
        "en": " and survey perceptions",
        "es": " y percepciones de la encuesta",
        "fr": " et perceptions de l'enquête",
    },  # fmt: skip
    "step.3.skipped": {
        "en": "Not yet: it needs the records of focus groups and interviews or of safety walks in the selected "
        "communities.",
        "es": "Todavía no: necesita los registros de grupos focales y entrevistas o de recorridos exploratorios "
        "en las comunidades seleccionadas.",
        "fr": "Pas encore : elle demande les comptes rendus des groupes de discussion et entretiens ou des marches "
        "exploratoires dans les communautés retenues.",
    },
    "step.4.done": {
        "en": "The problems of each community and of the city were ranked by a written rule (severity in the "
        "indicators, frequency in the fieldwork, walks, perceptions).",
        "es": "Los problemas de cada comunidad y de la ciudad se ordenaron con una regla escrita (gravedad en los "
        "indicadores, frecuencia en el trabajo de campo, recorridos, percepciones).",
        "fr": "Les problèmes de chaque communauté et de la ville ont été classés selon une règle écrite (gravité "
        "dans les indicateurs, fréquence dans le travail de terrain, marches, perceptions).",
    },
    "step.4.skipped": {
        "en": "Not yet: priorities follow from the integrated analysis.",
        "es": "Todavía no: las prioridades se derivan del análisis integrado.",
        "fr": "Pas encore : les priorités découlent de l'analyse intégrée.",
    },
    "weights.equal": {"en": "equal weights", "es": "pesos iguales", "fr": "poids égaux"},
    "weights.given": {
        "en": "weights set by the team",
        "es": "pesos fijados por el equipo",
        "fr": "poids fixés par l'équipe",
    },  # fmt: skip
    "normalisation.minmax": {"en": "min-max", "es": "mín-máx", "fr": "min-max"},
    "normalisation.zscore": {"en": "z-score", "es": "puntuación z", "fr": "score z"},
    "normalisation.rank": {"en": "rank", "es": "por rangos", "fr": "par rangs"},
    "normalisation.distance_to_target": {
        "en": "distance to target",
        "es": "distancia a la meta",
        "fr": "distance à la cible",
    },  # fmt: skip
    "normalisation.goalposts": {"en": "goalposts", "es": "límites fijos", "fr": "bornes fixes"},
    "aggregation.arithmetic": {"en": "arithmetic", "es": "aritmética", "fr": "arithmétique"},
    "aggregation.geometric": {"en": "geometric", "es": "geométrica", "fr": "géométrique"},
    # headlines
    "headline.worst": {
        "en": "The communities in the worst overall situation are {list}.",
        "es": "Las comunidades en peor situación general son {list}.",
        "fr": "Les communautés dans la situation générale la plus difficile sont {list}.",
    },
    "headline.robust": {
        "en": "{count} of them stay among the worst {k} in at least 9 of 10 simulations (their whole rank "
        "interval is within the first {k}).",
        "es": "{count} de ellas permanecen entre las {k} peores en al menos 9 de cada 10 simulaciones (todo su "
        "intervalo de posición cae dentro de las primeras {k}).",
        "fr": "{count} d'entre elles restent parmi les {k} plus difficiles dans au moins 9 simulations sur 10 "
        "(tout leur intervalle de rang est dans les {k} premiers).",
    },
    "headline.driver": {
        "en": "The order depends most on {factor}: it explains {share} of the variation of the ranks.",
        "es": "El orden depende sobre todo de {factor}: explica el {share} de la variación de las posiciones.",
        "fr": "L'ordre dépend surtout {factor} : il explique {share} de la variation des rangs.",
    },
    "factor.normalisation": {
        "en": "how indicators are put on a common scale",
        "es": "cómo se llevan los indicadores a una escala común",
        "fr": "de la mise à l'échelle commune des indicateurs",
    },  # fmt: skip
    "factor.weights": {
        "en": "the weights of indicators and dimensions",
        "es": "los pesos de indicadores y dimensiones",
        "fr": "des poids des indicateurs et des dimensions",
    },  # fmt: skip
    "factor.aggregation": {
        "en": "the kind of mean (arithmetic or geometric)",
        "es": "el tipo de media (aritmética o geométrica)",
        "fr": "du type de moyenne (arithmétique ou géométrique)",
    },  # fmt: skip
    "factor.exclusion": {
        "en": "which indicators are included",
        "es": "qué indicadores se incluyen",
        "fr": "des indicateurs retenus",
    },  # fmt: skip
    "headline.selected": {
        "en": "{count} communities were selected for fieldwork: {high} of high, {medium} of medium and {low} of "
        "low {indicator}.",
        "es": "Se seleccionaron {count} comunidades para el trabajo de campo: {high} de nivel alto, {medium} "
        "medio y {low} bajo de {indicator}.",
        "fr": "{count} communautés ont été retenues pour le travail de terrain : {high} de niveau haut, {medium} "
        "moyen et {low} bas de {indicator}.",
    },
    "headline.priorities": {
        "en": "City-wide, the first priority problems are {list}.",
        "es": "A escala de la ciudad, los primeros problemas prioritarios son {list}.",
        "fr": "À l'échelle de la ville, les premiers problèmes prioritaires sont {list}.",
    },
    "headline.no_priorities": {
        "en": "Priority problems are not set yet: they need the fieldwork in the selected communities.",
        "es": "Los problemas prioritarios aún no se fijan: requieren el trabajo de campo en las comunidades "
        "seleccionadas.",
        "fr": "Les problèmes prioritaires ne sont pas encore établis : ils demandent le travail de terrain dans "
        "les communautés retenues.",
    },
    "headline.disagreements": {
        "en": "In {count} communities the sources disagree (for instance high fear but low recorded crime): "
        "see the priorities section.",
        "es": "En {count} comunidades las fuentes no coinciden (por ejemplo, mucho temor pero pocos delitos "
        "registrados): véase la sección de prioridades.",
        "fr": "Dans {count} communautés les sources divergent (par exemple une forte peur mais peu de faits "
        "enregistrés) : voir la section des priorités.",
    },
    "headline.maturity": {
        "en": "Data maturity: {level} ({value}/4), set by the weakest criterion: {weakest}.",
        "es": "Madurez de los datos: {level} ({value}/4), fijada por el criterio más débil: {weakest}.",
        "fr": "Maturité des données : {level} ({value}/4), fixée par le critère le plus faible : {weakest}.",
    },
    # ranking
    "ranking.intro": {
        "en": "Rank 1 is the community in the worst situation. The bar shows the rank interval: the ranks the "
        "community took in 90% of the simulations that vary the normalisation, the weights, the mean and the "
        "indicators included; the dot is its rank with the choices of this audit. Two communities whose bars "
        "overlap are not clearly apart.",
        "es": "La posición 1 es la comunidad en peor situación. La barra muestra el intervalo de la posición: las "
        "posiciones que tomó la comunidad en el 90% de las simulaciones que varían la normalización, los "
        "pesos, la media y los indicadores incluidos; el punto es su posición con las elecciones de esta "
        "auditoría. Dos comunidades cuyas barras se superponen no están claramente separadas.",
        "fr": "Le rang 1 est la communauté dans la situation la plus difficile. La barre montre l'intervalle de "
        "rang : les rangs pris par la communauté dans 90 % des simulations qui font varier la normalisation, "
        "les poids, la moyenne et les indicateurs retenus ; le point est son rang avec les choix de ce "
        "diagnostic. Deux communautés dont les barres se chevauchent ne sont pas nettement distinctes.",
    },
    "col.rank": {"en": "Rank", "es": "Posición", "fr": "Rang"},
    "col.interval": {"en": "Rank interval", "es": "Intervalo de posición", "fr": "Intervalle de rang"},
    "col.community": {"en": "Community", "es": "Comunidad", "fr": "Communauté"},
    "col.score": {"en": "Score", "es": "Puntuación", "fr": "Score"},
    "col.worst_dimension": {
        "en": "Worst dimension (rank)",
        "es": "Peor dimensión (posición)",
        "fr": "Dimension la plus difficile (rang)",
    },  # fmt: skip
    "col.selected": {"en": "Fieldwork", "es": "Trabajo de campo", "fr": "Terrain"},
    "col.stratum": {"en": "Stratum", "es": "Estrato", "fr": "Strate"},
    "col.value": {"en": "Value", "es": "Valor", "fr": "Valeur"},
    "col.reason": {"en": "Why it was chosen", "es": "Por qué se eligió", "fr": "Pourquoi elle a été retenue"},
    "col.problem": {"en": "Problem", "es": "Problema", "fr": "Problème"},
    "col.risk_factors": {
        "en": "Linked risk factors",
        "es": "Factores de riesgo asociados",
        "fr": "Facteurs de risque associés",
    },  # fmt: skip
    "col.evidence": {"en": "Evidence", "es": "Evidencia", "fr": "Éléments probants"},
    "col.dimension": {"en": "Dimension", "es": "Dimensión", "fr": "Dimension"},
    "col.indicators": {
        "en": "Indicators without values",
        "es": "Indicadores sin valores",
        "fr": "Indicateurs sans valeurs",
    },  # fmt: skip
    "col.criterion": {"en": "Criterion", "es": "Criterio", "fr": "Critère"},
    "col.level": {"en": "Level", "es": "Nivel", "fr": "Niveau"},
    "col.detail": {"en": "Detail", "es": "Detalle", "fr": "Détail"},
    "selected.mark": {
        "en": "selected ({stratum})",
        "es": "seleccionada ({stratum})",
        "fr": "retenue ({stratum})",
    },  # fmt: skip
    "overall": {"en": "Overall", "es": "General", "fr": "Général"},
    "score_of": {"en": "{name} score", "es": "puntuación de {name}", "fr": "score de {name}"},
    "not_scored": {
        "en": "{count} communities have too few indicator values to be scored: {list}.",
        "es": "{count} comunidades tienen muy pocos valores de indicadores para puntuarse: {list}.",
        "fr": "{count} communautés ont trop peu de valeurs d'indicateurs pour recevoir un score : {list}.",
    },
    # selection
    "selection.intro": {
        "en": "Communities were placed in three strata (high, medium, low) of {indicator} and drawn by lot within "
        "each stratum. The lot of each community is a number anyone can recompute from the seed, so the draw "
        "can be checked; excluding a community changes only its replacement.",
        "es": "Las comunidades se agruparon en tres estratos (alto, medio, bajo) de {indicator} y se sortearon "
        "dentro de cada estrato. El número de sorteo de cada comunidad puede recalcularse a partir de la "
        "semilla, de modo que el sorteo es verificable; excluir una comunidad solo cambia su reemplazo.",
        "fr": "Les communautés ont été réparties en trois strates (haute, moyenne, basse) de {indicator} et "
        "tirées au sort dans chaque strate. Le numéro de tirage de chaque communauté se recalcule à partir de "
        "la graine : le tirage est vérifiable ; exclure une communauté ne change que son remplacement.",
    },
    "selection.map_alt": {
        "en": "Map of the selected communities",
        "es": "Mapa de las comunidades seleccionadas",
        "fr": "Carte des communautés retenues",
    },  # fmt: skip
    # priorities
    "priorities.intro": {
        "en": "Each problem's score weighs its severity in the indicators, how often the community's groups "
        "raised it, what the safety walks saw and (when a survey is held) what residents perceive. The rank "
        "interval comes from resampling the focus groups and walk observations.",
        "es": "La puntuación de cada problema pondera su gravedad en los indicadores, con qué frecuencia lo "
        "mencionaron los grupos de la comunidad, lo observado en los recorridos y (si hay encuesta) lo que "
        "percibe la población. El intervalo de posición proviene de remuestrear los grupos focales y las "
        "observaciones de los recorridos.",
        "fr": "Le score de chaque problème pondère sa gravité dans les indicateurs, la fréquence à laquelle les "
        "groupes de la communauté l'ont évoqué, ce que les marches ont observé et (s'il y a une enquête) ce que "
        "perçoivent les habitants. L'intervalle de rang vient d'un rééchantillonnage des groupes et des "
        "observations des marches.",
    },
    "priorities.city": {"en": "City-wide", "es": "En toda la ciudad", "fr": "À l'échelle de la ville"},
    "priorities.community": {"en": "By community", "es": "Por comunidad", "fr": "Par communauté"},
    "priorities.rule": {"en": "Rule", "es": "Regla", "fr": "Règle"},
    "priorities.none": {
        "en": "No priorities yet: import the fieldwork records (`safercities import fieldwork FILE`) and the "
        "safety walks (`safercities import walks FILE`) of the selected communities, then run the audit again.",
        "es": "Aún no hay prioridades: importe los registros del trabajo de campo (`safercities import fieldwork "
        "FILE`) y los recorridos (`safercities import walks FILE`) de las comunidades seleccionadas y vuelva a "
        "ejecutar la auditoría.",
        "fr": "Pas encore de priorités : importez les comptes rendus du terrain (`safercities import fieldwork "
        "FILE`) et les marches (`safercities import walks FILE`) des communautés retenues, puis relancez le "
        "diagnostic.",
    },
    "disagreements.title": {
        "en": "Where the sources disagree",
        "es": "Dónde no coinciden las fuentes",
        "fr": "Là où les sources divergent",
    },  # fmt: skip
    "profile": {
        "en": "threat {threat} × vulnerability {vulnerability} / (1 + capacity {capacity}) = risk {risk}",
        "es": "amenaza {threat} × vulnerabilidad {vulnerability} / (1 + capacidad {capacity}) = riesgo {risk}",
        "fr": "menace {threat} × vulnérabilité {vulnerability} / (1 + capacité {capacity}) = risque {risk}",
    },
    "evidence.indicator": {"en": "indicator", "es": "indicador", "fr": "indicateur"},
    "evidence.quote": {"en": "quote", "es": "cita", "fr": "citation"},
    "evidence.walk": {"en": "safety walk", "es": "recorrido", "fr": "marche"},
    "evidence.survey": {"en": "survey", "es": "encuesta", "fr": "enquête"},
    "evidence.indicator_text": {
        "en": "{name}: {value}{interval} {unit} ({period}), worse than {share} of {n} communities",
        "es": "{name}: {value}{interval} {unit} ({period}), peor que el {share} de {n} comunidades",
        "fr": "{name} : {value}{interval} {unit} ({period}), plus défavorable que {share} des {n} communautés",
    },
    "evidence.walk_text": {
        "en": "{category} rated {mean} out of 5 on the safety walks (n = {n}{interval})",
        "es": "{category} calificada con {mean} de 5 en los recorridos (n = {n}{interval})",
        "fr": "{category} notée {mean} sur 5 lors des marches (n = {n}{interval})",
    },
    "evidence.ci": {"en": ", 95% CI {lo}–{hi}", "es": ", IC 95% {lo}–{hi}", "fr": ", IC 95 % {lo}–{hi}"},
    "col.where": {
        "en": "Among the first priorities of (rank)",
        "es": "Entre las primeras prioridades de (posición)",
        "fr": "Parmi les premières priorités de (rang)",
    },
    # missing
    "missing.intro": {
        "en": "What the audit could not use yet, and what would complete it.",
        "es": "Lo que la auditoría aún no pudo usar y lo que la completaría.",
        "fr": "Ce que le diagnostic n'a pas encore pu utiliser, et ce qui le compléterait.",
    },
    "missing.indicators": {
        "en": "{count} indicators of the framework have no usable values for the communities:",
        "es": "{count} indicadores del marco no tienen valores utilizables para las comunidades:",
        "fr": "{count} indicateurs du cadre n'ont pas de valeurs utilisables pour les communautés :",
    },
    "missing.none": {"en": "Nothing is missing.", "es": "No falta nada.", "fr": "Rien ne manque."},
    "missing.unselected_fieldwork": {
        "en": "Fieldwork was recorded in communities that the selection did not draw: {list}.",
        "es": "Hay trabajo de campo registrado en comunidades que la selección no sorteó: {list}.",
        "fr": "Du travail de terrain a été enregistré dans des communautés que le tirage n'a pas retenues : {list}.",
    },
    "missing.selected_without_fieldwork": {
        "en": "{count} selected communities have no fieldwork yet: {list}.",
        "es": "{count} comunidades seleccionadas aún no tienen trabajo de campo: {list}.",
        "fr": "{count} communautés retenues n'ont pas encore de travail de terrain : {list}.",
    },
    "status.no_value": {"en": "no value", "es": "sin valor", "fr": "aucune valeur"},
    "status.other_level": {
        "en": "held for another level only",
        "es": "solo para otro nivel",
        "fr": "seulement pour un autre niveau",
    },  # fmt: skip
    "status.single_value": {"en": "a single community", "es": "una sola comunidad", "fr": "une seule communauté"},
    "status.constant": {"en": "the same everywhere", "es": "igual en todas", "fr": "identique partout"},
    "maturity.title": {"en": "Data maturity", "es": "Madurez de los datos", "fr": "Maturité des données"},
    # reproduce
    "reproduce.intro": {
        "en": "The same data and the same command give the same audit, file for file. Its fingerprint {hash} is "
        "the SHA-256 of the imported files' hashes, the framework and the parameters. The folder of this audit "
        "holds every table as CSV and Parquet, and the manifest audit.json with every hash and parameter.",
        "es": "Los mismos datos y el mismo comando dan la misma auditoría, archivo por archivo. Su huella {hash} "
        "es el SHA-256 de las huellas de los archivos importados, del marco y de los parámetros. La carpeta de "
        "esta auditoría contiene cada tabla en CSV y Parquet, y el manifiesto audit.json con cada huella y "
        "parámetro.",
        "fr": "Les mêmes données et la même commande donnent le même diagnostic, fichier pour fichier. Son "
        "empreinte {hash} est le SHA-256 des empreintes des fichiers importés, du cadre et des paramètres. Le "
        "dossier de ce diagnostic contient chaque tableau en CSV et Parquet, et le manifeste audit.json avec "
        "chaque empreinte et paramètre.",
    },
    "reproduce.imports": {"en": "Imported files", "es": "Archivos importados", "fr": "Fichiers importés"},
    "reproduce.parameters": {"en": "Parameters", "es": "Parámetros", "fr": "Paramètres"},
    # status (safercities audit status)
    "status.ready": {"en": "ready", "es": "listo", "fr": "prêt"},
    "status.partial": {"en": "partial", "es": "parcial", "fr": "partiel"},
    "status.blocked": {"en": "missing data", "es": "faltan datos", "fr": "données manquantes"},
    "status.outside": {
        "en": "outside the audit run",
        "es": "fuera de la ejecución de la auditoría",
        "fr": "hors de l'exécution du diagnostic",
    },  # fmt: skip
    "need.areas": {
        "en": "no areas at level '{level}': import the area boundaries (`safercities import areas FILE`)",
        "es": "no hay zonas del nivel '{level}': importe los límites (`safercities import areas FILE`)",
        "fr": "aucune zone du niveau '{level}' : importez les limites (`safercities import areas FILE`)",
    },
    "need.few_areas": {
        "en": "only {count} areas at level '{level}': the index and the selection need at least three",
        "es": "solo {count} zonas del nivel '{level}': el índice y la selección necesitan al menos tres",
        "fr": "seulement {count} zones du niveau '{level}' : l'indice et le tirage en demandent au moins trois",
    },
    "need.indicators": {
        "en": "dimension '{dimension}': no values for {count} of its {total} indicators ({list})",
        "es": "dimensión '{dimension}': sin valores para {count} de sus {total} indicadores ({list})",
        "fr": "dimension « {dimension} » : aucune valeur pour {count} de ses {total} indicateurs ({list})",
    },
    "need.no_indicator": {
        "en": "no indicator has values for two or more areas: import indicator values "
        "(`safercities import indicators FILE`) or incidents for the formula indicators",
        "es": "ningún indicador tiene valores para dos o más zonas: importe valores de indicadores "
        "(`safercities import indicators FILE`) o incidentes para los indicadores por fórmula",
        "fr": "aucun indicateur n'a de valeurs pour deux zones ou plus : importez des valeurs d'indicateurs "
        "(`safercities import indicators FILE`) ou des faits pour les indicateurs par formule",
    },
    "need.selection": {
        "en": "the selection indicator '{indicator}' has values for fewer than three areas",
        "es": "el indicador de selección '{indicator}' tiene valores para menos de tres zonas",
        "fr": "l'indicateur de sélection « {indicator} » a des valeurs pour moins de trois zones",
    },
    "need.fieldwork": {
        "en": "no fieldwork yet: import the focus groups and interviews (`safercities import fieldwork FILE`)",
        "es": "aún no hay trabajo de campo: importe los grupos focales y entrevistas "
        "(`safercities import fieldwork FILE`)",
        "fr": "pas encore de travail de terrain : importez les groupes de discussion et entretiens "
        "(`safercities import fieldwork FILE`)",
    },
    "need.walks": {
        "en": "no safety walks yet: import the walk observations (`safercities import walks FILE`)",
        "es": "aún no hay recorridos exploratorios: importe las observaciones (`safercities import walks FILE`)",
        "fr": "pas encore de marches exploratoires : importez les observations (`safercities import walks FILE`)",
    },
    "need.survey": {
        "en": "no victimisation survey: perceptions (fear, trust, reporting) will be missing from the evidence "
        "(`safercities import survey FILE --design DESIGN`)",
        "es": "no hay encuesta de victimización: faltarán las percepciones (temor, confianza, denuncia) en la "
        "evidencia (`safercities import survey FILE --design DESIGN`)",
        "fr": "pas d'enquête de victimation : les perceptions (peur, confiance, signalement) manqueront aux "
        "éléments probants (`safercities import survey FILE --design DESIGN`)",
    },
    "need.fieldwork_or_walks": {
        "en": "needs fieldwork or safety walks (step 2)",
        "es": "requiere trabajo de campo o recorridos (paso 2)",
        "fr": "demande du travail de terrain ou des marches (étape 2)",
    },
    "need.step1": {
        "en": "needs the quantitative diagnosis (step 1)",
        "es": "requiere el diagnóstico cuantitativo (paso 1)",
        "fr": "demande le diagnostic quantitatif (étape 1)",
    },
    "need.plan": {
        "en": "the action plan and its monitoring are kept by the plan module, not by `safercities audit run`",
        "es": "el plan de acción y su seguimiento corresponden al módulo de planes, no a `safercities audit run`",
        "fr": "le plan d'action et son suivi relèvent du module de plan, pas de `safercities audit run`",
    },
}


def text(key: str, lang: str, **values: Any) -> str:
    """The label ``key`` in ``lang``, with its placeholders filled."""
    check_choice("lang", lang, LANGUAGES, "audit labels")
    return LABELS[key][lang].format(**values) if values else LABELS[key][lang]
