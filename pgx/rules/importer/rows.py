"""One source row -> one ``LookupRule``: its conditions, action, dose, citation, alternatives,
strength and rationale, then the curated overrides that correct it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pgx.knowledge.loader import KnowledgeBase
from pgx.rules.curation import RulesCuration
from pgx.rules.importer.classification import classify_action, curated_strength, dose_fraction, named_alternatives
from pgx.rules.importer.conditions import ConditionMapper
from pgx.rules.importer.sources import PYPGX_TABLE, SourceRow, read_citations
from pgx.rules.importer.usage import CurationUse
from pgx.rules.importer.wording import rationale, slug
from pgx.rules.schema import Citation, GeneCondition, LookupRule, Provenance


@dataclass
class ImportLog:
    unmapped: list[tuple[SourceRow, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@dataclass
class Builder:
    kb: KnowledgeBase
    data: Path
    curation: RulesCuration
    roles: dict[tuple[str, str], str]
    log: ImportLog = field(default_factory=ImportLog)
    use: CurationUse = field(default_factory=CurationUse)

    def __post_init__(self) -> None:
        self.mapper = ConditionMapper(self.kb, self.curation.file)
        self.citations = read_citations(self.data)
        self.known_drugs = {d for d, _ in self.citations} | {d for d, _ in self.roles}

    def citation(self, row: SourceRow) -> Citation:
        if row.source == "CPIC":
            for gene, _, _ in row.genes:
                c = self.citations.get((row.drug, gene))
                if c is not None and c.url:
                    return c
        key = f"{row.source} {row.drug}"
        curated = self.curation.file.citations.get(key)
        if curated is not None:
            self.use.citations.add(key)
            return curated
        url = f"https://www.pharmgkb.org/guidelineAnnotation/{row.annotation}" if row.annotation else None
        return Citation(url=url, annotation=row.annotation)

    def alternatives(self, row: SourceRow, action: str) -> list[str]:
        if action not in ("contraindicated", "avoid"):
            return []
        named = named_alternatives(row.text, row.drug, self.known_drugs)
        curated = self.curation.file.alternatives.get(row.drug)
        if curated is not None:
            self.use.alternatives.add(row.drug)
        return list(dict.fromkeys(named + list(curated or [])))

    def strength(self, drug: str, source: str, genes: list[str], action: str) -> str | None:
        found = curated_strength(self.curation.file.strengths, drug, source, genes, action)
        if found is None:
            return None
        self.use.strengths.add(found[0])
        return found[1]

    def conditions(self, row: SourceRow) -> list[GeneCondition] | None:
        """The row's gene columns as conditions; None (and logged) when one cannot be mapped."""
        conditions: list[GeneCondition] = []
        for gene, pheno, geno in row.genes:
            mapped = self.mapper.map(gene, pheno, geno, row.source)
            if isinstance(mapped, str):
                self.log.unmapped.append((row, mapped))
                return None
            conditions.extend(mapped)
        return conditions

    def rule(self, row: SourceRow) -> LookupRule | None:
        """The rule the row says, as classified from its text (before curated overrides)."""
        conditions = self.conditions(row)
        if conditions is None:
            return None
        action = classify_action(row.text)
        dosed = action in ("reduce_dose", "increase_dose", "avoid")
        dose, dose_range = dose_fraction(row.text) if dosed else (None, None)
        genes = [c.gene for c in conditions]
        rid = f"{row.drug}.{row.source.lower()}." + "+".join(slug(c) for c in sorted(conditions, key=lambda c: c.gene))
        return LookupRule(
            id=rid,
            drugs=[row.drug],
            source=row.source,
            guideline=f"{row.source} {row.drug} and {', '.join(sorted({g for g, _, _ in row.genes}))}",
            version=(
                "PyPGx recommendation table" if row.table == PYPGX_TABLE else "PharmGKB annotation (PAnno 0.3.1, 2022)"
            ),
            citation=self.citation(row),
            condition=conditions,
            action=action,
            dose_factor=dose,
            dose_factor_range=dose_range,
            strength=self.strength(row.drug, row.source, genes, action),
            alternatives=self.alternatives(row, action),
            rationale=rationale(row.drug, row.source, conditions, action, dose, self.roles),
            provenance=Provenance(table=row.table, rows=[row.row_id]),
        )

    def corrected(self, rule: LookupRule, row: SourceRow) -> LookupRule:
        """The rule with every override that applies to it, in order (curation.yaml's, then the files').

        When an override changes the action or dose but not the rationale, the rationale is
        written again for the new action.
        """
        fixed = rule
        for i, o in enumerate(self.curation.overrides):
            if o.value.applies_to(fixed):
                self.use.overrides.add(i)
                fixed = fixed.model_copy(update=o.value.set.updates())
        if fixed.rationale == rule.rationale and (fixed.action, fixed.dose_factor) != (rule.action, rule.dose_factor):
            text = rationale(row.drug, row.source, fixed.condition, fixed.action, fixed.dose_factor, self.roles)
            fixed = fixed.model_copy(update={"rationale": text})
        return fixed
