"""Background (non-triggered) crime: a log-linear intensity in the covariates, placed in time and space.

For community c and offence o the number of background crimes over the period is Poisson with mean

    population_c * exposure_years * exp(intercept_o + sum_k beta_ok * covariate_ck)

so a Poisson GLM of the counts on the census covariates with offset log(population * exposure_years)
recovers (intercept_o, beta_o). In time, the intensity is shaped by an annual sinusoid (common to all
offences) times a weekday profile, and within the day by an hour profile, both per offence; the shape is
normalised over the period so that it moves crimes in time without changing the expected total.
In space, a share of each offence falls at the community's hot micro-places (with a few metres of jitter),
the rest uniformly in the community polygon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from safercities.sim.catalogue import COVARIATES, MICRO_PLACE_KINDS, Offence, hour_weights, intercept, weekday_weights
from safercities.sim.covariates import Census
from safercities.sim.geography import City, sample_in_polygons

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MICRO_JITTER_M = 10.0
"""Standard deviation (metres, per axis) of an event's offset from its micro-place."""


@dataclass(frozen=True)
class Seasonality:
    """Annual sinusoid: relative intensity 1 + amplitude * cos(2 pi (day_of_year - peak_day) / 365.25)."""

    amplitude: float = 0.15
    peak_day: float = 135.0
    """Day of the year with the most crime (mid-May, the hot dry season before the rains)."""

    def factor(self, day_of_year: FloatArray) -> FloatArray:
        return np.asarray(1.0 + self.amplitude * np.cos(2.0 * np.pi * (day_of_year - self.peak_day) / 365.25))


@dataclass(frozen=True)
class MicroPlaces:
    """Hot micro-places: points with a weight within their community (weights of a community sum to 1)."""

    community: IntArray
    x: FloatArray
    y: FloatArray
    weight: FloatArray
    kind: tuple[str, ...]


def coefficient_matrix(offences: tuple[Offence, ...]) -> FloatArray:
    """Offences x covariates matrix of log-linear coefficients."""
    return np.asarray([o.coefficients for o in offences], dtype=np.float64).reshape(len(offences), len(COVARIATES))


def background_means(census: Census, offences: tuple[Offence, ...], exposure_years: float) -> FloatArray:
    """Expected background counts, communities x offences, over the whole period."""
    intercepts = np.asarray([intercept(o) for o in offences])
    eta = intercepts[None, :] + census.covariates @ coefficient_matrix(offences).T
    return np.asarray(census.population[:, None] * exposure_years * np.exp(eta), dtype=np.float64)


def make_micro_places(rng: np.random.Generator, city: City, mean_extra: float = 1.0) -> MicroPlaces:
    """1 + Poisson(mean_extra) micro-places per community, uniformly placed, with skewed (log-normal) weights."""
    per_community = 1 + rng.poisson(mean_extra, size=city.n_communities)
    owner = np.repeat(np.arange(city.n_communities, dtype=np.int64), per_community)
    x, y = sample_in_polygons(rng, city.interiors, owner)
    raw = rng.lognormal(0.0, 1.0, size=owner.size)
    weight = raw / np.bincount(owner, weights=raw)[owner]
    kind = tuple(MICRO_PLACE_KINDS[k] for k in rng.integers(0, len(MICRO_PLACE_KINDS), size=owner.size))
    return MicroPlaces(community=owner, x=x, y=y, weight=weight, kind=kind)


def day_weights(start: np.datetime64, n_days: int, seasonality: Seasonality, offence: Offence) -> FloatArray:
    """Probability of each day of the period for one offence: seasonality x weekday profile, normalised."""
    days = start.astype("datetime64[D]") + np.arange(n_days)
    day_of_year = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    w = seasonality.factor(day_of_year.astype(float)) * weekday_weights(offence)[weekday]
    return np.asarray(w / w.sum(), dtype=np.float64)


def _pick_micro_places(rng: np.random.Generator, micro: MicroPlaces, community: IntArray) -> IntArray:
    """One micro-place per event, among its community's, by weight (vectorised inverse-CDF on stacked segments)."""
    cumulative = np.cumsum(micro.weight)
    ends = np.cumsum(np.bincount(micro.community, minlength=int(micro.community.max()) + 1)) - 1
    segment_start = np.concatenate([[0.0], cumulative[ends[:-1]]])
    within = cumulative - segment_start[micro.community]
    within[ends] = 1.0  # exact segment ends, so that rounding never spills into the next community
    keys = micro.community + within
    return np.asarray(np.searchsorted(keys, community + rng.random(community.size), side="right"), dtype=np.int64)


def _location_types(rng: np.random.Generator, offence: Offence, n: int) -> npt.NDArray[np.object_]:
    labels = np.asarray([label for label, _ in offence.location_types], dtype=object)
    p = np.asarray([share for _, share in offence.location_types], dtype=float)
    return np.asarray(labels[rng.choice(labels.size, size=n, p=p / p.sum())], dtype=object)


def draw_background(
    rng: np.random.Generator,
    city: City,
    census: Census,
    micro: MicroPlaces,
    offences: tuple[Offence, ...],
    start: np.datetime64,
    n_days: int,
    exposure_years: float,
    seasonality: Seasonality,
) -> pd.DataFrame:
    """Background crimes, one row each: offence, community, t (days since start, local clock), x, y, micro_place.

    Loops over offences only; all crimes of an offence are drawn at once.
    """
    counts = rng.poisson(background_means(census, offences, exposure_years))
    parts = []
    for o, offence in enumerate(offences):
        n = int(counts[:, o].sum())
        community = np.repeat(np.arange(city.n_communities, dtype=np.int64), counts[:, o])
        day = rng.choice(n_days, size=n, p=day_weights(start, n_days, seasonality, offence))
        hour = rng.choice(24, size=n, p=hour_weights(offence.hour_profile))
        t = day + (hour + rng.random(n)) / 24.0
        at_micro = rng.random(n) < offence.micro_share
        location_type = _location_types(rng, offence, n)
        parts.append(
            pd.DataFrame(
                {
                    "offence": np.full(n, o, dtype=np.int64),
                    "community": community,
                    "t": t,
                    "at_micro": at_micro,
                    "location_type": location_type,
                }
            )
        )
    events = pd.concat(parts, ignore_index=True)
    community = events["community"].to_numpy(dtype=np.int64)
    at_micro = events["at_micro"].to_numpy(dtype=bool)
    x, y = sample_in_polygons(rng, city.interiors, community)

    place = np.full(len(events), -1, dtype=np.int64)
    place[at_micro] = _pick_micro_places(rng, micro, community[at_micro])
    jx = micro.x[place[at_micro]] + rng.normal(0.0, MICRO_JITTER_M, size=int(at_micro.sum()))
    jy = micro.y[place[at_micro]] + rng.normal(0.0, MICRO_JITTER_M, size=int(at_micro.sum()))
    inside = shapely.contains_xy(city.interiors[community[at_micro]], jx, jy)
    x[at_micro] = np.where(inside, jx, micro.x[place[at_micro]])
    y[at_micro] = np.where(inside, jy, micro.y[place[at_micro]])
    # a micro-place names the place of street crimes; a burglary at a hot block is still a burgled home
    windowed = np.asarray([o.windowed for o in offences], dtype=bool)
    named = at_micro & ~windowed[events["offence"].to_numpy(dtype=np.int64)]
    kinds = np.asarray(micro.kind, dtype=object)
    location_type = events["location_type"].to_numpy(dtype=object)
    location_type[named] = kinds[place[named]]

    return pd.DataFrame(
        {
            "offence": events["offence"].to_numpy(dtype=np.int64),
            "community": community,
            "t": events["t"].to_numpy(dtype=np.float64),
            "x": x,
            "y": y,
            "generation": np.zeros(len(events), dtype=np.int64),
            "parent": np.full(len(events), -1, dtype=np.int64),
            "micro_place": place,
            "location_type": location_type,
        }
    )
