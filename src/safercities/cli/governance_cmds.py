"""Verbs of governance assessment, actors and the practice library: `safercities governance|actors|practices …`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from safercities.cli.common import WorkspaceOption, chosen, console, friendly, show_frame, write_frame
from safercities.errors import InputError, WorkspaceError
from safercities.workspace import ImportResult, find_root, open_workspace

governance_app = typer.Typer(help="Urban safety governance assessment: form, answers, maturity scores, gaps.")
actors_app = typer.Typer(help="The actors of crime prevention: registry, relations network, export.")
practices_app = typer.Typer(help="The library of good and promising practices: browse, search, match, publish.")

LangOption = Annotated[str, typer.Option("--lang", help="Language of the texts: en, es or fr.")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Also write the table to a .csv or .parquet file.")]
ReplaceOption = Annotated[bool, typer.Option("--replace", help="Replace an earlier import of the same file.")]
LibraryOption = Annotated[
    list[Path] | None,
    typer.Option("--library", help="Folder or file of extra practices laid over the shipped library (repeatable)."),
]


def _report(result: ImportResult, what: str) -> None:
    if result.already_imported:
        console.print(f"{result.file} was already imported as import {result.import_id}: nothing changed")
        return
    console.print(
        f"import {result.import_id}: {result.accepted:,} {what} stored, {result.rejected:,} rejected "
        f"of {result.rows_read:,} rows read"
    )
    for reason, count in result.rejects_by_reason.items():
        console.print(f"  rejected {count:,} × {reason} (see `safercities rejects --import {result.import_id}`)")
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/] {warning}")


# -- governance -----------------------------------------------------------------------------------


@friendly
def form_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="The form to write: .xlsx (with the scale) or .csv.")],
    lang: LangOption = "en",
    institution: Annotated[
        list[str] | None, typer.Option("--institution", help="An institution that will answer (repeatable).")
    ] = None,
) -> None:
    """Write the blank questionnaire: one row per institution x question, to fill with a level 0-4 and evidence."""
    from safercities.governance import load_questionnaire, write_form

    path = write_form(out, load_questionnaire(), lang, institution)
    console.print(f"wrote {path}")


@friendly
def governance_import_command(
    file: Annotated[Path, typer.Argument(help="A filled answer form (.xlsx or .csv).")],
    replace: ReplaceOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import institutions' answers; bad rows are kept in the rejects table with their reasons."""
    from safercities.governance.store import import_answers

    with open_workspace(chosen(workspace)) as ws:
        result = import_answers(ws, file, replace=replace)
    _report(result, "answers")


def _scores(workspace: Path | None, min_coverage: float) -> Any:
    from safercities.governance import score
    from safercities.governance.store import stored_answers

    with open_workspace(chosen(workspace), read_only=True) as ws:
        answers = stored_answers(ws)
    return score(answers, min_coverage=min_coverage)


def _levels(values: pd.Series) -> pd.Series:
    """Levels as whole numbers, '–' where not scored."""
    return values.map(lambda v: "–" if pd.isna(v) else str(int(v)))


CoverageOption = Annotated[
    float, typer.Option("--min-coverage", help="Share of a principle's questions that must be answered to score it.")
]


@friendly
def score_command(
    lang: LangOption = "en",
    min_coverage: CoverageOption = 0.5,
    by_institution: Annotated[
        bool, typer.Option("--by-institution", help="Show each institution's own levels per principle.")
    ] = False,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Maturity level (0-4) per principle and capacity, each with the rule that produced it."""
    from safercities.governance.assessment import RULE

    scores = _scores(workspace, min_coverage)
    q = scores.questionnaire
    principles = scores.principles.assign(label=[q.text("principle", p, lang) for p in scores.principles["principle"]])
    capacities = scores.capacities.assign(label=[q.text("capacity", c, lang) for c in scores.capacities["capacity"]])
    console.print(f"{q.name[lang]}: {len(scores.institutions)} institutions ({', '.join(scores.institutions)})")
    console.print(RULE[lang], highlight=False)
    shown = ["label", "level", "answered", "questions", "rule"]
    show_frame(principles[shown].assign(level=_levels(principles["level"])), "principles", limit=100)
    show_frame(capacities[shown].assign(level=_levels(capacities["level"])), "capacities", limit=100)
    if by_institution:
        table = scores.by_institution.assign(level=_levels(scores.by_institution["level"]))
        table = table.pivot(index="principle", columns="institution", values="level")
        table.index = [q.text("principle", p, lang) for p in table.index]
        show_frame(table.reset_index(names="principle"), "levels by institution", limit=100)
    if out:
        frame = pd.concat([principles.assign(kind="principle"), capacities.assign(kind="capacity")], ignore_index=True)
        console.print(f"wrote {write_frame(frame, out)}")


@friendly
def gaps_command(
    target: Annotated[int, typer.Option("--target", help="Level every principle should reach (1-4).")] = 3,
    lang: LangOption = "en",
    min_coverage: CoverageOption = 0.5,
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """What falls short of the target: principles, capacities and questions, unanswered or divergent ones."""
    from safercities.governance import gaps

    found = gaps(_scores(workspace, min_coverage), target=target, lang=lang)
    if out:
        console.print(f"wrote {write_frame(found, out)}")
    if found.empty:
        console.print(f"no gaps: every principle, capacity and question reaches level {target}")
        return
    shown = found[["kind", "id", "label", "level", "gap", "reason"]].assign(
        level=_levels(found["level"]), gap=_levels(found["gap"])
    )
    show_frame(shown, f"gaps against level {target}", limit=200)


# -- actors ----------------------------------------------------------------------------------------


@friendly
def actors_import_command(
    file: Annotated[Path, typer.Argument(help="Registry: .yaml (actors + relations), .xlsx (two sheets) or .csv.")],
    relations: Annotated[
        Path | None, typer.Option("--relations", help="A CSV of relations (source, target, kind, note).")
    ] = None,
    replace: ReplaceOption = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Import actors and their relations; a later import updates an actor with the same id."""
    from safercities.governance.store import import_actors

    with open_workspace(chosen(workspace)) as ws:
        result = import_actors(ws, file, relations=relations, replace=replace)
    _report(result, "actors")


def _registry(workspace: Path | None) -> Any:
    from safercities.governance.store import stored_actors

    with open_workspace(chosen(workspace), read_only=True) as ws:
        return stored_actors(ws)


@friendly
def actors_list_command(
    sector: Annotated[str | None, typer.Option("--sector", help="Only actors of this sector.")] = None,
    level: Annotated[str | None, typer.Option("--level", help="Only actors at this level of government.")] = None,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """The actors registry: id, name, sector, level and mandate."""
    frame = _registry(workspace).labelled(lang)
    if sector:
        frame = frame[frame["sector"] == sector]
    if level:
        frame = frame[frame["level"] == level]
    if out:
        console.print(f"wrote {write_frame(frame.drop(columns='row_number'), out)}")
    show_frame(frame[["actor_id", "name", "sector_label", "level_label", "mandate"]], "actors", limit=500)


@friendly
def actors_network_command(
    png: Annotated[Path | None, typer.Option("--png", help="Draw the network to this PNG file.")] = None,
    lang: LangOption = "en",
    out: OutOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Partners, centrality and isolated actors of the relations network (and a drawing)."""
    from safercities.governance import actor_network, draw_network, isolated_actors, network_measures

    graph = actor_network(_registry(workspace))
    measures = network_measures(graph).round({"degree_centrality": 3, "betweenness": 3})
    if out:
        console.print(f"wrote {write_frame(measures, out)}")
    shown = ["actor_id", "name", "sector", "partners", "degree_centrality", "betweenness"]
    show_frame(measures[shown], "actors by number of partners", limit=500)
    lonely = isolated_actors(graph)
    console.print(f"isolated actors: {', '.join(lonely) if lonely else 'none'}")
    if png:
        console.print(f"wrote {draw_network(graph, png, lang=lang)}")


@friendly
def actors_export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write: .yaml, .xlsx or .csv (actors only).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Write the registry in force as a file that `actors import` reads back."""
    import yaml

    registry = _registry(workspace)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix in (".yaml", ".yml"):
        out.write_text(yaml.safe_dump(registry.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif suffix == ".xlsx":
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            registry.actors.drop(columns="row_number").to_excel(writer, sheet_name="actors", index=False)
            registry.relations.drop(columns="row_number").to_excel(writer, sheet_name="relations", index=False)
    elif suffix == ".csv":
        registry.actors.drop(columns="row_number").to_csv(out, index=False)
    else:
        raise InputError(f"unknown export format '{suffix}'", file=out, hint="use .yaml, .xlsx or .csv")
    console.print(f"wrote {out}")


# -- practices -------------------------------------------------------------------------------------


def _library(workspace: Path | None, extra: list[Path] | None) -> Any:
    """The shipped library, the workspace's own practices (when there is a workspace) and any --library."""
    from safercities.practices.catalogue import WORKSPACE_FOLDER, load_library

    layers: list[Path] = []
    try:
        root = find_root(chosen(workspace))
    except WorkspaceError:
        if chosen(workspace) is not None:
            raise
    else:
        if (root / WORKSPACE_FOLDER).is_dir():
            layers.append(root / WORKSPACE_FOLDER)
    return load_library(*layers, *(extra or []))


def _facets(**given: list[str] | None) -> dict[str, list[str]]:
    return {name: values for name, values in given.items() if values}


Facet = Annotated[list[str] | None, typer.Option(help="Keep practices with this value (repeatable: any of them).")]


def _show_practices(library: Any, lang: str, out: Path | None, title: str) -> None:
    frame = library.to_frame(lang)
    if out:
        console.print(f"wrote {write_frame(frame.drop(columns=['origin']), out)}")
    if frame.empty:
        console.print("no practice matches")
        return
    frame["approaches"] = frame["approaches"].str.join(", ")
    show_frame(frame[["id", "title", "rating", "evidence_strength", "cost", "approaches"]], title, limit=500)


@friendly
def practices_list_command(
    approach: Facet = None,
    rating: Facet = None,
    problem: Facet = None,
    risk_factor: Facet = None,
    setting: Facet = None,
    target_group: Facet = None,
    cost: Facet = None,
    partner: Facet = None,
    lang: LangOption = "en",
    out: OutOption = None,
    library: LibraryOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """List the practices, optionally narrowed by facets (approach, rating, problem, setting …)."""
    from safercities.practices import search

    facets = _facets(
        approach=approach, rating=rating, problem=problem, risk_factor=risk_factor, setting=setting,
        target_group=target_group, cost=cost, partner=partner,
    )  # fmt: skip
    found = search(_library(workspace, library), None, **facets)
    _show_practices(found, lang, out, f"{len(found)} practices")


@friendly
def practices_search_command(
    text: Annotated[str, typer.Argument(help="Words that must all appear (any language, accents ignored).")],
    approach: Facet = None,
    rating: Facet = None,
    problem: Facet = None,
    risk_factor: Facet = None,
    setting: Facet = None,
    target_group: Facet = None,
    cost: Facet = None,
    partner: Facet = None,
    lang: LangOption = "en",
    out: OutOption = None,
    library: LibraryOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Search the practices by words, best matches first, optionally narrowed by facets."""
    from safercities.practices import search

    facets = _facets(
        approach=approach, rating=rating, problem=problem, risk_factor=risk_factor, setting=setting,
        target_group=target_group, cost=cost, partner=partner,
    )  # fmt: skip
    found = search(_library(workspace, library), text, **facets)
    _show_practices(found, lang, out, f"{len(found)} practices for '{text}'")


@friendly
def practices_show_command(
    practice_id: Annotated[str, typer.Argument(help="The practice's id.")],
    lang: LangOption = "en",
    library: LibraryOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """One practice in full: what it addresses, how it works, the evidence, what it needs, its sources."""
    from safercities.practices.labels import facet_label, label

    lib = _library(workspace, library)
    p = lib.get(practice_id)

    def text(key: str, node: dict[str, Any] | None = None) -> str:
        texts = (node or p).get(key) or {}
        return str(texts.get(lang) or texts.get("en") or "").strip()

    def names(facet: str, values: list[str]) -> str:
        return ", ".join(facet_label(facet, v, lang) for v in values)

    rating = p["evidence"]["rating"]
    console.print(f"[bold]{text('title')}[/]  ({p['id']})", highlight=False)
    console.print(f"{label('rating.' + rating, lang)} · {label('cost.' + p['cost'], lang)} · "
                  f"{names('approach', p['approaches'])}", highlight=False)  # fmt: skip
    if p.get("warning"):
        console.print(f"[bold red]{label('page.warning', lang)}:[/] {text('warning')}", highlight=False)
    console.print(text("summary"), highlight=False)
    rows = [
        ("page.problems", names("problem", p["problems"])),
        ("page.risk_factors", names("risk_factor", p.get("risk_factors", []))),
        ("page.target_groups", names("target_group", p["target_groups"])),
        ("page.settings", names("setting", p["settings"])),
        ("page.mechanism", text("mechanism")),
        ("page.evidence", text("basis", p["evidence"])),
        ("page.implementation", "; ".join(p["implementation"]["needs"])),
        ("page.partners", names("partner", p["implementation"].get("partners", []))),
    ]
    for key, value in rows:
        if value:
            console.print(f"[bold]{label(key, lang)}:[/] {value}", highlight=False)
    console.print(f"[bold]{label('page.sources', lang)}:[/]")
    for source in p["sources"]:
        console.print(f"  - {source['citation']} [{facet_label('evidence_strength', source['kind'], lang)}]",
                      highlight=False, markup=False)  # fmt: skip
    console.print(f"({lib.origin(p['id'])})", style="dim", highlight=False)


def _target_folder(folder: Path | None, workspace: Path | None) -> tuple[Path, Path | None]:
    """Where added practices go: --to, else the workspace's practices/ folder."""
    from safercities.practices.catalogue import WORKSPACE_FOLDER

    if folder is not None:
        return folder, None
    root = find_root(chosen(workspace))
    return root / WORKSPACE_FOLDER, root


ToOption = Annotated[
    Path | None, typer.Option("--to", help="Folder to write the practices to (default: the workspace's practices/).")
]


def _record(root: Path | None, action: str, detail: dict[str, object]) -> None:
    if root is not None:
        with open_workspace(root) as ws:
            ws.record_change(action, "practices", detail)


@friendly
def practices_add_command(
    file: Annotated[Path, typer.Argument(help="A YAML file with one practice or a list of practices.")],
    to: ToOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Add or update practices from YAML; every one must be valid, or nothing is written."""
    from safercities.practices.catalogue import read_practice_file
    from safercities.practices.files import add_practices

    practices = read_practice_file(file)
    folder, root = _target_folder(to, workspace)
    written = add_practices(practices, folder)
    _record(root, "add", {"file": str(file), "practices": [p["id"] for p in practices]})
    console.print(f"wrote {len(written)} practice(s) to {folder}: {', '.join(p['id'] for p in practices)}")


@friendly
def practices_import_command(
    file: Annotated[Path, typer.Argument(help="Practices as .yaml, .json, .csv or .xlsx (one per row).")],
    to: ToOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Import practices in bulk: valid ones are added, invalid rows listed with the field at fault."""
    from safercities.practices.files import add_practices, read_practices

    read = read_practices(file)
    folder, root = _target_folder(to, workspace)
    add_practices(read.practices, folder)
    _record(root, "import", {"file": str(file), "practices": len(read.practices), "rejected": len(read.rejects)})
    console.print(f"{len(read.practices)} practices added to {folder}, {len(read.rejects)} rejected")
    if len(read.rejects):
        show_frame(read.rejects[["row_number", "column_name", "reason"]], "rejected", limit=100)


@friendly
def practices_export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="A .yaml, .json, .csv or .xlsx file, or a folder.")],
    library: LibraryOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the library (shipped + the workspace's own) as one file or a folder of YAML files."""
    from safercities.practices.files import export_library

    lib = _library(workspace, library)
    console.print(f"wrote {len(lib)} practices to {export_library(lib, out)}")


def _read_priorities(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise InputError("file not found", file=path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".json":
        return pd.read_json(path)
    if suffix in (".csv", ".xlsx"):
        from safercities.governance.files import read_rows

        return read_rows(path).drop(columns="row_number")
    raise InputError(f"unknown priorities format '{suffix}'", file=path, hint="use .csv, .xlsx, .json or .parquet")


@friendly
def practices_match_command(
    priorities: Annotated[
        Path | None, typer.Option("--priorities", help="Priorities table (scope, problem, risk_factors, rank …).")
    ] = None,
    problem: Annotated[str | None, typer.Option("--problem", help="One priority problem (instead of a file).")] = None,
    risk_factor: Annotated[
        list[str] | None, typer.Option("--risk-factor", help="Its risk factors (repeatable).")
    ] = None,
    setting: Annotated[list[str] | None, typer.Option("--setting", help="Where it happens (repeatable).")] = None,
    target_group: Annotated[list[str] | None, typer.Option("--target-group", help="Who (repeatable).")] = None,
    top: Annotated[int | None, typer.Option("--top", help="Recommendable practices to keep per priority.")] = None,
    lang: LangOption = "en",
    out: OutOption = None,
    library: LibraryOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Candidate practices for each priority, ranked, with the reason, the evidence and any warning."""
    from safercities.practices import match

    if (priorities is None) == (problem is None):
        raise InputError("give either --priorities FILE or --problem ID (with --risk-factor, --setting …)")
    if priorities is not None:
        table = _read_priorities(priorities)
    else:
        table = pd.DataFrame(
            [{"scope": "city", "problem": problem, "risk_factors": risk_factor or [], "settings": setting or [],
              "target_groups": target_group or []}]
        )  # fmt: skip
    found = match(table, _library(workspace, library), lang=lang, top=top)
    if out:
        console.print(f"wrote {write_frame(found, out)}")
    if found.empty:
        console.print("no practice addresses these problems or risk factors")
        return
    for (scope, problem_id), part in found.groupby(["scope", "problem"], sort=False):
        shown = part[["rank", "practice_id", "rating_label", "evidence_strength", "score", "reason"]].copy()
        shown["score"] = shown["score"].round(2)
        show_frame(shown, f"{scope} · {problem_id}", limit=top + 20 if top else 500)
        for row in part[part["warning"] != ""].to_dict(orient="records"):
            console.print(f"[bold red]warning[/] {row['practice_id']}: {row['warning']}", highlight=False)


@friendly
def practices_page_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML page to write.")],
    lang: LangOption = "en",
    library: LibraryOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the library as one readable HTML page (grouped by approach, ratings as badges, warnings boxed)."""
    from safercities.practices.page import write_page

    lib = _library(workspace, library)
    console.print(f"wrote {write_page(lib, out, lang=lang)} ({len(lib)} practices)")


def register(app: typer.Typer, import_app: typer.Typer) -> None:
    """Add this module's verb groups to ``app`` and its import verbs to ``import_app``."""
    governance_app.command("form")(form_command)
    governance_app.command("import")(governance_import_command)
    governance_app.command("score")(score_command)
    governance_app.command("gaps")(gaps_command)
    actors_app.command("import")(actors_import_command)
    actors_app.command("list")(actors_list_command)
    actors_app.command("network")(actors_network_command)
    actors_app.command("export")(actors_export_command)
    for name, command in (
        ("list", practices_list_command),
        ("search", practices_search_command),
        ("show", practices_show_command),
        ("add", practices_add_command),
        ("import", practices_import_command),
        ("export", practices_export_command),
        ("match", practices_match_command),
        ("page", practices_page_command),
    ):
        practices_app.command(name)(command)
    app.add_typer(governance_app, name="governance")
    app.add_typer(actors_app, name="actors")
    app.add_typer(practices_app, name="practices")
    import_app.command("governance")(governance_import_command)
    import_app.command("actors")(actors_import_command)
