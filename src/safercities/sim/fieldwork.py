"""Fieldwork of the synthetic city: focus groups and safety walks that follow its ground truth.

Residents speak of what truly happens, not of what the police record: a problem comes up in a community's
focus groups in proportion to its *true* rate there relative to the city (the dark figure included), a risk
factor in proportion to the census covariate that drives the crimes (street lighting, poverty, youth
unemployment, school dropout), each participant group with its own concerns. Walkers rate lighting from the
community's street-lighting coverage, maintenance and abandoned buildings from its poverty, the feeling of
safety from its true crime rate.

Three communities are planted so that tests can check the audit finds them:

* ``robbery_lighting``: the darkest-quarter community with the highest true robbery rate; its residents name
  robbery and poor lighting far more often and its walkers rate the lighting lowest. Its first priority
  problem is robbery, with poor lighting among the linked risk factors.
* ``fear_vs_crime``: the community with the lowest true crime rate, where residents voice high fear and rate
  the feeling of safety low: high fear but low recorded crime.
* ``lighting_walks_vs_indicator``: the best-lit community by the census, where walkers find the lamps broken
  and rate the lighting low: the walks and the indicator disagree.

A few defective rows (an unknown code, an unknown community, an impossible date; a rating of 7, an unknown
category, a point outside the city) are written on purpose and counted in the truth.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from safercities.audit.codebook import load_codebook
from safercities.audit.walks import CATEGORIES
from safercities.errors import InputError

if TYPE_CHECKING:
    from safercities.sim import SimulatedCity

FILES = {"fieldwork": "fieldwork.csv", "walks": "walks.csv"}
GROUP_SESSIONS = ("women", "youth", "elders", "business")
"""One focus group of each, and one key-informant interview (group 'other'), per community."""
GROUP_WORDS = {"women": "Mujeres", "youth": "Jóvenes", "elders": "Adultos mayores", "business": "Comerciantes",
               "other": "Otro"}  # fmt: skip
OFFENCE_PROBLEM = {
    "homicide": "homicide",
    "assault": "assault",
    "family_violence": "domestic_violence",
    "extortion": "extortion",
    "sexual_abuse": "sexual_violence",
    "rape": "sexual_violence",
    "street_robbery": "robbery",
    "business_robbery": "robbery",
    "burglary": "burglary",
    "vehicle_theft": "vehicle_crime",
    "vehicle_parts_theft": "vehicle_crime",
    "property_damage": "vandalism",
    "drug_dealing": "drug_markets",
}
"""Which codebook problem each offence of the synthetic city is (threats and fraud have none)."""
COVARIATE_FACTOR = {
    "poverty": "poverty",
    "youth_unemployment": "youth_unemployment",
    "school_dropout": "school_dropout",
}
AFFINITY: dict[str, dict[str, float]] = {
    "women": {"sexual_violence": 3.0, "harassment_public": 3.0, "domestic_violence": 2.5, "poor_lighting": 1.5,
              "gender_norms": 2.0, "lack_public_transport": 1.5},
    "youth": {"youth_violence": 3.0, "drug_markets": 2.0, "gang_violence": 2.0, "low_trust_police": 2.0,
              "youth_unemployment": 2.0, "school_dropout": 1.5, "youth_programmes": 2.0},
    "elders": {"burglary": 2.0, "fear_of_crime": 2.0, "poor_maintenance": 1.5, "abandoned_buildings": 1.5,
               "community_organisation": 1.5},
    "business": {"extortion": 3.0, "robbery": 1.5, "vehicle_crime": 1.5, "corruption": 2.0, "police_absence": 1.5},
    "other": {"weak_social_cohesion": 1.5, "lack_services": 1.5},
}  # fmt: skip
"""How much more often a participant group raises a code than residents at large."""
SALIENCE = {"fear_of_crime": 0.8, "theft": 0.4, "harassment_public": 0.4, "youth_violence": 0.3,
            "gang_violence": 0.2, "corruption": 0.2}  # fmt: skip
"""How readily residents raise the problems that the police file does not count (1 = as readily as the most
common recorded problem); the recorded ones get the square root of their city rate relative to the commonest."""
PLANTED_LIFT = 4.0
"""How much more often the planted community names robbery and poor lighting than its rates alone imply."""
SEGMENTS_PER_SESSION = 7
OBSERVATIONS_PER_CATEGORY = 5
RATING_NOISE = 0.6

QUOTES: dict[str, tuple[str, ...]] = {
    "robbery": ("Aquí te asaltan a cualquier hora, te quitan el celular con navaja.",
                "A mi hijo lo asaltaron saliendo del camión, le quitaron todo."),
    "burglary": ("Se meten a las casas cuando uno sale a trabajar.", "A la vecina le vaciaron la casa en una mañana."),
    "vehicle_crime": ("Dejas el carro en la calle y amanece sin espejos ni llantas.",),
    "theft": ("En el tianguis te sacan la cartera sin que te des cuenta.",),
    "assault": ("Los fines de semana hay peleas afuera de las cantinas.",),
    "homicide": ("El año pasado mataron a un muchacho en la esquina.",),
    "sexual_violence": ("Las muchachas no pueden regresar solas de noche, ya hubo agresiones.",),
    "domestic_violence": ("Se oyen los golpes en las casas y nadie dice nada.",),
    "youth_violence": ("Los chavos se pelean a la salida de la secundaria.",),
    "gang_violence": ("Las pandillas se disputan las calles y rayan las bardas.",),
    "drug_markets": ("En el parque venden droga a plena luz del día.",),
    "harassment_public": ("A las mujeres nos gritan cosas en la parada del camión.",),
    "vandalism": ("Rompen las bancas y las lámparas que pone el municipio.",),
    "fear_of_crime": ("Ya no salimos después de las ocho, da miedo.", "Uno vive con el miedo de que algo pase."),
    "corruption": ("Si denuncias, el policía te pide para el refresco.",),
    "extortion": ("Nos cobran cuota a los negocios y si no pagas te amenazan.",),
    "poor_lighting": ("La calle está oscura, las lámparas no sirven desde hace meses.",
                      "No hay alumbrado en el andador, de noche no se ve nada."),
    "low_visibility": ("Hay bardas altas y puntos ciegos donde se esconden.",),
    "poor_maintenance": ("El parque está descuidado, lleno de basura y hierba.",),
    "abandoned_buildings": ("Las casas abandonadas las usan para drogarse.",),
    "deserted_spaces": ("Por el canal no pasa nadie, está muy solo.",),
    "lack_public_transport": ("El camión deja de pasar a las nueve y hay que caminar mucho.",),
    "alcohol_outlets": ("Hay un depósito de cerveza en cada esquina.",),
    "school_dropout": ("Muchos chavos dejaron la escuela y andan en la calle.",),
    "youth_unemployment": ("Los jóvenes no encuentran trabajo y se juntan en la esquina.",),
    "poverty": ("Aquí la gente no tiene ni para comer.",),
    "unemployment": ("Cerró la fábrica y muchos se quedaron sin trabajo.",),
    "overcrowding": ("Viven diez personas en dos cuartos.",),
    "weak_social_cohesion": ("Ya nadie conoce a sus vecinos, cada quien por su lado.",),
    "low_trust_police": ("La policía no hace nada, no confiamos en ellos.",),
    "low_reporting": ("¿Para qué denunciar si no pasa nada?",),
    "police_absence": ("La patrulla nunca pasa por aquí.",),
    "drug_use": ("Se juntan a drogarse en el terreno baldío.",),
    "gender_norms": ("Dicen que si a una le pasa algo es porque anda sola.",),
    "lack_services": ("No tenemos centro de salud ni guardería cerca.",),
    "firearms": ("Se oyen balazos casi cada noche.",),
    "community_organisation": ("El comité de vecinos organiza faenas y rondines.",),
    "youth_programmes": ("El taller de fútbol de la delegación saca a los chavos de la calle.",),
    "street_activity": ("En la plaza siempre hay gente y puestos, ahí se siente seguro.",),
    "good_lighting": ("Desde que pusieron las luminarias nuevas se puede caminar de noche.",),
    "trusted_police": ("El policía de cuadrante sí nos conoce y viene cuando lo llamamos.",),
    "engaged_schools": ("La escuela abre las canchas en las tardes para la comunidad.",),
    "maintained_public_spaces": ("El jardín está bonito, los vecinos lo cuidan.",),
    "victim_services": ("En el centro de atención a víctimas me ayudaron mucho.",),
}  # fmt: skip
"""What residents say when a code comes up (Spanish, as the city speaks); one or two wordings each."""
NOTES = {
    "lighting": ("Lámparas fundidas", "Calle sin luminarias", "Buena iluminación"),
    "visibility": ("Barda alta", "Vegetación tapa la vista", "Buena visibilidad"),
    "maintenance": ("Basura acumulada", "Banquetas rotas", "Área limpia"),
    "abandoned_buildings": ("Casa abandonada", "Lote baldío", "Sin inmuebles abandonados"),
    "people_around": ("Calle vacía", "Poca gente", "Mucha gente"),
    "security_presence": ("Sin patrullaje", "Caseta vacía", "Patrulla presente"),
    "public_transport": ("Parada sin refugio", "Pasa poco el camión", "Parada iluminada"),
    "feeling_of_safety": ("Se siente inseguro", "Regular", "Se siente seguro"),
}
CATEGORY_WORDS = {
    "lighting": "Iluminación", "visibility": "Visibilidad", "maintenance": "Mantenimiento",
    "abandoned_buildings": "Inmuebles abandonados", "people_around": "Presencia de gente",
    "security_presence": "Presencia de seguridad", "public_transport": "Transporte público",
    "feeling_of_safety": "Sensación de seguridad",
}  # fmt: skip


def _problem_rates(city: SimulatedCity, census: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """True crimes per resident by community x codebook problem relative to the city (1 = city average), and
    each problem's salience: the square root of its city rate relative to the most common problem's."""
    counts = city.counts()
    counts = counts.assign(problem=counts["offence"].map(OFFENCE_PROBLEM)).dropna(subset=["problem"])
    true = counts.pivot_table(index="area_id", columns="problem", values="true", aggfunc="sum").reindex(
        census["area_id"]
    )
    population = census.set_index("area_id")["population"].astype(float)
    rate = true.div(population, axis=0)
    city_rate = true.sum() / population.sum()
    return rate.div(city_rate, axis=1).fillna(0.0), np.sqrt(city_rate / city_rate.max())


def _choose(census: pd.DataFrame, relative: pd.DataFrame, total: pd.Series, rng: np.random.Generator, n: int):
    """The fieldwork communities: the three planted ones, then a random draw from each third of true crime."""
    big = census.set_index("area_id")["population"] >= 1500
    lighting = census.set_index("area_id")["street_lighting"]
    dark = big & (lighting <= lighting.quantile(0.25))
    planted = relative.loc[dark[dark].index, "robbery"].idxmax()
    calm = total[big & (total.index != planted)]
    fear = calm.idxmin()
    lit = lighting[big & ~lighting.index.isin([planted, fear])]
    bright = lit.idxmax()
    chosen = [planted, fear, bright]
    others = total.drop(chosen)
    thirds = pd.qcut(others.rank(method="first"), 3, labels=False)
    extra = max(n - 3, 0)
    for k in range(3):
        pool = others.index[thirds == k].to_numpy()
        take = min(len(pool), extra // 3 + (1 if k < extra % 3 else 0))
        chosen += sorted(rng.choice(pool, size=take, replace=False).tolist())
    return planted, fear, bright, chosen


def _weights(
    codes: pd.DataFrame,
    areas: list[str],
    relative: pd.DataFrame,
    salience: pd.Series,
    census: pd.DataFrame,
    total: pd.Series,
) -> pd.DataFrame:
    """How often each code comes up in each community before group affinities (areas x codes)."""
    cov = census.set_index("area_id").loc[areas]
    base = {"problem": 2.0, "risk_factor": 0.7, "protective_factor": 0.3}
    w = pd.DataFrame({c: base[k] for c, k in zip(codes["code"], codes["kind"], strict=True)}, index=areas)
    rel = relative.loc[areas]
    for problem in rel.columns:
        w[problem] *= rel[problem].clip(0.05, 20) * salience[problem]
    for problem, value in SALIENCE.items():
        w[problem] *= value
    overall = (total / total.mean()).loc[areas]
    w["fear_of_crime"] *= np.sqrt(overall)
    w["youth_violence"] *= np.sqrt(rel["assault"].clip(0.05) * cov["youth_share"] / census["youth_share"].mean())
    w["harassment_public"] *= np.sqrt(rel["sexual_violence"].clip(0.05))
    for covariate, factor in COVARIATE_FACTOR.items():
        w[factor] *= (cov[covariate] / census[covariate].mean()) ** 2
    darkness = (1 - cov["street_lighting"]) / (1 - census["street_lighting"].mean())
    w["poor_lighting"] *= darkness**2
    w["good_lighting"] *= (cov["street_lighting"] / census["street_lighting"].mean()) ** 4
    return w


def _quality(census: pd.DataFrame, total: pd.Series, areas: list[str]) -> pd.DataFrame:
    """The latent quality 0 (bad) .. 1 (good) of each walk category in each community, from the census."""
    cov = census.set_index("area_id")

    def scaled(v: pd.Series) -> pd.Series:
        return (v - v.min()) / (v.max() - v.min())

    light = scaled(cov["street_lighting"])
    poor = scaled(cov["poverty"])
    safe = 1 - scaled(np.log(total))
    q = pd.DataFrame(
        {
            "lighting": light,
            "visibility": 0.6 * light + 0.2,
            "maintenance": 1 - poor,
            "abandoned_buildings": 1 - 0.8 * poor,
            "people_around": pd.Series(0.5, index=cov.index),
            "security_presence": 0.3 + 0.4 * safe,
            "public_transport": pd.Series(0.55, index=cov.index),
            "feeling_of_safety": safe,
        }
    )
    return q.loc[areas, list(CATEGORIES)]


def _points_in(polygon: shapely.Polygon, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in a polygon (lon/lat), by rejection from its bounding box."""
    w, s, e, nn = polygon.bounds
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    shapely.prepare(polygon)
    while sum(len(x) for x in xs) < n:
        x = rng.uniform(w, e, 4 * n)
        y = rng.uniform(s, nn, 4 * n)
        inside = shapely.contains_xy(polygon, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def simulate_fieldwork(
    city: SimulatedCity, seed: int = 0, *, n_communities: int = 12, outdir: Path | None = None
) -> dict[str, Any]:
    """Write ``fieldwork.csv`` and ``walks.csv`` for the synthetic city and return their truth.

    Draws from its own generator (``seed`` and a fixed stream key), so the crimes of the city are untouched.
    The same city and seed give byte-identical files.
    """
    if not 3 <= n_communities <= 60:
        raise InputError(
            f"The 'n_communities' parameter of simulate_fieldwork must be from 3 to 60. Got {n_communities!r} instead."
        )
    rng = np.random.default_rng([int(seed), 0xF1E1D])
    folder = Path(outdir or city.outdir)
    folder.mkdir(parents=True, exist_ok=True)
    census = pd.read_csv(city.census, dtype={"area_id": str})
    relative, salience = _problem_rates(city, census)
    counts = city.counts()
    population = census.set_index("area_id")["population"].astype(float)
    total = counts.groupby("area_id")["true"].sum().reindex(population.index) / population
    planted, fear, bright, areas = _choose(census, relative, total, rng, min(n_communities, len(census)))
    book = load_codebook().to_frame()
    weights = _weights(book, areas, relative, salience, census, total)
    weights.loc[planted, ["robbery", "poor_lighting"]] *= PLANTED_LIFT
    weights.loc[fear, "fear_of_crime"] *= 8.0

    # sessions: 4 focus groups + 1 interview per community, in the last 120 days of the period
    end = dt.date.fromisoformat(city.truth["parameters"]["end"])
    groups = [*GROUP_SESSIONS, "other"]
    sessions = pd.DataFrame([(a, g) for a in areas for g in groups], columns=["area_id", "group"]).assign(
        kind=lambda f: np.where(f["group"] == "other", "entrevista", "grupo focal")
    )
    sessions["date"] = [end - dt.timedelta(days=int(d)) for d in rng.integers(1, 121, len(sessions))]
    sessions["session_id"] = "S" + pd.Series(np.arange(1, len(sessions) + 1)).astype(str).str.zfill(3)
    affinity = pd.DataFrame(AFFINITY).T.reindex(index=groups, columns=weights.columns).fillna(1.0)
    prob = weights.loc[sessions["area_id"]].to_numpy() * affinity.loc[sessions["group"]].to_numpy()
    prob /= prob.sum(axis=1, keepdims=True)
    n_seg = SEGMENTS_PER_SESSION + rng.poisson(3, len(sessions))
    seg_session = np.repeat(np.arange(len(sessions)), n_seg)
    cum = prob.cumsum(axis=1)[seg_session]
    primary = (cum < rng.uniform(0, 1, (len(seg_session), 1))).sum(axis=1).clip(max=prob.shape[1] - 1)
    code_ids = weights.columns.to_numpy(object)
    first = code_ids[primary]

    # a problem often comes with one of its linked risk factors, chosen by how present it is in the community
    codebook = load_codebook()
    risk_of = {c.id: list(c.risk_factors) for c in codebook.codes.values() if c.kind == "problem"}
    second = np.full(len(first), "", dtype=object)
    seg_area = sessions["area_id"].to_numpy(object)[seg_session]
    pair = rng.uniform(0, 1, len(first)) < 0.5
    pair |= (seg_area == planted) & (first == "robbery") & (rng.uniform(0, 1, len(first)) < 0.8)
    for problem, factors in risk_of.items():
        rows = np.flatnonzero(pair & (first == problem))
        if not len(rows):
            continue
        fw = weights.loc[seg_area[rows], factors].to_numpy()
        if problem == "robbery":
            fw[seg_area[rows] == planted, factors.index("poor_lighting")] *= 10
        fcum = (fw / fw.sum(axis=1, keepdims=True)).cumsum(axis=1)
        pick = (fcum < rng.uniform(0, 1, (len(rows), 1))).sum(axis=1).clip(max=len(factors) - 1)
        second[rows] = np.asarray(factors, dtype=object)[pick]
    variant = rng.integers(0, 2, (len(first), 2))
    quote_a = np.array([QUOTES[c][v % len(QUOTES[c])] for c, v in zip(first, variant[:, 0], strict=True)], object)
    quote_b = np.array([QUOTES[c][v % len(QUOTES[c])] if c else "" for c, v in zip(second, variant[:, 1],
                                                                                     strict=True)], object)  # fmt: skip
    s = sessions.iloc[seg_session].reset_index(drop=True)
    fieldwork = pd.DataFrame(
        {
            "id_cita": "Q" + pd.Series(np.arange(1, len(first) + 1)).astype(str).str.zfill(4),
            "sesion": s["session_id"],
            "tipo": s["kind"],
            "colonia": s["area_id"],
            "grupo": s["group"].map(GROUP_WORDS),
            "fecha": pd.to_datetime(s["date"]).dt.strftime("%d/%m/%Y"),
            "codigos": np.where(second != "", first + "; " + second, first),
            "cita": np.where(quote_b != "", quote_a + " " + quote_b, quote_a),
        }
    )
    defects_fw = pd.DataFrame(
        {
            "id_cita": ["Q9001", "Q9002", "Q9003"],
            "sesion": ["S001"] * 3,
            "tipo": ["grupo focal"] * 3,
            "colonia": [areas[0], "C999", areas[0]],
            "grupo": ["Mujeres"] * 3,
            "fecha": [fieldwork["fecha"].iloc[0], fieldwork["fecha"].iloc[0], "31/02/2024"],
            "codigos": ["robo_de_celular", "robbery", "robbery"],
            "cita": ["Me robaron el celular.", "Asaltan en la esquina.", "Asaltan en la esquina."],
        }
    )
    fieldwork = pd.concat([fieldwork, defects_fw], ignore_index=True)

    # walks: OBSERVATIONS_PER_CATEGORY points per category per community, rated from the latent quality
    quality = _quality(census, total, areas)
    quality.loc[planted, "lighting"] = 0.0
    quality.loc[fear, "feeling_of_safety"] = 0.05
    quality.loc[bright, "lighting"] = 0.1
    shapes = gpd.read_file(city.areas).set_index("area_id").geometry
    n_per_area = len(CATEGORIES) * OBSERVATIONS_PER_CATEGORY
    obs_area = np.repeat(np.asarray(areas, dtype=object), n_per_area)
    obs_category = np.tile(np.repeat(np.asarray(CATEGORIES, dtype=object), OBSERVATIONS_PER_CATEGORY), len(areas))
    lon = np.empty(len(obs_area))
    lat = np.empty(len(obs_area))
    for k, area in enumerate(areas):  # one rejection sampler per community polygon
        lon[k * n_per_area : (k + 1) * n_per_area], lat[k * n_per_area : (k + 1) * n_per_area] = _points_in(
            shapes[area], n_per_area, rng
        )
    q = quality.to_numpy()[np.repeat(np.arange(len(areas)), n_per_area), np.tile(
        np.repeat(np.arange(len(CATEGORIES)), OBSERVATIONS_PER_CATEGORY), len(areas))]  # fmt: skip
    rating = np.clip(np.round(1 + 4 * q + rng.normal(0, RATING_NOISE, len(q))), 1, 5).astype(int)
    note_pick = np.where(rating <= 2, 0, np.where(rating == 3, 1, 2))
    notes = np.array([NOTES[c][k] for c, k in zip(obs_category, note_pick, strict=True)], dtype=object)
    walk_no = np.tile(np.repeat(np.arange(1, 4), -(-n_per_area // 3))[:n_per_area], len(areas))
    first_day = sessions.groupby("area_id")["date"].min().reindex(obs_area).to_numpy()
    walks = pd.DataFrame(
        {
            "id": "W" + pd.Series(np.arange(1, len(q) + 1)).astype(str).str.zfill(4),
            "recorrido": pd.Series(obs_area).astype(str) + "-R" + pd.Series(walk_no).astype(str),
            "longitud": np.round(lon, 6),
            "latitud": np.round(lat, 6),
            "categoria": pd.Series(obs_category).map(CATEGORY_WORDS),
            "calificacion": rating,
            "nota": notes,
            "fecha": pd.to_datetime(pd.Series(first_day)).dt.strftime("%d/%m/%Y"),
        }
    )
    last = walks.iloc[-1]
    defects_walks = pd.DataFrame(
        {
            "id": ["W9001", "W9002", "W9003"],
            "recorrido": [last["recorrido"]] * 3,
            "longitud": [last["longitud"], last["longitud"], last["longitud"] + 1.0],
            "latitud": [last["latitud"]] * 3,
            "categoria": ["Iluminación", "Ruido", "Iluminación"],
            "calificacion": [7, 3, 2],
            "nota": ["", "Mucho ruido", ""],
            "fecha": [last["fecha"]] * 3,
        }
    )
    walks = pd.concat([walks, defects_walks], ignore_index=True)
    paths = {key: folder / name for key, name in FILES.items()}
    fieldwork.to_csv(paths["fieldwork"], index=False, encoding="utf-8", lineterminator="\n")
    walks.to_csv(paths["walks"], index=False, encoding="utf-8", lineterminator="\n")
    return {
        "seed": int(seed),
        "files": dict(FILES),
        "communities": areas,
        "sessions": len(sessions),
        "segments": len(first),
        "observations": len(q),
        "planted": {
            "robbery_lighting": {"area_id": planted, "problem": "robbery", "risk_factors": ["poor_lighting"]},
            "fear_vs_crime": {"area_id": fear, "code": "fear_of_crime"},
            "lighting_walks_vs_indicator": {"area_id": bright, "code": "poor_lighting", "category": "lighting"},
        },
        "latent_quality": {a: {c: round(float(v), 4) for c, v in row.items()} for a, row in quality.iterrows()},
        "defects": {
            "fieldwork": {"unknown_code": 1, "unknown_area": 1, "bad_date": 1},
            "walks": {"bad_rating": 1, "unknown_category": 1, "outside_city": 1},
        },
        "notes": [
            "Codes come up in proportion to true (not recorded) rates relative to the city, times group affinities.",
            "Walk ratings = round(1 + 4 * quality + N(0, 0.6)) clipped to 1..5; quality from the census (see "
            "latent_quality); the planted communities override lighting or feeling_of_safety.",
        ],
    }
