"""Natural ordering of allele names, so that ``*2`` sorts before ``*10``.

Reference alleles sort first; then names compare chunk by chunk, digits as numbers.
This is the order the reference tool uses for ties and within a diplotype.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CHUNK = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    parts: list[tuple[int, int | str]] = []
    for i, chunk in enumerate(_CHUNK.split(name)):
        if not chunk:
            continue
        parts.append((0, int(chunk)) if i % 2 else (1, chunk.lower()))
    return tuple(parts)


def allele_key(name: str, is_reference: bool = False) -> tuple[int, tuple[tuple[int, int | str], ...]]:
    return (0 if is_reference else 1, natural_key(name))


def sort_names(names: Iterable[str], references: Iterable[str] = ()) -> list[str]:
    refs = set(references)
    return sorted(names, key=lambda n: allele_key(n, n in refs))
