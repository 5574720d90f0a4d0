"""Named-allele matching with the reference tool's semantics, vectorised over alleles.

A diplotype (X, Y) fits when some phasing of the sample's genotypes puts a haplotype that X
accepts on one strand and one that Y accepts on the other. Heterozygous sites fall into
phasing units: each unphased site is its own unit, phased sites sharing a phase set form
one, and phased sites without a phase set form one fixed block. Because a diplotype is an
unordered pair, every unit may flip, and the fit test factorises over units:

    fits(X, Y) = hom_ok(X) & hom_ok(Y) & AND_u [ (X|s1_u & Y|s2_u) | (X|s2_u & Y|s1_u) ]

Scores count the positions an allele lists (minus wobble positions where the sample is
homozygous reference); the best-scoring fits are called, ties all returned in order.
Missing positions are removed from every allele for that sample; never read as reference.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from pgx.matching.compiled import CompiledAllele, CompiledGene
from pgx.matching.models import DiplotypeMatch, GeneMatch, Message
from pgx.matching.outcomes import called, haplotype, missing_report, not_called
from pgx.matching.prepared import Prepared
from pgx.vcf.genotypes import GeneGenotype

Fit: TypeAlias = tuple[int, CompiledAllele, CompiledAllele | None]  # (score, X, Y); Y is None for haploid data


def fit_diplotypes(cg: CompiledGene, prep: Prepared) -> list[Fit]:
    """Every fitting (score, X, Y) with X <= Y in allele order; Y is None for haploid data.

    An allele scores one point per listed, available position, except a wobble position where
    the strand it is given carries the reference base (the reference tool's rule). When a
    phasing unit can be oriented both ways, the higher-scoring orientation counts.
    """
    avail = ~prep.missing
    base = (cg.defined & avail).sum(axis=1)
    assessable = base > 0
    refs = [p.ref for p in cg.gene.positions]
    ref1 = np.array([prep.s1[j] == refs[j] for j in range(len(refs))], dtype=bool) & avail
    acc1 = cg.accept_matrix(tuple(prep.s1))
    if prep.haploid:
        score = base - (cg.wobble & ref1).sum(axis=1)
        fits = assessable & acc1[:, avail].all(axis=1)
        return [(int(score[i]), cg.alleles[i], None) for i in np.flatnonzero(fits)]
    ref2 = np.array([prep.s2[j] == refs[j] for j in range(len(refs))], dtype=bool) & avail
    acc2 = cg.accept_matrix(tuple(prep.s2))
    hom_ok = acc1[:, prep.hom].all(axis=1)
    score = base - (cg.wobble & ref1 & prep.hom).sum(axis=1)
    n_x = len(cg.alleles)
    if prep.units:
        u1 = np.stack([acc1[:, u].all(axis=1) for u in prep.units], axis=1)
        u2 = np.stack([acc2[:, u].all(axis=1) for u in prep.units], axis=1)
        w1 = np.stack([(cg.wobble[:, u] & ref1[u]).sum(axis=1) for u in prep.units], axis=1)
        w2 = np.stack([(cg.wobble[:, u] & ref2[u]).sum(axis=1) for u in prep.units], axis=1)
    else:
        u1 = u2 = np.ones((n_x, 0), dtype=bool)
        w1 = w2 = np.zeros((n_x, 0), dtype=int)
    cand = np.flatnonzero(assessable & hom_ok & (u1 | u2).all(axis=1))
    if cand.size == 0:
        return []
    c1, c2, d1, d2 = u1[cand], u2[cand], w1[cand], w2[cand]
    straight = c1[:, None, :] & c2[None, :, :]  # first allele on strand 1
    flipped = c2[:, None, :] & c1[None, :, :]
    pair_ok = (straight | flipped).all(axis=2)
    cost_straight = d1[:, None, :] + d2[None, :, :]
    cost_flipped = d2[:, None, :] + d1[None, :, :]
    big = np.iinfo(np.int64).max // 4
    unit_cost = np.minimum(np.where(straight, cost_straight, big), np.where(flipped, cost_flipped, big))
    out = []
    for a, b in zip(*np.nonzero(np.triu(pair_ok)), strict=True):
        x, y = cg.alleles[cand[a]], cg.alleles[cand[b]]
        total = int(score[x.index] + score[y.index] - unit_cost[a, b].sum())
        out.append((total, x, y))
    return out


def _order(fits: list[Fit]) -> list[Fit]:
    """Best score first, then first and second haplotype in natural allele order."""

    def key(f: Fit) -> tuple[int, tuple[object, ...], tuple[object, ...]]:
        s, x, y = f
        return (-s, x.sort_key, y.sort_key if y is not None else ())

    return sorted(fits, key=key)


def to_match(cg: CompiledGene, prep: Prepared, fit: Fit) -> DiplotypeMatch:
    s, x, y = fit
    haps = [haplotype(cg, x, prep.missing)]
    if y is not None:
        haps.append(haplotype(cg, y, prep.missing))
    return DiplotypeMatch(haplotypes=tuple(haps), score=s)


def _unassessable_warning(cg: CompiledGene, gone: tuple[str, ...]) -> list[Message]:
    """Missing positions that hide alleles of reduced or uncertain function deserve more than a list entry."""
    notable = []
    for name in gone:
        a = cg.by_name(name)
        if a.reference or a.function in (None, "Normal function") or (a.activity is not None and a.activity >= 1):
            continue
        notable.append(f"{name} ({a.function})")
    if not notable:
        return []
    shown = ", ".join(notable[:8]) + (f" and {len(notable) - 8} more" if len(notable) > 8 else "")
    return [
        Message(
            code="alleles_not_assessable",
            message=f"missing positions leave {len(notable)} allele(s) of non-normal function unassessable: "
            f"{shown}; the call assumes none is present",
        )
    ]


def match_diplotypes(
    cg: CompiledGene, gg: GeneGenotype, prep: Prepared, all_matches: bool = False, keep_all: bool = False
) -> GeneMatch:
    """Standard path: best-scoring fitting diplotypes (every fitting one with ``keep_all``)."""
    fits = _order(fit_diplotypes(cg, prep))
    _, gone = missing_report(cg, prep)
    warnings = list(prep.warnings)
    if not fits:
        het = [cg.gene.positions[j].position for u in prep.units for j in u]
        detail = f" ({len(het)} heterozygous position{'s' if len(het) != 1 else ''})" if het else ""
        return not_called(
            gg,
            cg,
            prep,
            "no_match",
            f"no pair of {cg.gene.gene} named alleles explains the genotypes{detail}",
            warnings,
        )
    top = fits[0][0]
    best = [to_match(cg, prep, f) for f in fits if keep_all or f[0] == top]
    others = [to_match(cg, prep, f) for f in fits if f[0] != top] if all_matches and not keep_all else []
    warnings.extend(_unassessable_warning(cg, gone))
    return called(gg, cg, prep, best, warnings, other_matches=tuple(others))
