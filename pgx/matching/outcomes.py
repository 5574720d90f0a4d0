"""``GeneMatch`` values built from a prepared sample: called, not called, and the haplotypes in them."""

from __future__ import annotations

import numpy as np

from pgx.matching.compiled import CompiledAllele, CompiledGene
from pgx.matching.models import DiplotypeMatch, GeneMatch, HaplotypeMatch, Message, MissingPosition, NotCalledCode
from pgx.matching.prepared import Prepared
from pgx.vcf.genotypes import GeneGenotype


def missing_report(cg: CompiledGene, prep: Prepared) -> tuple[tuple[MissingPosition, ...], tuple[str, ...]]:
    """The sample's missing positions (with the alleles defined there) and the alleles they leave unseen."""
    out = []
    for j in np.flatnonzero(prep.missing):
        p = cg.gene.positions[j]
        out.append(MissingPosition(position=p.position, rsid=p.rsid, alleles=cg.defined_at[j]))
    seen = (cg.defined & ~prep.missing).any(axis=1)
    gone = tuple(cg.alleles[i].name for i in np.flatnonzero(~seen))
    return tuple(out), gone


def haplotype(cg: CompiledGene, a: CompiledAllele, missing: np.ndarray, copies: int = 1) -> HaplotypeMatch:
    """A called haplotype, with the positions it defines that the sample lacks."""
    miss = tuple(cg.positions[j] for j in np.flatnonzero(a.defined & missing))
    label_min = cg.gene.quirks.copy_number.max_copies_label if cg.gene.quirks.copy_number else 3
    return HaplotypeMatch(
        name=a.name, reference=a.reference, missing_positions=miss, copies=copies, copies_label_min=label_min
    )


def not_called(
    gg: GeneGenotype,
    cg: CompiledGene,
    prep: Prepared | None,
    code: NotCalledCode,
    reason: str,
    warnings: list[Message] | None = None,
) -> GeneMatch:
    """A not-called GeneMatch; without ``prep`` (refused before preparation) no position counts as called."""
    missing, gone = missing_report(cg, prep) if prep is not None else ((), ())
    return GeneMatch(
        sample=gg.sample,
        gene=gg.gene,
        status="not_called",
        reason_code=code,
        reason=reason,
        positions_total=len(cg.positions),
        positions_called=int((~prep.missing).sum()) if prep is not None else 0,
        missing_positions=missing,
        alleles_not_assessable=gone,
        phased=prep.phased if prep else False,
        effectively_phased=prep.effectively_phased if prep else False,
        warnings=tuple(warnings if warnings is not None else (prep.warnings if prep else [])),
    )


def called(
    gg: GeneGenotype,
    cg: CompiledGene,
    prep: Prepared,
    diplotypes: list[DiplotypeMatch],
    warnings: list[Message],
    **extra: object,
) -> GeneMatch:
    """A called GeneMatch with the sample's phasing and missing-position report."""
    missing, gone = missing_report(cg, prep)
    return GeneMatch(
        sample=gg.sample,
        gene=gg.gene,
        status="called",
        diplotypes=tuple(diplotypes),
        phased=prep.phased,
        effectively_phased=prep.effectively_phased,
        positions_total=len(cg.positions),
        positions_called=int((~prep.missing).sum()),
        missing_positions=missing,
        alleles_not_assessable=gone,
        warnings=tuple(warnings),
        **extra,
    )
