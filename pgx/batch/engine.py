"""Run a batch: plan, run the chunks not yet done on an engine, combine, write the manifest.

Engines only schedule the tasks of :mod:`pgx.batch.work`; they never change what a task
computes, so every engine leaves byte-identical result files. ``local`` runs in this process
(one worker) or a process pool; ``dask`` submits the same tasks to a dask.distributed
cluster: a LocalCluster, or the scheduler at ``scheduler`` (the output folder and the inputs
must then be on storage every worker sees at the same paths).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Literal

from pgx.batch import outputs
from pgx.batch.models import BatchManifest, BatchOptions, BatchPlan, SliceRecord
from pgx.batch.plan import DEFAULT_CHUNK, describe, make_plan, read_meds_table, settle_plan
from pgx.batch.work import FileCalls, chunk_job, pick, read_input, record_path, write_slice
from pgx.errors import UsageError
from pgx.fileio import atomic_write_text
from pgx.knowledge.loader import load_knowledge
from pgx.rules.loader import load_rules

Engine = Literal["local", "dask"]
Progress = Callable[[SliceRecord, int], None]  # (finished slice, samples in it)
Todo = dict[int, list[int]]  # chunk -> its slices not yet written


def _check_options(
    workers: int, chunk_size: int, engine: Engine, scheduler: str | None, meds_table: Path | None, report: bool
) -> None:
    for name, value in (("workers", workers), ("chunk_size", chunk_size)):
        if value < 1:
            raise UsageError(f"must be at least 1, not {value}", field=name)
    if scheduler is not None and engine != "dask":
        raise UsageError("needs the dask engine", hint="add {engine} dask", field="scheduler")
    if meds_table is not None and not report:
        raise UsageError("only changes drug reports, and none are asked for", hint="add {report}", field="meds_table")


def _progress_so_far(plan: BatchPlan, outdir: Path) -> tuple[dict[tuple[int, int], SliceRecord], Todo]:
    """The slices a previous run recorded as done (they are complete: records are written last), and the rest."""
    records: dict[tuple[int, int], SliceRecord] = {}
    todo: Todo = {}
    for k in range(len(plan.chunks)):
        for s in range(len(plan.slices(k))):
            f = record_path(outdir, k, s)
            if f.is_file():
                records[(k, s)] = SliceRecord.model_validate_json(f.read_text(encoding="utf-8"))
            else:
                todo.setdefault(k, []).append(s)
    return records, todo


def run_batch(
    vcfs: list[Path],
    outdir: Path,
    *,
    samples_file: Path | None = None,
    meds_table: Path | None = None,
    genes: list[str] | None = None,
    missing_to_ref: bool = False,
    report: bool = False,
    workers: int = 1,
    engine: Engine = "local",
    scheduler: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    knowledge: str | None = None,
    rules: str | None = None,
    on_plan: Callable[[BatchPlan, int], None] | None = None,
    on_slice: Progress | None = None,
) -> BatchManifest:
    started = time.perf_counter()
    _check_options(workers, chunk_size, engine, scheduler, meds_table, report)
    kb = load_knowledge(knowledge)
    unknown = [g for g in genes or [] if g not in kb.genes]
    if unknown:
        raise UsageError(f"unknown gene {unknown[0]!r}; known genes: {', '.join(sorted(kb.genes))}")
    rules_version = None
    if report:
        rules_version = load_rules(rules).version
    options = BatchOptions(
        missing_to_ref=missing_to_ref,
        genes=genes or None,
        report=report,
        meds_table=describe(meds_table, "tsv") if meds_table else None,
        samples_file=describe(samples_file, "text") if samples_file else None,
    )
    plan = make_plan(kb, vcfs, options, samples_file, rules_version, chunk_size)
    meds = read_meds_table(meds_table, set(plan.samples)) if meds_table else {}
    plan, resumed = settle_plan(outdir, plan)
    records, todo = _progress_so_far(plan, outdir)
    done_before = len(records)
    if on_plan is not None:
        on_plan(plan, sum(len(r.samples) for r in records.values()))
    run = _run_dask if engine == "dask" else _run_local
    for record in run(plan, todo, outdir, knowledge, rules, meds, workers, scheduler):
        records[(record.chunk, record.slice)] = record
        if on_slice is not None:
            on_slice(record, len(record.samples))
    new = [r for key, r in records.items() if key[0] in todo and key[1] in todo[key[0]]]
    return _finish(
        plan,
        records,
        outdir,
        {
            "engine": engine,
            "workers": workers,
            "chunks": len(plan.chunks),
            "slices": len(records),
            "slices_done_before": done_before,
            "resumed": resumed,
            "seconds": {
                "wall": round(time.perf_counter() - started, 3),
                "read_match": round(sum({r.chunk: r.seconds["read_match"] for r in new}.values()), 3),
                "write": round(sum(r.seconds["write"] for r in new), 3),
            },
        },
    )


def _meds_for(plan: BatchPlan, meds: dict[str, list[str]], k: int) -> dict[str, list[str]]:
    return {plan.samples[i]: meds[plan.samples[i]] for i in plan.chunk(k) if plan.samples[i] in meds}


def _run_local(
    plan: BatchPlan,
    todo: Todo,
    outdir: Path,
    knowledge: str | None,
    rules: str | None,
    meds: dict[str, list[str]],
    workers: int,
    scheduler: str | None,
) -> Iterator[SliceRecord]:
    if not todo:
        return
    chunks = list(todo)
    n_files = len(plan.inputs)
    jobs = {k: chunk_job(plan, k) for k in chunks}
    if workers == 1:
        calls = [read_input(plan, f, chunks, knowledge) for f in range(n_files)]
        for k, slices in todo.items():
            parts = [calls[f].chunks[k] for f in range(n_files)]
            for s in slices:
                yield write_slice(jobs[k], k, s, parts, str(outdir), knowledge, rules, _meds_for(plan, meds, k))
        return
    # fork shares the loaded knowledge base with the workers; elsewhere they load it once each
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        reading = [pool.submit(read_input, plan, f, chunks, knowledge) for f in range(n_files)]
        read: list[FileCalls] = [fut.result() for fut in reading]
        writes: set[Future[Any]] = set()
        for k, slices in todo.items():
            parts = [read[f].chunks.pop(k) for f in range(n_files)]
            writes.update(
                pool.submit(write_slice, jobs[k], k, s, parts, str(outdir), knowledge, rules, _meds_for(plan, meds, k))
                for s in slices
            )
        while writes:
            done, writes = wait(writes, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()


def _run_dask(
    plan: BatchPlan,
    todo: Todo,
    outdir: Path,
    knowledge: str | None,
    rules: str | None,
    meds: dict[str, list[str]],
    workers: int,
    scheduler: str | None,
) -> Iterator[SliceRecord]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise UsageError(
            "dask needs dask.distributed", hint="pip install 'dask[distributed]'", field="engine"
        ) from None
    if not todo:
        return
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:  # TimeoutError included
            raise UsageError(
                f"cannot reach Dask scheduler {scheduler}: {exc}",
                hint="check the address, or leave out {scheduler} for a local cluster",
                field="scheduler",
            ) from None
    try:
        chunks = list(todo)
        shared_plan = client.scatter(plan, broadcast=True)
        reads = [
            client.submit(read_input, shared_plan, f, chunks, knowledge, pure=False) for f in range(len(plan.inputs))
        ]
        futures = []
        for k, slices in todo.items():
            job = client.scatter(chunk_job(plan, k))
            parts = [client.submit(pick, r, k, pure=False) for r in reads]
            chunk_meds = _meds_for(plan, meds, k)
            futures += [
                client.submit(write_slice, job, k, s, parts, str(outdir), knowledge, rules, chunk_meds, pure=False)
                for s in slices
            ]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _finish(
    plan: BatchPlan, records: dict[tuple[int, int], SliceRecord], outdir: Path, run: dict[str, object]
) -> BatchManifest:
    """Combined tables and the manifest, from the slice records (of this run and earlier ones)."""
    ordered = [records[key] for key in sorted(records)]
    inputs = ordered[0].inputs
    for r in ordered[1:]:
        if r.inputs != inputs:  # the same files read twice cannot differ unless they changed mid-batch
            raise UsageError(
                f"chunk {r.chunk} read the inputs differently from chunk 0; were they modified?",
                hint="remove the output folder and run again",
            )
    written = outputs.combine(outdir, plan, inputs)
    statuses = [s for r in ordered for s in r.samples]
    failed = sum(s.status == "failed" for s in statuses)
    manifest = BatchManifest(
        pgx_version=plan.pgx_version,
        knowledge_version=plan.knowledge_version,
        rules_version=plan.rules_version,
        inputs=inputs,
        options=plan.options,
        outputs={**written, "manifest": "manifest.json"},
        counts={
            "samples": len(statuses),
            "ok": len(statuses) - failed,
            "failed": failed,
            "gene_calls": sum(s.genes_called for s in statuses),
            "gene_not_called": sum(s.genes_not_called for s in statuses),
        },
        samples=statuses,
        run=run,
    )
    atomic_write_text(outdir / "manifest.json", manifest.model_dump_json(indent=2) + "\n")
    os.sync()
    return manifest


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
