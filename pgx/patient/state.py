"""Stage boundary phenotypes -> rules: what the rule engine sees of a patient.

Each gene has one *option* per candidate diplotype (ties stay ties), carrying the diplotype,
phenotype, activity score and, for allele-status genes, which alleles are present. A gene
that was not called has no options and a reason. Phenoconversion (co-medications) may
replace an option's phenotype; the genotype-derived one is kept beside it.
"""

from __future__ import annotations

import re

from pydantic import Field

from pgx.calling.models import GeneCall
from pgx.model import Model

_STATUS = re.compile(r"^(\*[\d:]+)\s+(positive|negative)$", re.I)


class Conversion(Model):
    """A phenotype changed by co-medication (phenoconversion)."""

    genotype_phenotype: str | None
    genotype_activity_score: float | None = None
    perpetrators: tuple[str, ...]
    effect: str  # e.g. "strong inhibitor"
    note: str


class GeneOption(Model):
    diplotype: str | None = None
    phenotype: str | None = None
    activity_score: float | None = None
    allele_status: dict[str, bool] = Field(default_factory=dict)
    conversion: Conversion | None = None


class GeneResult(Model):
    gene: str
    called: bool
    options: tuple[GeneOption, ...] = ()
    reason: str | None = None  # why not called
    source: str = "vcf"
    variants: dict[str, tuple[str | None, ...]] = Field(
        default_factory=dict, description="Extra positions reported with the gene (position -> alleles)"
    )


class PatientState(Model):
    sample: str
    genes: dict[str, GeneResult]
    medications: tuple[str, ...] = ()

    def result(self, gene: str) -> GeneResult:
        return self.genes.get(gene) or GeneResult(gene=gene, called=False, reason=f"{gene} is not in the input")


def gene_result(call: GeneCall) -> GeneResult:
    variants = {str(p.position): tuple(p.alleles) for p in call.extra_positions}
    if call.status != "called":
        return GeneResult(gene=call.gene, called=False, reason=call.reason, source=call.source, variants=variants)
    statuses: dict[str, bool] = {}
    for p in call.phenotypes:
        m = _STATUS.match(p)
        if m:
            statuses[m.group(1)] = m.group(2).lower() == "positive"
    options = []
    for d in call.diplotypes:
        phenotype = d.phenotype if not statuses else None
        options.append(
            GeneOption(
                diplotype=d.name if d.haplotypes else None,
                phenotype=phenotype,
                activity_score=d.activity_score,
                allele_status=statuses,
            )
        )
    if not options and statuses:
        options.append(GeneOption(allele_status=statuses))
    return GeneResult(gene=call.gene, called=True, options=tuple(options), source=call.source, variants=variants)


def patient_state(sample: str, calls: list[GeneCall], medications: list[str] | None = None) -> PatientState:
    return PatientState(
        sample=sample,
        genes={c.gene: gene_result(c) for c in calls},
        medications=tuple(m.strip().lower() for m in medications or [] if m.strip()),
    )


def from_phenotypes(
    sample: str,
    phenotypes: dict[str, str],
    activity_scores: dict[str, float] | None = None,
    diplotypes: dict[str, str] | None = None,
    medications: list[str] | None = None,
) -> PatientState:
    """A patient described directly by results (rule tests, rule diffs, what-if questions)."""
    genes: dict[str, GeneResult] = {}
    names = set(phenotypes) | set(activity_scores or {}) | set(diplotypes or {})
    for gene in names:
        p = phenotypes.get(gene)
        statuses = {}
        m = _STATUS.match(p or "")
        if m:
            statuses = {m.group(1): m.group(2).lower() == "positive"}
            p = None
        genes[gene] = GeneResult(
            gene=gene,
            called=True,
            options=(
                GeneOption(
                    phenotype=p,
                    activity_score=(activity_scores or {}).get(gene),
                    diplotype=(diplotypes or {}).get(gene),
                    allele_status=statuses,
                ),
            ),
        )
    return PatientState(sample=sample, genes=genes, medications=tuple(m.lower() for m in medications or []))
