"""Build synthetic large cohorts from the 1000 Genomes gene files: per-gene VCFs with N samples, for scaling runs.

Why: the 1000 Genomes files in ../shared stop at 3,202 samples, and a scaling curve (time and
memory of ``pgx call`` against cohort size) needs points beyond that, up to biobank-like
100,000. The genotypes should stay real, so allele frequencies, phasing, haploid chrX calls
and the calls pgx makes look like a real cohort's:

* N <= 3202: the first N samples of each source file, in file order;
* N > 3202: all 3,202 samples, then the same samples again cyclically under new names
  ``<original>_r<k>`` for repeat k = 1, 2, ... (the first 3,202 keep their names), so sample
  i carries source sample i mod 3202's genotypes.

Every record of the source is kept, and every column before the samples is copied unchanged:
INFO (AC, AN, AF ...) still describes the 3,202 source samples, not the N output samples; pgx
does not read it. The header is the source's with only the #CHROM line replaced.

Output: ``<out>/n<N>/<GENE>.vcf.gz`` + ``.tbi``. The files are large (N = 100,000 is about
13 GB of VCF text before compression) and must never be committed: --out defaults to
/tmp/pgx_bench/cohorts. Lines are built by repeating the source record's sample text, never
per sample; compression uses the ``bgzip`` binary multithreaded when it is installed and
pysam's single-threaded BGZF writer otherwise; genes are built in parallel (--jobs). A sidecar
``<GENE>.vcf.gz.build.json`` records N and the source index's checksum; a rerun with the same
ones skips that gene (--force rebuilds).

    /tmp/dev/bin/python benchmarks/build_cohort.py --samples 100 400 1600 3202 100000
    /tmp/dev/bin/python benchmarks/build_cohort.py --samples 400 --genes CYP2C19 TPMT --out /tmp/cohorts
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pysam

from pgx.fileio import sha256_file

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "1kgp" / "GRCh38"
DEFAULT_OUT = Path("/tmp/pgx_bench/cohorts")
FIXED = 9  # CHROM .. FORMAT


def cohort_names(names: list[str], n: int) -> list[str]:
    """The first ``n`` names, cycling through ``names`` with an ``_r<k>`` suffix on repeat k >= 1."""
    m = len(names)
    return [names[i % m] if i < m else f"{names[i % m]}_r{i // m}" for i in range(n)]


def expand(block: str, m: int, n: int) -> str:
    """The first ``n`` of a record's sample fields when its ``m`` fields (tab-joined ``block``) repeat cyclically."""
    k, r = divmod(n, m)
    parts = [block] * k
    if r:
        parts.append("\t".join(block.split("\t", r)[:r]))
    return "\t".join(parts)


@contextlib.contextmanager
def bgzf_writer(path: Path, threads: int) -> Iterator[Callable[[bytes], object]]:
    """A ``write(bytes)`` into a BGZF file: through ``bgzip -@ threads`` if installed, else pysam."""
    bgzip = shutil.which("bgzip")
    if bgzip is None:
        with pysam.BGZFile(str(path), "wb") as fh:
            yield fh.write
        return
    with open(path, "wb") as out:
        proc = subprocess.Popen([bgzip, "-@", str(threads), "-c"], stdin=subprocess.PIPE, stdout=out)
        assert proc.stdin is not None
        try:
            yield proc.stdin.write
        finally:
            proc.stdin.close()
            if proc.wait() != 0:
                raise RuntimeError(f"bgzip exited with {proc.returncode} writing {path}")


def build_gene(src: Path, out: Path, n: int, threads: int) -> tuple[int, float]:
    """Write ``out`` (N = ``n`` samples from ``src``) and its .tbi; return (records, seconds)."""
    t0 = time.perf_counter()
    m = 0
    records = 0
    with gzip.open(src, "rt") as fh, bgzf_writer(out, threads) as write:
        for line in fh:
            if line.startswith("##"):
                write(line.encode())
                continue
            cols = line.rstrip("\n").split("\t", FIXED)
            if line.startswith("#"):
                names = cols[FIXED].split("\t")
                m = len(names)
                write(("\t".join(cols[:FIXED] + cohort_names(names, n)) + "\n").encode())
                continue
            if not m:
                raise ValueError(f"{src}: record before the #CHROM line")
            write(("\t".join(cols[:FIXED]) + "\t" + expand(cols[FIXED], m, n) + "\n").encode())
            records += 1
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return records, time.perf_counter() - t0


def up_to_date(out: Path, params: dict[str, object]) -> dict[str, object] | None:
    """The sidecar of a finished build with these parameters, if there is one."""
    sidecar = Path(f"{out}.build.json")
    if not (out.is_file() and Path(f"{out}.tbi").is_file() and sidecar.is_file()):
        return None
    built: dict[str, object] = json.loads(sidecar.read_text())
    return built if built["params"] == params else None


def run(src: Path, out: Path, n: int, threads: int, params: dict[str, object]) -> tuple[int, float]:
    """Build one gene file and record its sidecar last, so an interrupted build never looks finished."""
    sidecar = Path(f"{out}.build.json")
    sidecar.unlink(missing_ok=True)
    records, seconds = build_gene(src, out, n, threads)
    sidecar.write_text(json.dumps({"params": params, "records": records, "seconds": round(seconds, 1)}, indent=1))
    return records, seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of 1000 Genomes GRCh38 <GENE>.vcf.gz")
    ap.add_argument("--samples", type=int, nargs="+", required=True, metavar="N", help="cohort size(s) to build")
    ap.add_argument("--genes", nargs="+", help="only these genes (default: every <GENE>.vcf.gz in --data)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    ap.add_argument("--jobs", type=int, default=2, help="gene files built in parallel (default 2)")
    ap.add_argument("--force", action="store_true", help="rebuild even where the sidecar says it is up to date")
    args = ap.parse_args()

    sources = {p.name.removesuffix(".vcf.gz"): p for p in sorted(args.data.glob("*.vcf.gz"))}
    genes = args.genes or list(sources)
    unknown = [g for g in genes if g not in sources]
    if unknown or not genes:
        sys.exit(f"no {', '.join(unknown) or '*'}.vcf.gz in {args.data}")
    if any(n < 1 for n in args.samples):
        sys.exit("--samples must be positive")
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    print(f"compressing with {'bgzip -@ ' + str(threads) if shutil.which('bgzip') else 'pysam (single-threaded)'}")

    checksums = {g: sha256_file(f"{sources[g]}.tbi") for g in genes}
    todo = []
    for n in args.samples:
        (args.out / f"n{n}").mkdir(parents=True, exist_ok=True)
        for g in genes:
            out = args.out / f"n{n}" / f"{g}.vcf.gz"
            params: dict[str, object] = {"source": sources[g].name, "source_tbi_sha256": checksums[g], "samples": n}
            built = None if args.force else up_to_date(out, params)
            if built is None:
                todo.append((n, g, out, params))
            else:
                print(f"n{n} {g}: up to date ({built['records']} records, {out.stat().st_size / 1e6:.1f} MB)")
    # biggest first, so the last job to finish is a short one
    todo.sort(key=lambda t: -t[0] * sources[t[1]].stat().st_size)

    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run, sources[g], out, n, threads, params): (n, g, out) for n, g, out, params in todo}
        for future in as_completed(futures):
            n, g, out = futures[future]
            records, seconds = future.result()
            print(f"n{n} {g}: {records} records, {out.stat().st_size / 1e6:.1f} MB, {seconds:.1f} s", flush=True)
    for n in args.samples:
        size = sum((args.out / f"n{n}" / f"{g}.vcf.gz").stat().st_size for g in genes)
        print(f"n{n}: {len(genes)} gene file(s), {size / 1e6:.1f} MB in {args.out / f'n{n}'}")
    print(f"total: {len(todo)} file(s) built in {time.perf_counter() - t0:.1f} s wall with {args.jobs} job(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
