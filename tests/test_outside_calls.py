"""Outside calls replace VCF calls, with precedence activity score > phenotype > diplotype."""

from __future__ import annotations

from pathlib import Path

from pgx.calling.pipeline import call_vcf
from tests.conftest import REPO

VCF = REPO / "sample_vcfs/patient_001.vcf"


def _calls(tmp_path: Path, tsv: str, kb, **kw):
    path = tmp_path / "outside.tsv"
    path.write_text(tsv)
    report = call_vcf(VCF, outside_calls=path, knowledge=kb, **kw)
    return report, {g.gene: g for g in report.samples[0].genes}


def test_outside_call_replaces_vcf_call_with_a_note(tmp_path: Path, kb) -> None:
    report, calls = _calls(tmp_path, "sample\tgene\tdiplotype\nPATIENT_001\tCYP2D6\t*4/*4\n", kb)
    cyp2d6 = calls["CYP2D6"]
    assert cyp2d6.source == "outside_call"
    assert [d.name for d in cyp2d6.diplotypes] == ["*4/*4"] and cyp2d6.phenotypes == ["Poor Metabolizer"]
    assert "replaces the VCF call *1/*4" in cyp2d6.warnings[0].message
    assert report.outside_calls is not None and len(report.outside_calls.sha256) == 64
    assert calls["CYP2C19"].source == "vcf"


def test_activity_score_beats_phenotype_and_diplotype(tmp_path: Path, kb) -> None:
    tsv = "gene\tdiplotype\tphenotype\tactivity_score\nCYP2D6\t*1/*1\tNormal Metabolizer\t0.5\n"
    _, calls = _calls(tmp_path, tsv, kb)
    c = calls["CYP2D6"]
    assert c.activity_scores == [0.5] and c.phenotypes == ["Intermediate Metabolizer"]
    assert any(w.code == "outside_phenotype_disagrees" for w in c.warnings)


def test_phenotype_beats_diplotype_for_non_activity_genes(tmp_path: Path, kb) -> None:
    _, calls = _calls(tmp_path, "gene\tdiplotype\tphenotype\nCYP2C19\t*1/*1\tPoor Metabolizer\n", kb)
    assert calls["CYP2C19"].phenotypes == ["Poor Metabolizer"]


def test_hla_allele_status_and_mt_rnr1(tmp_path: Path, kb) -> None:
    # the reference tool's headerless layout, applied to every sample
    _, calls = _calls(tmp_path, "HLA-B\t*15:02/*57:01\nHLA-A\t*02:01/*24:02\nMT-RNR1\t1555A>G\n", kb)
    assert calls["HLA-B"].phenotypes == ["*15:02 positive", "*15:11 negative", "*57:01 positive", "*58:01 negative"]
    assert calls["HLA-A"].phenotypes == ["*31:01 negative"]
    assert calls["MT-RNR1"].diplotypes[0].name == "m.1555A>G"
    assert calls["MT-RNR1"].phenotypes == ["increased risk of aminoglycoside-induced hearing loss"]


def test_several_rows_are_several_possible_diplotypes(tmp_path: Path, kb) -> None:
    _, calls = _calls(tmp_path, "gene\tdiplotype\nCYP2D6\t*1/*2x2\nCYP2D6\t*1x2/*2\nCYP2D6\t*1/*4x3\n", kb)
    c = calls["CYP2D6"]
    assert [d.name for d in c.diplotypes] == ["*1/*2x2", "*1x2/*2", "*1/*4x≥3"]
    assert c.activity_scores == [3.0, 1.0]


def test_outside_only_gene_restricted_by_gene_option(tmp_path: Path, kb) -> None:
    _, calls = _calls(tmp_path, "HLA-B\t*57:01/*08:01\n", kb, genes=["CYP2C19"])
    assert set(calls) == {"CYP2C19"}


def test_hla_status_at_higher_resolution_and_unknown_alleles(tmp_path: Path, kb) -> None:
    _, calls = _calls(tmp_path, "gene\tdiplotype\nHLA-B\t*57:01:01/*08:01\nCYP2C19\t*1/*99\n", kb)
    assert calls["HLA-B"].phenotypes == ["*15:02 negative", "*15:11 negative", "*57:01 positive", "*58:01 negative"]
    c19 = calls["CYP2C19"]
    assert c19.phenotypes == ["Indeterminate"]  # never normal for an allele pgx does not know
    assert any(w.code == "outside_unknown_allele" and "*99" in w.message for w in c19.warnings)
