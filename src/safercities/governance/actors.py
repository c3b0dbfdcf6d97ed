"""The actors of urban crime prevention, their mandates and relations, and who does what in the plan (RACI).

The UNODC note on safer cities asks for "the identification of all relevant actors" and for guidance on "who can
do what" (paras. 7, 12 and 19). The registry holds each actor (sector, level of government, mandate) and the
relations between them (coordination, funding, data sharing); :func:`actor_network` turns it into a graph whose
centralities and isolated actors show where coordination is thin; :func:`raci` checks that every action of a plan
names its responsible, accountable, consulted and informed actors from the registry.

A registry is a YAML file (``actors:`` and ``relations:`` lists), an Excel workbook (sheets ``actors`` and
``relations``) or a CSV of actors with an optional CSV of relations.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from safercities.errors import InputError
from safercities.governance.files import YAML, read_rows, read_yaml, require_columns, sheet_names
from safercities.governance.labels import label

SECTORS = (
    "local_government",
    "national_government",
    "international",
    "police",
    "courts",
    "prosecutors",
    "probation",
    "prisons",
    "social_services",
    "education",
    "housing",
    "health",
    "urban_planning",
    "transport",
    "academia",
    "community_groups",
    "victim_organisations",
    "private_sector",
    "media",
)
LEVELS = ("international", "national", "regional", "local")
RELATION_KINDS = ("coordination", "funding", "data_sharing")
RACI_ROLES = ("responsible", "accountable", "consulted", "informed")

ACTOR_COLUMNS = ("actor_id", "name", "sector", "level", "mandate")
RELATION_COLUMNS = ("source", "target", "kind", "note")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


@dataclass(frozen=True)
class ActorRegistry:
    """The actors (one row each) and their relations (one row per source -> target of a kind)."""

    actors: pd.DataFrame
    relations: pd.DataFrame
    origin: str = ""

    def __post_init__(self) -> None:
        for name, columns in (("actors", ACTOR_COLUMNS), ("relations", RELATION_COLUMNS)):
            frame = getattr(self, name)
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise InputError(f"an actor registry's {name} table needs the columns {missing}")

    def __len__(self) -> int:
        return len(self.actors)

    @property
    def ids(self) -> list[str]:
        return self.actors["actor_id"].tolist()

    def resolve(self, name: str, where: str = "") -> str:
        """The actor id that ``name`` means: an id, or a name compared without case; else an InputError."""
        key = str(name).strip()
        if key in set(self.actors["actor_id"]):
            return key
        by_name = self.actors.loc[self.actors["name"].str.casefold() == key.casefold(), "actor_id"]
        if len(by_name) == 1:
            return str(by_name.iloc[0])
        if len(by_name) > 1:
            raise InputError(f"{where}'{key}' names several actors ({', '.join(by_name)}); use the actor id")
        known = self.ids + self.actors["name"].tolist()
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(map(repr, close))}?" if close else f"known actors: {', '.join(self.ids)}"
        raise InputError(f"{where}unknown actor '{key}': it is not in the actors registry", hint=hint)

    def to_dict(self) -> dict[str, Any]:
        """The registry as the YAML file writes it."""
        actors = self.actors[list(ACTOR_COLUMNS)].rename(columns={"actor_id": "id"})
        relations = self.relations[list(RELATION_COLUMNS)]
        return {
            "actors": actors.to_dict(orient="records"),
            "relations": [{k: v for k, v in r.items() if v != ""} for r in relations.to_dict(orient="records")],
        }

    def labelled(self, lang: str = "en") -> pd.DataFrame:
        """The actors with their sector and level in words of ``lang``."""
        return self.actors.assign(
            sector_label=[label(f"sector.{s}", lang) for s in self.actors["sector"]],
            level_label=[label(f"level.{v}", lang) for v in self.actors["level"]],
        )


@dataclass(frozen=True)
class ActorsRead:
    """What reading a registry file gave: the valid registry, the rejected rows and their reasons."""

    registry: ActorRegistry
    rejects: pd.DataFrame
    rows_read: int
    warnings: tuple[str, ...] = field(default_factory=tuple)


def _reject(frame: pd.DataFrame, mask: Any, column: str, code: str, reason: Any) -> pd.DataFrame:
    picked = frame[mask]
    reasons = reason[mask] if isinstance(reason, pd.Series) else reason
    raw = picked.drop(columns=["row_number"]).apply(lambda r: json.dumps(r.to_dict(), ensure_ascii=False), axis=1)
    return pd.DataFrame(
        {
            "row_number": picked["row_number"].to_numpy(np.int64),
            "column_name": column,
            "reason_code": code,
            "reason": reasons,
            "raw": raw.to_numpy(object) if len(picked) else [],
        }
    )


def _first_failure(
    frame: pd.DataFrame, checks: Iterable[tuple[str, Any, str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply checks in order; each row is rejected for the first check it fails. Returns (kept, rejects).

    A check given as a function of the rows still valid (``duplicated_among``) sees only those, so that a row
    rejected for a bad value does not make a later, valid row its duplicate.
    """
    rejected = pd.Series(False, index=frame.index)
    parts = []
    for column, check, code, reason in checks:
        bad = check(~rejected) if callable(check) else check
        new = bad & ~rejected
        if new.any():
            parts.append(_reject(frame, new, column, code, reason))
        rejected |= new
    rejects = pd.concat(parts, ignore_index=True) if parts else _reject(frame, rejected, "", "", "")
    return frame[~rejected], rejects.sort_values("row_number", kind="stable").reset_index(drop=True)


def duplicated_among(frame: pd.DataFrame, keys: list[str]) -> Any:
    """A check: rows that repeat the keys of an earlier row that is still valid."""

    def check(valid: pd.Series) -> pd.Series:
        return frame[valid].duplicated(keys, keep="first").reindex(frame.index, fill_value=False)

    return check


def check_actors(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid actor rows and the rejected ones (missing id or name, bad id, unknown sector or level, duplicate)."""
    frame = frame.copy()
    if "id" in frame.columns and "actor_id" not in frame.columns:
        frame = frame.rename(columns={"id": "actor_id"})
    for column in ("mandate",):
        if column not in frame.columns:
            frame[column] = ""
    ids, sector, level = frame["actor_id"], frame["sector"].str.lower(), frame["level"].str.lower()
    frame["sector"], frame["level"] = sector, level
    checks = [
        ("actor_id", ids == "", "missing_value", "the actor has no id"),
        (
            "actor_id",
            ~ids.str.match(_ID),
            "invalid_id",
            "actor id '" + ids + "' may hold only letters, digits, '_', '.' and '-'",
        ),
        ("name", frame["name"] == "", "missing_value", "the actor has no name"),
        (
            "sector",
            ~sector.isin(SECTORS),
            "unknown_sector",
            "sector '" + sector + "' is not one of: " + ", ".join(SECTORS),
        ),
        ("level", ~level.isin(LEVELS), "unknown_level", "level '" + level + "' is not one of: " + ", ".join(LEVELS)),
        (
            "actor_id",
            duplicated_among(frame, ["actor_id"]),
            "duplicate_id",
            "actor id '" + ids + "' appears on an earlier row",
        ),
    ]
    return _first_failure(frame, checks)


def check_relations(frame: pd.DataFrame, actors: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Valid relation rows between known actors (ids or names) and the rejected ones, with their reasons."""
    frame = frame.copy()
    if "note" not in frame.columns:
        frame["note"] = ""
    names = dict(zip(actors["name"].str.casefold(), actors["actor_id"], strict=True))
    ids = set(actors["actor_id"])
    for end in ("source", "target"):
        given = frame[end]
        frame[end] = given.where(given.isin(ids), given.str.casefold().map(names)).fillna(given)
    kind = frame["kind"].str.lower().str.replace(" ", "_").str.replace("-", "_")
    frame["kind"] = kind
    checks = [
        ("source", ~frame["source"].isin(ids), "unknown_actor", "source '" + frame["source"] + "' is not an actor"),
        ("target", ~frame["target"].isin(ids), "unknown_actor", "target '" + frame["target"] + "' is not an actor"),
        (
            "kind",
            ~kind.isin(RELATION_KINDS),
            "unknown_kind",
            "relation kind '" + kind + "' is not one of: " + ", ".join(RELATION_KINDS),
        ),
        ("target", frame["source"] == frame["target"], "self_relation", "an actor cannot be related to itself"),
        (
            "kind",
            duplicated_among(frame, ["source", "target", "kind"]),
            "duplicate_relation",
            "the same relation appears on an earlier row",
        ),
    ]
    return _first_failure(frame, checks)


def _yaml_frames(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = read_yaml(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("actors"), list):
        raise InputError("an actors YAML file needs a list under 'actors:'", file=path)

    def frame(entries: object, what: str) -> pd.DataFrame:
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            raise InputError(f"'{what}:' must be a list of mappings", file=path)
        table = pd.DataFrame([{k: "" if v is None else str(v).strip() for k, v in e.items()} for e in entries])
        table = table.fillna("")
        table.insert(0, "row_number", np.arange(1, len(table) + 1, dtype=np.int64))  # entry number in the list
        return table

    actors = frame(data["actors"], "actors")
    relations = frame(data.get("relations") or [], "relations")
    return actors, relations


def read_actors(path: Path | str, relations: Path | str | None = None) -> ActorsRead:
    """Read a registry file (YAML, Excel with sheets actors/relations, or CSV + optional relations CSV)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.suffix.lower() in YAML:
        actor_rows, relation_rows = _yaml_frames(path)
    else:
        sheets = sheet_names(path)
        actor_rows = read_rows(path, "actors" if "actors" in sheets else "")
        relation_rows = read_rows(path, "relations") if "relations" in sheets else pd.DataFrame()
    if relations is not None:
        relation_rows = read_rows(Path(relations))
    if "id" in actor_rows.columns and "actor_id" not in actor_rows.columns:
        actor_rows = actor_rows.rename(columns={"id": "actor_id"})
    require_columns(actor_rows, ("actor_id", "name", "sector", "level"), path, "actors")
    actors, actor_rejects = check_actors(actor_rows)
    if relation_rows.empty:
        relation_rows = pd.DataFrame({c: pd.Series(dtype=object) for c in ("row_number", *RELATION_COLUMNS)})
    require_columns(relation_rows, ("source", "target", "kind"), Path(relations or path), "relations")
    links, link_rejects = check_relations(relation_rows, actors)
    link_rejects = link_rejects.assign(column_name="relations." + link_rejects["column_name"].astype(str))
    registry = ActorRegistry(
        actors[["row_number", *ACTOR_COLUMNS]].reset_index(drop=True),
        links[["row_number", *RELATION_COLUMNS]].reset_index(drop=True),
        origin=str(path),
    )
    rejects = pd.concat([actor_rejects, link_rejects], ignore_index=True)
    return ActorsRead(registry, rejects, len(actor_rows) + len(relation_rows))


def load_actors(path: Path | str, relations: Path | str | None = None) -> ActorRegistry:
    """The actors registry of a file; every row must be valid (the first bad one is named in the error)."""
    result = read_actors(path, relations)
    if len(result.rejects):
        first = result.rejects.iloc[0]
        more = f" ({len(result.rejects) - 1} more rows are invalid)" if len(result.rejects) > 1 else ""
        raise InputError(
            f"{first['reason']}{more}",
            file=relations if str(first["column_name"]).startswith("relations.") and relations else path,
            row=int(first["row_number"]),
            column=str(first["column_name"]),
        )
    return result.registry


def registry_from_records(actors: Sequence[Mapping[str, Any]], relations: Sequence[Mapping[str, Any]] = ()):
    """A registry built in Python (lists of dicts as in the YAML file), checked as a file would be."""
    rows = pd.DataFrame([{k: "" if v is None else str(v) for k, v in a.items()} for a in actors]).fillna("")
    rows.insert(0, "row_number", np.arange(1, len(rows) + 1, dtype=np.int64))
    if "id" in rows.columns and "actor_id" not in rows.columns:
        rows = rows.rename(columns={"id": "actor_id"})
    links = pd.DataFrame([{k: "" if v is None else str(v) for k, v in r.items()} for r in relations]).fillna("")
    if links.empty:
        links = pd.DataFrame({c: pd.Series(dtype=object) for c in RELATION_COLUMNS})
    links.insert(0, "row_number", np.arange(1, len(links) + 1, dtype=np.int64))
    good, bad = check_actors(rows)
    if len(bad):
        raise InputError(f"actor {int(bad['row_number'].iloc[0])}: {bad['reason'].iloc[0]}")
    ok, wrong = check_relations(links, good)
    if len(wrong):
        raise InputError(f"relation {int(wrong['row_number'].iloc[0])}: {wrong['reason'].iloc[0]}")
    return ActorRegistry(
        good[["row_number", *ACTOR_COLUMNS]].reset_index(drop=True),
        ok[["row_number", *RELATION_COLUMNS]].reset_index(drop=True),
    )


# -- the network ---------------------------------------------------------------------------------


def actor_network(registry: ActorRegistry) -> nx.MultiDiGraph:
    """Actors as nodes (name, sector, level) and relations as edges keyed by kind (source -> target)."""
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(
        (row.actor_id, {"name": row.name, "sector": row.sector, "level": row.level})
        for row in registry.actors.itertuples(index=False)
    )
    graph.add_edges_from(
        (row.source, row.target, row.kind, {"kind": row.kind, "note": row.note})
        for row in registry.relations.itertuples(index=False)
    )
    return graph


def network_measures(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """Per actor: partners (distinct neighbours), degree and betweenness centrality, links by kind, isolated.

    Centralities are networkx's on the undirected simple graph of any relation (normalised: degree by n - 1,
    betweenness by (n - 1)(n - 2) / 2), so that a broker between sectors stands out whatever the kinds.
    """
    simple = nx.Graph(graph.to_undirected())
    degree = nx.degree_centrality(simple) if len(simple) > 1 else dict.fromkeys(simple, 0.0)
    between = nx.betweenness_centrality(simple, normalized=True)
    nodes = list(graph.nodes)
    frame = pd.DataFrame(
        {
            "actor_id": nodes,
            "name": [graph.nodes[n]["name"] for n in nodes],
            "sector": [graph.nodes[n]["sector"] for n in nodes],
            "level": [graph.nodes[n]["level"] for n in nodes],
            "partners": [simple.degree(n) for n in nodes],
            "degree_centrality": [degree[n] for n in nodes],
            "betweenness": [between[n] for n in nodes],
        }
    )
    for kind in RELATION_KINDS:
        edges = [(u, v) for u, v, k in graph.edges(keys=True) if k == kind]
        counts = pd.Series([n for edge in edges for n in edge], dtype=object).value_counts()
        frame[f"{kind}_links"] = counts.reindex(nodes).fillna(0).astype(int).to_numpy()
    frame["isolated"] = frame["partners"] == 0
    return frame.sort_values(["partners", "betweenness", "actor_id"], ascending=[False, False, True]).reset_index(
        drop=True
    )


def isolated_actors(graph: nx.MultiDiGraph) -> list[str]:
    """Actors with no relation of any kind: the gaps in coordination."""
    return sorted(nx.isolates(graph))


_LEVEL_COLOURS = {"international": "#7b3294", "national": "#c2a5cf", "regional": "#a6dba0", "local": "#008837"}
_KIND_STYLES: dict[str, tuple[Any, str]] = {
    "coordination": ("solid", "#444444"),
    "funding": ("dashed", "#b2182b"),
    "data_sharing": ("dotted", "#2166ac"),
}


def draw_network(graph: nx.MultiDiGraph, path: Path | str, lang: str = "en", seed: int = 7) -> Path:
    """A PNG of the network: nodes coloured by level of government, edges styled by kind, isolated actors ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    simple = nx.Graph(graph.to_undirected())
    position = nx.spring_layout(simple, seed=seed, k=1.6 / max(1, len(simple)) ** 0.5)
    figure, axes = plt.subplots(figsize=(11, 8), dpi=110)
    for kind, (style, colour) in _KIND_STYLES.items():
        edges = [(u, v) for u, v, k in graph.edges(keys=True) if k == kind]
        nx.draw_networkx_edges(
            graph,
            position,
            edgelist=edges,
            style=style,
            edge_color=colour,
            width=1.6,
            arrows=True,
            ax=axes,
            arrowsize=12,
            connectionstyle="arc3,rad=0.08",
            node_size=900,
        )
    isolated = set(nx.isolates(graph))
    nx.draw_networkx_nodes(
        graph,
        position,
        node_color=[_LEVEL_COLOURS[graph.nodes[n]["level"]] for n in graph.nodes],
        edgecolors=["#d7191c" if n in isolated else "#222222" for n in graph.nodes],
        linewidths=[3.0 if n in isolated else 0.8 for n in graph.nodes],
        node_size=900,
        ax=axes,
    )
    nx.draw_networkx_labels(
        graph,
        {n: (x, y - 0.075) for n, (x, y) in position.items()},
        labels={n: graph.nodes[n]["name"] for n in graph.nodes},
        font_size=8,
        ax=axes,
    )
    handles = [
        Line2D([], [], linestyle=style, color=colour, label=label(f"relation.{kind}", lang))
        for kind, (style, colour) in _KIND_STYLES.items()
    ] + [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=10,
            markerfacecolor=colour,
            markeredgecolor="#222222",
            label=label(f"level.{level}", lang),
        )
        for level, colour in _LEVEL_COLOURS.items()
    ]
    if isolated:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=10,
                markerfacecolor="white",
                markeredgecolor="#d7191c",
                markeredgewidth=3,
                label=label("network.isolated", lang),
            )
        )
    axes.legend(handles=handles, loc="lower left", fontsize=8, frameon=True)
    axes.set_title(label("network.title", lang))
    axes.set_axis_off()
    axes.margins(0.12)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


# -- who does what -------------------------------------------------------------------------------


def _names(value: object) -> list[str]:
    """A RACI cell as a list of names: a list, or text separated by ';' or ','."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        parts = value.replace(",", ";").split(";")
    elif isinstance(value, Iterable):
        parts = [str(v) for v in value]
    else:
        parts = [str(value)]
    return [p.strip() for p in parts if p.strip()]


def raci(actions: pd.DataFrame | Sequence[Mapping[str, Any]], registry: ActorRegistry) -> pd.DataFrame:
    """Check the RACI of each plan action against the registry; one row per action x role x actor.

    ``actions`` has an ``action_id`` and the columns responsible, accountable, consulted, informed (lists, or
    text separated by ';'). Each action needs at least one responsible actor and exactly one accountable actor;
    an actor not in the registry (by id or name) is an InputError naming the action and the role.
    """
    frame = pd.DataFrame(actions) if not isinstance(actions, pd.DataFrame) else actions
    if "action_id" not in frame.columns:
        raise InputError("the actions need an 'action_id' column", column="action_id")
    rows: list[tuple[str, str, str]] = []
    for record in frame.to_dict(orient="records"):
        action = str(record["action_id"])
        named = {role: _names(record.get(role)) for role in RACI_ROLES}
        if not named["responsible"]:
            raise InputError(f"action '{action}' names no responsible actor", column="responsible")
        if len(named["accountable"]) != 1:
            raise InputError(
                f"action '{action}' must name exactly one accountable actor, not {len(named['accountable'])}",
                column="accountable",
            )
        for role, names in named.items():
            rows.extend((action, role, registry.resolve(n, where=f"action '{action}', {role}: ")) for n in names)
    long = pd.DataFrame(rows, columns=["action_id", "role", "actor_id"]).drop_duplicates()
    actors = registry.actors.set_index("actor_id")
    return long.assign(
        name=actors["name"].reindex(long["actor_id"]).to_numpy(),
        sector=actors["sector"].reindex(long["actor_id"]).to_numpy(),
        level=actors["level"].reindex(long["actor_id"]).to_numpy(),
    ).reset_index(drop=True)


def raci_matrix(long: pd.DataFrame) -> pd.DataFrame:
    """Actions x actors with the letters R, A, C, I (several when an actor holds several roles)."""
    letters = long.assign(letter=long["role"].str[0].str.upper())
    return (
        letters.groupby(["action_id", "actor_id"], sort=False)["letter"]
        .agg("".join)
        .unstack(fill_value="")
        .rename_axis(columns=None)
    )
