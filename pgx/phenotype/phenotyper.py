"""Phenotypes from matched diplotypes, by the rules in each gene's ``phenotyping`` block.

Function-pair genes look up the (sorted) pair of allele functions; activity-score genes sum
activity values (times copy number) and look up the score range. An allele without an
activity value makes the score n/a and the phenotype the gene's indeterminate label.
"""

from __future__ import annotations

from pgx.knowledge.schema import Gene
from pgx.matching.models import DiplotypeMatch, GeneMatch, HaplotypeMatch
from pgx.report.models import DiplotypeCall, GeneCall, HaplotypeCall

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


def activity_score(gene: Gene, haps: list[HaplotypeCall]) -> float | None:
    total = 0.0
    for h in haps:
        if h.activity_value is None:
            return None
        total += h.activity_value * h.copies
    return total


def phenotype_from_score(gene: Gene, score: float | None) -> str:
    ph = gene.phenotyping
    if score is None:
        return ph.indeterminate
    for r in ph.score_ranges:
        if (r.min is None or score >= r.min - 1e-9) and (r.max is None or score <= r.max + 1e-9):
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


def haplotype_call(gene: Gene, h: HaplotypeMatch) -> HaplotypeCall:
    function, activity = allele_facts(gene, h.name)
    return HaplotypeCall(
        name=h.name,
        label=h.label,
        function=function,
        activity_value=activity,
        copies=h.copies,
        missing_positions=list(h.missing_positions),
    )


def diplotype_call(gene: Gene, d: DiplotypeMatch) -> DiplotypeCall:
    haps = [haplotype_call(gene, h) for h in d.haplotypes]
    method = gene.phenotyping.method
    score = None
    phenotype: str | None
    if method == "activity_score":
        score = activity_score(gene, haps)
        phenotype = phenotype_from_score(gene, score)
    elif method == "function_pair":
        phenotype = phenotype_from_functions(gene, [h.function for h in haps])
    elif method == "haplotype":
        phenotype = gene.phenotyping.haplotype_phenotypes.get(haps[0].name, gene.phenotyping.indeterminate)
    else:
        phenotype = None
    return DiplotypeCall(name=d.name, haplotypes=haps, score=d.score, phenotype=phenotype, activity_score=score)


def distinct(values: list) -> list:  # type: ignore[type-arg]
    return list(dict.fromkeys(v for v in values if v is not None))


def phenotype_gene(gene: Gene, match: GeneMatch) -> GeneCall:
    dips = [diplotype_call(gene, d) for d in match.diplotypes]
    return GeneCall(
        gene=match.gene,
        status=match.status,
        diplotypes=dips,
        phenotypes=distinct([d.phenotype for d in dips]),
        activity_scores=distinct([d.activity_score for d in dips]),
        reason_code=match.reason_code,
        reason=match.reason,
        phased=match.phased,
        effectively_phased=match.effectively_phased,
        positions_total=match.positions_total,
        positions_called=match.positions_called,
        missing_positions=list(match.missing_positions),
        alleles_not_assessable=list(match.alleles_not_assessable),
        variants_found=list(match.variants_found),
        inferred=match.inferred,
        other_matches=[diplotype_call(gene, d) for d in match.other_matches],
        warnings=list(match.warnings),
    )
