"""A gene definition compiled for fast matching: per position, which named alleles accept each base.

Semantics (the reference tool's): a named allele is a full haplotype over the gene's
positions. A position it does not list means "same as the reference allele" there (a
reference wobble code means the reference base). IUPAC wobble codes accept any of their
bases. Only listed positions count toward an allele's score.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import IUPAC, Gene, NamedAllele, is_wobble
from pgx.naming import allele_key


@dataclass(frozen=True)
class CompiledAllele:
    index: int
    name: str
    reference: bool
    function: str | None
    activity: float | None
    tie_break_rank: int | None
    defined: np.ndarray  # (nP,) bool: listed at this position
    wobble: np.ndarray  # (nP,) bool: listed with a wobble code
    sort_key: tuple[int, tuple[tuple[int, int | str], ...]]


@dataclass(frozen=True, eq=False)
class CompiledGene:
    gene: Gene
    positions: tuple[int, ...]
    alleles: tuple[CompiledAllele, ...]
    reference: CompiledAllele
    accepts: tuple[dict[str, np.ndarray], ...]  # per position: base -> (nX,) bool of alleles accepting it
    position_index: dict[int, int]
    position_alleles: tuple[frozenset[str], ...]  # REF and ALTs as the definition writes them
    defined: np.ndarray  # (nX, nP) bool: allele lists the position
    wobble: np.ndarray  # (nX, nP) bool: allele lists the position with an IUPAC wobble code
    defined_at: tuple[tuple[str, ...], ...]  # per position: non-reference alleles listing it

    @property
    def name(self) -> str:
        return self.gene.gene

    def by_name(self, name: str) -> CompiledAllele:
        for a in self.alleles:
            if a.name == name:
                return a
        raise KeyError(name)

    def accept_matrix(self, values: tuple[str | None, ...]) -> np.ndarray:
        """(nX, nP) bool: does allele X accept the given base at each position."""
        out = np.zeros((len(self.alleles), len(self.positions)), dtype=bool)
        for j, v in enumerate(values):
            if v is not None:
                col = self.accepts[j].get(v)
                if col is not None:
                    out[:, j] = col
        return out


def _expand(allele: str, position_alleles: tuple[str, ...]) -> set[str]:
    if is_wobble(allele):
        bases = IUPAC[allele]
        return {a for a in position_alleles if len(a) == 1 and a in bases}
    return {allele}


def compile_gene(gene: Gene) -> CompiledGene:
    positions = tuple(p.position for p in gene.positions)
    pos_alleles = tuple((p.ref, *p.alts) for p in gene.positions)
    ignored = set(gene.quirks.ignored_alleles)
    named: list[NamedAllele] = [a for a in gene.named_alleles if a.name not in ignored]
    named.sort(key=lambda a: allele_key(a.name, a.reference))
    ref = next(a for a in named if a.reference)
    ref_default = []
    for j, p in enumerate(gene.positions):
        r = ref.alleles[p.position]
        ref_default.append({p.ref} if is_wobble(r) else _expand(r, pos_alleles[j]))
    n_x, n_p = len(named), len(positions)
    acc = [{a: np.zeros(n_x, dtype=bool) for a in pos_alleles[j]} for j in range(n_p)]
    compiled = []
    for i, a in enumerate(named):
        defined = np.zeros(n_p, dtype=bool)
        wobble = np.zeros(n_p, dtype=bool)
        for j, pos in enumerate(positions):
            listed = a.alleles.get(pos)
            if listed is None:
                ok = ref_default[j]
            else:
                defined[j] = True
                wobble[j] = is_wobble(listed)
                ok = _expand(listed, pos_alleles[j])
            for base in ok:
                acc[j][base][i] = True
        compiled.append(
            CompiledAllele(
                index=i,
                name=a.name,
                reference=a.reference,
                function=a.function,
                activity=a.activity_value,
                tie_break_rank=a.tie_break_rank,
                defined=defined,
                wobble=wobble,
                sort_key=allele_key(a.name, a.reference),
            )
        )
    defined_matrix = np.stack([a.defined for a in compiled]) if compiled else np.zeros((0, n_p), dtype=bool)
    defined_at = tuple(tuple(a.name for a in compiled if a.defined[j] and not a.reference) for j in range(n_p))
    wobble_matrix = np.stack([a.wobble for a in compiled]) if compiled else np.zeros((0, n_p), dtype=bool)
    return CompiledGene(
        gene=gene,
        wobble=wobble_matrix,
        defined=defined_matrix,
        defined_at=defined_at,
        positions=positions,
        alleles=tuple(compiled),
        reference=compiled[[a.reference for a in named].index(True)],
        accepts=tuple(acc),
        position_index={p: j for j, p in enumerate(positions)},
        position_alleles=tuple(frozenset(x) for x in pos_alleles),
    )


@functools.lru_cache(maxsize=128)
def compiled(kb: KnowledgeBase, name: str) -> CompiledGene:
    """Compiled definition of ``name``, built once per loaded knowledge base."""
    return compile_gene(kb.gene(name))
