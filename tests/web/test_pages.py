"""The dashboard's pages over the other sources (survey, procurement, practices), on the synthetic city with
everything imported as the demo imports it: the same numbers as the service functions, and who sees what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

import safercities as sc
from safercities import i18n
from safercities.audit.run import run_audit
from safercities.sim import simulate
from safercities.sim.sources import add_sources, import_sources
from safercities.web import accounts
from safercities.web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    city = simulate(folder / "source", seed=3)
    add_sources(city)
    with sc.init(folder / "ws", name="Ciudad", crs="EPSG:32614", lang="es", timezone="America/Mexico_City") as ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
        import_sources(ws, folder / "source")
        accounts.create_user(ws, "vic", PASSWORD, "viewer", by="test")
        run_audit(ws, public=True, draws=200, replications=50)
    return folder / "ws"


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(root, public=True), base_url="https://testserver") as client:
        yield client


def _login(client: TestClient) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    answer = client.post("/login", data={"username": "vic", "password": PASSWORD, "csrf_token": token.group(1)},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303


def test_survey_page_shows_the_sdg_estimates_of_the_service(client: TestClient) -> None:
    from safercities.survey.indicators import survey_indicators

    ws = client.app.state.workspace  # type: ignore[attr-defined]
    table = survey_indicators(ws, lang="en", by=("all",))
    safe = table[(table["indicator"] == "16.1.4") & (table["domain"] == "all")].iloc[0]
    page = client.get("/survey?lang=en").text
    assert i18n.percent(float(safe["estimate"]), "en", 1) in page
    assert f"{i18n.percent(float(safe['lower']), 'en', 1)}–{i18n.percent(float(safe['upper']), 'en', 1)}" in page
    assert "The dark figure" in page


def test_procurement_page_names_organisations_only_to_logged_in_users(client: TestClient) -> None:
    client.cookies.clear()
    public = client.get("/procurement?lang=en").text
    assert "Red flags and how often they are raised" in public
    assert "Buyers with the highest risk index" not in public
    _login(client)
    viewer = client.get("/procurement?lang=en").text
    assert "Buyers with the highest risk index" in viewer and "Suppliers with the highest risk index" in viewer
    client.cookies.clear()


def test_practice_library_page_searches_and_warns(client: TestClient) -> None:
    from safercities.practices import load_library, search

    page = client.get("/practices?lang=en&problem=youth_violence").text
    expected = len(search(load_library(), problem="youth_violence"))
    assert f"{expected} practices" in page
    assert "⚠" in page  # Scared Straight and the like carry their warning
    assert client.get("/practices/no-such-practice").status_code == 404
    first = re.search(r'href="/practices/([a-z0-9_]+)"', page)
    assert first and client.get(f"/practices/{first.group(1)}").status_code == 200


def test_governance_page_shows_the_scores_with_their_rule(client: TestClient) -> None:
    from safercities.governance.assessment import score
    from safercities.governance.store import stored_answers

    ws = client.app.state.workspace  # type: ignore[attr-defined]
    scores = score(stored_answers(ws))
    page = client.get("/governance?lang=en").text
    for rule in scores.principles["rule"]:
        assert str(rule).replace("=", "=") in page.replace("&lt;", "<").replace("&gt;", ">")
    assert "data:image/png;base64," in page and "Actors and their relations" in page


def test_map_layers_emerging_hot_spots_and_walks(client: TestClient) -> None:
    from safercities.audit.walks import walk_points

    ws = client.app.state.workspace  # type: ignore[attr-defined]
    walks = walk_points(ws)
    page = client.get("/map?layer=emerging&walks=1&lang=en").text
    assert page.count("<circle") == len(walks)
    assert "Emerging hot spots (monthly Gi*, Mann-Kendall trend)" in page
    assert "Early-warning alerts in" in page
    public_titles = re.findall(r"<circle[^>]*><title>([^<]*)</title>", page)
    notes = [n for n in walks["note"].dropna() if n]
    assert notes and not any(note in title for note in notes for title in public_titles)  # notes: analysts only


def test_community_profile_shows_the_audit_evidence_and_quotes_only_to_logged_in_users(client: TestClient) -> None:
    from safercities.audit.fieldwork import segments

    ws = client.app.state.workspace  # type: ignore[attr-defined]
    said = segments(ws)
    area = str(said["area_id"].value_counts().index[0])
    quote = str(said.loc[said["area_id"] == area, "quote"].dropna().iloc[0])
    client.cookies.clear()
    public = client.get(f"/area/{area}?lang=en").text
    assert "Indicators of the audit" in public and "Safety walks" in public
    assert quote not in public
    _login(client)
    assert quote.replace("'", "&#39;").replace('"', "&#34;") in client.get(f"/area/{area}?lang=en").text
    client.cookies.clear()


def test_plan_page_shows_each_target_status_and_the_rule(client: TestClient) -> None:
    from safercities.plan import monitor_plan

    ws = client.app.state.workspace  # type: ignore[attr-defined]
    monitoring = monitor_plan(ws, lang="en", public=True)
    page = client.get("/plan?lang=en").text
    for label in monitoring.targets["status_label"]:
        assert str(escape(label)) in page
    assert str(escape(monitoring.rules["status"].split(".")[0])) in page
    assert "Interventions: who does what" in page


def test_audit_page_and_the_profile_show_the_latest_audit(client: TestClient) -> None:
    from safercities.audit.run import latest_audit

    ws = client.app.state.workspace  # type: ignore[attr-defined]
    bundle = latest_audit(ws)
    assert bundle is not None
    page = client.get("/audit")
    assert page.status_code == 200 and bundle.summary_html.read_text(encoding="utf-8")[-200:] in page.text
    priorities = bundle.table("priorities")
    area = str(priorities.loc[priorities["scope"] != "city", "scope"].iloc[0])
    profile = client.get(f"/area/{area}?lang=en").text
    assert "Priorities of the latest audit" in profile


def test_every_table_of_a_page_downloads_as_the_audience_sees_it(client: TestClient) -> None:
    client.cookies.clear()
    for page in ("survey", "procurement", "governance", "plan"):
        html = client.get(f"/{page}?lang=en").text
        links = re.findall(rf'href="(/data/table/{page}/[a-z_]+[.]csv)"', html)
        assert links, page
        for link in links:
            answer = client.get(link)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv"), link
            assert len(answer.text.splitlines()) >= 2, link
    assert client.get("/data/table/procurement/buyers.csv").status_code == 404  # not shown to the public
    assert client.get("/data/table/nope/x.csv").status_code == 404
