"""Evaluation of interventions: difference-in-differences, interrupted time series, synthetic control,
displacement (WDQ and WDD) and power, each a pure function returning a frozen result with its estimate, interval
and the assumptions it rests on (written out in English, Spanish and French by :mod:`.labels`)."""

from safercities.stats.evaluation.did import DiDResult, PreTrendTest, did
from safercities.stats.evaluation.displacement import Counts, WDDResult, WDQResult, wdd, wdd_harm, wdq
from safercities.stats.evaluation.its import ITSResult, its
from safercities.stats.evaluation.power import PowerResult, Requirement, did_power, its_power, needed
from safercities.stats.evaluation.synth import SynthResult, synth

__all__ = [
    "Counts",
    "DiDResult",
    "ITSResult",
    "PowerResult",
    "PreTrendTest",
    "Requirement",
    "SynthResult",
    "WDDResult",
    "WDQResult",
    "did",
    "did_power",
    "its",
    "its_power",
    "needed",
    "synth",
    "wdd",
    "wdd_harm",
    "wdq",
]
