"""F5 (Factor V Leiden, rs6025): built from PyPGx's tables, called from VCFs like any other gene.

DPWG's estrogen-containing contraceptive recommendation keys on Factor V Leiden; PharmCAT does
not define F5, so `pgx knowledge build` takes it from PyPGx (curation.yaml `pypgx_genes`).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from pgx.calling.pipeline import call_vcf
from pgx.errors import BuildError, ImportSourceError
from pgx.knowledge.importer import sources as S
from pgx.knowledge.importer.build import GeneBuilder
from pgx.knowledge.importer.pypgx_gene import PypgxGene, parse_variants
from pgx.phenotype.phenotyper import phenotype_from_functions
from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text
from pgx.vcf.assembly import GRCH37_LENGTHS, GRCH38_LENGTHS
from tests.conftest import SHARED, needs_shared, run_pgx
from tests.vcfbuild import Vcf

POS = 169549811  # GRCh38 chr1, rs6025 C>T (T = Leiden)
POS37 = 169519049  # GRCh37: the reference sequence there is T, the Leiden base

EXPECTED = {
    "Reference/Reference": "Favorable Response",
    "Reference/Leiden": "Unfavorable Response",
    "Leiden/Leiden": "Unfavorable Response",
}


def _call(tmp_path: Path, kb, vcf: Vcf | str, **kw):
    path = tmp_path / "f5.vcf"
    if isinstance(vcf, Vcf):
        vcf.write(path)
    else:
        path.write_text(vcf)
    report = call_vcf(path, genes=["F5"], knowledge=kb, **kw)
    (call,) = report.samples[0].genes
    return call


def _one(gt: str) -> Vcf:
    return Vcf().add("chr1", POS, "C", "T", gt)


def test_f5_knowledge(kb) -> None:
    g = kb.gene("F5")
    assert g in kb.vcf_genes() and g.chromosome == "chr1" and g.strand == "-"
    (pos,) = g.positions
    assert (pos.position, pos.rsid, pos.ref, pos.alts) == (POS, "rs6025", "C", ["T"])
    assert pos.grch37 is not None and (pos.grch37.position, pos.grch37.ref) == (POS37, "T")
    alleles = {a.name: a for a in g.named_alleles}
    assert [a.name for a in g.named_alleles] == ["Reference", "Leiden"]
    assert alleles["Reference"].reference and alleles["Reference"].alleles == {POS: "C"}
    assert not alleles["Leiden"].reference and alleles["Leiden"].alleles == {POS: "T"}
    assert g.phenotyping.method == "function_pair"
    assert {r.phenotype for r in g.phenotyping.function_pairs} == set(EXPECTED.values())


@pytest.mark.parametrize("phased", [False, True], ids=["unphased", "phased"])
@pytest.mark.parametrize(
    "simulated,expected",
    [
        ("Reference/Reference", "Reference/Reference"),
        ("Reference/Leiden", "Reference/Leiden"),
        ("Leiden/Reference", "Reference/Leiden"),  # names list the reference first, whatever the phase
        ("Leiden/Leiden", "Leiden/Leiden"),
    ],
)
def test_simulated_diplotypes_are_called(simulated: str, expected: str, phased: bool, tmp_path: Path, kb) -> None:
    text = simulate_vcf_text(kb, [SampleSpec("S1", [GeneSpec("F5", simulated)])], phased=phased, include_unlisted=False)
    call = _call(tmp_path, kb, text)
    assert call.status == "called"
    assert [d.name for d in call.diplotypes] == [expected]
    assert call.phenotypes == [EXPECTED[expected]]
    assert call.phased is phased and not call.missing_positions and not call.warnings


@pytest.mark.parametrize(
    "gt,expected",
    [
        ("0/0", "Reference/Reference"),
        ("0/1", "Reference/Leiden"),
        ("1/0", "Reference/Leiden"),
        ("0|1", "Reference/Leiden"),
        ("1|0", "Reference/Leiden"),
        ("1/1", "Leiden/Leiden"),
        ("1|1", "Leiden/Leiden"),
    ],
)
def test_hand_written_genotypes(gt: str, expected: str, tmp_path: Path, kb) -> None:
    call = _call(tmp_path, kb, _one(gt))
    assert call.status == "called" and [d.name for d in call.diplotypes] == [expected]
    assert call.phenotypes == [EXPECTED[expected]]
    functions = [h.function for h in call.diplotypes[0].haplotypes]
    assert functions == [("Normal function" if h == "Reference" else "Unknown function") for h in expected.split("/")]


@pytest.mark.parametrize("vcf", [_one("./."), Vcf().add("chr1", 169549000, "A", "G", "0/1")], ids=["no-call", "absent"])
def test_missing_position_is_not_called(vcf: Vcf, tmp_path: Path, kb) -> None:
    call = _call(tmp_path, kb, vcf)
    assert call.status == "not_called" and call.reason_code == "no_data" and call.reason
    assert not call.diplotypes and not call.phenotypes
    assert [m.position for m in call.missing_positions] == [POS]


def test_half_calls_are_not_called(tmp_path: Path, kb) -> None:
    ref_half = _call(tmp_path, kb, _one("0/."))
    assert ref_half.status == "not_called" and any(w.code == "half_call" for w in ref_half.warnings)
    alt_half = _call(tmp_path, kb, _one("./1"))
    assert alt_half.status == "not_called" and alt_half.reason_code == "half_call"


def test_undocumented_alt_is_not_called(tmp_path: Path, kb) -> None:
    call = _call(tmp_path, kb, Vcf().add("chr1", POS, "C", "A", "0/1"))
    assert call.status == "not_called" and call.reason_code == "undocumented_variant"


def test_ref_mismatch_is_missing_not_reference(tmp_path: Path, kb) -> None:
    """A record written with GRCh37's base (T) as REF at the GRCh38 position is not trusted."""
    call = _call(tmp_path, kb, Vcf().add("chr1", POS, "T", "C", "0/0"))
    assert call.status == "not_called" and call.reason_code == "no_data"
    assert any(w.code == "ref_mismatch" for w in call.warnings)


def test_missing_to_ref_fills_only_inside_the_file(tmp_path: Path, kb) -> None:
    flanked = Vcf().add("chr1", 169549000, "A", "G", "0/1").add("chr1", 169550000, "A", "G", "0/0")
    call = _call(tmp_path, kb, flanked, missing_to_ref=True)
    assert call.status == "called" and [d.name for d in call.diplotypes] == ["Reference/Reference"]
    assert call.filled_positions == [POS] and any(w.code == "filled_as_reference" for w in call.warnings)
    before = Vcf().add("chr1", 169549000, "A", "G", "0/1")  # the file ends before rs6025
    call = _call(tmp_path, kb, before, missing_to_ref=True)
    assert call.status == "not_called" and call.reason_code == "no_data"
    assert _call(tmp_path, kb, _one("1/1"), missing_to_ref=True).diplotypes[0].name == "Leiden/Leiden"


def test_grch37_input_is_refused(tmp_path: Path) -> None:
    """On GRCh37 a 0/0 at rs6025 would be Leiden/Leiden: such a file must never be read as GRCh38."""
    text = Vcf().add("chr1", POS37, "T", "C", "0/0").text()
    text = text.replace(f"length={GRCH38_LENGTHS['chr1']}", f"length={GRCH37_LENGTHS['chr1']}")
    path = tmp_path / "f5.grch37.vcf"
    path.write_text(text)
    with pytest.raises(BuildError, match="GRCh37"):
        call_vcf(path, genes=["F5"])


def test_cli_simulate_then_call_tsv(tmp_path: Path) -> None:
    vcf = tmp_path / "f5.vcf"
    proc = run_pgx("simulate", "-g", "F5", "-d", "Reference/Leiden", "-o", str(vcf))
    assert proc.returncode == 0, proc.stderr
    proc = run_pgx("call", str(vcf), "-g", "F5", "--format", "tsv")
    assert proc.returncode == 0, proc.stderr
    header, row = (ln.split("\t") for ln in proc.stdout.splitlines()[1:3])
    got = dict(zip(header, row, strict=True))
    assert (got["gene"], got["status"], got["diplotype"], got["phenotype"]) == (
        "F5",
        "called",
        "Reference/Leiden",
        "Unfavorable Response",
    )


def test_parse_variants() -> None:
    assert parse_variants("N/A", "t") == []
    assert parse_variants("1-169549811-C-T,1-5-AT-A", "t") == [("1", 169549811, "C", "T"), ("1", 5, "AT", "A")]
    with pytest.raises(ImportSourceError, match="chr-pos-ref-alt"):
        parse_variants("1-169549811-C", "t")


# ------------------------------------------------------------------------- against PyPGx's tables


def _rows(table: str) -> list[dict[str, str]]:
    with open(SHARED / "data/pypgx" / table, newline="") as fh:  # type: ignore[operator]
        return [r for r in csv.DictReader(fh) if r["Gene"] == "F5"]


@needs_shared
def test_knowledge_matches_pypgx_rows(kb) -> None:
    g = kb.gene("F5")
    (gene_row,) = _rows("gene-table.csv")
    assert g.strand == gene_row["Strand"]
    assert f"{g.chromosome.removeprefix('chr')}:{g.region.start}-{g.region.end}" == gene_row["GRCh38Region"]
    assert f"1:{g.grch37_region.start}-{g.grch37_region.end}" == gene_row["GRCh37Region"]
    assert next(a.name for a in g.named_alleles if a.reference) == gene_row["RefAllele"]
    (variant,) = _rows("variant-table.csv")
    assert variant["GRCh38Name"] == f"1-{POS}-C-T" and variant["rsID"] == "rs6025"
    assert variant["GRCh37Name"] == f"1-{POS37}-T-C"  # GRCh37's reference carries the Leiden base
    ours = {a.name: a for a in g.named_alleles}
    alleles = _rows("allele-table.csv")
    assert {r["StarAllele"] for r in alleles} == set(ours)
    for r in alleles:
        a = ours[r["StarAllele"]]
        assert a.function == r["Function"].replace(" Function", " function")
        core = [] if r["GRCh38Core"] == "N/A" else r["GRCh38Core"].split(",")
        defined = {int(v.split("-")[1]): v.split("-")[3] for v in core}
        assert a.alleles == (defined if not a.reference else {POS: "C"}) and (not a.reference or not core)
    diplotypes = _rows("diplotype-table.csv")
    assert {r["Diplotype"]: r["Phenotype"] for r in diplotypes} == EXPECTED
    for r in diplotypes:
        assert phenotype_from_functions(g, [ours[n].function for n in r["Diplotype"].split("/")]) == r["Phenotype"]
    assert {r["Phenotype"] for r in _rows("phenotype-table.csv")} == set(EXPECTED.values())


@needs_shared
def test_no_1000_genomes_file_for_f5() -> None:
    """Stated, not hidden: the shared 1000 Genomes copy has no F5 file, so F5 has no population check here."""
    for build in ("GRCh38", "GRCh37"):
        assert not (SHARED / "data/1kgp" / build / "F5.vcf.gz").exists()  # type: ignore[operator]


def _source_copy(tmp_path: Path) -> Path:
    """A source tree whose pypgx tables the test may edit (the others are linked)."""
    root = tmp_path / "data"
    root.mkdir()
    for sub in ("pharmcat", "panno"):
        (root / sub).symlink_to(SHARED / "data" / sub)  # type: ignore[operator]
    shutil.copytree(SHARED / "data/pypgx", root / "pypgx")  # type: ignore[operator]
    return root


def _build_f5(root: Path):
    src = S.SourceTree(root)
    return PypgxGene(src, GeneBuilder(src, {}, S.pypgx_grch37(src)), "F5", {}).build()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@needs_shared
def test_importer_cross_checks_pypgx_tables(tmp_path: Path, kb) -> None:
    root = _source_copy(tmp_path)
    assert _build_f5(root) == kb.gene("F5")
    tables = root / "pypgx"
    # GRCh37 core that disagrees with the lifted GRCh38 definition
    reference = "F5,Reference,N/A,Normal Function,"
    _edit(tables / "allele-table.csv", f"{reference}1-169519049-T-C,", f"{reference}N/A,")
    with pytest.raises(ImportSourceError, match="GRCh37"):
        _build_f5(root)
    shutil.copy(SHARED / "data/pypgx/allele-table.csv", tables / "allele-table.csv")  # type: ignore[operator]
    # both alleles of one function, but diplotypes of different phenotypes: no rule can say that
    _edit(tables / "allele-table.csv", "F5,Leiden,N/A,Unknown Function,", "F5,Leiden,N/A,Normal Function,")
    with pytest.raises(ImportSourceError, match="several phenotypes"):
        _build_f5(root)
