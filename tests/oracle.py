"""An independent, deliberately naive implementation of the matching semantics, for tests.

Written from the semantics in ../shared/anchors/pharmcat-notes.md with plain loops, sharing
no code with pgx.matching: a named allele is a full haplotype (unlisted positions = the
reference allele's value, a reference wobble = the REF base); a diplotype fits when some
orientation of each phase block gives each allele a strand it accepts; the score counts
listed, non-missing positions, minus wobble positions where the allele's own strand carries the
reference base (each unit oriented for the best score).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from pgx.knowledge.schema import IUPAC, Gene

WOBBLE = {k: v for k, v in IUPAC.items() if len(v) > 1}


def _accepts(listed: str | None, ref_listed: str, pos_ref: str, value: str) -> bool:
    if listed is None:
        listed = pos_ref if ref_listed in WOBBLE else ref_listed
    if listed in WOBBLE:
        return value in WOBBLE[listed]
    return value == listed


def oracle_fits(
    gene: Gene, strands: Sequence[tuple[str | None, str | None]], blocks: list[list[int]], haploid: bool = False
) -> dict[tuple[str, ...], int]:
    """All fitting diplotypes (sorted name tuples) with their scores.

    ``strands[j]`` is the sample's (allele1, allele2) at position j (None = missing);
    ``blocks`` lists index groups that flip together; every other position is its own block.
    """
    ref = next(a for a in gene.named_alleles if a.reference)
    alleles = [a for a in gene.named_alleles if a.name not in gene.quirks.ignored_alleles]
    positions = [p.position for p in gene.positions]
    avail = [j for j, (x, y) in enumerate(strands) if x is not None or y is not None]

    def accepts(a, j: int, value: str | None) -> bool:
        if value is None:
            return False
        pos = gene.positions[j]
        return _accepts(a.alleles.get(pos.position), ref.alleles[pos.position], pos.ref, value)

    def point(a, j: int, value: str | None) -> int:
        """What position j adds to allele a's score when a is given strand value ``value``."""
        listed = a.alleles.get(positions[j])
        if listed is None:
            return 0
        return 0 if listed in WOBBLE and value == gene.positions[j].ref else 1

    live = [
        a
        for a in alleles
        if any(a.alleles.get(positions[j]) is not None for j in avail)
        and all(accepts(a, j, strands[j][0]) or accepts(a, j, strands[j][1]) for j in avail)
    ]
    if haploid:
        return {
            (a.name,): sum(point(a, j, strands[j][0]) for j in avail)
            for a in live
            if all(accepts(a, j, strands[j][0]) for j in avail)
        }
    in_block = {j for b in blocks for j in b}
    units = [list(b) for b in blocks] + [[j] for j in avail if j not in in_block and strands[j][0] != strands[j][1]]
    homs = [j for j in avail if strands[j][0] == strands[j][1]]
    out: dict[tuple[str, ...], int] = {}
    for x, y in itertools.combinations_with_replacement(live, 2):
        if not all(accepts(x, j, strands[j][0]) and accepts(y, j, strands[j][0]) for j in homs):
            continue
        total = sum(point(x, j, strands[j][0]) + point(y, j, strands[j][0]) for j in homs)
        ok = True
        for unit in units:
            options = []
            for sx, sy in ((0, 1), (1, 0)):  # which strand each allele takes in this unit
                if all(accepts(x, j, strands[j][sx]) and accepts(y, j, strands[j][sy]) for j in unit):
                    options.append(sum(point(x, j, strands[j][sx]) + point(y, j, strands[j][sy]) for j in unit))
            if not options:
                ok = False
                break
            total += max(options)
        if ok:
            out[tuple(sorted((x.name, y.name)))] = total
    return out


def oracle_top(fits: dict[tuple[str, ...], int]) -> set[tuple[str, ...]]:
    if not fits:
        return set()
    best = max(fits.values())
    return {k for k, v in fits.items() if v == best}
