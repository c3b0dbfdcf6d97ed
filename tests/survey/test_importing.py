"""Survey exports through the real import: Kobo's shape round-trips; every bad row is rejected with its reason."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safercities.errors import InputError
from safercities.sim.survey import SimulatedSurvey
from safercities.survey.data import load_survey
from safercities.survey.designfile import load_design
from safercities.survey.importing import import_survey
from safercities.survey.instrument import load_instrument
from safercities.workspace import open_workspace

DESIGN = """\
[survey]
id = "{id}"
[design]
weight = "weight"
household_weight = "hh_weight"
strata = "stratum"
psu = "psu"
{extra}
"""


def _export(survey: SimulatedSurvey) -> pd.DataFrame:
    return pd.read_csv(survey.export, sep=";", dtype=str, keep_default_na=False)


def _design(folder: Path, survey_id: str = "t", extra: str = "") -> Path:
    path = folder / f"design_{survey_id}.toml"
    path.write_text(DESIGN.format(id=survey_id, extra=extra), encoding="utf-8")
    return path


def test_the_kobo_export_round_trips(survey: SimulatedSurvey, workspace: Path) -> None:
    with open_workspace(workspace) as ws:
        result = import_survey(ws, survey.export, survey.design)
        assert (result.rows_read, result.accepted, result.rejected) == (survey.respondents, survey.respondents, 0)
        assert result.warnings == ()
        data = load_survey(ws)
        again = import_survey(ws, survey.export, survey.design)
    assert again.already_imported
    export = _export(survey)
    assert data.survey_id == survey.truth["survey_id"]
    assert data.design.period_start.isoformat() == survey.truth["period_start"]
    stored = data.respondents.set_index("respondent_id").loc[export["_uuid"]]
    np.testing.assert_allclose(stored["weight"], export["weight"].astype(float))
    assert (stored["stratum"].to_numpy() == export["stratum"].to_numpy()).all()
    assert (stored["area_id"].to_numpy() == export["interview/area"].to_numpy()).all()
    for q in load_instrument().questions:
        if q.kind == "note":
            continue
        column = export["/".join((*q.path, q.name))]
        assert stored[q.name].fillna("").tolist() == column.tolist(), q.name
    assert pd.to_datetime(stored["submitted_at"]).notna().all()


def _write(frame: pd.DataFrame, path: Path, sep: str = ";") -> Path:
    frame.to_csv(path, sep=sep, index=False)
    return path


def test_bad_rows_are_rejected_with_their_reason(survey: SimulatedSurvey, workspace: Path, tmp_path: Path) -> None:
    export = _export(survey).head(200).copy()
    export.loc[3, "perceptions/safe_after_dark"] = "rather_safe"
    export.loc[5, "weight"] = ""
    export.loc[7, "respondent/age"] = "12"
    export.loc[8, "respondent/age"] = "forty"
    export.loc[9, "interview/area"] = "C999"
    export.loc[11, "_uuid"] = export.loc[10, "_uuid"]
    export.loc[12, "interview/consent"] = "no"
    crime = "household_crimes/burglary/burglary_why_not"
    export.loc[13, crime] = "not_serious bored"
    export.loc[14, "perceptions/trust_police"] = "Mucha"  # a label is understood
    path = _write(export, tmp_path / "kobo.csv")
    with open_workspace(workspace) as ws:
        result = import_survey(ws, path, _design(tmp_path))
        rejects = ws.rejects(result.import_id).set_index("row_number")
        data = load_survey(ws)
    assert result.rejected == 8 and result.accepted == 192
    assert result.rejects_by_reason == {
        "unknown_code": 2, "missing_weight": 1, "bad_age": 2, "unknown_area": 1, "duplicate_id": 1, "declined": 1,
    }  # fmt: skip
    # spreadsheet rows: header is row 1
    assert rejects.loc[5, "column_name"] == "perceptions/safe_after_dark"
    assert "rather_safe" in rejects.loc[5, "reason"] and "very_safe" in rejects.loc[5, "reason"]
    assert rejects.loc[7, "reason"] == "the weight is missing"
    assert "from 15 to 110" in rejects.loc[9, "reason"]
    assert "C999" in rejects.loc[11, "reason"]
    assert rejects.loc[13, "reason_code"] == "duplicate_id"
    assert "bored" in rejects.loc[15, "reason"]
    trust = data.respondents.set_index("respondent_id").loc[export.loc[14, "_uuid"], "trust_police"]
    assert trust == "a_lot"


def test_a_stratum_with_one_psu_stops_the_import_with_the_remedies(
    survey: SimulatedSurvey, workspace: Path, tmp_path: Path
) -> None:
    export = _export(survey)
    lonely = export["stratum"] == export["stratum"].iloc[0]
    first_psu = export.loc[lonely, "psu"].iloc[0]
    export = export[~lonely | (export["psu"] == first_psu)]
    path = _write(export, tmp_path / "lonely.csv")
    with open_workspace(workspace) as ws:
        before = len(ws.imports())
        with pytest.raises(InputError) as caught:
            import_survey(ws, path, _design(tmp_path))
        assert len(ws.imports()) == before and ws.store.read("survey_respondents").empty
        message = str(caught.value)
        assert export["stratum"].iloc[0] in message and "single primary sampling unit" in message
        assert 'lonely_psu = "adjust"' in message and "collapse" in message
        adjusted = import_survey(ws, path, _design(tmp_path, "t2", 'lonely_psu = "adjust"'))
    assert adjusted.accepted == len(export)


def test_odk_central_headers_and_one_hot_columns_only(survey: SimulatedSurvey, workspace: Path, tmp_path: Path) -> None:
    export = _export(survey).head(300)
    multiple = [c for c in export.columns if c.endswith("_why_not") or c.endswith("harass_place")]
    odk = export.drop(columns=multiple + ["_uuid"]).rename(columns=lambda c: c.replace("/", "-"))
    odk.insert(0, "KEY", "uuid:" + export["_uuid"])
    path = _write(odk, tmp_path / "odk.csv", sep=",")
    with open_workspace(workspace) as ws:
        result = import_survey(ws, path, _design(tmp_path))
        data = load_survey(ws)
    assert result.accepted == 300, result.rejects_by_reason
    stored = data.respondents.set_index("respondent_id").loc[export["_uuid"]]

    def tokens(values: pd.Series) -> list[list[str]]:  # one-hot columns give the choices in the form's order
        return [sorted(v.split()) for v in values.fillna("")]

    assert tokens(stored["harass_place"]) == tokens(export["harassment/harass_place"])


def test_a_generic_xlsx_with_renamed_columns_and_replicate_weights(
    survey: SimulatedSurvey, workspace: Path, tmp_path: Path
) -> None:
    export = _export(survey).head(120)
    frame = pd.DataFrame(
        {
            "id": export["_uuid"],
            "w": export["weight"].astype(float),
            "zona": export["interview/area"],
            "edad": export["respondent/age"].astype(int),
            "sexo": export["respondent/sex"],
            "P16": export["perceptions/safe_after_dark"],
        }
    )
    rng = np.random.default_rng(0)
    for r in range(4):
        frame[f"rep{r + 1}"] = frame["w"] * rng.uniform(0.5, 1.5, len(frame))
    path = tmp_path / "generic.xlsx"
    frame.to_excel(path, index=False)
    design = tmp_path / "generic.yaml"
    design.write_text(
        "survey: {id: g}\ndesign: {weight: w, id: id}\n"
        "replicates: {pattern: 'rep*', method: bootstrap}\n"
        "columns: {zona: area, edad: age, sexo: sex, P16: safe_after_dark}\n",
        encoding="utf-8",
    )
    with open_workspace(workspace) as ws:
        result = import_survey(ws, path, design)
        data = load_survey(ws, "g")
    assert result.accepted == 120
    assert any("questions not in the file" in w for w in result.warnings)
    assert data.replicate_weights is not None and data.replicate_weights.shape == (120, 4)
    np.testing.assert_allclose(data.replicate_weights, frame[[f"rep{r + 1}" for r in range(4)]].to_numpy())


def test_design_file_mistakes_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[design]\nstrata = "s"\n', encoding="utf-8")
    with pytest.raises(InputError, match="design.weight is missing"):
        load_design(bad)
    bad.write_text('[design]\nweight = "w"\nlonely = "adjust"\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown setting design.lonely"):
        load_design(bad)
    bad.write_text('[design]\nweight = "w"\n[replicates]\nmethod = "jackknife"\npattern = "r*"\n', encoding="utf-8")
    with pytest.raises(InputError, match="replicates.method must be one of"):
        load_design(bad)


def test_a_design_column_missing_from_the_export_is_named(
    survey: SimulatedSurvey, workspace: Path, tmp_path: Path
) -> None:
    design = tmp_path / "d.toml"
    design.write_text('[design]\nweight = "peso"\n', encoding="utf-8")
    with open_workspace(workspace) as ws, pytest.raises(InputError, match="'peso'"):
        import_survey(ws, survey.export, design)
