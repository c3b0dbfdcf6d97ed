"""Interventions of known effect and known displacement, planted in the synthetic city's police export.

:func:`plant_intervention` takes a :class:`~safercities.sim.SimulatedCity` and a seed, picks treated communities
(at random among the busier half for the offences targeted: interventions go where crime is), their buffer (the
communities that share a boundary with a treated one) and the comparison communities (the rest), and rewrites
``incidents.csv`` as ``incidents_<name>.csv``:

* each targeted incident recorded in a treated community on or after the start date is removed with probability
  1 - ``effect`` (so the treated areas' recorded rate is multiplied by ``effect``, in expectation exactly);
* each removed incident is displaced with probability ``displacement``: it stays in the file, same folio, offence
  and moment, but moved to the place of a randomly drawn incident of a buffer community (its coordinates and
  colonia), i.e. to the buffer, after the start;
* everything else is left byte for byte as it was.

The truth (areas, start, effect, displacement share, and the counts actually removed and displaced) is written to
``<name>.json`` and returned. A placebo (``placebo_plan()``: effect 1, no displacement) picks areas and a start the
same way and changes nothing, so that an evaluation of it should find no effect.

Draws come from ``np.random.default_rng(seed)``, separate from the city's own generator, so the city's crimes are
unchanged whatever is planted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safercities.errors import InputError
from safercities.sim import SimulatedCity
from safercities.sim.catalogue import OFFENCES


@dataclass(frozen=True)
class InterventionPlan:
    """What to plant: which offences, how many treated communities, when, how strong, how much displacement."""

    name: str = "intervention"
    iccs: str = "0401"
    """ICCS code prefix of the offences the intervention targets (0401: robbery)."""
    n_treated: int = 8
    start: str | None = None
    """First day of the intervention (default: the first day of the 13th month, after a year of history)."""
    effect: float = 0.7
    """Rate ratio in the treated communities from the start on (0.7 = 30% fewer recorded crimes)."""
    displacement: float = 0.3
    """Share of the prevented crimes that move to the buffer communities."""

    def __post_init__(self) -> None:
        if not (isinstance(self.n_treated, int) and self.n_treated >= 1):
            raise InputError(f"The 'n_treated' parameter must be an integer >= 1. Got {self.n_treated!r} instead.")
        if not 0 < self.effect <= 1:
            raise InputError(f"The 'effect' parameter must be in (0, 1]. Got {self.effect!r} instead.")
        if not 0 <= self.displacement <= 1:
            raise InputError(f"The 'displacement' parameter must be in [0, 1]. Got {self.displacement!r} instead.")
        if not self.name.isidentifier():
            raise InputError(f"The 'name' parameter must be a plain word. Got {self.name!r} instead.")


def placebo_plan(**overrides: Any) -> InterventionPlan:
    """An intervention that does nothing: areas and start chosen as usual, effect 1, no displacement."""
    settings: dict[str, Any] = {"name": "placebo", "effect": 1.0, "displacement": 0.0} | overrides
    return InterventionPlan(**settings)


def neighbours(geometries: np.ndarray) -> list[set[int]]:
    """Communities that share a boundary (or a corner) with each community, by index."""
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    links: list[set[int]] = [set() for _ in range(len(geometries))]
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i != j:
            links[i].add(j)
    return links


def _moments(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="%d/%m/%Y %H:%M", errors="coerce")


def plant_intervention(
    city: SimulatedCity, seed: int = 0, plan: InterventionPlan | None = None, outdir: Path | None = None
) -> dict[str, Any]:
    """Write ``incidents_<name>.csv`` and ``<name>.json`` into ``outdir`` (default: the city's folder); return the
    truth: treated, buffer and comparison area ids, start, effect, displacement and the counts changed."""
    plan = plan or InterventionPlan()
    outdir = Path(outdir or city.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    codes = {o.local_code for o in OFFENCES if o.iccs_code.startswith(plan.iccs)}
    if not codes:
        raise InputError(f"no offence of the synthetic city has an ICCS code starting with {plan.iccs!r}.")
    areas = gpd.read_file(city.areas, engine="pyogrio")
    communities = areas[areas["level"] == "community"].sort_values("area_id").reset_index(drop=True)
    ids = communities["area_id"].to_numpy(dtype=object)
    if plan.n_treated * 3 > len(ids):
        raise InputError(f"{plan.n_treated} treated communities leave too few for buffers and comparison "
                         f"({len(ids)} communities).")  # fmt: skip
    start = (
        pd.Timestamp(plan.start)
        if plan.start
        else pd.Timestamp(city.truth["parameters"]["start"]) + pd.DateOffset(months=12)
    )  # noqa: E501
    raw = pd.read_csv(city.incidents, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)
    events = pd.read_csv(city.events, usecols=["folio", "area_id"], dtype=str, keep_default_na=False)
    area_of = dict(
        zip(events.loc[events["folio"] != "", "folio"], events.loc[events["folio"] != "", "area_id"], strict=True)
    )  # noqa: E501
    area = raw["folio"].map(area_of).fillna("")
    when = _moments(raw["fecha_inicio"])
    targeted = raw["clave_delito"].isin(codes).to_numpy()
    before = (when < start).to_numpy()
    busy = pd.Series(area[targeted & before]).value_counts().reindex(ids, fill_value=0)
    busier_half = busy.sort_values(ascending=False, kind="stable").index[: max(plan.n_treated, len(ids) // 2)]
    treated = sorted(rng.choice(np.asarray(busier_half, dtype=object), size=plan.n_treated, replace=False).tolist())
    index_of = {a: k for k, a in enumerate(ids)}
    links = neighbours(communities.geometry.to_numpy())
    buffer = sorted({ids[j] for a in treated for j in links[index_of[a]]} - set(treated))
    comparison = sorted(set(ids) - set(treated) - set(buffer))

    in_treated = area.isin(treated).to_numpy()
    after = (when >= start).to_numpy()
    eligible = np.flatnonzero(targeted & in_treated & after)
    removed = eligible[rng.random(eligible.size) >= plan.effect]
    displaced = removed[rng.random(removed.size) < plan.displacement]
    dropped = np.setdiff1d(removed, displaced)
    donors = np.flatnonzero(area.isin(buffer).to_numpy())
    out = raw.copy()
    if displaced.size:
        if donors.size == 0:
            raise InputError("the buffer communities have no incident whose place a displaced crime could take.")
        place = donors[rng.integers(0, donors.size, size=displaced.size)]
        for column in ("latitud", "longitud", "colonia"):
            out.loc[displaced, column] = raw[column].to_numpy()[place]
    out = out.drop(index=out.index[dropped])
    incidents_path = outdir / f"incidents_{plan.name}.csv"
    out.to_csv(incidents_path, sep=";", index=False, encoding="latin-1", lineterminator="\r\n")
    buffer_after = int((targeted & area.isin(buffer).to_numpy() & after).sum())
    truth: dict[str, Any] = {
        "name": plan.name,
        "plan": asdict(plan),
        "seed": int(seed),
        "iccs": plan.iccs,
        "local_codes": sorted(codes),
        "start": str(start.date()),
        "treated": treated,
        "buffer": buffer,
        "comparison": comparison,
        "effect": plan.effect,
        "displacement_share": plan.displacement,
        "eligible_after_start": int(eligible.size),
        "removed": int(removed.size),
        "displaced": int(displaced.size),
        "buffer_after_start_before_displacement": buffer_after,
        "buffer_rate_ratio": (buffer_after + int(displaced.size)) / buffer_after if buffer_after else None,
        "incidents": incidents_path.name,
        "notes": [
            "Effects act on recorded incidents: the treated communities' recorded rate of the targeted offences is "
            "multiplied by 'effect' from 'start' on.",
            "Displaced incidents keep folio, offence and moment and take the place of a random incident of a buffer "
            "community; the buffer's targeted count after the start grows by 'displaced'.",
        ],
    }
    (outdir / f"{plan.name}.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False), encoding="utf-8")
    return truth
