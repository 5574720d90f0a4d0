"""Knowledge-driven behaviours: each is switched on by a knowledge field, tested on the gene that has it."""

from __future__ import annotations

from pathlib import Path

from pgx.calling.pipeline import call_vcf
from tests.vcfbuild import Vcf, from_simulation


def _sim(kb, gene: str, dip: str, phased: bool = False) -> Vcf:
    return from_simulation(kb, gene, dip, phased)


def _set(v: Vcf, pos: int, value: str) -> Vcf:
    next(r for r in v.records if r.pos == pos).samples = [value]
    return v


def _drop(v: Vcf, pos: int) -> Vcf:
    v.records = [r for r in v.records if r.pos != pos]
    return v


def _call(v: Vcf, gene: str, tmp_path: Path, kb, **kw):
    return call_vcf(v.write(tmp_path / "q.vcf"), genes=[gene], knowledge=kb, **kw).samples[0].genes[0]


def _codes(call) -> set[str]:
    return {w.code for w in call.warnings}


HAPB3_INTRON, HAPB3_EXON = 97579893, 97573863
HAPB3 = "c.1129-5923C>G, c.1236G>A (HapB3)"


def test_dpyd_hapb3_both_variants(tmp_path: Path, kb) -> None:
    call = _call(_sim(kb, "DPYD", f"Reference/{HAPB3}"), "DPYD", tmp_path, kb)
    assert [d.name for d in call.diplotypes] == [f"Reference/{HAPB3}"]
    assert call.activity_scores == [1.5] and call.phenotypes == ["Intermediate Metabolizer"]


def test_dpyd_hapb3_intronic_missing_uses_exonic_with_warning(tmp_path: Path, kb) -> None:
    call = _call(_drop(_sim(kb, "DPYD", f"Reference/{HAPB3}"), HAPB3_INTRON), "DPYD", tmp_path, kb)
    assert [d.name for d in call.diplotypes] == [f"Reference/{HAPB3}"]
    assert "linked_supporting_only" in _codes(call)


def test_dpyd_exonic_without_intronic_is_not_hapb3(tmp_path: Path, kb) -> None:
    v = _set(_sim(kb, "DPYD", "Reference/Reference"), HAPB3_EXON, "0/1")
    call = _call(v, "DPYD", tmp_path, kb)
    assert [d.name for d in call.diplotypes] == ["Reference/Reference"]
    assert "linked_disagree" in _codes(call)


def test_dpyd_intronic_alone(tmp_path: Path, kb) -> None:
    call = _call(_sim(kb, "DPYD", "Reference/c.1129-5923C>G"), "DPYD", tmp_path, kb)
    assert [d.name for d in call.diplotypes] == ["Reference/c.1129-5923C>G"]
    assert "linked_disagree" not in _codes(call) and "linked_authoritative_only" in _codes(call)


def test_dpyd_unphased_three_variants_uses_the_two_lowest(tmp_path: Path, kb) -> None:
    v = _sim(kb, "DPYD", "c.1905+1G>A (*2A)/c.2846A>T")
    het = next(r.pos for r in _sim(kb, "DPYD", "Reference/c.1679T>G (*13)").records if r.samples[0] != "0/0")
    call = _call(_set(v, het, "0/1"), "DPYD", tmp_path, kb)
    names = [h.name for h in call.diplotypes[0].haplotypes]
    assert sorted(names) == ["c.1679T>G (*13)", "c.1905+1G>A (*2A)"]  # activity 0 and 0, not c.2846A>T (0.5)
    assert call.activity_scores == [0.0] and "more_variants_than_strands" in _codes(call)
    assert len(call.variants_found) == 3


def test_dpyd_half_call_with_variant_counts_it(tmp_path: Path, kb) -> None:
    v = _sim(kb, "DPYD", "Reference/c.1905+1G>A (*2A)")
    pos = next(r.pos for r in v.records if r.samples[0] != "0/0")
    call = _call(_set(v, pos, "./1"), "DPYD", tmp_path, kb)
    assert call.status == "called" and "half_call_variant" in _codes(call)


def test_half_call_with_variant_elsewhere_is_not_called(tmp_path: Path, kb) -> None:
    call = _call(_set(_sim(kb, "CYP2C19", "*1/*2"), 94781859, "./1"), "CYP2C19", tmp_path, kb)
    assert call.status == "not_called" and call.reason_code == "half_call"


def test_ryr1_mh_variant_gives_susceptibility(tmp_path: Path, kb) -> None:
    mh = next(a.name for a in kb.gene("RYR1").named_alleles if a.function == "Malignant Hyperthermia associated")
    call = _call(_sim(kb, "RYR1", f"Reference/{mh}"), "RYR1", tmp_path, kb)
    assert call.phenotypes == ["Malignant Hyperthermia Susceptibility"]


def test_undocumented_alt_is_reference_only_where_knowledge_says_so(tmp_path: Path, kb) -> None:
    tpmt = kb.gene("TPMT").positions[0]
    v = _sim(kb, "TPMT", "*1/*1")
    other = next(b for b in "ACGT" if b not in (tpmt.ref, *tpmt.alts))
    r = next(r for r in v.records if r.pos == tpmt.position)
    r.alt, r.samples = other, ["0/1"]
    call = _call(v, "TPMT", tmp_path, kb)
    assert call.status == "called" and "undocumented_as_reference" in _codes(call)
    c19 = _sim(kb, "CYP2C19", "*1/*1")
    r = next(r for r in c19.records if r.pos == 94781859)
    r.alt, r.samples = "C", ["0/1"]
    call = _call(c19, "CYP2C19", tmp_path, kb)
    assert call.status == "not_called" and call.reason_code == "undocumented_variant"


def test_nat2_required_position(tmp_path: Path, kb) -> None:
    req = kb.gene("NAT2").quirks.required_positions[0]
    call = _call(_drop(_sim(kb, "NAT2", "*4/*5"), req), "NAT2", tmp_path, kb)
    assert call.status == "not_called" and call.reason_code == "missing_required_position"


def test_nat2_unphased_priority(tmp_path: Path, kb) -> None:
    # with the reference allele in a pair the score already decides; a rule without it needs the list
    rule = next(r for r in kb.gene("NAT2").quirks.unphased_priorities if not any("*1/" in a for a in r.alternatives))
    other = next(a for a in rule.alternatives if a != rule.pick)
    call = _call(_sim(kb, "NAT2", other), "NAT2", tmp_path, kb)
    assert [d.name for d in call.diplotypes] == [rule.pick] and "unphased_priority" in _codes(call)
    phased = _call(_sim(kb, "NAT2", other, phased=True), "NAT2", tmp_path, kb)
    assert [d.name for d in phased.diplotypes] == [other]


def test_slco1b1_falls_back_to_rs4149056(tmp_path: Path, kb) -> None:
    fb = kb.gene("SLCO1B1").quirks.variant_fallback
    v = _sim(kb, "SLCO1B1", "*1/*1")
    for r in v.records:  # make the full haplotypes inconsistent with any named allele pair
        if r.pos != fb.position and r.samples[0] == "0/0" and len(r.ref) == len(r.alt) == 1:
            r.samples = ["1/1"]
            break
    _set(v, fb.position, "0/1")
    call = _call(v, "SLCO1B1", tmp_path, kb)
    assert call.status == "called" and call.inferred and "variant_fallback" in _codes(call)
    assert [d.name for d in call.diplotypes] == ["*1/*5"]


def test_g6pd_heterozygous_female_is_variable(tmp_path: Path, kb) -> None:
    call = _call(
        _sim(kb, "G6PD", "B (reference)/Mediterranean, Dallas, Panama, Sassari, Cagliari, Birmingham"),
        "G6PD",
        tmp_path,
        kb,
    )
    assert call.phenotypes == ["Variable"]
    male = _call(_sim(kb, "G6PD", "Mediterranean, Dallas, Panama, Sassari, Cagliari, Birmingham"), "G6PD", tmp_path, kb)
    assert male.phenotypes == ["Deficient"] and len(male.diplotypes[0].haplotypes) == 1


def test_missing_tier1_position_warns(tmp_path: Path, kb) -> None:
    call = _call(_drop(_sim(kb, "CYP2C19", "*1/*1"), 94781859), "CYP2C19", tmp_path, kb)
    assert "tier1_missing" in _codes(call)
    missing = {m.position: m for m in call.missing_positions}
    assert "*2" in missing[94781859].alleles
