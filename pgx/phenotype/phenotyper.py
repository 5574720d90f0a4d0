"""Phenotypes from allele facts, by the rules in each gene's ``phenotyping`` block.

Function-pair genes look up the (sorted) pair of allele functions; activity-score genes look
up the summed score in the gene's score ranges. An allele without an activity value makes the
score n/a and the phenotype the gene's indeterminate label. This stage knows alleles and
phenotypes only; :mod:`pgx.calling.results` puts them on a gene's call.
"""

from __future__ import annotations

from pgx.knowledge.schema import Gene

_FACTS: dict[int, tuple[Gene, dict[str, tuple[str | None, float | None]]]] = {}


def _facts_table(gene: Gene) -> dict[str, tuple[str | None, float | None]]:
    hit = _FACTS.get(id(gene))
    if hit is None or hit[0] is not gene:
        table = {a.name: (a.function, a.activity_value) for a in gene.named_alleles}
        table.update({a.name: (a.function, a.activity_value) for a in gene.structural_alleles})
        hit = _FACTS[id(gene)] = (gene, table)
    return hit[1]


def allele_facts(gene: Gene, name: str) -> tuple[str | None, float | None]:
    """(function, activity value) of a named or structural allele (e.g. the CYP2D6 *5 deletion)."""
    return _facts_table(gene).get(name, (None, None))


def phenotype_from_score(gene: Gene, score: float | None) -> str:
    ph = gene.phenotyping
    if score is None:
        return ph.indeterminate
    for r in ph.score_ranges:
        if r.contains(score):
            return r.phenotype
    return ph.indeterminate


def phenotype_from_functions(gene: Gene, functions: list[str | None]) -> str:
    ph = gene.phenotyping
    if any(f is None for f in functions):
        return ph.indeterminate
    key = sorted(f for f in functions if f is not None)
    for r in ph.function_pairs:
        if sorted(r.functions) == key:
            return r.phenotype
    return ph.indeterminate


def gene_phenotypes(gene: Gene) -> set[str]:
    """Every phenotype label the gene's rules can give (allele statuses aside)."""
    ph = gene.phenotyping
    out = {r.phenotype for r in ph.function_pairs} | {r.phenotype for r in ph.score_ranges}
    out |= set(ph.haplotype_phenotypes.values())
    out.add(ph.indeterminate)
    return out
