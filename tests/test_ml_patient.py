"""`--patient`: covariate files are checked like every other input, and reach the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgx.report.models import REPORT_SCHEMA_VERSION
from tests.conftest import REPO, run_pgx, simulate_vcf

BAD = [
    ("age: sixty\n", ":1:6", "age"),
    ("height_cm: 670\n", ":1:12", "height_cm"),
    ("weigth_kg: 70\n", ":1:1", "weigth_kg"),
    ("race: martian\n", ":1:7", "race"),
    ("age: [64\n", ":2:1", "YAML syntax error"),
    ("- 64\n", ":1:1", "expected a mapping"),
]


@pytest.mark.parametrize("text,where,what", BAD)
def test_bad_patient_file(tmp_path: Path, text: str, where: str, what: str) -> None:
    patient = tmp_path / "patient.yaml"
    patient.write_text(text)
    vcf = simulate_vcf(tmp_path / "p.vcf", {"CYP2C19": "*1/*1"})
    out = tmp_path / "r.json"
    proc = run_pgx("report", str(vcf), "--patient", str(patient), "-f", "json", "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and f"{patient}{where}" in line and what in line, line
    assert not out.exists()


def test_patient_file_with_multisample_vcf_needs_a_sample(tmp_path: Path) -> None:
    patient = tmp_path / "patient.yaml"
    patient.write_text("age: 64\n")
    trio = REPO / "sample_vcfs" / "trio_phased.vcf.gz"
    proc = run_pgx("report", str(trio), "--patient", str(patient), "-f", "json")
    assert proc.returncode == 2 and "--patient: describes one patient" in proc.stderr and "--sample" in proc.stderr


def test_patient_medications_join_meds_and_file_is_hashed(tmp_path: Path) -> None:
    patient = tmp_path / "patient.yaml"
    patient.write_text("age: 64\nheight_cm: 170\nweight_kg: 72\nmedications: [Fluoxetine]\n")
    vcf = simulate_vcf(tmp_path / "p.vcf", {"CYP2D6": "*1/*1"})
    proc = run_pgx("report", str(vcf), "--patient", str(patient), "--meds", "omeprazole", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema_version"] == REPORT_SCHEMA_VERSION
    assert report["options"]["patient"]["name"] == "patient.yaml" and len(report["options"]["patient"]["sha256"]) == 64
    sample = report["samples"][0]
    assert sample["medications"] == ["omeprazole", "fluoxetine"]
    assert any(c["gene"] == "CYP2D6" for c in sample["phenoconversions"])  # fluoxetine from the file converts CYP2D6


def test_warfarin_dose_beside_the_cpic_algorithm(tmp_path: Path) -> None:
    """With covariates, the report carries the model's dose (with its interval and reasons) on warfarin's flag."""
    patient = tmp_path / "patient.yaml"
    patient.write_text("age: 64\nheight_cm: 170\nweight_kg: 72\nrace: white\nmedications: [amiodarone]\n")
    vkorc1_ag = "rs9923231 variant (T)/rs9923231 reference (C)"
    vcf = simulate_vcf(tmp_path / "w.vcf", {"CYP2C9": "*1/*3", "VKORC1": vkorc1_ag})
    proc = run_pgx("report", str(vcf), "--patient", str(patient), "--drugs", "warfarin", "-f", "json")
    assert proc.returncode == 0, proc.stderr
    sample = json.loads(proc.stdout)["samples"][0]
    flag = next(d for d in sample["drugs"] if d["drug"] == "warfarin")
    assert flag["action"] == "dose_by_algorithm"  # the CPIC rule still speaks first
    (pred,) = sample["dose_predictions"]
    assert pred["status"] == "predicted" and pred["scenario"] == {"CYP2C9": "*1/*3", "VKORC1": "-1639 AG"}
    low, high = pred["interval"]
    assert low < pred["dose_mg_per_week"] < high and pred["interval_level"] == 0.8
    words = " ".join(c["text"] for c in pred["contributions"])
    assert "CYP2C9 *1/*3" in words and "VKORC1 -1639 AG" in words and "amiodarone" in words
    html = tmp_path / "r.html"
    proc = run_pgx("report", str(vcf), "--patient", str(patient), "--drugs", "warfarin", "-o", str(html))
    assert proc.returncode == 0, proc.stderr
    text = html.read_text()
    assert 'data-dose-status="predicted"' in text and f"{pred['dose_mg_per_week']:.1f} mg/week" in text
    assert "IWPC-cohort model" in text and "patient.yaml" in text
