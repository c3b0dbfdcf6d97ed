"""`safercities governance|actors|practices …` driven through the real CLI on a fresh workspace."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from clikit import assert_one_line_error, invoke, words

HERE = Path(__file__).resolve().parents[1]
ANSWERS = HERE / "governance" / "hand_scored_answers.csv"
ACTORS = HERE / "governance" / "actors_example.yaml"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    folder = tmp_path / "city"
    code, out = invoke("init", folder, "--name", "Ciudad", "--crs", "EPSG:32614")
    assert code == 0, out
    return folder


def test_governance_form_import_score_gaps(ws: Path, tmp_path: Path) -> None:
    code, out = invoke(
        "governance", "form", "--out", tmp_path / "form.xlsx", "--lang", "es", "--institution", "Alcaldía"
    )
    assert code == 0, out
    assert pd.read_excel(tmp_path / "form.xlsx", sheet_name="answers")["institution"].eq("Alcaldía").all()
    code, out = invoke("-w", ws, "governance", "import", ANSWERS)
    assert code == 0 and "21 answers stored, 4 rejected" in words(out), out
    code, out = invoke("-w", ws, "import", "governance", ANSWERS)
    assert code == 0 and "already imported" in words(out), out
    code, out = invoke("-w", ws, "governance", "score", "--by-institution", "--out", tmp_path / "scores.csv")
    assert code == 0, out
    scores = pd.read_csv(tmp_path / "scores.csv").set_index(["kind", "principle"])
    assert scores.loc[("principle", "government_leadership"), "level"] == 1
    assert "⌊1.75⌋ = 1" in scores.loc[("principle", "government_leadership"), "rule"]
    code, out = invoke("-w", ws, "governance", "gaps", "--target", "2", "--lang", "fr", "--out", tmp_path / "gaps.csv")
    assert code == 0, out
    found = pd.read_csv(tmp_path / "gaps.csv")
    assert "aucune institution n'a répondu" in set(found["reason"])
    code, out = invoke("-w", ws, "rejects", "--import", "1")
    assert code == 0 and "GL9" in out, out


def test_governance_mistakes_are_one_line_errors(ws: Path, tmp_path: Path) -> None:
    assert_one_line_error(*invoke("-w", ws, "governance", "score"), "no governance answers")
    assert_one_line_error(*invoke("-w", ws, "governance", "import", tmp_path / "none.csv"), "file not found")
    bad = tmp_path / "bad.csv"
    bad.write_text("who,question,value\nx,GL1,2\n", encoding="utf-8")
    assert_one_line_error(*invoke("-w", ws, "governance", "import", bad), "no column 'institution'")
    assert_one_line_error(*invoke("governance", "form", "--out", tmp_path / "f.pdf"), "use .csv or .xlsx")


def test_actors_import_list_network_export(ws: Path, tmp_path: Path) -> None:
    code, out = invoke("-w", ws, "actors", "import", ACTORS)
    assert code == 0 and "8 actors stored" in words(out), out
    code, out = invoke("-w", ws, "actors", "list", "--sector", "police", "--level", "local", "--lang", "fr")
    assert code == 0 and "city_police" in out and "mayor_office" not in out, out
    code, out = invoke("-w", ws, "actors", "network", "--png", tmp_path / "net.png", "--out", tmp_path / "net.csv")
    assert code == 0 and "isolated actors: daily_news" in words(out), out
    assert (tmp_path / "net.png").stat().st_size > 20_000
    assert pd.read_csv(tmp_path / "net.csv").set_index("actor_id").loc["prevention_unit", "partners"] == 5
    code, out = invoke("-w", ws, "actors", "export", "--out", tmp_path / "registry.yaml")
    assert code == 0, out
    exported = yaml.safe_load((tmp_path / "registry.yaml").read_text(encoding="utf-8"))
    assert len(exported["actors"]) == 8 and len(exported["relations"]) == 8


def test_a_later_actors_import_updates_an_actor_and_may_relate_to_stored_ones(ws: Path, tmp_path: Path) -> None:
    assert invoke("-w", ws, "actors", "import", ACTORS)[0] == 0
    update = tmp_path / "update.yaml"
    update.write_text(
        yaml.safe_dump(
            {
                "actors": [{"id": "daily_news", "name": "The Daily News", "sector": "media", "level": "local"}],
                "relations": [{"source": "daily_news", "target": "prevention_unit", "kind": "coordination"}],
            }
        ),
        encoding="utf-8",
    )
    code, out = invoke("-w", ws, "import", "actors", update)
    assert code == 0 and "1 actors stored, 0 rejected" in words(out), out
    code, out = invoke("-w", ws, "actors", "network")
    assert "isolated actors: none" in words(out), out


def test_practices_browse_match_and_publish(ws: Path, tmp_path: Path) -> None:
    code, out = invoke("practices", "list", "--approach", "corruption_prevention", "--out", tmp_path / "c.csv")
    assert code == 0 and len(pd.read_csv(tmp_path / "c.csv")) >= 4, out
    code, out = invoke(
        "practices", "search", "lighting", "--setting", "street", "--rating", "effective", "--out", tmp_path / "s.csv"
    )
    assert code == 0 and pd.read_csv(tmp_path / "s.csv")["id"].tolist() == ["street_lighting"], out
    code, out = invoke("practices", "show", "scared_straight", "--lang", "fr")
    assert code == 0 and "Jugé nocif" in words(out), out
    code, out = invoke(
        "practices", "match", "--problem", "youth_violence", "--risk-factor", "school_dropout",
        "--risk-factor", "youth_unemployment", "--setting", "school", "--target-group", "at_risk_youth",
        "--top", "3", "--out", tmp_path / "m.csv",
    )  # fmt: skip
    assert code == 0 and "warning scared_straight" in words(out), out
    matched = pd.read_csv(tmp_path / "m.csv")
    assert matched["practice_id"].iloc[0] == "cbt_youth_school"
    assert matched.loc[matched["rating"] == "harmful", "rank"].min() == len(matched) - 1
    priorities = tmp_path / "priorities.csv"
    priorities.write_text(
        "scope,problem,risk_factors,rank\nC01,burglary,low_visibility;poor_lighting,1\n", encoding="utf-8"
    )
    code, out = invoke("practices", "match", "--priorities", priorities, "--lang", "es")
    assert code == 0 and "C01 · burglary" in out, out
    code, out = invoke("practices", "page", "--out", tmp_path / "page.html", "--lang", "es")
    assert code == 0, out
    assert "Biblioteca de prácticas" in (tmp_path / "page.html").read_text(encoding="utf-8")


def test_practices_add_import_export_go_to_the_workspace(ws: Path, tmp_path: Path) -> None:
    code, out = invoke("practices", "export", "--out", tmp_path / "all.csv")
    assert code == 0 and "practices to" in out, out
    table = pd.read_csv(tmp_path / "all.csv", dtype=str).fillna("")
    mine = table[table["id"] == "street_lighting"].assign(id="street_lighting_led_pilot", cost="low")
    broken = table[table["id"] == "alley_gating"].assign(rating="miracle")
    pd.concat([mine, broken]).to_csv(tmp_path / "mine.csv", index=False)
    code, out = invoke("-w", ws, "practices", "import", tmp_path / "mine.csv")
    assert code == 0 and "1 practices added" in words(out) and "1 rejected" in words(out), out
    assert "evidence/rating" in out
    code, out = invoke("-w", ws, "practices", "show", "street_lighting_led_pilot")
    assert code == 0 and "Low cost" in out, out
    single = tmp_path / "one.yaml"
    practice = yaml.safe_load((HERE.parent / "src/safercities/practices/library/alley_gating.yaml").read_text())
    practice["cost"] = "high"
    single.write_text(yaml.safe_dump(practice), encoding="utf-8")
    code, out = invoke("-w", ws, "practices", "add", single)
    assert code == 0 and "alley_gating" in out, out
    code, out = invoke(
        "-w", ws, "practices", "list", "--cost", "high", "--approach", "situational", "-o", tmp_path / "h.csv"
    )
    assert "alley_gating" in set(pd.read_csv(tmp_path / "h.csv")["id"]), out
    other = tmp_path / "lib"
    code, out = invoke("practices", "add", single, "--to", other)
    assert code == 0 and (other / "alley_gating.yaml").exists()
    code, out = invoke("practices", "list", "--library", other, "--cost", "high", "-o", tmp_path / "o.csv")
    assert "alley_gating" in set(pd.read_csv(tmp_path / "o.csv")["id"]), out


def test_practices_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    assert_one_line_error(*invoke("practices", "show", "street_lightning"), "did you mean street_lighting")
    assert_one_line_error(*invoke("practices", "list", "--setting", "moon"), "'setting' facet")
    assert_one_line_error(*invoke("practices", "match"), "--priorities")
    assert_one_line_error(*invoke("practices", "match", "--problem", "littering"), "littering")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    assert_one_line_error(*invoke("practices", "add", bad, "--to", tmp_path / "lib"), "not a valid practice")
    assert not (tmp_path / "lib").exists()
