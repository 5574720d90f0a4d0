"""The two kinds of batch task, the same for every engine: read+match one input for one chunk,
and write one chunk's results.

Tasks take plain, picklable arguments (the plan, indices, option strings) and load the
knowledge and rules themselves (once per process), so a Dask worker on another machine runs
exactly what a local process runs. Only the write task touches the output folder, and it
writes every file through a temporary name and a rename; its slice record goes last.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pgx.batch import outputs
from pgx.batch.models import BatchPlan, SampleStatus, SliceRecord, slice_name
from pgx.batch.plan import STATE
from pgx.calling.cohort import GeneCaller, GeneCalls, gene_evidence
from pgx.calling.models import GeneCall, InputFile
from pgx.errors import BatchError, VcfError
from pgx.fileio import atomic_write_text
from pgx.knowledge.loader import KnowledgeBase, load_knowledge
from pgx.knowledge.schema import Gene
from pgx.vcf.assembly import BuildEvidence
from pgx.vcf.genotypes import GenotypeAssembler
from pgx.vcf.header import Header
from pgx.vcf.opener import FileKind
from pgx.vcf.reader import VcfData, read_header, read_vcf
from pgx.vcf.targets import targets_for


@dataclass
class FileChunk:
    """One input's calls for the chunk's samples that it holds (genes it informs only)."""

    file: int
    input: InputFile
    samples: list[str]
    genes: dict[str, GeneCalls]
    evidence: dict[str, tuple[int, int]]  # gene -> (loci with records, loci inside the file's span)
    failed: dict[str, str] = field(default_factory=dict)  # sample -> why its data is unusable
    seconds: float = 0.0


def record_path(outdir: Path, k: int, s: int) -> Path:
    return outdir / STATE / "chunks" / f"{slice_name(k, s)}.json"


def chunk_job(plan: BatchPlan, k: int) -> BatchPlan:
    """The plan cut down to chunk ``k``'s samples: what its write tasks are shipped (a
    biobank-sized plan is megabytes, and there are many slices)."""
    r = plan.chunk(k)
    return plan.model_copy(
        update={"samples": plan.samples[r.start : r.stop], "files": plan.files[r.start : r.stop], "chunks": [0]}
    )


@dataclass
class FileCalls:
    """One input read once, called chunk by chunk."""

    file: int
    chunks: dict[int, FileChunk]


def read_input(plan: BatchPlan, f: int, chunks: list[int], knowledge: str | None) -> FileCalls:
    """Read input ``f`` once for the samples of ``chunks`` and call every gene it informs, a chunk at a time.

    The file is read once however many chunks there are (a biobank file is read in full for
    each pass); only the PGx records are kept, as small integer arrays, and genotype matrices
    are built per chunk, so memory follows the chunk size. A record that is bad for one sample
    (an impossible allele index, say) fails that sample, which is left out and the file read
    again; a fault of the file itself stops the batch.
    """
    started = time.perf_counter()
    kb = load_knowledge(knowledge)
    inp = plan.inputs[f]
    header, _, _ = read_header(inp.path)
    present = set(header.samples)
    members = {k: [plan.samples[i] for i in plan.chunk(k)] for k in chunks}
    wanted = [s for k in chunks for s in members[k] if s in present]
    failed: dict[str, str] = {}
    targets = targets_for(kb)
    while True:
        probe = wanted or [next((s for s in header.samples if s not in failed), "")]
        if not probe[0]:
            raise BatchError(inp.path, "every sample of this file has unusable data")
        try:
            data = read_vcf(inp.path, targets, probe)
            break
        except VcfError as exc:
            if exc.sample is None or exc.sample in failed:
                raise
            failed[exc.sample] = str(exc)
            if exc.sample in wanted:
                wanted.remove(exc.sample)
    row = {s: i for i, s in enumerate(data.samples)} if wanted else {}
    described = InputFile(
        name=inp.name,
        sha256=inp.sha256,
        format=inp.format,
        samples_in_file=inp.samples_in_file,
        build="GRCh38",
        build_evidence=data.evidence.describe(),
        indexed=data.indexed,
    )
    caller = GeneCaller(kb)
    evidence: dict[str, tuple[int, int]] = {}
    out: dict[int, FileChunk] = {}
    read_seconds = time.perf_counter() - started
    for k in chunks:
        t0 = time.perf_counter()
        member_set = set(members[k])
        names = [s for s in members[k] if s in row]
        assembler = GenotypeAssembler(
            data.subset(np.array([row[s] for s in names], dtype=np.int64)),
            targets,
            missing_to_ref=plan.options.missing_to_ref,
        )
        genes: dict[str, GeneCalls] = {}
        for gene in _genes(kb, plan):
            if gene.gene not in evidence:
                evidence[gene.gene] = gene_evidence(assembler, gene)
            ev = evidence[gene.gene]
            if ev[0] or (ev[1] and plan.options.missing_to_ref):
                genes[gene.gene] = caller(assembler, gene)
        out[k] = FileChunk(
            file=f,
            input=described,
            samples=names,
            genes=genes,
            evidence=evidence,
            failed={s: r for s, r in failed.items() if s in member_set},
            seconds=time.perf_counter() - t0 + read_seconds / len(chunks),
        )
    return FileCalls(file=f, chunks=out)


def pick(calls: FileCalls, k: int) -> FileChunk:
    """Chunk ``k`` of an input's calls (a Dask task, so each write is sent only its chunk)."""
    return calls.chunks[k]


def _genes(kb: KnowledgeBase, plan: BatchPlan) -> list[Gene]:
    wanted = plan.options.genes
    return [g for g in kb.vcf_genes() if wanted is None or g.gene in wanted]


def assign_genes(kb: KnowledgeBase, plan: BatchPlan, parts: list[FileChunk]) -> dict[str, int | None]:
    """Which input each gene is read from: the one with records at its positions.

    Two inputs with records for one gene would have to be merged record by record, which pgx
    does not guess at: that is refused. With --missing-to-ref, a gene no input has records
    for is read from the input whose span covers it (an all-reference stretch of a
    per-chromosome file); otherwise it has no data.
    """
    owners: dict[str, int | None] = {}
    for gene in _genes(kb, plan):
        with_records = [p.file for p in parts if p.evidence[gene.gene][0]]
        spanning = [p.file for p in parts if p.evidence[gene.gene][1]] if plan.options.missing_to_ref else []
        pick = with_records or spanning
        if len(pick) > 1:
            names = " and ".join(plan.inputs[f].name for f in pick[:2])
            raise BatchError(
                plan.inputs[pick[0]].path,
                f"{gene.gene} is in both {names}",
                hint="pgx batch joins files holding different genes or chromosomes of the same samples",
            )
        owners[gene.gene] = pick[0] if pick else None
    return owners


@functools.lru_cache(maxsize=256)
def no_data_call(kb: KnowledgeBase, gene: str, missing_to_ref: bool) -> GeneCall:
    """What a sample's call is for a gene none of the inputs holds: exactly what calling it from
    a file without records there gives."""
    empty = VcfData(
        path="",
        kind=FileKind.VCF,
        header=Header(fileformat="VCFv4.2", samples=["-"]),
        samples=["-"],
        records={},
        evidence=BuildEvidence(),
        indexed=False,
    )
    assembler = GenotypeAssembler(empty, targets_for(kb), missing_to_ref=missing_to_ref)
    return GeneCaller(kb)(assembler, kb.gene(gene)).calls[0]


def not_in_input_call(kb: KnowledgeBase, gene: str, source: str) -> GeneCall:
    return GeneCall(
        gene=gene,
        status="not_called",
        reason_code="not_in_input",
        reason=f"sample is not in {source}, the input holding {gene}",
        positions_total=len(kb.gene(gene).positions),
    )


def write_slice(
    job: BatchPlan,
    k: int,
    s: int,
    parts: list[FileChunk],
    outdir: str,
    knowledge: str | None,
    rules: str | None,
    meds: dict[str, list[str]],
) -> SliceRecord:
    """Every result file of slice ``s`` of chunk ``k``, synced, then its record.

    Redone after a crash, it rewrites the same bytes: nothing in a result depends on timing.
    """
    started = time.perf_counter()
    out = Path(outdir)
    kb = load_knowledge(knowledge)
    owners = assign_genes(kb, job, parts)
    taken: dict[int, list[str]] = {}
    for gene, f in owners.items():
        if f is not None:
            taken.setdefault(f, []).append(gene)
    several = len(job.inputs) > 1
    inputs = [p.input.model_copy(update={"genes": taken.get(p.file, [])}) if several else p.input for p in parts]
    by_file = {p.file: p for p in parts}
    positions = {p.file: {s: i for i, s in enumerate(p.samples)} for p in parts}
    writer = outputs.ChunkWriter(job, out, kb, inputs, rules=rules)
    statuses: list[SampleStatus] = []
    for i in job.slices(0)[s]:
        sample = job.samples[i]
        reasons = [p.failed[sample] for p in parts if sample in p.failed]
        if reasons:
            statuses.append(SampleStatus(sample=sample, status="failed", reason="; ".join(reasons)))
            continue
        calls: list[GeneCall] = []
        for gene, f in owners.items():
            if f is None:
                calls.append(no_data_call(kb, gene, job.options.missing_to_ref))
            elif sample in positions[f]:
                calls.append(by_file[f].genes[gene].for_sample(positions[f][sample]))
            else:
                calls.append(not_in_input_call(kb, gene, job.inputs[f].name))
        statuses.append(writer.sample(i, calls, meds.get(sample, [])))
    writer.finish(slice_name(k, s))
    os.sync()  # the slice's files reach the disk before the record that vouches for them
    record = SliceRecord(
        chunk=k,
        slice=s,
        samples=statuses,
        inputs=inputs,
        seconds={
            "read_match": round(sum(p.seconds for p in parts), 3),
            "write": round(time.perf_counter() - started, 3),
        },
    )
    atomic_write_text(record_path(out, k, s), record.model_dump_json() + "\n")
    return record
