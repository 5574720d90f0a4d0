"""Build a synthetic whole-genome single-sample VCF (bgzipped, tabix-indexed) for timing ``pgx call`` / ``pgx report``.

Why: the 1000 Genomes files in ../shared hold one pharmacogene each, so a timing on them says
nothing about what a user feels with a real genome: an indexed file of millions of records
where pgx must seek to a few dozen small regions and build detection must read the header.
This script makes such a file from real PGx genotypes plus synthetic background:

* the real part: every record of ../shared/data/1kgp/GRCh38/*.vcf.gz where the chosen sample
  (default HG00096) carries a non-reference allele, with that sample's genotype as it is
  (phased, haploid on chrX for males). A single-sample WGS VCF holds only variant sites, so
  records where the sample is 0|0 are left out: calling the output in strict mode therefore
  reports those PGx positions as missing, and ``--missing-to-ref`` reads them as reference.
  ID, REF, ALT, QUAL and FILTER are kept; INFO becomes AC/AN of this one sample;
* the background: ``--background`` random SNVs (default 4.2 million, about a real genome's
  count) over chr1..chr22, chrX, chrY in proportion to their GRCh38 lengths, genotype 0/1 or
  1/1 (60/40, unphased), random REF and ALT. None lands within 50 kb of a pharmacogene: not
  of any position in the 1000 Genomes gene files, nor of any GRCh38 or GRCh37 position or
  region in pgx's knowledge base (DPYD and F5 have no 1000 Genomes file here; a background
  record at a PGx position would fail pgx's REF check, at a GRCh37 one count as GRCh37
  evidence). So the PGx calls on the output equal those on the per-gene files (up to the
  0|0 sites above), and the background only costs time.

The header has GRCh38 ##contig lengths (how pgx recognises the build) and one sample. The
output is large and must never be committed: it goes under --out (default /tmp/pgx_bench).
A sidecar ``<out>.build.json`` records the parameters and the inputs' index checksums; a rerun
with the same ones returns at once (--force rebuilds).

    /tmp/dev/bin/python benchmarks/build_wgs_vcf.py                       # HG00096, 4.2M background
    /tmp/dev/bin/python benchmarks/build_wgs_vcf.py --sample NA12878 --background 1000000 --out /tmp/x.vcf.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pysam

from pgx.fileio import sha256_file
from pgx.knowledge.loader import load_knowledge
from pgx.vcf.assembly import GRCH38_LENGTHS as ASSEMBLY_LENGTHS

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "1kgp" / "GRCh38"
DEFAULT_OUT_DIR = Path("/tmp/pgx_bench")

GRCH38_LENGTHS = {c: n for c, n in ASSEMBLY_LENGTHS.items() if c != "chrM"}  # the 24 chromosomes
PAD = 50_000  # no background record closer than this to a pharmacogene
HOM_ALT_SHARE = 0.4
BASES = "ACGT"
GT_SPLIT = re.compile(r"[|/]")

Intervals = dict[str, list[tuple[int, int]]]


def sample_info(ref_gt: str) -> tuple[bool, str]:
    """(carries a non-reference allele, AC/AN of this sample) from a GT like 0|1, 1, ./. or 0/2."""
    alleles = GT_SPLIT.split(ref_gt)
    called = [a for a in alleles if a != "."]
    n_alts = max((int(a) for a in called), default=0)
    ac = ",".join(str(called.count(str(i))) for i in range(1, n_alts + 1))
    return n_alts > 0, f"AC={ac};AN={len(called)}"


def read_real(files: list[Path], sample: str) -> tuple[dict[str, list[tuple[int, str]]], Intervals, int]:
    """The sample's non-reference records per chromosome, each file's span as an interval, and records read."""
    real: dict[str, list[tuple[int, str]]] = {}
    spans: Intervals = {}
    n_read = 0
    for path in files:
        col = None
        file_spans: dict[str, list[int]] = {}
        with gzip.open(path, "rt") as fh:
            for line in fh:
                if line.startswith("##"):
                    continue
                if line.startswith("#"):
                    names = line.rstrip("\n").split("\t")[9:]
                    if sample not in names:
                        sys.exit(f"{path}: sample {sample!r} not in file")
                    col = 9 + names.index(sample)
                    continue
                if col is None:
                    sys.exit(f"{path}: record before the #CHROM line")
                f = line.rstrip("\n").split("\t", col + 1)
                chrom, pos = f[0], int(f[1])
                if chrom not in GRCH38_LENGTHS:
                    sys.exit(f"{path}: contig {chrom!r} is not one of chr1..chr22, chrX, chrY")
                n_read += 1
                span = file_spans.setdefault(chrom, [pos, pos])
                span[0], span[1] = min(span[0], pos), max(span[1], pos)
                field = f[col]
                carries, info = sample_info(field.split(":", 1)[0])
                if carries:
                    real.setdefault(chrom, []).append((pos, "\t".join([*f[:7], info, f[8], field])))
        for chrom, (lo, hi) in file_spans.items():
            spans.setdefault(chrom, []).append((lo, hi))
    return real, spans, n_read


def knowledge_intervals() -> Intervals:
    """Every gene of pgx's knowledge base: the span of its GRCh38 positions and region, and of its GRCh37 ones."""
    out: Intervals = {}
    for gene in load_knowledge().genes.values():
        grch38 = [(p.position, p.position + len(p.ref) - 1) for p in (*gene.positions, *gene.quirks.extra_positions)]
        grch37 = [(p.grch37.position, p.grch37.position) for p in gene.positions if p.grch37 is not None]
        grch38 += [(gene.region.start, gene.region.end)] if gene.region is not None else []
        grch37 += [(gene.grch37_region.start, gene.grch37_region.end)] if gene.grch37_region is not None else []
        for spans in (grch38, grch37):
            if spans and gene.chromosome in GRCH38_LENGTHS:
                out.setdefault(gene.chromosome, []).append((min(s for s, _ in spans), max(e for _, e in spans)))
    return out


def exclusion(*sources: Intervals) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Merged, padded intervals per chromosome as (starts, ends) arrays for searchsorted.

    Each chromosome starts with the empty interval (0, 0), so every position 1.. has one at or before it.
    """
    out = {}
    for chrom in GRCH38_LENGTHS:
        spans = sorted((s - PAD, e + PAD) for src in sources for s, e in src.get(chrom, []))
        merged: list[list[int]] = [[0, 0]]
        for s, e in spans:
            if s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        bounds = np.array(merged, dtype=np.int64).reshape(-1, 2)
        out[chrom] = (bounds[:, 0].copy(), bounds[:, 1].copy())
    return out


def per_chromosome(total: int) -> dict[str, int]:
    """``total`` split over the chromosomes in proportion to their length (largest remainder)."""
    lengths = np.array(list(GRCH38_LENGTHS.values()), dtype=np.float64)
    exact = total * lengths / lengths.sum()
    counts = np.floor(exact).astype(np.int64)
    counts[np.argsort(counts - exact)[: total - int(counts.sum())]] += 1
    return dict(zip(GRCH38_LENGTHS, counts.tolist(), strict=True))


def background_positions(
    rng: np.random.Generator, length: int, n: int, excluded: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """``n`` sorted unique positions in 1..length outside the excluded intervals."""
    starts, ends = excluded
    pos = np.empty(0, dtype=np.int64)
    while pos.size < n:
        draw = rng.integers(1, length + 1, size=int((n - pos.size) * 1.05) + 100, dtype=np.int64)
        inside = draw <= ends[np.searchsorted(starts, draw, side="right") - 1]
        pos = np.union1d(pos, draw[~inside])
    if pos.size > n:
        pos = np.sort(rng.choice(pos, size=n, replace=False))
    return pos


# Everything after POS of a background line, indexed by (REF, ALT, hom-alt): 4 * 4 * 2 entries.
SUFFIXES = [
    f"\t.\t{r}\t{a}\t.\tPASS\t" + ("AC=2;AN=2\tGT\t1/1" if hom else "AC=1;AN=2\tGT\t0/1")
    for r in BASES
    for a in BASES
    for hom in (False, True)
]


def background_lines(rng: np.random.Generator, chrom: str, pos: np.ndarray) -> list[str]:
    n = pos.size
    ref = rng.integers(0, 4, size=n)
    alt = (ref + rng.integers(1, 4, size=n)) % 4
    hom = rng.random(n) < HOM_ALT_SHARE
    code = ((ref * 4 + alt) * 2 + hom).tolist()
    return [f"{chrom}\t{p}{SUFFIXES[c]}" for p, c in zip(pos.tolist(), code, strict=True)]


def header(sample: str, background: int, seed: int) -> str:
    lines = [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes, for each ALT allele">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "##reference=GRCh38",
        *(f"##contig=<ID={c},length={n}>" for c, n in GRCH38_LENGTHS.items()),
        f"##source=pgx benchmarks/build_wgs_vcf.py: 1000 Genomes {sample} at PGx genes, {background} synthetic"
        f" background SNVs (seed {seed})",
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", sample]),
    ]
    return "\n".join(lines) + "\n"


def build(files: list[Path], out: Path, sample: str, background: int, seed: int) -> int:
    """Write ``out`` and its .tbi; return the number of records."""
    real, spans, n_read = read_real(files, sample)
    n_real = sum(len(v) for v in real.values())
    print(f"{sample}: {n_real} of {n_read} records in {len(files)} gene files carry a non-reference allele")
    excluded = exclusion(spans, knowledge_intervals())
    rng = np.random.default_rng(seed)
    n_records = 0
    with pysam.BGZFile(str(out), "wb") as fh:
        fh.write(header(sample, background, seed).encode())
        for chrom, n in per_chromosome(background).items():
            # background positions never equal a real one: every real position is inside an excluded interval
            bg_pos = background_positions(rng, GRCH38_LENGTHS[chrom], n, excluded[chrom])
            chrom_real = real.get(chrom, [])
            pos = np.concatenate([np.array([p for p, _ in chrom_real], dtype=np.int64), bg_pos])
            lines = [line for _, line in chrom_real] + background_lines(rng, chrom, bg_pos)
            order = np.argsort(pos, kind="stable")  # stable: split multi-allelic records keep their file order
            fh.write(("\n".join([lines[i] for i in order.tolist()]) + "\n").encode())
            n_records += len(lines)
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return n_records


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of 1000 Genomes GRCh38 <GENE>.vcf.gz")
    ap.add_argument("--sample", default="HG00096", help="1000 Genomes sample to embed (default HG00096)")
    ap.add_argument("--background", type=int, default=4_200_000, help="synthetic background SNVs (default 4200000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed of the background (default 1)")
    ap.add_argument("--out", type=Path, help="output .vcf.gz (default /tmp/pgx_bench/wgs_<sample>.vcf.gz)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the sidecar says it is up to date")
    args = ap.parse_args()

    files = sorted(args.data.glob("*.vcf.gz"))
    if not files:
        sys.exit(f"no *.vcf.gz in {args.data}")
    out: Path = args.out or DEFAULT_OUT_DIR / f"wgs_{args.sample}.vcf.gz"
    tbi = Path(f"{out}.tbi")
    sidecar = Path(f"{out}.build.json")
    params = {
        "sample": args.sample,
        "background": args.background,
        "seed": args.seed,
        "knowledge": load_knowledge().version,
        "inputs": {f.name: sha256_file(f"{f}.tbi") for f in files},
    }
    if not args.force and out.is_file() and tbi.is_file() and sidecar.is_file():
        built = json.loads(sidecar.read_text())
        if built["params"] == params:
            size = out.stat().st_size / 1e6
            print(f"{out}: up to date ({built['records']} records, {size:.1f} MB); --force rebuilds")
            return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar.unlink(missing_ok=True)  # a build that dies half-way must not look finished
    t0 = time.perf_counter()
    n_records = build(files, out, args.sample, args.background, args.seed)
    seconds = time.perf_counter() - t0
    sidecar.write_text(json.dumps({"params": params, "records": n_records, "seconds": round(seconds, 1)}, indent=1))
    print(f"{out}: {n_records} records, {out.stat().st_size / 1e6:.1f} MB, built in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
