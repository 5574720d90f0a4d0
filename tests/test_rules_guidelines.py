"""The rule base against the guideline tables it was imported from (needs ../shared).

Two independent checks on rows sampled from panno/guidelines.tsv and pypgx/recommendation-table.csv:
the engine, given the row's phenotype, decides with exactly the rule imported from that row;
and the action it gives agrees with what the row's text plainly says, read by a keyword
oracle written here, separately from the importer's classifier.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from pgx.knowledge.loader import KnowledgeBase
from pgx.rules.coverage import CoverageReport, coverage
from pgx.rules.importer import read_source_rows
from pgx.rules.loader import load_rules
from pgx.rules.schema import LookupRule
from tests.conftest import needs_shared

pytestmark = needs_shared

# Genes and phenotype wordings the rule base knowingly does not cover (see rules/curation.yaml).
NOT_COVERED = re.compile(r"gene CYP2C8 is not covered|UGT1A1 phenotype 'Ultrarapid Metabolizer'")

FAMILY = {
    "contraindicated": "avoid",
    "avoid": "avoid",
    "reduce_dose": "dose",
    "increase_dose": "dose",
    "dose_by_algorithm": "dose",
    "standard_dosing": "standard",
    "monitor": "uncertain",
    "insufficient_evidence": "uncertain",
}
# What a row says when it says one thing only. Deliberately crude and independent of the
# importer: rows matching several families (or none) are not judged by the oracle.
ORACLE = {
    "avoid": re.compile(
        r"^(avoid (use of )?{drug}|do not use|use an alternative|select an alternative|"
        r"choose an alternative|consider an alternative|{drug} is contra-?indicated)",
        re.I,
    ),
    "dose": re.compile(
        r"^(reduce|decrease|increase|use \d+ ?% of|start with \d+ ?%|initiate .{0,40}\d+ ?% of|"
        r"consider a \d+ ?% reduction)",
        re.I,
    ),
    "standard": re.compile(
        r"^(initiate therapy with (the )?(recommended|standard) (starting )?dose|"
        r"use (the )?label[- ]recommended|no action (is )?(needed|required)|"
        r"use .{0,40} according to the product label)",
        re.I,
    ),
    "uncertain": re.compile(r"^no recommendation\.?$", re.I),
}


def oracle(text: str, drug: str = "") -> str | None:
    text = text.strip().strip('"').strip()
    hits = {
        fam
        for fam, rx in ORACLE.items()
        if re.search(rx.pattern.replace("{drug}", re.escape(drug) if drug else "THE DRUG"), text, re.I)
    }
    return hits.pop() if len(hits) == 1 else None


@pytest.fixture(scope="module")
def report(kb: KnowledgeBase, shared: Path) -> CoverageReport:
    return coverage(kb, load_rules(), shared / "data")


def test_every_cpic_and_dpwg_row_maps_to_exactly_one_rule(report: CoverageReport) -> None:
    problems = [
        f"{r.row.table} {r.row.row_id} {r.row.drug}: {r.status} {r.reason} {r.rule_ids}"
        for r in report.problems()
        if not (r.status == "not_mapped" and NOT_COVERED.search(r.reason)) and r.status != "excluded"
    ]
    assert problems == []
    # rows left out on purpose are few and each says why (rules/curation.yaml excluded_rows)
    excluded = [r for r in report.rows if r.status == "excluded"]
    assert len(excluded) <= 2 and all(len(r.reason) > 40 for r in excluded)
    for source, minimum in (("CPIC", 1094), ("DPWG", 172)):
        assert report.counts(source)["one_rule"] >= minimum
    drugs = {
        s: {r.row.drug for r in report.rows if r.row.source == s and r.status == "one_rule"} for s in ("CPIC", "DPWG")
    }
    assert len(drugs["CPIC"]) >= 70 and len(drugs["DPWG"]) >= 50


def test_sampled_rows_get_the_action_of_their_rule(report: CoverageReport) -> None:
    rb = load_rules()
    by_id = {r.id: r for d in rb.drugs for r in rb.rules_for(d)}
    covered = [r for r in report.rows if r.status == "one_rule"]
    rng = random.Random(20261125)
    sample = rng.sample(covered, 150)
    for rc in sample:
        [rule_id] = rc.rule_ids
        rule = by_id[rule_id]
        assert rc.actions == [getattr(rule, "action", "dose_by_algorithm")], rc
        assert rc.row.drug in rule.drugs and rule.source == rc.row.source
        prov = getattr(rule, "provenance", None)
        if prov is not None and prov.table == rc.row.table:
            assert rc.row.row_id in prov.rows, (rule_id, rc.row.row_id)


def test_actions_agree_with_what_the_rows_plainly_say(report: CoverageReport) -> None:
    judged, disagree = 0, []
    rb = load_rules()
    curated = {
        r.id
        for d in rb.drugs
        for r in rb.rules_for(d)
        if isinstance(r, LookupRule) and r.provenance is not None and r.provenance.note
    }
    for rc in report.rows:
        if rc.status != "one_rule" or rc.actions == ["dose_by_algorithm"] or rc.rule_ids[0] in curated:
            continue
        said = oracle(rc.row.text, rc.row.drug)
        if said is None:
            continue
        judged += 1
        if FAMILY[rc.actions[0]] != said:
            disagree.append(
                f"{rc.row.table} {rc.row.row_id} {rc.row.drug}: text says {said}, rule {rc.rule_ids[0]} "
                f"gives {rc.actions[0]}: {rc.row.text[:120]!r}"
            )
    assert judged >= 100
    assert disagree == []


def test_oracle_reads_rows_as_a_curator_would() -> None:
    assert oracle("Avoid codeine use because of potential for toxicity.", "codeine") == "avoid"
    assert oracle("Avoid moderate and strong CYP2D6 inhibitors. Initiate therapy with ...", "tamoxifen") is None
    assert oracle("Reduce starting dose by 50% followed by titration of dose based on toxicity") == "dose"
    assert oracle("Initiate therapy with recommended starting dose.") == "standard"
    assert oracle("Clinical findings should guide use of the drug.") is None


def test_every_row_of_the_tables_is_read(shared: Path) -> None:
    rows = read_source_rows(shared / "data")
    assert sum(r.source == "CPIC" for r in rows) >= 1000 and sum(r.source == "DPWG" for r in rows) == 172


def test_rules_build_reproduces_the_committed_rules(tmp_path: Path, shared: Path) -> None:
    """The shipped rules are exactly what `pgx rules build` makes from the tables plus the curation files."""
    import filecmp
    import shutil

    from tests.conftest import REPO, run_pgx

    out = tmp_path / "rules"
    out.mkdir()
    for f in [REPO / "rules/curation.yaml", *sorted((REPO / "rules").glob("overrides*.yaml"))]:
        shutil.copy(f, out / f.name)
    proc = run_pgx("rules", "build", "--source", str(shared / "data"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (REPO / "rules").glob("*.yaml"))
    assert names == sorted(p.name for p in out.glob("*.yaml"))
    _, mismatch, errors = filecmp.cmpfiles(REPO / "rules", out, names, shallow=False)
    assert not mismatch and not errors, f"rules/ is stale; rerun `pgx rules build`: {mismatch[:5]}"
