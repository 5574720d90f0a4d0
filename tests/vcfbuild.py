"""Hand-written VCFs for tests: real text a user could send, built from short record specs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pgx.vcf.assembly import GRCH38_LENGTHS

HEADER_FORMATS = {
    "GT": '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "PS": '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
    "AD": '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
    "CN": '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">',
}


@dataclass
class Rec:
    chrom: str
    pos: int
    ref: str
    alt: str
    samples: list[str]  # one FORMAT-joined value per sample, e.g. "0/1" or "0|1:7"
    fmt: str = "GT"
    info: str = "."
    filt: str = "PASS"


@dataclass
class Vcf:
    samples: list[str] = field(default_factory=lambda: ["S1"])
    records: list[Rec] = field(default_factory=list)
    chr_prefix: bool = True

    def add(
        self, chrom: str, pos: int, ref: str, alt: str, *gts: str, fmt: str = "GT", info: str = ".", filt: str = "PASS"
    ) -> Vcf:
        self.records.append(Rec(chrom, pos, ref, alt, list(gts), fmt, info, filt))
        return self

    def text(self) -> str:
        def name(c: str) -> str:
            return c if self.chr_prefix else c.removeprefix("chr")

        chroms = list(dict.fromkeys(r.chrom for r in self.records))
        lines = ["##fileformat=VCFv4.2"]
        lines += [f"##contig=<ID={name(c)},length={GRCH38_LENGTHS[c]}>" for c in chroms]
        lines += [
            '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
            '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">',
            '##FILTER=<ID=LowQual,Description="Low quality">',
            *HEADER_FORMATS.values(),
            "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *self.samples]),
        ]
        for r in self.records:
            lines.append(
                "\t".join([name(r.chrom), str(r.pos), ".", r.ref, r.alt, ".", r.filt, r.info, r.fmt, *r.samples])
            )
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> Path:
        path.write_text(self.text())
        return path


def from_simulation(kb, gene: str, diplotype: str, phased: bool = False) -> Vcf:
    """The genotype `pgx simulate` writes for one diplotype, as records a test can edit."""
    from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text

    text = simulate_vcf_text(kb, [SampleSpec("S1", [GeneSpec(gene, diplotype)])], phased=phased, include_unlisted=False)
    v = Vcf()
    for line in text.splitlines():
        if not line.startswith("#"):
            c = line.split("\t")
            v.add(c[0], int(c[1]), c[3], c[4], c[9], fmt=c[8], info=c[7])
    return v
