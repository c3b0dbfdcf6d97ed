"""The synthetic city's files: reproducible, readable with peer libraries, in the formats they claim."""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from safercities import iccs
from safercities.errors import InputError
from safercities.ingest.mapping import load_mapping
from safercities.sim import FILES, SimulatedCity, simulate
from safercities.sim.formats import INCIDENT_COLUMNS

SMALL: dict[str, Any] = {"n_communities": 20, "n_districts": 3, "years": 1}


def _digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES.values()}


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    first = simulate(tmp_path / "a", seed=7, **SMALL)
    again = simulate(tmp_path / "b", seed=7, **SMALL)
    other = simulate(tmp_path / "c", seed=8, **SMALL)
    assert _digests(first.outdir) == _digests(again.outdir)
    differ = {k for k, v in _digests(first.outdir).items() if _digests(other.outdir)[k] != v}
    assert differ == set(FILES.values()) - {"mapping.toml", "offences.csv"}


def _incidents(city: SimulatedCity) -> pd.DataFrame:
    return pd.read_csv(city.incidents, sep=";", encoding="latin-1", dtype=str, keep_default_na=False)


def test_incidents_are_a_latin1_semicolon_export_with_decimal_commas(city: SimulatedCity) -> None:
    raw = city.incidents.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # accents are single Latin-1 bytes, as in the real exports
    text = raw.decode("latin-1")
    assert "Robo a casa habitación" in text and "Daño en propiedad ajena" in text
    assert text.startswith(";".join(INCIDENT_COLUMNS) + "\r\n")
    assert csv.Sniffer().sniff(text[:5000]).delimiter == ";"
    frame = _incidents(city)
    assert list(frame.columns) == list(INCIDENT_COLUMNS)
    coords = frame.loc[frame["latitud"] != "", "latitud"]
    assert coords.str.fullmatch(r"-?\d+,\d{6}").all()
    assert frame["hora_hechos"].str.fullmatch(r"\d\d:\d\d").all()
    assert 20_000 <= len(frame) <= 40_000


def test_windows_are_ordered_and_only_burglaries_have_width(city: SimulatedCity) -> None:
    frame = _incidents(city)
    clean = frame[~frame["folio"].isin(sum(city.truth["messy_folios"].values(), []))]
    start = pd.to_datetime(clean["fecha_inicio"], format="%d/%m/%Y %H:%M")
    end = pd.to_datetime(clean["fecha_fin"], format="%d/%m/%Y %H:%M")
    reported = pd.to_datetime(clean["fecha_denuncia"], format="%d/%m/%Y %H:%M")
    burglary = clean["clave_delito"] == "501"
    assert (end >= start).all() and (reported >= end).all()
    assert (end[~burglary] == start[~burglary]).all()
    width_h = (end[burglary] - start[burglary]).dt.total_seconds() / 3600
    assert (width_h > 0).all() and 6 < width_h.median() < 14


def test_the_mapping_loads_and_names_real_columns(city: SimulatedCity) -> None:
    mapping = load_mapping(city.mapping)
    header = set(INCIDENT_COLUMNS)
    assert set(mapping.columns.used().values()) <= header and set(mapping.columns.keep) <= header
    assert mapping.source.encoding == "latin-1" and mapping.source.delimiter == ";" and mapping.source.decimal == ","
    assert mapping.offences.table == city.offences and mapping.offences.table.exists()
    datetime.strptime(_incidents(city)["fecha_inicio"].iloc[0], mapping.dates.format)


def test_offence_table_uses_real_iccs_level2_codes(city: SimulatedCity) -> None:
    table = pd.read_csv(city.offences, dtype=str, encoding="utf-8")
    assert list(table.columns) == ["local_code", "local_label", "iccs_code"]
    assert table["local_code"].is_unique
    assert all(iccs.is_valid_code(code) and len(code) == 4 for code in table["iccs_code"])
    expected = {"Homicidio doloso": "0101", "Robo a casa habitación": "0501", "Robo a transeúnte": "0401",
                "Narcomenudeo": "0601", "Fraude": "0701", "Abuso sexual": "0301", "Robo de vehículo": "0502",
                "Daño en propiedad ajena": "0504", "Violencia familiar": "0201"}  # fmt: skip
    assert dict(zip(table["local_label"], table["iccs_code"], strict=True)).items() >= expected.items()
    codes = set(_incidents(city)["clave_delito"]) - {""}
    assert codes <= set(table["local_code"])


def test_areas_nest_and_communities_tile_the_city(city: SimulatedCity) -> None:
    areas = gpd.read_file(city.areas)
    assert areas.crs.to_epsg() == 4326
    lon, lat = areas.union_all().centroid.coords[0]
    assert abs(lon + 100.39) < 0.1 and abs(lat - 20.59) < 0.1
    metric = areas.to_crs(city.crs).set_index("area_id")
    levels = metric["level"].value_counts().to_dict()
    assert levels == {"city": 1, "district": 6, "community": 60}
    town = metric[metric["level"] == "city"]
    districts = metric[metric["level"] == "district"]
    communities = metric[metric["level"] == "community"]
    assert town["parent_id"].isna().all() and (districts["parent_id"] == town.index[0]).all()
    assert communities["parent_id"].isin(districts.index).all()
    city_area = float(town.area.iloc[0])
    assert 80e6 < city_area < 130e6  # about 12 km x 10 km
    # tiling: no gaps (union = city) and no overlaps (sum of areas = union), to 1 m2 per km2
    assert abs(communities.union_all().area - city_area) < 1e-6 * city_area
    assert abs(communities.area.sum() - city_area) < 1e-6 * city_area
    assert abs(districts.area.sum() - city_area) < 1e-6 * city_area
    parents = districts.geometry.loc[communities["parent_id"]].to_numpy()
    inside = shapely.area(shapely.intersection(communities.geometry.to_numpy(), parents)) / communities.area
    assert (inside > 1 - 1e-6).all()
    # populations add up the hierarchy
    by_district = communities.groupby("parent_id")["population"].sum()
    assert (districts["population"] == by_district.loc[districts.index]).all()
    assert town["population"].iloc[0] == communities["population"].sum()
    assert communities["name"].is_unique
    assert communities["name"].str.match(r"^(Colonia|Barrio|Fraccionamiento|Unidad|Residencial|Pueblo) ").all()


def test_census_matches_the_areas(city: SimulatedCity) -> None:
    census = pd.read_csv(city.census, dtype={"area_id": str})
    areas = gpd.read_file(city.areas)
    communities = areas[areas["level"] == "community"].set_index("area_id")
    assert list(census.columns[:4]) == ["area_id", "name", "population", "households"]
    assert (census.set_index("area_id")["population"] == communities.loc[census["area_id"], "population"]).all()
    covariates = census[city.truth["covariates"]["names"]]
    assert ((covariates > 0) & (covariates < 1)).all().all()
    # spatial autocorrelation: Moran's I of poverty on 5-nearest-neighbour weights, permutation p-value
    # (p = (k + 1) / (R + 1), R = 999); over seeds 0..39 the largest p is 0.003, so p <= 0.01 holds by design
    xy = np.column_stack([communities.to_crs(city.crs).centroid.x, communities.to_crs(city.crs).centroid.y])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    w = np.zeros_like(d)
    np.put_along_axis(w, np.argsort(d, axis=1)[:, :5], 0.2, axis=1)
    z = census.set_index("area_id").loc[communities.index, "poverty"].to_numpy()
    z = z - z.mean()
    moran = (z @ w @ z) / (z @ z)
    shuffled = np.random.default_rng(1).permuted(np.tile(z, (999, 1)), axis=1)
    null = np.einsum("ri,ij,rj->r", shuffled, w, shuffled) / (z @ z)
    assert moran > 0 and (np.sum(null >= moran) + 1) / 1000 <= 0.01


def test_the_messy_rows_are_in_the_file_as_truth_says(city: SimulatedCity) -> None:
    frame = _incidents(city)
    messy, folios = city.truth["messy"], city.truth["messy_folios"]
    assert all(count >= 1 for count in messy.values())
    assert 0.002 < sum(messy.values()) / len(frame) < 0.01
    by_folio = frame.drop_duplicates("folio").set_index("folio")
    assert frame["folio"].duplicated().sum() == messy["duplicate_folio"]
    assert set(frame.loc[frame["folio"].duplicated(), "folio"]) == set(folios["duplicate_folio"])
    assert set(frame.loc[frame["latitud"] == "", "folio"]) == set(folios["missing_coordinates"])
    assert set(frame.loc[frame["clave_delito"] == "", "folio"]) == set(folios["missing_offence"])
    lat = pd.to_numeric(by_folio["latitud"].str.replace(",", "."), errors="coerce")
    assert set(lat.index[lat < -90]) == set(folios["swapped_lat_lon"])
    dates = pd.to_datetime(by_folio["fecha_inicio"], format="%d/%m/%Y %H:%M", errors="coerce")
    assert set(dates.index[dates.isna()]) == set(folios["unparseable_date"])
    assert set(dates.index[dates > pd.Timestamp("2100-01-01")]) == set(folios["future_date"])
    lon = pd.to_numeric(by_folio["longitud"].str.replace(",", "."), errors="coerce")
    outside = ~shapely.contains_xy(gpd.read_file(city.areas).union_all(), lon.fillna(0), lat.fillna(0))
    assert set(lat.index[outside & lat.between(0, 90)]) == set(folios["outside_city"])
    assert city.truth["file"]["rows"] == len(frame)


def test_recorded_counts_in_the_file_match_the_truth(city: SimulatedCity) -> None:
    frame = _incidents(city).drop_duplicates("folio")
    damaged = set(sum((v for k, v in city.truth["messy_folios"].items() if k != "duplicate_folio"), []))
    code_of = {o["key"]: o["local_code"] for o in city.truth["offences"]}
    in_file = frame["clave_delito"].value_counts()
    recorded = city.truth["totals"]["recorded"]
    assert len(frame) == sum(recorded.values())
    usable = frame[~frame["folio"].isin(damaged)]
    assert len(usable) == city.truth["file"]["valid_rows"]
    assert usable["clave_delito"].value_counts().to_dict() == {
        code_of[k]: v for k, v in city.truth["totals"]["importable"].items() if v
    }
    missing = len(city.truth["messy_folios"]["missing_offence"])
    assert in_file.sum() == len(frame) and in_file.get("", 0) == missing


@pytest.mark.parametrize(
    ("argument", "value"),
    [("n_communities", 1), ("n_districts", 0), ("years", 0), ("start", "01/01/2023"), ("seed", -1), ("years", 1.5)],
)
def test_bad_parameters_raise_one_message_template(tmp_path: Path, argument: str, value: object) -> None:
    with pytest.raises(InputError, match=rf"The '{argument}' parameter of simulate must be .* Got .* instead"):
        simulate(tmp_path, **{argument: value})  # type: ignore[arg-type]


def test_truth_json_is_utf8_and_complete(city: SimulatedCity) -> None:
    text = city.truth_path.read_text(encoding="utf-8")
    assert "habitación" in text
    keys = {"seed", "parameters", "workspace", "offences", "covariates", "intensity", "seasonality", "micro_places",
            "hawkes", "reporting", "totals", "counts", "messy", "messy_folios", "file"}  # fmt: skip
    assert keys <= set(city.truth)
    counts = city.counts()
    assert (counts["true"] == counts["background"] + counts["offspring"]).all()
    assert (counts["recorded"] <= counts["true"]).all() and (counts["importable"] <= counts["recorded"]).all()
    assert city.truth["workspace"] == {"name": city.truth["workspace"]["name"], "crs": "EPSG:32614",
                                       "timezone": "America/Mexico_City"}  # fmt: skip
