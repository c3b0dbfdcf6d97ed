"""Design-based estimation for sample surveys: Taylor linearisation, replicate weights, calibration.

    from safercities.stats.survey import Design, estimate, calibrate, rake, replicate_weights

    design = Design(weights, strata=stratum, psu=cluster, fpc=population)
    estimate(design, frame[["victim"]], kind="proportion", domain=frame["sex"])

Modules, one job each: ``design`` (the checked design), ``variables`` (answers → numeric columns),
``cells`` (PSU × domain grouping), ``taylor`` (linearisation variance), ``replicate`` (replicate
variance and making replicate weights), ``calibration`` (calibration, raking, post-stratification),
``estimation`` (the ``estimate`` table). The conventions are R ``survey``'s; see
docs/methods/survey.md.
"""

from safercities.stats.survey.calibration import calibrate, poststratify, rake
from safercities.stats.survey.design import Design, Replicates
from safercities.stats.survey.estimation import estimate
from safercities.stats.survey.replicate import replicate_weights

__all__ = ["Design", "Replicates", "calibrate", "estimate", "poststratify", "rake", "replicate_weights"]
