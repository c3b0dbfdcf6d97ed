"""The method pages in docs/methods run: every ```python block of a page is executed, in order, on the synthetic city.

The city is simulated once (seed 0) and imported as ``safercities demo`` imports it; each page's blocks then run
in one namespace holding ``ws`` (the open workspace), ``city`` (the :class:`~safercities.sim.SimulatedCity`),
``np``, ``pd`` and ``sc``. The examples end with ``assert`` lines that compare the result with the city's known
truth or an independent computation, so a page whose numbers no longer hold fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import safercities as sc
from safercities.sim import simulate

METHODS = Path(__file__).resolve().parents[1] / "docs" / "methods"
PAGES = sorted(p for p in METHODS.glob("*.md") if p.name != "README.md")
EXPECTED_PAGES = {
    "rates.md",
    "concentration.md",
    "grids.md",
    "density.md",
    "weights.md",
    "autocorrelation.md",
    "hotspots.md",
    "regression.md",
}
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
DEMO_CRS, DEMO_TZ = "EPSG:32614", "America/Mexico_City"  # as `safercities demo` (cli/sim_cmds.py) builds it


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, source) of every ```python fenced block of a Markdown page."""
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The synthetic city (seed 0) and its workspace, built as `safercities demo` builds them."""
    folder = tmp_path_factory.mktemp("method-docs")
    city = simulate(folder / "source", seed=0)
    ws = sc.init(folder / "workspace", name="Ciudad Demo", crs=DEMO_CRS, lang="es", timezone=DEMO_TZ)
    with ws:
        ws.import_areas(city.areas, id="area_id", name="name", population="population", level="level",
                        parent="parent_id")  # fmt: skip
        ws.import_incidents(city.incidents, mapping=city.mapping)
        yield ws, city


def test_every_method_has_its_page_and_the_index_lists_them() -> None:
    names = {p.name for p in PAGES}
    assert names >= EXPECTED_PAGES, f"missing method pages: {sorted(EXPECTED_PAGES - names)}"
    index = (METHODS / "README.md").read_text(encoding="utf-8")
    unlisted = [name for name in sorted(names) if f"({name})" not in index]
    assert not unlisted, f"docs/methods/README.md does not link {unlisted}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_method_page_examples_run(page: Path, demo: tuple[Any, Any]) -> None:
    text = page.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert blocks, f"{page.name} has no ```python example"
    assert re.search(r"^#+\s*References\b", text, re.MULTILINE), f"{page.name} has no 'References' section"
    ws, city = demo
    namespace: dict[str, Any] = {"ws": ws, "city": city, "np": np, "pd": pd, "sc": sc, "__name__": "__doc__"}
    for number, (line, source) in enumerate(blocks, start=1):
        code = compile(source, f"{page.name}:block{number}(line {line})", "exec")
        try:
            exec(code, namespace)
        except Exception as exc:  # name the page and the block, keep the cause
            raise AssertionError(f"{page.name}, python block {number} (line {line}) failed: {exc!r}") from exc
