"""Nothing in the curation goes unused: an entry that matches no rule or no source row fails the build.

The builder records which entries it applied (:class:`CurationUse`); :func:`refuse_unmatched`
then checks every keyed entry of curation.yaml and of the overrides files against that record
and against the source rows, and names the file and line of the first entry left over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pgx.rules.curation import RulesCuration
from pgx.rules.importer.sources import SourceRow
from pgx.yamlio import Located

Unmatched = tuple[Located[Any], str]


@dataclass
class CurationUse:
    """Which curation entries a build applied."""

    overrides: set[int] = field(default_factory=set)  # positions in RulesCuration.overrides
    citations: set[str] = field(default_factory=set)
    alternatives: set[str] = field(default_factory=set)
    strengths: set[int] = field(default_factory=set)
    same_rules_as: set[str] = field(default_factory=set)
    reference_phenotypes: set[tuple[str, str]] = field(default_factory=set)  # (source, phenotype in lower case)


def _applied(curation: RulesCuration, use: CurationUse) -> list[Unmatched]:
    """Entries the build consults while making rules, that it never applied."""
    cur, at = curation.file, curation.at
    out: list[Unmatched] = [
        (o, f"{o.value.describe()} matches no imported rule")
        for i, o in enumerate(curation.overrides)
        if i not in use.overrides
    ]
    out += [
        (at("same_rules_as", alias), f"same_rules_as {alias}: {like} has no rules to copy")
        for alias, like in cur.same_rules_as.items()
        if alias not in use.same_rules_as
    ]
    out += [
        (at("citations", key), f"citation {key!r} is used by no rule (no such row, or its table gives a citation)")
        for key in cur.citations
        if key not in use.citations
    ]
    out += [
        (at("alternatives", drug), f"alternatives of {drug}: no imported {drug} rule says avoid or do not use")
        for drug in cur.alternatives
        if drug not in use.alternatives
    ]
    out += [
        (at("strengths", i), f"strength of {s.source} {s.drug} {s.gene} is given to no rule")
        for i, s in enumerate(cur.strengths)
        if i not in use.strengths
    ]
    out += [
        (at("reference_phenotypes", source, j), f"{source} reference phenotype {name!r} adds no rule")
        for source, names in cur.reference_phenotypes.items()
        for j, name in enumerate(names)
        if (source, name.lower()) not in use.reference_phenotypes
    ]
    return out


def _unread(curation: RulesCuration, rows: list[SourceRow]) -> list[Unmatched]:
    """Entries about source rows or their wording that no source row has."""
    cur, at = curation.file, curation.at
    row_ids = {(r.table, r.row_id) for r in rows}
    wordings = {(gene, phenotype) for r in rows for gene, phenotype, _ in r.genes}
    genes = {gene for gene, _ in wordings}
    out: list[Unmatched] = [
        (at("excluded_rows", i), f"excluded row {e.table} {e.row} is not a row of the source tables")
        for i, e in enumerate(cur.excluded_rows)
        if (e.table, e.row) not in row_ids
    ]
    out += [
        (at("phenotype_aliases", gene, text), f"phenotype alias {gene} {text!r}: no source row has this wording")
        for gene, aliases in cur.phenotype_aliases.items()
        for text in aliases
        if (gene, text) not in wordings
    ]
    out += [
        (
            at("phenotype_prefixes", gene, prefix),
            f"phenotype prefix {gene} {prefix!r}: no source row's wording starts so",
        )
        for gene, prefixes in cur.phenotype_prefixes.items()
        for prefix in prefixes
        if not any(g == gene and p.startswith(prefix) for g, p in wordings)
    ]
    out += [
        (at("not_covered_genes", i), f"not covered gene {gene}: no source row names it")
        for i, gene in enumerate(cur.not_covered_genes)
        if gene not in genes
    ]
    return out


def unmatched_entries(curation: RulesCuration, rows: list[SourceRow], use: CurationUse) -> list[Unmatched]:
    """Every curation entry that matched no rule or no source row, with what is wrong with it."""
    return _applied(curation, use) + _unread(curation, rows)


def refuse_unmatched(curation: RulesCuration, rows: list[SourceRow], use: CurationUse) -> None:
    """A RuleError at the first entry (by file and line) that matched nothing, listing the others' file:line."""
    left = unmatched_entries(curation, rows, use)
    if not left:
        return
    placed = sorted(((entry.document.path, *entry.position()), i) for i, (entry, _) in enumerate(left))
    first, message = left[placed[0][1]]
    rest = [f"{path}:{line}" for (path, line, _), _ in placed[1:]]
    more = f" (and {len(rest)} more: {', '.join(rest)})" if rest else ""
    raise first.error(f"{message}; remove the entry or correct it{more}")
