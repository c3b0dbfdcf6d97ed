"""The safety-audit report in three languages from one bundle: in the bundle's language it is the bundle's
own summary, byte for byte; in the others the same figures, other words."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import safercities as sc  # noqa: E402
from clikit import assert_one_line_error, invoke, words  # noqa: E402
from safercities.audit.run import run_audit  # noqa: E402
from safercities.report.audit import audit_report_html  # noqa: E402
from safercities.sim import simulate  # noqa: E402
from safercities.sim.sources import add_sources, import_sources  # noqa: E402


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("auditreport")
    city = simulate(folder / "source", seed=4)
    add_sources(city)
    with sc.init(folder / "ws", name="Ciudad", crs="EPSG:32614", lang="es", timezone="America/Mexico_City") as ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
        import_sources(ws, folder / "source")
        run_audit(ws, draws=200, replications=50)
    return folder / "ws"


def test_in_the_bundle_language_the_report_is_the_bundle_summary(root: Path) -> None:
    from safercities.audit.run import latest_audit

    with sc.open(root, read_only=True) as ws:
        bundle = latest_audit(ws)
        assert bundle is not None
        assert audit_report_html(bundle, "es") == bundle.summary_html.read_text(encoding="utf-8")
        french = audit_report_html(bundle, "fr")
    assert 'lang="fr"' in french and french != bundle.summary_html.read_text(encoding="utf-8")


def test_cli_writes_the_report_as_pdf_and_says_when_there_is_no_audit(root: Path, tmp_path: Path) -> None:
    code, output = invoke("report", "audit", "-o", tmp_path / "audit.pdf", "--lang", "en", "-w", root)
    assert code == 0, output
    assert "wrote" in words(output) and (tmp_path / "audit.pdf").read_bytes().startswith(b"%PDF-")
    empty = sc.init(tmp_path / "empty", name="Vacía", crs="EPSG:32614")
    empty.close()
    assert_one_line_error(*invoke("report", "audit", "-o", tmp_path / "x.html", "-w", tmp_path / "empty"), "no audit")
