"""All samples of one gene at once: group samples by genotype pattern, match each pattern once.

A cohort repeats itself: 3,202 genomes carry a few dozen to a few hundred distinct genotype
patterns per gene, and 100,000 carry barely more. The genotype matrices are encoded as small
integers column by column and their rows grouped with ``np.unique``; each distinct row
(alleles, phasing, phase sets, copy number and per-sample read notes at every position of
the gene) is matched and phenotyped once, by the same code as a lone sample, and every
sample with that row shares the result. Identical input rows give identical calls, so the
grouping cannot change an answer; it only removes repeated work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pgx.calling.models import GeneCall, PositionGenotype
from pgx.calling.results import gene_call
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import Gene
from pgx.matching.caller import call_gene
from pgx.matching.models import Message
from pgx.vcf.genotypes import CopyNumberObservation, GeneGenotype, GeneMatrix, GenotypeAssembler
from pgx.vcf.reader import VcfData
from pgx.vcf.records import ABSENT, NO_PS

_CN_ALLELE = re.compile(r"^<CN(\d+)>$")


@dataclass
class GeneCalls:
    """One gene's calls for every sample of a VcfData: ``calls[index[i]]`` is sample i's call."""

    gene: str
    calls: list[GeneCall]
    index: np.ndarray  # (n_samples,) int32

    def for_sample(self, i: int) -> GeneCall:
        return self.calls[int(self.index[i])]


@dataclass
class CopyNumbers:
    """Total gene copies per sample from symbolic records, and which records said so."""

    totals: np.ndarray  # (n,) int, -1 where no record informs the sample
    used: np.ndarray  # (n, R) bool: record r informed sample i
    sources: list[str]  # per record r

    def observation(self, i: int) -> CopyNumberObservation | None:
        if self.totals[i] < 0:
            return None
        source = ", ".join(s for s, u in zip(self.sources, self.used[i], strict=True) if u)
        return CopyNumberObservation(copies=int(self.totals[i]), source=source)


def copy_numbers(data: VcfData, gene: Gene) -> CopyNumbers:
    """Copies of ``gene`` per sample, from symbolic records covering most of its defined span.

    A CN value wins; otherwise ``<CNn>`` alleles (1000 Genomes style) are summed over the GT, and
    ``<DEL>``/``<DUP>`` alleles in the GT remove or add a copy. A record whose genotype is a
    no-call and that has no CN says nothing about that sample; the last informing record counts.
    """
    n = len(data.samples)
    start = min(p.position for p in gene.positions)
    end = max(p.position + len(p.ref) - 1 for p in gene.positions)
    length = end - start + 1
    totals = np.full(n, -1, dtype=np.int64)
    used: list[np.ndarray] = []
    sources: list[str] = []
    for rec in data.records.get(gene.chromosome, []):
        if not rec.is_sv or min(end, rec.end) - max(start, rec.pos) + 1 < 0.5 * length:
            continue
        kind = (rec.svtype or next((a for a in rec.alts if a.startswith("<")), "")).strip("<>").split(":")[0].upper()
        copies = np.full(n, -1, dtype=np.int64)
        per_allele = [1] + [_allele_copies(a, kind) for a in rec.alts]
        # indexed by GT code: -2 (absent second allele) adds nothing, -1 (missing) is unknown
        table = np.array([-1 if c is None else c for c in per_allele] + [0, -1], dtype=np.int64)
        g = rec.gt.astype(np.int64)
        known = (g[:, 0] >= 0) & ((g[:, 1] >= 0) | (g[:, 1] == ABSENT))
        vals = table[g]
        from_gt = known & (vals[:, 0] >= 0) & ((vals[:, 1] >= 0) | (g[:, 1] == ABSENT))
        copies[from_gt] = vals[from_gt, 0] + np.where(g[from_gt, 1] == ABSENT, 0, vals[from_gt, 1])
        if rec.cn is not None:
            has_cn = rec.cn >= 0
            copies[has_cn] = rec.cn[has_cn]
        informs = copies >= 0
        totals[informs] = copies[informs]
        used.append(informs)
        sources.append(f"{kind or 'SV'} record {rec.where}")
    used_m = np.stack(used, axis=1) if used else np.zeros((n, 0), dtype=bool)
    return CopyNumbers(totals=totals, used=used_m, sources=sources)


def gene_evidence(assembler: GenotypeAssembler, gene: Gene) -> tuple[int, int]:
    """How much an input says about ``gene``: (positions or copy-number records it has records for,
    positions inside the span of its records). Sample-independent, so every chunk agrees."""
    informed, spanned = assembler.evidence(assembler.targets.loci_by_gene[gene.gene])
    if gene.quirks.copy_number is not None:
        informed += copy_numbers(assembler.data, gene).used.shape[1]
    return informed, spanned


def _allele_copies(alt: str, kind: str) -> int | None:
    """Copies of the gene an ALT allele stands for on its haplotype."""
    m = _CN_ALLELE.match(alt)
    if m:
        return int(m.group(1))
    if alt.startswith("<DEL") or (kind == "DEL" and not alt.startswith("<")):
        return 0
    if alt.startswith("<DUP") or kind == "DUP":
        return 2
    return None


def _codes(column: np.ndarray) -> np.ndarray:
    """Small integer codes for one column of alleles (str or None): equal codes mean the same object.

    Alleles come from a few shared tables, so equal values are nearly always the same object;
    where they are not, two samples with equal rows fall into two patterns and are matched
    twice, with the same result. Grouping by identity can split, never wrongly merge.
    """
    ids = np.fromiter(map(id, column), dtype=np.int64, count=len(column))
    return np.unique(ids, return_inverse=True)[1].astype(np.int32).ravel()


def pattern_index(gm: GeneMatrix, cn: CopyNumbers | None) -> tuple[np.ndarray, np.ndarray]:
    """(representative sample of each distinct pattern, pattern of each sample).

    A pattern is everything the matcher reads for one sample: both alleles, the phased flag and
    phase set at every position, the copy-number evidence, and any per-sample read note (a
    sample with a note of its own is its own pattern).
    """
    n, m = gm.a1.shape
    cols = [gm.k1[:, j].astype(np.int32) if gm.coded[j] else _codes(gm.a1[:, j]) for j in range(m)]
    cols += [gm.k2[:, j].astype(np.int32) if gm.coded[j] else _codes(gm.a2[:, j]) for j in range(m)]
    cols += [gm.phased[:, j].astype(np.int32) for j in range(m)]
    for j in range(m):
        if (gm.ps[:, j] != NO_PS).any():
            cols.append(np.unique(gm.ps[:, j], return_inverse=True)[1].astype(np.int32))
    if cn is not None:
        cols.append(cn.totals.astype(np.int32))
        cols.extend(cn.used[:, r].astype(np.int32) for r in range(cn.used.shape[1]))
    own = np.zeros(n, dtype=np.int32)
    for i in gm.sample_notes:
        own[i] = i + 1
    cols.append(own)
    keys = np.ascontiguousarray(np.stack(cols, axis=1))
    rows = keys.view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return first, inverse.astype(np.int32).ravel()


class GeneCaller:
    """Match and phenotype a gene for every sample of a VcfData, once per distinct pattern."""

    def __init__(self, kb: KnowledgeBase, all_matches: bool = False) -> None:
        self.kb = kb
        self.all_matches = all_matches

    def __call__(self, assembler: GenotypeAssembler, gene: Gene) -> GeneCalls:
        data = assembler.data
        gm = assembler.gene(gene.gene, assembler.targets.loci_by_gene[gene.gene])
        cn = copy_numbers(data, gene) if gene.quirks.copy_number is not None else None
        first, inverse = pattern_index(gm, cn)
        n_defined = len(gene.positions)
        filled = [gene.positions[j].position for j in np.flatnonzero(gm.filled[:n_defined])]
        filled_note = _filled_note(gene.chromosome, filled) if filled else None
        calls = []
        for i in first:
            gg = GeneGenotype.model_construct(
                sample=data.samples[i],
                gene=gm.gene,
                positions=gm.calls(int(i), slice(0, n_defined)),
                extra=gm.calls(int(i), slice(n_defined, None)),
                copy_number=cn.observation(int(i)) if cn is not None else None,
                notes=tuple(gm.locus_notes) + tuple(gm.sample_notes.get(int(i), [])),
            )
            call = gene_call(gene, call_gene(self.kb, gg, self.all_matches))
            update: dict[str, object] = {
                "warnings": [
                    *call.warnings,
                    *(Message(code="caveat", message=c) for c in gene.quirks.caveats),
                    *([filled_note] if filled_note is not None else []),
                ]
            }
            if gg.extra:
                update["extra_positions"] = [
                    PositionGenotype(position=c.position, rsid=p.rsid, alleles=list(c.alleles))
                    for c, p in zip(gg.extra, gene.quirks.extra_positions, strict=True)
                ]
            if filled_note is not None:
                update["filled_positions"] = filled
            calls.append(call.model_copy(update=update))
        return GeneCalls(gene=gene.gene, calls=calls, index=inverse)


def _filled_note(chrom: str, filled: list[int]) -> Message:
    """Names every filled position: the one that matters (a common variant the panel dropped) may be any of them."""
    shown = ", ".join(f"{chrom}:{p}" for p in filled)
    return Message(
        code="filled_as_reference",
        message=f"{len(filled)} position(s) absent from the file read as reference (--missing-to-ref): {shown}",
    )
