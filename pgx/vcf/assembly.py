"""Which genome build a VCF is on, from its header and from REF alleles at PGx positions.

Positions in the knowledge base are GRCh38; a GRCh37 file read as GRCh38 would silently
produce wrong calls, so anything that is not GRCh38 is refused (until liftover exists).
Contig lengths are the primary assembly lengths published by the Genome Reference Consortium.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pgx.errors import BuildError
from pgx.vcf.header import Header
from pgx.vcf.targets import canonical_chrom

GRCH38_LENGTHS = {
    "chr1": 248956422, "chr2": 242193529, "chr3": 198295559, "chr4": 190214555, "chr5": 181538259,
    "chr6": 170805979, "chr7": 159345973, "chr8": 145138636, "chr9": 138394717, "chr10": 133797422,
    "chr11": 135086622, "chr12": 133275309, "chr13": 114364328, "chr14": 107043718, "chr15": 101991189,
    "chr16": 90338345, "chr17": 83257441, "chr18": 80373285, "chr19": 58617616, "chr20": 64444167,
    "chr21": 46709983, "chr22": 50818468, "chrX": 156040895, "chrY": 57227415, "chrM": 16569,
}  # fmt: skip
GRCH37_LENGTHS = {
    "chr1": 249250621, "chr2": 243199373, "chr3": 198022430, "chr4": 191154276, "chr5": 180915260,
    "chr6": 171115067, "chr7": 159138663, "chr8": 146364022, "chr9": 141213431, "chr10": 135534747,
    "chr11": 135006516, "chr12": 133851895, "chr13": 115169878, "chr14": 107349540, "chr15": 102531392,
    "chr16": 90354753, "chr17": 81195210, "chr18": 78077248, "chr19": 59128983, "chr20": 63025520,
    "chr21": 48129895, "chr22": 51304566, "chrX": 155270560, "chrY": 59373566,
}  # fmt: skip

_NAMES = (
    ("GRCh38", re.compile(r"grch38|hg38|hs38|\bb38\b", re.I)),
    ("GRCh37", re.compile(r"grch37|hg19|\bb37\b|hs37|human_g1k_v37|1000genomes.*phase2", re.I)),
    ("NCBI36", re.compile(r"ncbi36|hg18|\bb36\b", re.I)),
)

MIN_REF_CHECKS = 8
MIN_GRCH37_HITS = 3
MAX_REF_MISMATCH_FRACTION = 0.5


@dataclass
class BuildEvidence:
    build: str | None = None  # what the header says, if anything
    reason: str | None = None
    ref_checked: int = 0
    ref_mismatched: int = 0
    mismatch_examples: list[str] = field(default_factory=list)
    grch37_hits: int = 0  # records on GRCh37 PGx positions carrying the GRCh37 REF
    grch38_hits: int = 0  # records on GRCh38 PGx positions carrying the GRCh38 REF

    def describe(self) -> str:
        parts = [self.reason] if self.reason else []
        if self.ref_checked:
            parts.append(f"REF matched GRCh38 at {self.ref_checked - self.ref_mismatched}/{self.ref_checked} PGx sites")
        return "; ".join(parts) or "no build information in header"


def build_from_header(header: Header) -> BuildEvidence:
    for cid, contig in header.contigs.items():
        chrom = canonical_chrom(cid)
        if contig.length is None or chrom not in GRCH38_LENGTHS:
            continue
        if GRCH38_LENGTHS[chrom] == contig.length:
            return BuildEvidence("GRCh38", f"##contig {cid} length {contig.length} is GRCh38")
        if GRCH37_LENGTHS.get(chrom) == contig.length:
            return BuildEvidence("GRCh37", f"##contig {cid} length {contig.length} is GRCh37")
        return BuildEvidence("unknown", f"##contig {cid} length {contig.length} matches neither GRCh37 nor GRCh38")
    texts = [header.reference or ""] + [c.assembly or "" for c in header.contigs.values()]
    for text in texts:
        for build, pattern in _NAMES:
            if text and pattern.search(text):
                return BuildEvidence(build, f"header names assembly {text!r}")
    return BuildEvidence()


def refuse_if_not_grch38(path: str, ev: BuildEvidence) -> None:
    if ev.build not in (None, "GRCh38"):
        raise BuildError(
            path,
            f"genome build {ev.build} detected ({ev.reason}); pgx calls GRCh38 only for now",
            hint="re-call or lift over the VCF to GRCh38",
        )
    if ev.grch37_hits >= MIN_GRCH37_HITS and ev.grch38_hits == 0:
        raise BuildError(
            path,
            f"records sit on GRCh37 positions of {ev.grch37_hits} PGx variants (with GRCh37 REF alleles) and on "
            "no GRCh38 ones; this looks like a GRCh37 VCF, and pgx calls GRCh38 only for now",
            hint="re-call or lift over the VCF to GRCh38",
        )
    if ev.ref_checked >= MIN_REF_CHECKS and ev.ref_mismatched > MAX_REF_MISMATCH_FRACTION * ev.ref_checked:
        raise BuildError(
            path,
            f"REF alleles disagree with GRCh38 at {ev.ref_mismatched} of {ev.ref_checked} PGx sites "
            f"(e.g. {', '.join(ev.mismatch_examples[:3])}); this does not look like a GRCh38 VCF",
            hint="check the genome build; pgx calls GRCh38 only for now",
        )
