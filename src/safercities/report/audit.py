"""The safety-audit report in any of the three languages, from an audit bundle (the figures are the bundle's:
nothing is recomputed, so the report in French says what the Spanish one said)."""

from __future__ import annotations

from types import SimpleNamespace

from safercities.audit.framework import load_framework
from safercities.audit.run import TABLES, AuditBundle, selection_series
from safercities.audit.summary import render_summary
from safercities.errors import InputError


def audit_report_html(bundle: AuditBundle, lang: str) -> str:
    """The bundle's summary rendered in ``lang`` (a framework file of the city's own must be re-run instead)."""
    source = str(bundle.manifest["inputs"]["framework"]["file"])
    if not source.startswith("shipped:"):
        raise InputError(
            f"the audit used the framework file {source}, which the bundle does not hold",
            hint=f"run the audit again with --lang {lang}",
        )
    framework = load_framework(source.split(":", 1)[1])
    tables = {name: bundle.table(name) for name in TABLES}
    which = str(bundle.manifest["parameters"]["selection_indicator"])
    _, label = selection_series(which, tables["dimension_scores"], tables["indicator_values"], framework, lang)
    manifest = dict(bundle.manifest) | {"parameters": dict(bundle.manifest["parameters"]) | {"_selection_label": label}}
    selection = SimpleNamespace(indicator=label)
    return render_summary(manifest, tables, framework, selection, bundle.map_png, lang)
