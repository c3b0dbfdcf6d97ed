"""The audit as a run, on the synthetic city: a reproducible bundle whose numbers follow the city's truth."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from auditrunkit import AuditCity, audit_city
from safercities.audit.compare import compare_audits
from safercities.audit.framework import FRAMEWORKS, load_framework
from safercities.audit.run import TABLES, AuditBundle, latest_audit, list_audits, load_audit, run_audit
from safercities.errors import InputError
from safercities.sim.indicators import FROM_OTHER_SOURCES
from safercities.workspace import file_sha256, open_workspace

DRAWS = 200
REPLICATIONS = 60


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> AuditCity:
    return audit_city(tmp_path_factory)


@pytest.fixture(scope="module")
def full_ws(city: AuditCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city.workspace(tmp_path_factory.mktemp("audit-full") / "ws", "fieldwork")


@pytest.fixture(scope="module")
def data_ws(city: AuditCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return city.workspace(tmp_path_factory.mktemp("audit-data") / "ws", "data")


@pytest.fixture(scope="module")
def bundle(full_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> AuditBundle:
    with open_workspace(full_ws, read_only=True) as ws:
        return run_audit(
            ws, draws=DRAWS, replications=REPLICATIONS, seed=7, out=tmp_path_factory.mktemp("bundle") / "a"
        )


@pytest.fixture(scope="module")
def early(data_ws: Path, tmp_path_factory: pytest.TempPathFactory) -> AuditBundle:
    """The audit before any fieldwork: steps 1 and 2 only."""
    with open_workspace(data_ws, read_only=True) as ws:
        return run_audit(ws, draws=DRAWS, replications=REPLICATIONS, seed=7, out=tmp_path_factory.mktemp("early") / "a")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- reproducibility ------------------------------------------------------------------------------------------
def test_same_inputs_give_byte_identical_bundles(full_ws: Path, bundle: AuditBundle, tmp_path: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        again = run_audit(ws, draws=DRAWS, replications=REPLICATIONS, seed=7, out=tmp_path / "b")
    first, second = _files(bundle.path), _files(again.path)
    assert set(first) == set(second)
    different = [name for name in first if first[name] != second[name]]
    assert different == ["audit.json"]  # only its creation time differs
    a, b = json.loads(first["audit.json"]), json.loads(second["audit.json"])
    assert a.pop("created") != "" and b.pop("created") != ""
    assert a == b
    assert bundle.content_sha256 == again.content_sha256
    # every file is listed with its SHA-256, and the content hash covers the manifest without its time
    for name, digest in a["files"].items():
        assert hashlib.sha256(first[name]).hexdigest() == digest
    body = {k: v for k, v in a.items() if k != "content_sha256"}
    assert (
        hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        == (a["content_sha256"])
    )


def test_a_rebuilt_workspace_with_the_same_files_gives_the_same_audit(
    city: AuditCity, bundle: AuditBundle, tmp_path: Path
) -> None:
    root = city.workspace(tmp_path / "ws", "fieldwork")
    with open_workspace(root, read_only=True) as ws:
        again = run_audit(ws, draws=DRAWS, replications=REPLICATIONS, seed=7, out=tmp_path / "b")
    assert again.content_sha256 == bundle.content_sha256


def test_another_seed_gives_another_audit_and_says_why(full_ws: Path, bundle: AuditBundle, tmp_path: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        other = run_audit(ws, draws=DRAWS, replications=REPLICATIONS, seed=8, out=tmp_path / "c")
    assert other.content_sha256 != bundle.content_sha256
    comparison = compare_audits(bundle, other)
    assert list(comparison.parameters["parameter"]) == ["seed"]
    assert comparison.imports.empty
    # the nominal scores do not depend on the seed; only the intervals and the draw do
    a, b = bundle.table("dimension_scores"), other.table("dimension_scores")
    assert np.allclose(a["score"], b["score"], equal_nan=True)
    assert (a["rank"].fillna(-1) == b["rank"].fillna(-1)).all()


# -- the manifest ---------------------------------------------------------------------------------------------
def test_the_manifest_records_inputs_parameters_and_versions(bundle: AuditBundle, city: AuditCity) -> None:
    m = bundle.manifest
    by_kind = {i["kind"]: i for i in m["inputs"]["imports"]}
    expected = {
        "areas": city.city.areas,
        "incidents": city.city.incidents,
        "indicator_values": city.file(city.indicators["file"]),
        "fieldwork_segments": city.file(city.fieldwork["files"]["fieldwork"]),
        "walk_observations": city.file(city.fieldwork["files"]["walks"]),
    }
    assert set(by_kind) == set(expected)
    for kind, path in expected.items():
        assert by_kind[kind]["sha256"] == file_sha256(path), kind
        assert by_kind[kind]["file"] == path.name
    fw = m["inputs"]["framework"]
    assert fw["sha256"] == hashlib.sha256((FRAMEWORKS / "default.yaml").read_bytes()).hexdigest()
    assert (fw["id"], fw["version"]) == ("default", load_framework().version)
    p = m["parameters"]
    assert p["seed"] == 7 and p["draws"] == DRAWS and p["replications"] == REPLICATIONS
    assert p["counts"] == {"high": 10, "medium": 5, "low": 5}
    assert p["selection_indicator"] == "crime" and p["lang"] == "es" and p["level"] == "community"
    assert p["data_as_of"] == "2024-12-31"
    assert m["software"]["safercities"] and m["created"]
    assert [s["step"] for s in m["steps"]] == [1, 2, 3, 4] and all(s["done"] for s in m["steps"])
    for name in TABLES:
        assert (bundle.path / "tables" / f"{name}.parquet").exists(), name
        assert (bundle.path / "tables" / f"{name}.csv").exists(), name


def test_parquet_and_csv_hold_the_same_table(bundle: AuditBundle) -> None:
    for name in ("dimension_scores", "selection", "priorities"):
        parquet = bundle.table(name)
        csv = pd.read_csv(bundle.path / "tables" / f"{name}.csv", dtype={"area_id": str, "scope": str})
        assert list(csv.columns) == list(parquet.columns)
        assert len(csv) == len(parquet)
    scores = bundle.table("dimension_scores")
    csv = pd.read_csv(bundle.path / "tables" / "dimension_scores.csv")
    assert np.allclose(csv["score"], scores["score"], equal_nan=True, rtol=0, atol=0)


# -- step 1 ---------------------------------------------------------------------------------------------------
def test_indicator_values_are_the_imported_file_latest_year(bundle: AuditBundle, city: AuditCity) -> None:
    source = pd.read_csv(city.file(city.indicators["file"]), dtype={"area_id": str, "period": str})
    values = bundle.table("indicator_values")
    for indicator in ("poverty_rate", "trust_in_police", "street_lighting_coverage"):
        expected = source[(source["indicator_id"] == indicator) & (source["period"] == "2024")].set_index("area_id")
        got = values[values["indicator_id"] == indicator].set_index("area_id")
        assert set(got["period"]) == {"2024"}
        both = expected["value"].reindex(got.index)
        assert np.allclose(got["value"], both, equal_nan=True), indicator
    # the values the simulation left empty on purpose stay missing, never zero
    missing = pd.DataFrame(city.indicators["missing"])
    missing = missing[missing["period"] == "2024"]
    keyed = values.set_index(["area_id", "indicator_id"])["value"]
    for row in missing.head(20).itertuples(index=False):
        if (row.area_id, row.indicator_id) in keyed.index:
            assert np.isnan(keyed[(row.area_id, row.indicator_id)])


def test_indicators_known_only_for_the_city_are_listed_as_missing_at_community_level(
    bundle: AuditBundle, city: AuditCity
) -> None:
    status = bundle.table("indicator_status").set_index("indicator_id")
    fw = load_framework()
    city_level = {k for k, v in city.indicators["indicators"].items() if v["level"] == "city"} & set(fw.ids)
    assert set(status.index[status["status"] == "other_level"]) == city_level
    # procurement risk comes from the OCDS screening, which these bundles do not import
    absent = city_level | FROM_OTHER_SOURCES
    assert set(status.index[status["status"] != "used"]) == absent
    step = bundle.steps[0]
    assert set(step["indicators_without_values"]) == absent
    assert step["indicators_used"] == len(fw.ids) - len(absent)


def test_ranks_carry_intervals_and_the_crime_dimension_follows_the_true_crime(
    bundle: AuditBundle, city: AuditCity
) -> None:
    scores = bundle.table("dimension_scores")
    overall = scores[scores["dimension"] == "overall"]
    assert len(overall) == 60 and overall["score"].notna().all()
    assert ((overall["rank_lower"] <= overall["rank"]) & (overall["rank"] <= overall["rank_upper"])).all()
    crime = scores[scores["dimension"] == "crime"].set_index("area_id")["score"]
    true = city.city.counts().groupby("area_id")["true"].sum()
    population = pd.read_csv(city.city.census, dtype={"area_id": str}).set_index("area_id")["population"]
    rate = (true / population).reindex(crime.index)
    assert crime.corr(rate, method="spearman") > 0.8
    sensitivity = bundle.table("sensitivity")
    assert set(sensitivity["factor"]) == {"normalisation", "weights", "aggregation", "exclusion"}


# -- step 2 ---------------------------------------------------------------------------------------------------
def test_the_selection_follows_tertiles_of_the_crime_dimension(bundle: AuditBundle) -> None:
    selection = bundle.table("selection")
    chosen = selection[selection["selected"]]
    assert chosen.groupby("stratum").size().to_dict() == {"high": 10, "low": 5, "medium": 5}
    assert chosen["reason"].notna().all() and selection.loc[~selection["selected"], "reason"].isna().all()
    scores = bundle.table("dimension_scores")
    crime = scores[scores["dimension"] == "crime"].set_index("area_id")["score"]
    tertiles = pd.qcut(crime, 3, labels=["low", "medium", "high"]).astype(str)
    assert (selection.set_index("area_id")["stratum"] == tertiles.reindex(selection["area_id"]).to_numpy()).all()
    assert bundle.map_png is not None and bundle.map_png.stat().st_size > 20_000
    assert bundle.map_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- steps 3 and 4 --------------------------------------------------------------------------------------------
def test_the_planted_community_has_its_planted_problem_first(bundle: AuditBundle, city: AuditCity) -> None:
    planted = city.fieldwork["planted"]["robbery_lighting"]
    priorities = bundle.table("priorities")
    mine = priorities[priorities["scope"] == planted["area_id"]].sort_values("rank")
    first = mine.iloc[0]
    assert first["problem"] == planted["problem"] == "robbery"
    assert set(planted["risk_factors"]) <= set(first["risk_factors"].split(";"))
    evidence = bundle.table("evidence")
    kinds = set(evidence[(evidence["scope"] == planted["area_id"]) & (evidence["problem"] == "robbery")]["kind"])
    assert {"indicator", "quote", "walk"} <= kinds
    fear = city.fieldwork["planted"]["fear_vs_crime"]
    assert priorities[priorities["scope"] == fear["area_id"]].sort_values("rank").iloc[0]["problem"] == "fear_of_crime"
    findings = bundle.table("findings")
    disagree = findings[findings["kind"] == "disagreement"]
    assert fear["area_id"] in set(disagree["area_id"])
    profile = bundle.table("profile")
    assert set(profile["area_id"]) == set(city.fieldwork["communities"])


def test_without_fieldwork_steps_three_and_four_wait(early: AuditBundle) -> None:
    steps = {s["id"]: s["done"] for s in early.steps}
    assert steps == {"indicators": True, "selection": True, "integrated": False, "priorities": False}
    assert not early.has("priorities") and early.table("priorities").empty
    html = early.summary_html.read_text(encoding="utf-8")
    assert "Aún no hay prioridades" in html and "aún no hay trabajo de campo" in html


def test_survey_perceptions_join_the_evidence_when_a_survey_is_held(
    city: AuditCity, bundle: AuditBundle, tmp_path: Path
) -> None:
    from safercities.survey.indicators import survey_indicators

    root = city.workspace(tmp_path / "ws", "survey")
    with open_workspace(root, read_only=True) as ws:
        made = run_audit(ws, draws=DRAWS, replications=0, seed=7, out=tmp_path / "s")
        estimates = survey_indicators(ws, level="community", by=("area",))
    assert made.steps[2]["survey"] is True and bundle.steps[2]["survey"] is False
    evidence = made.table("evidence")
    survey = evidence[evidence["kind"] == "survey"]
    assert len(survey) and set(survey["ref"]) <= {"feel_safe_share", "reporting_share"}
    # each survey item is the published SDG 16.1.4 / 16.3.1 estimate of that community (suppressed ones left out)
    published = estimates[(estimates["by"] == "area") & ~estimates["suppressed"].astype(bool)]
    feel = published[published["indicator"] == "16.1.4"].set_index("domain")["estimate"]
    for row in survey[(survey["ref"] == "feel_safe_share") & (survey["scope"] != "city")].itertuples(index=False):
        assert row.text.startswith(f"feel_safe_share = {feel[row.scope] * 100:.0f}%"), row.text
    comparison = compare_audits(bundle, made)
    assert list(comparison.imports["kind"]) == ["survey_respondents"]


def test_compare_says_what_fieldwork_added(early: AuditBundle, bundle: AuditBundle, city: AuditCity) -> None:
    comparison = compare_audits(early.path, bundle.path)
    assert set(comparison.imports["kind"]) == {"fieldwork_segments", "walk_observations"}
    assert set(comparison.imports["change"]) == {"added"}
    new = comparison.new_priorities()
    planted = city.fieldwork["planted"]["robbery_lighting"]
    assert ((new["scope"] == planted["area_id"]) & (new["problem"] == "robbery")).any()
    assert set(new["scope"]) == {"city", *city.fieldwork["communities"]}
    # the same indicators and seed: the ranks and the selection did not move
    assert comparison.moved().empty and comparison.selection.empty
    assert "new priorities" in comparison.summary()


def test_compare_flags_ranks_beyond_their_interval(full_ws: Path, bundle: AuditBundle, tmp_path: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        weighted = run_audit(ws, draws=DRAWS, replications=0, seed=7, weights={"crime": 8.0}, out=tmp_path / "weighted")
    comparison = compare_audits(bundle, weighted)
    assert "weights" in set(comparison.parameters["parameter"])
    ranks = comparison.ranks[comparison.ranks["dimension"] == "overall"]
    by_hand = (ranks["rank_after"] < ranks["lower_before"]) | (ranks["rank_after"] > ranks["upper_before"])
    assert (ranks["beyond_interval"] == by_hand).all()
    assert by_hand.any()  # crime counting 8 times more moves some communities out of their intervals
    assert set(comparison.moved()["area_id"]) == set(ranks.loc[by_hand, "area_id"])
    assert (ranks.loc[ranks["disjoint"], "beyond_interval"]).all()
    same = compare_audits(bundle, bundle.path)
    assert same.same_content and same.moved().empty and "identical" in same.summary()


# -- the summary ----------------------------------------------------------------------------------------------
def test_the_summary_speaks_the_workspace_language(bundle: AuditBundle, city: AuditCity) -> None:
    html = bundle.summary_html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="es">' in html
    for words in ("Auditoría local de seguridad", "Comunidades seleccionadas", "Problemas prioritarios", "Qué falta"):
        assert words in html
    scores = bundle.table("dimension_scores")
    name = scores.loc[scores["area_id"] == city.fieldwork["planted"]["robbery_lighting"]["area_id"], "name"].iloc[0]
    assert name in html
    assert "data:image/png;base64," in html  # the map travels inside the page
    assert "created" not in html and bundle.created not in html


@pytest.mark.parametrize(("lang", "words"), [("en", "Priority problems"), ("fr", "Problèmes prioritaires")])
def test_the_summary_in_another_language(full_ws: Path, tmp_path: Path, lang: str, words: str) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        other = run_audit(ws, draws=20, replications=0, lang=lang, out=tmp_path / lang)
    html = other.summary_html.read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in html and words in html
    assert "Problemas prioritarios" not in html


def test_the_pdf_of_the_summary(data_ws: Path, tmp_path: Path) -> None:
    with open_workspace(data_ws, read_only=True) as ws:
        made = run_audit(ws, draws=20, replications=0, pdf=True, out=tmp_path / "pdf")
    assert made.summary_pdf is not None
    assert made.summary_pdf.read_bytes()[:5] == b"%PDF-" and made.summary_pdf.stat().st_size > 50_000
    assert "summary.pdf" not in made.manifest["files"]  # its metadata carry a date: outside the content hash


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed: no screenshot")
def test_the_summary_renders_in_a_browser(bundle: AuditBundle, tmp_path: Path) -> None:
    from PIL import Image

    png = tmp_path / "audit.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}", "--window-size=1280,2400",
         bundle.summary_html.resolve().as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pixels = np.asarray(Image.open(png).convert("L"))
    assert pixels.shape == (2400, 1280)
    assert (pixels < 128).mean() > 0.01  # text was drawn, not a blank page


# -- the workspace's audits -----------------------------------------------------------------------------------
def test_bundles_kept_in_the_workspace_and_the_latest_found(city: AuditCity, tmp_path: Path) -> None:
    root = city.workspace(tmp_path / "ws", "data")
    with open_workspace(root, read_only=True) as ws:
        assert latest_audit(ws) is None and list_audits(ws).empty
        first = run_audit(ws, draws=20, replications=0)
        second = run_audit(ws, draws=20, replications=0, seed=3)
        assert first.path.parent == second.path.parent == root / "audits"
        assert first.path != second.path
        held = list_audits(ws)
        latest = latest_audit(ws)
    assert len(held) == 2
    assert latest is not None and latest.path == second.path
    assert load_audit(second.path).manifest == second.manifest
    assert not any(p.name.startswith(".") for p in (root / "audits").iterdir())  # no partial bundle left


def test_mistakes_are_refused_with_a_clear_message(full_ws: Path, tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("keep me")
    with open_workspace(full_ws, read_only=True) as ws:
        with pytest.raises(InputError, match="not an empty folder"):
            run_audit(ws, draws=20, out=occupied)
        with pytest.raises(InputError, match="unknown selection indicator 'nowhere'"):
            run_audit(ws, draws=20, selection_indicator="nowhere", out=tmp_path / "x")
        with pytest.raises(InputError, match="neither indicators nor dimensions"):
            run_audit(ws, draws=20, weights={"crime": 2, "bogus": 1}, out=tmp_path / "y")
        with pytest.raises(InputError, match="lang"):
            run_audit(ws, draws=20, lang="de", out=tmp_path / "z")
        with pytest.raises(InputError, match="cannot exclude"):
            run_audit(ws, draws=20, exclude=["C999"], out=tmp_path / "w")
    assert (occupied / "notes.txt").read_text() == "keep me"
    assert not (tmp_path / "x").exists() and not (tmp_path / "w").exists()


def test_selection_by_an_indicator_with_exclusions(full_ws: Path, tmp_path: Path) -> None:
    with open_workspace(full_ws, read_only=True) as ws:
        made = run_audit(
            ws, draws=20, replications=0, selection_indicator="robbery_rate", counts={"high": 3, "medium": 2, "low": 1},
            exclude=["C034"], out=tmp_path / "s",
        )  # fmt: skip
    selection = made.table("selection")
    assert selection["selected"].sum() == 6 and "C034" not in set(selection.loc[selection["selected"], "area_id"])
    assert selection.set_index("area_id").loc["C034", "status"] == "excluded"
    robbery = made.table("indicator_values")
    robbery = robbery[robbery["indicator_id"] == "robbery_rate"].set_index("area_id")["value"]
    assert np.allclose(selection.set_index("area_id")["value"], robbery.reindex(selection["area_id"]))
    assert made.manifest["parameters"]["exclude"] == ["C034"]


def test_evidence_is_put_in_the_summary_language_or_left_as_it_is() -> None:
    from safercities.audit.summary import evidence_text

    fw = load_framework()
    raw = "robbery_rate = 1703 [1474–1957] per_100k (2024): worse than 100% of 60 areas"
    es = evidence_text("indicator", "robbery_rate", raw, fw, "es")
    assert es.startswith(fw.indicator("robbery_rate").name["es"] + ": 1,703 [1,474–1,957]")
    assert "(2024), peor que el 100% de 60 comunidades" in es
    fr = evidence_text("indicator", "robbery_rate", raw, fw, "fr")
    from safercities import i18n

    assert f": {i18n.number(1703.0, 'fr')} [" in fr and "plus défavorable que 100" in fr
    walk = "lighting rated 1.2/5 on safety walks (n = 5, 95% CI 1.0–1.8)"
    assert evidence_text("walk", "W1,W2", walk, fw, "es") == (
        "Iluminación calificada con 1.2 de 5 en los recorridos (n = 5, IC 95% 1.0–1.8)"
    )
    assert evidence_text("survey", "feel_safe_share", "feel_safe_share = 45% (SE 3.0 pts)", fw, "en").endswith(": 45%")
    # a quote, or a text of another form, is shown as it was recorded
    assert evidence_text("quote", "Q1", "Aquí te asaltan.", fw, "en") == "Aquí te asaltan."
    assert evidence_text("indicator", "x", "something else = 3", fw, "fr") == "something else = 3"
