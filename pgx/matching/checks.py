"""The checks that turn one sample's genotype for one gene into the matcher's input.

``prepare`` runs them in a fixed order, each returning an immutable value:

1. ``read_positions``: every position is read on its own (``read_position``): alleles no
   definition knows (``check_documented``), then half calls (``check_half_call``).
2. The refusals, the first that applies deciding why the gene is not called:
   ``undocumented_variants``, ``no_data``, ``mixed_ploidy``, ``unsupported_haploid``,
   ``half_call_variants``, ``missing_required_positions``.
3. For a gene that passes: ``tier1_missing`` warnings, then its phasing
   (``haploid_phasing`` or ``diploid_phasing``).

Missing positions are never read as reference (see ``pgx.matching.matcher``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgx.knowledge.schema import Gene
from pgx.matching.compiled import CompiledGene
from pgx.matching.models import Message
from pgx.matching.prepared import Failure, Prepared
from pgx.vcf.genotypes import UNDOCUMENTED, GeneGenotype, PositionCall

HAPLOID, DIPLOID = 1, 2


def describe_allele(value: str) -> str:
    """An allele as a message shows it: ``undocumented:POS:REF>ALT`` becomes ``REF>ALT at position POS``."""
    if value.startswith(UNDOCUMENTED):
        _, pos_change = value.split(":", 1)
        pos, change = pos_change.split(":", 1)
        return f"{change} at position {pos}"
    return value


def locus(gene: Gene, pos: int) -> str:
    return f"{gene.chromosome}:{pos}"


# -- 1. each position on its own -------------------------------------------------------------


@dataclass(frozen=True)
class Documented:
    """A position's alleles once the undocumented ones were read as reference or set aside."""

    alleles: tuple[str | None, ...]
    warnings: tuple[Message, ...] = ()
    undocumented: tuple[str, ...] = ()  # alleles set aside, described for the refusal message


@dataclass(frozen=True)
class HalfCall:
    """A diploid position's two strands once a half call was resolved."""

    s1: str | None
    s2: str | None
    warnings: tuple[Message, ...] = ()
    half_alt: bool = False  # a variant allele with the other allele unknown


@dataclass(frozen=True)
class PositionReading:
    """One position's strands and what the per-position checks found there."""

    s1: str | None
    s2: str | None  # None for a haploid call
    ploidy: int | None  # HAPLOID or DIPLOID, None when no allele is known
    warnings: tuple[Message, ...] = ()
    undocumented: tuple[str, ...] = ()
    half_alt: bool = False


def check_documented(cg: CompiledGene, j: int, call: PositionCall) -> Documented:
    """Alleles that no allele definition of the gene writes at position ``j``.

    No named allele can explain such an allele. Genes whose quirks say so
    (``undocumented_as_reference``, the reference tool's exemption list) read it as the
    reference allele, with a warning; for every other gene it is kept and described, and
    ``undocumented_variants`` then refuses the gene.
    """
    gene = cg.gene
    pos, ref = cg.positions[j], gene.positions[j].ref
    alleles = list(call.alleles)
    warnings: list[Message] = []
    undocumented: list[str] = []
    for k, v in enumerate(alleles):
        if v is None or v in cg.position_alleles[j]:
            continue
        if gene.quirks.undocumented_as_reference:
            warnings.append(
                Message(
                    code="undocumented_as_reference",
                    position=pos,
                    message=f"{describe_allele(v)} ({locus(gene, pos)}) is not in any {gene.gene} "
                    "allele definition; read as reference",
                )
            )
            alleles[k] = ref
        else:
            undocumented.append(f"{describe_allele(v)} ({locus(gene, pos)})")
    return Documented(alleles=tuple(alleles), warnings=tuple(warnings), undocumented=tuple(undocumented))


def check_half_call(cg: CompiledGene, j: int, a: str | None, b: str | None) -> HalfCall:
    """A diploid call at position ``j`` with exactly one allele missing (``0/.``, ``./1``).

    With the reference allele present the call says nothing reliable: the position becomes
    missing, with a warning, and the gene can still be called. With any other allele present
    that allele is kept, on strand 1, and the position is flagged ``half_alt``:
    ``half_call_variants`` refuses the gene unless it is a lowest-function gene, whose path
    counts the variant.
    """
    if (a is None) == (b is None):
        return HalfCall(s1=a, s2=b)
    present = a if a is not None else b
    pos = cg.positions[j]
    if present == cg.gene.positions[j].ref:
        warning = Message(
            code="half_call",
            position=pos,
            message=f"half call (one allele missing) at {locus(cg.gene, pos)}; position treated as missing",
        )
        return HalfCall(s1=None, s2=None, warnings=(warning,))
    return HalfCall(s1=present, s2=None, half_alt=True)


def read_position(cg: CompiledGene, j: int, call: PositionCall) -> PositionReading:
    """Position ``j`` after ``check_documented`` and, for a diploid call, ``check_half_call``.

    A one-allele call is haploid (hemizygous) when its allele is known.
    """
    doc = check_documented(cg, j, call)
    if len(doc.alleles) == 1:
        (s1,) = doc.alleles
        ploidy = HAPLOID if s1 is not None else None
        return PositionReading(s1=s1, s2=None, ploidy=ploidy, warnings=doc.warnings, undocumented=doc.undocumented)
    a, b = doc.alleles
    half = check_half_call(cg, j, a, b)
    return PositionReading(
        s1=half.s1,
        s2=half.s2,
        ploidy=DIPLOID if half.s1 is not None or half.s2 is not None else None,
        warnings=doc.warnings + half.warnings,
        undocumented=doc.undocumented,
        half_alt=half.half_alt,
    )


@dataclass(frozen=True, eq=False)
class Reading:
    """Every position read: the strands, what is missing, and what the per-position checks found."""

    s1: tuple[str | None, ...]
    s2: tuple[str | None, ...]
    missing: np.ndarray  # (nP,) bool: no allele known on either strand
    ploidies: tuple[int, ...]  # the ploidy of every position with a known allele, in position order
    warnings: tuple[Message, ...]  # the VCF reader's notes, then the per-position warnings in position order
    undocumented: tuple[str, ...]
    half_alt: tuple[int, ...]  # positions (coordinates) of half calls carrying a variant

    @property
    def haploid(self) -> bool:
        """Every position with data is haploid (and there is at least one)."""
        return bool(self.ploidies) and all(p == HAPLOID for p in self.ploidies)


def read_positions(cg: CompiledGene, gg: GeneGenotype) -> Reading:
    """Every position of the gene through ``read_position``, after the notes the VCF reader left.

    A position the genotype does not list (it should list every one) is missing.
    """
    notes = tuple(Message(code=n.code, message=n.message, position=n.position) for n in gg.notes)
    readings = [read_position(cg, j, call) for j, call in enumerate(gg.positions)]
    absent = (None,) * (len(cg.positions) - len(readings))
    s1 = tuple(r.s1 for r in readings) + absent
    s2 = tuple(r.s2 for r in readings) + absent
    return Reading(
        s1=s1,
        s2=s2,
        missing=np.array([a is None and b is None for a, b in zip(s1, s2, strict=True)], dtype=bool),
        ploidies=tuple(r.ploidy for r in readings if r.ploidy is not None),
        warnings=notes + tuple(w for r in readings for w in r.warnings),
        undocumented=tuple(u for r in readings for u in r.undocumented),
        half_alt=tuple(cg.positions[j] for j, r in enumerate(readings) if r.half_alt),
    )


# -- 2. refusals, in order: the first that applies is the reason ------------------------------


def undocumented_variants(gene: Gene, reading: Reading) -> Failure | None:
    """Refuses a gene with an allele that no definition writes (and that was not read as reference).

    No named allele can explain it, so any call would hide a variant. The message names the
    first three.
    """
    found = reading.undocumented
    if not found:
        return None
    shown = "; ".join(found[:3]) + (f" (+{len(found) - 3} more)" if len(found) > 3 else "")
    return Failure("undocumented_variant", f"variant not in any {gene.gene} allele definition: {shown}")


def no_data(cg: CompiledGene, reading: Reading) -> Failure | None:
    """Refuses a gene with no known allele at any position: nothing to call from."""
    if not reading.missing.all():
        return None
    return Failure("no_data", f"no genotype data at any of the {len(cg.positions)} {cg.gene.gene} positions")


def mixed_ploidy(gene: Gene, reading: Reading) -> Failure | None:
    """Refuses a gene read as haploid at some positions and diploid at others: the VCF contradicts itself."""
    if HAPLOID in reading.ploidies and not reading.haploid:
        return Failure("ploidy", f"{gene.gene} has both haploid and diploid genotypes")
    return None


def unsupported_haploid(gene: Gene, reading: Reading, allow_haploid: bool) -> Failure | None:
    """Refuses haploid data on an autosomal gene, unless copy-number evidence (one copy) explains it.

    Haploid genotypes are expected where the gene's ploidy quirk is not autosomal (G6PD on chrX);
    on an autosome they mean a lost copy, which only a copy-number record can say (``allow_haploid``).
    """
    if reading.haploid and gene.quirks.ploidy == "autosomal" and not allow_haploid:
        return Failure("ploidy", f"haploid genotypes on autosomal gene {gene.gene} without copy-number evidence")
    return None


def half_call_variants(gene: Gene, reading: Reading, lowest_function: bool) -> Failure | None:
    """Refuses a half call carrying a variant (``./1``): the other allele is unknown.

    Lowest-function genes are exempt: their path counts the variant, with a warning.
    """
    if not reading.half_alt or lowest_function:
        return None
    locs = ", ".join(locus(gene, p) for p in reading.half_alt[:3])
    return Failure("half_call", f"half call carrying a variant allele at {locs}; the other allele is unknown")


def missing_required_positions(cg: CompiledGene, reading: Reading) -> Failure | None:
    """Refuses a gene missing a position its quirks require (``required_positions``, NAT2 today)."""
    gene = cg.gene
    absent = [p for p in gene.quirks.required_positions if reading.missing[cg.position_index[p]]]
    if not absent:
        return None
    return Failure(
        "missing_required_position",
        f"required position{'s' if len(absent) > 1 else ''} missing: " + ", ".join(locus(gene, p) for p in absent),
    )


# -- 3. a gene that can be called ------------------------------------------------------------


def tier1_missing(gene: Gene, missing: np.ndarray) -> tuple[Message, ...]:
    """A warning for each missing AMP tier-1 position, in position order.

    The gene is still called, but a missing tier-1 position deserves more than a list entry
    (the reference tool means to warn here and never does).
    """
    return tuple(
        Message(
            code="tier1_missing",
            position=p.position,
            message=f"AMP tier-1 position {locus(gene, p.position)}{' (' + p.rsid + ')' if p.rsid else ''} is missing",
        )
        for j, p in enumerate(gene.positions)
        if p.tier1 and missing[j]
    )


@dataclass(frozen=True, eq=False)
class Phasing:
    """Which sites are homozygous and how the heterozygous ones may be split between the strands."""

    hom: np.ndarray
    homref: np.ndarray
    units: tuple[np.ndarray, ...]
    phased: bool
    effectively_phased: bool

    @classmethod
    def unassessed(cls, n_positions: int) -> Phasing:
        """What a refused gene carries: nothing homozygous, no units, not phased."""
        return cls(np.zeros(n_positions, bool), np.zeros(n_positions, bool), (), False, False)


def _is_ref(gene: Gene, strand: tuple[str | None, ...], where: np.ndarray) -> np.ndarray:
    return np.array([where[j] and strand[j] == p.ref for j, p in enumerate(gene.positions)], dtype=bool)


def haploid_phasing(gene: Gene, reading: Reading) -> Phasing:
    """Haploid data: one strand, so every available site is homozygous and the data are phased."""
    hom = ~reading.missing
    return Phasing(hom=hom, homref=_is_ref(gene, reading.s1, hom), units=(), phased=True, effectively_phased=True)


def diploid_phasing(gene: Gene, gg: GeneGenotype, reading: Reading) -> Phasing:
    """Diploid data: the phasing units of the heterozygous sites.

    An unphased site is its own unit; phased sites sharing a phase set form one unit, and phased
    sites without one form one fixed block (a half call is unphased whatever its GT says). Each
    unit may flip, so the data are effectively phased with at most one unit. They are phased when
    every site with data is, not counting sites pgx filled as reference (those say nothing).
    """
    s1, s2, missing = reading.s1, reading.s2, reading.missing
    hom = np.array([not missing[j] and s1[j] == s2[j] for j in range(len(s1))], dtype=bool)
    units: dict[tuple[object, ...], list[int]] = {}
    phased = True
    for j, call in enumerate(gg.positions):
        if missing[j]:
            continue
        if not call.phased and not call.filled:
            phased = False
        if hom[j]:
            continue
        if call.phased and s2[j] is not None:
            key: tuple[object, ...] = ("ps", call.phase_set) if call.phase_set is not None else ("fixed",)
        else:
            key = ("free", j)
        units.setdefault(key, []).append(j)
    return Phasing(
        hom=hom,
        homref=_is_ref(gene, s1, hom),
        units=tuple(np.array(v, dtype=int) for v in units.values()),
        phased=phased,
        effectively_phased=len(units) <= 1,
    )


# -- the sequence ----------------------------------------------------------------------------


def prepare(cg: CompiledGene, gg: GeneGenotype, lowest_function: bool, allow_haploid: bool = False) -> Prepared:
    """The matcher's input for one sample and gene; ``failure`` is set when the gene cannot be called."""
    gene = cg.gene
    reading = read_positions(cg, gg)
    failure = (
        undocumented_variants(gene, reading)
        or no_data(cg, reading)
        or mixed_ploidy(gene, reading)
        or unsupported_haploid(gene, reading, allow_haploid)
        or half_call_variants(gene, reading, lowest_function)
        or missing_required_positions(cg, reading)
    )
    if failure is not None:
        return _prepared(reading, Phasing.unassessed(len(cg.positions)), reading.warnings, failure)
    warnings = reading.warnings + tier1_missing(gene, reading.missing)
    phasing = haploid_phasing(gene, reading) if reading.haploid else diploid_phasing(gene, gg, reading)
    return _prepared(reading, phasing, warnings, None)


def _prepared(reading: Reading, phasing: Phasing, warnings: tuple[Message, ...], failure: Failure | None) -> Prepared:
    return Prepared(
        s1=reading.s1,
        s2=reading.s2,
        haploid=reading.haploid,
        missing=reading.missing,
        units=phasing.units,
        hom=phasing.hom,
        homref=phasing.homref,
        phased=phasing.phased,
        effectively_phased=phasing.effectively_phased,
        warnings=warnings,
        failure=failure,
        half_alt=reading.half_alt,
    )
