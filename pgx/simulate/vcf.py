"""Write VCFs for chosen diplotypes, from the knowledge base alone.

Used for sample VCFs, round-trip tests (simulate -> call must give the diplotype back) and
benchmarks. Each named allele is expanded to a full haplotype (unlisted positions take the
reference allele; a wobble code takes the reference base when it allows it). Copy-number
alleles are written as symbolic records with a CN field: ``*5`` as ``<DEL>``, ``*2x2`` as
``<DUP>``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pgx import __version__
from pgx.diplotype import Diplotype
from pgx.errors import SimulationError
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import IUPAC, Gene, is_wobble
from pgx.naming import natural_key
from pgx.vcf.assembly import GRCH38_LENGTHS

_COPIES = re.compile(r"^(?P<name>.+?)x(?:≥|>=)?(?P<n>\d+)$")


@dataclass
class GeneSpec:
    gene: str
    diplotype: str  # "*1/*2", "*1/*2x2", "*4/*5"; a single allele for a hemizygous X-linked call


@dataclass
class SampleSpec:
    name: str
    genes: list[GeneSpec] = field(default_factory=list)
    missing: set[int] = field(default_factory=set)  # positions written as ./.


def _haplotype_alleles(gene: Gene, name: str) -> dict[int, str]:
    by_name = {a.name: a for a in gene.named_alleles}
    if name not in by_name:
        raise SimulationError(
            f"{gene.gene}: unknown allele {name!r}",
            hint=f"known: {', '.join(list(by_name)[:12])}{' ...' if len(by_name) > 12 else ''}",
        )
    ref = next(a for a in gene.named_alleles if a.reference)
    out = {}
    for pos in gene.positions:
        listed = by_name[name].alleles.get(pos.position)
        base = listed if listed is not None else ref.alleles[pos.position]
        if is_wobble(base):
            choices = [a for a in (pos.ref, *pos.alts) if len(a) == 1 and a in IUPAC[base]]
            base = pos.ref if pos.ref in choices else (choices[0] if choices else pos.ref)
        out[pos.position] = base
    return out


def parse_diplotype(gene: Gene, text: str) -> list[tuple[str, int]]:
    """'*1/*2x2' -> [('*1', 1), ('*2', 2)]; copy number 0 for the deletion allele."""
    parts = [p for p in Diplotype.parse(text).haplotypes if p]
    if not parts or len(parts) > 2:
        raise SimulationError(f"{gene.gene}: diplotype {text!r} must be one or two alleles separated by '/'")
    if len(parts) == 1 and gene.quirks.ploidy == "autosomal":
        raise SimulationError(f"{gene.gene}: a single allele is only valid for X-linked genes")
    out = []
    cn = gene.quirks.copy_number
    for p in parts:
        m = _COPIES.match(p)
        name, copies = (m.group("name"), int(m.group("n"))) if m else (p, 1)
        if cn is not None and name == cn.deletion_allele:
            out.append((name, 0))
            continue
        if copies != 1 and cn is None:
            raise SimulationError(f"{gene.gene}: copy number in {p!r} but the gene has no copy-number support")
        out.append((name, copies))
    return out


@dataclass
class _Rec:
    chrom: str
    pos: int
    ref: str
    alts: list[str]
    gts: dict[str, str]
    info: str = "."
    fmt_extra: dict[str, dict[str, str]] = field(default_factory=dict)


def simulate_records(
    kb: KnowledgeBase, samples: list[SampleSpec], phased: bool, include_unlisted: bool, phase_set: int | None = None
) -> tuple[list[_Rec], list[str]]:
    names = [s.name for s in samples]
    if len(set(names)) != len(names):
        raise SimulationError("sample names must be unique")
    genes = [g for g in kb.vcf_genes()]
    listed = {gs.gene for s in samples for gs in s.genes}
    for g in listed:
        kb.gene(g)
        if kb.gene(g).quirks.calling == "outside_only":
            raise SimulationError(f"{g} is called from outside calls only; it cannot be simulated in a VCF")
    if not include_unlisted:
        genes = [g for g in genes if g.gene in listed]
    records: dict[tuple[str, int], _Rec] = {}
    copies: dict[str, tuple[Gene, dict[str, int]]] = {}
    for gene in genes:
        for pos in gene.positions:
            records.setdefault(
                (gene.chromosome, pos.position), _Rec(gene.chromosome, pos.position, pos.ref, list(pos.alts), {})
            )
    for s in samples:
        specs = {gs.gene: gs for gs in s.genes}
        for gene in genes:
            spec = specs.get(gene.gene)
            ref_name = next(a.name for a in gene.named_alleles if a.reference)
            haps = parse_diplotype(gene, spec.diplotype) if spec else [(ref_name, 1), (ref_name, 1)]
            present = [(n, c) for n, c in haps if c > 0]
            alleles = [_haplotype_alleles(gene, n) for n, _ in present]
            if len(haps) == 2 and len(present) == 1:
                alleles = alleles * 2  # one copy left: callers report it as homozygous
            for pos in gene.positions:
                rec = records[(gene.chromosome, pos.position)]
                if pos.position in s.missing:
                    rec.gts[s.name] = "./." if len(haps) == 2 else "."
                    continue
                if not alleles:
                    rec.gts[s.name] = "./."
                    continue
                idx = [([pos.ref, *pos.alts]).index(a[pos.position]) for a in alleles]
                if phased:
                    rec.gts[s.name] = "|".join(map(str, idx))
                else:
                    rec.gts[s.name] = "/".join(map(str, sorted(idx)))
                if phased and phase_set is not None and len(idx) == 2:
                    rec.fmt_extra.setdefault(s.name, {})["PS"] = str(phase_set)
            total = sum(c for _, c in haps)
            if gene.quirks.copy_number is not None and gene.region is not None:
                copies.setdefault(gene.gene, (gene, {}))[1][s.name] = total
    out = list(records.values())
    for gene, per_sample in copies.values():
        if all(n == 2 for n in per_sample.values()):
            continue
        assert gene.region is not None
        rec = _Rec(gene.chromosome, gene.region.start, "N", ["<CNV>"], {}, info=f"SVTYPE=CNV;END={gene.region.end}")
        for name, n in per_sample.items():
            rec.gts[name] = "./."
            rec.fmt_extra[name] = {"CN": str(n)}
        out.append(rec)
    out.sort(key=lambda r: (natural_key(r.chrom), r.pos))
    return out, names


def render_vcf(kb: KnowledgeBase, records: list[_Rec], names: list[str], phased: bool) -> str:
    chroms = list(dict.fromkeys(r.chrom for r in records))
    head = [
        "##fileformat=VCFv4.2",
        f"##source=pgx simulate {__version__} (knowledge {kb.version})",
        "##reference=GRCh38",
        *[f"##contig=<ID={c},length={GRCH38_LENGTHS[c]},assembly=GRCh38>" for c in chroms if c in GRCH38_LENGTHS],
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End position of the variant">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of structural variant">',
        '##ALT=<ID=DEL,Description="Deletion">',
        '##ALT=<ID=DUP,Description="Duplication">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
        '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *names]),
    ]
    lines = head
    for r in records:
        extra_keys = sorted({k for v in r.fmt_extra.values() for k in v})
        fmt = ":".join(["GT", *extra_keys])
        cols = []
        for n in names:
            vals = [r.gts.get(n, "./.")] + [r.fmt_extra.get(n, {}).get(k, ".") for k in extra_keys]
            cols.append(":".join(vals))
        alt = ",".join(r.alts) if r.alts else "."
        lines.append("\t".join([r.chrom, str(r.pos), ".", r.ref, alt, ".", "PASS", r.info, fmt, *cols]))
    return "\n".join(lines) + "\n"


def simulate_vcf_text(
    kb: KnowledgeBase,
    samples: list[SampleSpec],
    phased: bool = False,
    include_unlisted: bool = True,
    phase_set: int | None = None,
) -> str:
    records, names = simulate_records(kb, samples, phased, include_unlisted, phase_set)
    return render_vcf(kb, records, names, phased)


def random_diplotypes(kb: KnowledgeBase, gene: str, n: int, seed: int) -> list[str]:
    g = kb.gene(gene)
    rng = random.Random(seed)
    names = [a.name for a in g.named_alleles if a.name not in g.quirks.ignored_alleles]
    return [f"{rng.choice(names)}/{rng.choice(names)}" for _ in range(n)]


def all_pairs(kb: KnowledgeBase, gene: str) -> Iterable[str]:
    g = kb.gene(gene)
    names = [a.name for a in g.named_alleles if a.name not in g.quirks.ignored_alleles]
    for i, a in enumerate(names):
        for b in names[i:]:
            yield f"{a}/{b}"
