"""Bad input: one line naming file and line (or sample), exit code 2, no traceback, no output file.

The shared corpus is parametrised from its EXPECTED.tsv, so a file added there is tested here.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, SHARED, needs_shared, run_pgx


def _expected() -> list[tuple[str, str]]:
    if SHARED is None:
        return []
    with open(SHARED / "testdata/bad_vcfs/EXPECTED.tsv", newline="") as fh:
        return [(r["file"], r["expected behaviour"]) for r in csv.DictReader(fh, delimiter="\t")]


def _assert_one_line_error(proc, name: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pgx: error: ") and name in lines[0]
    assert "Traceback" not in proc.stderr
    return lines[0]


def _gene(report: dict, gene: str = "CYP2C19") -> dict:
    return next(g for g in report["samples"][0]["genes"] if g["gene"] == gene)


@needs_shared
@pytest.mark.parametrize("name,expected", _expected(), ids=lambda x: x if x.endswith(("vcf", "gz")) else "")
def test_shared_bad_vcf(name: str, expected: str, tmp_path: Path) -> None:
    src = SHARED / "testdata/bad_vcfs" / name  # type: ignore[operator]
    out = tmp_path / "out.json"
    proc = run_pgx("call", str(src), "-o", str(out))
    if expected.startswith("error or not-called"):
        if proc.returncode == 2:
            _assert_one_line_error(proc, name)
            assert not out.exists()
        else:
            assert proc.returncode == 0, proc.stderr
            assert _gene(json.loads(out.read_text()))["status"] == "not_called"
        return
    if expected.startswith("error"):
        line = _assert_one_line_error(proc, name)
        m = re.search(r"naming line (\d+)", expected)
        if m:
            assert f"{name}:{m.group(1)}" in line
        if "sample S1" in expected:
            assert "sample S1" in line
        assert not out.exists(), "a failed run must not leave an output file"
        return
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    call = _gene(report)
    codes = {w["code"] for w in call["warnings"]}
    missing = {m["position"] for m in call["missing_positions"]}
    if expected.startswith("warning: REF"):
        assert "ref_mismatch" in codes and 94781859 in missing
    elif expected.startswith("position treated as missing"):
        assert "half_call" in codes and 94781859 in missing
    elif "never Normal Metabolizer" in expected:
        assert call["status"] == "not_called" or "Normal Metabolizer" not in call["phenotypes"]
        assert 94781859 in missing
    elif expected.startswith("gVCF-style"):
        assert 94781859 not in missing and call["status"] == "called"
    elif "escaped" in expected:
        assert report["samples"][0]["sample"] == "<script>alert(1)</script>"
    else:
        assert expected.startswith("works"), expected
        assert call["status"] == "called"
        assert [d["name"] for d in call["diplotypes"]][-1].endswith("*2")


@needs_shared
def test_crlf_and_unsorted_match_plain(tmp_path: Path) -> None:
    base = SHARED / "testdata/bad_vcfs"  # type: ignore[operator]
    results = []
    for name in ("crlf_line_endings.vcf", "unsorted.vcf", "gzip_not_bgzip.vcf.gz"):
        proc = run_pgx("call", str(base / name), "-g", "CYP2C19")
        assert proc.returncode == 0, proc.stderr
        results.append([d["name"] for d in _gene(json.loads(proc.stdout))["diplotypes"]])
    assert results[0] == results[1] == results[2]


OWN_ERRORS = [
    ("header_after_records.vcf", ":6:", "header line after the first record"),
    ("gt_index_no_alt.vcf", ":4:", "allele index 1"),
    ("not_utf8_record.vcf", ":4:", "UTF-8"),
    ("too_few_sample_columns.vcf", ":3:", "too few columns"),
    ("hg19_reference_line.vcf", "", "GRCh37"),
]


@pytest.mark.parametrize("name,where,text", OWN_ERRORS, ids=[x[0] for x in OWN_ERRORS])
def test_own_bad_vcf(name: str, where: str, text: str, tmp_path: Path) -> None:
    out = tmp_path / "out.tsv"
    proc = run_pgx("call", str(DATA / "bad" / name), "-o", str(out), "-f", "tsv")
    line = _assert_one_line_error(proc, name)
    assert where in line and text in line
    assert not out.exists()


OUTSIDE_ERRORS = [
    ("outside_unknown_gene.tsv", ":3:", "unknown gene 'NOTAGENE'"),
    ("outside_bad_score.tsv", ":2:", "not a number"),
    ("outside_invalid_hla.tsv", ":2:", "invalid allele '57:01'"),
    ("outside_unknown_column.tsv", ":1:", "unknown column 'colour'"),
]


@pytest.mark.parametrize("name,where,text", OUTSIDE_ERRORS, ids=[x[0] for x in OUTSIDE_ERRORS])
def test_bad_outside_calls(name: str, where: str, text: str, tmp_path: Path) -> None:
    vcf = Path(__file__).resolve().parents[1] / "sample_vcfs/patient_001.vcf"
    proc = run_pgx("call", str(vcf), "--outside-calls", str(DATA / "bad" / name), "-o", str(tmp_path / "o.json"))
    line = _assert_one_line_error(proc, name)
    assert where in line and text in line
    assert not (tmp_path / "o.json").exists()


def test_unknown_sample_and_missing_file(tmp_path: Path) -> None:
    vcf = Path(__file__).resolve().parents[1] / "sample_vcfs/patient_001.vcf"
    line = _assert_one_line_error(run_pgx("call", str(vcf), "--sample", "NOBODY"), "patient_001.vcf")
    assert "NOBODY" in line and "PATIENT_001" in line
    _assert_one_line_error(run_pgx("call", str(tmp_path / "nope.vcf")), "nope.vcf")
    _assert_one_line_error(run_pgx("call", str(tmp_path)), str(tmp_path))
    line = _assert_one_line_error(run_pgx("call", str(vcf), "-o", str(tmp_path / "no/such/dir/out.json")), "out.json")
    assert "does not exist" in line


@needs_shared
def test_grch37_file_without_build_header_is_refused(tmp_path: Path) -> None:
    """The 1000 Genomes GRCh37 files carry no contig lengths; their positions give them away."""
    src = SHARED / "data/1kgp/GRCh37/CYP2C19.vcf.gz"  # type: ignore[operator]
    local = tmp_path / "CYP2C19.grch37.vcf.gz"
    shutil.copy(src, local)  # without its index: the whole file is read
    line = _assert_one_line_error(run_pgx("call", str(local), "-s", "HG00096"), local.name)
    assert "GRCh37" in line
