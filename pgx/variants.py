"""Variant representation: trimming and left-alignment, so one change written many ways compares equal.

VCF allows the same indel to be written padded, right-shifted inside a repeat, or as part of
a multiallelic record. Both the knowledge base and every VCF record go through
:func:`normalize`, so matching compares canonical ``(position, ref, alt)`` keys.
Left-alignment needs reference bases to the left of the variant; pgx has no genome FASTA
at run time, so callers pass ``base_at`` backed by the reference context stored in the
knowledge base (enough for the repeats that hold PGx indels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

VariantKey = tuple[int, str, str]


def normalize(pos: int, ref: str, alt: str, base_at: Callable[[int], str | None] | None = None) -> VariantKey:
    """Trim shared bases and left-shift indels as far as known reference bases allow.

    Follows the usual algorithm (Tan et al. 2015): drop a shared last base; when an allele
    becomes empty, extend both one base to the left; finally drop shared leading bases while
    both alleles keep at least one base.
    """
    ref = ref.upper()
    alt = alt.upper()
    if ref == alt:
        return (pos, ref, alt)
    while True:
        if ref and alt and ref[-1] == alt[-1]:
            t_ref, t_alt = ref[:-1], alt[:-1]
            if t_ref and t_alt:
                ref, alt = t_ref, t_alt
                continue
            base = base_at(pos - 1) if base_at is not None else None
            if base is None:
                break
            ref, alt, pos = base + t_ref, base + t_alt, pos - 1
            continue
        break
    while len(ref) >= 2 and len(alt) >= 2 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return (pos, ref, alt)


def changed_span(key: VariantKey) -> tuple[float, float]:
    """Reference interval a normalized variant alters; an insertion sits between two bases.

    SNV/MNP: its bases. Deletion after an anchor: the deleted bases. Insertion after an
    anchor ``a``: the half-open point ``a + 0.5``.
    """
    pos, ref, alt = key
    if len(ref) == len(alt):
        return (pos, pos + len(ref) - 1)
    if len(ref) > len(alt) and ref.startswith(alt):
        return (pos + len(alt), pos + len(ref) - 1)
    if len(alt) > len(ref) and alt.startswith(ref):
        point = pos + len(ref) - 1 + 0.5
        return (point, point)
    return (pos, pos + len(ref) - 1)


def decompose_mnp(key: VariantKey) -> list[VariantKey]:
    """Split an equal-length multi-base change into its single-base changes."""
    pos, ref, alt = key
    if len(ref) != len(alt) or len(ref) < 2:
        return [key]
    return [(pos + i, r, a) for i, (r, a) in enumerate(zip(ref, alt, strict=True)) if r != a]


def bases_lookup(known: Mapping[int, str]) -> Callable[[int], str | None]:
    return known.get
