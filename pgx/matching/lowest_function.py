"""Lowest-function genes (``quirks.calling: lowest_function``; DPYD and RYR1 today).

Their named alleles are single variants, and what matters clinically is the least
functional variant on each chromosome. Here a listed position is required and every other
position is a wildcard. With phased (or effectively phased) data the call is the lowest-
function variant per strand; otherwise the two lowest-function variants found, counting a
homozygous variant twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

from pgx.matching.compiled import CompiledAllele, CompiledGene
from pgx.matching.models import DiplotypeMatch, GeneMatch, HaplotypeMatch, Message
from pgx.matching.outcomes import called, haplotype, not_called
from pgx.matching.prepared import Prepared
from pgx.vcf.genotypes import GeneGenotype


def severity_key(cg: CompiledGene, a: CompiledAllele) -> tuple[float, int, float, tuple[object, ...]]:
    """Sort key: lowest function first (activity, then curated function order, then tie-break)."""
    order = cg.gene.quirks.function_order
    rank = order.index(a.function) if a.function in order else len(order)
    activity = a.activity if a.activity is not None else math.inf
    tie = a.tie_break_rank if a.tie_break_rank is not None else math.inf
    return (activity, rank, tie, a.sort_key)


def _present(cg: CompiledGene, prep: Prepared, strand: Sequence[str | None]) -> np.ndarray:
    """(nX,) bool: allele lists a position we have and the strand carries its allele at all of them."""
    acc = cg.accept_matrix(tuple(strand))
    listed = cg.defined & ~prep.missing  # (nX, nP): positions each allele lists that we have
    out = listed.any(axis=1) & ~(listed & ~acc).any(axis=1)
    out[[a.index for a in cg.alleles if a.reference]] = False
    return out


def _drop_contained(cg: CompiledGene, found: dict[int, int]) -> dict[int, int]:
    """Remove copies of an allele explained by a found allele that lists a superset of its positions."""
    out = dict(found)
    for i in list(found):
        for j in found:
            if i == j:
                continue
            di, dj = cg.alleles[i].defined, cg.alleles[j].defined
            if (di <= dj).all() and dj.sum() > di.sum():
                out[i] = max(0, out.get(i, 0) - found[j])
    return {k: v for k, v in out.items() if v > 0}


def _linked_rules(
    cg: CompiledGene, prep: Prepared, found: dict[int, int], strands: Sequence[Sequence[str | None]]
) -> tuple[dict[int, int], list[Message]]:
    """Authoritative/supporting position pairs (e.g. DPYD HapB3, intronic rs75017182 decides)."""
    warnings: list[Message] = []
    gene = cg.gene
    for rule in gene.quirks.linked_variants:
        full = cg.by_name(rule.allele)
        alone = cg.by_name(rule.authoritative_only_allele)
        ja, js = cg.position_index[rule.authoritative_position], cg.position_index[rule.supporting_position]
        listed = {p: a for p, a in next(x for x in gene.named_alleles if x.name == rule.allele).alleles.items()}
        var_a, var_s = listed[rule.authoritative_position], listed[rule.supporting_position]
        dose_s = sum(1 for s in strands if s[js] == var_s)
        dose_a = sum(1 for s in strands if s[ja] == var_a)
        loc_a = f"{gene.chromosome}:{rule.authoritative_position}"
        loc_s = f"{gene.chromosome}:{rule.supporting_position}"
        if prep.missing[ja]:
            if not prep.missing[js] and dose_s:
                found[full.index] = dose_s
                warnings.append(
                    Message(
                        code="linked_supporting_only",
                        position=rule.authoritative_position,
                        message=f"{rule.allele} called from the supporting variant at {loc_s} alone: "
                        f"the authoritative position {loc_a} is missing; genotype it to confirm",
                    )
                )
            continue
        if prep.missing[js] and dose_a:
            warnings.append(
                Message(
                    code="linked_authoritative_only",
                    position=rule.supporting_position,
                    message=f"supporting position {loc_s} of {rule.allele} is missing; "
                    f"called from the authoritative variant at {loc_a}",
                )
            )
        elif dose_a > dose_s and not prep.missing[js]:
            warnings.append(
                Message(
                    code="linked_authoritative_only",
                    position=rule.supporting_position,
                    message=f"{rule.authoritative_only_allele} called from the authoritative variant at {loc_a}; "
                    f"the supporting variant at {loc_s} that completes {rule.allele} is absent",
                )
            )
        elif dose_s > dose_a and not prep.missing[js]:
            warnings.append(
                Message(
                    code="linked_disagree",
                    position=rule.supporting_position,
                    message=f"the supporting variant of {rule.allele} at {loc_s} is present without the "
                    f"authoritative one at {loc_a}; the authoritative position decides, so {rule.allele} "
                    "is not called",
                )
            )
        if dose_a == 0:
            found.pop(full.index, None)
            found.pop(alone.index, None)
    return found, warnings


Strands: TypeAlias = Sequence[Sequence[str | None]]
Picks: TypeAlias = tuple[list[int | None], dict[int, int], list[Message]]  # allele per strand, variants found, warnings


def _lowest_per_strand(cg: CompiledGene, prep: Prepared, strands: Strands, present: list[np.ndarray]) -> Picks:
    """Phased data: each strand's own lowest-function variant (None: the reference allele)."""
    warnings: list[Message] = []
    picks: list[int | None] = []
    all_found: dict[int, int] = {}
    for k, pres in enumerate(present):
        found = _drop_contained(cg, {int(i): 1 for i in np.flatnonzero(pres)})
        found, w = _linked_rules(cg, prep, found, [strands[k]])
        warnings.extend(w)
        ordered = sorted(found, key=lambda i: severity_key(cg, cg.alleles[i]))
        picks.append(ordered[0] if ordered else None)
        for i in ordered:
            all_found[i] = all_found.get(i, 0) + 1
    return picks, all_found, warnings


def _lowest_two(cg: CompiledGene, prep: Prepared, strands: Strands, present: list[np.ndarray]) -> Picks:
    """Unphased data: the two lowest-function variants found, a homozygous one counting twice."""
    dosage: dict[int, int] = {}
    for a in cg.alleles:
        if a.reference:
            continue
        count = sum(int(pres[a.index]) for pres in present)
        if a.defined.sum() > 1:  # multi-position allele: copies limited by its least-carried position
            acc = [cg.accept_matrix(tuple(s)) for s in strands]
            d = a.defined & ~prep.missing
            count = min((sum(int(m[a.index, j]) for m in acc) for j in np.flatnonzero(d)), default=0)
        if count and (a.defined & ~prep.missing).any():
            dosage[a.index] = count
    found = _drop_contained(cg, dosage)
    found, warnings = _linked_rules(cg, prep, found, strands)
    ordered = sorted(found, key=lambda i: severity_key(cg, cg.alleles[i]))
    picks: list[int | None] = [*[i for i in ordered for _ in range(found[i])][:2]]
    while len(picks) < len(strands):
        picks.append(None)
    return picks, found, warnings


def _variant_summary(
    cg: CompiledGene, prep: Prepared, variants: dict[int, int], n_strands: int
) -> tuple[tuple[str, ...], list[Message]]:
    """Every variant found, lowest function first, and warnings on unknown function or too many variants."""
    warnings: list[Message] = []
    unknown = [
        cg.alleles[i].name for i in variants if cg.alleles[i].activity is None and cg.alleles[i].function is None
    ]
    if unknown:
        warnings.append(
            Message(
                code="unknown_function_variant", message=f"variant(s) of unknown function found: {', '.join(unknown)}"
            )
        )
    names = []
    for i in sorted(variants, key=lambda i: severity_key(cg, cg.alleles[i])):
        names.append(cg.alleles[i].name + (f" (x{variants[i]})" if variants[i] > 1 else ""))
    if len(variants) > n_strands:
        warnings.append(
            Message(
                code="more_variants_than_strands",
                message=f"{len(variants)} {cg.gene.gene} variants found; the call uses the lowest-function "
                f"{'one per strand' if prep.effectively_phased else 'two'}: {', '.join(names)}",
            )
        )
    return tuple(names), warnings


def match_lowest_function(cg: CompiledGene, gg: GeneGenotype, prep: Prepared) -> GeneMatch:
    """The lowest-function call: per strand with (effectively) phased data, else the two lowest found."""
    warnings = list(prep.warnings)
    strands = [prep.s1] if prep.haploid else [prep.s1, prep.s2]
    present = [_present(cg, prep, s) for s in strands]
    for p in prep.half_alt:
        warnings.append(
            Message(
                code="half_call_variant",
                position=p,
                message=f"half call at {cg.gene.chromosome}:{p}: the variant is counted, the other allele is unknown",
            )
        )
    pick = _lowest_per_strand if prep.effectively_phased else _lowest_two
    picks, variants, linked = pick(cg, prep, strands, present)
    warnings.extend(linked)
    haps: list[HaplotypeMatch] = [
        haplotype(cg, cg.alleles[i] if i is not None else cg.reference, prep.missing) for i in picks
    ]
    haps.sort(key=lambda h: (not h.reference, cg.by_name(h.name).sort_key))
    names, summary = _variant_summary(cg, prep, variants, len(strands))
    warnings.extend(summary)
    return called(gg, cg, prep, [DiplotypeMatch(haplotypes=tuple(haps), score=None)], warnings, variants_found=names)


__all__ = ["match_lowest_function", "not_called", "severity_key"]
