"""The matcher's input for one sample and gene, as ``pgx.matching.checks.prepare`` leaves it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from pgx.matching.models import Message, NotCalledCode


@dataclass(frozen=True)
class Failure:
    """Why a gene cannot be called: the ``GeneMatch`` reason code and its message."""

    code: NotCalledCode
    reason: str


@dataclass(frozen=True, eq=False)
class Prepared:
    """The sample's strands at the gene's positions after the per-position rules, and its phasing.

    Immutable, arrays included (they are made read-only). When ``failure`` is set the gene is not
    called, and only the strands, ``missing``, ``haploid``, ``half_alt`` and ``warnings`` are
    meaningful: ``units`` is empty, ``hom`` and ``homref`` are all False and neither phasing
    flag is set.
    """

    s1: tuple[str | None, ...]  # strand 1 per position; None is missing
    s2: tuple[str | None, ...]  # strand 2 per position; None throughout for haploid data
    haploid: bool
    missing: np.ndarray  # (nP,) bool: no allele known on either strand
    units: tuple[np.ndarray, ...]  # phasing units: position indices of heterozygous sites that flip together
    hom: np.ndarray  # (nP,) bool: available and the same on both strands (every available site when haploid)
    homref: np.ndarray  # (nP,) bool: homozygous for the reference allele
    phased: bool
    effectively_phased: bool  # at most one phasing unit: at most two permutations
    warnings: tuple[Message, ...] = ()
    failure: Failure | None = None
    half_alt: tuple[int, ...] = ()  # positions of half calls carrying a variant allele

    def __post_init__(self) -> None:
        for array in (self.missing, self.hom, self.homref, *self.units):
            array.setflags(write=False)

    def with_leading_warnings(self, messages: Sequence[Message]) -> Prepared:
        """The same input with ``messages`` before its own warnings."""
        return replace(self, warnings=(*messages, *self.warnings)) if messages else self
