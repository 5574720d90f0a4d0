"""What the reader looks for: PGx positions, their footprints and the reference bases around them.

Built once per knowledge base. A VCF record is *relevant* when its reference span overlaps
a target window (a defined position plus the repeat context an indel may shift along) or,
for copy-number genes, when it is a structural record over the gene.
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import Gene, Position
from pgx.variants import VariantKey, changed_span, normalize

CHROM_ALIASES = {"MT": "chrM", "M": "chrM", "chrMT": "chrM"}


def canonical_chrom(name: str) -> str:
    """``1``/``chr1`` -> ``chr1``; ``MT``/``M``/``chrMT`` -> ``chrM``."""
    if name in CHROM_ALIASES:
        return CHROM_ALIASES[name]
    if name.startswith("chr"):
        return name
    if name.isdigit() or name in ("X", "Y"):
        return "chr" + name
    return name


@dataclass(frozen=True)
class Locus:
    """One defined position of one gene, with everything needed to read a sample's allele there."""

    gene: str
    chrom: str
    position: int
    ref: str
    alleles: tuple[str, ...]  # index 0 is REF, then the ALTs, as the definition writes them
    keys: dict[VariantKey, str]  # normalized (pos, ref, alt) -> definition allele string
    footprint_end: int  # last reference base the definition's alleles span
    window_end: int  # last base an equivalent indel representation may start at
    has_indel: bool

    def touches(self, key: VariantKey) -> bool:
        """Does this normalized variant alter the sequence the locus defines?

        Substitutions count only on the defined bases (the reference tool reads nothing else:
        an SNV inside a long deletion's span does not make the deletion locus undocumented).
        Insertions and deletions count anywhere in an indel locus's repeat window, because
        there they change which indel allele the sample carries; at a substitution locus only
        a deletion of its base, or an insertion inside a multi-base definition, counts.
        """
        lo, hi = changed_span(key)
        pos, ref, alt = key
        if len(ref) == len(alt):
            end = self.position if self.has_indel else self.footprint_end
            return not (hi < self.position or lo > end)
        if len(alt) > len(ref):
            after = lo - 0.5  # inserted after this base
            if self.has_indel:
                return self.position <= after <= self.window_end
            return self.position <= after < self.footprint_end
        end = self.window_end if self.has_indel else self.footprint_end
        return not (hi < self.position or lo > end)


@dataclass
class ChromTargets:
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    loci: list[Locus] = field(default_factory=list)
    max_len: int = 1

    def overlapping(self, start: int, end: int) -> list[Locus]:
        """Loci whose window overlaps [start, end]."""
        i = bisect.bisect_left(self.starts, start - self.max_len)
        out = []
        while i < len(self.starts) and self.starts[i] <= end:
            if self.ends[i] >= start:
                out.append(self.loci[i])
            i += 1
        return out


@dataclass
class Targets:
    by_chrom: dict[str, ChromTargets]
    bases: dict[str, dict[int, str]]  # known reference bases per chromosome
    gene_regions: dict[str, tuple[str, int, int]]  # copy-number genes: gene -> (chrom, start, end)
    loci_by_gene: dict[str, list[Locus]]
    grch37: dict[tuple[str, int], str] = field(default_factory=dict)  # (chrom, GRCh37 pos) -> GRCh37 REF
    documented: dict[str, dict[VariantKey, int]] = field(default_factory=dict)  # chrom -> key -> its locus

    def documented_elsewhere(self, chrom: str, key: VariantKey, position: int) -> bool:
        """Is this normalized variant the definition of a different locus?"""
        owner = self.documented.get(chrom, {}).get(key)
        return owner is not None and owner != position

    def base_lookup(self, chrom: str) -> Callable[[int], str | None]:
        return self.bases.get(chrom, {}).get

    def regions(self, pad: int = 0, gap: int = 1000) -> dict[str, list[tuple[int, int]]]:
        """Merged intervals to fetch from an indexed file, per chromosome.

        Windows closer than ``gap`` bases are fetched together: each fetch costs an index
        look-up and a block decompression, which outweighs the lines read in between.
        """
        out: dict[str, list[tuple[int, int]]] = {}
        for chrom, ct in self.by_chrom.items():
            spans = sorted(zip(ct.starts, ct.ends, strict=True))
            merged: list[list[int]] = []
            for s, e in spans:
                s, e = s - pad, e + pad
                if merged and s <= merged[-1][1] + gap:
                    merged[-1][1] = max(merged[-1][1], e)
                else:
                    merged.append([s, e])
            out[chrom] = [(s, e) for s, e in merged]
        for chrom, s, e in self.gene_regions.values():
            out.setdefault(chrom, []).append((s, e))
        return out


def _locus(gene: Gene, pos: Position, base_at: Callable[[int], str | None]) -> Locus:
    alleles = (pos.ref, *pos.alts)
    keys: dict[VariantKey, str] = {}
    for alt in pos.alts:
        keys[normalize(pos.position, pos.ref, alt, base_at)] = alt
    has_indel = any(len(a) != len(pos.ref) for a in pos.alts)
    footprint_end = pos.position + len(pos.ref) - 1
    window_end = footprint_end
    if pos.context is not None:
        window_end = max(window_end, pos.context.start + len(pos.context.sequence) - 1)
    return Locus(
        gene=gene.gene,
        chrom=gene.chromosome,
        position=pos.position,
        ref=pos.ref,
        alleles=alleles,
        keys=keys,
        footprint_end=footprint_end,
        window_end=window_end,
        has_indel=has_indel,
    )


def build_targets(kb: KnowledgeBase, genes: list[str] | None = None) -> Targets:
    bases: dict[str, dict[int, str]] = defaultdict(dict)
    selected = [g for g in kb.vcf_genes() if genes is None or g.gene in genes]
    for gene in selected:
        for pos in (*gene.positions, *gene.quirks.extra_positions):
            known = bases[gene.chromosome]
            for i, b in enumerate(pos.ref.upper()):
                known.setdefault(pos.position + i, b)
            if pos.context is not None:
                for i, b in enumerate(pos.context.sequence):
                    known.setdefault(pos.context.start + i, b)
    by_chrom: dict[str, ChromTargets] = defaultdict(ChromTargets)
    loci_by_gene: dict[str, list[Locus]] = {}
    gene_regions: dict[str, tuple[str, int, int]] = {}
    for gene in selected:
        base_at = bases[gene.chromosome].get
        loci = [_locus(gene, p, base_at) for p in (*gene.positions, *gene.quirks.extra_positions)]
        loci_by_gene[gene.gene] = loci
        if gene.quirks.copy_number is not None and gene.region is not None:
            gene_regions[gene.gene] = (gene.chromosome, gene.region.start, gene.region.end)
    all_loci = sorted((x for ls in loci_by_gene.values() for x in ls), key=lambda x: (x.chrom, x.position))
    for locus in all_loci:
        ct = by_chrom[locus.chrom]
        ct.starts.append(locus.position)
        ct.ends.append(locus.window_end)
        ct.loci.append(locus)
        ct.max_len = max(ct.max_len, locus.window_end - locus.position + 1)
    grch37 = {
        (gene.chromosome, p.grch37.position): p.grch37.ref
        for gene in selected
        for p in gene.positions
        if p.grch37 is not None and p.grch37.position != p.position
    }
    documented: dict[str, dict[VariantKey, int]] = defaultdict(dict)
    for locus in all_loci:
        for key in locus.keys:
            documented[locus.chrom].setdefault(key, locus.position)
    return Targets(
        by_chrom=dict(by_chrom),
        bases=dict(bases),
        gene_regions=gene_regions,
        loci_by_gene=loci_by_gene,
        grch37=grch37,
        documented=dict(documented),
    )


@functools.lru_cache(maxsize=8)
def targets_for(kb: KnowledgeBase) -> Targets:
    return build_targets(kb)
