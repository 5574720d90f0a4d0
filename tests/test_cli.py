"""The command line as a pipeline uses it: outputs, versions, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pgx import __version__
from pgx.calling.models import SCHEMA_VERSION, CallReport
from pgx.report.calls_tsv import COLUMNS
from tests.conftest import REPO, run_pgx

SAMPLE = REPO / "sample_vcfs/patient_001.vcf"


def test_json_output_is_the_versioned_model(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = run_pgx("call", str(SAMPLE), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    report = CallReport.model_validate_json(out.read_text())
    assert report.schema_version == SCHEMA_VERSION and report.pgx_version == __version__
    assert report.input.sha256 == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert report.input.name == "patient_001.vcf" and report.input.build == "GRCh38"
    calls = {g.gene: g for g in report.samples[0].genes}
    assert len(calls) == 21
    assert [d.name for d in calls["CYP2C19"].diplotypes] == ["*2/*17"]
    assert calls["CYP2C9"].activity_scores == [1.0]
    assert calls["CYP2C9"].diplotypes[0].haplotypes[1].function == "No function"
    assert {e.rsid for e in calls["CYP2C9"].extra_positions} == {"rs12777823"}


def test_tsv_output(tmp_path: Path) -> None:
    proc = run_pgx("call", str(SAMPLE), "-f", "tsv", "-g", "CYP2C19", "-g", "DPYD")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"# pgx {__version__}\tknowledge ") and "sha256 " in lines[0]
    assert lines[1].split("\t") == COLUMNS
    rows = [dict(zip(COLUMNS, ln.split("\t"), strict=True)) for ln in lines[2:]]
    assert [(r["gene"], r["diplotype"], r["phenotype"]) for r in rows] == [
        ("CYP2C19", "*2/*17", "Intermediate Metabolizer"),
        ("DPYD", "Reference/c.1905+1G>A (*2A)", "Intermediate Metabolizer"),
    ]
    assert rows[1]["activity_score"] == "1" and rows[1]["haplotype_2_activity_value"] == "0"


def test_multi_sample_tsv_and_sample_option() -> None:
    vcf = REPO / "sample_vcfs/trio_phased.vcf.gz"
    proc = run_pgx("call", str(vcf), "-f", "tsv", "-g", "CYP2D6", "-s", "S2")
    rows = [ln.split("\t") for ln in proc.stdout.splitlines()[2:]]
    assert [(r[0], r[4]) for r in rows] == [("S2", "*4/*5")]


def test_genes_and_version() -> None:
    proc = run_pgx("genes", "--json")
    data = json.loads(proc.stdout)
    assert data["pgx_version"] == __version__ and data["knowledge_version"]
    assert len(data["genes"]) == 24
    assert run_pgx("--version").stdout.startswith(f"pgx {__version__} (knowledge ")
    assert {s["license"] for s in data["sources"]} >= {"MPL-2.0", "MIT"}  # every source names its licence
    row = next(g for g in data["genes"] if g["gene"] == "CYP2C19")
    assert row["definition_version"] and row["strand"] and row["grch37_region"]  # where each fact came from
    cyp2c19 = json.loads(run_pgx("genes", "--alleles", "CYP2C19", "--json").stdout)
    star2 = {"allele": "*2", "function": "No function", "activity_value": None, "function_source": None, "positions": 4}
    assert star2 in cyp2c19["alleles"]
    assert {"position": 94781859, "rsid": "rs4244285", "ref": "G", "alts": ["A"]}.items() <= next(
        p for p in cyp2c19["positions"] if p["position"] == 94781859
    ).items()


def test_simulate_then_call(tmp_path: Path) -> None:
    out = tmp_path / "s.vcf.gz"
    proc = run_pgx(
        "simulate",
        "-g",
        "CYP2D6",
        "-d",
        "*2x2/*4",
        "-g",
        "UGT1A1",
        "-d",
        "*28/*28",
        "--phased",
        "--only-listed",
        "-o",
        str(out),
        "--index",
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.vcf.gz.tbi").exists()
    rows = [ln.split("\t") for ln in run_pgx("call", str(out), "-f", "tsv").stdout.splitlines()[2:]]
    got = {r[1]: (r[2], r[4]) for r in rows}
    assert got["UGT1A1"] == ("called", "*28/*28")
    # the CNV record gives the total copy number, not which haplotype is duplicated
    assert got["CYP2D6"] == ("called", "*2/*4x2 OR *2x2/*4")
    assert got["CYP2C19"][0] == "not_called"  # not written by --only-listed: no data, not reference


def test_simulate_rejects_unknown_allele(tmp_path: Path) -> None:
    proc = run_pgx("simulate", "-g", "CYP2C19", "-d", "*2/*99", "-o", str(tmp_path / "x.vcf"))
    assert proc.returncode == 2 and "unknown allele '*99'" in proc.stderr
    assert not (tmp_path / "x.vcf").exists()


def test_usage_error_is_one_line() -> None:
    proc = run_pgx("call", str(SAMPLE), "--format", "xml")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
