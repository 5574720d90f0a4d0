"""One genotype, many ways of writing it: every accepted input shape must give the same calls."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pysam
import pysam.bcftools
import pytest

from pgx.calling.pipeline import call_vcf
from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text
from pgx.variants import normalize
from pgx.vcf.targets import targets_for
from tests.vcfbuild import Vcf, from_simulation

COHORT = [
    SampleSpec(
        "A",
        [
            GeneSpec("CYP2C19", "*2/*17"),
            GeneSpec("UGT1A1", "*28/*37"),
            GeneSpec("CYP3A5", "*1/*7"),
            GeneSpec("CYP2D6", "*4/*10"),
            GeneSpec("DPYD", "Reference/c.1905+1G>A (*2A)"),
        ],
    ),
    SampleSpec(
        "B",
        [
            GeneSpec("CYP2C9", "*2/*3"),
            GeneSpec("TPMT", "*3B/*3C"),
            GeneSpec("NUDT15", "*1/*3"),
            GeneSpec("G6PD", "B (reference)/A- 202A_376G"),
        ],
    ),
    SampleSpec("C", [GeneSpec("SLCO1B1", "*5/*15"), GeneSpec("CYP2D6", "*1/*6"), GeneSpec("NAT2", "*5/*6")]),
]


def _calls(report) -> dict[str, dict[str, list[str]]]:
    return {s.sample: {g.gene: [d.name for d in g.diplotypes] + [g.status] for g in s.genes} for s in report.samples}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, kb) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("cohort")
    plain = d / "cohort.vcf"
    plain.write_text(simulate_vcf_text(kb, COHORT, phased=False))
    return plain, _calls(call_vcf(plain, knowledge=kb))


def _bgzip(src: Path, dst: Path) -> Path:
    pysam.tabix_compress(str(src), str(dst), force=True)
    return dst


def _variants(name: str, plain: Path, d: Path) -> Path:
    if name == "gzip":
        out = d / "c.gzip.vcf.gz"
        out.write_bytes(gzip.compress(plain.read_bytes()))
        return out
    if name == "bgzip":
        return _bgzip(plain, d / "c.bgz.vcf.gz")
    if name in ("tabix", "csi"):
        out = _bgzip(plain, d / f"c.{name}.vcf.gz")
        pysam.tabix_index(str(out), preset="vcf", force=True, csi=name == "csi")
        return out
    if name in ("bcf", "bcf-csi"):
        out = d / f"c.{name}.bcf"
        with pysam.VariantFile(str(plain)) as src, pysam.VariantFile(str(out), "wb", header=src.header) as dst:
            for rec in src:
                dst.write(rec)
        if name == "bcf-csi":
            pysam.bcftools.index(str(out))
        return out
    if name == "no-chr":
        out = d / "c.nochr.vcf"
        out.write_text(
            "".join(
                line.replace("##contig=<ID=chr", "##contig=<ID=")
                if line.startswith("##")
                else (line[3:] if line.startswith("chr") else line)
                for line in plain.read_text().splitlines(keepends=True)
            )
        )
        return out
    if name == "crlf":
        out = d / "c.crlf.vcf"
        out.write_bytes(plain.read_bytes().replace(b"\n", b"\r\n"))
        return out
    raise ValueError(name)


@pytest.mark.parametrize("shape", ["gzip", "bgzip", "tabix", "csi", "bcf", "bcf-csi", "no-chr", "crlf"])
def test_same_calls_from_every_file_shape(shape: str, cohort, tmp_path: Path, kb) -> None:
    plain, expected = cohort
    path = _variants(shape, plain, tmp_path)
    report = call_vcf(path, knowledge=kb)
    assert _calls(report) == expected
    assert report.input.indexed == (shape in ("tabix", "csi", "bcf-csi"))


def test_expected_cohort_calls(cohort) -> None:
    _, calls = cohort
    assert calls["A"]["CYP2C19"] == ["*2/*17", "called"]
    assert calls["A"]["UGT1A1"] == ["*28/*37", "called"]
    assert calls["A"]["CYP3A5"] == ["*1/*7", "called"]
    assert calls["A"]["DPYD"] == ["Reference/c.1905+1G>A (*2A)", "called"]
    assert calls["B"]["CYP2C9"] == ["*2/*3", "called"]
    assert calls["B"]["G6PD"] == ["B (reference)/A- 202A_376G", "called"]
    assert calls["C"]["SLCO1B1"] == ["*5/*15", "called"]


def test_sample_selection(cohort, kb) -> None:
    plain, expected = cohort
    report = call_vcf(plain, samples=["C", "A"], knowledge=kb)
    assert [s.sample for s in report.samples] == ["C", "A"]
    assert _calls(report) == {k: expected[k] for k in ("C", "A")}


def _one(vcf: Vcf, tmp_path: Path, gene: str, kb, **kw):
    report = call_vcf(vcf.write(tmp_path / "t.vcf"), genes=[gene], knowledge=kb, **kw)
    return report.samples[0].genes[0]


def _all_ref(gene: str, kb, skip: frozenset[int] | set[int] = frozenset(), base: str | None = None) -> Vcf:
    """Every position of a gene as a homozygous call of allele ``base`` (default: the reference allele)."""
    g = kb.gene(gene)
    ref = next(a for a in g.named_alleles if a.reference)
    hap = next(a for a in g.named_alleles if a.name == base) if base else ref
    v = Vcf()
    for p in g.positions:
        if p.position not in skip:
            value = hap.alleles.get(p.position, ref.alleles[p.position])
            idx = [p.ref, *p.alts].index(value) if value in [p.ref, *p.alts] else 0
            v.add(g.chromosome, p.position, p.ref, ",".join(p.alts), f"{idx}/{idx}")
    return v


def _from_diplotype(gene: str, dip: str, kb) -> Vcf:
    return from_simulation(kb, gene, dip)


def _set(v: Vcf, pos: int, value: str, fmt: str = "GT", filt: str = "PASS") -> Vcf:
    rec = next(r for r in v.records if r.pos == pos)
    rec.samples, rec.fmt, rec.filt = [value], fmt, filt
    return v


UGT_TA = 233760233  # CAT -> C (TA6), CATAT (TA8, *28), CATATAT (TA9, *37)


@pytest.mark.parametrize(
    "pos,ref,alt,expected",
    [
        (UGT_TA, "C", "CAT", "*1/*28"),  # minimal, left-aligned
        (UGT_TA, "CATA", "CATATA", "*1/*28"),  # padded
        (233760248, "A", "ATA", "*1/*28"),  # right-shifted to the end of the repeat
        (233760239, "T", "TAT", "*1/*28"),  # shifted into the middle of the repeat
        (233760246, "ATA", "A", "*1/*36"),  # deletion, right-shifted
        (UGT_TA, "CATAT", "CATATATAT", "*1/*37"),  # two-unit insertion, padded
    ],
)
def test_unnormalised_ugt1a1_repeat(pos: int, ref: str, alt: str, expected: str, tmp_path: Path, kb) -> None:
    v = _all_ref("UGT1A1", kb, skip={UGT_TA})
    v.add("chr2", pos, ref, alt, "0/1")
    call = _one(v, tmp_path, "UGT1A1", kb)
    assert [d.name for d in call.diplotypes] == [expected]
    assert call.missing_positions == []


@pytest.mark.parametrize("pos,ref,alt", [(99652770, "T", "TA"), (99652771, "A", "AA"), (99652770, "TA", "TAA")])
def test_unnormalised_cyp3a5_star7(pos: int, ref: str, alt: str, tmp_path: Path, kb) -> None:
    v = _all_ref("CYP3A5", kb, skip={99652770})
    v.add("chr7", pos, ref, alt, "0/1")
    assert [d.name for d in _one(v, tmp_path, "CYP3A5", kb).diplotypes] == ["*1/*7"]


def test_normalisation_uses_knowledge_context(kb) -> None:
    base_at = targets_for(kb).base_lookup("chr2")
    assert (
        normalize(233760248, "A", "ATA", base_at) == normalize(UGT_TA, "CAT", "CATAT", base_at) == (UGT_TA, "C", "CAT")
    )
    assert normalize(233760248, "A", "ATA") == (233760248, "A", "ATA")  # without context no shift is invented


def test_split_and_joint_multiallelic_records_agree(tmp_path: Path, kb) -> None:
    joint = _all_ref("UGT1A1", kb, skip={UGT_TA}).add("chr2", UGT_TA, "CAT", "CATAT,CATATAT", "1/2")
    split = _all_ref("UGT1A1", kb, skip={UGT_TA})
    split.add("chr2", UGT_TA, "CAT", "CATAT", "1/0").add("chr2", UGT_TA, "CAT", "CATATAT", "0/1")
    a = _one(joint, tmp_path, "UGT1A1", kb)
    b = _one(split, tmp_path, "UGT1A1", kb)
    assert [d.name for d in a.diplotypes] == [d.name for d in b.diplotypes] == ["*28/*37"]


def test_gvcf_reference_blocks(tmp_path: Path, kb) -> None:
    """A gVCF: variant records where the sample differs from the reference, <NON_REF>/<*> blocks elsewhere."""
    dense = _from_diplotype("CYP2C19", "*1/*2", kb)
    v = Vcf()
    block_start = 94_700_000
    for i, r in enumerate(dense.records):
        if r.samples[0] == "0/0":
            continue
        v.add(r.chrom, block_start, "N", "<NON_REF>" if i % 2 else "<*>", "0/0", info=f"END={r.pos - 1}")
        v.add(r.chrom, r.pos, r.ref, f"{r.alt},<NON_REF>", r.samples[0])
        block_start = r.pos + len(r.ref)
    v.add("chr10", block_start, "N", "<NON_REF>", "0/0", info="END=95000000")
    call = _one(v, tmp_path, "CYP2C19", kb)
    assert call.missing_positions == []
    assert [d.name for d in call.diplotypes] == ["*1/*2"]


def test_gvcf_no_call_block_is_missing(tmp_path: Path, kb) -> None:
    v = Vcf().add("chr10", 94700000, "A", "<NON_REF>", "./.", info="END=94900000")
    call = _one(v, tmp_path, "CYP2C19", kb)
    assert call.status == "not_called" and call.reason_code == "no_data"


def _tpmt(gts: tuple[str, str], fmt: str, kb) -> Vcf:
    """TPMT *3B (18138997) and *3C (18130687) heterozygous; together in cis they make *3A."""
    v = _all_ref("TPMT", kb, skip={18130687, 18138997})
    v.add("chr6", 18130687, "T", "C", gts[0], fmt=fmt).add("chr6", 18138997, "C", "T", gts[1], fmt=fmt)
    return v


@pytest.mark.parametrize(
    "gts,fmt,expected,phased",
    [
        (("0|1", "1|0"), "GT", ["*3B/*3C"], True),  # phased, trans
        (("0|1", "0|1"), "GT", ["*1/*3A"], True),  # phased, cis
        (("0|1:5", "1|0:5"), "GT:PS", ["*3B/*3C"], True),  # one phase set, trans
        (("0|1:5", "0|1:9"), "GT:PS", ["*1/*3A"], False),  # two phase sets: unphased, the more specific pair wins
        (("0/1", "0/1"), "GT", ["*1/*3A"], False),  # unphased
    ],
)
def test_phasing_and_phase_sets(gts, fmt, expected, phased, tmp_path: Path, kb) -> None:
    call = _one(_tpmt(gts, fmt, kb), tmp_path, "TPMT", kb, all_matches=True)
    assert [d.name for d in call.diplotypes] == expected
    assert call.effectively_phased == phased
    if not phased:
        assert "*3B/*3C" in [d.name for d in call.other_matches]


def test_hemizygous_g6pd(tmp_path: Path, kb) -> None:
    g = kb.gene("G6PD")
    v = Vcf()
    for p in g.positions:
        v.add("chrX", p.position, p.ref, ",".join(p.alts), "0")
    call = _one(v, tmp_path, "G6PD", kb)
    assert [d.name for d in call.diplotypes] == ["B (reference)"]
    assert call.phenotypes == ["Normal"]


def test_allele_depth_contradicting_het_is_missing(tmp_path: Path, kb) -> None:
    v = _set(_from_diplotype("CYP2C19", "*1/*2", kb), 94781859, "0/1:12,0", fmt="GT:AD")
    call = _one(v, tmp_path, "CYP2C19", kb)
    assert 94781859 in {m.position for m in call.missing_positions}
    assert "allele_depth" in {w.code for w in call.warnings}


def test_non_pass_filter_is_noted(tmp_path: Path, kb) -> None:
    v = _set(_from_diplotype("CYP2C19", "*1/*2", kb), 94781859, "0/1", filt="LowQual")
    call = _one(v, tmp_path, "CYP2C19", kb)
    assert [d.name for d in call.diplotypes] == ["*1/*2"]
    assert any(w.code == "filter" and "LowQual" in w.message for w in call.warnings)


def test_missing_to_ref_fills_only_inside_the_file_span(tmp_path: Path, kb) -> None:
    g = kb.gene("CYP2C19")
    positions = [p.position for p in g.positions]
    v = Vcf().add("chr10", positions[5], g.positions[5].ref, g.positions[5].alts[0], "0/0")
    v.add("chr10", 94781859, "G", "A", "0/1")
    strict = _one(v, tmp_path, "CYP2C19", kb)
    filled = _one(v, tmp_path, "CYP2C19", kb, missing_to_ref=True)
    inside = {p for p in positions if positions[5] <= p <= 94781859}
    assert {m.position for m in strict.missing_positions} == set(positions) - {positions[5], 94781859}
    assert {m.position for m in filled.missing_positions} == set(positions) - inside
    assert any(w.code == "filled_as_reference" for w in filled.warnings)


def test_records_far_from_pgx_regions_are_not_parsed(tmp_path: Path, kb) -> None:
    """Indexed or not, a record far from every PGx region is only checked for shape, not parsed."""
    v = _all_ref("CYP2C19", kb)
    text = v.text() + "chr10\t1000\t.\tA\tG\t.\tPASS\t.\tGT\tgarbage\n"
    lines = text.splitlines()
    header = [ln for ln in lines if ln.startswith("#")]
    body = sorted((ln for ln in lines if not ln.startswith("#")), key=lambda ln: int(ln.split("\t")[1]))
    plain = tmp_path / "x.vcf"
    plain.write_text("\n".join(header + body) + "\n")
    bgz = _bgzip(plain, tmp_path / "x.vcf.gz")
    pysam.tabix_index(str(bgz), preset="vcf", force=True)
    assert call_vcf(bgz, genes=["CYP2C19"], knowledge=kb).samples[0].genes[0].status == "called"
    shutil.copy(plain, tmp_path / "y.vcf")
    assert call_vcf(tmp_path / "y.vcf", genes=["CYP2C19"], knowledge=kb).samples[0].genes[0].status == "called"


def test_regression_missing_to_ref_keeps_hemizygous_calls_haploid(tmp_path: Path, kb) -> None:
    """Filling absent chrX positions as diploid reference made every G6PD male uncallable (mixed ploidy)."""
    g = kb.gene("G6PD")
    first, last = g.positions[0], g.positions[-1]
    v = Vcf(samples=["MALE", "FEMALE"])
    v.add("chrX", first.position, first.ref, ",".join(first.alts), "0", "0|0")
    v.add("chrX", last.position, last.ref, ",".join(last.alts), "0", "0|0")
    report = call_vcf(v.write(tmp_path / "g6pd.vcf"), genes=["G6PD"], missing_to_ref=True, knowledge=kb)
    male, female = (s.genes[0] for s in report.samples)
    assert [d.name for d in male.diplotypes] == ["B (reference)"]
    assert [d.name for d in female.diplotypes] == ["B (reference)/B (reference)"]
    assert len(male.filled_positions) == len(g.positions) - 2 and male.missing_positions == []


def test_split_records_with_dots_combine(tmp_path: Path, kb) -> None:
    """``1/.`` + ``./1``: each split record leaves the other ALT unknown; together they are complete."""
    v = _all_ref("UGT1A1", kb, skip={UGT_TA})
    v.add("chr2", UGT_TA, "CAT", "CATAT", "1/.").add("chr2", UGT_TA, "CAT", "CATATAT", "./1")
    assert [d.name for d in _one(v, tmp_path, "UGT1A1", kb).diplotypes] == ["*28/*37"]


def test_records_with_contradicting_phase_are_missing(tmp_path: Path, kb) -> None:
    v = _all_ref("UGT1A1", kb, skip={UGT_TA})
    v.add("chr2", UGT_TA, "CAT", "CATAT", "0|1").add("chr2", UGT_TA, "C", "CAT", "1|0")
    call = _one(v, tmp_path, "UGT1A1", kb)
    assert UGT_TA in {m.position for m in call.missing_positions}
    assert "conflicting_records" in {w.code for w in call.warnings}
