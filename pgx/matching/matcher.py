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

from dataclasses import dataclass, field

import numpy as np

from pgx.knowledge.schema import Gene
from pgx.matching.compiled import CompiledAllele, CompiledGene
from pgx.matching.models import DiplotypeMatch, GeneMatch, HaplotypeMatch, Message, MissingPosition
from pgx.vcf.genotypes import UNDOCUMENTED, GeneGenotype


@dataclass
class Prepared:
    """The sample's strands at the gene's positions after per-position rules."""

    s1: list[str | None]
    s2: list[str | None]
    haploid: bool
    missing: np.ndarray
    units: list[np.ndarray]
    hom: np.ndarray
    homref: np.ndarray
    phased: bool
    effectively_phased: bool
    warnings: list[Message] = field(default_factory=list)
    failure: tuple[str, str] | None = None  # (reason code, message) when the gene cannot be called
    half_alt: list[int] = field(default_factory=list)


def describe_allele(value: str) -> str:
    if value.startswith(UNDOCUMENTED):
        _, pos_change = value.split(":", 1)
        pos, change = pos_change.split(":", 1)
        return f"{change} at position {pos}"
    return value


def _locus(gene: Gene, pos: int) -> str:
    return f"{gene.chromosome}:{pos}"


def prepare(cg: CompiledGene, gg: GeneGenotype, lowest_function: bool, allow_haploid: bool = False) -> Prepared:
    gene = cg.gene
    q = gene.quirks
    warnings = [Message(code=n.code, message=n.message, position=n.position) for n in gg.notes]
    n_p = len(cg.positions)
    s1: list[str | None] = [None] * n_p
    s2: list[str | None] = [None] * n_p
    haploid_flags: list[bool] = []
    undocumented: list[str] = []
    half_alt: list[int] = []
    for j, call in enumerate(gg.positions):
        pos = cg.positions[j]
        ref = gene.positions[j].ref
        alleles = list(call.alleles)
        for k, v in enumerate(alleles):
            if v is not None and v not in cg.position_alleles[j]:
                if q.undocumented_as_reference:
                    warnings.append(
                        Message(
                            code="undocumented_as_reference",
                            position=pos,
                            message=f"{describe_allele(v)} ({_locus(gene, pos)}) is not in any {gene.gene} "
                            "allele definition; read as reference",
                        )
                    )
                    alleles[k] = ref
                else:
                    undocumented.append(f"{describe_allele(v)} ({_locus(gene, pos)})")
        if len(alleles) == 1:
            if alleles[0] is not None:
                haploid_flags.append(True)
            s1[j] = alleles[0]
            continue
        a, b = alleles
        if (a is None) != (b is None):
            present = a if a is not None else b
            if present == ref:
                warnings.append(
                    Message(
                        code="half_call",
                        position=pos,
                        message=f"half call (one allele missing) at {_locus(gene, pos)}; position treated as missing",
                    )
                )
                a = b = None
            else:
                half_alt.append(pos)
                a, b = present, None
        if a is not None or b is not None:
            haploid_flags.append(False)
        s1[j], s2[j] = a, b
    missing = np.array([s1[j] is None and s2[j] is None for j in range(n_p)], dtype=bool)
    haploid = bool(haploid_flags) and all(haploid_flags)
    prep = Prepared(
        s1=s1,
        s2=s2,
        haploid=haploid,
        missing=missing,
        units=[],
        hom=np.zeros(n_p, bool),
        homref=np.zeros(n_p, bool),
        phased=False,
        effectively_phased=False,
        warnings=warnings,
        half_alt=half_alt,
    )
    if undocumented:
        prep.failure = (
            "undocumented_variant",
            f"variant not in any {gene.gene} allele definition: {'; '.join(undocumented[:3])}"
            + (f" (+{len(undocumented) - 3} more)" if len(undocumented) > 3 else ""),
        )
        return prep
    if missing.all():
        prep.failure = ("no_data", f"no genotype data at any of the {n_p} {gene.gene} positions")
        return prep
    if any(haploid_flags) and not haploid:
        prep.failure = ("ploidy", f"{gene.gene} has both haploid and diploid genotypes")
        return prep
    if haploid and q.ploidy == "autosomal" and not allow_haploid:
        prep.failure = ("ploidy", f"haploid genotypes on autosomal gene {gene.gene} without copy-number evidence")
        return prep
    if half_alt and not lowest_function:
        locs = ", ".join(_locus(gene, p) for p in half_alt[:3])
        prep.failure = ("half_call", f"half call carrying a variant allele at {locs}; the other allele is unknown")
        return prep
    missing_required = [p for p in q.required_positions if missing[cg.position_index[p]]]
    if missing_required:
        prep.failure = (
            "missing_required_position",
            f"required position{'s' if len(missing_required) > 1 else ''} missing: "
            + ", ".join(_locus(gene, p) for p in missing_required),
        )
        return prep
    for j, p in enumerate(gene.positions):
        if p.tier1 and missing[j]:
            warnings.append(
                Message(
                    code="tier1_missing",
                    position=p.position,
                    message=f"AMP tier-1 position {_locus(gene, p.position)}"
                    f"{' (' + p.rsid + ')' if p.rsid else ''} is missing",
                )
            )
    avail = ~missing
    ref_values = [p.ref for p in gene.positions]
    if haploid:
        prep.hom = avail.copy()
        prep.homref = np.array([avail[j] and s1[j] == ref_values[j] for j in range(n_p)], dtype=bool)
        prep.phased = prep.effectively_phased = True
        return prep
    hom = np.array([avail[j] and s1[j] == s2[j] for j in range(n_p)], dtype=bool)
    prep.hom = hom
    prep.homref = np.array([hom[j] and s1[j] == ref_values[j] for j in range(n_p)], dtype=bool)
    units: dict[tuple[object, ...], list[int]] = {}
    all_phased = True
    for j, call in enumerate(gg.positions):
        if missing[j]:
            continue
        if not call.phased and not call.filled:  # a position pgx filled as reference says nothing about phasing
            all_phased = False
        if hom[j]:
            continue
        if call.phased and s2[j] is not None:
            key: tuple[object, ...] = ("ps", call.phase_set) if call.phase_set is not None else ("fixed",)
        else:
            key = ("free", j)
        units.setdefault(key, []).append(j)
    prep.units = [np.array(v, dtype=int) for v in units.values()]
    prep.phased = all_phased
    prep.effectively_phased = len(prep.units) <= 1
    return prep


def missing_report(cg: CompiledGene, prep: Prepared) -> tuple[tuple[MissingPosition, ...], tuple[str, ...]]:
    out = []
    for j in np.flatnonzero(prep.missing):
        p = cg.gene.positions[j]
        out.append(MissingPosition(position=p.position, rsid=p.rsid, alleles=cg.defined_at[j]))
    seen = (cg.defined & ~prep.missing).any(axis=1)
    gone = tuple(cg.alleles[i].name for i in np.flatnonzero(~seen))
    return tuple(out), gone


def _haplotype(cg: CompiledGene, a: CompiledAllele, missing: np.ndarray, copies: int = 1) -> HaplotypeMatch:
    miss = tuple(cg.positions[j] for j in np.flatnonzero(a.defined & missing))
    label_min = cg.gene.quirks.copy_number.max_copies_label if cg.gene.quirks.copy_number else 3
    return HaplotypeMatch(
        name=a.name, reference=a.reference, missing_positions=miss, copies=copies, copies_label_min=label_min
    )


def fit_diplotypes(cg: CompiledGene, prep: Prepared) -> list[tuple[int, CompiledAllele, CompiledAllele | None]]:
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


def _order(
    fits: list[tuple[int, CompiledAllele, CompiledAllele | None]],
) -> list[tuple[int, CompiledAllele, CompiledAllele | None]]:
    def key(f: tuple[int, CompiledAllele, CompiledAllele | None]) -> tuple:  # type: ignore[type-arg]
        s, x, y = f
        return (-s, x.sort_key, y.sort_key if y is not None else ())

    return sorted(fits, key=key)


def to_match(
    cg: CompiledGene, prep: Prepared, fit: tuple[int, CompiledAllele, CompiledAllele | None]
) -> DiplotypeMatch:
    s, x, y = fit
    haps = [_haplotype(cg, x, prep.missing)]
    if y is not None:
        haps.append(_haplotype(cg, y, prep.missing))
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


def not_called(
    gg: GeneGenotype,
    cg: CompiledGene,
    prep: Prepared | None,
    code: str,
    reason: str,
    warnings: list[Message] | None = None,
) -> GeneMatch:
    missing, gone = missing_report(cg, prep) if prep is not None else ((), ())
    return GeneMatch(
        sample=gg.sample,
        gene=gg.gene,
        status="not_called",
        reason_code=code,
        reason=reason,  # type: ignore[arg-type]
        positions_total=len(cg.positions),
        positions_called=int((~prep.missing).sum()) if prep is not None else 0,
        missing_positions=missing,
        alleles_not_assessable=gone,
        phased=prep.phased if prep else False,
        effectively_phased=prep.effectively_phased if prep else False,
        warnings=tuple(warnings if warnings is not None else (prep.warnings if prep else [])),
    )


def match_diplotypes(
    cg: CompiledGene, gg: GeneGenotype, prep: Prepared, all_matches: bool = False, keep_all: bool = False
) -> GeneMatch:
    """Standard path: best-scoring fitting diplotypes (every fitting one with ``keep_all``)."""
    fits = _order(fit_diplotypes(cg, prep))
    missing, gone = missing_report(cg, prep)
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


def called(
    gg: GeneGenotype,
    cg: CompiledGene,
    prep: Prepared,
    diplotypes: list[DiplotypeMatch],
    warnings: list[Message],
    **extra: object,
) -> GeneMatch:
    """A called GeneMatch with the sample's phasing and missing-position report."""
    missing, gone = missing_report(cg, prep)
    return GeneMatch(
        sample=gg.sample,
        gene=gg.gene,
        status="called",
        diplotypes=tuple(diplotypes),
        phased=prep.phased,
        effectively_phased=prep.effectively_phased,
        positions_total=len(cg.positions),
        positions_called=int((~prep.missing).sum()),
        missing_positions=missing,
        alleles_not_assessable=gone,
        warnings=tuple(warnings),
        **extra,  # type: ignore[arg-type]
    )
