"""Regressions from the first code review: each input is a small VCF/TSV in tests/data/review.

Named after what went wrong; every one of these used to give a wrong or falsely reference call.
"""

from __future__ import annotations

import pytest

from pgx.calling.pipeline import call_vcf
from tests.conftest import DATA

REVIEW = DATA / "review"

UNDOCUMENTED_INDELS = [
    ("cyp3a5_ins_TG.vcf", "CYP3A5"),  # another insertion at the *7 insertion point
    ("cyp3a5_ins_TAA_hom.vcf", "CYP3A5"),  # a longer insertion there
    ("cyp3a5_multi_TA_TAA.vcf", "CYP3A5"),  # *7 plus an undocumented insertion, one record
    ("cyp3a5_del_TA_T_hom.vcf", "CYP3A5"),  # a deletion in *7's repeat
    ("cyp3a4_ins_GTT.vcf", "CYP3A4"),
]


def _call(name: str, gene: str, kb, **kw):
    return call_vcf(REVIEW / name, genes=[gene], knowledge=kb, **kw).samples[0].genes[0]


def _codes(call) -> set[str]:
    return {w.code for w in call.warnings}


@pytest.mark.parametrize("name,gene", UNDOCUMENTED_INDELS)
def test_undocumented_indel_at_an_indel_locus_is_not_read_as_reference(name: str, gene: str, kb) -> None:
    call = _call(name, gene, kb)
    assert call.status == "not_called" and call.reason_code == "undocumented_variant"


def test_right_shifted_undocumented_insertion_is_not_filled_as_reference(kb) -> None:
    call = _call("cyp3a5_rightshift_undoc_m2r.vcf", "CYP3A5", kb, missing_to_ref=True)
    assert call.reason_code == "undocumented_variant" and 99652770 not in call.filled_positions


@pytest.mark.parametrize("name", ["tpmt_ins_CTT.vcf", "tpmt_snv_undoc.vcf"])
def test_undocumented_variant_read_as_reference_says_so(name: str, kb) -> None:
    call = _call(name, "TPMT", kb)
    assert call.status == "called" and "undocumented_as_reference" in _codes(call)


@pytest.mark.parametrize("name,expected", [("nat2_5_46_unphased.vcf", "*5/*46"), ("nat2_5_6_unphased.vcf", "*5/*6")])
def test_nat2_priority_applies_beyond_top_scores(name: str, expected: str, kb) -> None:
    call = _call(name, "NAT2", kb)
    assert [d.name for d in call.diplotypes] == [expected] and call.phenotypes == ["Poor Metabolizer"]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("cyp2d6_del_genebody.vcf", "*1/*5"),  # deletion over the gene body, short of the padded region
        ("cyp2d6_cnv_genebody_cn1.vcf", "*1/*5"),
        ("cyp2d6_del_downstream_only.vcf", "*1/*1"),  # downstream of every CYP2D6 position
        ("cyp2d6_del_nocall.vcf", "*1/*1"),  # ./. without CN says nothing
    ],
)
def test_cyp2d6_copy_number_records_judged_on_the_gene(name: str, expected: str, kb) -> None:
    call = _call(name, "CYP2D6", kb)
    assert [d.name for d in call.diplotypes] == [expected]
    if name == "cyp2d6_del_nocall.vcf":
        assert "copy_number_record" not in _codes(call)


@pytest.mark.parametrize(
    "tsv,diplotype,phenotype,scores",
    [
        ("outside_dip_pheno.tsv", "*1/*4", "Poor Metabolizer", []),  # a given phenotype beats the diplotype's score
        ("outside_cyp2d6_tandem.tsv", "*1/*36+*10", "Normal Metabolizer", [1.25]),
        ("outside_cyp2d6_hybrid.tsv", "*1/*13", "Intermediate Metabolizer", [1.0]),
    ],
)
def test_outside_call_precedence_and_structural_alleles(
    tsv: str, diplotype: str, phenotype: str, scores: list[float], kb
) -> None:
    report = call_vcf(REVIEW / "cyp2d6_ref.vcf", genes=["CYP2D6"], outside_calls=REVIEW / tsv, knowledge=kb)
    call = report.samples[0].genes[0]
    assert [d.name for d in call.diplotypes] == [diplotype]
    assert call.phenotypes == [phenotype] and call.activity_scores == scores


@pytest.mark.parametrize(
    "name,gene,position",
    [
        ("ugt1a1_gvcf_block_ends_at_anchor.vcf", "UGT1A1", 233760233),
        ("cyp3a5_gvcf_block_ends_at_anchor.vcf", "CYP3A5", 99652770),
        ("cyp2c19_ref_N.vcf", "CYP2C19", 94781859),
    ],
)
def test_unusable_data_is_missing_not_reference(name: str, gene: str, position: int, kb) -> None:
    call = _call(name, gene, kb)
    assert position in {m.position for m in call.missing_positions}


def test_missing_ta_repeat_warns_that_star28_was_not_assessed(kb) -> None:
    call = _call("ugt1a1_gvcf_block_ends_at_anchor.vcf", "UGT1A1", kb)
    note = next(w for w in call.warnings if w.code == "alleles_not_assessable")
    assert "*28 (Decreased function)" in note.message


@pytest.mark.parametrize("name", ["cyp2c19_strelka_blocks.vcf", "cyp2c19_nonref_blocks.vcf"])
def test_gvcf_block_styles_agree(name: str, kb) -> None:
    call = _call(name, "CYP2C19", kb)
    assert [d.name for d in call.diplotypes] == ["*1/*2"] and call.missing_positions == []


def test_snv_inside_a_deletion_definition_does_not_block_the_gene(kb) -> None:
    call = _call("cyp2c9_snv_inside_deletion_locus.vcf", "CYP2C9", kb)
    assert [d.name for d in call.diplotypes] == ["*1/*1"]
