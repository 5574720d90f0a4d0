"""How completely the rule base covers the guideline tables it was imported from.

Coverage is checked through the engine, not through provenance: for every CPIC/DPWG row the
row's own condition is turned into patients, the drug is evaluated, and the rules of that
source that decide the outcome are collected. A row is covered when exactly one rule decides
it and that rule was imported from the row (or, for a row the importer skipped as a
duplicate of another table, when one rule decides it). Anything else is listed with a reason,
so a curator sees which rows the rule base would answer differently from the table.
"""

from __future__ import annotations

import importlib.resources
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pgx.knowledge.loader import KnowledgeBase
from pgx.patient.state import GeneResult, PatientState
from pgx.rules.curation import CURATION_FILE, RulesCuration, load_curation
from pgx.rules.curator import condition_examples
from pgx.rules.engine import evaluate_drug
from pgx.rules.importer import SOURCES, ConditionMapper, SourceRow, excluded_rows, imported_rows, read_source_rows
from pgx.rules.loader import RuleBase
from pgx.rules.schema import LookupRule, WarfarinDosingRule

RowStatus = Literal["one_rule", "several_rules", "no_rule", "not_mapped", "other_rule", "excluded"]


@dataclass
class RowCoverage:
    row: SourceRow
    status: RowStatus
    rule_ids: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class CoverageReport:
    rows: list[RowCoverage]

    def counts(self, source: str) -> Counter[str]:
        return Counter(r.status for r in self.rows if r.row.source == source)

    def problems(self) -> list[RowCoverage]:
        return [r for r in self.rows if r.status != "one_rule"]


def _states(kb: KnowledgeBase, conditions: list, drug_rules: list[LookupRule]) -> list[PatientState]:
    """Patients meeting a row's condition; genes other rules of the drug need are left untested."""
    out = []
    for example in condition_examples(kb, conditions):
        genes = {g: GeneResult(gene=g, called=True, options=(o,)) for g, o in example.items() if o is not None}
        for g, o in example.items():
            if o is None:
                genes[g] = GeneResult(gene=g, called=False, reason="not tested in this guideline row")
        out.append(PatientState(sample="row", genes=genes))
    return out


def row_coverage(
    kb: KnowledgeBase, rb: RuleBase, row: SourceRow, mapper: ConditionMapper, imported: bool = True
) -> RowCoverage:
    """How the rule base decides one row; ``imported`` says whether rules were built from it."""
    algorithm = [r for r in rb.rules_for(row.drug) if isinstance(r, WarfarinDosingRule) and r.source == row.source]
    if algorithm:  # the dosing algorithm answers every row of its guideline
        return RowCoverage(row, "one_rule", [algorithm[0].id], ["dose_by_algorithm"])
    conditions = []
    for gene, pheno, geno in row.genes:
        mapped = mapper.map(gene, pheno, geno, row.source)
        if isinstance(mapped, str):
            return RowCoverage(row, "not_mapped", reason=mapped)
        conditions.extend(mapped)
    lookups = [r for r in rb.rules_for(row.drug) if isinstance(r, LookupRule) and r.source == row.source]
    if not lookups:
        return RowCoverage(row, "no_rule", reason=f"no {row.source} rule for {row.drug}")
    row_genes = {c.gene for c in conditions}
    fired: dict[str, str] = {}
    for state in _states(kb, conditions, lookups):
        outcome = evaluate_drug(rb, row.drug, state)
        for src in outcome.sources:
            if src.source != row.source or not row_genes & set(src.genes):
                continue
            for scenario in src.scenarios:
                for applied in scenario.rules:
                    fired[applied.rule_id] = applied.action
    if not fired:
        return RowCoverage(row, "no_rule", reason="no rule of this source fires for the row's condition")
    ids = sorted(fired)
    actions = [fired[i] for i in ids]
    if len(ids) > 1:
        return RowCoverage(
            row, "several_rules", ids, actions, reason="different rules decide different patients of this row"
        )
    rule = next(r for r in lookups if r.id == ids[0])
    prov = rule.provenance
    from_row = prov is not None and prov.table == row.table and row.row_id in prov.rows
    if not from_row and imported:
        return RowCoverage(row, "other_rule", ids, actions, reason=f"decided by {ids[0]}, imported from other rows")
    return RowCoverage(row, "one_rule", ids, actions)


def coverage(kb: KnowledgeBase, rb: RuleBase, data: Path) -> CoverageReport:
    curation = _curation(rb)
    mapper = ConditionMapper(kb, curation.file)
    rows = [r for r in read_source_rows(data) if r.source in SOURCES]
    chosen = {(r.table, r.row_id) for r in imported_rows(rows)}
    excluded = excluded_rows(curation.file)
    return CoverageReport(
        [
            RowCoverage(r, "excluded", reason=excluded[(r.table, r.row_id)])
            if (r.table, r.row_id) in excluded
            else row_coverage(kb, rb, r, mapper, (r.table, r.row_id) in chosen)
            for r in rows
        ]
    )


def _curation(rb: RuleBase) -> RulesCuration:
    """The curation the rule base was built with (aliases, Likely extension), when it is a folder."""
    folder = Path(rb.location)
    if (folder / CURATION_FILE).is_file():
        return load_curation(folder)
    bundled = importlib.resources.files("pgx.rules_base")
    if bundled.joinpath(CURATION_FILE).is_file():
        return load_curation(bundled, label="rules")
    return RulesCuration.empty()
