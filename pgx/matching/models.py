"""Stage boundary matching -> phenotyping: what was matched for one sample and gene, and why."""

from __future__ import annotations

from typing import Literal

from pgx.model import Model


class Message(Model):
    """A non-fatal observation attached to a call (the library never prints)."""

    code: str
    message: str
    position: int | None = None


class MissingPosition(Model):
    position: int
    rsid: str | None = None
    alleles: tuple[str, ...] = ()  # named alleles defined at this position: they cannot be ruled in or out


class HaplotypeMatch(Model):
    name: str
    reference: bool = False
    copies: int = 1
    copies_label_min: int = 3  # copies at or above this are written x≥N
    missing_positions: tuple[int, ...] = ()  # positions this allele defines that the sample lacks

    @property
    def label(self) -> str:
        if self.copies == 1:
            return self.name
        if self.copies >= self.copies_label_min:
            return f"{self.name}x≥{self.copies_label_min}"
        return f"{self.name}x{self.copies}"


class DiplotypeMatch(Model):
    haplotypes: tuple[HaplotypeMatch, ...]  # two, or one for a haploid (hemizygous) call
    score: int | None = None

    @property
    def name(self) -> str:
        return "/".join(h.label for h in self.haplotypes)


NotCalledCode = Literal[
    "no_data",
    "missing_required_position",
    "undocumented_variant",
    "half_call",
    "no_match",
    "ploidy",
    "copy_number",
    "outside_only",
]


class GeneMatch(Model):
    sample: str
    gene: str
    status: Literal["called", "not_called"]
    diplotypes: tuple[DiplotypeMatch, ...] = ()  # best candidates, tied, in order
    other_matches: tuple[DiplotypeMatch, ...] = ()  # lower-scoring fits (only when all matches were asked for)
    reason_code: NotCalledCode | None = None
    reason: str | None = None
    phased: bool = False
    effectively_phased: bool = False
    positions_total: int = 0
    positions_called: int = 0
    missing_positions: tuple[MissingPosition, ...] = ()
    alleles_not_assessable: tuple[str, ...] = ()
    variants_found: tuple[str, ...] = ()  # lowest-function genes: every variant seen, lowest function first
    inferred: bool = False  # called by a documented fallback rather than a full match
    warnings: tuple[Message, ...] = ()
