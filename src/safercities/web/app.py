"""The observatory's dashboard: a FastAPI app over one workspace, pages rendered on the server.

Who sees what: admins (users, audit log), analysts (imports, rejects, exact counts), viewers (aggregates,
small counts suppressed) and, in public mode, anyone without logging in (as a viewer). Sessions are random
tokens in Secure, HTTP-only, SameSite=Strict cookies, stored hashed; every form carries a CSRF token; failed
logins are throttled. There is no signing secret to configure or to leak.

Handlers are ``async`` on purpose: they run one at a time on the event loop, so the workspace's single
DuckDB connection is never used by two threads at once; figures are cached per data version, so that a
page costs a cache lookup until the next import.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from safercities import __version__, i18n, observatory
from safercities.errors import SafercitiesError
from safercities.iccs import name as iccs_name
from safercities.observatory import Audience
from safercities.web import accounts
from safercities.web.sections import Column, Section, records
from safercities.web.svgmap import choropleth
from safercities.workspace import Workspace, open_workspace

HERE = Path(__file__).resolve().parent
COOKIE = "safercities_session"
PRE_CSRF = "safercities_csrf"
LANG_COOKIE = "safercities_lang"
Page = Callable[..., Any]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: marks a message for the catalog
    return message


TABLE_PAGES = frozenset({"survey", "procurement", "governance", "plan"})
"""Pages made of tables, each of which downloads as CSV (``/data/table/<page>/<table>.csv``)."""
ROLE_NAMES = (N_("admin"), N_("analyst"), N_("viewer"), N_("public"))
EMERGING_NAMES = (
    N_("new hot spot"),
    N_("new cold spot"),
    N_("consecutive hot spot"),
    N_("consecutive cold spot"),
    N_("intensifying hot spot"),
    N_("intensifying cold spot"),
    N_("persistent hot spot"),
    N_("persistent cold spot"),
    N_("diminishing hot spot"),
    N_("diminishing cold spot"),
    N_("sporadic hot spot"),
    N_("sporadic cold spot"),
    N_("oscillating hot spot"),
    N_("oscillating cold spot"),
    N_("historical hot spot"),
    N_("historical cold spot"),
    N_("no pattern"),
)


def plotly_js() -> Path:
    """plotly.js as the ``plotly`` wheel installed it: nothing is fetched from a CDN."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


class Figures:
    """Observatory figures cached by (name, arguments) until the workspace's imports change."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._version: tuple[int, str] | None = None
        self._cache: dict[tuple[Any, ...], Any] = {}

    def data_version(self) -> tuple[int, str]:
        imports = self.ws.store.read("imports")
        return len(imports), ",".join(imports["status"].astype(str)) if len(imports) else ""

    def get(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        version = self.data_version()
        if version != self._version:
            self._cache.clear()
            self._version = version
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]


def _area_evidence(ws: Workspace, who: Audience, area_id: str, lang: str, values: pd.DataFrame) -> list[Section]:
    """What the audit holds on one community: indicator values by dimension, safety-walk ratings, and (for
    logged-in users: they are people's words) focus-group quotes; the audit's priorities and the plan's
    interventions where they exist."""
    from safercities.audit.framework import load_framework

    _ = i18n.translations(lang).gettext
    sections: list[Section] = []
    here = values[(values["area_id"] == area_id) & values["value"].notna()]
    if len(here):
        names = load_framework().to_frame(lang).set_index("indicator_id")
        latest = here.sort_values("period").groupby("indicator_id").tail(1)
        latest = latest.join(names[["dimension", "name", "unit_label"]], on="indicator_id").sort_values(
            ["dimension", "indicator_id"]
        )
        sections.append(
            Section(
                "indicators",
                _("Indicators of the audit"),
                [
                    Column("dimension", _("Dimension"), "text"),
                    Column("name", _("Indicator"), "text"),
                    Column("period", _("Period"), "text"),
                    Column("value", _("Value"), "number", 2),
                    Column("ci", _("95%% interval").replace("%%", "%"), "interval", 2, "lower", "upper"),
                    Column("unit_label", _("Unit"), "text"),
                ],
                records(latest),
            )
        )
    sections += _area_priorities(ws, who, area_id, lang)
    if ws.store.count("walk_observations"):
        from safercities.audit.walks import observations, walk_summary

        summary = walk_summary(observations(ws))
        summary = summary[summary["area_id"] == area_id]
        if len(summary):
            sections.append(
                Section(
                    "walks",
                    _("Safety walks: mean rating by category (1 poor – 5 good)"),
                    [
                        Column("category", _("Category"), "text"),
                        Column("n", _("Observations")),
                        Column("mean", _("Mean rating"), "number", 2),
                        Column("ci", _("95%% interval").replace("%%", "%"), "interval", 2, "lower", "upper"),
                    ],
                    records(summary),
                )
            )
    if who.role != "public" and ws.store.count("fieldwork_segments"):
        from safercities.audit.fieldwork import segments

        said = segments(ws)
        said = said[said["area_id"] == area_id]
        if len(said):
            sections.append(
                Section(
                    "quotes",
                    _("What residents said (focus groups and interviews)"),
                    [
                        Column("participant_group", _("Group"), "text"),
                        Column("codes", _("Codes"), "text"),
                        Column("quote", _("Quote"), "text"),
                    ],
                    records(said, 40),
                )
            )
    return sections


def _area_priorities(ws: Workspace, who: Audience, area_id: str, lang: str) -> list[Section]:
    """The latest audit's priority problems for the community, with their rule and rank interval."""
    from safercities.audit.run import latest_audit

    _ = i18n.translations(lang).gettext
    bundle = latest_audit(ws)
    if bundle is None or not bundle.has("priorities"):
        return []
    if not who.authorised and not bundle.manifest.get("parameters", {}).get("public", False):
        return []
    table = bundle.table("priorities")
    here = table[table["scope"] == area_id].sort_values("rank")
    if here.empty:
        return []
    columns = [
        Column("rank", _("Rank")),
        Column("problem", _("Problem"), "text"),
        Column("risk_factors", _("Risk factors"), "text"),
        Column("score", _("Score"), "number", 2),
    ]
    rule = str(here["rule"].iloc[0]) if "rule" in here else ""
    return [Section("priorities", _("Priorities of the latest audit"), columns, records(here), note=rule)]


def _walk_points(ws: Workspace, who: Audience, lang: str) -> list[tuple[float, float, str, str]]:
    """Safety-walk observations as map points, coloured by rating (1 poor, red, to 5 good, green); the
    walkers' notes only for authorised users (they may describe people)."""
    from safercities.audit.walks import walk_points

    if not ws.store.count("walk_observations"):
        return []
    walks = walk_points(ws)
    colours = {1: "#d7191c", 2: "#fdae61", 3: "#ffffbf", 4: "#a6d96a", 5: "#1a9641"}
    out = []
    for row in walks.itertuples():
        note = f" – {row.note}" if who.authorised and isinstance(row.note, str) and row.note else ""
        title = f"{row.category}: {int(row.rating)}/5{note}"
        out.append((float(row.x), float(row.y), colours.get(int(row.rating), "#999"), title))
    return out


EMERGING_COLOURS = {
    "new": ("#fee5d9", "#eff3ff"),
    "consecutive": ("#fcbba1", "#c6dbef"),
    "intensifying": ("#de2d26", "#3182bd"),
    "persistent": ("#a50f15", "#08519c"),
    "diminishing": ("#fc9272", "#9ecae1"),
    "sporadic": ("#fb6a4a", "#6baed6"),
    "oscillating": ("#ef3b2c", "#4292c6"),
    "historical": ("#fdd0a2", "#deebf7"),
}


def _emerging_colour(category: str) -> str:
    kind = category.split(" ")[0]
    if kind not in EMERGING_COLOURS:
        return "#f3f4f6"
    hot, cold = EMERGING_COLOURS[kind]
    return hot if "hot" in category else cold


def _emerging_map(rates: Any, emerging: Any, lang: str, points: Any = ()) -> str:
    """Emerging hot spot categories by area (Gi* per month with FDR and a Mann-Kendall trend)."""
    gettext = i18n.translations(lang).gettext
    category = emerging.set_index("area_id")["category"].reindex(rates["area_id"]).fillna("no pattern")
    fills = [_emerging_colour(c) for c in category]
    present = sorted(set(category), key=lambda c: (c == "no pattern", c))
    legend = [(_emerging_colour(c), gettext(c)) for c in present]
    titles = [f"{n}: {gettext(c)}" for n, c in zip(rates["name"].fillna(rates["area_id"]), category, strict=True)]
    return choropleth(
        rates.geometry.to_numpy(),
        np.zeros(len(rates)),
        titles,
        np.zeros(len(rates), dtype=bool),
        label=gettext("Emerging hot spots (monthly Gi*, Mann-Kendall trend)"),
        hatch_label=gettext("unstable or suppressed"),
        categories=(fills, legend),
        points=points,
    )


def _rate_map(rates: Any, lang: str, hot: Any = None, points: Any = ()) -> str:
    """The choropleth of smoothed rates, each area titled with its crude rate and interval."""
    gettext = i18n.translations(lang).gettext
    titles = [
        f"{name}: {i18n.number(rate, lang, 1)} ({i18n.number(lower, lang, 1)}–{i18n.number(upper, lang, 1)})"
        for name, rate, lower, upper in zip(
            rates["name"].fillna(rates["area_id"]), rates["rate"], rates["rate_lower"], rates["rate_upper"], strict=True
        )
    ]
    return choropleth(
        rates.geometry.to_numpy(),
        rates["rate_spatial_eb"].to_numpy(dtype=float),
        titles,
        (rates["unstable"] | rates["suppressed"]).to_numpy(),
        label=gettext("Rate per 100,000 inhabitants per year (spatially smoothed)"),
        hatch_label=gettext("unstable or suppressed"),
        fmt=lambda value: i18n.number(value, lang),
        marked=hot,
        marked_label=gettext("hot spot (Gi*, false discovery rate 5%)"),
        points=points,
    )


def _network_png(graph: Any, lang: str, draw: Callable[..., Path]) -> str:
    """The actors' network drawn by governance.actors, as a data URI for the page."""
    import base64
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        png = draw(graph, Path(folder) / "network.png", lang)
        return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()


def _csv(frame: pd.DataFrame, name: str) -> Response:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _facet_column(facet: str) -> str:
    return {
        "approach": "approaches",
        "problem": "problems",
        "setting": "settings",
        "target_group": "target_groups",
    }.get(facet, facet)


def _as_list(cell: Any) -> list[str]:
    if isinstance(cell, list | tuple | np.ndarray):
        return [str(v) for v in cell]
    return [] if cell is None or cell == "" else [str(cell)]


def _coarsest(ws: Workspace) -> str | None:
    """The coarsest area level below the whole city (districts, say), where survey samples are large enough."""
    areas = ws.store.areas()
    levels = areas.groupby("level")["area_id"].count().sort_values()
    below_city = [str(level) for level, count in levels.items() if count > 1]
    return below_city[0] if below_city else None


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        extensions=["jinja2.ext.i18n"],
    )
    return env


def create_app(root: Path | str, *, public: bool = False, secure_cookies: bool = True) -> FastAPI:
    """The dashboard over the workspace in ``root``; ``public`` lets visitors see aggregates without login."""
    ws = open_workspace(root)
    figures = Figures(ws)
    throttle = accounts.LoginThrottle()
    env = _environment()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        ws.close()

    app = FastAPI(
        title=f"safercities · {ws.config.name}", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.workspace = ws

    # -- who, in which language -----------------------------------------------------------------------
    def session(request: Request) -> accounts.Session | None:
        """The request's session, looked up in the store once per request."""
        if not hasattr(request.state, "session"):
            request.state.session = accounts.session_of(ws, request.cookies.get(COOKIE))
        return request.state.session  # type: ignore[no-any-return]

    def indicator_values_for(who: Audience) -> pd.DataFrame:
        """Every area's indicator values, computed once per data version and audience (not once per area)."""
        from safercities.audit.indicators import indicator_values

        return figures.get(
            ("indicator-values", who.authorised), lambda: indicator_values(ws, public=not who.authorised)
        )

    def audience(request: Request) -> Audience:
        current = session(request)
        if current is not None:
            return Audience(current.role)
        if public:
            return Audience("public")
        raise HTTPException(status_code=303, headers={"Location": f"/login?next={request.url.path}"})

    def require(request: Request, *roles: str) -> accounts.Session:
        current = session(request)
        if current is None:
            raise HTTPException(status_code=303, headers={"Location": f"/login?next={request.url.path}"})
        if current.role not in roles:
            raise HTTPException(status_code=403, detail="forbidden")
        return current

    def language(request: Request) -> str:
        asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or ws.config.lang
        return asked if asked in i18n.LANGUAGES else ws.config.lang

    def check_csrf(request: Request, token: str) -> None:
        current = session(request)
        expected = current.csrf_token if current else request.cookies.get(PRE_CSRF)
        if not expected or not secrets.compare_digest(expected, token or ""):
            raise HTTPException(status_code=403, detail="the form expired or did not come from this site")

    def fragment(template: str, lang: str, **context: Any) -> str:
        """A part of a page that depends only on the data, the audience and the language (cached by callers)."""
        env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
        return env.get_template(template).render(
            lang=lang,
            min_count=ws.config.disclosure.min_count,
            n=lambda value, digits=0: i18n.number(value, lang, digits),
            **context,
        )

    def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        request.state.sections = context.get("sections", [])  # for the CSV download of each table
        lang = language(request)
        env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
        current = session(request)
        csrf = current.csrf_token if current else request.cookies.get(PRE_CSRF) or secrets.token_urlsafe(24)
        html = env.get_template(template).render(
            lang=lang,
            city=ws.config.name,
            version=__version__,
            user=current,
            public=public,
            csrf=csrf,
            min_count=ws.config.disclosure.min_count,
            table_page=request.url.path.strip("/") if request.url.path.strip("/") in TABLE_PAGES else "",
            path=request.url.path,
            query=request.url.query,
            n=lambda value, digits=0: i18n.number(value, lang, digits),
            pct=lambda value, digits=0: i18n.percent(value, lang, digits),
            month=lambda value: i18n.month(value, lang),
            languages=[(code, i18n.language_name(code)) for code in i18n.LANGUAGES],
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, samesite="strict", secure=secure_cookies)
        if current is None and not request.cookies.get(PRE_CSRF):
            response.set_cookie(PRE_CSRF, csrf, httponly=True, samesite="strict", secure=secure_cookies)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    @app.exception_handler(SafercitiesError)
    async def user_error(request: Request, exc: SafercitiesError) -> HTMLResponse:
        return render(request, "error.html.j2", status=400, message=str(exc))

    # -- static files ----------------------------------------------------------------------------------
    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> FileResponse:
        path = (HERE / "static" / name).resolve()
        if path.parent != (HERE / "static").resolve() or not path.is_file():
            raise HTTPException(status_code=404)
        return FileResponse(path, headers={"Cache-Control": "max-age=3600"})

    # -- login -----------------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the usual name
        return render(request, "login.html.j2", next=next if next.startswith("/") else "/", failed=False)

    @app.post("/login")
    async def login(
        request: Request,
        username: str = Form(...),
        password: str = Form(...),
        csrf_token: str = Form(""),
        next: str = Form("/"),  # noqa: A002
    ) -> Response:
        check_csrf(request, csrf_token)
        client = request.client.host if request.client else "?"
        if throttle.blocked(client, username):
            return render(request, "login.html.j2", status=429, next="/", failed=True, throttled=True)
        if accounts.authenticate(ws, username, password) is None:
            throttle.failed(client, username)
            return render(request, "login.html.j2", status=401, next=next, failed=True)
        throttle.succeeded(client, username)
        token, _ = accounts.open_session(ws, username)
        response = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/", 303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            secure=secure_cookies,
            samesite="strict",
            max_age=accounts.SESSION_HOURS * 3600,
        )
        return response

    @app.post("/logout")
    async def logout(request: Request, csrf_token: str = Form("")) -> Response:
        check_csrf(request, csrf_token)
        accounts.close_session(ws, request.cookies.get(COOKIE))
        response = RedirectResponse("/login" if not public else "/", 303)
        response.delete_cookie(COOKIE)
        return response

    # -- pages -----------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    async def overview(request: Request) -> HTMLResponse:
        who = audience(request)
        lang = language(request)
        homicide = figures.get(("homicide", who.role), lambda: observatory.homicide_rate(ws, who))
        recent = figures.get(("recent", who.role, lang), lambda: observatory.recent_change(ws, who))
        series = figures.get(("series", who.role), lambda: observatory.monthly_series(ws, who))
        chart = {
            "x": [str(p)[:10] for p in series["period"]],
            "y": [None if not np.isfinite(v) else float(v) for v in series["count"]],
        }
        return render(
            request,
            "overview.html.j2",
            homicide=homicide,
            recent=recent.to_dict("records"),
            recent_span=recent.attrs.get("now", ("", "")),
            chart=json.dumps(chart),
            monthly=series.to_dict("records"),
            authorised=who.authorised,
        )

    def _rates(who: Audience, iccs: str | None, level: str | None) -> Any:
        return figures.get(("rates", who.role, iccs, level), lambda: observatory.area_rates(ws, who, iccs, level))

    @app.get("/map", response_class=HTMLResponse)
    async def map_explorer(
        request: Request, iccs: str = "", level: str = "", layer: str = "rates", walks: str = ""
    ) -> HTMLResponse:
        """Rates (hot spots outlined) or emerging hot spots by area; safety-walk observations on top; the last
        month's early-warning alerts below."""
        who = audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        rates = _rates(who, iccs or None, level or None)
        spots = figures.get(
            ("hotspots", iccs, level), lambda: observatory.hot_spot_areas(ws, iccs or None, level or None)
        )
        hot = spots.set_index("area_id")["label"].reindex(rates["area_id"]).eq("hot spot").to_numpy()
        points = figures.get(("walks", who.authorised, lang), lambda: _walk_points(ws, who, lang)) if walks else []
        if layer == "emerging":
            emerging = figures.get(
                ("emerging", iccs, level), lambda: observatory.emerging_areas(ws, iccs or None, level or None)
            )
            svg = figures.get(
                ("svg-emerging", iccs, level, lang, bool(walks)),
                lambda: _emerging_map(rates, emerging, lang, points),
            )
        else:
            svg = figures.get(
                ("svg", who.role, iccs, level, lang, bool(walks)), lambda: _rate_map(rates, lang, hot, points)
            )
        sections = figures.get(
            ("sections", lang), lambda: [(code, iccs_name(code, lang)) for code in ws.store.iccs_sections()]
        )
        levels = figures.get(("levels",), lambda: sorted(ws.store.areas()["level"].unique()))
        table = figures.get(
            ("map-table", who.role, iccs, level, lang),
            lambda: fragment(
                "map_table.html.j2",
                lang,
                rows=rates.drop(columns="geometry").to_dict("records"),
                years=rates.attrs.get("years", float("nan")),
            ),
        )
        month = figures.get(("last-month",), lambda: observatory.last_complete_month(ws))
        alerts = figures.get(("alerts", who.role, month), lambda: observatory.alerts_in_month(ws, who, month))
        return render(
            request,
            "map.html.j2",
            svg=svg,
            table=table,
            sections=sections,
            levels=levels,
            iccs=iccs,
            level=level,
            layer=layer,
            walks=walks,
            hot_spots=int(hot.sum()),
            alerts=records(alerts),
            alerts_month=month,
        )

    @app.get("/area/{area_id}", response_class=HTMLResponse)
    async def area_page(request: Request, area_id: str) -> HTMLResponse:
        """A community's profile: its crime picture now; the audit's evidence and plan as they exist."""
        who = audience(request)
        lang = language(request)
        profile = figures.get(("area", who.role, area_id), lambda: observatory.area_profile(ws, who, area_id))
        chart = {
            "x": [str(p)[:10] for p in profile.monthly["period"]],
            "y": [None if not np.isfinite(v) else float(v) for v in profile.monthly["count"]],
        }
        return render(
            request,
            "area.html.j2",
            p=profile,
            sections=profile.sections.to_dict("records"),
            monthly=profile.monthly.to_dict("records"),
            chart=json.dumps(chart),
            extra_sections=figures.get(
                ("area-evidence", who.role, area_id, lang),
                lambda: _area_evidence(ws, who, area_id, lang, indicator_values_for(who)),
            ),
        )

    def tables_page(request: Request, title: str, sections: list[Section], intro: str = "") -> HTMLResponse:
        return render(request, "tables.html.j2", title=title, sections=sections, intro=intro)

    @app.get("/survey", response_class=HTMLResponse)
    async def survey_page(request: Request) -> HTMLResponse:
        """Victimisation-survey indicators (SDG 16) with intervals, and the dark figure by district."""
        from safercities.survey.darkfigure import survey_dark_figure
        from safercities.survey.importing import surveys
        from safercities.survey.indicators import survey_indicators

        audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        if surveys(ws).empty:
            return tables_page(request, _("Victimisation survey"), [], _("No survey has been imported yet."))
        city = figures.get(("survey", lang), lambda: survey_indicators(ws, lang=lang, by=("all", "sex")))
        dark = figures.get(("dark", lang), lambda: survey_dark_figure(ws, level=_coarsest(ws), lang=lang))
        estimate_columns = [
            Column("indicator", _("Indicator"), "text"),
            Column("name", _("What it measures"), "text"),
            Column("domain", _("Group"), "text"),
            Column("estimate", _("Estimate"), "percent", 1),
            Column("ci", _("95%% interval").replace("%%", "%"), "interval", 1, "lower", "upper", percent=True),
            Column("cv", _("Coefficient of variation"), "percent", 0),
            Column("n", _("Respondents")),
            Column("unreliable", _("Unreliable"), "flag"),
        ]
        dark_columns = [
            Column("area_id", _("Area"), "text"),
            Column("name", _("Offence"), "text"),
            Column("survey_total", _("Estimated by the survey")),
            Column("police_recorded", _("Recorded by the police")),
            Column("reporting_rate", _("Share reported"), "percent", 0),
            Column(
                "rr",
                _("95%% interval").replace("%%", "%"),
                "interval",
                0,
                "reporting_lower",
                "reporting_upper",
                percent=True,
            ),  # fmt: skip
        ]
        shown = city[~city["suppressed"].astype(bool)]
        sections = [
            Section(
                "sdg",
                _("SDG indicators"),
                estimate_columns,
                records(shown),
                note=_(
                    "Estimates flagged unreliable have a coefficient of variation above the workspace's "
                    "threshold; estimates resting on too few respondents are not published."
                ),
            ),  # fmt: skip
            Section(
                "dark",
                _("The dark figure: survey against police records"),
                dark_columns,
                records(dark[dark["reporting_rate"].notna()].sort_values("reporting_rate")),
            ),  # fmt: skip
        ]
        return tables_page(request, _("Victimisation survey"), sections)

    @app.get("/procurement", response_class=HTMLResponse)
    async def procurement_page(request: Request) -> HTMLResponse:
        """Corruption-risk screening of public procurement: flags' base rates; buyers and suppliers (logged-in
        users: a screening names organisations and is a reason to look, not a finding); risk by area."""
        from safercities.procurement.report import screening_report

        who = audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        if not ws.store.count("procurement_processes"):
            return tables_page(request, _("Procurement risk"), [], _("No procurement data has been imported yet."))
        screening = figures.get(("procurement", lang), lambda: screening_report(ws, lang=lang))
        flag_columns = [
            Column("name", _("Red flag"), "text"),
            Column("level", _("Level"), "text"),
            Column("raised", _("Raised")),
            Column("available", _("Could be computed")),
            Column("base_rate", _("Base rate"), "percent", 1),
            Column("weight", _("Weight in the index"), "number", 2),
            Column("source", _("Source"), "text"),
        ]
        org_columns = [
            Column("id", _("Organisation"), "text"),
            Column("n_processes", _("Processes")),
            Column("index", _("Risk index"), "number", 2),
            Column("main_flags", _("Main flags"), "text"),
        ]
        area_columns = [
            Column("area_id", _("Area"), "text", link="/area/"),
            Column("period", _("Period"), "text"),
            Column("n_processes", _("Processes")),
            Column("value", _("Risk"), "number", 3),
            Column("ci", _("95%% interval").replace("%%", "%"), "interval", 3, "lower", "upper"),
        ]
        sections = [Section("flags", _("Red flags and how often they are raised"), flag_columns,
                            records(screening.base_rates), note=screening.rule)]  # fmt: skip
        if who.role != "public":
            sections += [
                Section(
                    "buyers",
                    _("Buyers with the highest risk index"),
                    org_columns,
                    records(screening.buyers, 25),
                    note=screening.caveat,
                ),  # fmt: skip
                Section(
                    "suppliers",
                    _("Suppliers with the highest risk index"),
                    org_columns,
                    records(screening.suppliers, 25),
                ),  # fmt: skip
            ]
        sections.append(Section("areas", _("Procurement risk by area"), area_columns, records(screening.areas)))
        return tables_page(request, screening.title, sections)

    @app.get("/practices", response_class=HTMLResponse)
    async def practices_page(request: Request, q: str = "") -> HTMLResponse:
        """The practice library, searchable by words and facets (the workspace's own practices included)."""
        from safercities.practices import search, workspace_library

        audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        library = figures.get(("library",), lambda: workspace_library(ws.root))
        facets = ("approach", "rating", "problem", "setting", "target_group")
        chosen = {f: request.query_params.get(f, "") for f in facets}
        found = search(library, q or None, **{f: v for f, v in chosen.items() if v})
        frame = found.to_frame(lang)
        values = library.to_frame(lang)
        options = [(f, sorted({v for cell in values[_facet_column(f)] for v in _as_list(cell)})) for f in facets]
        names = {
            "approach": _("Approach"),
            "rating": _("Evidence"),
            "problem": _("Problem"),
            "setting": _("Setting"),
            "target_group": _("Target group"),
        }
        return render(
            request,
            "practices.html.j2",
            rows=frame.to_dict("records"),
            q=q,
            facets=options,
            chosen=chosen,
            facet_names=names,
        )

    @app.get("/practices/{practice_id}", response_class=HTMLResponse)
    async def practice_page(request: Request, practice_id: str) -> HTMLResponse:
        """One practice as the library's printable page shows it (mechanism, evidence, needs, sources)."""
        from safercities.practices import workspace_library
        from safercities.practices.page import render_page

        audience(request)
        library = figures.get(("library",), lambda: workspace_library(ws.root))
        if practice_id not in library:
            raise HTTPException(status_code=404)
        html = render_page(library.subset([practice_id]), language(request))
        back = '<p><a href="/practices">← safercities</a></p>'
        return HTMLResponse(html.replace("<body>", "<body>" + back, 1))

    @app.get("/governance", response_class=HTMLResponse)
    async def governance_page(request: Request) -> HTMLResponse:
        """Urban safety governance: maturity by principle and capacity with the rule, the gaps, and the actors."""
        from safercities.governance.actors import actor_network, draw_network, network_measures
        from safercities.governance.assessment import gaps, score
        from safercities.governance.store import stored_actors, stored_answers

        audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        if not ws.store.count("governance_answers"):
            return tables_page(request, _("Governance"), [], _("No governance assessment has been imported yet."))
        scores = figures.get(("governance",), lambda: score(stored_answers(ws)))
        q = scores.questionnaire
        principles = scores.principles.assign(
            label=[q.text("principle", k, lang) for k in scores.principles["principle"]]
        )
        capacities = scores.capacities.assign(
            label=[q.text("capacity", k, lang) for k in scores.capacities["capacity"]]
        )
        level_columns = [
            Column("label", _("What"), "text"),
            Column("level", _("Maturity (0-4)")),
            Column("answered", _("Questions answered")),
            Column("rule", _("Rule"), "text"),
        ]
        gap_columns = [
            Column("kind", _("Kind"), "text"),
            Column("label", _("What"), "text"),
            Column("level", _("Level")),
            Column("target", _("Target level")),
            Column("reason", _("Why it is a gap"), "text"),
        ]
        sections = [
            Section(
                "principles",
                _("The eight principles of the UN crime-prevention guidelines"),
                level_columns,
                records(principles),
            ),  # fmt: skip
            Section("capacities", _("Capacities of urban safety governance"), level_columns, records(capacities)),
            Section("gaps", _("Gaps"), gap_columns, records(gaps(scores, lang=lang))),
        ]
        if ws.store.count("stakeholders"):
            graph = figures.get(("actors",), lambda: actor_network(stored_actors(ws)))
            measures = network_measures(graph).sort_values("betweenness", ascending=False)
            actor_columns = [
                Column("name", _("Actor"), "text"),
                Column("sector", _("Sector"), "text"),
                Column("level", _("Level"), "text"),
                Column("partners", _("Partners")),
                Column("betweenness", _("Brokerage (betweenness)"), "number", 2),
                Column("isolated", _("Isolated"), "flag"),
            ]
            sections.append(Section("actors", _("Actors and their relations"), actor_columns, records(measures),
                                    note=_("Isolated actors have no coordination, funding or data-sharing link: "
                                           "a gap in who does what.")))  # fmt: skip
            png = figures.get(("network", lang), lambda: _network_png(graph, lang, draw_network))
            picture = f'<img src="{png}" alt="{_("Actors and their relations")}" style="max-width:100%">'
        else:
            picture = ""
        return render(request, "tables.html.j2", title=_("Governance"), sections=sections, intro="", figure=picture)

    @app.get("/audit", response_class=HTMLResponse)
    async def audit_page(request: Request) -> HTMLResponse:
        """The latest local safety audit, as its bundle's summary shows it (steps, ranks with intervals, the
        selected communities and why, priorities with their evidence, what is missing). Its figures were
        computed with disclosure applied unless the audit was run for analysts; the page says which."""
        from safercities.audit.run import latest_audit

        who = audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        bundle = latest_audit(ws)
        if bundle is None:
            return tables_page(request, _("Audit"), [], _("No audit has been run yet: safercities audit run."))
        public_run = bool(bundle.manifest.get("parameters", {}).get("public", False))
        if not who.authorised and not public_run:
            return tables_page(
                request,
                _("Audit"),
                [],
                _("The latest audit was run for analysts (exact counts); log in to read it, or run it with --public."),
            )
        html = bundle.summary_html.read_text(encoding="utf-8")
        back = f'<p><a href="/">← safercities · {ws.config.name}</a></p>'
        return HTMLResponse(html.replace("<body>", "<body>" + back, 1))

    @app.get("/plan", response_class=HTMLResponse)
    async def plan_page(request: Request) -> HTMLResponse:
        """The crime-prevention plan and its monitoring: each target's progress with its interval and status
        (the rule written out), interventions with who does what, budget by horizon, recommendations."""
        from safercities.plan import monitor_plan

        who = audience(request)
        lang = language(request)
        _ = i18n.translations(lang).gettext
        if not ws.store.count("plan_interventions"):
            return tables_page(request, _("Plan"), [], _("No plan has been imported yet."))
        m = figures.get(("plan", who.authorised, lang), lambda: monitor_plan(ws, lang=lang, public=not who.authorised))
        target_columns = [
            Column("target_id", _("Goal"), "text"),
            Column("indicator_id", _("Indicator"), "text"),
            Column("scope", _("Where"), "text"),
            Column("baseline", _("Baseline"), "number", 1),
            Column("current", _("Now"), "number", 1),
            Column("ci", _("95%% interval").replace("%%", "%"), "interval", 1, "current_lower", "current_upper"),
            Column("target_value", _("Target value"), "number", 1),
            Column("target_date", _("By"), "text"),
            Column("progress", _("Progress"), "percent", 0),
            Column(
                "pi",
                _("95%% interval").replace("%%", "%"),
                "interval",
                0,
                "progress_lower",
                "progress_upper",
                percent=True,
            ),  # fmt: skip
            Column("expected", _("Expected by now"), "percent", 0),
            Column("status_label", _("Status"), "text"),
        ]
        intervention_columns = [
            Column("intervention_id", _("Intervention"), "text"),
            Column("title", _("What"), "text"),
            Column("practice_id", _("Practice"), "text", link="/practices/"),
            Column("areas", _("Where"), "text"),
            Column("responsible", _("Responsible"), "text"),
            Column("accountable", _("Accountable"), "text"),
            Column("budget", _("Budget"), "number", 0),
            Column("currency", "", "text"),
            Column("horizon", _("Horizon"), "text"),
            Column("status", _("Status"), "text"),
        ]
        budget_columns = [
            Column("currency", "", "text"),
            Column("horizon", _("Horizon"), "text"),
            Column("status", _("Status"), "text"),
            Column("interventions", _("Interventions")),
            Column("budget", _("Budget")),
        ]
        recommendation_columns = [
            Column("date", _("Date"), "text"),
            Column("addressed", _("Addressed")),
            Column("total", _("Recommendations")),
            Column("share_addressed", _("Share addressed"), "percent", 0),
        ]
        sections = [
            Section(
                "targets",
                _("Targets and progress"),
                target_columns,
                records(m.targets),
                note=f"{m.rules['progress']} {m.rules['status']}",
            ),  # fmt: skip
            Section(
                "interventions",
                _("Interventions: who does what"),
                intervention_columns,
                records(m.interventions),
                note=m.rules["horizon"],
            ),  # fmt: skip
            Section("budget", _("Budget by horizon and status"), budget_columns, records(m.budget)),
            Section(
                "recommendations",
                _("Recommendations addressed over time"),
                recommendation_columns,
                records(m.recommendations),
                note=m.rules["recommendations"],
            ),  # fmt: skip
        ]
        return tables_page(request, _("Plan"), sections)

    table_pages = {
        "survey": survey_page,
        "procurement": procurement_page,
        "governance": governance_page,
        "plan": plan_page,
    }

    @app.get("/data/table/{page}/{key}.csv")
    async def download_table(request: Request, page: str, key: str) -> Response:
        """A table of a page as CSV: the rows this audience sees on that page, every column of them."""
        if page not in table_pages:
            raise HTTPException(status_code=404)
        shown = await table_pages[page](request)
        if shown.status_code != 200:
            return shown
        found = [s for s in getattr(request.state, "sections", []) if s.key == key]
        if not found:
            raise HTTPException(status_code=404)
        return _csv(pd.DataFrame(found[0].rows), f"{page}-{key}")

    @app.get("/data/{figure}.csv")
    async def download(request: Request, figure: str, iccs: str = "", level: str = "") -> Response:
        """The numbers behind a chart or map, as the page shows them to this audience."""
        who = audience(request)
        if figure == "rates":
            frame = pd.DataFrame(_rates(who, iccs or None, level or None).drop(columns="geometry"))
        elif figure == "monthly":
            frame = figures.get(("series", who.role), lambda: observatory.monthly_series(ws, who))
        elif figure == "recent":
            lang = language(request)
            frame = figures.get(("recent", who.role, lang), lambda: observatory.recent_change(ws, who))
        else:
            raise HTTPException(status_code=404)
        return _csv(frame, figure)

    @app.get("/imports", response_class=HTMLResponse)
    async def imports_page(request: Request) -> HTMLResponse:
        require(request, "admin", "analyst")
        imports = ws.imports().sort_values("import_id", ascending=False)
        reasons = ws.store.quality_rejects_by_reason()
        return render(
            request, "imports.html.j2", imports=imports.to_dict("records"), reasons=reasons.to_dict("records")
        )

    @app.get("/quality", response_class=HTMLResponse)
    async def quality_page(request: Request) -> HTMLResponse:
        """The data-quality report, as `safercities quality` writes it (analysts: it cites rejected rows)."""
        from safercities.quality import quality_report
        from safercities.report.quality import render_quality_html

        require(request, "admin", "analyst")
        lang = language(request)
        html = figures.get(("quality", lang), lambda: render_quality_html(quality_report(ws), lang))
        back = f'<p><a href="/">← safercities · {ws.config.name}</a></p>'
        return HTMLResponse(html.replace("<body>", "<body>" + back, 1))

    @app.get("/rejects", response_class=HTMLResponse)
    async def rejects_page(request: Request, import_id: int | None = None, limit: int = 200) -> HTMLResponse:
        require(request, "admin", "analyst")
        rejects = ws.rejects(import_id)
        return render(
            request, "rejects.html.j2", rejects=rejects.head(limit).to_dict("records"), total=len(rejects), limit=limit
        )

    @app.get("/admin/log", response_class=HTMLResponse)
    async def audit_log(request: Request, limit: int = 500) -> HTMLResponse:
        require(request, "admin")
        log = ws.store.read("audit_log").sort_values("changed_at", ascending=False).head(limit)
        return render(request, "log.html.j2", log=log.to_dict("records"))

    @app.get("/admin/users", response_class=HTMLResponse)
    async def users_page(request: Request) -> HTMLResponse:
        require(request, "admin")
        return render(request, "users.html.j2", users=accounts.users(ws), roles=accounts.ROLES, message="")

    @app.post("/admin/users", response_class=HTMLResponse)
    async def add_user(
        request: Request,
        username: str = Form(...),
        password: str = Form(...),
        role: str = Form(...),
        csrf_token: str = Form(""),
    ) -> HTMLResponse:
        admin = require(request, "admin")
        check_csrf(request, csrf_token)
        accounts.create_user(ws, username, password, role, by=admin.username)
        return render(request, "users.html.j2", users=accounts.users(ws), roles=accounts.ROLES, message=username)

    return app
