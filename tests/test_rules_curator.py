"""Curator tools on the shipped rule base and on broken copies of it: validate, test, diff."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_pgx

RULES = REPO / "rules"


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(RULES, dst, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return dst


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def _inject(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def test_shipped_rules_validate_and_their_tests_pass() -> None:
    proc = run_pgx("rules", "validate", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = re.search(r"(\d+) files, (\d+) rules: 0 error", proc.stderr)
    assert m and int(m.group(1)) >= 90 and int(m.group(2)) >= 900
    proc = run_pgx("rules", "test", str(RULES))
    assert proc.returncode == 0, proc.stdout
    passed = int(re.search(r"(\d+) passed, 0 failed", proc.stderr).group(1))  # type: ignore[union-attr]
    assert passed >= int(m.group(1))  # at least one case per drug


def test_every_drug_has_a_test_case() -> None:
    import yaml

    drugs = set(yaml.safe_load((RULES / "manifest.yaml").read_text())["drugs"])
    tested = {t["drug"] for f in (RULES / "tests").glob("*.yaml") for t in yaml.safe_load(f.read_text())["tests"]}
    assert drugs <= tested, sorted(drugs - tested)


def test_validate_reports_each_injected_error_with_file_and_line(rules_copy: Path) -> None:
    # 1. a type error: a dose factor that is not a number
    codeine = rules_copy / "codeine.yaml"
    _inject(codeine, "    action: avoid\n", "    action: avoid\n    dose_factor: half\n")
    type_line = _line_of(codeine, "dose_factor: half")
    # 2. a phenotype the knowledge base does not know
    clopidogrel = rules_copy / "clopidogrel.yaml"
    _inject(clopidogrel, "phenotypes: [Poor Metabolizer]", "phenotypes: [Very Poor Metabolizer]")
    pheno_line = _line_of(clopidogrel, "Very Poor Metabolizer")
    # 3. a second rule for the same patient with a different action
    simva = rules_copy / "simvastatin.yaml"
    simva.write_text(
        simva.read_text()
        + (
            "  - kind: lookup\n"
            "    id: simvastatin.cpic.injected-duplicate\n"
            "    drugs: [simvastatin]\n"
            "    source: CPIC\n"
            "    citation: {url: 'https://cpicpgx.org/guidelines/cpic-guideline-for-statins/'}\n"
            "    condition:\n"
            "      - {gene: SLCO1B1, phenotypes: [Poor Function]}\n"
            "    action: standard_dosing\n"
            "    rationale: injected to test conflict detection\n"
        )
    )
    dup_line = len(simva.read_text().splitlines()) - 1  # the injected rule's action line

    proc = run_pgx("rules", "validate", str(rules_copy))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr
    assert re.search(rf"{re.escape(str(codeine))}:{type_line}:\d+: error: .*dose_factor.*number", out), out
    assert re.search(
        rf"{re.escape(str(clopidogrel))}:{pheno_line}:\d+: error: unknown CYP2C19 phenotype "
        r"'Very Poor Metabolizer'",
        out,
    ), out
    assert re.search(
        rf"{re.escape(str(simva))}:{dup_line}:\d+: error: rules simvastatin\.cpic\.\S+ \(avoid\) and "
        r"simvastatin\.cpic\.injected-duplicate \(standard_dosing\) both apply",
        out,
    ), out
    assert len([ln for ln in out.splitlines() if ": error: " in ln]) == 3


def test_validate_names_unknown_gene_and_drug(rules_copy: Path) -> None:
    f = rules_copy / "codeine.yaml"
    _inject(
        f,
        "{gene: CYP2D6, phenotypes: [Ultrarapid Metabolizer]}",
        "{gene: CYP2D66, phenotypes: [Ultrarapid Metabolizer]}",
    )
    _inject(f, "    drugs: [codeine]\n", "    drugs: [codeinne]\n")
    proc = run_pgx("rules", "validate", str(rules_copy))
    assert proc.returncode == 2
    assert f"{f}:{_line_of(f, 'CYP2D66')}:" in proc.stdout and "unknown gene 'CYP2D66'" in proc.stdout
    assert f"{f}:{_line_of(f, 'codeinne')}:" in proc.stdout and "unknown drug 'codeinne'" in proc.stdout


def test_gap_report_lists_uncovered_phenotypes(rules_copy: Path) -> None:
    f = rules_copy / "codeine.yaml"
    text = f.read_text()
    start = text.index("  - kind: lookup\n    id: codeine.cpic.cyp2d6-intermediate-metabolizer")
    end = text.index("  - kind: lookup", start + 10)
    f.write_text(text[:start] + text[end:])
    proc = run_pgx("rules", "validate", "--gaps", str(rules_copy))
    assert proc.returncode == 0
    assert f"{f}: warning: CPIC: no rule covers CYP2D6 Intermediate Metabolizer" in proc.stdout


def test_failing_rule_test_points_at_its_case(rules_copy: Path) -> None:
    f = rules_copy / "tests" / "scenarios.yaml"
    text = f.read_text()
    first = re.search(r"expect: \{CPIC: (\w+)", text)
    assert first
    f.write_text(
        text[: first.start(1)]
        + ("standard_dosing" if first.group(1) != "standard_dosing" else "avoid")
        + text[first.end(1) :]
    )
    proc = run_pgx("rules", "test", str(rules_copy))
    assert proc.returncode == 1
    [fail] = [ln for ln in proc.stdout.splitlines() if "FAIL" in ln]
    assert re.match(rf"{re.escape(str(f))}:\d+: FAIL .*CPIC: expected", fail)


def test_diff_lists_changed_rule_and_affected_patients(rules_copy: Path, tmp_path: Path) -> None:
    f = rules_copy / "clopidogrel.yaml"
    text = f.read_text()
    start = text.index("id: clopidogrel.cpic.cyp2c19-intermediate-metabolizer")
    act = text.index("action: avoid", start)
    f.write_text(text[:act] + "action: standard_dosing" + text[act + len("action: avoid") :])
    proc = run_pgx("rules", "diff", str(RULES), str(rules_copy))
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^changed\s+clopidogrel\.cpic\.cyp2c19-intermediate-metabolizer\s+\(action\)$", proc.stdout, re.M)
    [outcome] = [ln for ln in proc.stdout.splitlines() if ln.startswith("outcome")]
    assert re.search(
        r"clopidogrel: CYP2C19 Intermediate Metabolizer: CPIC=avoid, DPWG=avoid -> CPIC=standard_dosing", outcome
    ), outcome
    # the same change seen through the samples of a VCF
    vcf = tmp_path / "c.vcf"
    spec = tmp_path / "spec.tsv"
    spec.write_text("sample\tgene\tdiplotype\nIM\tCYP2C19\t*1/*2\nPM\tCYP2C19\t*2/*2\nNM\tCYP2C19\t*1/*1\n")
    assert run_pgx("simulate", "--spec", str(spec), "-o", str(vcf)).returncode == 0
    proc = run_pgx("rules", "diff", str(RULES), str(rules_copy), "--vcf", str(vcf))
    assert proc.returncode == 0, proc.stderr
    samples = [ln for ln in proc.stdout.splitlines() if ln.startswith("sample")]
    expected = "sample   IM: clopidogrel: CPIC=avoid, DPWG=avoid -> CPIC=standard_dosing, DPWG=avoid"
    assert samples == [expected], proc.stdout


def test_validate_requires_a_citation(rules_copy: Path) -> None:
    f = rules_copy / "abacavir.yaml"
    text = f.read_text()
    start = text.index("    citation:")
    end = text.index("    condition:", start)
    f.write_text(text[:start] + "    citation: {}\n" + text[end:])
    proc = run_pgx("rules", "validate", str(rules_copy))
    assert proc.returncode == 2
    assert re.search(
        rf"{re.escape(str(f))}:{_line_of(f, 'citation: {}')}:\d+: error: rule '\S+' cites no guideline", proc.stdout
    ), proc.stdout
