"""Entry point of the matching stage: one sample's genotypes for one gene -> GeneMatch."""

from __future__ import annotations

from pgx.knowledge.loader import KnowledgeBase
from pgx.matching.checks import prepare
from pgx.matching.compiled import compiled
from pgx.matching.handlers import (
    apply_unphased_priorities,
    apply_variant_fallback,
    deletion_haplotype,
    expand_duplications,
    haploidise,
    total_copies,
)
from pgx.matching.lowest_function import match_lowest_function
from pgx.matching.matcher import match_diplotypes
from pgx.matching.models import DiplotypeMatch, GeneMatch, Message
from pgx.matching.outcomes import not_called
from pgx.vcf.genotypes import GeneGenotype


def call_gene(kb: KnowledgeBase, gg: GeneGenotype, all_matches: bool = False) -> GeneMatch:
    return _call(kb, gg, all_matches)


def _call(kb: KnowledgeBase, gg: GeneGenotype, all_matches: bool) -> GeneMatch:
    cg = compiled(kb, gg.gene)
    q = cg.gene.quirks
    copies = total_copies(gg) if q.copy_number is not None else None
    cn_note: list[Message] = []
    if copies is not None and gg.copy_number is not None:
        cn_note.append(
            Message(code="copy_number_record", message=f"{gg.gene} copy number {copies} from {gg.copy_number.source}")
        )
    if copies == 0:
        dele = deletion_haplotype(cg)
        return GeneMatch(
            sample=gg.sample,
            gene=gg.gene,
            status="called",
            diplotypes=(DiplotypeMatch(haplotypes=(dele, dele)),),
            positions_total=len(cg.positions),
            warnings=tuple(cn_note),
        )
    work = gg
    if copies == 1:
        work, het = haploidise(gg)
        if het:
            return not_called(
                gg,
                cg,
                None,
                "copy_number",
                f"copy number 1 but heterozygous at {len(het)} position(s), e.g. "
                f"{cg.gene.chromosome}:{het[0]}: the VCF contradicts itself",
                cn_note,
            )
    lowest = q.calling == "lowest_function"
    prep = prepare(cg, work, lowest, allow_haploid=copies == 1).with_leading_warnings(cn_note)
    if prep.failure is not None:
        result = not_called(gg, cg, prep, prep.failure.code, prep.failure.reason)
        return apply_variant_fallback(cg, gg, result)
    if lowest:
        return match_lowest_function(cg, gg, prep)
    priority_mode = bool(q.unphased_priorities) and not prep.effectively_phased
    result = match_diplotypes(cg, gg, prep, all_matches, keep_all=priority_mode)
    if priority_mode:
        result = apply_unphased_priorities(cg, result)
    if result.status != "called":
        return apply_variant_fallback(cg, gg, result)
    if copies == 1:
        dele = deletion_haplotype(cg)
        result = result.model_copy(
            update={
                "diplotypes": tuple(
                    DiplotypeMatch(haplotypes=(*d.haplotypes, dele), score=d.score) for d in result.diplotypes
                )
            }
        )
    elif copies is not None and copies > 2:
        result = expand_duplications(cg, result, copies)
    return result
