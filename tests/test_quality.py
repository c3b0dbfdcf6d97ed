"""The data-quality report, checked number by number against a handmade city with known defects."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from rich.console import Console

import safercities as sc
from safercities import iccs
from safercities.quality import QualityReport, quality_report
from safercities.report import write_quality
from safercities.report.labels import LABELS, LANGUAGES, label
from safercities.report.quality import fmt_share, print_quality, render_quality_html
from safercities.workspace import Workspace, file_sha256, init

A = ("-100,395", "20,505")  # inside area A
B = ("-100,385", "20,505")  # inside area B
HEADER = "folio;desde;hasta;denuncia;clave;delito;lon;lat;lugar;arma"
FIRST = [
    # accepted: 17 rows, January to May 2024 with nothing in March and one incident in April
    ("F001", "31/01/2024 20:00", "", "31/01/2024 22:00", "R01", "Robo", *A, "calle", "navaja"),  # 1 Feb in UTC
    ("F002", "16/01/2024 08:00", "16/01/2024 20:00", "18/01/2024 08:00", "R01", "Robo", *B, "casa", ""),
    ("F003", "20/01/2024", "", "", "R01", "Robo", *A, "", ""),  # a date alone: the whole local day
    ("F004", "05/01/2024 22:00", "10/01/2024 22:00", "10/01/2024 22:00", "R01", "Robo", *A, "calle", ""),
    ("F005", "01/01/2024 00:00", "20/01/2024 00:00", "", "R02", "Lesiones", *B, "calle", ""),
    ("F006", "02/01/2024 00:00", "01/03/2024 00:00", "02/03/2024 00:00", "R01", "", *A, "calle", ""),
    ("F007", "10/02/2024 10:00", "", "09/02/2024 10:00", "R02", "Lesiones", *A, "calle", ""),  # reported before
    ("F008", "11/02/2024 10:00", "", "12/02/2024 10:00", "R02", "Lesiones", *B, "calle", ""),
    ("F009", "12/02/2024 10:00", "", "13/02/2025 10:00", "R03", "Homicidio", *A, "calle", ""),  # 367 days
    ("F010", "13/02/2024 10:00", "", "13/02/2024 09:00", "R01", "Robo", *A, "calle", ""),  # reported before
    ("F011", "14/02/2024 10:00", "", "", "R02", "Lesiones", *A, "", ""),
    ("F012", "15/04/2024 10:00", "", "", "R01", "Robo", *A, "calle", ""),
    ("F013", "02/05/2024 10:00", "", "03/05/2024 10:00", "R01", "Robo", *A, "calle", ""),
    ("F014", "02/05/2024 10:00", "", "", "R01", "Robo", *A, "calle", ""),  # same place, time, offence as F013
    ("F015", "03/05/2024 11:00", "", "05/05/2024 11:00", "R02", "Lesiones", *B, "calle", ""),
    ("F016", "04/05/2024 11:00", "", "04/05/2024 23:00", "R03", "Homicidio", *B, "calle", ""),
    ("F017", "05/05/2024 10:00", "", "", "R01", "Robo", *A, "calle", ""),
    # rejected: 9 rows (file rows 19 to 27; the header is row 1)
    ("F101", "31/02/2024 10:00", "", "", "R01", "Robo", *A, "calle", ""),  # bad_date
    ("F102", "06/05/2024 10:00", "", "", "R01", "Robo", "", "", "calle", ""),  # missing_coordinates
    ("F103", "06/05/2024 10:00", "", "", "R01", "Robo", "-100,300", "20,505", "calle", ""),  # outside_areas
    ("F002", "16/01/2024 08:00", "16/01/2024 20:00", "18/01/2024 08:00", "R01", "Robo", *B, "casa", ""),  # dup
    ("F104", "06/05/2024 10:00", "", "", "R01", "Robo", "abc", "20,505", "calle", ""),  # bad_coordinates
    ("F105", "06/05/2024 10:00", "", "", "R01", "Robo", "-100,395", "", "calle", ""),  # missing_coordinates
    ("F106", "06/05/2024 10:00", "", "", "R99", "Otro", *A, "calle", ""),  # unknown_offence
    ("F107", "06/05/2024 10:00", "", "", "R01", "Robo", "20,505", "-100,395", "calle", ""),  # swapped
    ("F108", "06/05/2024 10:00", "", "", "R01", "Robo", "10,0", "20,505", "calle", ""),  # outside_crs
]
SECOND_HEADER = "folio;fecha;denuncia;clave;delito;lon;lat"
SECOND = [
    ("F003", "20/01/2024 10:00", "", "R01", "Robo", *A),  # duplicate_id: already in the store
    ("G001", "06/05/2024 12:00", "06/05/2024 12:00", "R03", "Homicidio", *B),
    ("G002", "07/05/2024 12:00", "", "R02", "Lesiones", *A),
    ("G003", "", "", "R02", "Lesiones", *A),  # missing_date
]
# Reporting delays (days) of the accepted incidents with a report date, worked out by hand.
DELAYS = [2 / 24, 1.5, 0, 1, -1, 1, 367, -1 / 24, 1, 2, 0.5, 0]
OFFENCES = "local_code,local_label,iccs_code\nR01,Robo,0502\nR02,Lesiones,0201\nR03,Homicidio,0101\n"
MAPPING = """[source]
decimal = ","
[columns]
id = "folio"
{time}
reported = "denuncia"
offence_code = "clave"
offence_label = "delito"
x = "lon"
y = "lat"
{extra}
[dates]
format = "auto"
order = "dmy"
[offences]
table = "off.csv"
"""


def _square(w: float, s: float, e: float, n: float) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


@dataclass(frozen=True)
class City:
    ws: Workspace
    report: QualityReport
    first: Path
    second: Path


def _write(path: Path, header: str, rows: Sequence[tuple[str, ...]]) -> Path:
    path.write_text(header + "\n" + "\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    root = tmp_path_factory.mktemp("quality")
    features = [
        {"type": "Feature", "properties": {"cid": c, "nombre": c, "pob": 1000}, "geometry": _square(*box)}
        for c, box in (("A", (-100.40, 20.50, -100.39, 20.51)), ("B", (-100.39, 20.50, -100.38, 20.51)))
    ]
    (root / "areas.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    (root / "off.csv").write_text(OFFENCES, encoding="utf-8")
    window = 'occurred_from = "desde"\noccurred_to = "hasta"'
    (root / "map.toml").write_text(MAPPING.format(time=window, extra='location_type = "lugar"\nkeep = ["arma"]'))
    (root / "map2.toml").write_text(MAPPING.format(time='occurred = "fecha"', extra=""))
    first = _write(root / "inc.csv", HEADER, FIRST)
    second = _write(root / "inc2.csv", SECOND_HEADER, SECOND)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAFERCITIES_USER", "analyst")
        ws = init(root / "ws", name="Demo", crs="EPSG:32614", timezone="America/Mexico_City")
        ws.import_areas(root / "areas.geojson", id="cid", name="nombre", population="pob")
        one = ws.import_incidents(first, mapping=root / "map.toml")
        two = ws.import_incidents(second, mapping=root / "map2.toml")
    assert (one.accepted, one.rejected, two.accepted, two.rejected) == (17, 9, 2, 2)
    yield City(ws, quality_report(ws), first, second)
    ws.close()


def test_rows_and_imports(city: City) -> None:
    r = city.report
    assert (r.rows_read, r.accepted, r.rejected) == (30, 19, 11)
    assert r.workspace == "Demo" and r.version == sc.__version__
    assert [(i.file, i.rows_read, i.accepted, i.rejected) for i in r.imports] == [
        (str(city.first), 26, 17, 9),
        (str(city.second), 4, 2, 2),
    ]
    for summary, path in zip(r.imports, (city.first, city.second), strict=True):
        assert summary.sha256 == file_sha256(path)[:12]
        assert summary.username == "analyst"
        assert summary.status == "committed"
        assert summary.started_at.endswith("+00:00") and summary.started_at.startswith("20")
        assert summary.warnings == ()


def test_completeness_and_windows(city: City) -> None:
    shares = {f.field: (f.filled, f.share) for f in city.report.completeness}
    assert shares == {
        "reported_at": (12, 12 / 19),
        "location_type": (15, 15 / 19),  # two empty in the first file; the second has no such column
        "offence_label": (18, 18 / 19),
        "attributes": (1, 1 / 19),  # only F001 has a weapon
    }
    windows = {w.window: w.count for w in city.report.windows}
    assert windows == {"moment": 14, "window_1d": 2, "window_7d": 1, "window_31d": 1, "window_longer": 1}
    assert sum(w.share or 0 for w in city.report.windows) == pytest.approx(1)


def test_geocoding_and_outside_city(city: City) -> None:
    g = city.report.geocoding
    # not placed: 2 missing, 1 unreadable, 1 swapped, 1 outside the CRS, 1 outside the areas
    assert (g.accepted, g.not_geocoded, g.share_geocoded) == (19, 6, 19 / 25)
    assert (g.outside_city, g.with_coordinates, g.share_outside_city) == (2, 21, 2 / 21)


def test_duplicates(city: City) -> None:
    d = city.report.duplicates
    assert d.rejected_duplicate_id == 2  # once within the first file, once against the store
    assert (d.exact_groups, d.exact_rows, d.exact_surplus) == (1, 2, 1)  # F013 and F014


def test_rejects_by_reason_with_examples(city: City) -> None:
    r = city.report
    assert r.rejects_by_reason() == {
        "missing_coordinates": 2,
        "duplicate_id": 2,
        "bad_date": 1,
        "bad_coordinates": 1,
        "outside_areas": 1,
        "outside_crs": 1,
        "swapped_coordinates": 1,
        "unknown_offence": 1,
        "missing_date": 1,
    }
    assert [x.reason_code for x in r.rejects[:2]] == ["duplicate_id", "missing_coordinates"]  # by count, then code
    examples = {x.reason_code: (Path(x.example_file).name, x.example_row) for x in r.rejects}
    assert examples == {
        "bad_date": ("inc.csv", 19),
        "missing_coordinates": ("inc.csv", 20),  # the first of two
        "outside_areas": ("inc.csv", 21),
        "duplicate_id": ("inc.csv", 22),  # the first import's, not the second's
        "bad_coordinates": ("inc.csv", 23),
        "unknown_offence": ("inc.csv", 25),
        "swapped_coordinates": ("inc.csv", 26),
        "outside_crs": ("inc.csv", 27),
        "missing_date": ("inc2.csv", 5),
    }
    by_code = {x.reason_code: x for x in r.rejects}
    assert "31/02/2024" in by_code["bad_date"].example_reason
    assert "R99" in by_code["unknown_offence"].example_reason
    assert by_code["duplicate_id"].share == pytest.approx(2 / 11)
    assert sum(x.count for x in r.rejects) == r.rejected


def test_monthly_coverage_in_local_time_with_gaps(city: City) -> None:
    c = city.report.coverage
    assert c.timezone == "America/Mexico_City"
    # F001 is 1 February in UTC but 31 January in Mexico City.
    assert [(m.month, m.count) for m in c.months] == [
        ("2024-01", 6),
        ("2024-02", 5),
        ("2024-03", 0),
        ("2024-04", 1),
        ("2024-05", 7),
    ]
    assert (c.first_month, c.last_month, c.median, c.gap_threshold) == ("2024-01", "2024-05", 5.0, 1.25)
    assert c.gaps == ("2024-03", "2024-04")  # empty, and 1 < a quarter of the median month
    assert [m.gap for m in c.months] == [False, False, True, True, False]


def test_reporting_delays(city: City) -> None:
    d = city.report.delays
    assert d.count == len(DELAYS) == 12
    assert d.share_with_report == pytest.approx(12 / 19)
    expected = np.quantile(DELAYS, [0.10, 0.25, 0.50, 0.75, 0.90, 0.99])
    assert list(d.quantiles) == ["p10", "p25", "p50", "p75", "p90", "p99"]
    assert list(d.quantiles.values()) == pytest.approx(expected.tolist())
    assert (d.negative, d.over_365) == (2, 1)
    assert (d.share_negative, d.share_over_365) == pytest.approx((2 / 12, 1 / 12))
    assert (d.min, d.max, d.mean) == pytest.approx((-1, 367, float(np.mean(DELAYS))))


def test_offence_mix(city: City) -> None:
    r = city.report
    assert [(s.section, s.name, s.count) for s in r.sections] == [
        ("05", "Acts against property only", 10),
        ("02", "Acts causing harm or intending to cause harm to the person", 6),
        ("01", "Acts leading to death or intending to cause death", 3),
    ]
    assert [s.share for s in r.sections] == pytest.approx([10 / 19, 6 / 19, 3 / 19])
    assert [(o.offence_code, o.offence_label, o.iccs_code, o.count) for o in r.offences] == [
        ("R01", "Robo", "0502", 10),
        ("R02", "Lesiones", "0201", 6),
        ("R03", "Homicidio", "0101", 3),
    ]


def _plain(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (int, float, str, bool)


def test_to_dict_is_plain_and_json_round_trips(city: City) -> None:
    data = city.report.to_dict()
    assert _plain(data)
    assert json.loads(json.dumps(data)) == data
    assert data["geocoding"]["share_geocoded"] == pytest.approx(19 / 25)
    assert data["coverage"]["gaps"] == ["2024-03", "2024-04"]
    assert type(data["accepted"]) is int
    with pytest.raises(AttributeError):
        city.report.accepted = 0  # type: ignore[misc]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_write_quality_html_and_json(city: City, tmp_path: Path, lang: str) -> None:
    json_path, html_path = write_quality(city.report, tmp_path / "out", lang=lang)
    assert (json_path.name, html_path.name) == ("quality.json", "quality.html")
    assert json.loads(json_path.read_text(encoding="utf-8")) == city.report.to_dict()
    html = html_path.read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in html
    assert escape(label("quality.title", lang)) in html
    assert "<style>" in html and "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # nothing fetched from elsewhere
    assert html.count("http://") == html.count('xmlns="http://www.w3.org/2000/svg"')
    # the chart: one bar per month, the two gap months highlighted, with a text alternative
    assert html.count('<rect class="bar') == 5
    assert html.count('class="bar gap"') == 2
    assert "<desc" in html and 'role="img"' in html
    assert escape(label("coverage.chart", lang, first="2024-01", last="2024-05", gaps="2024-03, 2024-04")) in html
    # numbers in the language's format
    assert fmt_share(19 / 25, lang) in html
    assert escape(label("reason.swapped_coordinates", lang)) in html


def test_html_localises_numbers_and_iccs_names(city: City) -> None:
    assert "76.0%" in render_quality_html(city.report, "en")
    es = render_quality_html(city.report, "es")
    fr = render_quality_html(city.report, "fr")
    assert "76,0\u00a0%" in es and "76,0\u00a0%" in fr
    assert iccs.name("05", "es") in es and iccs.name("05", "fr") in fr
    with pytest.raises(sc.InputError, match="'lang' parameter"):
        render_quality_html(city.report, "de")


def test_print_quality(city: City) -> None:
    console = Console(record=True, width=140)
    print_quality(city.report, console)
    text = console.export_text()
    for needle in ("Data quality report", "Rows read", "76.0%", "2024-03, 2024-04", "Missing coordinates", "Row 20"):
        assert needle in text
    console = Console(record=True, width=140)
    print_quality(city.report, console, lang="es")
    assert "Filas leídas" in console.export_text()


def test_replaced_import_listed_but_counted_once(city: City, tmp_path: Path) -> None:
    root = city.first.parent
    with init(tmp_path / "ws", name="Demo", crs="EPSG:32614", timezone="America/Mexico_City") as ws:
        ws.import_areas(root / "areas.geojson", id="cid", name="nombre", population="pob")
        ws.import_incidents(city.second, mapping=root / "map2.toml")
        ws.import_incidents(city.second, mapping=root / "map2.toml", replace=True)
        report = quality_report(ws)
    assert [(i.status, i.rows_read) for i in report.imports] == [("replaced", 4), ("committed", 4)]
    # F003 is new in this workspace: only the missing date is rejected
    assert (report.rows_read, report.accepted, report.rejected) == (4, 3, 1)
    assert report.rejects_by_reason() == {"missing_date": 1}


def test_empty_workspace(tmp_path: Path) -> None:
    with init(tmp_path / "ws", name="Vacía", crs="EPSG:32614") as ws:
        report = quality_report(ws)
    assert (report.rows_read, report.accepted, report.rejected) == (0, 0, 0)
    assert report.geocoding.share_geocoded is None and report.delays.count == 0
    assert report.coverage.months == () and report.sections == ()
    assert all(v is None for v in report.delays.quantiles.values())
    _, html = write_quality(report, tmp_path / "out", lang="fr")
    assert escape(label("coverage.empty", "fr")) in html.read_text(encoding="utf-8")
    print_quality(report, Console(record=True, width=100))


def test_labels_complete_in_every_language() -> None:
    placeholders = re.compile(r"{(\w+)}")
    for key, texts in LABELS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(texts[lang].strip() for lang in LANGUAGES), key
        names = {lang: sorted(placeholders.findall(texts[lang])) for lang in LANGUAGES}
        assert names["es"] == names["en"] == names["fr"], key


# The simulated city's messy rows (sim.messy.KINDS) and the reason the importer gives each.
SIM_REASONS = {
    "unparseable_date": "bad_date",
    "future_date": "future_date",
    "missing_coordinates": "missing_coordinates",
    "swapped_lat_lon": "swapped_coordinates",
    "outside_city": "outside_areas",
    "missing_offence": "missing_offence",
    "duplicate_folio": "duplicate_id",
}


def test_simulated_city_rejects_match_its_truth(tmp_path: Path) -> None:
    sim = pytest.importorskip("safercities.sim")
    if not hasattr(sim, "simulate"):
        pytest.skip("safercities.sim.simulate is not there yet")
    city = sim.simulate(tmp_path / "city", seed=0, n_communities=12, n_districts=2, years=1)
    truth = json.loads(city.truth_path.read_text(encoding="utf-8"))
    where = truth["workspace"]
    with init(tmp_path / "ws", name="Sim", crs=where["crs"], timezone=where["timezone"]) as ws:
        ws.import_areas(
            city.areas, id="area_id", name="name", population="population", level="level", parent="parent_id"
        )
        ws.import_incidents(city.incidents, mapping=city.mapping)
        report = quality_report(ws)
    planted = {SIM_REASONS[kind]: n for kind, n in truth["messy"].items() if n}
    assert report.rejects_by_reason() == planted
    assert (report.rows_read, report.accepted) == (truth["file"]["rows"], truth["file"]["valid_rows"])
    assert report.rejected == sum(planted.values())
    assert report.duplicates.rejected_duplicate_id == truth["messy"]["duplicate_folio"]
    placed = ("missing_coordinates", "swapped_coordinates", "outside_areas")
    not_placed = sum(planted.get(k, 0) for k in placed)
    assert report.geocoding.share_geocoded == pytest.approx(report.accepted / (report.accepted + not_placed))
    assert sum(m.count for m in report.coverage.months) == report.accepted
    assert sum(s.count for s in report.sections) == report.accepted
