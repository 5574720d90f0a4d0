"""``pgx call`` as a library function: VCF (+ outside calls) -> CallReport.

Stages: read (pgx.vcf) -> assemble genotypes -> match (pgx.matching) -> phenotype
(pgx.phenotype) -> outside calls override -> report model. The CLI and the service call
this; it never prints or exits.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from pgx import __version__
from pgx.errors import UsageError
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.knowledge.schema import Gene
from pgx.matching.caller import call_gene
from pgx.matching.models import Message
from pgx.outside.calls import OutsideCalls, read_outside_calls
from pgx.phenotype.phenotyper import phenotype_gene
from pgx.report.models import CallReport, GeneCall, InputFile, PositionGenotype, RunOptions, SampleResult
from pgx.vcf.genotypes import CopyNumberObservation, GeneGenotype, GeneMatrix, GenotypeAssembler
from pgx.vcf.reader import VcfData, read_vcf, sha256_file
from pgx.vcf.records import ABSENT, Record
from pgx.vcf.targets import targets_for

_CN_ALLELE = re.compile(r"^<CN(\d+)>$")


def _copy_number(data: VcfData, gene: Gene, i: int) -> CopyNumberObservation | None:
    """Total copies of ``gene`` for sample ``i``, from symbolic records covering most of its defined span.

    A CN value wins; otherwise ``<CNn>`` alleles (1000 Genomes style) are summed over the GT, and
    ``<DEL>``/``<DUP>`` alleles in the GT remove or add a copy. A record whose genotype is a
    no-call and that has no CN says nothing about this sample.
    """
    start = min(p.position for p in gene.positions)
    end = max(p.position + len(p.ref) - 1 for p in gene.positions)
    length = end - start + 1
    total: int | None = None
    sources: list[str] = []
    rec: Record
    for rec in data.records.get(gene.chromosome, []):
        if not rec.is_sv or min(end, rec.end) - max(start, rec.pos) + 1 < 0.5 * length:
            continue
        kind = (rec.svtype or next((a for a in rec.alts if a.startswith("<")), "")).strip("<>").split(":")[0].upper()
        gt = [int(a) for a in rec.gt[i] if a != ABSENT]
        copies: int | None = None
        if rec.cn is not None and rec.cn[i] >= 0:
            copies = int(rec.cn[i])
        elif gt and all(a >= 0 for a in gt):
            per_allele = [1] + [_allele_copies(a, kind) for a in rec.alts]
            if all(per_allele[a] is not None for a in gt):
                copies = sum(per_allele[a] for a in gt)  # type: ignore[misc]
        if copies is None:
            continue
        total = copies
        sources.append(f"{kind or 'SV'} record {rec.where}")
    if total is None:
        return None
    return CopyNumberObservation(copies=total, source=", ".join(sources))


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


def _gene_genotype(kb: KnowledgeBase, data: VcfData, gm: GeneMatrix, i: int, n_defined: int) -> GeneGenotype:
    gene = kb.gene(gm.gene)
    notes = list(gm.locus_notes) + gm.sample_notes.get(i, [])
    cn = _copy_number(data, gene, i) if gene.quirks.copy_number is not None else None
    return GeneGenotype.model_construct(
        sample=data.samples[i],
        gene=gm.gene,
        positions=gm.calls(i, slice(0, n_defined)),
        extra=gm.calls(i, slice(n_defined, None)),
        copy_number=cn,
        notes=tuple(notes),
    )


def call_vcf(
    vcf: str | Path,
    *,
    samples: list[str] | None = None,
    outside_calls: str | Path | None = None,
    genes: list[str] | None = None,
    missing_to_ref: bool = False,
    all_matches: bool = False,
    knowledge: KnowledgeBase | None = None,
) -> CallReport:
    kb = knowledge or load_knowledge()
    wanted = _check_genes(kb, genes)
    targets = targets_for(kb)
    data = read_vcf(vcf, targets, samples)
    outside: OutsideCalls | None = read_outside_calls(outside_calls, kb, data.samples) if outside_calls else None
    assembler = GenotypeAssembler(data, targets, missing_to_ref=missing_to_ref)
    gene_caller = _GeneCaller(kb, all_matches)
    results: dict[str, list[GeneCall]] = {s: [] for s in data.samples}
    for gene in kb.vcf_genes():
        if wanted is not None and gene.gene not in wanted:
            continue
        loci = targets.loci_by_gene[gene.gene]
        gm = assembler.gene(gene.gene, loci)
        n_defined = len(gene.positions)
        filled = [gene.positions[j].position for j in np.flatnonzero(gm.filled[:n_defined])]
        filled_note = _filled_note(gene.chromosome, filled) if filled else None
        for i, sample in enumerate(data.samples):
            gg = _gene_genotype(kb, data, gm, i, n_defined)
            call = gene_caller(gene, gg)
            updates: dict[str, object] = {}
            if gg.extra:
                updates["extra_positions"] = [
                    PositionGenotype(position=c.position, rsid=p.rsid, alleles=list(c.alleles))
                    for c, p in zip(gg.extra, gene.quirks.extra_positions, strict=True)
                ]
            if filled_note is not None:
                updates["warnings"] = [*call.warnings, filled_note]
                updates["filled_positions"] = filled
            if updates:
                call = call.model_copy(update=updates)
            if outside is not None:
                call = outside.override(sample, call)
            results[sample].append(call)
    if outside is not None:
        for sample in data.samples:
            results[sample].extend(outside.outside_only_calls(sample, {c.gene for c in results[sample]}, wanted))
    return CallReport(
        pgx_version=__version__,
        knowledge_version=kb.version,
        input=InputFile(
            name=Path(vcf).name,
            sha256=sha256_file(vcf),
            format=data.kind.value,
            samples_in_file=len(data.header.samples),
            build="GRCh38",
            build_evidence=data.evidence.describe(),
            indexed=data.indexed,
        ),
        outside_calls=outside.input_file if outside is not None else None,
        options=RunOptions(samples=samples, missing_to_ref=missing_to_ref, all_matches=all_matches, genes=genes),
        samples=[SampleResult(sample=s, genes=results[s]) for s in data.samples],
    )


class _GeneCaller:
    """Match and phenotype one sample's gene, once per distinct genotype pattern in this run.

    Position calls are interned per gene (see GeneMatrix.calls), so object identity is a cheap,
    exact key. Results are shared between samples and must not be mutated: callers update copies.
    """

    def __init__(self, kb: KnowledgeBase, all_matches: bool) -> None:
        self.kb = kb
        self.all_matches = all_matches
        self.cache: dict[tuple[object, ...], GeneCall] = {}

    def __call__(self, gene: Gene, gg: GeneGenotype) -> GeneCall:
        key = (gg.gene, tuple(map(id, gg.positions)), gg.notes, gg.copy_number)
        hit = self.cache.get(key)
        if hit is None:
            call = phenotype_gene(gene, call_gene(self.kb, gg, self.all_matches))
            call.warnings.extend(Message(code="caveat", message=c) for c in gene.quirks.caveats)
            hit = self.cache[key] = call
        return hit


def _filled_note(chrom: str, filled: list[int]) -> Message:
    """Names every filled position: the one that matters (a common variant the panel dropped) may be any of them."""
    shown = ", ".join(f"{chrom}:{p}" for p in filled)
    return Message(
        code="filled_as_reference",
        message=f"{len(filled)} position(s) absent from the file read as reference (--missing-to-ref): {shown}",
    )


def _check_genes(kb: KnowledgeBase, genes: list[str] | None) -> set[str] | None:
    if not genes:
        return None
    unknown = [g for g in genes if g not in kb.genes]
    if unknown:
        raise UsageError(f"unknown gene {unknown[0]!r}; known genes: {', '.join(sorted(kb.genes))}")
    return set(genes)
