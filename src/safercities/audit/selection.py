"""Which communities the audit's fieldwork visits: a stratified draw by lot, reproducible and explained.

The safety audits of Querétaro and others chose communities of high, medium and low criminal incidence
(by default 10, 5 and 5) for focus groups, interviews and safety walks. :func:`select_communities` does
that from any per-area indicator (a robbery rate, the crime dimension of the composite index, ...):

1. **Strata.** Each area with a value is placed in a stratum: ``low`` (value <= c1), ``medium``
   (c1 < value <= c2) or ``high`` (value > c2). The cut points are the city's tertiles (the 1/3 and 2/3
   quantiles, linear interpolation, over every area with a value, excluded ones included: strata describe
   the city) unless ``cuts=(c1, c2)`` are given. Areas without a value are in no stratum.
2. **Lots.** Every area gets a lot: the first 8 bytes of SHA-256 of ``"<seed>:<area_id>"`` read as a
   fraction of 2**64. Anyone can recompute it with any SHA-256 tool, and an area's lot does not depend on
   the other areas, so excluding one community never reshuffles the rest.
3. **Draw.** In each stratum, the eligible areas (with a value, not excluded) with the lowest lots are
   chosen, as many as ``counts`` asks. A stratum with fewer eligible areas gives all of them, and the
   shortfall is reported in ``warnings``.

Each chosen area carries its reason in English, Spanish or French: stratum and its rule, the value, its
rank in the city (1 = highest value) and its place in the draw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from safercities.errors import InputError, check_choice
from safercities.stats.provenance import stamp

__all__ = ["DEFAULT_COUNTS", "LABELS", "STRATA", "Selection", "select_communities"]

STRATA: tuple[str, ...] = ("high", "medium", "low")
DEFAULT_COUNTS: dict[str, int] = {"high": 10, "medium": 5, "low": 5}
LANGUAGES = ("en", "es", "fr")
COLOURS = {"high": "#b2182b", "medium": "#ef8a62", "low": "#4393c3"}

LABELS: dict[str, dict[str, str]] = {
    "stratum.high": {"en": "high", "es": "alto", "fr": "haute"},
    "stratum.medium": {"en": "medium", "es": "medio", "fr": "moyenne"},
    "stratum.low": {"en": "low", "es": "bajo", "fr": "basse"},
    "rule.high": {"en": "value above {c2}", "es": "valor superior a {c2}", "fr": "valeur supérieure à {c2}"},
    "rule.medium": {
        "en": "value above {c1} and at most {c2}",
        "es": "valor superior a {c1} y de hasta {c2}",
        "fr": "valeur supérieure à {c1} et au plus {c2}",
    },
    "rule.low": {"en": "value at most {c1}", "es": "valor de hasta {c1}", "fr": "valeur au plus égale à {c1}"},
    "cuts.tertiles": {"en": "city tertiles", "es": "terciles de la ciudad", "fr": "terciles de la ville"},
    "cuts.given": {"en": "cut points given", "es": "puntos de corte dados", "fr": "seuils donnés"},
    "reason": {
        "en": "Stratum {stratum} ({rule}; {cuts}): {indicator} = {value}, rank {rank} of {ranked} in the city "
        "(1 = highest). Drawn by lot: place {draw} among the {size} eligible communities of the stratum, "
        "{wanted} wanted (seed {seed}, lot {lot}).",
        "es": "Estrato {stratum} ({rule}; {cuts}): {indicator} = {value}, posición {rank} de {ranked} en la "
        "ciudad (1 = el más alto). Sorteada: lugar {draw} entre las {size} comunidades elegibles del estrato, "
        "se buscaban {wanted} (semilla {seed}, número {lot}).",
        "fr": "Strate {stratum} ({rule} ; {cuts}) : {indicator} = {value}, rang {rank} sur {ranked} dans la "
        "ville (1 = la plus élevée). Tirée au sort : position {draw} parmi les {size} communautés éligibles de "
        "la strate, {wanted} recherchées (graine {seed}, numéro {lot}).",
    },
    "shortfall": {
        "en": "stratum {stratum}: {wanted} wanted but only {size} eligible communities; all were taken",
        "es": "estrato {stratum}: se buscaban {wanted} pero solo hay {size} comunidades elegibles; se tomaron todas",
        "fr": "strate {stratum} : {wanted} recherchées mais seulement {size} communautés éligibles ; toutes prises",
    },
    "status.selected": {"en": "selected", "es": "seleccionada", "fr": "sélectionnée"},
    "status.not_drawn": {"en": "not drawn", "es": "no sorteada", "fr": "non tirée"},
    "status.excluded": {"en": "excluded", "es": "excluida", "fr": "exclue"},
    "status.no_value": {"en": "no value", "es": "sin valor", "fr": "sans valeur"},
    "map.title": {
        "en": "Communities selected for fieldwork",
        "es": "Comunidades seleccionadas para el trabajo de campo",
        "fr": "Communautés retenues pour le travail de terrain",
    },
    "map.subtitle": {
        "en": "strata by {indicator} ({cuts}); seed {seed}",
        "es": "estratos según {indicator} ({cuts}); semilla {seed}",
        "fr": "strates selon {indicator} ({cuts}) ; graine {seed}",
    },
    "map.other": {"en": "not selected", "es": "no seleccionada", "fr": "non retenue"},
    "map.excluded": {"en": "excluded", "es": "excluida", "fr": "exclue"},
    "map.legend": {"en": "Stratum", "es": "Estrato", "fr": "Strate"},
}


def _text(key: str, language: str, **values: Any) -> str:
    return LABELS[key][language].format(**values)


def _number(value: float, language: str) -> str:
    """A value with 4 significant digits, the decimal comma in Spanish and French."""
    text = f"{value:.4g}"
    return text.replace(".", ",") if language in ("es", "fr") else text


def lots(area_ids: Iterable[str], seed: int) -> np.ndarray:
    """Each area's lot in [0, 1): the first 8 bytes of SHA-256("<seed>:<area_id>") over 2**64."""
    keys = [int.from_bytes(hashlib.sha256(f"{seed}:{a}".encode()).digest()[:8], "big") for a in area_ids]
    return np.array(keys, dtype=np.float64) / 2.0**64


@dataclass(frozen=True)
class Selection:
    """The chosen communities, why each was chosen, and where every other area stood."""

    areas: pd.DataFrame  # every area: area_id, name, value, rank, stratum, eligible, lot, draw, selected, status
    cuts: tuple[float, float]
    cut_rule: str  # "tertiles" or "given"
    counts: Mapping[str, int]
    seed: int
    indicator: str
    language: str = "en"
    warnings: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)  # function, version, parameters, input hash

    @property
    def table(self) -> pd.DataFrame:
        """The chosen areas: area_id, name, stratum, value, rank, draw, lot and reason (in ``language``)."""
        return self.in_language(self.language)

    def in_language(self, language: str) -> pd.DataFrame:
        """:attr:`table` with its reasons in ``language`` (en, es, fr)."""
        check_choice("language", language, LANGUAGES, "Selection")
        chosen = self.areas[self.areas["selected"]].copy()
        order = {s: i for i, s in enumerate(STRATA)}
        chosen = chosen.sort_values(["stratum", "draw"], key=lambda c: c.map(order) if c.name == "stratum" else c)
        ranked = int(self.areas["rank"].notna().sum())
        sizes = self.areas[self.areas["eligible"]].groupby("stratum").size()
        c1, c2 = (_number(c, language) for c in self.cuts)
        rows: list[Any] = list(chosen.itertuples())
        reasons = [
            _text(
                "reason",
                language,
                stratum=_text(f"stratum.{row.stratum}", language),
                rule=_text(f"rule.{row.stratum}", language, c1=c1, c2=c2),
                cuts=_text(f"cuts.{self.cut_rule}", language),
                indicator=self.indicator,
                value=_number(row.value, language),
                rank=int(row.rank),
                ranked=ranked,
                draw=int(row.draw),
                size=int(sizes[row.stratum]),
                wanted=int(self.counts[row.stratum]),
                seed=self.seed,
                lot=f"{row.lot:.6f}".replace(".", "," if language != "en" else "."),
            )
            for row in rows
        ]
        table = chosen[["area_id", "name", "stratum", "value", "rank", "draw", "lot"]].assign(reason=reasons)
        return table.reset_index(drop=True)

    def with_language(self, language: str) -> Selection:
        """The same selection, explained in another language."""
        check_choice("language", language, LANGUAGES, "Selection")
        return replace(self, language=language)

    def summary(self) -> str:
        got = self.areas[self.areas["selected"]].groupby("stratum").size().reindex(list(STRATA), fill_value=0)
        parts = ", ".join(f"{n} {s}" for s, n in got.items())
        return (
            f"{int(got.sum())} communities chosen by lot (seed {self.seed}) in strata of {self.indicator} "
            f"(cuts {self.cuts[0]:.4g} and {self.cuts[1]:.4g}, {self.cut_rule}): {parts}."
            + (" " + "; ".join(self.warnings) if self.warnings else "")
        )

    def map_png(self, path: str | Path, areas_gdf: Any, *, title: str | None = None, dpi: int = 150) -> Path:
        """A map of every area in grey and the chosen ones coloured by stratum and labelled; written to ``path``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        if "area_id" not in getattr(areas_gdf, "columns", ()) or not hasattr(areas_gdf, "geometry"):
            raise InputError("map_png: give the areas as a GeoDataFrame with an 'area_id' column")
        language = self.language
        table = self.table
        missing = sorted(set(table["area_id"]) - set(areas_gdf["area_id"].astype(str)))
        if missing:
            raise InputError(f"map_png: chosen areas {missing} are not in the areas given for the map")
        shapes = areas_gdf.assign(area_id=areas_gdf["area_id"].astype(str))
        chosen = shapes.merge(table[["area_id", "stratum"]], on="area_id", how="inner")
        fig, ax = plt.subplots(figsize=(8, 8))
        try:
            shapes.plot(ax=ax, color="#e6e6e6", edgecolor="white", linewidth=0.5)
            excluded = shapes[shapes["area_id"].isin(self.areas.loc[self.areas["status"] == "excluded", "area_id"])]
            if len(excluded):
                excluded.plot(ax=ax, facecolor="#e6e6e6", edgecolor="#777777", hatch="///", linewidth=0.5)
            for stratum in STRATA:
                part = chosen[chosen["stratum"] == stratum]
                if len(part):
                    part.plot(ax=ax, color=COLOURS[stratum], edgecolor="black", linewidth=0.6)
            points = chosen.geometry.representative_point()
            for label, point in zip(chosen["area_id"], points, strict=True):
                box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75}
                ax.annotate(label, (point.x, point.y), ha="center", va="center", fontsize=7, weight="bold", bbox=box)
            counts = chosen.groupby("stratum").size()
            handles = [
                Patch(color=COLOURS[s], label=f"{_text(f'stratum.{s}', language)} ({int(counts.get(s, 0))})")
                for s in STRATA
            ] + [Patch(color="#e6e6e6", label=_text("map.other", language))]
            if len(excluded):
                handles.append(Patch(facecolor="#e6e6e6", edgecolor="#777777", hatch="///",
                                     label=_text("map.excluded", language)))  # fmt: skip
            ax.legend(handles=handles, title=_text("map.legend", language), loc="best", fontsize=8)
            ax.set_title(title or _text("map.title", language))
            ax.text(
                0.5, -0.04,
                _text("map.subtitle", language, indicator=self.indicator,
                      cuts=_text(f"cuts.{self.cut_rule}", language), seed=self.seed),
                transform=ax.transAxes, ha="center", va="top", fontsize=8,
            )  # fmt: skip
            ax.set_axis_off()
            ax.set_aspect("equal")
            out = Path(path)
            fig.savefig(out, dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
        return out


def _area_table(areas_frame: pd.DataFrame) -> pd.DataFrame:
    if "area_id" in areas_frame.columns:
        column = areas_frame["area_id"]
    elif areas_frame.index.name == "area_id":
        column = areas_frame.index.to_series()
    else:
        raise InputError("select_communities: the areas need an 'area_id' column")
    ids = column.astype(str).to_numpy(object)
    if len(ids) == 0:
        raise InputError("select_communities: no areas given")
    duplicated = pd.Index(ids)[pd.Index(ids).duplicated()]
    if len(duplicated):
        raise InputError(f"select_communities: area '{duplicated[0]}' appears twice among the areas")
    names = areas_frame["name"].astype(str).to_numpy(object) if "name" in areas_frame.columns else ids
    return pd.DataFrame({"area_id": ids, "name": names})


def _check_counts(counts: Mapping[str, int]) -> dict[str, int]:
    unknown = sorted(set(counts) - set(STRATA))
    if unknown:
        raise InputError(f"select_communities: counts for unknown strata {unknown}; the strata are {list(STRATA)}")
    out = {}
    for s in STRATA:
        n = counts.get(s, 0)
        if not (isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0):
            raise InputError(f"select_communities: the count of stratum '{s}' must be an integer >= 0. Got {n!r}.")
        out[s] = int(n)
    return out


def select_communities(
    areas_frame: pd.DataFrame,
    indicator: pd.Series,
    counts: Mapping[str, int] | None = None,
    exclude: Iterable[str] = (),
    seed: int = 0,
    cuts: tuple[float, float] | None = None,
    *,
    language: str = "en",
    indicator_name: str | None = None,
) -> Selection:
    """Choose communities for fieldwork by lot within strata of ``indicator`` (see the module docstring).

    ``areas_frame``: the communities (an ``area_id`` column, optionally ``name``); ``indicator``: a value per
    area id (NaN = no value); ``counts``: wanted per stratum (default 10 high, 5 medium, 5 low); ``exclude``:
    area ids that must not be visited; ``cuts``: (c1, c2) instead of the city's tertiles.
    """
    check_choice("language", language, LANGUAGES, "select_communities")
    if not (isinstance(seed, int | np.integer) and not isinstance(seed, bool) and seed >= 0):
        raise InputError(f"The 'seed' parameter of select_communities must be an integer >= 0. Got {seed!r}.")
    wanted = _check_counts(DEFAULT_COUNTS if counts is None else counts)
    table = _area_table(areas_frame)
    if not isinstance(indicator, pd.Series):
        raise InputError("select_communities: give the indicator as a pandas Series indexed by area id")
    values = pd.to_numeric(indicator, errors="coerce").astype(float)
    bad = values.isna() & indicator.notna()
    if bad.any():
        raise InputError(f"select_communities: the indicator value of area '{indicator.index[bad][0]}' is not a number")
    values.index = values.index.astype(str)
    if values.index.has_duplicates:
        raise InputError(f"select_communities: area '{values.index[values.index.duplicated()][0]}' has two values")
    stray = sorted(set(values.index) - set(table["area_id"]))
    if stray:
        raise InputError(
            f"select_communities: the indicator has values for areas {stray[:5]} that are not among the areas"
        )
    excluded = {str(a) for a in exclude}
    unknown = sorted(excluded - set(table["area_id"]))
    if unknown:
        raise InputError(f"select_communities: cannot exclude {unknown}: no such area")
    table["value"] = values.reindex(table["area_id"]).to_numpy()
    valued = table["value"].notna().to_numpy()
    if valued.sum() < 3 and cuts is None:
        raise InputError("select_communities: tertiles need at least three areas with a value; give cuts=(c1, c2)")
    if cuts is None:
        c1, c2 = (float(q) for q in np.quantile(table.loc[valued, "value"], [1 / 3, 2 / 3]))
        rule = "tertiles"
    else:
        if len(cuts) != 2 or not all(np.isfinite(cuts)) or cuts[0] > cuts[1]:
            raise InputError(f"select_communities: cuts must be two finite numbers c1 <= c2. Got {cuts!r}")
        c1, c2 = float(cuts[0]), float(cuts[1])
        rule = "given"
    v = table["value"].to_numpy()
    stratum = np.select([v > c2, v > c1, v <= c1], ["high", "medium", "low"], default="")
    table["stratum"] = pd.Series(stratum, index=table.index, dtype=object).where(valued, None)
    table["rank"] = table["value"].rank(ascending=False, method="min")
    table["eligible"] = valued & ~table["area_id"].isin(excluded).to_numpy()
    table["lot"] = lots(table["area_id"], int(seed))
    eligible = table[table["eligible"]].sort_values(["lot", "area_id"])
    draw = eligible.groupby("stratum").cumcount() + 1
    table["draw"] = draw.reindex(table.index)
    quota = table["stratum"].map(wanted)
    table["selected"] = (table["eligible"] & (table["draw"] <= quota)).astype(bool)
    table["status"] = np.select(
        [table["selected"].to_numpy(), ~valued, table["area_id"].isin(excluded).to_numpy()],
        ["selected", "no_value", "excluded"],
        default="not_drawn",
    )
    sizes = table[table["eligible"]].groupby("stratum").size().reindex(list(STRATA), fill_value=0)
    shortfalls = tuple(
        _text("shortfall", "en", stratum=s, wanted=wanted[s], size=int(sizes[s]))
        for s in STRATA
        if sizes[s] < wanted[s]
    )
    name = indicator_name or (str(indicator.name) if indicator.name is not None else "indicator")
    return Selection(
        areas=table[["area_id", "name", "value", "rank", "stratum", "eligible", "lot", "draw", "selected", "status"]],
        cuts=(c1, c2),
        cut_rule=rule,
        counts=wanted,
        seed=int(seed),
        indicator=name,
        language=language,
        warnings=shortfalls,
        provenance=stamp(
            "select_communities",
            {"counts": wanted, "exclude": sorted(excluded), "seed": int(seed), "cuts": cuts, "indicator": name},
            table["area_id"].to_numpy(object),
            table["value"].to_numpy(),
        ),
    )
