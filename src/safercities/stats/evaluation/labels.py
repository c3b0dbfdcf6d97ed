"""The words of the evaluation results in English, Spanish and French: the assumptions each estimate rests on.

One dict, key -> {"en", "es", "fr"}, as :mod:`safercities.report.labels` keeps them, so that it converts to gettext
catalogs mechanically. Every result object of :mod:`safercities.stats.evaluation` carries a tuple of these keys in
``assumptions``; :func:`describe` turns them into sentences for a report.
"""

from __future__ import annotations

from safercities.errors import check_choice

LANGUAGES = ("en", "es", "fr")

ASSUMPTIONS: dict[str, dict[str, str]] = {
    # difference-in-differences
    "did.parallel_trends": {
        "en": "Parallel trends: without the intervention, crime in the treated and comparison areas would have "
        "changed by the same percentage (the model is multiplicative, so trends are parallel on the log scale).",
        "es": "Tendencias paralelas: sin la intervención, el delito en las áreas intervenidas y de comparación "
        "habría cambiado en el mismo porcentaje (el modelo es multiplicativo: tendencias paralelas en escala "
        "logarítmica).",
        "fr": "Tendances parallèles : sans l'intervention, la délinquance des zones traitées et des zones de "
        "comparaison aurait évolué du même pourcentage (le modèle est multiplicatif : tendances parallèles en "
        "échelle logarithmique).",
    },
    "did.no_anticipation": {
        "en": "No anticipation: nothing changed in the treated areas before the start date because of the "
        "intervention.",
        "es": "Sin anticipación: nada cambió en las áreas intervenidas antes de la fecha de inicio a causa de la "
        "intervención.",
        "fr": "Pas d'anticipation : rien n'a changé dans les zones traitées avant la date de début du fait de "
        "l'intervention.",
    },
    "did.no_spillover": {
        "en": "No spillover: the comparison areas were not affected by the intervention (no displacement into them, "
        "no diffusion of benefits to them); buffer areas are left out of the comparison for this reason.",
        "es": "Sin contagio: las áreas de comparación no se vieron afectadas por la intervención (ni desplazamiento "
        "hacia ellas ni difusión de beneficios); por eso las áreas de amortiguamiento quedan fuera de la "
        "comparación.",
        "fr": "Pas de contagion : les zones de comparaison n'ont pas été touchées par l'intervention (ni "
        "déplacement vers elles, ni diffusion des bénéfices) ; les zones tampons sont exclues de la comparaison "
        "pour cette raison.",
    },
    "did.clusters": {
        "en": "Enough areas: standard errors are cluster-robust by area, which needs many areas (a few dozen); with "
        "few treated areas the interval is too narrow.",
        "es": "Suficientes áreas: los errores estándar son robustos por conglomerado (área), lo que requiere muchas "
        "áreas (unas decenas); con pocas áreas intervenidas el intervalo resulta demasiado estrecho.",
        "fr": "Assez de zones : les erreurs types sont robustes par grappe (zone), ce qui demande de nombreuses "
        "zones (quelques dizaines) ; avec peu de zones traitées l'intervalle est trop étroit.",
    },
    "count.poisson": {
        "en": "Poisson mean model: the log of expected counts is area effect + period effect + treatment effect; "
        "the estimate stays consistent when counts are overdispersed, and the cluster-robust errors allow for it.",
        "es": "Modelo de media de Poisson: el logaritmo de los conteos esperados es efecto de área + efecto de "
        "periodo + efecto del tratamiento; la estimación sigue siendo consistente con sobredispersión y los errores "
        "robustos la toman en cuenta.",
        "fr": "Modèle de moyenne de Poisson : le logarithme des comptages attendus est effet de zone + effet de "
        "période + effet du traitement ; l'estimation reste convergente en cas de surdispersion, que les erreurs "
        "robustes prennent en compte.",
    },
    "count.negbin": {
        "en": "Negative binomial (NB2) counts: variance = mean + alpha x mean squared, with alpha estimated by "
        "maximum likelihood.",
        "es": "Conteos binomiales negativos (NB2): varianza = media + alfa x media al cuadrado, con alfa estimado "
        "por máxima verosimilitud.",
        "fr": "Comptages binomiaux négatifs (NB2) : variance = moyenne + alpha x moyenne au carré, alpha estimé "
        "par maximum de vraisemblance.",
    },
    "common.recording": {
        "en": "Stable recording: the share of crimes that reach the police records (reporting and recording "
        "practice) did not change differently in the groups compared; otherwise a change in reporting reads as a "
        "change in crime.",
        "es": "Registro estable: la proporción de delitos que llega a los registros policiales (denuncia y "
        "registro) no cambió de manera distinta en los grupos comparados; de lo contrario, un cambio en la denuncia "
        "se lee como un cambio en el delito.",
        "fr": "Enregistrement stable : la part des infractions qui parvient aux registres de police (plainte et "
        "enregistrement) n'a pas évolué différemment entre les groupes comparés ; sinon un changement de plainte "
        "se lit comme un changement de délinquance.",
    },
    "common.no_concurrent": {
        "en": "No concurrent event: nothing else that affects crime began at the same time in only one of the "
        "groups compared (another programme, a change of police strategy, a boundary change).",
        "es": "Sin acontecimientos simultáneos: nada más que afecte al delito comenzó al mismo tiempo en solo uno de "
        "los grupos comparados (otro programa, un cambio de estrategia policial, un cambio de límites).",
        "fr": "Pas d'événement concomitant : rien d'autre qui agisse sur la délinquance n'a commencé au même moment "
        "dans un seul des groupes comparés (autre programme, changement de stratégie policière, de limites).",
    },
    # interrupted time series
    "its.trend_continues": {
        "en": "The pre-period trend and seasonal pattern would have continued unchanged after the start date had "
        "there been no intervention.",
        "es": "La tendencia y el patrón estacional del periodo previo habrían continuado sin cambios después de la "
        "fecha de inicio si no hubiera habido intervención.",
        "fr": "La tendance et le profil saisonnier de la période antérieure se seraient poursuivis sans changement "
        "après la date de début en l'absence d'intervention.",
    },
    "its.autocorrelation": {
        "en": "Serial correlation: Newey-West (HAC) standard errors allow residual autocorrelation up to the lag "
        "stated; the Ljung-Box test on the residuals says whether some remains.",
        "es": "Correlación serial: los errores estándar de Newey-West (HAC) admiten autocorrelación de los residuos "
        "hasta el rezago indicado; la prueba de Ljung-Box sobre los residuos dice si queda alguna.",
        "fr": "Corrélation sérielle : les erreurs types de Newey-West (HAC) admettent une autocorrélation des "
        "résidus jusqu'au retard indiqué ; le test de Ljung-Box sur les résidus dit s'il en reste.",
    },
    "its.independence": {
        "en": "Independent residuals: no serial correlation was detected (Ljung-Box), so model-based errors are used, "
        "scaled up by the Pearson dispersion when counts vary more than a Poisson model allows.",
        "es": "Residuos independientes: no se detectó correlación serial (Ljung-Box), por lo que se usan los errores "
        "del modelo, ampliados por la dispersión de Pearson cuando los conteos varían más de lo que permite Poisson.",
        "fr": "Résidus indépendants : aucune corrélation sérielle n'a été détectée (Ljung-Box), les erreurs du modèle "
        "sont donc utilisées, élargies par la dispersion de Pearson quand les comptages varient plus que Poisson ne "
        "le permet.",
    },
    "its.length": {
        "en": "Enough points on each side: a common rule is at least 12 monthly points before and after the start; "
        "with fewer, trend and seasonality are poorly separated from the effect.",
        "es": "Suficientes puntos a cada lado: una regla habitual es al menos 12 puntos mensuales antes y después del "
        "inicio; con menos, la tendencia y la estacionalidad se separan mal del efecto.",
        "fr": "Assez de points de chaque côté : une règle courante est d'au moins 12 points mensuels avant et après "
        "le début ; avec moins, tendance et saisonnalité se distinguent mal de l'effet.",
    },
    "its.poisson": {
        "en": "Poisson mean model: the log of expected counts is a trend, seasonal terms and the intervention terms; "
        "the estimate stays consistent when counts are overdispersed, and the robust errors allow for it.",
        "es": "Modelo de media de Poisson: el logaritmo de los conteos esperados es una tendencia, términos "
        "estacionales y los términos de la intervención; la estimación sigue siendo consistente con "
        "sobredispersión y los errores robustos la toman en cuenta.",
        "fr": "Modèle de moyenne de Poisson : le logarithme des comptages attendus est une tendance, des termes "
        "saisonniers et les termes de l'intervention ; l'estimation reste convergente en cas de surdispersion, que "
        "les erreurs robustes prennent en compte.",
    },
    "its.no_concurrent": {
        "en": "No concurrent event: nothing else that affects crime (another programme, a change of police "
        "strategy, a new recording system) began at the start date.",
        "es": "Sin acontecimientos simultáneos: nada más que afecte al delito (otro programa, un cambio de "
        "estrategia policial, un nuevo sistema de registro) comenzó en la fecha de inicio.",
        "fr": "Pas d'événement concomitant : rien d'autre qui agisse sur la délinquance (autre programme, "
        "changement de stratégie policière, nouveau système d'enregistrement) n'a commencé à la date de début.",
    },
    "its.recording": {
        "en": "Stable recording: the share of crimes that reach the police records did not change at the start "
        "date; an intervention that encourages reporting can hide its own effect.",
        "es": "Registro estable: la proporción de delitos que llega a los registros policiales no cambió en la fecha "
        "de inicio; una intervención que fomenta la denuncia puede ocultar su propio efecto.",
        "fr": "Enregistrement stable : la part des infractions qui parvient aux registres de police n'a pas changé à "
        "la date de début ; une intervention qui encourage la plainte peut masquer son propre effet.",
    },
    # synthetic control
    "synth.fit": {
        "en": "Good pre-period fit: a weighted average of comparison areas (weights >= 0 summing to 1) reproduces "
        "the treated outcome before the start; read the pre-period RMSPE before the effect.",
        "es": "Buen ajuste previo: un promedio ponderado de áreas de comparación (pesos >= 0 que suman 1) reproduce "
        "el resultado del área intervenida antes del inicio; lea el RMSPE previo antes que el efecto.",
        "fr": "Bon ajustement préalable : une moyenne pondérée de zones de comparaison (poids >= 0 de somme 1) "
        "reproduit le résultat traité avant le début ; lisez le RMSPE préalable avant l'effet.",
    },
    "synth.no_interference": {
        "en": "Donor areas were not affected by the intervention (no displacement into them) and had no large shock "
        "of their own after the start.",
        "es": "Las áreas donantes no se vieron afectadas por la intervención (sin desplazamiento hacia ellas) ni "
        "sufrieron un choque propio importante después del inicio.",
        "fr": "Les zones donneuses n'ont pas été touchées par l'intervention (pas de déplacement vers elles) et "
        "n'ont pas subi de choc propre important après le début.",
    },
    "synth.placebo": {
        "en": "Placebo inference: the treated unit is exchangeable with the donors under no effect; the p-value is "
        "the rank of its post/pre RMSPE ratio among all units (resolution 1 / number of units) and the interval is "
        "the estimate minus the spread of placebo effects among well-fitted donors.",
        "es": "Inferencia por placebo: sin efecto, la unidad intervenida es intercambiable con las donantes; el "
        "valor p es el rango de su razón RMSPE posterior/previo entre todas las unidades (resolución 1 / número de "
        "unidades) y el intervalo es la estimación menos la dispersión de los efectos placebo de las donantes bien "
        "ajustadas.",
        "fr": "Inférence par placebo : sans effet, l'unité traitée est échangeable avec les donneuses ; la p-valeur "
        "est le rang de son rapport RMSPE après/avant parmi toutes les unités (résolution 1 / nombre d'unités) et "
        "l'intervalle est l'estimation moins la dispersion des effets placebo des donneuses bien ajustées.",
    },
    # displacement
    "wdq.control": {
        "en": "The control area shows what would have happened in the treated and buffer areas: it shares their "
        "trend and is far enough away to receive neither displaced crime nor diffused benefits.",
        "es": "El área de control muestra lo que habría ocurrido en las áreas intervenida y de amortiguamiento: "
        "comparte su tendencia y está lo bastante lejos como para no recibir delito desplazado ni beneficios "
        "difundidos.",
        "fr": "La zone témoin montre ce qui se serait passé dans les zones traitée et tampon : elle partage leur "
        "tendance et est assez éloignée pour ne recevoir ni délinquance déplacée ni bénéfices diffusés.",
    },
    "wdq.buffer": {
        "en": "The buffer is where displaced crime (or diffused benefit) would appear: displacement to other places, "
        "times, targets or offences is not measured.",
        "es": "El área de amortiguamiento es donde aparecería el delito desplazado (o el beneficio difundido): no se "
        "mide el desplazamiento a otros lugares, horas, objetivos o delitos.",
        "fr": "La zone tampon est l'endroit où apparaîtrait la délinquance déplacée (ou le bénéfice diffusé) : le "
        "déplacement vers d'autres lieux, heures, cibles ou infractions n'est pas mesuré.",
    },
    "wdd.poisson": {
        "en": "Independent Poisson counts: the variance of each count equals the count; overdispersed counts make "
        "the standard error too small.",
        "es": "Conteos de Poisson independientes: la varianza de cada conteo es igual al conteo; con sobredispersión "
        "el error estándar resulta demasiado pequeño.",
        "fr": "Comptages de Poisson indépendants : la variance de chaque comptage vaut le comptage ; la "
        "surdispersion rend l'erreur type trop petite.",
    },
    "wdq.resampling": {
        "en": "The WDQ has no standard error of its own; its interval comes from redrawing the six counts as "
        "independent Poisson variables (seeded), and is undefined when the treated area did not improve.",
        "es": "El WDQ no tiene error estándar propio; su intervalo proviene de volver a sortear los seis conteos "
        "como variables de Poisson independientes (con semilla) y no está definido si el área intervenida no mejoró.",
        "fr": "Le WDQ n'a pas d'erreur type propre ; son intervalle vient du retirage des six comptages comme "
        "variables de Poisson indépendantes (avec graine) et n'est pas défini si la zone traitée ne s'est pas "
        "améliorée.",
    },
    # power
    "power.model": {
        "en": "Counts are negative binomial with the stated mean and dispersion, area levels vary (log-normal) but "
        "move together over time, and the effect multiplies the treated areas' mean by the stated ratio from the "
        "start date on.",
        "es": "Los conteos son binomiales negativos con la media y la dispersión indicadas, los niveles de las áreas "
        "varían (log-normal) pero se mueven juntos en el tiempo, y el efecto multiplica la media de las áreas "
        "intervenidas por la razón indicada desde la fecha de inicio.",
        "fr": "Les comptages sont binomiaux négatifs avec la moyenne et la dispersion indiquées, les niveaux des "
        "zones varient (log-normal) mais évoluent ensemble, et l'effet multiplie la moyenne des zones traitées par "
        "le rapport indiqué à partir de la date de début.",
    },
    # cost-benefit and harm
    "cb.unit_costs": {
        "en": "Unit costs transfer: the cost per crime of the table (its country, year and currency) stands for the "
        "cost of a crime in this city; replace the table with local figures where they exist.",
        "es": "Transferencia de costos unitarios: el costo por delito de la tabla (su país, año y moneda) representa "
        "el costo de un delito en esta ciudad; sustituya la tabla por cifras locales donde existan.",
        "fr": "Transfert des coûts unitaires : le coût par infraction de la table (son pays, son année, sa monnaie) "
        "représente le coût d'une infraction dans cette ville ; remplacez la table par des chiffres locaux s'ils "
        "existent.",
    },
    "cb.reporting": {
        "en": "Crimes prevented are counted in recorded crimes; they are divided by the reporting rate when one is "
        "given (unit costs are per crime, recorded or not), and otherwise understate the benefit.",
        "es": "Los delitos evitados se cuentan en delitos registrados; se dividen entre la tasa de denuncia cuando se "
        "indica (los costos unitarios son por delito, registrado o no) y, si no, subestiman el beneficio.",
        "fr": "Les infractions évitées sont comptées en infractions enregistrées ; elles sont divisées par le taux de "
        "plainte s'il est donné (les coûts unitaires sont par infraction, enregistrée ou non) et sinon sous-estiment "
        "le bénéfice.",
    },
    "cb.effect_draws": {
        "en": "The effect's uncertainty is carried by drawing the log rate ratio from its normal sampling "
        "distribution (seeded); the costs of the intervention are taken as known.",
        "es": "La incertidumbre del efecto se propaga sorteando el logaritmo de la razón de tasas de su distribución "
        "muestral normal (con semilla); los costos de la intervención se toman como conocidos.",
        "fr": "L'incertitude de l'effet est propagée en tirant le logarithme du rapport de taux dans sa loi "
        "d'échantillonnage normale (avec graine) ; les coûts de l'intervention sont pris comme connus.",
    },
    "harm.weights": {
        "en": "Harm weights: each offence counts by the days of imprisonment a sentencing guideline sets as the "
        "starting point for a first offender (Cambridge Crime Harm Index style); replace the table with local "
        "guidelines where they exist.",
        "es": "Ponderaciones de daño: cada delito cuenta por los días de prisión que una guía de sentencias fija como "
        "punto de partida para un primer delincuente (al estilo del Cambridge Crime Harm Index); sustituya la tabla "
        "por guías locales donde existan.",
        "fr": "Pondérations de préjudice : chaque infraction compte pour les jours d'emprisonnement qu'un guide de "
        "détermination des peines fixe comme point de départ pour un primo-délinquant (à la manière du Cambridge "
        "Crime Harm Index) ; remplacez la table par des guides locaux s'ils existent.",
    },
}

WORDS: dict[str, dict[str, str]] = {
    "assumptions": {"en": "Assumptions", "es": "Supuestos", "fr": "Hypothèses"},
    "estimate": {"en": "Estimate", "es": "Estimación", "fr": "Estimation"},
    "interval": {"en": "Interval", "es": "Intervalo", "fr": "Intervalle"},
    "displacement": {"en": "displacement", "es": "desplazamiento", "fr": "déplacement"},
    "diffusion": {"en": "diffusion of benefits", "es": "difusión de beneficios", "fr": "diffusion des bénéfices"},
    "no_success": {
        "en": "no success in the treated area (WDQ not interpretable)",
        "es": "sin éxito en el área intervenida (WDQ no interpretable)",
        "fr": "pas de succès dans la zone traitée (WDQ non interprétable)",
    },
    "worsened": {"en": "worsened", "es": "empeoró", "fr": "s'est dégradée"},
}


def text(key: str, lang: str = "en") -> str:
    """One assumption or word in ``lang``."""
    check_choice("lang", lang, LANGUAGES, "evaluation labels")
    table = ASSUMPTIONS if key in ASSUMPTIONS else WORDS
    if key not in table:
        raise KeyError(f"no evaluation label {key!r}")
    return table[key][lang]


def describe(keys: tuple[str, ...] | list[str], lang: str = "en") -> list[str]:
    """The assumptions named by ``keys`` as sentences in ``lang``."""
    return [text(k, lang) for k in keys]
