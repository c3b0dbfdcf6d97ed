"""Community selection for fieldwork: strata, lots, reproducibility, reasons in three languages, the map.

On the hand-built city of tests/analysiskit.py (17 communities, robbery rates known by construction) and on the
simulated city (60 communities: enough for the default 10 high, 5 medium, 5 low).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import safercities as sc
from safercities.audit.selection import STRATA, select_communities
from safercities.errors import InputError
from safercities.sim import simulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import analysiskit  # noqa: E402

SMALL = {"high": 3, "medium": 2, "low": 2}


def _robbery(ws: Any) -> pd.Series:
    rates = ws.rates(by="year")
    return rates[rates["iccs_section"] == "04"].groupby("area_id")["rate"].mean().rename("robbery rate")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, pd.Series, Any]]:
    city = analysiskit.build(tmp_path_factory.mktemp("selection"))
    with sc.open(city.root) as ws:
        yield city, _robbery(ws), ws.areas(level="community")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pd.Series, Any]]:
    folder = tmp_path_factory.mktemp("selection-sim")
    city = simulate(folder / "source", seed=0)
    ws = sc.init(folder / "ws", name="Ciudad", crs=city.crs, timezone=city.timezone)
    with ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
        yield _robbery(ws), ws.areas(level="community")


def test_the_hand_built_city_is_what_analysiskit_says(built: tuple[Any, pd.Series, Any]) -> None:
    city, robbery, _ = built
    # robbery rate = (col + 2 row) per 1000 (col + 4 row + 1) residents per year, the park K11 has no rate
    expected = pd.Series(
        {
            a: (int(a[1]) + 2 * int(a[2])) / (1000 * (1 + int(a[1]) + 4 * int(a[2]))) * 1e5
            for a in city.ids
            if a != "K50"
        }
    )
    expected["K50"] = 3 / 2000 * 1e5
    got = robbery.reindex(expected.index)
    assert np.isnan(got["K11"])
    np.testing.assert_allclose(got.drop("K11"), expected.drop("K11"))


def test_strata_are_the_city_tertiles(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    selection = select_communities(areas, robbery, counts=SMALL, seed=0)
    table = selection.areas.set_index("area_id")
    valued = robbery.dropna()
    # an independent cut: pandas' quantile bins (right-closed, as the rule low <= c1 < medium <= c2 < high)
    qcut = pd.qcut(valued, 3, labels=["low", "medium", "high"])
    assert table.loc[valued.index, "stratum"].tolist() == qcut.astype(str).tolist()
    assert table.loc["K11", "status"] == "no_value" and pd.isna(table.loc["K11", "stratum"])
    counts = selection.table.groupby("stratum").size()
    assert counts.to_dict() == SMALL
    c1, c2 = selection.cuts
    chosen = selection.table.set_index("area_id")
    assert (chosen.loc[chosen["stratum"] == "high", "value"] > c2).all()
    assert chosen.loc[chosen["stratum"] == "medium", "value"].between(c1, c2, inclusive="right").all()
    assert (chosen.loc[chosen["stratum"] == "low", "value"] <= c1).all()
    # rank 1 is the highest value (K50, 150 per 100,000)
    assert table.loc["K50", "rank"] == 1


def test_the_draw_takes_the_lowest_lots_of_each_stratum(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    selection = select_communities(areas, robbery, counts=SMALL, seed=11)
    table = selection.areas

    def lot(area: str) -> float:  # the documented rule, recomputed here
        return int.from_bytes(hashlib.sha256(f"11:{area}".encode()).digest()[:8], "big") / 2**64

    np.testing.assert_allclose(table["lot"], [lot(a) for a in table["area_id"]])
    for stratum in STRATA:
        members = table[table["stratum"] == stratum].sort_values("lot")
        assert members["selected"].tolist() == [True] * SMALL[stratum] + [False] * (len(members) - SMALL[stratum])


def test_same_seed_same_selection_other_seed_other_selection(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    first = select_communities(areas, robbery, counts=SMALL, seed=3).table
    again = select_communities(areas.sample(frac=1.0, random_state=1), robbery.sample(frac=1.0, random_state=2),
                               counts=SMALL, seed=3).table  # fmt: skip
    pd.testing.assert_frame_equal(first, again)  # input order does not matter
    stamped = select_communities(areas, robbery, counts=SMALL, seed=3).provenance
    assert stamped["function"] == "select_communities" and stamped["parameters"]["seed"] == 3
    assert stamped["input_sha256"] == select_communities(areas, robbery, seed=4).provenance["input_sha256"]
    others = {
        tuple(sorted(select_communities(areas, robbery, counts=SMALL, seed=s).table["area_id"])) for s in range(6)
    }
    assert len(others) > 1


def test_exclusions_are_never_drawn_and_do_not_reshuffle_the_rest(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    before = select_communities(areas, robbery, counts=SMALL, seed=0)
    chosen = before.table
    dropped = chosen.iloc[0]["area_id"]
    after = select_communities(areas, robbery, counts=SMALL, seed=0, exclude=[dropped])
    assert dropped not in set(after.table["area_id"])
    assert after.areas.set_index("area_id").loc[dropped, "status"] == "excluded"
    # the other strata are untouched, and in the dropped area's stratum only its replacement is new
    stratum = chosen.iloc[0]["stratum"]
    same = chosen[chosen["stratum"] != stratum]
    pd.testing.assert_frame_equal(
        after.table[after.table["stratum"] != stratum].reset_index(drop=True), same.reset_index(drop=True)
    )
    kept = set(chosen.loc[chosen["stratum"] == stratum, "area_id"]) - {dropped}
    assert kept < set(after.table.loc[after.table["stratum"] == stratum, "area_id"])
    assert before.cuts == after.cuts  # strata describe the city, exclusions only who may be visited


def test_given_cuts_and_a_shortfall(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    selection = select_communities(areas, robbery, counts={"high": 2, "medium": 2, "low": 2}, cuts=(40.0, 100.0))
    table = selection.areas.set_index("area_id")
    assert table.loc["K50", "stratum"] == "high" and (table["stratum"] == "high").sum() == 1
    assert selection.cut_rule == "given"
    assert selection.table.groupby("stratum").size().to_dict() == {"high": 1, "medium": 2, "low": 2}
    assert selection.warnings == ("stratum high: 2 wanted but only 1 eligible communities; all were taken",)


def test_reasons_in_three_languages(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    selection = select_communities(areas, robbery, counts=SMALL, seed=0, language="es")
    row = selection.table.iloc[0]
    assert row["stratum"] == "high"
    assert row["reason"].startswith("Estrato alto (valor superior a ")
    assert f"posición {int(row['rank'])} de 16" in row["reason"] and "semilla 0" in row["reason"]
    assert "Strate haute" in selection.in_language("fr").iloc[0]["reason"]
    english = selection.with_language("en").table.iloc[0]["reason"]
    assert english.startswith("Stratum high (value above ") and "robbery rate = " in english
    with pytest.raises(InputError, match="'language'"):
        selection.in_language("de")


def test_the_map(built: tuple[Any, pd.Series, Any], tmp_path: Path) -> None:
    _, robbery, areas = built
    selection = select_communities(areas, robbery, counts=SMALL, exclude=["K00"], language="fr")
    path = selection.map_png(tmp_path / "selection.png", areas)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    with pytest.raises(InputError, match="not in the areas given"):
        selection.map_png(tmp_path / "x.png", areas[~areas["area_id"].isin(selection.table["area_id"])])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exclude": ["K99"]}, "cannot exclude"),
        ({"counts": {"high": 2, "very high": 1}}, "unknown strata"),
        ({"counts": {"high": -1}}, "integer >= 0"),
        ({"cuts": (5.0, 1.0)}, "c1 <= c2"),
        ({"seed": -1}, "'seed'"),
        ({"language": "de"}, "'language'"),
    ],
)
def test_bad_settings_are_named(built: tuple[Any, pd.Series, Any], kwargs: dict[str, Any], message: str) -> None:
    _, robbery, areas = built
    with pytest.raises(InputError, match=message):
        select_communities(areas, robbery, **kwargs)


def test_values_for_unknown_areas_are_refused(built: tuple[Any, pd.Series, Any]) -> None:
    _, robbery, areas = built
    with pytest.raises(InputError, match="not among the areas"):
        select_communities(areas, pd.concat([robbery, pd.Series({"Z9": 1.0})]))
    with pytest.raises(InputError, match="is not a number"):
        select_communities(areas, robbery.astype(object).where(robbery.index != "K00", "many"))


def test_default_counts_on_the_simulated_city(simulated: tuple[pd.Series, Any], tmp_path: Path) -> None:
    robbery, areas = simulated
    assert len(areas) == 60
    selection = select_communities(areas, robbery, seed=2024)
    assert selection.table.groupby("stratum").size().to_dict() == {"high": 10, "medium": 5, "low": 5}
    assert selection.warnings == ()
    again = select_communities(areas, robbery, seed=2024)
    pd.testing.assert_frame_equal(selection.table, again.table)
    strata = selection.areas.dropna(subset=["stratum"])
    assert strata.groupby("stratum").size().min() >= 19  # thirds of 60 (ties may move one)
    high = strata[strata["stratum"] == "high"]["value"]
    low = strata[strata["stratum"] == "low"]["value"]
    assert high.min() > low.max()
    assert selection.map_png(tmp_path / "sim.png", areas).exists()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 30).map(float)), min_size=3, max_size=40),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 2**32),
)
def test_any_city_gets_what_each_stratum_can_give(
    values: list[float | None], h: int, m: int, lo: int, seed: int
) -> None:
    ids = [f"A{i:02d}" for i in range(len(values))]
    series = pd.Series(values, index=ids, dtype=float)
    if series.notna().sum() < 3:
        return
    areas = pd.DataFrame({"area_id": ids})
    selection = select_communities(areas, series, counts={"high": h, "medium": m, "low": lo}, seed=seed)
    table = selection.areas
    chosen = table[table["selected"]]
    assert chosen["value"].notna().all()
    sizes = table.groupby("stratum").size()
    for stratum, wanted in (("high", h), ("medium", m), ("low", lo)):
        assert (chosen["stratum"] == stratum).sum() == min(wanted, int(sizes.get(stratum, 0)))
    assert len(selection.table) == len(chosen)
