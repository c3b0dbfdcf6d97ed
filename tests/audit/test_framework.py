"""The indicator framework as data: the shipped frameworks, and every way a framework file can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from safercities.audit.formula import (
    Aggregate,
    AreaColumn,
    Estimate,
    FormulaError,
    IndicatorRef,
    Source,
    evaluate,
    parse_formula,
)
from safercities.audit.framework import DIRECTIONS, load_framework, shipped_frameworks
from safercities.errors import InputError
from safercities.stats.rates import poisson_rate

VOCAB_DIMENSIONS = [
    "crime",
    "security_justice",
    "economy",
    "social",
    "health",
    "education",
    "urban",
    "cohesion",
    "governance",
]


# -- the shipped frameworks ---------------------------------------------------------------------------
def test_the_default_framework_has_the_nine_dimensions_and_sixty_indicators() -> None:
    fw = load_framework()
    assert [d.id for d in fw.dimensions] == VOCAB_DIMENSIONS
    assert len(fw.indicators) >= 60
    assert all(len(d.indicator_ids) >= 5 for d in fw.dimensions)
    assert len(set(fw.ids)) == len(fw.ids)
    for indicator in fw.indicators:
        for text in (indicator.name, indicator.definition):
            assert set(text) == {"en", "es", "fr"} and all(len(v) > 3 for v in text.values()), indicator.id
        assert indicator.name["en"] != indicator.name["es"], indicator.id  # translated, not copied
        assert indicator.direction in DIRECTIONS
        assert indicator.unit in fw.units and indicator.source in fw.sources


def test_the_default_framework_expresses_the_four_kinds_of_formula() -> None:
    fw = load_framework()
    robbery = fw.indicator("robbery_rate").formula
    assert robbery is not None and robbery.text == 'count(incidents, iccs="0401") / areas.population * 100000'
    share = fw.indicator("violent_robbery_share").formula
    assert share is not None and "share(" in share.text
    density = fw.indicator("crime_density").formula
    assert density is not None and density.tables == {"incidents", "areas"} and "area_km2" in density.text
    ratio = fw.indicator("youth_unemployment_ratio").formula
    assert ratio is not None and ratio.indicators == {"youth_unemployment_rate", "unemployment_rate"}
    assert all(fw.indicator(i).imported for i in ratio.indicators)


def test_sdg_and_iso_mappings_are_indicator_numbers_and_match_their_subject() -> None:
    fw = load_framework()
    # SDG global indicator framework (A/RES/71/313, 2024 refinement) and ISO 37120:2014 numbers
    expected = {
        "homicide_rate": ("16.1.1", "14.2"),
        "feeling_safe_after_dark": ("16.1.4", None),
        "crime_reporting_rate": ("16.3.1", None),
        "unsentenced_detainees": ("16.3.2", None),
        "bribery_prevalence": ("16.5.1", None),
        "harassment_public_space": ("11.7.2", None),
        "unemployment_rate": ("8.5.2", "5.1"),
        "neet_youth_share": ("8.6.1", None),
        "police_officers_rate": (None, "14.1"),
        "violent_crime_rate": (None, "14.5"),
        "property_crime_rate": (None, "14.3"),
        "under5_mortality": ("3.2.1", "12.4"),
    }
    for indicator_id, (sdg, iso) in expected.items():
        indicator = fw.indicator(indicator_id)
        assert (indicator.sdg, indicator.iso37120) == (sdg, iso), indicator_id
    assert fw.iso37120_edition == "2014"
    assert sum(i.sdg is not None for i in fw.indicators) >= 20


def test_the_usm_framework_has_its_three_themes_and_shares_ids_with_the_default() -> None:
    usm, default = load_framework("usm"), load_framework("default")
    assert [d.id for d in usm.dimensions] == ["usm_crime", "usm_community", "usm_governance"]
    shared = set(usm.ids) & set(default.ids)
    assert len(shared) >= 15
    for indicator_id in shared:  # the same id means the same thing in both
        a, b = usm.indicator(indicator_id), default.indicator(indicator_id)
        assert (a.definition, a.unit, a.direction) == (b.definition, b.unit, b.direction)
    assert shipped_frameworks() == ["default", "usm"]


def test_formula_indicators_come_after_what_they_refer_to() -> None:
    fw = load_framework()
    order = [i.id for i in fw.evaluation_order()]
    assert order.index("alcohol_outlets") < order.index("alcohol_outlet_density")
    assert order.index("unemployment_rate") < order.index("youth_unemployment_ratio")
    assert sorted(order) == sorted(fw.ids)


# -- refused framework files ----------------------------------------------------------------------------
MINIMAL = """\
id: mine
version: "1"
name: {en: Mine, es: Mío, fr: Le mien}
description: {en: A test, es: Una prueba, fr: Un essai}
units:
  per_100k: {en: per 100k, es: por 100 mil, fr: pour 100 000}
  percent: {en: percent, es: por ciento, fr: pour cent}
sources:
  police: {en: Police, es: Policía, fr: Police}
dimensions:
  - id: crime
    name: {en: Crime, es: Delito, fr: Crime}
    indicators:
      - id: robbery_rate
        name: {en: Robbery rate, es: Tasa de robo, fr: Taux de vol}
        definition: {en: Robberies per 100k, es: Robos por 100 mil, fr: Vols pour 100 000}
        unit: per_100k
        direction: higher_is_worse
        source: police
        formula: count(incidents, iccs="0401") / areas.population * 100000
      - id: fear
        name: {en: Fear, es: Miedo, fr: Peur}
        definition: {en: Share afraid, es: Proporción con miedo, fr: Part ayant peur}
        unit: percent
        direction: higher_is_worse
        source: police
        sdg: "16.1.4"
        formula: imported
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "framework.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_a_minimal_framework_loads(tmp_path: Path) -> None:
    fw = load_framework(_write(tmp_path, MINIMAL))
    assert fw.ids == ("robbery_rate", "fear")
    assert fw.indicator("fear").sdg == "16.1.4" and fw.indicator("fear").imported
    assert fw.indicator("robbery_rate").line == _line_of(MINIMAL, "- id: robbery_rate")
    assert len(fw.sha256) == 64


@pytest.mark.parametrize(
    ("old", "new", "fragment", "words"),
    [
        (
            'count(incidents, iccs="0401")',
            'count(crimes, iccs="0401")',
            "formula: count(crimes",
            ["unknown table 'crimes'"],
        ),
        ("areas.population", "areas.inhabitants", "formula: count(", ["unknown column 'areas.inhabitants'"]),
        ('iccs="0401"', 'offence="0401"', "formula: count(", ["unknown column 'incidents.offence'"]),
        ("* 100000", "* * 100000", "formula: count(", ["formula: does not parse"]),
        ("/ areas.population", "/ __import__('os')", "formula: count(", ["unknown function '__import__'"]),
        ("formula: imported", "formula: fear * 2", "formula: fear", ["refers to itself"]),
        ("formula: imported", "formula: robbery_rate ** 2", "formula: robbery_rate", ["operator Pow"]),
        ("- id: fear", "- id: robbery_rate", "- id: robbery_rate\n", ["duplicate id"]),
        ("fr: Taux de vol}", "}", "name: {en: Robbery rate", ["missing translation 'fr'"]),
        ("unit: percent", "unit: percentage", "unit: percentage", ["unknown unit"]),
        (
            "direction: higher_is_worse\n        source: police\n        sdg",
            "direction: worse\n        source: police\n        sdg",
            "direction: worse",
            ["unknown direction"],
        ),
        ('sdg: "16.1.4"', 'sdg: "16.x"', "sdg:", ["is not an indicator number"]),
        ("formula: imported", "formula:", "- id: fear", ["missing formula"]),
        (
            "        formula: imported",
            "        formula: imported\n        colour: red",
            "colour: red",
            ["unknown key 'colour'"],
        ),
    ],
)
def test_a_wrong_framework_is_refused_naming_the_indicator_and_the_line(
    tmp_path: Path, old: str, new: str, fragment: str, words: list[str]
) -> None:
    assert old in MINIMAL
    text = MINIMAL.replace(old, new, 1) if old != "- id: fear" else MINIMAL.replace(old, new)
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_framework(path)
    message = str(caught.value)
    line = _line_of(text, fragment.rstrip("\n")) if "\n" not in fragment else _line_of(text, fragment.strip()) + 0
    if fragment == "- id: robbery_rate\n":  # the second definition is the duplicate
        line = [n for n, t in enumerate(text.splitlines(), 1) if "- id: robbery_rate" in t][1]
    assert str(path) in message
    assert f"line {line}:" in message, message
    for word in words:
        assert word in message, message
    assert re.search(r"indicator '(robbery_rate|fear)'", message), message


def test_indicators_that_refer_to_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        'formula: count(incidents, iccs="0401") / areas.population * 100000', "formula: fear / 2"
    ).replace("formula: imported", "formula: robbery_rate * 2")
    with pytest.raises(InputError, match=r"in a circle: (robbery_rate -> fear -> robbery_rate|fear -> robbery_rate)"):
        load_framework(_write(tmp_path, text))


def test_broken_yaml_and_repeated_keys_are_refused_with_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 3: not valid YAML: mapping values are not allowed here"):
        load_framework(_write(tmp_path, "id: x\nversion: 1\n  bad: y\nname: z\n"))
    text = MINIMAL.replace("        unit: percent\n", "        unit: percent\n        unit: per_100k\n")
    line = [n for n, t in enumerate(text.splitlines(), 1) if "unit: per_100k" in t][-1]
    with pytest.raises(InputError, match=rf"line {line}: indicator 'fear': the key 'unit' appears twice"):
        load_framework(_write(tmp_path, text))


def test_an_unknown_framework_name_lists_the_shipped_ones() -> None:
    with pytest.raises(InputError, match="shipped: default, usm"):
        load_framework("querétaro")


# -- the formula language --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "open('x').read()",
        "incidents.area_id",
        "count(incidents)[0]",
        "lambda: 1",
        "count(incidents, **{'iccs': '01'})",
        "count(incidents, iccs=population)",
        "1 if count(incidents) else 2",
        "'text'",
        "count(incidents) > 3",
        "sum(incidents)",
        "share(count(incidents))",
    ],
)
def test_the_formula_language_refuses_what_it_does_not_know(text: str) -> None:
    with pytest.raises(FormulaError):
        parse_formula(text)


def test_a_formula_parses_into_its_parts() -> None:
    formula = parse_formula('count(incidents, iccs=["01", "02"]) / areas.area_km2 + other_indicator')
    assert formula.tables == {"incidents", "areas"}
    assert formula.indicators == {"other_indicator"}
    aggregate = formula.tree.left.left  # type: ignore[union-attr]
    assert aggregate == Aggregate("count", "incidents", None, (("iccs", ("01", "02")),))
    assert formula.tree.left.right == AreaColumn("area_km2")  # type: ignore[union-attr]
    assert formula.tree.right == IndicatorRef("other_indicator")  # type: ignore[union-attr]


class _Fixed(Source):
    """Counts and populations given by hand."""

    def __init__(self, counts: dict[str, np.ndarray], population: np.ndarray) -> None:
        self.counts, self.population, self.n_areas = counts, population, len(population)

    def aggregate(self, node: Aggregate) -> np.ndarray:
        key = ",".join(str(v) for _, values in node.filters for v in values) or "all"
        return self.counts[key]

    def area_column(self, column: str) -> np.ndarray:
        return self.population

    def indicator(self, indicator_id: str) -> Estimate:
        raise KeyError(indicator_id)


def test_a_rate_formula_carries_the_exact_poisson_interval_of_stats_rates() -> None:
    counts = np.array([0.0, 1.0, 7.0, 40.0, 250.0, np.nan])
    population = np.array([5000.0, 800.0, 12000.0, 30000.0, 0.0, 1000.0])
    source = _Fixed({"0401": counts}, population)
    got = evaluate(parse_formula('count(incidents, iccs="0401") / areas.population * 100000'), source)
    ok = np.isfinite(counts) & (population > 0)
    expected = poisson_rate(counts[ok].astype(int), population[ok], per=100_000)
    np.testing.assert_allclose(got.value[ok], expected.rate, rtol=1e-12)
    np.testing.assert_allclose(got.lower[ok], expected.lower, rtol=1e-12)  # type: ignore[index]
    np.testing.assert_allclose(got.upper[ok], expected.upper, rtol=1e-12)  # type: ignore[index]
    np.testing.assert_allclose(got.se[ok], np.sqrt(counts[ok]) / population[ok] * 1e5, rtol=1e-12)  # type: ignore[index]
    assert np.isnan(got.value[~ok]).all()  # no population or no data: NaN, never zero or infinity


def test_a_share_of_two_counts_has_the_clopper_pearson_interval_of_statsmodels() -> None:
    part, whole = np.array([0.0, 3.0, 12.0, 50.0, 5.0]), np.array([10.0, 40.0, 12.0, 200.0, 0.0])
    source = _Fixed({"04": part, "all": whole}, np.ones(5))
    got = evaluate(parse_formula('100 * share(count(incidents, iccs="04"), count(incidents))'), source)
    lower, upper = proportion_confint(part[:4].astype(int), whole[:4].astype(int), alpha=0.05, method="beta")
    np.testing.assert_allclose(got.value[:4], 100 * part[:4] / whole[:4])
    np.testing.assert_allclose(got.lower[:4], 100 * lower, rtol=1e-9, atol=1e-12)  # type: ignore[index]
    np.testing.assert_allclose(got.upper[:4], 100 * upper, rtol=1e-9, atol=1e-12)  # type: ignore[index]
    assert np.isnan(got.value[4]) and np.isnan(got.lower[4])  # type: ignore[index]


def test_two_uncertain_terms_give_an_unknown_interval_not_a_made_up_one() -> None:
    a, b = np.array([5.0, 9.0]), np.array([10.0, 3.0])
    got = evaluate(
        parse_formula('count(incidents, iccs="01") / count(incidents, iccs="02")'),
        _Fixed({"01": a, "02": b}, np.ones(2)),
    )
    np.testing.assert_allclose(got.value, a / b)
    assert np.isnan(got.lower).all() and np.isnan(got.upper).all()  # type: ignore[union-attr]


def test_a_decreasing_operation_swaps_the_interval_ends() -> None:
    counts = np.array([4.0, 20.0])
    got = evaluate(parse_formula('1000 - count(incidents, iccs="01") * 2'), _Fixed({"01": counts}, np.ones(2)))
    rate = poisson_rate(counts.astype(int), np.ones(2), per=1)
    np.testing.assert_allclose(got.lower, 1000 - 2 * rate.upper)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.upper, 1000 - 2 * rate.lower)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.se, 2 * np.sqrt(counts))  # type: ignore[arg-type]
