"""From records to each sample's alleles at each defined position of a gene.

Every record overlapping a locus is translated once into an *effect table*: for each of its
allele indices, the allele it puts at the locus (written as the definition writes it), an
``undocumented:`` description, or None (unknown). Samples then index those tables with
their GT codes as numpy arrays. A position with no informing record is missing — never
reference — unless the caller opted in to ``missing_to_ref`` for a panel/imputed file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pgx.model import Model
from pgx.variants import decompose_mnp, normalize
from pgx.vcf.reader import VcfData
from pgx.vcf.records import ABSENT, MISSING, NO_PS, Record
from pgx.vcf.targets import Locus, Targets

UNDOCUMENTED = "undocumented:"
Observation = tuple[str | None, str | None, bool, int, Record]  # (allele 1, allele 2, phased, phase set, record)


class PositionCall(Model):
    """A sample's alleles at one defined position; None stands for a missing allele."""

    position: int
    alleles: tuple[str | None, ...]  # one entry per strand; a single entry for a haploid call
    phased: bool = False
    phase_set: int | None = None
    filters: tuple[str, ...] = ()
    filled: bool = False  # filled as reference by the missing-to-ref opt-in

    @property
    def missing(self) -> bool:
        return all(a is None for a in self.alleles)


class ReadNote(Model):
    code: str
    position: int | None = None
    message: str


class CopyNumberObservation(Model):
    copies: int  # total copies of the gene in this sample
    source: str


class GeneGenotype(Model):
    """Stage boundary VCF -> matching: everything the matcher needs for one sample and gene."""

    sample: str
    gene: str
    positions: tuple[PositionCall, ...]  # every defined position, in definition order
    extra: tuple[PositionCall, ...] = ()  # positions reported but not used for calling
    copy_number: CopyNumberObservation | None = None
    notes: tuple[ReadNote, ...] = ()


@dataclass
class _LocusSources:
    locus: Locus
    records: list[tuple[Record, list[str | None]]] = field(default_factory=list)
    blocks: list[Record] = field(default_factory=list)  # gVCF reference blocks over the locus window
    note: ReadNote | None = None  # applies to every sample (REF mismatch, FILTER)

    def blocks_cover_window(self) -> bool:
        """Do the blocks, together, cover every base from the position to the end of its window?"""
        reach = self.locus.position - 1
        for rec in sorted(self.blocks, key=lambda r: r.pos):
            if rec.pos > reach + 1:
                break
            reach = max(reach, rec.end)
        return reach >= self.locus.window_end


def undocumented(key: tuple[int, str, str]) -> str:
    return f"{UNDOCUMENTED}{key[0]}:{key[1]}>{key[2]}"


def record_effects(
    rec: Record, locus: Locus, targets: Targets, cnv_genes: set[str], ref_bad: bool
) -> list[str | None] | None:
    """Allele placed at ``locus`` by each allele index of ``rec``; None if the record is silent there."""
    n = len(rec.alts)
    if rec.is_sv:
        if locus.gene in cnv_genes or not (rec.pos < locus.position <= rec.end):
            return None
        return [locus.ref] + [None] * n
    in_span = rec.pos <= locus.position <= rec.pos + len(rec.ref) - 1
    informs = in_span
    base_at = targets.base_lookup(rec.chrom)
    vals: list[str | None] = [locus.ref]
    for alt in rec.alts:
        if alt == "*" or alt.startswith("<") or "N" in alt:
            vals.append(None)
            continue
        key = normalize(rec.pos, rec.ref, alt, base_at)
        hit = locus.keys.get(key)
        if hit is not None:
            vals.append(hit)
            informs = True
            continue
        value: str | None = locus.ref
        parts = decompose_mnp(key) if len(key[1]) == len(key[2]) > 1 else [key]
        for part in parts:
            if part in locus.keys:
                value = locus.keys[part]
                informs = True
                break
            if targets.documented_elsewhere(rec.chrom, part, locus.position):
                continue  # a neighbouring locus's own variant: not a change to this one
            if locus.touches(part):
                value = undocumented(key)
                informs = True
                break
        vals.append(value)
    if not informs:
        return None
    if ref_bad or "N" in rec.ref:
        return [None] * (n + 1)  # the record cannot be trusted at this locus: missing, never reference
    return vals


class GenotypeAssembler:
    """Per-gene allele matrices for all samples of one VcfData."""

    def __init__(self, data: VcfData, targets: Targets, missing_to_ref: bool = False) -> None:
        self.data = data
        self.targets = targets
        self.missing_to_ref = missing_to_ref
        self.cnv_genes = set(targets.gene_regions)
        self._span_cache: dict[tuple[str, int], bool] = {}
        self._source_cache: dict[tuple[str, int, str], _LocusSources] = {}

    # -- per locus ------------------------------------------------------------------------

    def _sources(self, locus: Locus) -> _LocusSources:
        key = (locus.chrom, locus.position, locus.gene)
        hit = self._source_cache.get(key)
        if hit is None:
            hit = self._source_cache[key] = self._find_sources(locus)
        return hit

    def evidence(self, loci: Sequence[Locus]) -> tuple[int, int]:
        """(loci with records or reference blocks, ends of the locus range inside the file's span).

        Only the first and last locus are tested against the span (each test is two index
        look-ups on an indexed file), so a file whose records stop short of both ends of a
        gene, with none at its positions, does not count as spanning it.
        """
        informed = sum(bool(src.records or src.blocks) for src in map(self._sources, loci))
        ordered = sorted(loci, key=lambda x: x.position)
        ends = [ordered[0], ordered[-1]] if len(ordered) > 1 else ordered
        return informed, sum(self._within_span(x) for x in ends)

    def _find_sources(self, locus: Locus) -> _LocusSources:
        out = _LocusSources(locus)
        recs = self.data.records.get(locus.chrom, [])
        for rec in recs:
            if rec.end < locus.position - 1 or rec.pos > locus.window_end:
                continue
            if rec.is_block:
                if rec.pos <= locus.window_end and rec.end >= locus.position:
                    out.blocks.append(rec)
                continue
            ref_bad = (rec.chrom, rec.pos) in self.data.ref_mismatch
            eff = record_effects(rec, locus, self.targets, self.cnv_genes, ref_bad)
            if eff is None:
                continue
            out.records.append((rec, eff))
            if ref_bad:
                out.note = ReadNote(
                    code="ref_mismatch",
                    position=locus.position,
                    message=self.data.ref_mismatch[(rec.chrom, rec.pos)] + "; position treated as missing",
                )
            elif rec.filters and out.note is None:
                out.note = ReadNote(
                    code="filter",
                    position=locus.position,
                    message=f"FILTER {';'.join(rec.filters)} at {locus.chrom}:{locus.position} ({rec.where})",
                )
        return out

    def _within_span(self, locus: Locus) -> bool:
        key = (locus.chrom, locus.position)
        if key not in self._span_cache:
            self._span_cache[key] = self.data.within_span(locus.chrom, locus.position)
        return self._span_cache[key]

    # -- per gene -------------------------------------------------------------------------

    def gene(self, gene: str, loci: Sequence[Locus]) -> GeneMatrix:
        n = len(self.data.samples)
        m = len(loci)
        a1 = np.empty((n, m), dtype=object)
        a2 = np.empty((n, m), dtype=object)
        phased = np.zeros((n, m), dtype=bool)
        ps = np.full((n, m), NO_PS, dtype=np.int64)
        filled = np.zeros(m, dtype=bool)
        # cheap equality codes for grouping samples: GT indices where one record decides a
        # column (equal codes -> equal alleles), constant where none does; other columns are
        # coded from the alleles themselves (see pgx.calling.cohort)
        k1 = np.zeros((n, m), dtype=np.int16)
        k2 = np.zeros((n, m), dtype=np.int16)
        coded = np.ones(m, dtype=bool)
        filters: list[tuple[str, ...]] = []
        notes: dict[int, list[ReadNote]] = {}
        locus_notes: list[ReadNote] = []
        for j, locus in enumerate(loci):
            src = self._sources(locus)
            if src.note is not None:
                locus_notes.append(src.note)
            if not src.records and src.blocks:
                coded[j] = False
                self._from_blocks(src, j, a1, a2)
                filters.append(next((r.filters for r in src.blocks if r.filters), ()))
                continue
            filters.append(next((r.filters for r, _ in src.records if r.filters), ()))
            if not src.records:
                if self.missing_to_ref and self._within_span(locus):
                    a1[:, j] = locus.ref
                    a2[:, j] = locus.ref
                    filled[j] = True
                else:
                    a1[:, j] = None
                    a2[:, j] = None
                continue
            if len(src.records) == 1:
                rec, eff = src.records[0]
                table = np.array(eff + ["<absent>", None], dtype=object)  # index -2 absent, -1 missing
                a1[:, j] = table[rec.gt[:, 0]]
                a2[:, j] = table[rec.gt[:, 1]]
                k1[:, j] = rec.gt[:, 0]
                k2[:, j] = rec.gt[:, 1]
                phased[:, j] = rec.phased
                ps[:, j] = rec.ps
                self._flag_samples(rec, j, locus, a1, a2, notes)
                continue
            coded[j] = False
            for i in range(n):
                v1, v2, ph, p, note = _merge(i, src.records, locus)
                a1[i, j], a2[i, j], phased[i, j], ps[i, j] = v1, v2, ph, p
                if note is not None:
                    notes.setdefault(i, []).append(note)
            for rec, _ in src.records:
                self._flag_samples(rec, j, locus, a1, a2, notes)
        if filled.any() and (~filled).any():
            # a filled position takes the sample's ploidy there: hemizygous (chrX in males) stays haploid
            haploid = (a2[:, ~filled] == "<absent>").any(axis=1)
            a2[np.ix_(haploid, filled)] = "<absent>"
            coded[filled] = False
        return GeneMatrix(gene, list(loci), a1, a2, phased, ps, filled, filters, notes, locus_notes, k1, k2, coded)

    @staticmethod
    def _from_blocks(src: _LocusSources, j: int, a1: np.ndarray, a2: np.ndarray) -> None:
        """Reference only where blocks cover the whole window and every one calls the sample 0/0 (or 0)."""
        if not src.blocks_cover_window():
            a1[:, j] = a2[:, j] = None
            return
        ok = np.ones(a1.shape[0], dtype=bool)
        haploid = np.zeros(a1.shape[0], dtype=bool)
        for rec in src.blocks:
            ok &= (rec.gt[:, 0] == 0) & ((rec.gt[:, 1] == 0) | (rec.gt[:, 1] == ABSENT))
            haploid |= rec.gt[:, 1] == ABSENT
        ref = src.locus.ref
        a1[:, j] = None
        a2[:, j] = None
        a1[ok, j] = ref
        a2[ok & ~haploid, j] = ref
        a2[ok & haploid, j] = "<absent>"

    def _flag_samples(
        self, rec: Record, j: int, locus: Locus, a1: np.ndarray, a2: np.ndarray, notes: dict[int, list[ReadNote]]
    ) -> None:
        where = f"{locus.chrom}:{locus.position} ({rec.where})"
        for i in np.flatnonzero(rec.poly):
            a1[i, j] = a2[i, j] = None
            notes.setdefault(int(i), []).append(
                ReadNote(
                    code="ploidy",
                    position=locus.position,
                    message=f"more than two alleles in GT at {where}; ploidy > 2 is not supported, "
                    "position treated as missing",
                )
            )
        if rec.ad_single is not None:
            for i in np.flatnonzero(rec.ad_single):
                a1[i, j] = a2[i, j] = None
                notes.setdefault(int(i), []).append(
                    ReadNote(
                        code="allele_depth",
                        position=locus.position,
                        message=f"heterozygous GT at {where} but AD supports one allele only; "
                        "position treated as missing",
                    )
                )


def _merge(
    i: int, records: list[tuple[Record, list[str | None]]], locus: Locus
) -> tuple[object, object, bool, int, ReadNote | None]:
    """Combine several records describing one locus for sample ``i``.

    Identical observations collapse (phased ones only when their phase agrees). Different ALT
    alleles from split multiallelic records combine, including the ``1/.`` + ``./1`` style, where
    each record leaves the other's allele unknown. Anything contradictory (three alleles, one
    allele at two dosages or on both strands) or left unknown makes the position missing.
    """
    obs: list[Observation] = []
    for rec, eff in records:
        g1, g2 = int(rec.gt[i, 0]), int(rec.gt[i, 1])
        v1 = None if g1 == MISSING else eff[g1]
        v2 = "<absent>" if g2 == ABSENT else (None if g2 == MISSING else eff[g2])
        obs.append((v1, v2, bool(rec.phased[i]), int(rec.ps[i]), rec))
    first = obs[0]
    phased_all = all(o[2] for o in obs) and len({o[3] for o in obs}) == 1
    if all(
        (o[0], o[1]) == (first[0], first[1]) or (not phased_all and (o[1], o[0]) == (first[0], first[1])) for o in obs
    ):
        return first[0], first[1], phased_all, first[3], None
    ref = locus.ref
    haploid = all(o[1] == "<absent>" for o in obs)
    ploidy = 1 if haploid else 2
    per_value: dict[str, int] = {}
    for v1, v2, *_ in obs:
        vals = [v for v in (v1, v2) if v is not None and v not in (ref, "<absent>")]
        for v in set(vals):
            if per_value.setdefault(v, vals.count(v)) != vals.count(v):
                return None, None, False, NO_PS, _conflict(locus, obs, f"allele {v} at different dosages")
    nonref = [v for v, n in per_value.items() for _ in range(n)]
    if len(nonref) > ploidy:
        return None, None, False, NO_PS, _conflict(locus, obs, f"{len(nonref)} non-reference alleles")
    unknown = any(o[0] is None or o[1] is None for o in obs)
    if unknown and len(nonref) < ploidy:
        return None, None, False, NO_PS, _conflict(locus, obs, "an allele no record accounts for")
    if phased_all and not haploid:
        strands: list[str] = [ref, ref]
        for v1, v2, *_ in obs:
            for strand, val in ((0, v1), (1, v2)):
                if val is not None and val != ref:
                    if strands[strand] not in (ref, val):
                        return None, None, False, NO_PS, _conflict(locus, obs, "different alleles on one strand")
                    strands[strand] = val
        if sorted(v for v in strands if v != ref) != sorted(nonref):
            return None, None, False, NO_PS, _conflict(locus, obs, "phases that contradict each other")
        return strands[0], strands[1], True, obs[0][3], None
    alleles = nonref + [ref] * (ploidy - len(nonref))
    if haploid:
        return alleles[0], "<absent>", False, NO_PS, None
    return alleles[0], alleles[1], False, NO_PS, None


def _conflict(locus: Locus, obs: list[Observation], why: str) -> ReadNote:
    lines = ", ".join(o[4].where for o in obs)
    return ReadNote(
        code="conflicting_records",
        position=locus.position,
        message=f"conflicting records at {locus.chrom}:{locus.position} ({lines}): {why}; position treated as missing",
    )


@dataclass
class GeneMatrix:
    gene: str
    loci: list[Locus]
    a1: np.ndarray
    a2: np.ndarray
    phased: np.ndarray
    ps: np.ndarray
    filled: np.ndarray
    filters: list[tuple[str, ...]]
    sample_notes: dict[int, list[ReadNote]]
    locus_notes: list[ReadNote]
    k1: np.ndarray  # (n, m) int16 equality codes of a1, valid where `coded`
    k2: np.ndarray
    coded: np.ndarray  # (m,) bool
    _interned: dict[tuple[object, ...], PositionCall] = field(default_factory=dict)

    def calls(self, i: int, which: slice | None = None) -> tuple[PositionCall, ...]:
        """Sample ``i``'s calls; identical calls share one object (cohorts repeat them heavily)."""
        out = []
        rng = range(len(self.loci)) if which is None else range(*which.indices(len(self.loci)))
        a1, a2, phased, ps = self.a1[i], self.a2[i], self.phased[i], self.ps[i]
        interned = self._interned
        for j in rng:
            key = (j, a1[j], a2[j], phased[j], ps[j])
            call = interned.get(key)
            if call is None:
                v1, v2 = a1[j], a2[j]
                p = int(ps[j])
                call = PositionCall.model_construct(
                    position=self.loci[j].position,
                    alleles=(v1,) if v2 == "<absent>" else (v1, v2),
                    phased=bool(phased[j]),
                    phase_set=None if p == NO_PS else p,
                    filters=self.filters[j],
                    filled=bool(self.filled[j]),
                )
                interned[key] = call
            out.append(call)
        return tuple(out)
