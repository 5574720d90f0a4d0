"""`pgx report` end to end: simulated VCF (+ outside calls, + co-medications) -> drug flags.

Each scenario in data/report_scenarios.yaml is a clinical answer of the guidelines; the VCF is
made by `pgx simulate` from the knowledge base, so the path under test is the whole pipeline
a lab runs: VCF reading, calling, phenotyping, phenoconversion, rules, report.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pgx import __version__
from pgx.report.models import DrugReport
from pgx.rules.loader import load_rules
from tests.conftest import DATA, run_pgx, simulate_vcf

SCENARIOS = yaml.safe_load((DATA / "report_scenarios.yaml").read_text())


def make_report(tmp_path: Path, sc: dict[str, Any], fmt: str = "json", sample: str = "P1") -> Path:
    vcf = simulate_vcf(
        tmp_path / "in.vcf",
        sc.get("genes") or {"CYP2C19": "*1/*1"},
        sample,
        phased=sc.get("phased", False),
        only_listed=sc.get("only_listed", False),
    )
    out = tmp_path / f"report.{fmt}"
    cmd = ["report", str(vcf), "-f", fmt, "-o", str(out)]
    if sc.get("drug"):
        cmd += ["--drugs", sc["drug"]]
    rows = [("diplotype", g, d) for g, d in (sc.get("outside") or {}).items()]
    rows += [("diplotype", g, d) for g, d in sc.get("outside_rows", [])]
    rows += [("phenotype", g, p) for g, p in (sc.get("outside_phenotypes") or {}).items()]
    if rows:
        tsv = tmp_path / "outside.tsv"
        tsv.write_text(
            "gene\tdiplotype\tphenotype\n"
            + "".join(
                f"{g}\t{v if kind == 'diplotype' else ''}\t{v if kind == 'phenotype' else ''}\n" for kind, g, v in rows
            )
        )
        cmd += ["--outside-calls", str(tsv)]
    if sc.get("meds"):
        cmd += ["--meds", ",".join(sc["meds"])]
    proc = run_pgx(*cmd)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(tmp_path: Path, sc: dict[str, Any]) -> None:
    out = make_report(tmp_path, sc)
    report = DrugReport.model_validate_json(out.read_text())
    sample = report.samples[0]
    [flag] = [d for d in sample.drugs if d.drug == sc["drug"]]
    assert flag.level == sc["level"]
    actions = {s.action for s in flag.sources if s.action}
    assert actions and actions <= set(sc["actions"]), actions
    cpic = [s for s in flag.sources if s.source == "CPIC" and s.action]
    if sc.get("cpic_action"):
        assert sc["cpic_action"] in {s.action for s in cpic}
    elif "cpic_action" in sc:  # null: CPIC applies but cannot say anything for this patient
        assert not cpic and any(s.source == "CPIC" for s in flag.sources)
    else:
        assert not [s for s in flag.sources if s.source == "CPIC"]
    assert set(sc.get("alternatives", [])) <= set(flag.alternatives)
    if "dose_factor" in sc:
        factors = [
            r.dose_factor if r.dose_factor is not None else (r.dose_factor_range[-1] if r.dose_factor_range else None)
            for s in cpic
            for scn in s.scenarios
            for r in scn.rules
        ]
        assert sc["dose_factor"] in factors, factors
    text = flag.model_dump_json() + json.dumps([c.model_dump() for c in sample.phenoconversions])
    for m in sc.get("mentions", []):
        assert m in text, m
    # every flag explains itself: a rule, its citation and the evidence path
    if flag.level not in ("no_guideline", "cannot_assess"):
        rules = [r for s in flag.sources for scn in s.scenarios for r in scn.rules]
        assert rules and all(r.citation.url or r.citation.pmids for r in rules)
        # per gene of the rule: (genotype ->) phenotype (-> converted phenotype) -> pathway; then drug -> rule
        assert flag.evidence
        for path in flag.evidence:
            kinds = [s.kind for s in path]
            assert kinds[-2:] == ["drug", "rule"] and path[-2].text == flag.drug
            order = ["genotype", "phenotype", "conversion", "pathway"]
            for gene in {s.gene for s in path if s.gene}:
                mine = [order.index(s.kind) for s in path if s.gene == gene and s.kind in order]
                assert mine == sorted(mine) and "phenotype" in [s.kind for s in path if s.gene == gene]


def test_report_carries_versions_and_input_hash(tmp_path: Path) -> None:
    out = make_report(tmp_path, SCENARIOS[0])
    report = DrugReport.model_validate_json(out.read_text())
    vcf = tmp_path / "in.vcf"
    assert report.pgx_version == __version__
    assert report.rules_version == load_rules().version and report.knowledge_version
    assert report.input.sha256 == hashlib.sha256(vcf.read_bytes()).hexdigest()


def test_paroxetine_conversion_is_shown_beside_the_genotype(tmp_path: Path) -> None:
    sc = next(s for s in SCENARIOS if s.get("meds"))
    report = DrugReport.model_validate_json(make_report(tmp_path, sc).read_text())
    [conv] = [c for c in report.samples[0].phenoconversions if c.gene == "CYP2D6"]
    assert (conv.genotype_phenotype, conv.phenotype, conv.medications) == (
        "Normal Metabolizer",
        "Poor Metabolizer",
        ["paroxetine"],
    )
    html = make_report(tmp_path, sc, fmt="html").read_text()
    assert "Normal Metabolizer (genotype) → Poor Metabolizer" in html and "paroxetine" in html


def test_all_drugs_by_default_flagged_first(tmp_path: Path) -> None:
    sc = {"genes": {"CYP2C19": "*2/*2", "TPMT": "*3A/*3A"}}
    report = DrugReport.model_validate_json(make_report(tmp_path, sc).read_text())
    drugs = report.samples[0].drugs
    assert set(load_rules().drugs) <= {d.drug for d in drugs}
    order = ["contraindicated", "change", "caution", "standard", "no_guideline", "cannot_assess"]
    assert [order.index(d.level) for d in drugs] == sorted(order.index(d.level) for d in drugs)
    assert {"clopidogrel", "azathioprine", "mercaptopurine", "thioguanine"} <= {
        d.drug for d in drugs if d.level == "contraindicated"
    }
    # a gene the VCF cannot call (HLA-B without outside calls) never reads as standard
    abacavir = next(d for d in drugs if d.drug == "abacavir")
    assert abacavir.level == "cannot_assess" and "HLA-B" in abacavir.sources[0].reason  # type: ignore[operator]


def test_hostile_sample_name_is_escaped(tmp_path: Path) -> None:
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    out = make_report(tmp_path, {"genes": {"CYP2C19": "*2/*2"}, "drug": "clopidogrel"}, fmt="html", sample=name)
    html = out.read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&quot;x&quot;)" in html


def test_unknown_drug_and_sample_are_one_line_errors(tmp_path: Path) -> None:
    vcf = tmp_path / "in.vcf"
    assert run_pgx("simulate", "-g", "CYP2C19", "-d", "*1/*2", "-o", str(vcf)).returncode == 0
    for args, needle in ((["--drugs", "clopidogrel,notadrug"], "notadrug"), (["--sample", "NOPE"], "NOPE")):
        out = tmp_path / "r.json"
        proc = run_pgx("report", str(vcf), "-f", "json", "-o", str(out), *args)
        assert proc.returncode != 0 and needle in proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert not out.exists()


def test_json_report_and_rule_files_validate_against_the_published_schemas(tmp_path: Path) -> None:
    """What pipelines and editors validate against (schemas/*.json) accepts what pgx writes and ships."""
    jsonschema = pytest.importorskip("jsonschema")
    from tests.conftest import REPO

    out = make_report(tmp_path, {"genes": {"CYP2C19": "*2/*2"}, "meds": ["paroxetine"]})
    schema = json.loads((REPO / "schemas/drug-report.schema.json").read_text())
    jsonschema.validate(json.loads(out.read_text()), schema)
    rule_schema = json.loads((REPO / "schemas/rules-file.schema.json").read_text())
    test_schema = json.loads((REPO / "schemas/rules-tests.schema.json").read_text())
    for f in sorted((REPO / "rules").glob("*.yaml")):
        if f.name in ("manifest.yaml", "curation.yaml") or f.name.startswith("overrides"):
            continue
        jsonschema.validate(yaml.safe_load(f.read_text()), rule_schema)
    for f in sorted((REPO / "rules/tests").glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(f.read_text()), test_schema)


def test_tsv_has_one_row_per_sample_and_drug(tmp_path: Path) -> None:
    from pgx.report.drug_tsv import COLUMNS

    sc = next(s for s in SCENARIOS if s.get("meds"))
    out = make_report(tmp_path, {**sc, "drug": None}, fmt="tsv")
    head, header, *rows = out.read_text().splitlines()
    vcf = tmp_path / "in.vcf"
    assert head.startswith(f"# pgx {__version__}\tknowledge ") and hashlib.sha256(vcf.read_bytes()).hexdigest() in head
    assert header.split("\t") == COLUMNS
    table = {r.split("\t")[1]: dict(zip(COLUMNS, r.split("\t"), strict=True)) for r in rows}
    assert set(load_rules().drugs) <= set(table) and len(rows) == len(table)
    # a CPIC guideline pgx does not encode yet, for a gene the patient has atypical, is shown, not dropped
    extra = {d: r for d, r in table.items() if d not in load_rules().drugs}
    assert "vortioxetine" in extra  # CYP2D6 is a poor metabolizer with paroxetine
    assert all(r["level"] == "cannot_assess" and "does not encode yet" in r["reason"] for r in extra.values())
    codeine = table["codeine"]
    assert (codeine["level"], codeine["action"]) == ("contraindicated", "avoid")
    assert codeine["phenoconversion"] == (
        "CYP2D6: *1/*1 (Poor Metabolizer; activity score 0) [converted from Normal Metabolizer by paroxetine]"
    )
    assert codeine["ambiguous"] == "no" and codeine["sample_warnings"] == ""
    assert "codeine.cpic.cyp2d6-poor-metabolizer" in codeine["rule_ids"]
    assert "DPWG(CYP2C19)=" in table["clomipramine"]["sources"]
