"""Every message of the dashboard is translated into Spanish and French, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import safercities
from safercities import i18n

PACKAGE = Path(safercities.__file__).resolve().parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


def _messages() -> set[str]:
    """Every gettext message of the dashboard and of the reports."""
    messages: set[str] = set()
    for folder in ("web", "report"):
        found = extract_from_dir(
            PACKAGE / folder,
            method_map=[("templates/**.j2", "jinja2.ext:babel_extract"), ("**.py", "python")],
            options_map={"templates/**.j2": {"extensions": "jinja2.ext.i18n"}},
        )
        messages |= {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}
    return messages - {""}


@pytest.mark.parametrize("lang", ["es", "fr"])
def test_every_message_is_translated(lang: str) -> None:
    with (PACKAGE / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    messages = _messages()
    assert len(messages) > 50
    missing, broken = [], []
    for message in sorted(messages):
        entry = catalog.get(message)
        if entry is None or not entry.string:
            missing.append(message)
        elif sorted(PLACEHOLDER.findall(message)) != sorted(PLACEHOLDER.findall(str(entry.string))):
            broken.append(message)
    assert not missing, f"untranslated in {lang}: {missing}"
    assert not broken, f"placeholders differ in {lang}: {broken}"


def test_translations_load_and_numbers_follow_the_locale() -> None:
    assert i18n.translations("es").gettext("Overview") == "Panorama"
    assert i18n.translations("fr").gettext("Overview") == "Vue d'ensemble"
    assert i18n.number(12345.6, "en", 1) == "12,345.6"
    assert i18n.number(12345.6, "fr", 1).replace("\u202f", " ").replace("\u00a0", " ") == "12 345,6"
    assert i18n.day("2026-11-25", "es") == "25 de noviembre de 2026"


@pytest.mark.parametrize("lang", ["en", "es", "fr"])
@pytest.mark.parametrize("value", [0, 7, -3.25, 1234.5, 999999.95, 12345678.123, 0.049])
@pytest.mark.parametrize("digits", [0, 1, 2])
def test_fast_numbers_are_babels_numbers(lang: str, value: float, digits: int) -> None:
    assert i18n.number(value, lang, digits) == i18n.number_babel(value, lang, digits)
