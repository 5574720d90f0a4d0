"""``build_rules``: the source rows and the curation -> one ``RuleFile`` per drug."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from pgx.knowledge.loader import KnowledgeBase
from pgx.rules.curation import RulesCuration
from pgx.rules.importer.derived import (
    RulesByDrug,
    class_wide_copy,
    drop_unsafe_alternatives,
    reference_rules,
    score_dependent_phenotype_rules,
)
from pgx.rules.importer.rows import Builder, ImportLog
from pgx.rules.importer.sources import SourceRow, excluded_rows, imported_rows, read_source_rows
from pgx.rules.importer.usage import CurationUse, refuse_unmatched
from pgx.rules.schema import Citation, LookupRule, Provenance, RuleFile, WarfarinDosingRule


def build_rules(
    kb: KnowledgeBase, data: Path, curation: RulesCuration, roles: dict[tuple[str, str], str]
) -> tuple[dict[str, RuleFile], ImportLog, list[SourceRow]]:
    """Rules from the tables' rows, corrected and completed by the curation; also the log and the rows read.

    A curation entry that matches no rule or no source row is a RuleError at its file and line.
    """
    rows = read_source_rows(data)
    builder = Builder(kb, data, curation, roles)
    excluded = excluded_rows(curation.file)
    chosen = [r for r in imported_rows(rows) if (r.table, r.row_id) not in excluded]
    by_drug = rules_from_rows(builder, chosen)
    add_class_wide_copies(by_drug, curation.file.same_rules_as, builder.use)
    add_curated_rules(by_drug, curation)
    add_reference_rules(kb, by_drug, curation, builder.use)
    for rules_by_id in by_drug.values():
        for rule in score_dependent_phenotype_rules(kb, list(rules_by_id.values())):
            rules_by_id[rule.id] = rule
    drop_unsafe_alternatives(kb, by_drug)
    refuse_unmatched(curation, rows, builder.use)
    files: dict[str, RuleFile] = {}
    warfarin_cite = builder.citations.get(("warfarin", "CYP2C9"), Citation())
    for drug in sorted(set(by_drug) | {"warfarin"}):
        rules: list[LookupRule | WarfarinDosingRule] = list(by_drug.get(drug, {}).values())
        if drug == "warfarin":
            rules.insert(0, warfarin_rule(curation, warfarin_cite))
        files[drug] = RuleFile(drug=drug, rules=rules)
    return files, builder.log, rows


def rules_from_rows(builder: Builder, rows: list[SourceRow]) -> RulesByDrug:
    """drug -> rule id -> rule, in row order; rows giving the same rule id are merged into its provenance."""
    by_drug: RulesByDrug = defaultdict(dict)
    for row in rows:
        if row.drug == "warfarin" and row.source == "CPIC":
            continue  # the dosing algorithm rule covers CPIC warfarin
        imported = builder.rule(row)
        if imported is None:
            continue
        rule = builder.corrected(imported, row)
        rules_by_id = by_drug[row.drug]
        existing = rules_by_id.get(rule.id)
        if existing is None:
            rules_by_id[rule.id] = rule
            continue
        if existing.action != rule.action:
            first_rows = existing.provenance.rows if existing.provenance else ""
            builder.log.conflicts.append(
                f"{rule.id}: {existing.action} ({first_rows}) "
                f"vs {rule.action} ({row.table} {row.row_id}); kept the first"
            )
        prov = existing.provenance
        if prov is not None:
            merged = Provenance(table=prov.table, rows=[*prov.rows, row.row_id], note=prov.note)
            rules_by_id[rule.id] = existing.model_copy(update={"provenance": merged})
    return by_drug


def add_class_wide_copies(by_drug: RulesByDrug, same_rules_as: dict[str, str], use: CurationUse) -> None:
    """Drugs a class-wide guideline covers but the tables do not list get the rules of the named drug."""
    for alias, like in same_rules_as.items():
        for rule in list(by_drug.get(like, {}).values()):
            copy = class_wide_copy(rule, alias, like)
            by_drug[alias][copy.id] = copy
            use.same_rules_as.add(alias)


def add_curated_rules(by_drug: RulesByDrug, curation: RulesCuration) -> None:
    """curation.yaml's ``added_rules``; one with the id of an imported rule is refused (use an override)."""
    for i, rule in enumerate(curation.file.added_rules):
        for drug in rule.drugs:
            if rule.id in by_drug.get(drug, {}):
                raise curation.at("added_rules", i).error(
                    f"added rule {rule.id!r} has the id of an imported rule; change that rule with an override"
                )
            by_drug[drug][rule.id] = rule


def add_reference_rules(kb: KnowledgeBase, by_drug: RulesByDrug, curation: RulesCuration, use: CurationUse) -> None:
    """Explicit standard-dosing rules for each source's reference phenotypes (where no rule covers them)."""
    reference: dict[str, list[str]] = {source: names for source, names in curation.file.reference_phenotypes.items()}
    for rules_by_id in by_drug.values():
        for rule in reference_rules(kb, list(rules_by_id.values()), reference):
            if rule.id not in rules_by_id:
                rules_by_id[rule.id] = rule
                use.reference_phenotypes.update((rule.source, p.lower()) for p in rule.condition[0].phenotypes or [])


def warfarin_rule(curation: RulesCuration, citation: Citation) -> WarfarinDosingRule:
    """CPIC's warfarin flowchart as its own rule kind, from curation.yaml's ``warfarin``."""
    w = curation.file.warfarin
    if w is None:
        raise curation.at().error("warfarin: missing; the CPIC warfarin dosing rule is built from it")
    return WarfarinDosingRule(
        id="warfarin.cpic.dosing-algorithm",
        drugs=["warfarin"],
        source="CPIC",
        guideline="CPIC warfarin and CYP2C9, VKORC1, CYP4F2, rs12777823",
        version="2017 update",
        citation=citation,
        algorithms=list(w.algorithms),
        cyp4f2_increase=list(w.cyp4f2_increase),
        african_cyp2c9_decrease=list(w.african_cyp2c9_decrease),
        african_cyp2c9_alleles=list(w.african_cyp2c9_alleles),
        african_rs12777823_decrease=list(w.african_rs12777823_decrease),
        rs12777823_position=w.rs12777823_position,
        rationale="CYP2C9 and VKORC1 change warfarin dose requirements; CPIC: compute the starting dose with a "
        "validated pharmacogenetic algorithm, then adjust for CYP4F2*3 or, in African ancestry, for "
        "CYP2C9*5/*6/*8/*11 and rs12777823.",
    )
