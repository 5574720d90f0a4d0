"""Knowledge-driven refinements applied around the core matcher.

Each handler runs only when its knowledge field is set (``unphased_priorities``,
``variant_fallback``, ``copy_number``); none of them looks at a gene's name.
"""

from __future__ import annotations

from itertools import product

from pgx.matching.compiled import CompiledGene
from pgx.matching.models import DiplotypeMatch, GeneMatch, HaplotypeMatch, Message
from pgx.vcf.genotypes import GeneGenotype, PositionCall


def apply_unphased_priorities(cg: CompiledGene, match: GeneMatch) -> GeneMatch:
    """Frequency-based picks for unphased data (``quirks.unphased_priorities``).

    As in the reference tool, a rule applies when every diplotype it lists fits the data,
    whatever their scores; ``match`` must therefore hold every fitting diplotype. When no
    rule applies, all fitting diplotypes stay: unphased data cannot tell them apart.
    """
    if match.status != "called" or len(match.diplotypes) < 2:
        return match
    names = {d.name for d in match.diplotypes}
    for rule in cg.gene.quirks.unphased_priorities:
        if set(rule.alternatives) <= names:
            pick = next(d for d in match.diplotypes if d.name == rule.pick)
            note = Message(
                code="unphased_priority",
                message=f"unphased data fit {len(names)} diplotypes including {' and '.join(rule.alternatives)}; "
                f"{rule.pick} called as the most frequent (reference-tool priority list)",
            )
            return match.model_copy(update={"diplotypes": (pick,), "warnings": (*match.warnings, note)})
    note = Message(
        code="unphased_ambiguous",
        message=f"unphased data fit {len(names)} diplotypes and no frequency priority applies; all are listed",
    )
    return match.model_copy(update={"warnings": (*match.warnings, note)})


def apply_variant_fallback(cg: CompiledGene, gg: GeneGenotype, match: GeneMatch) -> GeneMatch:
    """Infer a diplotype from one key variant when no full call is possible (``quirks.variant_fallback``)."""
    fb = cg.gene.quirks.variant_fallback
    if fb is None or match.status == "called":
        return match
    j = cg.position_index[fb.position]
    call = gg.positions[j]
    pos = cg.gene.positions[j]
    if any(a is None for a in call.alleles) or len(call.alleles) != 2:
        return match
    names = []
    for a in call.alleles:
        if a == pos.ref:
            names.append(fb.ref_allele_name)
        elif a in pos.alts:
            names.append(fb.alt_allele_name)
        else:
            return match
    ref_name = cg.reference.name
    haps = tuple(
        sorted(
            (HaplotypeMatch(name=n, reference=n == ref_name) for n in names), key=lambda h: cg.by_name(h.name).sort_key
        )
    )
    note = Message(
        code="variant_fallback",
        position=fb.position,
        message=f"no full {cg.gene.gene} diplotype could be called ({match.reason}); inferred "
        f"{'/'.join(h.name for h in haps)} from {pos.rsid or fb.position} alone",
    )
    return match.model_copy(
        update={
            "status": "called",
            "diplotypes": (DiplotypeMatch(haplotypes=haps, score=None),),
            "inferred": True,
            "reason_code": None,
            "reason": None,
            "warnings": (*match.warnings, note),
        }
    )


def total_copies(gg: GeneGenotype) -> int | None:
    return gg.copy_number.copies if gg.copy_number is not None else None


def haploidise(gg: GeneGenotype) -> tuple[GeneGenotype, list[int]]:
    """One gene copy: homozygous genotypes describe the single remaining haplotype."""
    calls, het = [], []
    for c in gg.positions:
        alleles = c.alleles
        if len(alleles) == 2 and alleles[0] is not None and alleles[1] is not None:
            if alleles[0] != alleles[1]:
                het.append(c.position)
            alleles = (alleles[0],)
        elif len(alleles) == 2 and (alleles[0] is None) != (alleles[1] is None):
            alleles = (alleles[0] if alleles[0] is not None else alleles[1],)
        elif len(alleles) == 2:
            alleles = (None,)
        calls.append(PositionCall(position=c.position, alleles=alleles, phased=True, filters=c.filters))
    return gg.model_copy(update={"positions": tuple(calls)}), het


def deletion_haplotype(cg: CompiledGene) -> HaplotypeMatch:
    cn = cg.gene.quirks.copy_number
    assert cn is not None
    return HaplotypeMatch(name=cn.deletion_allele, reference=False)


def expand_duplications(cg: CompiledGene, match: GeneMatch, copies: int) -> GeneMatch:
    """Total copy number above two: every way of spreading the extra copies over the two haplotypes."""
    extra = copies - 2
    label_min = cg.gene.quirks.copy_number.max_copies_label if cg.gene.quirks.copy_number else 3
    out: list[DiplotypeMatch] = []
    seen: set[str] = set()
    for d in match.diplotypes:
        h1, h2 = d.haplotypes
        for k1, k2 in product(range(1, copies), repeat=2):
            if k1 + k2 != copies:
                continue
            a = h1.model_copy(update={"copies": k1, "copies_label_min": label_min})
            b = h2.model_copy(update={"copies": k2, "copies_label_min": label_min})
            dm = DiplotypeMatch(haplotypes=(a, b), score=d.score)
            key = "/".join(sorted((f"{a.name}#{k1}", f"{b.name}#{k2}")))
            if key not in seen:
                seen.add(key)
                out.append(dm)
    note = Message(
        code="copy_number",
        message=f"{copies} copies of {cg.gene.gene} ({extra} extra); which haplotype is duplicated cannot be "
        "read from the VCF, so every arrangement is listed"
        if len(out) > len(match.diplotypes)
        else f"{copies} copies of {cg.gene.gene}",
    )
    return match.model_copy(update={"diplotypes": tuple(out), "warnings": (*match.warnings, note)})


__all__ = [
    "apply_unphased_priorities",
    "apply_variant_fallback",
    "deletion_haplotype",
    "expand_duplications",
    "haploidise",
    "total_copies",
]
