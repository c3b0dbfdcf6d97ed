"""Census covariates per community: population and spatially autocorrelated social conditions.

Each covariate is a logistic transform of a linear mix of independent Gaussian random fields sampled
at the community centroids (exponential covariance on centroid distance), so that neighbouring
communities look alike, as they do in a real census, and poverty, unemployment and dropout go together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from safercities.sim.catalogue import COVARIATES
from safercities.sim.geography import City

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FIELD_RANGE_M = 3500.0
"""Range of the exponential covariance exp(-d / range) of the latent fields."""
FIELD_NUGGET = 0.05
"""Share of each latent field's variance that is independent noise."""
COVARIATE_DECIMALS = 4
"""Covariates are rounded to this many decimals before they drive the intensity, so census.csv is exact."""

# latent mixing: covariate k = expit(location_k + scale_k * sum_j loading_kj * field_j)
_LOCATION = np.array([-0.85, -1.75, -2.2, 1.1, -1.5])
_SCALE = np.array([0.8, 0.55, 0.55, 0.8, 0.2])
_LOADINGS = np.array(
    [
        [1.0, 0.0, 0.0, 0.0, 0.0],  # poverty
        [0.7, 0.71, 0.0, 0.0, 0.0],  # youth unemployment follows poverty
        [0.6, 0.0, 0.8, 0.0, 0.0],  # school dropout follows poverty
        [-0.5, 0.0, 0.0, 0.87, 0.0],  # street lighting is worse where poverty is high
        [0.0, 0.0, 0.0, 0.0, 1.0],  # youth share: its own field
    ]
)
DENSITY_PER_KM2 = 9000.0
"""Population density at the centre; it falls off exponentially with distance."""
DENSITY_SCALE_M = 6000.0


@dataclass(frozen=True)
class Census:
    """Per-community census: population, households and the covariates (columns in :data:`COVARIATES` order)."""

    population: IntArray
    households: IntArray
    covariates: FloatArray

    def column(self, name: str) -> FloatArray:
        return np.asarray(self.covariates[:, COVARIATES.index(name)], dtype=np.float64)


def gaussian_fields(rng: np.random.Generator, points: FloatArray, n_fields: int) -> FloatArray:
    """Independent unit-variance Gaussian random fields at ``points`` (rows), exponential covariance plus nugget."""
    distance = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    cov = (1.0 - FIELD_NUGGET) * np.exp(-distance / FIELD_RANGE_M) + FIELD_NUGGET * np.eye(points.shape[0])
    chol = np.linalg.cholesky(cov)
    return np.asarray(chol @ rng.standard_normal((points.shape[0], n_fields)), dtype=np.float64)


def simulate_census(rng: np.random.Generator, city: City) -> Census:
    """Draw population (denser towards the centre) and the covariates of every community."""
    fields = gaussian_fields(rng, city.centroids, len(COVARIATES))
    latent = _LOCATION[None, :] + _SCALE[None, :] * (fields @ _LOADINGS.T)
    covariates = np.round(1.0 / (1.0 + np.exp(-latent)), COVARIATE_DECIMALS)

    area_km2 = shapely.area(city.communities) / 1e6
    r = np.hypot(city.centroids[:, 0] - city.centre[0], city.centroids[:, 1] - city.centre[1])
    density = DENSITY_PER_KM2 * np.exp(-r / DENSITY_SCALE_M) * rng.lognormal(0.0, 0.3, size=r.size)
    population = np.maximum(np.round(area_km2 * density), 200).astype(np.int64)
    households = np.round(population / rng.uniform(3.3, 4.1, size=r.size)).astype(np.int64)
    return Census(population=population, households=households, covariates=covariates)
