"""The synthetic city's fixed vocabulary: offences, covariates, temporal profiles and place names.

Everything here is a constant of the generating model; the random parts live in the other
modules. Offence labels and codes are written as a Mexican state prosecutor's export writes
them; each carries its ICCS v1.0 (UNODC, 2015) level-2 code so that the file can be mapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

COVARIATES: tuple[str, ...] = ("poverty", "youth_unemployment", "school_dropout", "street_lighting", "youth_share")
"""Census covariates (proportions 0..1) that enter the log-linear background intensity, in this order."""

REFERENCE_LEVELS: tuple[float, ...] = (0.30, 0.15, 0.10, 0.75, 0.18)
"""Covariate values at which an offence's ``rate_per_1000`` holds; the intercept is derived from them."""

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Offence:
    """One offence of the police export and its generating parameters."""

    key: str
    """ASCII name used in truth.json."""
    local_code: str
    label: str
    iccs_code: str
    rate_per_1000: float
    """True (all crimes) background rate per 1,000 residents per year at the reference covariates."""
    coefficients: tuple[float, ...]
    """Log-rate change per unit of each covariate in :data:`COVARIATES`."""
    reporting_probability: float
    """Chance that a crime reaches the police file (1 - dark figure)."""
    micro_share: float
    """Share of background events at the community's hot micro-places."""
    hour_profile: str
    weekday_weights: tuple[float, ...]
    location_types: tuple[tuple[str, float], ...]
    report_delay_days: float
    """Mean of the exponential delay between the end of the offence and the report."""
    windowed: bool = False
    """Known only within a window (burglary: from leaving home to coming back)."""


_WEEKDAY = (1.15, 1.15, 1.1, 1.1, 1.1, 0.7, 0.7)
_WEEKEND = (0.85, 0.8, 0.85, 0.9, 1.15, 1.35, 1.1)
_FLAT = (1.0,) * 7
_STREET = (("Vía pública", 0.8), ("Transporte público", 0.1), ("Parque", 0.05), ("Otro", 0.05))
_HOME = (("Casa habitación", 0.9), ("Vía pública", 0.1))

OFFENCES: tuple[Offence, ...] = (
    Offence("homicide", "101", "Homicidio doloso", "0101", 0.25, (2.0, 2.0, 1.5, -1.0, 0.0),
            0.98, 0.20, "night", _WEEKEND, (("Vía pública", 0.7), ("Casa habitación", 0.2), ("Otro", 0.1)), 0.05),
    Offence("assault", "201", "Lesiones dolosas", "0201", 6.0, (1.2, 1.5, 1.0, -0.8, 1.0),
            0.35, 0.30, "night", _WEEKEND, _STREET, 0.5),
    Offence("threats", "202", "Amenazas", "0201", 5.0, (0.8, 0.5, 0.5, -0.5, 0.0),
            0.25, 0.10, "evening", _FLAT, (("Casa habitación", 0.5), ("Vía pública", 0.4), ("Otro", 0.1)), 3.0),
    Offence("family_violence", "203", "Violencia familiar", "0201", 8.0, (1.5, 0.8, 2.0, 0.0, 0.0),
            0.20, 0.0, "home", _WEEKEND, _HOME, 2.0),
    Offence("extortion", "204", "Extorsión", "0205", 1.5, (0.5, 1.0, 0.0, 0.0, 0.0),
            0.10, 0.25, "business", _WEEKDAY, (("Comercio", 0.7), ("Casa habitación", 0.3)), 5.0),
    Offence("sexual_abuse", "301", "Abuso sexual", "0301", 1.5, (0.5, 0.5, 1.0, -1.0, 0.0),
            0.15, 0.15, "evening", _FLAT, (("Casa habitación", 0.5), ("Vía pública", 0.3), ("Transporte público", 0.2)),
            15.0),
    Offence("rape", "302", "Violación", "0301", 0.5, (0.8, 0.5, 1.0, -1.2, 0.0),
            0.20, 0.05, "night", _WEEKEND, (("Casa habitación", 0.6), ("Vía pública", 0.3), ("Otro", 0.1)), 10.0),
    Offence("street_robbery", "401", "Robo a transeúnte", "0401", 10.0, (0.6, 2.0, 0.8, -1.5, 1.0),
            0.40, 0.35, "evening", _WEEKEND, _STREET, 0.3),
    Offence("business_robbery", "402", "Robo a negocio con violencia", "0401", 3.0, (0.5, 1.5, 0.5, -1.0, 0.0),
            0.60, 0.40, "business", _WEEKDAY, (("Comercio", 1.0),), 0.1),
    Offence("burglary", "501", "Robo a casa habitación", "0501", 5.0, (-0.8, 1.0, 0.5, -1.2, 0.0),
            0.60, 0.05, "daytime", _WEEKDAY, (("Casa habitación", 1.0),), 0.2, windowed=True),
    Offence("vehicle_theft", "502", "Robo de vehículo", "0502", 3.0, (-0.5, 1.2, 0.0, -1.0, 0.0),
            0.85, 0.20, "night", _FLAT, (("Vía pública", 0.7), ("Estacionamiento", 0.3)), 0.3),
    Offence("vehicle_parts_theft", "503", "Robo de autopartes", "0502", 4.0, (0.0, 1.0, 0.0, -1.5, 0.0),
            0.30, 0.20, "night", _FLAT, (("Vía pública", 0.8), ("Estacionamiento", 0.2)), 1.0),
    Offence("property_damage", "504", "Daño en propiedad ajena", "0504", 4.0, (0.3, 1.0, 1.0, -0.8, 1.5),
            0.30, 0.15, "night", _WEEKEND, (("Vía pública", 0.6), ("Casa habitación", 0.3), ("Comercio", 0.1)), 1.0),
    Offence("drug_dealing", "601", "Narcomenudeo", "0601", 2.0, (1.5, 2.0, 1.5, -0.5, 1.0),
            0.50, 0.50, "evening", _WEEKEND, (("Vía pública", 0.8), ("Parque", 0.2)), 0.02),
    Offence("fraud", "701", "Fraude", "0701", 4.0, (-1.0, 0.0, 0.0, 0.0, 0.0),
            0.25, 0.05, "business", _WEEKDAY, (("Otro", 0.6), ("Comercio", 0.3), ("Casa habitación", 0.1)), 10.0),
)  # fmt: skip
"""The offence mix. ICCS v1.0 level 2: 0101 intentional homicide, 0201 assaults and threats (family violence is
classified by the act, the relationship being a disaggregating tag), 0205 coercion (02051 extortion), 0301 sexual
violence, 0401 robbery, 0501 burglary, 0502 theft (05021 theft of a motorised vehicle or parts), 0504 damage to
property, 0601 unlawful acts involving controlled drugs, 0701 fraud."""

MICRO_PLACE_KINDS: tuple[str, ...] = (
    "Mercado", "Parada de autobús", "Bar / cantina", "Plaza comercial", "Tianguis", "Terminal de autobuses",
)  # fmt: skip
"""What the hot micro-places are; an event at one is written with this ``tipo_lugar``."""

HOUR_PEAKS: dict[str, tuple[float, float, float]] = {
    # name: (peak hour, spread in hours, floor relative to the peak)
    "night": (23.0, 3.0, 0.08),
    "evening": (20.0, 3.0, 0.06),
    "home": (21.0, 3.5, 0.10),
    "daytime": (12.0, 3.5, 0.05),
    "business": (13.0, 3.0, 0.05),
}


def hour_weights(profile: str) -> npt.NDArray[np.float64]:
    """Probability of each clock hour 0..23: a circular Gaussian bump on a floor, normalised."""
    peak, spread, floor = HOUR_PEAKS[profile]
    hours = np.arange(24, dtype=float)
    distance = np.abs(((hours - peak) + 12.0) % 24.0 - 12.0)
    weights = floor + np.exp(-0.5 * (distance / spread) ** 2)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def weekday_weights(offence: Offence) -> npt.NDArray[np.float64]:
    """Relative intensity of each weekday (Monday first), normalised to mean 1."""
    w = np.asarray(offence.weekday_weights, dtype=float)
    return np.asarray(w / w.mean(), dtype=np.float64)


def intercept(offence: Offence) -> float:
    """Log rate per person-year at covariates zero, so that the rate at the reference levels is ``rate_per_1000``."""
    shift = float(np.dot(offence.coefficients, REFERENCE_LEVELS))
    return float(np.log(offence.rate_per_1000 / 1000.0) - shift)


COMMUNITY_PREFIXES: tuple[str, ...] = ("Colonia", "Barrio", "Fraccionamiento", "Unidad Habitacional", "Residencial",
                                       "Pueblo")  # fmt: skip
COMMUNITY_STEMS: tuple[str, ...] = (
    "San Miguel", "Las Flores", "El Mirador", "Santa Rosa", "Los Pinos", "La Cañada", "El Pueblito", "San Pablo",
    "Lomas de Casa Blanca", "Jardines de la Hacienda", "Los Olvera", "Santa Mónica", "El Tintero", "Las Américas",
    "Hércules", "La Piedad", "Álamos", "Carretas", "Cimatario", "San Francisquito", "La Cruz", "Niños Héroes",
    "Menchaca", "Santa Bárbara", "Loma Dorada", "San José el Alto", "Satélite", "Bolaños", "El Sol", "Las Rosas",
    "San Pedrito", "Peñuelas", "Los Ángeles", "La Era", "Tlacote", "Vista Alegre", "Prados del Mirador", "Arboledas",
    "Colinas del Sur", "Valle Verde", "Rancho Bellavista", "Hacienda Santa Fe", "Lomas del Campanario",
    "El Salitre", "La Loma", "Mompaní", "Santa Catarina", "San Antonio de la Punta", "Las Teresas", "Buenos Aires",
    "Lindavista", "El Carrizal", "Cerrito Colorado", "La Peñita", "Geoplazas", "Misión de San Carlos",
    "Reforma Agraria", "Los Candiles", "Pedregal de Querétaro", "Vergel", "San Roque", "La Joya", "El Jacal",
    "Plazas del Sol",
    "Nuevo Juriquilla", "Ejido Modelo", "Obrera", "Tejeda", "Casa Blanca", "Corregidora", "Azteca", "Josefa Ortiz",
)  # fmt: skip
DISTRICT_NAMES: tuple[str, ...] = (
    "Delegación Centro Histórico", "Delegación Félix Osores", "Delegación Josefa Vergara",
    "Delegación Epigmenio González", "Delegación Felipe Carrillo Puerto", "Delegación Santa Rosa Jáuregui",
    "Delegación Villa Cayetano Rubio", "Delegación Norte", "Delegación Sur", "Delegación Oriente",
    "Delegación Poniente", "Delegación La Cañada",
)  # fmt: skip
CITY_NAME = "Santiago de Querétaro (sintética)"
