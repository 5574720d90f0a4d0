"""Stages hand off documents: a report from `pgx call`'s JSON equals the report from the VCF, and
`pgx graph path` explains the very flag `pgx report` shows, for every drug of real samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pgx import api
from pgx.calling.models import CallReport, GeneCall
from pgx.flags.explain import explain, report_flag
from pgx.knowledge.loader import load_knowledge
from pgx.patient.state import patient_state
from pgx.rules.loader import load_rules
from pgx.vcf.reader import read_header
from tests.conftest import REPO, SHARED, needs_shared, run_pgx

SAMPLE_VCFS = [REPO / "sample_vcfs" / "patient_001.vcf", REPO / "sample_vcfs" / "trio_phased.vcf.gz"]


CASES = [
    (vcf, extra, "json")
    for vcf in SAMPLE_VCFS
    for extra in ([], ["--meds", "paroxetine"], ["--missing-to-ref", "--meds", "fluconazole,rifampin"])
] + [(SAMPLE_VCFS[1], ["--meds", "paroxetine"], fmt) for fmt in ("html", "tsv")]


@pytest.mark.parametrize(
    ("vcf", "extra", "fmt"), CASES, ids=[f"{v.name.split('.')[0]}-{' '.join(e) or 'plain'}-{f}" for v, e, f in CASES]
)
def test_report_from_calls_json_equals_report_from_vcf(tmp_path: Path, vcf: Path, extra: list[str], fmt: str) -> None:
    calling = [a for a in extra if a == "--missing-to-ref"]
    reporting = [a for a in extra if a != "--missing-to-ref"]
    calls = tmp_path / "calls.json"
    done = run_pgx("call", str(vcf), *calling, "-o", str(calls))
    assert done.returncode == 0, done.stderr
    from_vcf = run_pgx("report", str(vcf), *extra, "-f", fmt)
    from_calls = run_pgx("report", "--calls", str(calls), *reporting, "-f", fmt)
    assert from_vcf.returncode == 0 and from_calls.returncode == 0, from_vcf.stderr + from_calls.stderr
    assert from_calls.stdout == from_vcf.stdout
    assert from_calls.stderr == from_vcf.stderr  # the same medication warnings


def test_report_from_one_batch_sample_equals_report_of_that_sample(tmp_path: Path) -> None:
    trio = SAMPLE_VCFS[1]
    done = run_pgx("batch", str(trio), "-o", str(tmp_path / "out"), "-w", "1")
    assert done.returncode == 0, done.stderr
    sample = json.loads((tmp_path / "out" / "manifest.json").read_text())["samples"][1]
    per_sample = tmp_path / "out" / sample["file"]
    from_batch = run_pgx("report", "--calls", str(per_sample), "--meds", "paroxetine", "-f", "json")
    from_vcf = run_pgx("report", str(trio), "-s", sample["sample"], "--meds", "paroxetine", "-f", "json")
    assert from_batch.returncode == 0, from_batch.stderr
    assert json.loads(from_batch.stdout) == json.loads(from_vcf.stdout)


def test_calls_sample_selection(tmp_path: Path) -> None:
    calls = tmp_path / "calls.json"
    assert run_pgx("call", str(SAMPLE_VCFS[1]), "-o", str(calls)).returncode == 0
    names = [s["sample"] for s in json.loads(calls.read_text())["samples"]]
    picked = run_pgx("report", "--calls", str(calls), "-s", names[2], "-s", names[0], "-f", "json")
    assert picked.returncode == 0, picked.stderr
    assert [s["sample"] for s in json.loads(picked.stdout)["samples"]] == [names[2], names[0]]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report"], "give a VCF or --calls"),
        (["report", str(SAMPLE_VCFS[0]), "--calls", "CALLS"], "give a VCF or --calls"),
        (["report", "--calls", "CALLS", "--missing-to-ref"], "give them to `pgx call`"),
        (["report", "--calls", "CALLS", "-s", "NOBODY"], "--sample: 'NOBODY' is not in the calls"),
        (["report", "--calls", "NOT_JSON"], "NOT_JSON: not a pgx call result"),
        (["report", "--calls", "A_REPORT"], "A_REPORT: not a pgx call result"),
        (["report", "--calls", "MISSING"], "MISSING: cannot read"),
    ],
    ids=["nothing", "both", "calling-option", "unknown-sample", "not-json", "a-drug-report", "missing"],
)
def test_bad_calls_input_is_one_line_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    files = {
        "CALLS": tmp_path / "calls.json",
        "NOT_JSON": tmp_path / "notes.json",
        "A_REPORT": tmp_path / "report.json",
        "MISSING": tmp_path / "missing.json",
    }
    assert run_pgx("call", str(SAMPLE_VCFS[0]), "-o", str(files["CALLS"])).returncode == 0
    files["NOT_JSON"].write_text("sample\tgene\n", encoding="utf-8")
    report = run_pgx("report", str(SAMPLE_VCFS[0]), "-f", "json", "--drugs", "codeine")
    files["A_REPORT"].write_text(report.stdout, encoding="utf-8")
    argv = [str(files[a]) if a in files else a for a in args]
    expected = next((expected.replace(k, str(v)) for k, v in files.items() if k in expected), expected)
    done = run_pgx(*argv)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


# -- pgx graph path and pgx report: one decision -----------------------------------------------------------


def _thousand_genomes_sample_calls(count: int, every: int) -> CallReport:
    """Every 16th of the 3,202 1000 Genomes samples, all gene files joined per sample (panel: absent = reference)."""
    assert SHARED is not None
    files = sorted((SHARED / "data" / "1kgp" / "GRCh38").glob("*.vcf.gz"))
    kb = load_knowledge()
    header, _, _ = read_header(files[0])
    names = list(header.samples)[::every][:count]
    genes: dict[str, list[GeneCall]] = {n: [] for n in names}
    for f in files:  # <GENE>.vcf.gz: the gene of each file from that file only
        gene = f.name.split(".")[0]
        part = api.call(f, samples=names, genes=[gene], missing_to_ref=True, knowledge=kb)
        for s in part.samples:
            genes[s.sample].extend(s.genes)
    base = api.call(files[0], samples=names, genes=[files[0].name.split(".")[0]], missing_to_ref=True, knowledge=kb)
    return base.model_copy(update={"samples": [s.model_copy(update={"genes": genes[s.sample]}) for s in base.samples]})


@needs_shared
def test_graph_path_explains_the_reports_flag_for_every_drug_of_200_real_samples() -> None:
    kb, rb = load_knowledge(), load_rules()
    calls = _thousand_genomes_sample_calls(200, 16)
    report = api.assess(calls, medications=["paroxetine"], knowledge=kb, rules=rb)
    drugs = sorted(set(rb.drugs) | {f.drug for s in report.samples for f in s.drugs})
    compared = converted = 0
    for sample_calls, sample_report in zip(calls.samples, report.samples, strict=True):
        state = patient_state(sample_calls.sample, sample_calls.genes, ["paroxetine"])
        shown = {f.drug: f for f in sample_report.drugs}
        for drug in drugs:
            flag = report_flag(kb, rb, state, drug)
            if flag is None:
                assert drug not in shown
                continue
            assert flag == shown[drug], (sample_calls.sample, drug)
            action = shown[drug].action
            assert explain(flag)[0] == f"{drug}: {shown[drug].level.value}" + (
                f" ({action.replace('_', ' ')})" if action else ""
            )
            compared += 1
            converted += any(step.kind == "conversion" for path in flag.evidence for step in path)
    assert compared >= 200 * len(rb.drugs)
    assert converted > 0  # paroxetine converted CYP2D6 somewhere: the comparison covered phenoconversion


@pytest.mark.parametrize(
    ("drug", "level"),
    [("paroxetine", "standard"), ("codeine", "contraindicated"), ("atomoxetine", None)],
)
def test_graph_path_and_report_agree_on_the_command_line(drug: str, level: str | None) -> None:
    """A CYP2D6 normal metabolizer taking paroxetine: paroxetine is judged without its own inhibition
    (its guideline already reflects it), codeine with it."""
    vcf = SAMPLE_VCFS[0]
    report = run_pgx("report", str(vcf), "--meds", "paroxetine", "-f", "json")
    path = run_pgx("graph", "path", drug, "--vcf", str(vcf), "--meds", "paroxetine")
    assert report.returncode == 0 and path.returncode == 0, report.stderr + path.stderr
    [flag] = [f for f in json.loads(report.stdout)["samples"][0]["drugs"] if f["drug"] == drug]
    head = path.stdout.splitlines()[0]
    assert head.startswith(f"{drug}: {flag['level']}")
    if level is not None:
        assert flag["level"] == level
