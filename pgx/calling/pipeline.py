"""``pgx call`` as a library function: VCF (+ outside calls) -> CallReport.

Stages: read (pgx.vcf) -> assemble genotypes -> match (pgx.matching) -> phenotype
(pgx.phenotype) -> outside calls override -> report model. The CLI and the service call
this; it never prints or exits.
"""

from __future__ import annotations

from pathlib import Path

from pgx import __version__
from pgx.calling.cohort import GeneCaller
from pgx.calling.models import CallReport, GeneCall, InputFile, RunOptions, SampleResult
from pgx.calling.outside import OutsideCalls, read_outside_calls
from pgx.errors import UsageError
from pgx.fileio import sha256_file
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.vcf.genotypes import GenotypeAssembler
from pgx.vcf.reader import read_vcf
from pgx.vcf.targets import targets_for


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
    caller = GeneCaller(kb, all_matches)
    results: dict[str, list[GeneCall]] = {s: [] for s in data.samples}
    for gene in kb.vcf_genes():
        if wanted is not None and gene.gene not in wanted:
            continue
        gene_calls = caller(assembler, gene)
        for i, sample in enumerate(data.samples):
            call = gene_calls.for_sample(i)
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


def _check_genes(kb: KnowledgeBase, genes: list[str] | None) -> set[str] | None:
    if not genes:
        return None
    unknown = [g for g in genes if g not in kb.genes]
    if unknown:
        raise UsageError(f"unknown gene {unknown[0]!r}; known genes: {', '.join(sorted(kb.genes))}")
    return set(genes)
