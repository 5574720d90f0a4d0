"""The warfarin dose model: the IWPC formulas, the IWPC reader, the bundled artifact and predict_dose.

Real data and the real bundled artifact; nothing of pgx's own is mocked. Tests that read the
IWPC table skip without ../shared. No test trains a model: the bundled artifact is what
ships, so it is what is tested (benchmarks/warfarin_dose.py trains and writes it).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from pgx.errors import ImportSourceError, ModelError
from pgx.ml.artifact import LoadedModel, bundled_model, save_model
from pgx.ml.iwpc import REQUIRED_COLUMNS, IwpcRecord, imputation_concordance, impute_vkorc1, read_iwpc
from pgx.ml.iwpc_formula import iwpc_clinical, iwpc_pharmacogenetic
from pgx.ml.results import DosePrediction
from pgx.ml.warfarin import MODEL_NAME, load_warfarin_model, predict_dose, predict_weekly
from pgx.ml.warfarin_eval import Split, baseline_predictions, build_cohort, design, evaluate, split
from pgx.ml.warfarin_features import FEATURES, GROUPS, Covariates, Cyp2c9Genotype, cyp2c9_genotype, features
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import Conversion, GeneOption, GeneResult, PatientState
from tests.conftest import SHARED, needs_shared

IWPC = None if SHARED is None else SHARED / "data" / "iwpc" / "warfarin.csv"
PGX = "pgx model"
FORMULA = "IWPC pharmacogenetic"


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def records() -> list[IwpcRecord]:
    if IWPC is None or not IWPC.is_file():
        pytest.skip("public source data (../shared) not present; set PGX_SHARED to run these tests")
    return read_iwpc(IWPC)


@pytest.fixture(scope="module")
def held_out(records: list[IwpcRecord]) -> Split:
    return split(build_cohort(records))


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return load_warfarin_model()


@pytest.fixture(scope="module")
def held_out_results(held_out: Split, model: LoadedModel) -> dict:
    x, _ = design(held_out.test)
    preds = {PGX: predict_weekly(model.estimator, x), **baseline_predictions(held_out.test)}
    return evaluate(held_out.test, preds)


def state(
    cyp2c9: list[str] | None, vkorc1: list[str] | None, meds: tuple[str, ...] = (), conversion: Conversion | None = None
) -> PatientState:
    """A patient's genotype results as the report stage hands them over (None = not called)."""

    def result(gene: str, options: tuple[GeneOption, ...] | None) -> GeneResult:
        if options is None:
            return GeneResult(gene=gene, called=False, reason="missing required position rs1057910")
        return GeneResult(gene=gene, called=True, options=options)

    c9 = None if cyp2c9 is None else tuple(GeneOption(diplotype=d, conversion=conversion) for d in cyp2c9)
    vk = (
        None
        if vkorc1 is None
        else tuple(GeneOption(diplotype="rs9923231 variant (T)/rs9923231 variant (T)", phenotype=p) for p in vkorc1)
    )
    return PatientState(
        sample="S1", genes={"CYP2C9": result("CYP2C9", c9), "VKORC1": result("VKORC1", vk)}, medications=meds
    )


def genotype(diplotype: str) -> Cyp2c9Genotype:
    parsed = cyp2c9_genotype(diplotype)
    assert parsed is not None, diplotype
    return parsed


def dose(p: DosePrediction) -> tuple[float, float, float]:
    """A predicted dose and its interval (low, dose, high), mg/week."""
    assert p.dose_mg_per_week is not None and p.interval is not None, p.reason
    return p.interval[0], p.dose_mg_per_week, p.interval[1]


def reason(p: DosePrediction) -> str:
    assert p.status == "not_predicted" and p.reason is not None
    return p.reason


ADULT = PatientCovariates(age=65, height_cm=170, weight_kg=70, sex="male", race="white", smoker=False, target_inr=2.5)


# -- the published formulas, by hand ------------------------------------------------------------------


def test_pharmacogenetic_formula_matches_hand_computation() -> None:
    # 65-year-old (decade 6), 170 cm, 70 kg, White, VKORC1 -1639 A/G, CYP2C9 *1/*3, no interacting drugs.
    root = 5.6044 - 0.2614 * 6 + 0.0087 * 170 + 0.0128 * 70 - 0.8677 - 0.9357  # = 4.6076
    cov = Covariates.from_patient(ADULT)
    assert iwpc_pharmacogenetic(cov, cyp2c9_genotype("*1/*3"), "A/G") == pytest.approx(root**2, rel=1e-12)
    assert root**2 == pytest.approx(21.23, abs=0.01)

    # 45-year-old Black patient, 180 cm, 95 kg, VKORC1 G/G, CYP2C9 *2/*3, on phenytoin and amiodarone.
    root = 5.6044 - 0.2614 * 4 + 0.0087 * 180 + 0.0128 * 95 - 1.9206 - 0.2760 + 1.1816 - 0.5503
    cov = Covariates.from_patient(
        PatientCovariates(age=45, height_cm=180, weight_kg=95, race="black", medications=["Phenytoin", "amiodarone"])
    )
    assert cov.enzyme_inducer and cov.amiodarone
    assert iwpc_pharmacogenetic(cov, cyp2c9_genotype("*2/*3"), "G/G") == pytest.approx(root**2, rel=1e-12)

    # Unknown genotypes take the formula's "unknown" terms; race not given is "missing or mixed".
    root = 5.6044 - 0.2614 * 7 + 0.0087 * 160 + 0.0128 * 60 - 0.4854 - 0.2188 - 0.1032
    cov = Covariates.from_patient(PatientCovariates(age=72, height_cm=160, weight_kg=60))
    assert iwpc_pharmacogenetic(cov, None, None) == pytest.approx(root**2, rel=1e-12)


def test_clinical_formula_matches_hand_computation() -> None:
    root = 4.0376 - 0.2546 * 6 + 0.0118 * 170 + 0.0134 * 70
    assert iwpc_clinical(Covariates.from_patient(ADULT)) == pytest.approx(root**2, rel=1e-12)
    root = 4.0376 - 0.2546 * 3 + 0.0118 * 155 + 0.0134 * 50 - 0.6752 + 1.2799
    cov = Covariates.from_patient(
        PatientCovariates(age=38, height_cm=155, weight_kg=50, race="asian", medications=["rifampicin"])
    )
    assert iwpc_clinical(cov) == pytest.approx(root**2, rel=1e-12)


def test_formula_needs_age_height_and_weight() -> None:
    cov = Covariates.from_patient(PatientCovariates(age=65, weight_kg=70))
    assert iwpc_pharmacogenetic(cov, cyp2c9_genotype("*1/*1"), "G/G") is None
    assert iwpc_clinical(cov) is None


def test_rare_cyp2c9_alleles_map_to_nearest_formula_class_by_activity() -> None:
    assert genotype("*1/*11").iwpc_category == "*1/*2"  # activity 0.5, like *2
    assert genotype("*1/*6").iwpc_category == "*1/*3"  # no function (activity 0), like *3
    assert genotype("*3/*3").iwpc_category == "*3/*3"
    uncertain = genotype("*1/*7")  # uncertain function: the formula's "unknown"
    assert uncertain.iwpc_category is None and uncertain.other_reduced is None
    assert (uncertain.star2, uncertain.star3) == (0, 0)
    assert cyp2c9_genotype("*1/*99999") is None and cyp2c9_genotype("not a diplotype") is None


# -- features ---------------------------------------------------------------------------------------


def test_feature_groups_cover_every_column_once() -> None:
    columns = sorted(i for idx in GROUPS.values() for i in idx)
    assert columns == list(range(len(FEATURES)))


def test_features_keep_unknowns_as_nan_and_map_medication_names() -> None:
    nobody = Covariates.from_patient(None)
    row = features(nobody, None, None)
    assert row.shape == (len(FEATURES),)
    for name in (
        "age_decade",
        "height_cm",
        "weight_kg",
        "male",
        "vkorc1_rs9923231_a_count",
        "cyp2c9_star2_count",
        "amiodarone",
        "enzyme_inducer",
        "smoker",
        "target_inr",
    ):
        assert math.isnan(row[FEATURES.index(name)]), name
    assert row[FEATURES.index("race_missing_or_mixed")] == 1
    # --meds alone makes the medication list known; fosphenytoin is phenytoin's prodrug.
    cov = Covariates.from_patient(None, ["fosphenytoin"])
    assert cov.enzyme_inducer is True and cov.amiodarone is False and cov.statin is False
    row = features(Covariates.from_patient(ADULT), cyp2c9_genotype("*1/*11"), "A/A")
    assert row[FEATURES.index("vkorc1_rs9923231_a_count")] == 2
    assert row[FEATURES.index("cyp2c9_other_reduced_count")] == 1
    assert row[FEATURES.index("amiodarone")] == 0  # a patient file with no medications: none taken


# -- the IWPC table -------------------------------------------------------------------------------------


def _write_table(path: Path, rows: list[dict[str, str]]) -> Path:
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(REQUIRED_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "NA") for c in REQUIRED_COLUMNS})
    return path


def test_reader_names_file_and_line_of_a_malformed_value(tmp_path: Path) -> None:
    good = {
        "PharmGKB Subject ID": "PA1",
        "Gender": "male",
        "Race": "White",
        "Age": "60 - 69",
        "Height (cm)": "170",
        "Weight (kg)": "70",
        "Therapeutic Dose of Warfarin": "35",
        "Subject Reached Stable Dose of Warfarin": "1",
        "CYP2C9 consensus": "*1/*3",
        "VKORC1 -1639 consensus": "A/G",
    }
    path = _write_table(tmp_path / "iwpc.csv", [good, {**good, "PharmGKB Subject ID": "PA2", "Height (cm)": "5 ft"}])
    with pytest.raises(ImportSourceError) as err:
        read_iwpc(path)
    assert f"{path}:3: column 'Height (cm)'" in str(err.value) and "not a number" in str(err.value)
    assert "\n" not in str(err.value)

    path = _write_table(tmp_path / "age.csv", [{**good, "Age": "sixty"}])
    with pytest.raises(ImportSourceError, match=r"age\.csv:2: column 'Age'"):
        read_iwpc(path)

    (tmp_path / "cols.csv").write_text("PharmGKB Subject ID,Gender\nPA1,male\n")
    with pytest.raises(ImportSourceError, match=r"cols\.csv:1: column 'Race' missing"):
        read_iwpc(tmp_path / "cols.csv")

    [rec] = read_iwpc(_write_table(tmp_path / "ok.csv", [good]))
    assert rec.line == 2 and rec.covariates.age_decade == 6 and rec.vkorc1 == "A/G"
    assert rec.covariates.amiodarone is None  # NA stays unknown


def test_unreadable_table_names_the_argument_not_a_flag(tmp_path: Path) -> None:
    with pytest.raises(ImportSourceError) as err:
        read_iwpc(tmp_path / "absent.csv")
    assert err.value.field == "iwpc" and "--" not in str(err.value)
    assert str(err.value).startswith(f"iwpc: {tmp_path / 'absent.csv'}: cannot read")


def test_vkorc1_imputation_follows_the_supplements_race_conditions() -> None:
    proxies = {"rs2359612": "T/T", "rs9934438": None, "rs8050894": "C/C"}
    assert impute_vkorc1("white", None, proxies) == ("A/A", "rs2359612")
    assert impute_vkorc1("asian", None, {**proxies, "rs2359612": None}) == ("A/A", "rs8050894")
    assert impute_vkorc1("black", None, proxies) == (None, None)  # those two proxies only for non-Black
    assert impute_vkorc1("missing_or_mixed", None, proxies) == (None, None)  # ... and known race
    assert impute_vkorc1("black", None, {**proxies, "rs9934438": "C/T"}) == ("A/G", "rs9934438")  # any race
    assert impute_vkorc1("white", "G/G", proxies) == ("G/G", "genotyped")


@needs_shared
def test_iwpc_table_reads_whole_and_cohort_counts(records: list[IwpcRecord]) -> None:
    assert len(records) == 5700  # the trailing empty row is skipped, the BOM stripped
    assert sum(r.dose_mg_week is not None for r in records) == 5528
    cohort = build_cohort(records)
    assert len(cohort.patients) == 5410
    assert dict(cohort.exclusions) == {
        "no therapeutic dose recorded": 172,
        "therapeutic dose recorded but stable dose not reached (flag 0)": 118,
    }
    assert len(cohort.evaluable) == 4302
    assert all(r.subject.startswith("PA") for r in records)


@needs_shared
def test_vkorc1_imputation_agrees_with_the_data(records: list[IwpcRecord]) -> None:
    table = imputation_concordance(records)
    for rsid in ("rs2359612", "rs9934438", "rs8050894"):
        for race in ("white", "asian"):
            agree, both = table[rsid][race]
            assert both > 500 and agree / both > 0.97, (rsid, race)
    agree, both = table["rs9934438"]["black"]
    assert agree / both > 0.95  # hence used for any race
    for rsid in ("rs2359612", "rs8050894"):
        agree, both = table[rsid]["black"]
        assert agree / both < 0.85, rsid  # hence not used for Black patients


# -- the formula and the bundled model on the held-out split ---------------------------------------------


@needs_shared
def test_split_is_the_one_the_bundled_model_was_held_out_from(held_out: Split, model: LoadedModel) -> None:
    recorded = model.card.extra["split"]
    assert held_out.test_ids_sha256() == recorded["test_ids_sha256"]
    assert (len(held_out.train), len(held_out.test)) == (recorded["n_train"], recorded["n_test"])
    assert not {r.subject for r in held_out.train} & {r.subject for r in held_out.test}


@needs_shared
def test_reimplemented_formula_reproduces_the_2009_validation_figures(held_out_results: dict) -> None:
    """IWPC 2009: MAE ~8.5 mg/week; within 20 %: 33.0 % (<= 21 mg/week), 36.8 % (>= 49).

    Measured on the held-out split: 8.14, 37.0 % (n=281) and 33.6 % (n=122). The tolerance of 5
    points is about 1.7 and 1.2 binomial standard errors at those sizes; the paper's validation
    cohort (n=1,009) is a different draw from the same consortium.
    """
    formula = held_out_results[FORMULA]
    assert 7.5 <= formula["all"].mae <= 9.8
    assert abs(100 * formula["low (≤ 21 mg/week)"].within20 - 33.0) <= 5
    assert abs(100 * formula["high (≥ 49)"].within20 - 36.8) <= 5


@needs_shared
def test_bundled_model_beats_the_iwpc_formula_on_the_held_out_split(held_out_results: dict) -> None:
    pgx, formula = held_out_results[PGX]["all"], held_out_results[FORMULA]["all"]
    assert pgx.n == formula.n > 800
    assert pgx.mae < formula.mae
    assert pgx.within20 > formula.within20
    clinical, fixed = held_out_results["IWPC clinical"]["all"], held_out_results["fixed 35 mg/week"]["all"]
    assert pgx.mae < clinical.mae < fixed.mae


# -- predict_dose -------------------------------------------------------------------------------------------


def test_sensitive_genotypes_predict_a_much_lower_dose(model: LoadedModel) -> None:
    [normal] = predict_dose(state(["*1/*1"], ["-1639 GG"]), ADULT, model)
    [sensitive] = predict_dose(state(["*3/*3"], ["-1639 AA"]), ADULT, model)
    assert normal.status == sensitive.status == "predicted"
    assert dose(sensitive)[1] < 0.5 * dose(normal)[1]
    for p in (normal, sensitive):
        low, weekly, high = dose(p)
        assert low < weekly < high
        assert p.interval_level == 0.8
        assert p.daily_equivalent_mg == round(weekly / 7, 1)
        assert p.model is not None and p.model.sha256 == model.card.sha256 and "INR" in p.model.label
        assert p.missing_inputs == []
    assert sensitive.scenario == {"CYP2C9": "*3/*3", "VKORC1": "-1639 AA"}
    texts = [c.text for c in sensitive.contributions]
    assert texts[0].startswith(("VKORC1 -1639 AA: ", "CYP2C9 *3/*3: "))
    assert any(t.startswith("VKORC1 -1639 AA: ") and "mg/week lower than for -1639 GG" in t for t in texts)
    assert any(t.startswith("CYP2C9 *3/*3: ") and "mg/week lower than for *1/*1" in t for t in texts)
    assert len(sensitive.contributions) <= 5


def test_ambiguous_calls_give_one_prediction_per_genotype_scenario(model: LoadedModel) -> None:
    predictions = predict_dose(state(["*1/*2", "*1/*3"], ["-1639 AG"]), ADULT, model)
    assert [p.scenario["CYP2C9"] for p in predictions] == ["*1/*2", "*1/*3"]
    assert dose(predictions[1])[1] < dose(predictions[0])[1]


def test_cyp2c9_not_called_is_not_predicted_with_the_reason(model: LoadedModel) -> None:
    [p] = predict_dose(state(None, ["-1639 GG"]), ADULT, model)
    assert p.status == "not_predicted" and p.dose_mg_per_week is None and p.interval is None
    assert "CYP2C9 not called (missing required position rs1057910)" in reason(p)
    assert "never assumes a normal" in reason(p)


def test_without_age_height_and_weight_there_is_no_prediction(model: LoadedModel) -> None:
    [p] = predict_dose(state(["*1/*1"], ["-1639 GG"]), None, model)
    assert "--patient" in reason(p)  # report text: the flag that supplies the covariates
    assert {"age", "height_cm", "weight_kg"} <= set(p.missing_inputs)
    [p] = predict_dose(state(["*1/*1"], ["-1639 GG"]), PatientCovariates(age=12, height_cm=150, weight_kg=40), model)
    assert "pediatric" in reason(p)


def test_missing_height_is_listed_and_does_not_move_a_typical_patients_dose(model: LoadedModel) -> None:
    typical = PatientCovariates(
        age=65, height_cm=178, weight_kg=85, sex="male", race="white", smoker=False, target_inr=2.5
    )
    [known] = predict_dose(state(["*1/*1"], ["-1639 AG"]), typical, model)
    [unknown] = predict_dose(state(["*1/*1"], ["-1639 AG"]), typical.model_copy(update={"height_cm": None}), model)
    assert unknown.status == "predicted" and unknown.missing_inputs == ["height_cm"]
    assert any("less certain" in n and "height_cm" in n for n in unknown.notes)
    assert abs(dose(unknown)[1] - dose(known)[1]) < 2.0  # imputed, not a site's missing-field effect
    width = (dose(unknown)[2] - dose(unknown)[0], dose(known)[2] - dose(known)[0])
    assert width[0] > width[1]  # the wider interval measured for incomplete patients


def test_phenoconversion_does_not_replace_the_genotype(model: LoadedModel) -> None:
    conversion = Conversion(
        genotype_phenotype="Normal Metabolizer", perpetrators=("fluconazole",), effect="moderate inhibitor", note=""
    )
    meds = ("fluconazole",)
    [converted] = predict_dose(state(["*1/*1"], ["-1639 GG"], meds, conversion), ADULT, model)
    [plain] = predict_dose(state(["*1/*1"], ["-1639 GG"], meds), ADULT, model)
    assert converted.dose_mg_per_week == plain.dose_mg_per_week
    assert any("fluconazole is not in the model" in n for n in converted.notes)


# -- the artifact -------------------------------------------------------------------------------------------


def _copy_artifact(tmp_path: Path) -> Path:
    src = bundled_model(MODEL_NAME)
    for suffix in (".skops", ".card.yaml", ".card.md"):
        shutil.copy(src.with_suffix(suffix), tmp_path / f"{MODEL_NAME}{suffix}")
    return tmp_path / f"{MODEL_NAME}.skops"


def test_tampered_artifact_is_refused(tmp_path: Path) -> None:
    path = _copy_artifact(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_warfarin_model(path)


def test_artifact_whose_recorded_predictions_differ_is_refused(tmp_path: Path) -> None:
    path = _copy_artifact(tmp_path)
    card_file = path.with_suffix(".card.yaml")
    card = yaml.safe_load(card_file.read_text())
    card["check_outputs"][0] += 1.0
    card_file.write_text(yaml.safe_dump(card, allow_unicode=True))
    with pytest.raises(ModelError, match="predicts differently"):
        load_warfarin_model(path)


def test_artifact_with_an_untrusted_type_is_refused(tmp_path: Path, model: LoadedModel) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    sneaky = make_pipeline(FunctionTransformer(os.system))  # loading it must never get as far as calling it
    card = model.card.model_dump(
        include={
            "name",
            "kind",
            "version",
            "estimator",
            "trained_on_outcomes",
            "label",
            "data",
            "intended_use",
            "known_limits",
            "features",
        }
    )
    path = tmp_path / f"{MODEL_NAME}.skops"
    save_model(sneaky, path, predict=lambda est, x: np.zeros(len(x)), check_inputs=np.zeros((1, len(FEATURES))), **card)
    with pytest.raises(ModelError, match="refusing to load types pgx does not trust"):
        load_warfarin_model(path)


def test_bundled_artifact_is_package_data_and_loads_without_shared(tmp_path: Path) -> None:
    path = bundled_model(MODEL_NAME)
    assert path.is_file() and path.stat().st_size < 5 * 2**20
    assert path.parent == Path(str(__import__("pgx.ml", fromlist=["x"]).__file__)).parent / "artifacts"
    code = "from pgx.ml.warfarin import load_warfarin_model; m = load_warfarin_model(); print(m.card.kind, m.path)"
    env = {**os.environ, "PGX_SHARED": str(tmp_path / "no-shared-here")}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["warfarin_dose", str(path)]


def test_model_card_says_what_the_model_is_for(model: LoadedModel) -> None:
    card = model.card
    assert card.kind == "warfarin_dose" and card.trained_on_outcomes
    assert card.label == "IWPC-cohort model; check against the CPIC algorithm and INR"
    assert "INR monitoring" in card.intended_use
    assert any("CYP4F2" in limit for limit in card.known_limits)
    assert card.features == list(FEATURES)
    assert any(v is None for row in card.check_inputs for v in row)  # the check set includes missing values
    assert card.metrics["held_out"][PGX]["all"]["mae_mg_week"] < card.metrics["held_out"][FORMULA]["all"]["mae_mg_week"]
