"""Population-scale timings of `pgx batch`, and the single-sample whole-genome case.

Why these runs: a lab's throughput is whole processes on real files, start-up included, so
everything here times the installed `pgx` command from outside (wall, user+sys CPU and the
peak RSS of the largest process, from wait4), never a function in-process.

  (a) all 3,202 1000 Genomes samples x every GRCh38 gene file: calls only, and with reports;
  (c) a synthetic whole-genome single-sample VCF (build_wgs_vcf.py): `pgx call`, `pgx report`;
  (d) scaling over cohorts of 100 ... 3,202 and 100,000 samples (build_cohort.py), with the
      100,000 run compared to a straight line from the 3,202 run;
  (e) the per-sample path on the same files: `call_vcf` one sample at a time (in one process,
      so start-up is not counted against it), extrapolated from a sample of samples.

Builds missing inputs first (untimed). `--write` replaces this script's section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_md import REPO, Measured, machine, run_measured, source_state, write_section

SHARED = REPO.parent / "shared"
GRCH38 = SHARED / "data" / "1kgp" / "GRCh38"
SECTION = "## pgx batch at population scale"
SIZES = (100, 400, 1600, 3202)
BIG = 100_000
SCRATCH = Path("/tmp/pgx_bench")


def pgx_exe() -> str:
    found = Path(sys.executable).parent / "pgx"
    return str(found) if found.exists() else shutil.which("pgx") or "pgx"


def median_run(cmd: list[str], runs: int) -> tuple[Measured, list[Measured]]:
    """Median wall/CPU/peak over ``runs`` runs. A ``{run}`` in the command becomes the run's number: each
    batch writes a new folder, all removed at the end (ext4 allocates inodes slowly for a while after
    thousands of files are deleted, which would charge one run for the last one's clean-up)."""
    got = []
    for _ in range(runs):
        number = str(next(_RUNS))
        m, rc = run_measured([c.replace("{run}", number) for c in cmd], SCRATCH / "last_run.log")
        if rc != 0:
            sys.exit(f"failed (rc {rc}): {' '.join(cmd)}; see {SCRATCH / 'last_run.log'}")
        got.append(m)
    return Measured(
        statistics.median(m.wall for m in got),
        statistics.median(m.cpu for m in got),
        statistics.median(m.rss_mib for m in got),
    ), got


_RUNS = itertools.count(1)


def batch_cmd(files: list[Path], workers: int, *extra: str) -> list[str]:
    out = str(SCRATCH / "batch_out" / "run{run}")
    return [pgx_exe(), "batch", *map(str, files), "-o", out, "--missing-to-ref", "-w", str(workers), *extra]


def row(label: str, m: Measured, samples: int | None = None, note: str = "") -> str:
    per = f" | {m.wall / samples * 1000:.2f}" if samples else " | "
    return f"| {label} | {m.wall:.2f} | {m.cpu:.2f} | {m.rss_mib:.0f}{per} | {note} |"


def ensure_inputs(sizes: list[int]) -> None:
    here = Path(__file__).resolve().parent
    todo = [n for n in sizes if not (SCRATCH / "cohorts" / f"n{n}" / "VKORC1.vcf.gz.tbi").exists()]
    if todo:
        subprocess.run([sys.executable, str(here / "build_cohort.py"), "--samples", *map(str, todo)], check=True)
    if not (SCRATCH / "wgs_HG00096.vcf.gz.tbi").exists():
        subprocess.run([sys.executable, str(here / "build_wgs_vcf.py")], check=True)


def per_sample_path(files: list[Path], n_samples: int) -> tuple[float, int]:
    """Seconds for ``call_vcf`` one sample at a time over every file, for the first ``n_samples``."""
    from pgx.calling.pipeline import call_vcf
    from pgx.knowledge.loader import load_knowledge
    from pgx.vcf.reader import read_header

    kb = load_knowledge()
    samples = read_header(files[0])[0].samples[:n_samples]
    start = time.perf_counter()
    for f in files:
        for s in samples:
            call_vcf(f, samples=[s], missing_to_ref=True, knowledge=kb)
    return time.perf_counter() - start, len(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-big", action="store_true", help=f"leave out the {BIG:,}-sample cohort")
    parser.add_argument("--per-sample", type=int, default=50, help="samples timed on the per-sample path")
    parser.add_argument("--write", action="store_true", help="replace this section of benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if not GRCH38.is_dir():
        sys.exit(f"{GRCH38} not found: these benchmarks need ../shared")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    sizes = [*SIZES, *([] if args.skip_big else [BIG])]
    ensure_inputs(sizes)
    files = sorted(GRCH38.glob("*.vcf.gz"))
    out = SCRATCH / "batch_out"
    shutil.rmtree(out, ignore_errors=True)
    w = args.workers
    lines = ["| run | wall s | CPU s | peak RSS MiB | ms per sample | note |", "|---|---|---|---|---|---|"]

    a1, _ = median_run(batch_cmd(files, 1), args.runs)
    a2, runs_a2 = median_run(batch_cmd(files, w), args.runs)
    ar, _ = median_run(batch_cmd(files, w, "--report"), 1)
    lines += [
        row(f"(a) 3,202 samples x {len(files)} files, calls only, 1 worker", a1, 3202),
        row(
            f"(a) same, {w} workers",
            a2,
            3202,
            "target: <= 5 s, <= 1 GiB; runs: " + ", ".join(f"{m.wall:.2f}" for m in runs_a2),
        ),
        row(f"(a) same with --report (JSON + HTML per sample), {w} workers, 1 run", ar, 3202),
    ]

    scale: dict[int, Measured] = {}
    for n in sizes:
        cohort = sorted((SCRATCH / "cohorts" / f"n{n}").glob("*.vcf.gz"))
        scale[n], _ = median_run(batch_cmd(cohort, w), 1 if n == BIG else args.runs)
        lines.append(row(f"(d) {n:,} samples x {len(cohort)} files, {w} workers", scale[n], n))
    if BIG in scale:
        linear = scale[3202].wall * BIG / 3202
        lines.append(
            f"| (d) {BIG:,} vs a straight line from 3,202 ({linear:.1f} s) | "
            f"{scale[BIG].wall / linear:.2f}x | | | | target: <= 1.10x, <= 2 GiB |"
        )
    shutil.rmtree(out, ignore_errors=True)

    wgs = SCRATCH / "wgs_HG00096.vcf.gz"
    c_call, _ = median_run([pgx_exe(), "call", str(wgs), "-o", str(SCRATCH / "wgs.json")], max(5, args.runs))
    c_rep, _ = median_run(
        [pgx_exe(), "report", str(wgs), "-f", "html", "-o", str(SCRATCH / "wgs.html")], max(5, args.runs)
    )
    lines += [
        row(
            "(c) whole-genome single sample (4.2 M records, indexed): pgx call -> JSON",
            c_call,
            None,
            "target: <= 1.0 s",
        ),
        row("(c) same: pgx report -> HTML (all drugs)", c_rep, None, "target: <= 2 s"),
    ]

    seconds, n = per_sample_path(files, args.per_sample)
    per = seconds / n
    lines.append(
        f"| (e) per-sample path: `call_vcf(file, samples=[s])` x {len(files)} files, {n} samples, "
        f"in one process | {seconds:.1f} | | | {per * 1000:.1f} | extrapolated to 3,202: {per * 3202:.0f} s "
        f"({per * 3202 / a2.wall:.0f}x the batch with {w} workers) |"
    )

    versions = ", ".join(
        f"{p} {importlib.metadata.version(p)}" for p in ("pgx-engine", "numpy", "pysam", "pyarrow", "pydantic", "dask")
    )
    section = "\n".join(
        [
            SECTION,
            "",
            f"Machine: {machine()}; Python {platform.python_version()}; {versions}. Code: "
            f"{source_state(['pgx', 'benchmarks/batch_scale.py'], 'pgx')}. Written by `benchmarks/batch_scale.py` "
            f"({args.runs} runs per line unless noted, medians; whole processes from outside, start-up included; "
            "CPU is user + system of the command and its worker processes, peak RSS the largest single process). "
            "Every batch is `--missing-to-ref` (the 1000 Genomes files are variant-only) and writes per-sample JSON, "
            "calls.tsv, calls.parquet and the manifest.",
            "",
            *lines,
            "",
            "Cohorts (d) are the 1000 Genomes files with the samples repeated under new names "
            "(`benchmarks/build_cohort.py`), the whole-genome file is HG00096's PGx sites among 4.2 million "
            "random background records (`benchmarks/build_wgs_vcf.py`); neither is committed.",
        ]
    )
    print(section)
    if args.write:
        write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
