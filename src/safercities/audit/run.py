"""The local safety audit as one reproducible run, written as a bundle that a later audit can be compared with.

:func:`run_audit` executes the first four steps of the method over a workspace:

1. **Quantitative diagnosis** — the framework's indicator values (imported, and computed by formula from the
   store), the latest period of each indicator up to the audit's period; the composite index per dimension
   and overall, with Monte Carlo rank intervals and the choices that drive them; the coherence check of each
   dimension.
2. **Selection of communities** for the qualitative diagnosis — by lot within strata of criminal incidence
   (or any indicator or dimension score), each with its reason, and a map.
3. **Integrated analysis** — when the workspace holds fieldwork (focus groups, interviews) or safety walks:
   threats x vulnerabilities x capacities per community, from the indicators, the fieldwork codes, the walks
   and (when a victimisation survey is held) survey perceptions; disagreements between sources as findings.
4. **Priorities** — the ranked priority problems per community and city-wide, with their rule and evidence.

The bundle is a folder: ``audit.json`` (the manifest: the workspace imports' SHA-256, the framework's id,
version and hash, every parameter, the software versions, what each step did, the SHA-256 of every file, and
the content hash), ``tables/`` (Parquet and CSV), ``selection_map.png``, ``summary.html`` (for a municipal
official, in the workspace's language) and, on request, ``summary.pdf``. Same inputs give byte-identical
files; only ``created`` in ``audit.json`` (and the PDF, whose metadata carry a date) differ, and neither
enters the content hash. Bundles of a workspace live in ``<workspace>/audits/<UTC time>/``;
:func:`latest_audit` finds the newest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from safercities import __version__
from safercities.audit.framework import Framework, load_framework, shipped_frameworks
from safercities.audit.indicators import indicator_values, parse_period
from safercities.config import LANGUAGES
from safercities.errors import InputError, check_choice
from safercities.stats.composite import AGGREGATIONS, NORMALISATIONS, OVERALL, read_weights
from safercities.workspace import Workspace

__all__ = [
    "AUDITS_FOLDER",
    "AuditBundle",
    "TABLES",
    "latest_audit",
    "list_audits",
    "load_audit",
    "run_audit",
]

AUDITS_FOLDER = "audits"
MANIFEST = "audit.json"
MAP_FILE = "selection_map.png"
SUMMARY_FILE = "summary.html"
PDF_FILE = "summary.pdf"
UNHASHED = frozenset({MANIFEST, PDF_FILE})
"""Files of a bundle outside the content hash: the manifest itself and the PDF (its metadata carry a date)."""
TABLES: dict[str, str] = {
    "indicator_values": "the indicator values used, one period per indicator (long contract, with dimension)",
    "indicator_status": "every indicator of the framework: used, or why not (no value, held at another level only, "
    "a single value, constant)",
    "dimension_scores": "score, rank and rank interval of every area per dimension and overall",
    "sensitivity": "first-order and total Sobol' shares of rank variance of each uncertain choice",
    "correlation": "coherence of each dimension: item-rest correlation, Cronbach alpha, flags",
    "selection": "every area's stratum, lot and status in the draw; the reason for the selected ones",
    "profile": "threat, vulnerability, capacity and risk of each community with fieldwork or walks",
    "findings": "the integrated analysis' findings, disagreements between sources included",
    "priorities": "ranked priority problems per community and city-wide, with rank intervals and rule",
    "evidence": "the evidence of each priority: indicator, quote, walk or survey, one row each",
    "maturity": "the data-maturity self-assessment: one row per criterion with its level and rule",
}
SURVEY_PERCEPTIONS = {"16.1.4": "feel_safe_share", "16.3.1": "reporting_share"}
"""Survey indicators (SDG ids of :mod:`safercities.survey.indicators`) read as perceptions by the codebook."""
DEFAULT_REPLICATIONS = 200


# -- the bundle -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditBundle:
    """An audit written to a folder: its manifest, and its tables read on demand."""

    path: Path
    manifest: Mapping[str, Any]

    @property
    def content_sha256(self) -> str:
        return str(self.manifest["content_sha256"])

    @property
    def created(self) -> str:
        return str(self.manifest["created"])

    @property
    def summary_html(self) -> Path:
        return self.path / SUMMARY_FILE

    @property
    def summary_pdf(self) -> Path | None:
        pdf = self.path / PDF_FILE
        return pdf if pdf.exists() else None

    @property
    def map_png(self) -> Path | None:
        png = self.path / MAP_FILE
        return png if png.exists() else None

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.manifest["steps"])

    def has(self, name: str) -> bool:
        return (self.path / "tables" / f"{name}.parquet").exists()

    def table(self, name: str) -> pd.DataFrame:
        """One of :data:`TABLES` (an empty frame when its step did not run)."""
        if name not in TABLES:
            raise InputError(f"no table '{name}' in an audit bundle; there are {', '.join(TABLES)}")
        path = self.path / "tables" / f"{name}.parquet"
        return pd.read_parquet(path) if path.exists() else pd.DataFrame()

    def summary(self) -> str:
        results = self.manifest.get("results", {})
        top = ", ".join(f"{r['area_id']} [{r['rank_lower']:.0f}–{r['rank_upper']:.0f}]" for r in results.get("top", []))
        chosen = len(results.get("selected", []))
        first = results.get("city_priorities", [])
        return (
            f"audit {self.content_sha256[:12]} of {self.manifest['workspace']['name']} "
            f"({self.manifest['inputs']['framework']['id']} {self.manifest['inputs']['framework']['version']}), "
            f"created {self.created}: worst overall {top or '—'}; {chosen} communities selected; "
            f"city priorities: {', '.join(first) or 'none yet (no fieldwork)'}"
        )


def load_audit(path: Path | str) -> AuditBundle:
    """The bundle in folder ``path`` (checked to hold a manifest)."""
    folder = Path(path)
    manifest = folder / MANIFEST
    if not manifest.exists():
        raise InputError(f"{folder} is not an audit bundle: it has no {MANIFEST}")
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the audit manifest: {exc}", file=manifest) from exc
    return AuditBundle(folder, data)


def list_audits(ws: Workspace) -> pd.DataFrame:
    """The bundles under ``<workspace>/audits/``, oldest first: path, created, content hash, framework."""
    rows = []
    for folder in sorted((ws.root / AUDITS_FOLDER).glob("*/")):
        if (folder / MANIFEST).exists():
            bundle = load_audit(folder)
            fw = bundle.manifest["inputs"]["framework"]
            rows.append(
                {
                    "path": str(folder),
                    "created": bundle.created,
                    "content_sha256": bundle.content_sha256,
                    "framework": f"{fw['id']} {fw['version']}",
                }
            )
    frame = pd.DataFrame(rows, columns=["path", "created", "content_sha256", "framework"])
    return frame.sort_values(["created", "path"], kind="stable").reset_index(drop=True)


def latest_audit(ws: Workspace) -> AuditBundle | None:
    """The newest bundle under ``<workspace>/audits/`` (by its creation time), or None when none was run."""
    held = list_audits(ws)
    return None if held.empty else load_audit(held["path"].iloc[-1])


# -- step 1: indicator values ---------------------------------------------------------------------------------
def choose_periods(values: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """Each indicator's values of its latest period with any value, up to the end of ``period`` (None: all).

    An audit reads the most recent figure of each indicator: a census of 2020 next to police records of 2024.
    The ``period`` column of the result says which period each value is from.
    """
    known = values[values["value"].notna()]
    if known.empty:
        return values.iloc[0:0]
    labels = pd.Series(sorted(set(known["period"].astype(str))))
    ends = labels.map(lambda p: parse_period(p).end)
    starts = labels.map(lambda p: parse_period(p).start)
    if period is not None:
        limit = parse_period(period).end
        keep = (ends <= limit).to_numpy()
        labels, ends, starts = labels[keep], ends[keep], starts[keep]
    order = pd.DataFrame({"period": labels, "end": ends, "start": starts}).sort_values(["end", "start", "period"])
    rank = {p: i for i, p in enumerate(order["period"])}
    held = known[known["period"].astype(str).isin(rank)]
    latest = held.groupby("indicator_id")["period"].agg(lambda p: max(p.astype(str), key=rank.__getitem__))
    chosen = values[values["indicator_id"].map(latest).eq(values["period"].astype(str))]
    return chosen.sort_values(["indicator_id", "area_id"], kind="stable").reset_index(drop=True)


def held_elsewhere(ws: Workspace, level: str) -> set[str]:
    """Indicators with imported values for areas of other levels only (e.g. a budget known for the city)."""
    from safercities.audit.indicators import imported_values

    held = imported_values(ws)
    areas = ws.store.areas()
    at_level = set(areas.loc[areas["level"] == level, "area_id"])
    known = held[held["value"].notna()]
    return set(known.loc[~known["area_id"].isin(at_level), "indicator_id"]) - set(
        known.loc[known["area_id"].isin(at_level), "indicator_id"]
    )


def indicator_status(fw: Framework, chosen: pd.DataFrame, n_areas: int, elsewhere: Iterable[str] = ()) -> pd.DataFrame:
    """Every indicator of the framework: ``used`` in the index, or why not (``no_value``, ``other_level``: values
    held only for areas of another level, ``single_value``, ``constant``), with the number of areas that have a
    value and the period read."""
    other = set(elsewhere)
    stats = chosen.groupby("indicator_id").agg(
        areas=("value", "count"),
        low=("value", "min"),
        high=("value", "max"),
        period=("period", "first"),
    )
    rows = []
    for indicator in fw.indicators:
        if indicator.id in stats.index:
            s: Any = stats.loc[indicator.id]
            areas, period = int(s["areas"]), str(s["period"])
            status = "single_value" if areas < 2 else "constant" if not s["high"] > s["low"] else "used"
        else:
            areas, period, status = 0, "", "other_level" if indicator.id in other else "no_value"
        rows.append(
            {
                "indicator_id": indicator.id,
                "dimension": indicator.dimension,
                "source": indicator.source,
                "imported": indicator.imported,
                "period": period,
                "areas": areas,
                "coverage": areas / n_areas if n_areas else 0.0,
                "status": status,
            }
        )
    return pd.DataFrame(rows)


# -- step 1: the composite index ------------------------------------------------------------------------------
def _weights(weights: Mapping[str, float] | str | Path | None, fw: Framework) -> dict[str, float] | None:
    """Weights by indicator or dimension id, from a mapping or a file; ids the framework lacks are refused."""
    if weights is None:
        return None
    given = read_weights(weights) if isinstance(weights, str | Path) else {str(k): float(v) for k, v in weights.items()}
    known = set(fw.ids) | {d.id for d in fw.dimensions}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InputError(
            f"weights given for {unknown}, which are neither indicators nor dimensions of framework '{fw.id}'",
            file=weights if isinstance(weights, str | Path) else None,
        )
    return given


def _composite(
    chosen: pd.DataFrame,
    status: pd.DataFrame,
    fw: Framework,
    area_ids: np.ndarray,
    weights: dict[str, float] | None,
    normalisation: str,
    aggregation: str,
    draws: int,
    seed: int,
    min_coverage: float,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Dimension scores with rank intervals, the sensitivity table, and the coherence check."""
    from safercities.stats.composite import correlation_check, indicator_table, uncertainty_analysis

    used = status.loc[status["status"] == "used", "indicator_id"].tolist()
    if not used:
        raise InputError(
            "no indicator has values for two or more areas: nothing to build the index from",
            hint="import indicator values (`safercities import indicators FILE`) or incidents for the formulas",
        )
    wide = indicator_table(chosen[chosen["indicator_id"].isin(used)].drop(columns="period"))
    wide = wide.reindex(index=pd.Index(area_ids, name="area_id"), columns=used)
    dimensions = {i.id: i.dimension for i in fw.indicators if i.id in used}
    directions = {i.id: i.direction for i in fw.indicators if i.id in used}
    kept = set(used) | set(dimensions.values())
    nominal = {k: v for k, v in (weights or {}).items() if k in kept} or None
    result = uncertainty_analysis(
        wide, dimensions, directions, nominal, normalisation, aggregation,
        draws=draws, seed=seed, min_coverage=min_coverage,
    )  # fmt: skip
    scores = result.table.copy()
    sensitivity = result.sensitivity.copy()
    correlation = correlation_check(wide, dimensions, directions)
    return scores, sensitivity, correlation


# -- step 2: selection ----------------------------------------------------------------------------------------
def default_selection_indicator(dimensions: Iterable[str]) -> str:
    """The criminal-incidence dimension (the first whose id holds 'crime'), else the overall score."""
    return next((d for d in dimensions if "crime" in d), OVERALL)


def selection_series(
    name: str, scores: pd.DataFrame, chosen: pd.DataFrame, fw: Framework, lang: str
) -> tuple[pd.Series, str]:
    """The per-area values that the strata follow, and their name in ``lang``."""
    dims = list(dict.fromkeys(scores["dimension"]))
    if name in dims:
        part = scores[scores["dimension"] == name].set_index("area_id")["score"]
        label = _text("score_of", lang, name=_dimension_name(fw, name, lang))
        return part.rename(label), label
    if name in fw.ids:
        part = chosen[chosen["indicator_id"] == name].set_index("area_id")["value"]
        if part.notna().sum() < 3:
            raise InputError(f"the selection indicator '{name}' has values for fewer than three areas")
        label = fw.indicator(name).name[lang]
        return part.rename(label), label
    raise InputError(
        f"unknown selection indicator '{name}'",
        hint=f"give a dimension ({', '.join(dims)}) or an indicator id of framework '{fw.id}'",
    )


# -- step 3 and 4: integrated analysis and priorities ---------------------------------------------------------
def survey_perceptions(ws: Workspace, level: str) -> pd.DataFrame | None:
    """Perception estimates by area from the latest victimisation survey held (None when there is none):
    area_id, indicator (the codebook's id), estimate, se. Suppressed estimates are left out."""
    from safercities.survey.importing import surveys
    from safercities.survey.indicators import survey_indicators

    if surveys(ws).empty:
        return None
    table = survey_indicators(ws, level=level, by=("area",))
    table = table[table["indicator"].isin(list(SURVEY_PERCEPTIONS)) & (table["by"] == "area")]
    if "suppressed" in table:
        table = table[~table["suppressed"].astype(bool)]
    table = table[table["estimate"].notna()]
    return pd.DataFrame(
        {
            "area_id": table["domain"].astype(str).to_numpy(object),
            "indicator": table["indicator"].map(SURVEY_PERCEPTIONS).to_numpy(object),
            "estimate": table["estimate"].astype(float).to_numpy(),
            "se": table["se"].astype(float).to_numpy(),
        }
    ).sort_values(["area_id", "indicator"], kind="stable", ignore_index=True)


def _fieldwork(ws: Workspace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coded segments and walk observations held, in a fixed order (the store's row order is not)."""
    from safercities.audit.fieldwork import segments
    from safercities.audit.walks import observations

    held = segments(ws).sort_values("segment_id", kind="stable", ignore_index=True)
    walked = observations(ws).sort_values("observation_id", kind="stable", ignore_index=True)
    return held, walked


def _join(items: Any) -> str:
    return ";".join(str(x) for x in items) if isinstance(items, list | tuple | np.ndarray) else ""


def evidence_table(priorities: pd.DataFrame) -> pd.DataFrame:
    """The evidence lists of the priorities as a long table: scope, problem, item, kind, ref, text."""
    rows = [
        {"scope": s, "problem": p, "item": k + 1, "kind": e["kind"], "ref": e["ref"], "text": e["text"]}
        for s, p, items in zip(priorities["scope"], priorities["problem"], priorities["evidence"], strict=True)
        for k, e in enumerate(items)
    ]
    return pd.DataFrame(rows, columns=["scope", "problem", "item", "kind", "ref", "text"])


# -- writing --------------------------------------------------------------------------------------------------
def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_table(frame: pd.DataFrame, folder: Path, name: str) -> None:
    """``name``.parquet and ``name``.csv; list columns become ';'-joined text so that both hold the same."""
    flat = frame.copy()
    for column in flat.columns:
        if flat[column].dtype == object and flat[column].map(lambda v: isinstance(v, list | tuple)).any():
            flat[column] = flat[column].map(_join)
    flat = flat.reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(flat, preserve_index=False), folder / f"{name}.parquet")
    flat.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n", encoding="utf-8")


def _software() -> dict[str, str]:
    versions = {"safercities": __version__, "python": platform.python_version()}
    for package in ("numpy", "pandas", "scipy", "pyarrow", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            versions[package] = "absent"
    return versions


def _inputs(ws: Workspace, fw: Framework, framework: str | Path | Framework, weights: Any) -> dict[str, Any]:
    imports = ws.imports()
    imports = imports[imports["status"] == "committed"]
    listed = sorted(
        (
            {
                "kind": str(r.kind),
                "file": Path(str(r.file)).name,
                "sha256": str(r.sha256),
                "rows_accepted": int(r.rows_accepted),
            }
            for r in list[Any](imports.itertuples(index=False))
        ),
        key=lambda d: (d["kind"], d["sha256"], d["file"]),
    )
    shipped = isinstance(framework, str) and framework in shipped_frameworks()
    weights_file = None
    if isinstance(weights, str | Path):
        weights_file = {"file": Path(weights).name, "sha256": sha256_of(Path(weights))}
    return {
        "imports": listed,
        "framework": {
            "id": fw.id,
            "version": fw.version,
            "sha256": fw.sha256,
            "file": f"shipped:{framework}" if shipped else Path(fw.path).name,
        },
        "weights_file": weights_file,
    }


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def content_hash(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest without its creation time and its own hash (the files enter through theirs)."""
    return _digest({k: v for k, v in manifest.items() if k not in ("created", "content_sha256")})


def _target(ws: Workspace, out: Path | str | None, created: datetime) -> Path:
    if out is None:
        base = ws.root / AUDITS_FOLDER / created.strftime("%Y%m%dT%H%M%SZ")
        target, k = base, 1
        while target.exists():
            k += 1
            target = base.with_name(f"{base.name}-{k}")
        return target
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(f"{target} exists and is not an empty folder; give a new folder for the audit bundle")
    return target


# -- the run --------------------------------------------------------------------------------------------------
def run_audit(
    ws: Workspace,
    *,
    framework: str | Path | Framework = "default",
    period: str | None = None,
    level: str | None = None,
    selection_indicator: str | None = None,
    counts: Mapping[str, int] | None = None,
    seed: int = 0,
    exclude: Iterable[str] = (),
    weights: Mapping[str, float] | str | Path | None = None,
    normalisation: str = "minmax",
    aggregation: str = "arithmetic",
    draws: int = 1000,
    min_coverage: float = 0.5,
    replications: int = DEFAULT_REPLICATIONS,
    public: bool = False,
    lang: str | None = None,
    pdf: bool = False,
    out: Path | str | None = None,
) -> AuditBundle:
    """Run steps 1–4 of the local safety audit over ``ws`` and write the bundle (see the module docstring).

    ``period``: the audit's period (each indicator's latest period up to its end; default: the latest held);
    ``level``: the areas audited (default: the finest); ``selection_indicator``: a dimension id, ``overall`` or
    an indicator id whose strata the selection follows (default: the criminal-incidence dimension);
    ``counts``, ``seed``, ``exclude``: of the selection (the seed also drives the Monte Carlo and the
    bootstrap of the priorities); ``weights``, ``normalisation``, ``aggregation``, ``draws``, ``min_coverage``:
    of the composite index; ``replications``: bootstrap draws of the priorities' rank intervals; ``public``:
    withhold formula values resting on small counts; ``lang``: of the summary (default: the workspace's);
    ``pdf``: also write ``summary.pdf``; ``out``: the bundle folder (default ``<workspace>/audits/<UTC time>``).
    """
    from safercities.audit.integrated import integrate
    from safercities.audit.maturity import data_maturity
    from safercities.audit.priorities import prioritise
    from safercities.audit.selection import DEFAULT_COUNTS, select_communities

    lang = lang or ws.config.lang
    check_choice("lang", lang, LANGUAGES, "run_audit")
    check_choice("normalisation", normalisation, NORMALISATIONS, "run_audit")
    check_choice("aggregation", aggregation, AGGREGATIONS, "run_audit")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise InputError(f"The 'seed' parameter of run_audit must be an integer >= 0. Got {seed!r} instead.")
    if period is not None:
        period = parse_period(period).label
    fw = load_framework(framework)
    nominal_weights = _weights(weights, fw)
    level = level or ws.default_level()
    created = datetime.now(UTC)
    target = _target(ws, out, created)

    # step 1: indicators and the composite index
    areas = ws.areas(level).sort_values("area_id").reset_index(drop=True)
    area_ids = areas["area_id"].astype(str).to_numpy(object)
    values = indicator_values(ws, fw, level=level, public=public)
    chosen = choose_periods(values, period)
    chosen = chosen.assign(dimension=chosen["indicator_id"].map({i.id: i.dimension for i in fw.indicators}))
    status = indicator_status(fw, chosen, len(area_ids), held_elsewhere(ws, level))
    scores, sensitivity, correlation = _composite(
        chosen, status, fw, area_ids, nominal_weights, normalisation, aggregation, draws, seed, min_coverage
    )
    names = dict(zip(area_ids, areas["name"].astype(str), strict=True))
    scores.insert(1, "name", scores["area_id"].map(names))

    # step 2: selection of communities
    which = selection_indicator or default_selection_indicator(scores["dimension"])
    series, label = selection_series(which, scores, chosen, fw, lang)
    selection = select_communities(
        areas[["area_id", "name"]], series, counts or DEFAULT_COUNTS, exclude=exclude, seed=seed,
        language=lang, indicator_name=label,
    )  # fmt: skip
    chosen_table = selection.table.set_index("area_id")["reason"]
    selection_frame = selection.areas.assign(reason=selection.areas["area_id"].map(chosen_table))

    # steps 3 and 4: integrated analysis and priorities, when there is fieldwork or walks
    segments, observations = _fieldwork(ws)
    perceptions = survey_perceptions(ws, level)
    integrated = priorities = None
    if len(segments) or len(observations):
        integrated = integrate(
            indicators=chosen,
            directions={i.id: i.direction for i in fw.indicators},
            dimension_scores=scores,
            segments=segments if len(segments) else None,
            observations=observations if len(observations) else None,
            survey=perceptions,
        )
        priorities = prioritise(integrated, replications=replications, seed=seed)

    as_of = max((parse_period(p).end for p in set(chosen["period"].astype(str))), default=pd.Timestamp(created.date()))
    data_as_of = str((as_of - pd.Timedelta(days=1)).date())
    maturity = data_maturity(ws, fw, level=level, values=values, as_of=dt.date.fromisoformat(data_as_of))

    tables = {
        "indicator_values": chosen,
        "indicator_status": status,
        "dimension_scores": scores,
        "sensitivity": sensitivity,
        "correlation": correlation,
        "selection": selection_frame,
        "maturity": maturity.to_frame(lang),
    }
    if integrated is not None and priorities is not None:
        profile = integrated.profile.drop(columns=["context"], errors="ignore")
        tables["profile"] = profile.assign(name=profile["area_id"].map(names))
        tables["findings"] = integrated.findings.drop(columns=["evidence"])
        table = priorities.to_frame()
        tables["priorities"] = table.drop(columns=["evidence"])
        tables["evidence"] = evidence_table(table)
    parameters = {
        "framework": fw.id,
        "period": period,
        "level": level,
        "selection_indicator": which,
        "counts": dict(selection.counts),
        "seed": seed,
        "exclude": sorted({str(a) for a in exclude}),
        "weights": nominal_weights,
        "normalisation": normalisation,
        "aggregation": aggregation,
        "draws": draws,
        "min_coverage": min_coverage,
        "replications": replications,
        "public": public,
        "lang": lang,
        "data_as_of": data_as_of,
    }
    manifest: dict[str, Any] = {
        "format": "safercities-audit/1",
        "workspace": {"name": ws.config.name, "crs": ws.config.crs, "lang": ws.config.lang},
        "inputs": _inputs(ws, fw, framework, weights),
        "parameters": parameters,
        "software": _software(),
        "steps": _steps(status, scores, selection, segments, observations, perceptions, integrated, priorities),
        "results": _results(scores, selection, priorities, maturity),
    }
    manifest["inputs_sha256"] = _digest({k: manifest[k] for k in ("workspace", "inputs", "parameters", "software")})

    work = target.with_name(f".{target.name}.partial")
    shutil.rmtree(work, ignore_errors=True)
    try:
        _write_bundle(work, manifest, tables, selection, areas, fw, lang, pdf)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest["created"] = created.isoformat(timespec="seconds")
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if target.exists():
        target.rmdir()  # an empty folder given as --out
    target.parent.mkdir(parents=True, exist_ok=True)
    work.rename(target)
    return AuditBundle(target, manifest)


def _write_bundle(
    work: Path,
    manifest: dict[str, Any],
    tables: Mapping[str, pd.DataFrame],
    selection: Any,
    areas: pd.DataFrame,
    fw: Framework,
    lang: str,
    pdf: bool,
) -> None:
    """Write the tables, the map and the summary into ``work``, and add their hashes and the content hash to
    ``manifest`` (the creation time is added after, outside the hash)."""
    from safercities.audit.summary import render_summary

    (work / "tables").mkdir(parents=True)
    for name, frame in tables.items():
        _write_table(frame, work / "tables", name)
    selection.map_png(work / MAP_FILE, areas)
    html = render_summary(manifest, tables, fw, selection, work / MAP_FILE, lang)
    (work / SUMMARY_FILE).write_text(html, encoding="utf-8")
    manifest["files"] = {
        str(p.relative_to(work)): sha256_of(p)
        for p in sorted(work.rglob("*"))
        if p.is_file() and p.name not in UNHASHED
    }
    manifest["content_sha256"] = content_hash(manifest)
    if pdf:
        from safercities.report.render import write_report

        write_report(html, work / PDF_FILE)


def _steps(
    status: pd.DataFrame,
    scores: pd.DataFrame,
    selection: Any,
    segments: pd.DataFrame,
    observations: pd.DataFrame,
    perceptions: pd.DataFrame | None,
    integrated: Any,
    priorities: Any,
) -> list[dict[str, Any]]:
    """What each step of the method did, with the counts that say how much it stood on."""
    overall = scores[scores["dimension"] == OVERALL]
    used = status[status["status"] == "used"]
    fieldwork_done = integrated is not None
    return [
        {
            "step": 1,
            "id": "indicators",
            "done": True,
            "indicators_used": len(used),
            "indicators_in_framework": len(status),
            "indicators_without_values": status.loc[status["status"] != "used", "indicator_id"].tolist(),
            "dimensions_scored": sorted(set(used["dimension"])),
            "dimensions_without_values": sorted(set(status["dimension"]) - set(used["dimension"])),
            "areas_scored": int(overall["score"].notna().sum()),
            "areas": len(overall),
        },
        {
            "step": 2,
            "id": "selection",
            "done": True,
            "selected": int(selection.areas["selected"].sum()),
            "warnings": list(selection.warnings),
            "sessions": int(segments["session_id"].nunique()) if len(segments) else 0,
            "segments": len(segments),
            "walk_observations": len(observations),
            "communities_with_fieldwork": sorted(
                set(segments.get("area_id", [])) | set(observations.get("area_id", []))
            ),
        },
        {
            "step": 3,
            "id": "integrated",
            "done": fieldwork_done,
            "survey": perceptions is not None and len(perceptions) > 0,
            "communities": len(integrated.profile) if fieldwork_done else 0,
            "disagreements": int((integrated.findings["kind"] == "disagreement").sum()) if fieldwork_done else 0,
        },
        {
            "step": 4,
            "id": "priorities",
            "done": priorities is not None,
            "rule": priorities.rule if priorities is not None else None,
        },
    ]


def _results(scores: pd.DataFrame, selection: Any, priorities: Any, maturity: Any) -> dict[str, Any]:
    """Headline results kept in the manifest, so that a dashboard reads them without opening the tables."""
    overall = scores[scores["dimension"] == OVERALL].dropna(subset=["rank"]).sort_values(["rank", "area_id"])
    top = [
        {
            "area_id": str(r.area_id),
            "rank": float(r.rank),
            "rank_lower": float(r.rank_lower),
            "rank_upper": float(r.rank_upper),
            "score": float(r.score),
        }
        for r in list[Any](overall.head(5).itertuples(index=False))
    ]
    city = []
    if priorities is not None:
        table = priorities.to_frame()
        city = table[table["scope"] == "city"].sort_values("rank")["problem"].head(5).tolist()
    return {
        "top": top,
        "selected": selection.table["area_id"].tolist(),
        "city_priorities": city,
        "maturity_level": int(maturity.overall),
    }


# -- labels (the summary's own words live in safercities.audit.run_labels) ------------------------------------
def _text(key: str, lang: str, **values: Any) -> str:
    from safercities.audit.run_labels import text

    return text(key, lang, **values)


def _dimension_name(fw: Framework, dimension: str, lang: str) -> str:
    if dimension == OVERALL:
        return _text("overall", lang)
    return str(fw.dimension(dimension).name[lang])
