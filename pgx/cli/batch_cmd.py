"""`pgx batch`: a thin shell over pgx.batch.engine.run_batch, with progress on stderr."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pgx.cli.common import Genes, KnowledgeDir, MissingToRef, RulesDir, err

if TYPE_CHECKING:
    from pgx.batch.models import BatchManifest, BatchPlan, SliceRecord

EXIT_SAMPLES_FAILED = 3


class EngineName(str, Enum):
    local = "local"
    dask = "dask"


def batch(
    vcfs: Annotated[
        list[Path],
        typer.Argument(help="VCF/BCF files of the same samples (one, or per gene/chromosome)", show_default=False),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder (created; a rerun resumes it)")],
    samples: Annotated[
        Path | None, typer.Option("--samples", help="File of sample names to call, one per line")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", help="Worker processes [default: all CPUs]")] = 0,
    engine: Annotated[
        EngineName, typer.Option("--engine", help="local processes or a Dask cluster")
    ] = EngineName.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Dask scheduler address (tcp://host:8786); default: a LocalCluster of --workers processes",
        ),
    ] = None,
    meds_table: Annotated[
        Path | None,
        typer.Option("--meds-table", help="TSV of sample<TAB>medications for the drug reports (comma-separated names)"),
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write a drug report (JSON and HTML) per sample")
    ] = False,
    gene: Genes = None,
    missing_to_ref: MissingToRef = False,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", help="Samples per chunk: the unit of memory, work and resumption")
    ] = 10_000,
    knowledge: KnowledgeDir = None,
    rules: RulesDir = None,
) -> None:
    """Call (and report on) every sample of one or more VCFs into a folder, resumably.

    Writes samples/<sample>.json, calls.tsv, calls.parquet and manifest.json (and reports/ with
    --report). Killed or crashed, the same command again finishes the job. Exit code 3: the
    batch finished but some samples failed (their reasons are in manifest.json).
    """
    from pgx.batch.engine import default_workers, run_batch

    n_workers = workers or default_workers()
    progress = _Progress(output)
    manifest = run_batch(
        vcfs,
        output,
        samples_file=samples,
        meds_table=meds_table,
        genes=gene,
        missing_to_ref=missing_to_ref,
        report=report,
        workers=n_workers,
        engine=engine.value,
        scheduler=scheduler,
        chunk_size=chunk_size,
        knowledge=str(knowledge) if knowledge else None,
        rules=str(rules) if rules else None,
        on_plan=progress.start,
        on_slice=progress.slice_done,
    )
    progress.stop()
    _summarise(manifest, output, time.perf_counter() - progress.t0)


def _summarise(manifest: BatchManifest, output: Path, seconds: float) -> None:
    """One line of counts; the first failed samples' reasons; exit code 3 when any sample failed."""
    c = manifest.counts
    err.print(
        f"pgx batch: {c['samples']} samples ({c['ok']} ok, {c['failed']} failed), "
        f"{c['gene_calls']} gene calls, {c['gene_not_called']} not called; {output}/manifest.json ({seconds:.1f} s)",
        markup=False,
        soft_wrap=True,
    )
    if c["failed"]:
        for s in [s for s in manifest.samples if s.status == "failed"][:5]:
            err.print(f"pgx batch: failed: {s.reason}", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_SAMPLES_FAILED)


class _Progress:
    """A rich bar on a terminal; one plain line per finished slice in logs (no bar control codes in a log file)."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.t0 = time.perf_counter()
        self.bar: Any = None
        self.task: Any = None
        self.done = 0
        self.total = 0

    def start(self, plan: BatchPlan, already: int) -> None:
        self.total, self.done = len(plan.samples), already
        if already:
            err.print(
                f"pgx batch: resuming {self.output}: {already} of {self.total} samples already done",
                markup=False,
                soft_wrap=True,
            )
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("samples", total=self.total, completed=already)

    def slice_done(self, record: SliceRecord, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
        else:
            err.print(
                f"pgx batch: {self.done}/{self.total} samples written ({time.perf_counter() - self.t0:.1f} s)",
                markup=False,
                soft_wrap=True,
            )

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
