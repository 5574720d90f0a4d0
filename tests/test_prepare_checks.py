"""The checks that prepare one sample's genotype for the matcher: each decision, their order, immutability."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from pgx.knowledge.loader import KnowledgeBase
from pgx.matching import checks
from pgx.matching.compiled import CompiledGene, compiled
from pgx.matching.models import Message
from pgx.vcf.genotypes import GeneGenotype, PositionCall, ReadNote

MATCHING = Path(checks.__file__).resolve().parent


def _genotype(cg: CompiledGene, changes: dict[int, PositionCall] | None = None, **kw: object) -> GeneGenotype:
    """Homozygous reference at every position of the gene, except ``changes`` (by position index)."""
    calls = [PositionCall(position=p.position, alleles=(p.ref, p.ref)) for p in cg.gene.positions]
    for j, call in (changes or {}).items():
        calls[j] = call
    return GeneGenotype(sample="S", gene=cg.gene.gene, positions=tuple(calls), **kw)


def _at(cg: CompiledGene, j: int, *alleles: str | None, **kw: object) -> PositionCall:
    return PositionCall(position=cg.positions[j], alleles=alleles, **kw)


def _alt(cg: CompiledGene, j: int) -> str:
    return cg.gene.positions[j].alts[0]


def test_reference_genotype_passes_every_check(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    prep = checks.prepare(cg, _genotype(cg), lowest_function=False)
    assert prep.failure is None and not prep.missing.any() and prep.hom.all() and prep.homref.all()
    assert prep.units == () and not prep.phased and prep.effectively_phased and not prep.haploid


def test_reader_notes_come_first(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    j = next(j for j, p in enumerate(cg.gene.positions) if not p.tier1)
    note = ReadNote(code="ref_mismatch", message="REF differs", position=cg.positions[0])
    prep = checks.prepare(cg, _genotype(cg, {j: _at(cg, j, cg.gene.positions[j].ref, None)}, notes=(note,)), False)
    assert [w.code for w in prep.warnings] == ["ref_mismatch", "half_call"]


def test_undocumented_allele_refuses_the_gene_before_any_other_check(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    odd = f"undocumented:{cg.positions[0]}:C>G"
    gg = _genotype(cg, {j: _at(cg, j, None, None) for j in range(1, len(cg.positions))})
    gg = gg.model_copy(update={"positions": (_at(cg, 0, odd, None), *gg.positions[1:])})
    prep = checks.prepare(cg, gg, lowest_function=False)
    assert prep.failure is not None and prep.failure.code == "undocumented_variant"
    assert f"C>G at position {cg.positions[0]}" in prep.failure.reason
    assert prep.units == () and not prep.hom.any() and not prep.phased and not prep.effectively_phased


def test_undocumented_allele_read_as_reference_where_quirks_say_so(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "TPMT")
    odd = f"undocumented:{cg.positions[1]}:T>A"
    reading = checks.read_position(cg, 1, _at(cg, 1, odd, cg.gene.positions[1].ref))
    assert (reading.s1, reading.s2) == (cg.gene.positions[1].ref,) * 2 and reading.undocumented == ()
    assert [w.code for w in reading.warnings] == ["undocumented_as_reference"]


def test_half_calls(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    ref, alt = cg.gene.positions[0].ref, _alt(cg, 0)
    with_ref = checks.check_half_call(cg, 0, None, ref)
    assert (with_ref.s1, with_ref.s2, with_ref.half_alt) == (None, None, False)
    assert [w.code for w in with_ref.warnings] == ["half_call"]
    with_alt = checks.check_half_call(cg, 0, None, alt)
    assert (with_alt.s1, with_alt.s2, with_alt.half_alt, with_alt.warnings) == (alt, None, True, ())
    gg = _genotype(cg, {0: _at(cg, 0, alt, None)})
    refused = checks.prepare(cg, gg, lowest_function=False)
    assert refused.failure is not None and refused.failure.code == "half_call"
    assert refused.half_alt == (cg.positions[0],)
    assert checks.prepare(cg, gg, lowest_function=True).failure is None  # lowest-function genes count the variant


def test_no_data(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    prep = checks.prepare(cg, _genotype(cg, {j: _at(cg, j, None, None) for j in range(len(cg.positions))}), False)
    assert prep.failure is not None and prep.failure.code == "no_data" and prep.missing.all()


def test_ploidy(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    mixed = checks.prepare(cg, _genotype(cg, {0: _at(cg, 0, cg.gene.positions[0].ref)}), False)
    assert mixed.failure is not None and mixed.failure.reason == "CYP2C19 has both haploid and diploid genotypes"
    haploid = _genotype(cg, {j: _at(cg, j, p.ref) for j, p in enumerate(cg.gene.positions)})
    refused = checks.prepare(cg, haploid, False)
    assert refused.failure is not None and refused.failure.code == "ploidy" and refused.haploid
    allowed = checks.prepare(cg, haploid, False, allow_haploid=True)
    assert allowed.failure is None and allowed.phased and allowed.effectively_phased and allowed.hom.all()
    g6pd = compiled(kb, "G6PD")  # x-linked: hemizygous calls need no copy-number evidence
    assert (
        checks.prepare(
            g6pd, _genotype(g6pd, {j: _at(g6pd, j, p.ref) for j, p in enumerate(g6pd.gene.positions)}), False
        ).failure
        is None
    )


def test_missing_required_position(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "NAT2")
    required = cg.position_index[cg.gene.quirks.required_positions[0]]
    prep = checks.prepare(cg, _genotype(cg, {required: _at(cg, required, None, None)}), False)
    assert prep.failure is not None and prep.failure.code == "missing_required_position"
    assert prep.failure.reason == f"required position missing: {cg.gene.chromosome}:{cg.positions[required]}"


def test_tier1_warning_only_for_a_gene_that_passes(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    j = next(j for j, p in enumerate(cg.gene.positions) if p.tier1)
    prep = checks.prepare(cg, _genotype(cg, {j: _at(cg, j, None, None)}), False)
    assert prep.failure is None and [w.code for w in prep.warnings] == ["tier1_missing"]
    assert [w.code for w in checks.tier1_missing(cg.gene, prep.missing)] == ["tier1_missing"]


def test_phasing_units(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    het = [j for j, p in enumerate(cg.gene.positions) if p.alts][:3]

    def het_at(**kw: object) -> dict[int, PositionCall]:
        return {j: _at(cg, j, cg.gene.positions[j].ref, _alt(cg, j), **kw) for j in het}

    unphased = checks.prepare(cg, _genotype(cg, het_at()), False)
    assert [u.tolist() for u in unphased.units] == [[j] for j in het]
    assert not unphased.phased and not unphased.effectively_phased
    one_set = _genotype(cg, het_at(phased=True, phase_set=5))
    calls = tuple(c if c.phased else c.model_copy(update={"phased": True}) for c in one_set.positions)
    block = checks.prepare(cg, one_set.model_copy(update={"positions": calls}), False)
    assert [u.tolist() for u in block.units] == [het] and block.phased and block.effectively_phased
    filled = tuple(c if c.phased else c.model_copy(update={"filled": True}) for c in one_set.positions)
    assert checks.prepare(cg, one_set.model_copy(update={"positions": filled}), False).phased


def test_prepared_is_immutable(kb: KnowledgeBase) -> None:
    cg = compiled(kb, "CYP2C19")
    prep = checks.prepare(cg, _genotype(cg), False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        prep.phased = True  # type: ignore[misc]
    with pytest.raises(ValueError):
        prep.missing[0] = True
    first = Message(code="copy_number_record", message="first")
    again = prep.with_leading_warnings([first])
    assert again.warnings == (first, *prep.warnings) and prep.with_leading_warnings([]) is prep


def test_matching_modules_import_without_loops() -> None:
    """The preparation and result modules sit below the matcher, which sits below the caller."""
    below = {
        "checks": {"compiled", "models", "prepared"},
        "prepared": {"models"},
        "outcomes": {"compiled", "models", "prepared"},
    }
    for name, allowed in below.items():
        tree = ast.parse((MATCHING / f"{name}.py").read_text(encoding="utf-8"))
        used = {
            n.module.rsplit(".", 1)[1]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("pgx.matching.")
        }
        assert used <= allowed, (name, used - allowed)
