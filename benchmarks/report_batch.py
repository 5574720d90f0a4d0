"""Drug reports for a whole cohort: how long the rules stage takes, and whether its flags look sane.

Why: unit tests check single patients against guideline answers. This script runs the report
stage (phenoconversion, rule engine, evidence, alternatives) on all 3,202 1000 Genomes samples
and checks what only a population can show:

1. every sample gets a flag level for every drug with rules (no drug silently missing);
2. the share of samples flagged for the textbook drug-gene pairs is close to the share of
   the phenotypes that drive them (clopidogrel avoid = CYP2C19 intermediate + poor
   metabolizers; a mismatch means a rule or a phenotype mapping is wrong);
3. how long the report stage takes for the cohort, without and with a co-medication that
   converts CYP2D6 (paroxetine), and its peak memory.

Calls come from the per-gene 1000 Genomes files in panel mode (``missing_to_ref``; see the
shared README), gene by gene, merged per sample. HLA genes are not in a VCF, so HLA drugs
are "cannot assess" for everyone, which the script also checks.

    /tmp/dev/bin/python benchmarks/report_batch.py                  # print the section
    /tmp/dev/bin/python benchmarks/report_batch.py --write          # and record it in RESULTS.md
    /tmp/dev/bin/python benchmarks/report_batch.py --cohort-vcf /tmp/cohort.vcf.gz --samples 1000
        # also write a simulated multi-sample VCF for timing the `pgx report` command with farm-bench
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from results_md import RESULTS, write_section

import pgx
from pgx.api import assess
from pgx.calling.models import CallReport
from pgx.calling.pipeline import call_vcf
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.report.models import DrugReport
from pgx.rules.loader import load_rules

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "1kgp"
SECTION = "## Drug reports for the 1000 Genomes cohort (3202 samples)"

# (drug, expected action, gene, phenotypes that should trigger it): the share of samples with
# the action must equal the share with those phenotypes (CPIC source).
PAIRS = [
    (
        "clopidogrel",
        "avoid",
        "CYP2C19",
        {"Intermediate Metabolizer", "Likely Intermediate Metabolizer", "Poor Metabolizer", "Likely Poor Metabolizer"},
    ),
    ("codeine", "avoid", "CYP2D6", {"Poor Metabolizer", "Ultrarapid Metabolizer"}),
    ("simvastatin", "avoid", "SLCO1B1", {"Poor Function", "Decreased Function", "Possible Decreased Function"}),
    ("fluorouracil", "reduce_dose", "DPYD", {"Intermediate Metabolizer"}),
    ("tacrolimus", "increase_dose", "CYP3A5", {"Normal Metabolizer", "Intermediate Metabolizer"}),
]


def cohort_calls(data: Path, kb: KnowledgeBase) -> CallReport:
    """One CallReport with every gene of every sample, from the per-gene panel files."""
    merged: CallReport | None = None
    by_sample: dict[str, list] = {}
    for vcf in sorted(data.glob("*.vcf.gz")):
        gene = vcf.name.split(".")[0]
        if gene not in kb.genes:
            continue
        report = call_vcf(vcf, genes=[gene], missing_to_ref=True, knowledge=kb)
        merged = merged or report
        for s in report.samples:
            by_sample.setdefault(s.sample, []).extend(s.genes)
    assert merged is not None, f"no VCFs in {data}"
    samples = [
        s.model_copy(update={"genes": sorted(by_sample[s.sample], key=lambda g: g.gene)}) for s in merged.samples
    ]
    genes = [[g.gene for g in s.genes] for s in samples]
    assert all(len(g) == len(set(g)) for g in genes), "a gene was called twice for a sample"
    return merged.model_copy(update={"samples": samples})


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


def check(report: DrugReport, drugs: list[str]) -> list[str]:
    problems = []
    for s in report.samples:
        got = {d.drug for d in s.drugs}
        if set(drugs) - got:
            problems.append(f"{s.sample}: drugs missing from the report: {sorted(set(drugs) - got)[:5]}")
        # beyond the rule base, only guidelines pgx does not encode, and only as "cannot assess"
        extra = [d for d in s.drugs if d.drug not in drugs and d.level != "cannot_assess"]
        if extra:
            problems.append(f"{s.sample}: drugs without rules flagged {extra[0].level}: {extra[0].drug}")
    return problems


def total_cells(report: DrugReport) -> int:
    return sum(len(s.drugs) for s in report.samples)


def pair_rows(report: DrugReport) -> list[tuple[str, str, int, int, int]]:
    rows = []
    for drug, action, gene, phenotypes in PAIRS:
        with_action = with_pheno = both = 0
        for s in report.samples:
            flag = next(d for d in s.drugs if d.drug == drug)
            cpic = {src.action for src in flag.sources if src.source == "CPIC"}
            call = next((g for g in s.genes if g.gene == gene), None)
            pheno = (
                call is not None
                and call.status == "called"
                and set(call.phenotypes) <= phenotypes
                and bool(call.phenotypes)
            )
            acted = action in cpic
            with_action += acted
            with_pheno += pheno
            both += acted and pheno
        rows.append((drug, f"{action} ({gene} {', '.join(sorted(phenotypes))})", with_action, with_pheno, both))
    return rows


def simulated_cohort(path: Path, n: int, kb: KnowledgeBase) -> None:
    """A multi-sample VCF of random diplotypes (60 % reference alleles) for timing the CLI."""
    rng = random.Random(20261125)
    lines = ["sample\tgene\tdiplotype"]
    genes = [g for g in kb.vcf_genes() if g.quirks.ploidy != "x_linked"]
    for i in range(n):
        for g in genes:
            names = [a.name for a in g.named_alleles]
            ref = next(a.name for a in g.named_alleles if a.reference)
            pair = [ref if rng.random() < 0.6 else rng.choice(names) for _ in range(2)]
            lines.append(f"S{i:05d}\t{g.gene}\t{pair[0]}/{pair[1]}")
    spec = path.with_suffix(".spec.tsv")
    spec.write_text("\n".join(lines) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pgx", "simulate", "--spec", str(spec), "-o", str(path), "--index"], check=True
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA / "GRCh38")
    ap.add_argument("--write", action="store_true", help="record the section in benchmarks/RESULTS.md")
    ap.add_argument("--cohort-vcf", type=Path, help="also write a simulated multi-sample VCF here")
    ap.add_argument("--samples", type=int, default=1000, help="samples in the simulated VCF")
    args = ap.parse_args()
    kb, rb = load_knowledge(), load_rules()
    if args.cohort_vcf:
        simulated_cohort(args.cohort_vcf, args.samples, kb)
        print(f"wrote {args.cohort_vcf} ({args.samples} samples)")
    calls, call_wall, _ = timed(cohort_calls, args.data, kb)
    plain, wall, cpu = timed(assess, calls, knowledge=kb, rules=rb)
    load_rules.cache_clear()  # a fresh rule base: the second run must not reuse the first one's outcomes
    rb2 = load_rules()
    conv, wall_m, cpu_m = timed(assess, calls, medications=["paroxetine"], knowledge=kb, rules=rb2)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    problems = check(plain, rb.drugs) + check(conv, rb.drugs)
    n = len(plain.samples)
    levels = Counter(d.level for s in plain.samples for d in s.drugs)
    per_sample = Counter(sum(d.level in ("contraindicated", "change") for d in s.drugs) for s in plain.samples)
    if levels["cannot_assess"] > total_cells(plain) // 2:
        problems.append(f"{levels['cannot_assess']} of {total_cells(plain)} drug flags are cannot_assess")
    hla = {d.level for s in plain.samples for d in s.drugs if d.drug == "abacavir"}
    if hla != {"cannot_assess"}:
        problems.append(f"abacavir without HLA-B calls should be cannot_assess for everyone, got {hla}")
    rows = pair_rows(plain)
    absent = {gene for _, _, gene, _ in PAIRS if not (args.data / f"{gene}.vcf.gz").exists()}
    for (drug, what, acted, pheno, both), (_, _, gene, _) in zip(rows, PAIRS, strict=True):
        if gene in absent:
            continue
        if pheno < n // 100:
            problems.append(f"{drug}: only {pheno} samples have {what.split('(')[1].rstrip(')')}: calls missing?")
        if not (acted == pheno == both):
            problems.append(
                f"{drug}: {acted} samples get {what.split(' (')[0]}, {pheno} have the phenotypes, {both} both"
            )
    codeine = [
        sum(next(d for d in s.drugs if d.drug == "codeine").action in ("avoid", "contraindicated") for s in r.samples)
        for r in (plain, conv)
    ]
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "?"
    out = [
        SECTION,
        "",
        "Written by `benchmarks/report_batch.py --write`: the 1000 Genomes per-gene files called in panel mode",
        "and merged per sample, then `pgx.api.assess` for every drug with rules, without and with",
        "`--meds paroxetine`.",
        "",
        f"- Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, pgx {pgx.__version__} (source {commit}), "
        f"knowledge {kb.version}, rules {rb.version}",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- {n} samples × {len(rb.drugs)} drugs; calling all genes {call_wall:.1f} s",
        f"- Report stage: {wall:.1f} s wall, {cpu:.1f} s CPU ({1000 * wall / n:.1f} ms per sample); "
        f"with paroxetine {wall_m:.1f} s; peak RSS {peak:.0f} MiB",
        "",
        "### Flag levels (all samples × drugs, no co-medication)",
        "",
        "| level | count | share |",
        "|---|---|---|",
    ]
    total = sum(levels.values())
    for lv in ("contraindicated", "change", "caution", "standard", "no_guideline", "cannot_assess"):
        out.append(f"| {lv} | {levels[lv]} | {levels[lv] / total:.1%} |")
    out += [
        "",
        f"Samples by number of drugs flagged contraindicated or change: median "
        f"{sorted(k for k, c in per_sample.items() for _ in range(c))[n // 2]}, "
        f"max {max(per_sample)}, none {per_sample[0]}.",
        "",
        "### Textbook pairs: share flagged = share with the driving phenotype (CPIC)",
        "",
        "| drug | action (phenotypes) | samples with action | with phenotype | both |",
        "|---|---|---|---|---|",
    ]
    out += [f"| {d} | {w} | {a} | {p} | {b} |" for d, w, a, p, b in rows]
    out += [f"\n{', '.join(sorted(absent))}: no file for this build in the data, so not checked."] if absent else []
    out += [
        "",
        f"Codeine avoid/contraindicated: {codeine[0]} samples without co-medication, {codeine[1]} with "
        "paroxetine (a strong CYP2D6 inhibitor makes every CYP2D6 result a poor metabolizer).",
        "",
    ]
    out += ["Checks: " + ("all passed" if not problems else f"{len(problems)} FAILED")] + [f"- {p}" for p in problems]
    text = "\n".join(out) + "\n"
    print(text)
    if args.write:
        write_section(SECTION, text, RESULTS)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
