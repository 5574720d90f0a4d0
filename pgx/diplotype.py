"""A diplotype as a value: an unordered pair of haplotype names with one canonical spelling.

``*2/*17`` and ``*17/*2`` are the same diplotype; code that compares, parses or asks "does
this patient carry *3?" goes through :class:`Diplotype` instead of splitting strings on "/"
(where a careless ``"*3" in name`` would also match ``*33``). A haploid result (a male's
X-linked gene, a mitochondrial gene) has one name.
"""

from __future__ import annotations

from dataclasses import dataclass

from pgx.naming import natural_key


@dataclass(frozen=True, eq=False)
class Diplotype:
    haplotypes: tuple[str, ...]  # as written, stripped

    @classmethod
    def parse(cls, text: str) -> Diplotype:
        """``"*1/*2"`` -> Diplotype(("*1", "*2")); blanks around names are dropped, empty names kept
        (so a caller can refuse ``"*1/"``)."""
        return cls(tuple(part.strip() for part in text.split("/")))

    @property
    def key(self) -> tuple[str, ...]:
        """The names in natural order: equal for equal diplotypes, whatever order they were written in."""
        return tuple(sorted(self.haplotypes, key=natural_key))

    @property
    def canonical(self) -> str:
        return "/".join(self.key)

    def carries(self, haplotype: str) -> bool:
        return haplotype in self.haplotypes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diplotype) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return "/".join(self.haplotypes)
