"""pgx against the peer PGxPOP on 1000 Genomes: time both on the same files, then compare every call.

Why: PGxPOP (PharmGKB's population-scale caller) is the closest open peer for calling whole
cohorts. A speed claim means little unless both tools read the same files on the same machine
in the same run, and a concordance figure means little unless every disagreement has a stated
cause. PGxPOP's allele definitions stop in 2020 and it matches differently from pgx (an allele
fits a strand when the strand carries all of its variants; extra variants are appended to the
name or joined as a second allele with '+'; absent positions are read as reference), so most
disagreements are expected to be definitional. This script separates those from the rest:

1. runs PGxPOP (``../shared/peers/pgxpop.sh``, one gene at a time) and pgx (``pgx batch``, or
   ``pgx call`` per gene with ``--pgx-per-file``) ``--runs`` times, alternating, and reports
   median wall time, CPU time (user+sys of the child processes) and peak RSS (the largest single
   child process);
2. joins the two tools' calls per (sample, gene), normalises notation (haplotype order, PGxPOP's
   '|' and 'or' alternatives, '&' for '+' in CFTR names, alleles renamed since 2020 that have the
   same variants) and counts identical calls, differing calls and calls only one tool made;
3. gives each non-identical pair a mechanical reason from the phased VCF strands and both tools'
   definitions: a position outside the file's span, ties, a VCF record PGxPOP did not read, an
   allele or position only one tool's definitions have, PGxPOP's subset/combination matching,
   or "other" with examples;
4. checks pgx's own calls against the VCF strands with pgx's definitions (exact match, best
   score, the reference tool's rules), so a pgx matching error shows up as such rather than
   hiding among definitional differences.

    /tmp/dev/bin/python benchmarks/pgxpop_compare.py --pgx-per-file --runs 1     # print the section
    /tmp/dev/bin/python benchmarks/pgxpop_compare.py --write                       # and record it in RESULTS.md
    /tmp/dev/bin/python benchmarks/pgxpop_compare.py --no-run --out /tmp/pgxpop_compare   # re-analyse a run

Raw rows (sample, gene, pgx, pgxpop, category, reason, detail, pgx self-check) go to
OUT/concordance.tsv; each run's outputs and measurements stay in OUT/runN/.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path

import pysam
from results_md import RESULTS, Measured, machine, run_measured, source_state, write_section

import pgx
from pgx.knowledge.loader import load_knowledge
from pgx.knowledge.schema import IUPAC, Gene, is_wobble

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEFAULT_VCF_DIR = SHARED / "data" / "1kgp" / "GRCh38"
PGXPOP_SH = SHARED / "peers" / "pgxpop.sh"
PGXPOP_SRC = SHARED / "peers" / "pgxpop"
GENES = ("CFTR", "CYP2B6", "CYP2C19", "CYP2C9", "CYP2D6", "CYP3A5", "CYP4F2", "IFNL3", "NUDT15", "SLCO1B1",
         "TPMT", "UGT1A1", "VKORC1")  # fmt: skip
SECTION = "## pgx vs PGxPOP on 1000 Genomes (GRCh38, 13 genes, 3202 samples)"
TSV_ALT_SEP = " OR "  # pgx's TSV separates tied diplotypes with this
EXAMPLES = 2
TOP_REASONS = 6

Key = tuple[int, str, str]  # (position, 'snv' | 'ins' | 'del', base or length): one non-reference allele
Strand = dict[int, str | None]  # position -> allele on one strand (None: no data, '?': could not resolve)
PosTable = dict[int, tuple[str, tuple[str, ...]]]  # pgx position -> (REF, ALTs)

# ---------------------------------------------------------------------------------------------- timing


@dataclass
class Run:
    tool: str
    total: Measured
    per_gene: dict[str, Measured] = field(default_factory=dict)


def pgx_batch_command(pgx_exe: str, files: dict[str, Path], outdir: Path, workers: int) -> list[str]:
    """``pgx batch``: every file in one command, OUTDIR/calls.tsv in the columns of ``pgx call -f tsv``;
    restricted to the genes compared (PGxPOP calls nothing else either)."""
    genes = [arg for gene in files for arg in ("-g", gene)]
    return [
        pgx_exe,
        "batch",
        *map(str, files.values()),
        "-o",
        str(outdir),
        "--missing-to-ref",
        "--workers",
        str(workers),
        *genes,
    ]


def pgx_call_command(pgx_exe: str, vcf: Path, gene: str, out: Path) -> list[str]:
    return [pgx_exe, "call", str(vcf), "-g", gene, "--missing-to-ref", "-f", "tsv", "-o", str(out)]


def run_pgx(pgx_exe: str, files: dict[str, Path], dest: Path, workers: int, per_file: bool) -> Run:
    """pgx's calls end up in DEST/out/calls.tsv either way (``pgx batch`` wants a new or empty folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / "out"
    if not per_file:
        m, rc = run_measured(pgx_batch_command(pgx_exe, files, out, workers), dest / "pgx.log")
        if rc != 0:
            sys.exit(f"pgx batch failed (rc {rc}, see {dest / 'pgx.log'}); --pgx-per-file runs `pgx call` per gene")
        return Run("pgx", m)
    out.mkdir()
    per_gene: dict[str, Measured] = {}
    start = time.perf_counter()
    for g, vcf in files.items():
        per_gene[g], rc = run_measured(pgx_call_command(pgx_exe, vcf, g, out / f"{g}.tsv"), dest / f"{g}.log")
        if rc != 0:
            sys.exit(f"pgx call failed for {g} (rc {rc}, see {dest / f'{g}.log'})")
    wall = time.perf_counter() - start
    ms = per_gene.values()
    with open(out / "calls.tsv", "w") as dst:  # one provenance line and one header, like `pgx batch`
        for i, g in enumerate(files):
            lines = (out / f"{g}.tsv").read_text().splitlines(keepends=True)
            dst.writelines(lines if i == 0 else lines[2:])
    return Run("pgx", Measured(wall, sum(m.cpu for m in ms), max(m.rss_mib for m in ms)), per_gene)


def run_pgxpop(vcf_dir: Path, genes: list[str], out: Path) -> Run:
    out.mkdir(parents=True, exist_ok=True)
    m, rc = run_measured(["bash", str(PGXPOP_SH), str(vcf_dir), " ".join(genes), str(out)], out / "pgxpop.log")
    if rc != 0:
        sys.exit(f"PGxPOP failed (rc {rc}, see {out / 'pgxpop.log'})")
    per_gene = {}
    with open(out / "timings.tsv") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["gene"] in genes and row["status"] == "ok":
                per_gene[row["gene"]] = Measured(float(row["wall_s"]), float("nan"), float(row["peak_rss_mb"]))
    return Run("PGxPOP", m, per_gene)


def ensure_pgxpop_venv(vcf_dir: Path, out: Path) -> None:
    """pgxpop.sh builds its virtual environment on first use; do that outside the timed runs."""
    venv = Path(os.environ.get("PGXPOP_VENV", Path(os.environ.get("TMPDIR", "/tmp")) / "pgxpop_venv"))
    if not (venv / "bin" / "python").exists():
        print(f"setting up PGxPOP's venv in {venv} (untimed)", file=sys.stderr)
        run_pgxpop(vcf_dir, ["VKORC1"], out / "setup")


def save_run(run: Run, path: Path) -> None:
    data = {"tool": run.tool, "total": asdict(run.total), "per_gene": {g: asdict(m) for g, m in run.per_gene.items()}}
    path.write_text(json.dumps(data, indent=1) + "\n")


def load_run(path: Path) -> Run:
    if not path.exists():
        sys.exit(f"--no-run: {path} is missing; run without --no-run first (same --out and --runs)")
    data = json.loads(path.read_text())
    return Run(data["tool"], Measured(**data["total"]), {g: Measured(**m) for g, m in data["per_gene"].items()})


# ---------------------------------------------------------------------------------------------- calls


@dataclass
class PgxRow:
    status: str
    diplotypes: list[tuple[str, ...]]  # tied diplotypes, each a sorted tuple of haplotype names
    text: str
    reason: str
    warnings: str

    @property
    def inferred(self) -> bool:
        """Called by the reference tool's single-variant fallback (SLCO1B1 rs4149056), not by a full match."""
        return "inferred" in self.warnings and "alone" in self.warnings


@dataclass
class PopRow:
    diplotype: str
    strands: list[str]  # the two strands as PGxPOP wrote them (each may hold 'or' alternatives)
    variants: str  # the variant keys PGxPOP read on either strand, ';'-joined (a key may contain ';' itself)


def split_pair(dip: str, names: set[str]) -> tuple[str, ...]:
    """'A/B' into its two haplotype names (sorted); a '/' inside a name survives when the other split fits."""
    cuts = [i for i, c in enumerate(dip) if c == "/"]
    for i in cuts:
        if dip[:i] in names and dip[i + 1 :] in names:
            return tuple(sorted((dip[:i], dip[i + 1 :])))
    return tuple(sorted(dip.split("/"))) if len(cuts) == 1 else (dip,)


def load_pgx(path: Path, names: dict[str, set[str]]) -> dict[tuple[str, str], PgxRow]:
    rows: dict[tuple[str, str], PgxRow] = {}
    with open(path) as fh:
        for r in csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t"):
            if r["sample"] == "sample":  # a repeated header
                continue
            dips = [split_pair(d, names.get(r["gene"], set())) for d in r["diplotype"].split(TSV_ALT_SEP) if d]
            rows[(r["sample"], r["gene"])] = PgxRow(r["status"], dips, r["diplotype"], r["reason"], r["warnings"])
    return rows


def load_pgxpop(out: Path, genes: list[str]) -> dict[tuple[str, str], PopRow]:
    """PGxPOP's GENE.csv files. Phased output has one diplotype 'A|B'; unphased ';' alternatives keep the first."""
    rows: dict[tuple[str, str], PopRow] = {}
    for g in genes:
        with open(out / f"{g}.csv") as fh:
            for r in csv.DictReader(fh):
                first = r["diplotype"].split(";")[0]
                strands = re.split(r"[|/]", first, maxsplit=1) if first else []
                variants = ";".join((r["hap_1_variants"], r["hap_2_variants"]))
                rows[(r["sample_id"], g)] = PopRow(r["diplotype"], strands, variants)
    return rows


# ---------------------------------------------------------------------------------------------- definitions


def allele_key(pos: int, ref: str, value: str) -> Key | None:
    """A VCF-style allele at a pgx position as a comparable key; None for the reference or a wobble code."""
    if value in (ref, "?") or is_wobble(value):
        return None
    if len(value) == 1 and len(ref) == 1:
        return (pos, "snv", value)
    if len(value) > len(ref):
        return (pos, "ins", str(len(value) - len(ref)))
    return (pos, "del", str(len(ref) - len(value)))


@dataclass
class PopVariant:
    pos: int  # PGxPOP's own coordinate
    kind: str  # SNP, INS, DEL
    ref: str  # as PGxPOP reads it: the base, the deleted sequence, or 'ins'
    alts: list[str]
    hgvs_key: str  # how PGxPOP names it in hap_N_variants
    mapped: int | None  # the pgx position it corresponds to


@dataclass
class GeneDefs:
    gene: Gene
    pop_date: str
    pgx_pos: PosTable
    pgx_content: dict[str, frozenset[Key]]  # pgx allele -> its non-reference alleles
    pop_vars: list[PopVariant]
    pop_content: dict[str, list[frozenset[Key]]]  # PGxPOP allele -> its definitions (a name may repeat)
    shared: set[int]  # pgx positions PGxPOP also defines
    pop_only: dict[int, PopVariant]
    pop_to_pgx: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (pgx name, renamed)
    multi_record: set[int] = field(default_factory=set)  # positions with several VCF records (set by read_strands)

    @property
    def pgx_only(self) -> set[int]:
        return set(self.pgx_pos) - self.shared

    def label(self, pos: int) -> str:
        rsid = next((p.rsid for p in self.gene.positions if p.position == pos), None)
        return f"{pos} ({rsid})" if rsid else str(pos)

    def describe(self, keys: Iterable[Key]) -> str:
        out = [self.label(pos) + (f" {v}" if kind == "snv" else f" {kind}{v}") for pos, kind, v in sorted(keys)]
        return ", ".join(out[:3]) + (f" (+{len(out) - 3})" if len(out) > 3 else "")


def pop_variant(v: dict, pgx_pos: PosTable, rsids: dict[int, str | None]) -> PopVariant:  # type: ignore[type-arg]
    hgvs = v["chromosomeHgvsName"]
    kind = v["type"]
    if kind == "SNP":
        ref = hgvs.split(">")[0][-1]
        alts = sorted({a for part in hgvs.split(";") for a in part.split(">")[1].strip().split("/")})
    elif kind == "DEL":
        ref = hgvs.split("del")[1]
        alts = ["del" + ref]
    else:
        ref = "ins"
        alts = [a.split("ins")[1] for a in hgvs.split("/")]
    mapped = map_position(v, kind, len(ref) if kind == "DEL" else len(alts[0]), pgx_pos, rsids)
    return PopVariant(int(v["position"]), kind, ref, alts, f"{v['chromosome']}.{hgvs}", mapped)


def map_position(v: dict, kind: str, size: int, pgx_pos: PosTable, rsids: dict[int, str | None]) -> int | None:  # type: ignore[type-arg]
    """The pgx position a PGxPOP variant corresponds to: the same rsID and type, else the same position (SNVs),
    else an indel of the same kind and length nearby (the two anchor indels and repeats differently)."""

    def snv_site(q: int) -> bool:
        return all(len(a) == 1 for a in (pgx_pos[q][0], *pgx_pos[q][1]))

    pos = int(v["position"])
    by_rsid = [q for q, rs in rsids.items() if rs and rs == v.get("rsid") and snv_site(q) == (kind == "SNP")]
    if len(by_rsid) == 1:
        return by_rsid[0]
    if kind == "SNP":
        return pos if pos in pgx_pos and snv_site(pos) else None
    want = ("del" if kind == "DEL" else "ins", size)
    syn = [int(s) for s in v.get("synonyms") or []]
    near = sorted((q for q in pgx_pos if abs(q - pos) <= 12), key=lambda q: abs(q - pos))
    for c in (pos, pos - 1, *syn, *(s - 1 for s in syn), *near):
        ref_c, alts_c = pgx_pos.get(c, ("", ()))
        if want in {("ins" if len(a) > len(ref_c) else "del", abs(len(a) - len(ref_c))) for a in alts_c}:
            return c
    return None


def pop_allele_key(var: PopVariant, value: str | None) -> Key | None:
    """PGxPOP's reading of a definition cell: null or the reference is reference, IUPAC codes too (it compares
    the cell with each ALT), any other value at an indel is the indel."""
    if not value or value == var.ref:
        return None
    pos = var.mapped if var.mapped is not None else var.pos
    if var.kind == "SNP":
        return (pos, "snv", value) if value in var.alts else None
    if var.kind == "DEL":
        return (pos, "del", str(len(var.ref)))
    return (pos, "ins", str(len(value[3:] if value.startswith("ins") else var.alts[0])))


def load_defs(genes: list[str]) -> dict[str, GeneDefs]:
    kb = load_knowledge()
    out = {}
    for g in genes:
        gene = kb.genes[g]
        pgx_pos = {p.position: (p.ref, tuple(p.alts)) for p in gene.positions}
        pgx_content = {
            a.name: frozenset(k for pos, v in a.alleles.items() if (k := allele_key(pos, pgx_pos[pos][0], v)))
            for a in gene.named_alleles
            if a.name not in gene.quirks.ignored_alleles
        }
        data = json.loads((PGXPOP_SRC / "definition" / "alleles" / f"{g}_translation.json").read_text())
        rsids = {p.position: p.rsid for p in gene.positions}
        pop_vars = [pop_variant(v, pgx_pos, rsids) for v in data["variants"]]
        pop_content: dict[str, list[frozenset[Key]]] = defaultdict(list)
        for a in data["namedAlleles"]:
            cells = a["alleles"] or [None] * len(pop_vars)
            keys = frozenset(k for var, val in zip(pop_vars, cells, strict=True) if (k := pop_allele_key(var, val)))
            pop_content[a["name"]].append(keys)
        d = GeneDefs(gene, data.get("modificationDate", "?"), pgx_pos, pgx_content, pop_vars, dict(pop_content),
                     {v.mapped for v in pop_vars if v.mapped is not None},
                     {v.pos: v for v in pop_vars if v.mapped is None})  # fmt: skip
        d.pop_to_pgx = name_map(d)
        out[g] = d
    return out


def name_map(d: GeneDefs) -> dict[str, tuple[str, bool]]:
    """PGxPOP allele name -> (pgx name, renamed): the same name, the same name with '&' written as '+' (PGxPOP
    reserves '+'), or the single pgx allele with exactly the same variants (renamed since 2020)."""
    by_content: dict[frozenset[Key], list[str]] = defaultdict(list)
    for name, keys in d.pgx_content.items():
        by_content[keys].append(name)
    out: dict[str, tuple[str, bool]] = {}
    for name, contents in d.pop_content.items():
        notation = name.replace("&", "+").replace(" ", "")
        if name in d.pgx_content:
            out[name] = (name, False)
        elif notation in d.pgx_content:
            out[name] = (notation, False)
        elif len(by_content.get(contents[0], [])) == 1:
            out[name] = (by_content[contents[0]][0], True)
    return out


# ---------------------------------------------------------------------------------------------- VCF strands


def read_strands(vcf: Path, d: GeneDefs) -> tuple[list[str], dict[str, tuple[Strand, Strand]]]:
    """Each sample's two strands at pgx's positions and at PGxPOP-only SNV positions, read the way pgx reads with
    --missing-to-ref: absent inside the file's span = reference, outside it = no data. '?' marks what this simple
    reader cannot resolve: two records with an ALT on one strand, a deletion reaching over the position from an
    earlier record, an unphased heterozygous genotype."""
    vf = pysam.VariantFile(str(vcf))
    samples = list(vf.header.samples)
    chrom = d.gene.chromosome
    first = last = 0
    for rec in vf.fetch(chrom):
        first, last = first or rec.pos, rec.pos
    refs: dict[int, str] = {p: r for p, (r, _) in d.pgx_pos.items()}
    refs.update({p: v.ref for p, v in d.pop_only.items() if v.kind == "SNP"})
    base = {p: (ref if first <= p <= last else None) for p, ref in refs.items()}
    strands = {s: (dict(base), dict(base)) for s in samples}
    seen: set[int] = set()
    for rec in vf.fetch(chrom, min(refs) - 1, max(refs)):
        p, rec_ref, rec_alleles = rec.pos, rec.ref or "", rec.alleles or ()
        if p in seen and p in refs:
            d.multi_record.add(p)
        seen.add(p)
        covered = [q for q in refs if p < q < p + len(rec_ref)]
        if p not in refs and not covered:
            continue
        ref = refs.get(p, "")
        for s, smp in zip(samples, rec.samples.values(), strict=True):
            gt = smp["GT"] or (None, None)
            for k in (0, 1):
                i = gt[k] if len(gt) > k else None
                if i == 0:
                    continue
                cur = strands[s][k]
                for q in covered:
                    if i is None or len(rec_alleles[i]) < len(rec_ref):
                        cur[q] = "?"
                if p not in refs:
                    continue
                if i is None:
                    cur[p] = None
                    continue
                alt = rec_alleles[i]
                val = alt if rec_ref == ref else (alt + ref[len(rec_ref) :] if ref.startswith(rec_ref) else "?")
                cur[p] = val if cur[p] == ref and (smp.phased or gt[0] == gt[1]) else "?"
    return samples, strands


def strand_keys(d: GeneDefs, strand: Strand) -> frozenset[Key]:
    keys = set()
    for p, v in strand.items():
        if v is None or v == "?":
            continue
        k = allele_key(p, d.pgx_pos[p][0], v) if p in d.pgx_pos else ((p, "snv", v) if v != d.pop_only[p].ref else None)
        if k:
            keys.add(k)
    return frozenset(keys)


# ---------------------------------------------------------------------------------------------- pgx self-check


def accepts(d: GeneDefs, alleles: dict[int, str], strand: Strand) -> bool:
    """Exact match: a listed allele (IUPAC wobble = any of its bases) or, where not listed, the REF base (the
    reference tool fills blanks from the reference allele, and a wobble there with REF)."""
    for p, (ref, _alts) in d.pgx_pos.items():
        v = strand.get(p)
        if v is None:
            continue
        code = alleles.get(p, ref)
        if not (v in IUPAC[code] if is_wobble(code) else v == code):
            return False
    return True


def score(alleles: dict[int, str], strand: Strand, ref: dict[int, str]) -> int:
    """Listed positions with data, except a wobble where the strand carries REF."""
    return sum(1 for p, c in alleles.items() if strand.get(p) not in (None, ref[p] if is_wobble(c) else None))


def expected_calls(d: GeneDefs, s1: Strand, s2: Strand) -> set[tuple[str, ...]] | None:
    """Best-scoring exact fits of pgx's definitions to the two (phased) strands; None when undecidable here."""
    strands = [dict(s1), dict(s2)]
    if any(v == "?" for s in strands for v in s.values()):
        return None
    if all(s.get(p) is None for s in strands for p in d.pgx_pos):
        return set()  # no data at any position: no call
    for p, (ref, alts) in d.pgx_pos.items():
        for s in strands:
            if s.get(p) is not None and s[p] not in (ref, *alts):
                if not d.gene.quirks.undocumented_as_reference:
                    return set()  # an allele no definition has: no call
                s[p] = ref
    refs = {p: r for p, (r, _) in d.pgx_pos.items()}
    named = [a for a in d.gene.named_alleles if a.name in d.pgx_content]
    f1, f2 = ([(a.name, score(a.alleles, s, refs)) for a in named if accepts(d, a.alleles, s)] for s in strands)
    fits: dict[tuple[str, ...], int] = {}
    for (x, sx), (y, sy) in product(f1, f2):
        key = tuple(sorted((x, y)))
        fits[key] = max(fits.get(key, -1), sx + sy)
    top = max(fits.values(), default=0)
    return {k for k, v in fits.items() if v == top}


# ---------------------------------------------------------------------------------------------- comparison


@dataclass
class Verdict:
    category: str  # identical, differ, pgx_only, pgxpop_only, neither
    reason: str = ""  # the class, e.g. "(iii) definitions: ..."
    detail: str = ""  # specific and groupable: alleles, positions
    renamed: bool = False
    self_check: str = ""  # pgx's call is not the best exact fit of its own definitions to the strands


@dataclass(frozen=True)
class PopHap:
    """One reading of a PGxPOP strand."""

    text: str  # as PGxPOP wrote it
    names: tuple[str, ...]  # its parts in pgx's names where one maps (sorted), appended variants as written
    parts: tuple[str, ...]  # its alleles in PGxPOP's names
    keys: frozenset[Key]  # the variants it asserts: its alleles' definitions plus appended variants
    renamed: bool
    combined: bool  # several alleles joined with '+', or variants appended

    @property
    def label(self) -> str:
        return "+".join(self.names)


PARTIAL = re.compile(r"^chr[^.]+\.g\.(\d+)(.*)>(.*)$")  # a variant PGxPOP appends to a strand: chr10.g.123G>A


def pop_hap(d: GeneDefs, text: str) -> list[PopHap]:
    """A PGxPOP strand, one PopHap per 'or' alternative."""
    known = set(d.pop_content)
    alts = [text]
    if "or" in text and text not in known:
        parts = text.split("or")
        if all(p and p.split("+")[0] in known for p in parts):
            alts = parts
    out = []
    for alt in alts:
        comps = [alt] if alt in known else alt.split("+")
        names, parts, keys, renamed = [], [], set(), False
        for c in comps:
            if m := PARTIAL.match(c):
                var = next((v for v in d.pop_vars if v.pos == int(m.group(1))), None)
                k = pop_allele_key(var, m.group(3) if var.kind == "SNP" else var.alts[0]) if var else None
                keys |= {k} if k else set()
                names.append(c)
                continue
            pgx_name, ren = d.pop_to_pgx.get(c, (c, False))
            renamed |= ren
            names.append(pgx_name)
            parts.append(c)
            keys |= d.pop_content.get(c, [frozenset()])[0]
        out.append(PopHap(alt, tuple(sorted(names)), tuple(parts), frozenset(keys), renamed, len(comps) > 1))
    return out


def shared_only(d: GeneDefs, keys: Iterable[Key]) -> frozenset[Key]:
    return frozenset(k for k in keys if k[0] in d.shared)


def pgx_reason_code(reason: str) -> str:
    """pgx's TSV gives the reason as text; its code back (the codes of pgx.matching.models.NotCalledCode)."""
    rules = (("no pair of", "no_match"), ("not in any", "undocumented_variant"), ("no genotype data", "no_data"),
             ("required position", "missing_required_position"), ("half call", "half_call"),
             ("ploid", "ploidy"))  # fmt: skip
    return next((code for text, code in rules if text in reason), "other")


def pgxpop_misread(d: GeneDefs, pop: PopRow, truth: tuple[frozenset[Key], ...]) -> str:
    """VCF variants at positions both tools define that PGxPOP did not list among those it read, and why."""
    raw = f";{pop.variants};"
    read = {v.mapped for v in d.pop_vars if v.mapped is not None and f";{v.hgvs_key};" in raw}
    out = []
    for k in sorted({k for t in truth for k in t if k[0] in d.shared and k[0] not in read}):
        at = [v for v in d.pop_vars if v.mapped == k[0]]
        var = next((v for v in at if pop_allele_key(v, v.alts[0]) == k), at[0])
        if k[0] in d.multi_record:
            why = "the VCF splits this multi-allelic site into records; PGxPOP reads only the first matching REF"
        elif var.pos != k[0]:
            why = f"PGxPOP looks for it at {var.pos} ({var.hgvs_key.split('.', 1)[1]})"
        else:
            why = "not found by PGxPOP's record lookup"
        out.append(f"{d.describe([k])}: {why}")
    return "; ".join(out)


def compare(d: GeneDefs, p: PgxRow | None, q: PopRow | None, strands: tuple[Strand, Strand] | None) -> Verdict:
    pgx_called = p is not None and p.status == "called"
    pop_called = q is not None and len(q.strands) == 2
    s1, s2 = strands if strands is not None else ({}, {})
    truth = (strand_keys(d, s1), strand_keys(d, s2))
    v = Verdict("neither")
    if strands is not None and p is not None and not p.inferred and "conflicting records" not in p.warnings:
        expected = expected_calls(d, s1, s2)
        if expected is not None and expected != (set(p.diplotypes) if pgx_called else set()):
            v.self_check = f"VCF strands fit {' | '.join('/'.join(x) for x in sorted(expected)) or 'nothing'}"
    if not pop_called:
        v.category = "pgx_only" if pgx_called else "neither"
        v.reason = "PGxPOP gave no diplotype"
        v.detail = "" if pgx_called or p is None else f"pgx {pgx_reason_code(p.reason)}"
        return v
    assert q is not None
    strands_pop = [pop_hap(d, h) for h in q.strands]
    pop_dips = {tuple(sorted((a.label, b.label))): (a, b) for a, b in product(*strands_pop)}
    if p is None:
        v.category, v.reason = "pgxpop_only", "pgx gave no row"
        return v
    if not pgx_called:
        v.category = "pgxpop_only"
        return explain_no_call(d, p, q, [alts[0] for alts in strands_pop], truth, v)
    if set(p.diplotypes) == set(pop_dips):
        v.category = "identical"
        v.renamed = any(a.renamed or b.renamed for a, b in pop_dips.values())
        return v
    v.category = "differ"
    return explain_difference(d, p, q, pop_dips, truth, v)


def explain_no_call(d: GeneDefs, p: PgxRow, q: PopRow, first: list[PopHap], truth: tuple[frozenset[Key], ...],
                    v: Verdict) -> Verdict:  # fmt: skip
    """pgx did not call, PGxPOP did."""
    code = pgx_reason_code(p.reason)
    pgx_only = {k for t in truth for k in t if k[0] in d.pgx_only}
    needed = {k for h in first for n in h.names for k in d.pgx_content.get(n, ()) if k[0] in d.pgx_only}
    lacking = {k for k in needed if k not in truth[0] | truth[1]}
    pop_only = {k for t in truth for k in t if k[0] in d.pop_only}
    if code == "no_data":
        v.reason = "(i) missing: the gene's positions lie outside the file's span"
        v.detail = f"pgx no_data; PGxPOP reads {', '.join(d.label(x) for x in sorted(d.pgx_pos)[:3])} as reference"
    elif code == "undocumented_variant":
        v.reason = "(iv) pgx: an allele at a defined position that no pgx definition has (no call); PGxPOP ignores it"
        v.detail = re.sub(r"^variant not in any \S+ allele definition: ", "", p.reason)
    elif misread := pgxpop_misread(d, q, truth):
        v.reason, v.detail = "(iv) reading: PGxPOP did not read a VCF variant that pgx read", misread
    elif code == "no_match" and pgx_only:
        v.reason = "(iii) definitions: a variant at a position only pgx defines leaves no exact match"
        v.detail = d.describe(pgx_only)
    elif code == "no_match" and lacking:
        v.reason = "(iii) definitions: pgx's allele of PGxPOP's name also needs a variant at a position PGxPOP lacks"
        v.detail = f"{' / '.join(sorted(h.text for h in first))}: pgx needs {d.describe(lacking)}"
    elif code == "no_match" and any(h.combined for h in first):
        v.reason = "(iv) matching: a strand no single allele explains; PGxPOP joins alleles or appends variants"
        v.detail = " / ".join(sorted(h.text for h in first))
    elif pop_only:
        v.reason, v.detail = "(iii) definitions: a variant at a position only PGxPOP defines", d.describe(pop_only)
    else:
        v.reason, v.detail = f"(iv) other: pgx {code}", p.reason[:80]
    return v


def pair_notes(d: GeneDefs, diff: list[tuple[str, PopHap]]) -> tuple[str, set[str]]:
    """Why pgx's and PGxPOP's alleles differ although they assert the same variants at the shared positions."""
    kinds: set[str] = set()
    notes = []
    if pgx_only := {k for n, _c in diff for k in d.pgx_content.get(n, ()) if k[0] in d.pgx_only}:
        notes.append(f"only pgx defines {d.describe(pgx_only)}")
        kinds.add("pgx_position")
    if pop_only := {k for _n, c in diff for k in c.keys if k[0] not in d.shared}:
        notes.append(f"only PGxPOP defines {d.describe(pop_only)}")
        kinds.add("pop_position")
    for name in sorted({n for n, _c in diff} | {x for _n, c in diff for x in c.parts}):
        mine, theirs = d.pgx_content.get(name), d.pop_content.get(name, [None])[0]
        if mine is not None and theirs is not None and mine != theirs:
            change = [f"pgx adds {d.describe(mine - theirs)}" if mine - theirs else "",
                      f"PGxPOP's had {d.describe(theirs - mine)}" if theirs - mine else ""]  # fmt: skip
            notes.append(f"{name} redefined: {', '.join(x for x in change if x)}")
            kinds.add("redefined")
    if not kinds and any(c.combined for _n, c in diff):
        kinds.add("combination")
    return "; ".join(notes), kinds


def explain_difference(d: GeneDefs, p: PgxRow, q: PopRow, pop_dips: dict[tuple[str, ...], tuple[PopHap, PopHap]],
                       truth: tuple[frozenset[Key], ...], v: Verdict) -> Verdict:  # fmt: skip
    """Both called, differently."""
    if p.inferred:
        v.reason = "(iv) pgx: no exact match; diplotype inferred from one variant (the reference tool's fallback)"
        v.detail = "SLCO1B1 rs4149056" if d.gene.gene == "SLCO1B1" else p.warnings[:60]
        return v
    if m := re.search(r"conflicting records at (\S+)", p.warnings):
        v.reason = "(iv) reading: two VCF records put different ALTs on one strand; pgx: position missing, ties"
        v.detail = m.group(1)
        return v
    if set(p.diplotypes) & set(pop_dips):
        v.reason = "(ii) ambiguity: the tools list different alternatives, one of them in common"
        v.detail = f"pgx {len(p.diplotypes)} tied, PGxPOP {len(pop_dips)}"
        return v
    if misread := pgxpop_misread(d, q, truth):
        v.reason, v.detail = "(iv) reading: PGxPOP did not read a VCF variant that pgx read", misread
        return v
    # pair pgx's first diplotype with PGxPOP's first, strand by strand, on the positions both define
    pa, pb = (p.diplotypes[0] * 2)[:2]
    ca, cb = next(iter(pop_dips.values()))
    ka, kb = (shared_only(d, d.pgx_content.get(n, ())) for n in (pa, pb))

    def cost(x: PopHap, y: PopHap) -> int:
        return len(ka ^ shared_only(d, x.keys)) + len(kb ^ shared_only(d, y.keys))

    if cost(cb, ca) < cost(ca, cb):
        ca, cb = cb, ca
    pairs = [(pa, ka, ca), (pb, kb, cb)]
    diff = sorted({(n, c) for n, _k, c in pairs if (n,) != c.names}, key=lambda x: (x[0], x[1].text))
    label = "; ".join(f"pgx {n} = PGxPOP {c.text}" for n, c in diff)
    pgx_only = {k for t in truth for k in t if k[0] in d.pgx_only}
    pop_only = {k for t in truth for k in t if k[0] in d.pop_only}
    if all(k == shared_only(d, c.keys) for _n, k, c in pairs):
        note, kinds = pair_notes(d, diff)
        if "pgx_position" in kinds:
            v.reason = "(iii) definitions: pgx's allele has a variant at a position PGxPOP's definitions lack"
        elif "pop_position" in kinds:
            v.reason = "(iii) definitions: PGxPOP's allele has a variant at a position pgx's definitions lack"
        elif "combination" in kinds:
            v.reason = "(iii) definitions: pgx has one allele for what PGxPOP writes as alleles joined with '+'"
        elif "redefined" in kinds:
            v.reason = "(iii) definitions: allele redefined since PGxPOP's definitions (same name, other variants)"
        else:
            v.reason = "(iii) definitions: allele renamed since PGxPOP's definitions"
        v.detail = label + (f" ({note})" if note else "")
    elif pgx_only:
        v.reason = "(iii) definitions: a variant at a position only pgx defines selects another allele"
        v.detail = f"{label} ({d.describe(pgx_only)})"
    elif any(c.combined for _n, c in diff):
        v.reason = "(iv) matching: PGxPOP matched a subset of the strand and joined or appended the rest"
        v.detail = label
    elif pop_only:
        v.reason = "(iii) definitions: a variant at a position only PGxPOP defines"
        v.detail = f"{label} ({d.describe(pop_only)})"
    else:
        v.reason, v.detail = "(iv) other: both called, different variants at shared positions", label
    return v


# ---------------------------------------------------------------------------------------------- report


@dataclass
class Row:
    sample: str
    gene: str
    pgx: str
    pgxpop: str
    verdict: Verdict


def concordance(genes: list[str], vcf_dir: Path, defs: dict[str, GeneDefs], pgx_rows: dict[tuple[str, str], PgxRow],
                pop_rows: dict[tuple[str, str], PopRow]) -> list[Row]:  # fmt: skip
    rows = []
    for g in genes:
        samples, strands = read_strands(vcf_dir / f"{g}.vcf.gz", defs[g])
        for s in samples:
            p, q = pgx_rows.get((s, g)), pop_rows.get((s, g))
            pgx_text = (p.text if p.status == "called" else f"not called: {p.reason}") if p else "absent"
            rows.append(Row(s, g, pgx_text, q.diplotype if q else "absent", compare(defs[g], p, q, strands.get(s))))
    return rows


def write_rows(rows: list[Row], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(["sample", "gene", "pgx", "pgxpop", "category", "reason", "detail", "pgx_self_check"])
        for r in rows:
            v = r.verdict
            w.writerow([r.sample, r.gene, r.pgx, r.pgxpop, v.category, v.reason, v.detail, v.self_check])


def fmt_s(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def median(runs: list[Run], gene: str | None = None) -> Measured:
    ms = [r.total if gene is None else r.per_gene[gene] for r in runs if gene is None or gene in r.per_gene]
    return Measured(*(statistics.median(getattr(m, f) for m in ms) for f in ("wall", "cpu", "rss_mib")))


def md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def render(args: argparse.Namespace, genes: list[str], runs: dict[str, list[Run]], rows: list[Row],
           defs: dict[str, GeneDefs], same_output: dict[str, bool]) -> str:  # fmt: skip
    pop, mine = median(runs["PGxPOP"]), median(runs["pgx"])
    commit_file = PGXPOP_SRC / "SOURCE_COMMIT"
    pop_commit = commit_file.read_text().strip()[:10] if commit_file.exists() else "unknown"
    years = sorted(m.group(0) for d in defs.values() if (m := re.search(r"\b(19|20)\d\d\b", d.pop_date))) or ["?"]
    mode = ("one `pgx call` per gene file, `--pgx-per-file`" if args.pgx_per_file
            else f"one `pgx batch` on all gene files, `--workers {args.workers}`")  # fmt: skip
    repeat = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in same_output.items())
    out = [
        SECTION,
        "",
        "Written by `benchmarks/pgxpop_compare.py --write`: PGxPOP (`../shared/peers/pgxpop.sh`, one process per "
        f"gene, `--phased`) and pgx ({mode}, `--missing-to-ref` because PGxPOP reads absent positions as reference) "
        f"on the same {len(genes)} per-gene 1000 Genomes files ({len({r.sample for r in rows})} phased samples), "
        f"{args.runs} run{'s' if args.runs > 1 else ''} each, alternating" + ("; medians." if args.runs > 1 else "."),
        "",
        f"- Machine: {machine()}",
        f"- Python {platform.python_version()}, pgx {pgx.__version__} (source "
        f"{source_state(['pgx', 'knowledge'], 'pgx/ or knowledge/')}), knowledge {load_knowledge().version}",
        f"- PGxPOP commit {pop_commit} (unmodified); its allele definitions are dated {years[0]}–{years[-1]}",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Repeated runs gave byte-identical calls: {repeat}",
        "",
        "### Time (whole run, all genes)",
        "",
        "CPU is user+sys of the tool's processes; peak RSS is the largest single process.",
        "",
        "| tool | wall (s) | CPU (s) | peak RSS (MiB) | PGxPOP / pgx wall |",
        "|---|---|---|---|---|",
        f"| PGxPOP | {fmt_s(pop.wall)} | {fmt_s(pop.cpu)} | {pop.rss_mib:.0f} | |",
        f"| pgx | {fmt_s(mine.wall)} | {fmt_s(mine.cpu)} | {mine.rss_mib:.0f} | {pop.wall / mine.wall:.1f}× |",
        "",
    ]
    per_gene_pgx = all(r.per_gene for r in runs["pgx"])
    head = "| gene | PGxPOP wall (s) | PGxPOP RSS (MiB) |" + (" pgx wall (s) | pgx RSS (MiB) |" if per_gene_pgx else "")
    out += ["Per gene, median (PGxPOP's own `timings.tsv`" + (", pgx per `pgx call`" if per_gene_pgx else "") + "):",
            "", head, "|" + "---|" * (head.count("|") - 1)]  # fmt: skip
    for g in genes:
        a = median(runs["PGxPOP"], g)
        line = f"| {g} | {fmt_s(a.wall)} | {a.rss_mib:.0f} |"
        if per_gene_pgx:
            b = median(runs["pgx"], g)
            line += f" {fmt_s(b.wall)} | {b.rss_mib:.0f} |"
        out.append(line)
    out += render_calls(genes, rows)
    return "\n".join(out) + "\n"


def render_calls(genes: list[str], rows: list[Row]) -> list[str]:
    out = ["", "### Calls per gene", "",
           "*identical*: the same diplotype(s) once haplotype order and notation are normalised; *(renamed)*: of "
           "those, how many needed an allele renamed since PGxPOP's definitions with the same variants (SLCO1B1 "
           "`*1B` = `*37`, VKORC1 `-1639G` = `rs9923231 reference (C)`, CFTR `Reference`). *pgx self-check*: pgx "
           "calls that are not the best exact fit of pgx's own definitions to the VCF strands (0 expected).", "",
           "| gene | samples | identical (renamed) | differ | pgx-only call | PGxPOP-only call | neither "
           "| pgx self-check |", "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        c = counts[r.gene]
        c[r.verdict.category] += 1
        c["renamed"] += r.verdict.renamed
        c["self"] += bool(r.verdict.self_check)
        c["n"] += 1
    total: Counter[str] = Counter()
    for g in genes:
        total.update(counts[g])
    for g, c in [*((g, counts[g]) for g in genes), ("**total**", total)]:
        out.append(f"| {g} | {c['n']} | {c['identical']} ({c['renamed']}) | {c['differ']} | {c['pgx_only']} | "
                   f"{c['pgxpop_only']} | {c['neither']} | {c['self']} |")  # fmt: skip
    out += ["", "### Why calls differ", "",
            "Each non-identical pair gets the first mechanical reason that applies, in this order: pgx's fallback or "
            "reading notes, ties, a VCF variant PGxPOP did not read, definitions, matching, other. (i) missing "
            "positions, (ii) phasing/ambiguity, (iii) allele definitions of different ages, (iv) other. "
            f"The {TOP_REASONS} largest groups per gene; every row is in `concordance.tsv`.", "",
            "| gene | outcome | reason | detail | n | examples |", "|---|---|---|---|---|---|"]  # fmt: skip
    groups: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    examples: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r.verdict.category != "identical":
            key = (r.verdict.category, r.verdict.reason, r.verdict.detail)
            groups[r.gene][key] += 1
            if len(examples[(r.gene, *key)]) < EXAMPLES:
                examples[(r.gene, *key)].append(r.sample)
    totals: Counter[str] = Counter()
    for g in genes:
        items = groups[g].most_common()
        for (_cat, reason, _detail), n in items:
            totals[reason] += n
        for (cat, reason, detail), n in items[:TOP_REASONS]:
            ex = ", ".join(examples[(g, cat, reason, detail)])
            out.append(f"| {g} | {cat.replace('_', ' ')} | {reason} | {md(detail)} | {n} | {ex} |")
        if rest := items[TOP_REASONS:]:
            classes: Counter[str] = Counter()
            for (_cat, reason, _detail), n in rest:
                classes[reason.split(":")[0]] += n
            summary = ", ".join(f"{k} {n}" for k, n in classes.most_common())
            out.append(f"| {g} | … | {len(rest)} smaller groups | {summary} | {sum(n for _, n in rest)} | |")
    out += ["", "Reasons over all genes:", "", "| reason | n |", "|---|---|"]
    out += [f"| {reason} | {n} |" for reason, n in totals.most_common()]
    if checks := [r for r in rows if r.verdict.self_check]:
        out += ["", "pgx self-check disagreements (first 10):", ""]
        out += [f"- {r.gene} {r.sample}: pgx {md(r.pgx[:80])}; {md(r.verdict.self_check)}" for r in checks[:10]]
    return out


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--vcf-dir", type=Path, default=DEFAULT_VCF_DIR, help="GENE.vcf.gz files (%(default)s)")
    parser.add_argument("--genes", nargs="+", default=list(GENES), metavar="GENE", help="default: the 13 genes")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool, alternating (%(default)s)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/pgxpop_compare"), help="scratch folder (%(default)s)")
    parser.add_argument("--pgx", default=shutil.which("pgx") or str(Path(sys.executable).with_name("pgx")),
                        help="pgx executable (%(default)s)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="pgx batch --workers")
    parser.add_argument("--pgx-per-file", action="store_true",
                        help="run `pgx call FILE -g GENE` per gene instead of one `pgx batch`")  # fmt: skip
    parser.add_argument("--no-run", action="store_true",
                        help="run nothing: re-analyse the calls and timings a previous run left in --out")  # fmt: skip
    parser.add_argument("--write", action="store_true", help="record the section in benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    genes = [g for g in args.genes if (args.vcf_dir / f"{g}.vcf.gz").exists()]
    if skipped := sorted(set(args.genes) - set(genes)):
        print(f"no VCF for {', '.join(skipped)} in {args.vcf_dir}: skipped", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_run:
        ensure_pgxpop_venv(args.vcf_dir, args.out)
    runs: dict[str, list[Run]] = {"PGxPOP": [], "pgx": []}
    for i in range(args.runs):
        for tool in ("PGxPOP", "pgx") if i % 2 == 0 else ("pgx", "PGxPOP"):
            dest = args.out / f"run{i + 1}" / tool.lower()
            if args.no_run:
                runs[tool].append(load_run(dest / "measured.json"))
                continue
            shutil.rmtree(dest, ignore_errors=True)
            if tool == "PGxPOP":
                run = run_pgxpop(args.vcf_dir, genes, dest)
            else:
                files = {g: args.vcf_dir / f"{g}.vcf.gz" for g in genes}
                run = run_pgx(args.pgx, files, dest, args.workers, args.pgx_per_file)
            save_run(run, dest / "measured.json")
            runs[tool].append(run)
            print(f"run {i + 1} {tool}: {run.total.wall:.1f} s wall, {run.total.cpu:.1f} s CPU, "
                  f"{run.total.rss_mib:.0f} MiB", file=sys.stderr)  # fmt: skip
    run_dirs = [args.out / f"run{i + 1}" for i in range(args.runs)]
    same_output = {
        "PGxPOP": len({"".join((r / "pgxpop" / f"{g}.csv").read_text() for g in genes) for r in run_dirs}) == 1,
        "pgx": len({"".join(x for x in (r / "pgx" / "out" / "calls.tsv").open() if not x.startswith("#"))
                    for r in run_dirs}) == 1,
    }  # fmt: skip
    defs = load_defs(genes)
    pgx_rows = load_pgx(run_dirs[-1] / "pgx" / "out" / "calls.tsv", {g: set(d.pgx_content) for g, d in defs.items()})
    pop_rows = load_pgxpop(run_dirs[-1] / "pgxpop", genes)
    rows = concordance(genes, args.vcf_dir, defs, pgx_rows, pop_rows)
    write_rows(rows, args.out / "concordance.tsv")
    print(f"wrote {args.out / 'concordance.tsv'}", file=sys.stderr)
    section = render(args, genes, runs, rows, defs, same_output)
    print(section)
    if args.write:
        write_section(SECTION, section, RESULTS)
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
