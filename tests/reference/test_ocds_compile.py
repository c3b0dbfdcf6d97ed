"""Release -> compiled release against OCDS Kit's expected outputs on real publications.

Reference: ``../shared/data/ocds_real_cdmx_mx_py`` (open-contracting/ocdskit @ 7bfe1956,
tests/fixtures/realdata): ``ocdskit compile`` of Mexico City's release packages gives
``compiled-release-1.json`` / ``-2.json`` and, with ``--package``, ``record-package_package.json``;
``../shared/data/ocds_fictional_example`` (open-contracting/sample-data @ 703affda): the record package
made by ``ocdskit compile --package --linked-releases``. Tolerance: the JSON is equal, value for value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safercities.procurement.compile import compile_releases
from safercities.procurement.ocds import read_publication


def _compiled(path: Path) -> list[dict]:
    publication = read_publication(path)
    return [release for release, _ in compile_releases(publication.releases, publication.compiled)]


@pytest.mark.parametrize("n", ["1", "2"])
def test_cdmx_compiled_release(shared_data: Path, n: str) -> None:
    folder = shared_data / "ocds_real_cdmx_mx_py"
    expected = json.loads((folder / f"compiled-release-{n}.json").read_text(encoding="utf-8"))
    assert _compiled(folder / f"release-package-{n}.json") == [expected]


def test_cdmx_two_processes_in_one_package(shared_data: Path) -> None:
    folder = shared_data / "ocds_real_cdmx_mx_py"
    records = json.loads((folder / "record-package_package.json").read_text(encoding="utf-8"))["records"]
    assert _compiled(folder / "release-package-1-2.json") == [r["compiledRelease"] for r in records]


def test_latin1_and_utf8_compile_alike(shared_data: Path) -> None:
    folder = shared_data / "ocds_real_cdmx_mx_py"
    latin = read_publication(folder / "release-package_encoding-iso-8859-1.json")
    utf8 = read_publication(folder / "release-package_encoding-utf-8.json")
    assert (latin.encoding, utf8.encoding) == ("latin-1", "utf-8")
    compiled = _compiled(folder / "release-package_encoding-iso-8859-1.json")
    assert compiled == _compiled(folder / "release-package_encoding-utf-8.json")
    assert len(compiled) == 1 and "SECRETARÍA" in json.dumps(compiled, ensure_ascii=False)


def test_fictional_example_record(shared_data: Path) -> None:
    folder = shared_data / "ocds_fictional_example"
    record = json.loads((folder / "ocds-213czf-000-00001_record-package_1.1.json").read_text())["records"][0]
    assert _compiled(folder / "ocds-213czf-000-00001_release-package_1.1.json") == [record["compiledRelease"]]


@pytest.mark.parametrize(
    ("name", "ocid"),
    [("record-package-1.json", "ocds-07smqs-993235"), ("record-package-2.json", "ocds-07smqs-1542970")],
)
def test_federal_record_packages_read(shared_data: Path, name: str, ocid: str) -> None:
    publication = read_publication(shared_data / "ocds_real_cdmx_mx_py" / name)
    assert publication.form == "record package"
    assert [r["ocid"] for r in _compiled(shared_data / "ocds_real_cdmx_mx_py" / name)] == [ocid]
