"""CYP2D6 copy number from symbolic SV records: deletions (*5) and duplications."""

from __future__ import annotations

from pathlib import Path

import pytest

from pgx.calling.pipeline import call_vcf
from pgx.simulate.vcf import GeneSpec, SampleSpec, simulate_vcf_text
from tests.vcfbuild import Vcf, from_simulation

REGION = (42116498, 42155810)


def _snvs(kb, dip: str) -> Vcf:
    return from_simulation(kb, "CYP2D6", dip)


def _call(v: Vcf, tmp_path: Path, kb):
    return call_vcf(v.write(tmp_path / "cn.vcf"), genes=["CYP2D6"], knowledge=kb).samples[0].genes[0]


@pytest.mark.parametrize(
    "dip,expected,score,phenotype",
    [
        ("*1/*2x2", {"*1/*2x2", "*1x2/*2"}, 3.0, "Ultrarapid Metabolizer"),
        ("*4/*5", {"*4/*5"}, 0.0, "Poor Metabolizer"),
        ("*5/*5", {"*5/*5"}, 0.0, "Poor Metabolizer"),
        ("*10/*10x2", {"*10/*10x2"}, 0.75, "Intermediate Metabolizer"),
        ("*1/*1x3", {"*1/*1x≥3", "*1x2/*1x2"}, 4.0, "Ultrarapid Metabolizer"),
    ],
)
def test_simulated_copy_number_round_trip(
    dip: str, expected: set[str], score: float, phenotype: str, tmp_path: Path, kb
) -> None:
    vcf = tmp_path / "sim.vcf"
    vcf.write_text(simulate_vcf_text(kb, [SampleSpec("S1", [GeneSpec("CYP2D6", dip)])], include_unlisted=False))
    call = call_vcf(vcf, genes=["CYP2D6"], knowledge=kb).samples[0].genes[0]
    assert {d.name for d in call.diplotypes} == expected
    assert call.activity_scores == [score]
    assert call.phenotypes == [phenotype]


def test_deletion_record_with_gt_only(tmp_path: Path, kb) -> None:
    v = _snvs(kb, "*4/*4").add("chr22", REGION[0], "N", "<DEL>", "0/1", info=f"SVTYPE=DEL;END={REGION[1]}")
    call = _call(v, tmp_path, kb)
    assert [d.name for d in call.diplotypes] == ["*4/*5"]
    assert any(w.code == "copy_number_record" for w in call.warnings)


def test_duplication_record_with_gt_only(tmp_path: Path, kb) -> None:
    v = _snvs(kb, "*1/*4").add("chr22", REGION[0], "N", "<DUP>", "0/1", info=f"SVTYPE=DUP;END={REGION[1]}")
    call = _call(v, tmp_path, kb)
    assert {d.name for d in call.diplotypes} == {"*1x2/*4", "*1/*4x2"}
    assert set(call.activity_scores) == {2.0, 1.0}  # which allele is duplicated changes the score: both shown
    assert set(call.phenotypes) == {"Normal Metabolizer", "Intermediate Metabolizer"}


def test_one_copy_with_heterozygous_snvs_is_not_called(tmp_path: Path, kb) -> None:
    v = _snvs(kb, "*1/*4").add(
        "chr22", REGION[0], "N", "<CNV>", "./.:1", fmt="GT:CN", info=f"SVTYPE=CNV;END={REGION[1]}"
    )
    call = _call(v, tmp_path, kb)
    assert call.status == "not_called" and call.reason_code == "copy_number"


def test_sv_record_covering_little_of_the_gene_is_ignored(tmp_path: Path, kb) -> None:
    v = _snvs(kb, "*1/*4").add(
        "chr22", REGION[1] - 1000, "N", "<DEL>", "0/1", info=f"SVTYPE=DEL;END={REGION[1] + 5000}"
    )
    assert [d.name for d in _call(v, tmp_path, kb).diplotypes] == ["*1/*4"]


def test_vcf_cyp2d6_carries_the_outside_call_caveat(tmp_path: Path, kb) -> None:
    assert any(
        w.code == "caveat" and "copy-number" in w.message for w in _call(_snvs(kb, "*1/*4"), tmp_path, kb).warnings
    )
