"""A source row's gene columns (phenotype, diplotype, score or genotype wording) -> ``GeneCondition``s."""

from __future__ import annotations

import re

from pgx.diplotype import Diplotype
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import Gene, ScoreRange
from pgx.naming import allele_key
from pgx.rules.curation import PhenotypeCriterion, RulesCurationFile
from pgx.rules.schema import AlleleStatus, GeneCondition

HLA = re.compile(r"(HLA-[AB])\*(\d+:\d+)\s+(positive|negative)", re.I)
ACTIVITY = re.compile(r"^(?:Activity Score|DPD AS|AS)\s*([\d.]+)$", re.I)
DIPLOTYPE = re.compile(r"^\*\w+/\*\w+$")
RS_GENOTYPE = re.compile(r"^(rs\d+)\s+([ACGT])([ACGT])$")


def known_phenotypes(gene: Gene) -> set[str]:
    """Every phenotype name the knowledge base can give the gene."""
    ph = gene.phenotyping
    out = {r.phenotype for r in ph.function_pairs} | {r.phenotype for r in ph.score_ranges}
    out |= set(ph.haplotype_phenotypes.values())
    out.add(ph.indeterminate)
    return out


class ConditionMapper:
    """Maps a source's (gene, phenotype, genotype) wording onto pgx knowledge."""

    def __init__(self, kb: KnowledgeBase, curation: RulesCurationFile | None = None) -> None:
        curation = curation or RulesCurationFile()
        self.kb = kb
        self.aliases: dict[str, dict[str, PhenotypeCriterion]] = curation.phenotype_aliases
        self.prefixes: dict[str, dict[str, PhenotypeCriterion]] = curation.phenotype_prefixes
        self.not_covered = set(curation.not_covered_genes)
        self.likely_sources: set[str] = set(curation.likely_phenotypes_for)

    def phenotypes(self, gene: Gene) -> set[str]:
        return known_phenotypes(gene)

    def _known(self, gene: Gene, text: str) -> list[str] | None:
        by_lower = {p.lower(): p for p in known_phenotypes(gene)}
        parts = [p.strip() for p in re.split(r";\s*", text) if p.strip()]
        found = [by_lower.get(p.lower()) for p in parts]
        return [f for f in found if f is not None] if parts and all(found) else None

    def _single_variant(self, gene: Gene, genotypes: list[str]) -> list[str] | None:
        """'rs9923231 CT' -> the diplotype name of the two alleles carrying C and T."""
        if len(gene.positions) != 1:
            return None
        pos = gene.positions[0].position
        by_base = {a.alleles[pos]: a for a in gene.named_alleles if pos in a.alleles}
        out = []
        for g in genotypes:
            m = RS_GENOTYPE.match(g.strip())
            if not m or m.group(2) not in by_base or m.group(3) not in by_base:
                return None
            pair = sorted((by_base[m.group(2)], by_base[m.group(3)]), key=lambda a: allele_key(a.name, a.reference))
            out.append("/".join(a.name for a in pair))
        return out

    def _alias(self, gene_name: str, phenotype: str) -> PhenotypeCriterion | None:
        """The curated meaning of the wording: an exact alias, else the last prefix it starts with."""
        alias = (self.aliases.get(gene_name) or {}).get(phenotype)
        if alias is None:
            for prefix, crit in (self.prefixes.get(gene_name) or {}).items():
                if phenotype.startswith(prefix):
                    alias = crit
        return alias

    def map(self, gene_name: str, phenotype: str, genotype: str, source: str = "CPIC") -> list[GeneCondition] | str:
        """Conditions for one source gene column, or a reason it cannot be mapped."""
        if gene_name in self.not_covered:
            return f"gene {gene_name} is not covered by pgx"
        if phenotype == "None":
            return [GeneCondition(gene=gene_name, not_tested=True)]
        hla = HLA.findall(phenotype)
        if hla:
            return [
                GeneCondition(
                    gene=g.upper(), allele_status=AlleleStatus(allele=f"*{a}", positive=s.lower() == "positive")
                )
                for g, a, s in hla
            ]
        if gene_name not in self.kb.genes:
            return f"gene {gene_name} is not in the knowledge base"
        gene = self.kb.gene(gene_name)
        alias = self._alias(gene_name, phenotype)
        if alias is not None:
            return [GeneCondition(gene=gene_name, **alias.criteria())]
        m = ACTIVITY.match(phenotype) or ACTIVITY.match(genotype)
        if m and gene.phenotyping.method == "activity_score":
            score = float(m.group(1))
            return [GeneCondition(gene=gene_name, activity_score=ScoreRange(min=score, max=score))]
        if genotype.startswith("rs"):
            dips = self._single_variant(gene, re.split(r";\s*", genotype))
            if dips:
                return [GeneCondition(gene=gene_name, diplotypes=dips)]
        return self._by_name(gene, gene_name, phenotype, source)

    def _by_name(self, gene: Gene, gene_name: str, phenotype: str, source: str) -> list[GeneCondition] | str:
        """Diplotype names ('*1/*2 or *1/*3') or phenotype names of the knowledge base."""
        dips = [d.strip() for d in re.split(r"\s+or\s+|;\s*", phenotype)]
        if all(DIPLOTYPE.match(d) for d in dips):
            names = {a.name for a in gene.named_alleles}
            unknown = [h for d in dips for h in Diplotype.parse(d).haplotypes if h not in names]
            if unknown:
                return f"{gene_name} alleles {unknown} are not in the knowledge base"
            return [GeneCondition(gene=gene_name, diplotypes=dips)]
        known = self._known(gene, phenotype)
        if known:
            if source in self.likely_sources:
                likely = {p.lower(): p for p in known_phenotypes(gene) if p.startswith("Likely ")}
                known += [likely[f"likely {p.lower()}"] for p in known if f"likely {p.lower()}" in likely]
            return [GeneCondition(gene=gene_name, phenotypes=known)]
        return f"{gene_name} phenotype {phenotype!r} matches nothing in the knowledge base"
