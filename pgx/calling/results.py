"""A gene's call result from its match: haplotypes with their function, diplotypes with their phenotype.

The matcher says which named alleles fit; this module adds what the knowledge base says of
them (function, activity value) and the phenotype each candidate diplotype gives, and keeps
the distinct phenotypes and scores over all tied candidates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from pgx.calling.models import DiplotypeCall, GeneCall, HaplotypeCall
from pgx.knowledge.schema import Gene
from pgx.matching.models import DiplotypeMatch, GeneMatch, HaplotypeMatch
from pgx.phenotype.phenotyper import allele_facts, phenotype_from_functions, phenotype_from_score

T = TypeVar("T")


def distinct(values: Iterable[T | None]) -> list[T]:
    """The values in first-seen order, once each, without None."""
    return list(dict.fromkeys(v for v in values if v is not None))


def activity_score(haps: list[HaplotypeCall]) -> float | None:
    """Sum of activity values times copies; None when any allele has no activity value."""
    total = 0.0
    for h in haps:
        if h.activity_value is None:
            return None
        total += h.activity_value * h.copies
    return total


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
        score = activity_score(haps)
        phenotype = phenotype_from_score(gene, score)
    elif method == "function_pair":
        phenotype = phenotype_from_functions(gene, [h.function for h in haps])
    elif method == "haplotype":
        phenotype = gene.phenotyping.haplotype_phenotypes.get(haps[0].name, gene.phenotyping.indeterminate)
    else:
        phenotype = None
    return DiplotypeCall(name=d.name, haplotypes=haps, score=d.score, phenotype=phenotype, activity_score=score)


def gene_call(gene: Gene, match: GeneMatch) -> GeneCall:
    dips = [diplotype_call(gene, d) for d in match.diplotypes]
    return GeneCall(
        gene=match.gene,
        status=match.status,
        diplotypes=dips,
        phenotypes=distinct(d.phenotype for d in dips),
        activity_scores=distinct(d.activity_score for d in dips),
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
