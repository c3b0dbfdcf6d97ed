"""The dashboard on the synthetic city: the same numbers as the service layer and as an independent count,
access by role, CSRF, throttled logins, suppression of small counts, three languages, nothing from a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import safercities as sc
from safercities import observatory
from safercities.sim import simulate
from safercities.web import accounts
from safercities.web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic city's workspace (seed 0), with an admin, an analyst and a viewer."""
    folder = tmp_path_factory.mktemp("web")
    city = simulate(folder / "source", seed=0)
    with sc.init(folder / "ws", name="Ciudad Demo", crs="EPSG:32614", lang="es", timezone="America/Mexico_City") as ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
        for name, role in (("ada", "admin"), ("ana", "analyst"), ("vic", "viewer")):
            accounts.create_user(ws, name, PASSWORD, role, by="test")
    return folder / "ws"


def _client(root: Path, public: bool) -> Iterator[TestClient]:
    with TestClient(create_app(root, public=public), base_url="https://testserver") as client:
        yield client


@pytest.fixture
def public(root: Path) -> Iterator[TestClient]:
    yield from _client(root, public=True)


@pytest.fixture
def private(root: Path) -> Iterator[TestClient]:
    yield from _client(root, public=False)


def _workspace(client: TestClient) -> sc.Workspace:
    """The app's own open workspace (DuckDB allows one configuration of a file per process)."""
    return client.app.state.workspace  # type: ignore[attr-defined,no-any-return]


def _csrf(client: TestClient, page: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert match, f"no CSRF field on {page}"
    return match.group(1)


def _login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": _csrf(client), "next": "/"},
        follow_redirects=False,
    )


def test_overview_shows_the_homicide_rate_counted_independently(public: TestClient) -> None:
    ws = _workspace(public)
    incidents = ws.incidents()
    population = ws.finest_areas()["population"].sum()
    year = observatory.full_years(ws)[-1]
    local = incidents["occurred_from"]
    homicides = int(((incidents["iccs_code"] == "0101") & (local.dt.year == year)).sum())
    expected = homicides / population * 100_000
    page = public.get("/?lang=en").text
    assert f"{expected:,.1f}" in page
    assert f"{homicides:,} homicides" in page
    assert "SDG 16.1.1" in page and "95% interval" in page


def test_pages_come_in_three_languages(public: TestClient) -> None:
    assert "Vue d&#39;ensemble" in public.get("/?lang=fr").text or "Vue d'ensemble" in public.get("/?lang=fr").text
    spanish = public.get("/?lang=es").text
    assert "Panorama" in spanish and "ODS 16.1.1" in spanish
    assert "Explorateur de cartes" in public.get("/map?lang=fr").text


def test_nothing_is_loaded_from_another_site(public: TestClient) -> None:
    for page in ("/", "/map", "/login"):
        html = public.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(not s.startswith(("http:", "https:", "//")) for s in sources), sources
    script = public.get("/static/plotly.min.js")
    assert script.status_code == 200 and len(script.content) > 1_000_000


def test_csv_downloads_match_the_service_layer(public: TestClient) -> None:
    table = pd.read_csv(pd.io.common.StringIO(public.get("/data/rates.csv?iccs=04").text))
    expected = observatory.area_rates(_workspace(public), observatory.PUBLIC, "04")
    np.testing.assert_allclose(table["rate_spatial_eb"], expected["rate_spatial_eb"], rtol=1e-9)
    assert list(table["area_id"]) == list(expected["area_id"])


def test_small_counts_are_suppressed_for_the_public_but_not_for_analysts(public: TestClient) -> None:
    # homicides per area are small: some areas have 1-4
    shown = pd.read_csv(pd.io.common.StringIO(public.get("/data/rates.csv?iccs=0101").text))
    exact = observatory.area_rates(_workspace(public), observatory.ANALYST, "0101")
    small = (exact["count"] >= 1) & (exact["count"] < 5)
    assert small.any(), "the test needs areas with 1-4 homicides"
    assert shown.loc[small.to_numpy(), "count"].isna().all()
    assert shown.loc[small.to_numpy(), "rate"].isna().all()
    assert (shown.loc[~small.to_numpy(), "count"] == exact.loc[~small, "count"]).all()
    assert _login(public, "ana").status_code == 303
    analyst = pd.read_csv(pd.io.common.StringIO(public.get("/data/rates.csv?iccs=0101").text))
    assert (analyst["count"].to_numpy() == exact["count"].to_numpy()).all()


def test_without_public_mode_every_page_needs_a_login(private: TestClient) -> None:
    for page in ("/", "/map", "/data/rates.csv"):
        answer = private.get(page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_roles_decide_what_a_user_may_open(private: TestClient) -> None:
    assert _login(private, "vic").status_code == 303
    assert private.get("/").status_code == 200
    assert private.get("/imports", follow_redirects=False).status_code == 403
    assert private.get("/admin/log", follow_redirects=False).status_code == 403
    private.cookies.clear()
    assert _login(private, "ana").status_code == 303
    assert private.get("/imports").status_code == 200 and private.get("/rejects").status_code == 200
    assert private.get("/admin/users", follow_redirects=False).status_code == 403
    private.cookies.clear()
    assert _login(private, "ada").status_code == 303
    log = private.get("/admin/log").text
    assert "create_user" in log and "login" in log


def test_session_cookie_is_secure_http_only_and_strict(private: TestClient) -> None:
    answer = _login(private, "ana")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_forms_without_the_csrf_token_are_refused(private: TestClient) -> None:
    answer = private.post("/login", data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert _login(private, "ada").status_code == 303
    refused = private.post(
        "/admin/users", data={"username": "mallory", "password": "x" * 12, "role": "admin", "csrf_token": "forged"}
    )
    assert refused.status_code == 403
    assert "mallory" not in {u["username"] for u in accounts.users(_workspace(private))}


def test_an_admin_adds_a_user_and_the_log_says_who(private: TestClient) -> None:
    assert _login(private, "ada").status_code == 303
    token = _csrf(private, "/admin/users")
    added = private.post(
        "/admin/users",
        data={"username": "nuevo", "password": "a long passphrase", "role": "viewer", "csrf_token": token},
    )
    assert added.status_code == 200
    ws = _workspace(private)
    stored = ws.store.read("users", "username = ?", ["nuevo"])
    log = ws.store.read("audit_log", "action = 'create_user' AND target = 'user:nuevo'")
    assert stored["password_hash"].iloc[0].startswith("$argon2id$")
    assert "a long passphrase" not in stored["password_hash"].iloc[0]
    assert '"by": "ada"' in log["detail"].iloc[0]
    assert private.post("/admin/log", follow_redirects=False).status_code == 405  # nobody edits the log


def test_failed_logins_are_throttled(private: TestClient) -> None:
    for _ in range(5):
        assert _login(private, "vic", "wrong password!").status_code == 401
    assert _login(private, "vic").status_code == 429  # even the right password waits


def test_wrong_password_and_unknown_user_look_the_same(private: TestClient) -> None:
    a = _login(private, "ana", "wrong password!")
    b = _login(private, "nobody-here", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "Wrong user name or password" in a.text or "incorrect" in a.text.lower()


def test_disabled_accounts_lose_their_sessions(private: TestClient) -> None:
    accounts.create_user(_workspace(private), "temp", PASSWORD, "analyst", by="test")
    assert _login(private, "temp").status_code == 303
    assert private.get("/imports").status_code == 200
    accounts.disable_user(_workspace(private), "temp", by="test")
    assert private.get("/imports", follow_redirects=False).status_code == 303


def test_area_profile_counts_match_the_incidents(private: TestClient) -> None:
    assert _login(private, "ana").status_code == 303
    ws = _workspace(private)
    incidents = ws.incidents()
    area = str(incidents["area_id"].value_counts().index[0])
    profile = observatory.area_profile(ws, observatory.ANALYST, area).sections.set_index("iccs_section")
    counted = incidents.loc[incidents["area_id"] == area, "iccs_code"].str[:2].value_counts()
    for section, row in profile.iterrows():
        assert row["count"] == counted.get(section, 0)
    page = private.get(f"/area/{area}?lang=en")
    assert page.status_code == 200 and "Observed / expected" in page.text
    assert private.get("/area/NOPE").status_code == 400  # a user's mistake, said in words


def test_every_chart_has_its_numbers_as_text(public: TestClient) -> None:
    page = public.get("/?lang=en").text
    assert "data-chart=" in page and "<details><summary>The numbers</summary>" in page


def test_the_quality_report_is_for_analysts(private: TestClient) -> None:
    assert _login(private, "vic").status_code == 303
    assert private.get("/quality", follow_redirects=False).status_code == 403
    private.cookies.clear()
    assert _login(private, "ana").status_code == 303
    page = private.get("/quality?lang=es")
    assert page.status_code == 200 and "Informe de calidad de los datos" in page.text
