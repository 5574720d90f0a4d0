"""A patient described for a question rather than a report: one sample of a VCF, or results typed in.

``pgx graph`` asks "what does this patient's CYP2D6 result mean for codeine?" either of a
sample (``--vcf``) or of results given as ``GENE=PHENOTYPE`` (``--phenotype``). Both become
the same :class:`~pgx.patient.state.PatientState`, before phenoconversion (the flag decision
applies it).
"""

from __future__ import annotations

from pathlib import Path

from pgx.calling.pipeline import call_vcf
from pgx.errors import UsageError
from pgx.knowledge.loader import KnowledgeBase
from pgx.patient.state import PatientState, from_phenotypes, patient_state
from pgx.phenotype.phenotyper import gene_phenotypes, phenotype_from_score


def sample_patient(kb: KnowledgeBase, vcf: str | Path, sample: str | None, medications: list[str]) -> PatientState:
    """The one sample of ``vcf`` (or the one named) as the rules see it."""
    report = call_vcf(vcf, samples=[sample] if sample else None, knowledge=kb)
    if len(report.samples) != 1:
        raise UsageError(f"{vcf} has {len(report.samples)} samples; choose one", field="sample")
    s = report.samples[0]
    return patient_state(s.sample, s.genes, medications)


def described_patient(kb: KnowledgeBase, results: list[str], medications: list[str]) -> PatientState:
    """A patient given as ``GENE=PHENOTYPE`` items (an activity score for activity-score genes)."""
    given: dict[str, str] = {}
    scores: dict[str, float] = {}
    for item in results:
        gene, value = parse_result(kb, item)
        if isinstance(value, float):
            scores[gene] = value
            given[gene] = phenotype_from_score(kb.gene(gene), value)
        else:
            given[gene] = value
    return from_phenotypes("query", given, scores, medications=medications)


def parse_result(kb: KnowledgeBase, item: str) -> tuple[str, str | float]:
    """GENE=PHENOTYPE (or GENE=activity score, or HLA-B='*57:01 positive'), checked against the knowledge base."""
    if "=" not in item:
        raise UsageError(f"{item!r}: expected GENE=PHENOTYPE, e.g. CYP2C19='Poor Metabolizer'", field="phenotype")
    name, value = (part.strip() for part in item.split("=", 1))
    genes = {g.lower(): g for g in kb.genes}
    if name.lower() not in genes:
        raise UsageError(f"{item!r}: unknown gene {name!r}", hint="`pgx genes` lists them", field="phenotype")
    gene = kb.gene(genes[name.lower()])
    ph = gene.phenotyping
    if ph.method == "activity_score":
        try:
            return gene.gene, float(value)
        except ValueError:
            pass
    if ph.method == "allele_status":
        allele, _, status = value.partition(" ")
        if allele in ph.status_alleles and status.lower() in ("positive", "negative"):
            return gene.gene, f"{allele} {status.lower()}"
        choices = ", ".join(f"'{a} positive'" for a in ph.status_alleles)
        raise UsageError(
            f"{item!r}: expected an allele status for {gene.gene}: {choices} (or negative)", field="phenotype"
        )
    known = {p.lower(): p for p in gene_phenotypes(gene)}
    if value.lower() not in known:
        raise UsageError(
            f"{item!r}: {gene.gene} has no phenotype {value!r}",
            hint="one of: " + ", ".join(sorted(known.values())),
            field="phenotype",
        )
    return gene.gene, known[value.lower()]
