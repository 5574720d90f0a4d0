"""Rules derived from the imported ones: class-wide copies, reference-phenotype rules, phenotype
rules for score-keyed guidelines, and alternatives that the same genotype rules out."""

from __future__ import annotations

from collections import defaultdict

from pgx.knowledge.loader import KnowledgeBase
from pgx.phenotype.phenotyper import phenotype_from_score
from pgx.rules.curator import condition_examples
from pgx.rules.engine import condition_holds, rule_groups
from pgx.rules.importer.conditions import known_phenotypes
from pgx.rules.importer.wording import ACTION_WORDS, describe_condition, slug
from pgx.rules.schema import ACTION_SEVERITY, GeneCondition, LookupRule, Provenance

RulesByDrug = dict[str, dict[str, LookupRule]]


def class_wide_copy(rule: LookupRule, alias: str, like: str) -> LookupRule:
    """``like``'s rule for ``alias``, a drug its class-wide guideline covers but the tables do not list."""
    return rule.model_copy(
        update={
            "id": alias + rule.id[len(like) :],
            "drugs": [alias],
            "guideline": (rule.guideline or "").replace(like, alias) or None,
            "rationale": rule.rationale.replace(like, alias),
            "alternatives": [a for a in rule.alternatives if a != alias],
            "provenance": Provenance(
                table=rule.provenance.table if rule.provenance else "curation",
                rows=rule.provenance.rows if rule.provenance else [],
                note=f"class-wide guideline: the rule of {like}",
            ),
        }
    )


def reference_rules(kb: KnowledgeBase, rules: list[LookupRule], reference: dict[str, list[str]]) -> list[LookupRule]:
    """Explicit "no action" rules for a source's reference phenotype.

    DPWG tables list only the phenotypes it assessed; the normal phenotype is the reference the
    others are compared against, and the guideline means "no action" for it. Writing that as a
    rule makes the report say "standard dosing (DPWG reference)" instead of "no guideline", and
    keeps the decision visible and editable in the YAML.
    """
    out: list[LookupRule] = []
    for group in rule_groups(rules):
        first = group[0]
        names = reference.get(first.source, [])
        single = sorted({r.condition[0].gene for r in group if len(r.condition) == 1})
        for gene in single if names else []:
            if gene not in kb.genes:
                continue
            known = {p.lower(): p for p in known_phenotypes(kb.gene(gene))}
            covered = {
                p.lower()
                for r in group
                if len(r.condition) == 1 and r.condition[0].gene == gene
                for p in (r.condition[0].phenotypes or [])
            }
            missing = [known[n.lower()] for n in names if n.lower() in known and n.lower() not in covered]
            if missing:
                out.append(_reference_rule(first, gene, missing))
    return out


def _reference_rule(first: LookupRule, gene: str, missing: list[str]) -> LookupRule:
    cond = GeneCondition(gene=gene, phenotypes=missing)
    return first.model_copy(
        update={
            "id": f"{first.drugs[0]}.{first.source.lower()}.{slug(cond)}",
            "condition": [cond],
            "action": "standard_dosing",
            "dose_factor": None,
            "dose_factor_range": None,
            "strength": None,
            "alternatives": [],
            "rationale": f"{gene} {missing[0]}: the {first.source} reference phenotype; "
            "the guideline lists no action for it.",
            "provenance": Provenance(
                table=first.provenance.table if first.provenance else "curation",
                note=f"{first.source} reference phenotype (rules/curation.yaml reference_phenotypes)",
            ),
        }
    )


def _score(r: LookupRule) -> float:
    s = r.condition[0].activity_score
    return (s.min or 0.0) if s is not None else 0.0


def score_dependent_phenotype_rules(kb: KnowledgeBase, rules: list[LookupRule]) -> list[LookupRule]:
    """Phenotype rules for guidelines keyed by activity score, safe for a result without a score.

    A VCF call always carries the score, and the score rules win by specificity. A phenotype
    alone (an outside call, a phenoconverted score between the guideline's grid points) cannot
    tell meloxicam's score 1 (halve the dose) from 1.5 (standard), so its rule takes the more
    cautious of the score rules' actions; where the guideline has score rules only (DPWG's
    fluoropyrimidines, CPIC phenytoin), such a phenotype rule is added.
    """
    out: list[LookupRule] = []
    scored: dict[tuple[str, str], list[LookupRule]] = defaultdict(list)
    for r in rules:
        c = r.condition[0]
        if len(r.condition) == 1 and c.activity_score is not None and c.activity_score.min is not None:
            scored[(r.source, c.gene)].append(r)
    for (source, gene_name), score_rules in scored.items():
        if gene_name not in kb.genes or kb.gene(gene_name).phenotyping.method != "activity_score":
            continue
        gene = kb.gene(gene_name)
        by_phenotype: dict[str, list[LookupRule]] = defaultdict(list)
        for r in score_rules:
            by_phenotype[phenotype_from_score(gene, _score(r))].append(r)
        for phenotype, refined in by_phenotype.items():
            if phenotype == gene.phenotyping.indeterminate:
                continue
            rule = _phenotype_rule(rules, source, gene_name, phenotype, refined)
            if rule is not None:
                out.append(rule)
    return out


def _phenotype_rule(
    rules: list[LookupRule], source: str, gene_name: str, phenotype: str, refined: list[LookupRule]
) -> LookupRule | None:
    """The phenotype's rule taking the most cautious of its score rules (None when they all agree with it)."""
    existing = [
        r
        for r in rules
        if r.source == source
        and len(r.condition) == 1
        and r.condition[0].gene == gene_name
        and r.condition[0].phenotypes is not None
        and phenotype.lower() in {p.lower() for p in r.condition[0].phenotypes}
    ]
    base = existing[0] if existing else None
    if base is not None and {r.action for r in refined} == {base.action}:
        return None
    worst = min([*([base] if base else []), *refined], key=lambda r: ACTION_SEVERITY[r.action])
    by_score = "; ".join(
        f"{describe_condition(r.condition[0]).split(' ', 1)[1]}: {ACTION_WORDS[r.action]}"
        for r in sorted(refined, key=_score)
    )
    cond = base.condition[0] if base else GeneCondition(gene=gene_name, phenotypes=[phenotype])
    template = base or worst
    prov = template.provenance
    return template.model_copy(
        update={
            "id": base.id if base else f"{worst.drugs[0]}.{source.lower()}.{slug(cond)}",
            "condition": [cond],
            "action": worst.action,
            "dose_factor": worst.dose_factor,
            "dose_factor_range": worst.dose_factor_range,
            "alternatives": worst.alternatives,
            "rationale": f"{describe_condition(cond)} without an activity score: {source} advice depends on the "
            f"score ({by_score}); the more cautious applies.",
            "provenance": Provenance(
                table=prov.table if prov else "curation",
                rows=(prov.rows if base and prov else []),
                note="action from the activity-score rules (a phenotype alone cannot choose)",
            ),
        }
    )


def drop_unsafe_alternatives(kb: KnowledgeBase, by_drug: RulesByDrug) -> None:
    """Remove alternatives that the same genotype would also make contraindicated or avoided.

    Guideline texts name drugs in warnings as well as in advice ("carbamazepine is therefore
    not an alternative"), so a drug named in the text is only kept as an alternative if, for a
    patient who meets this rule's condition, no rule of that drug says avoid it.
    """
    for rules_by_id in by_drug.values():
        for rid, rule in list(rules_by_id.items()):
            if not rule.alternatives:
                continue
            states = condition_examples(kb, rule.condition)
            keep = []
            for alt in rule.alternatives:
                alt_rules = list(by_drug.get(alt, {}).values())
                flagged = any(
                    r.action in ("contraindicated", "avoid")
                    and all(condition_holds(c, st.get(c.gene)) for c in r.condition)
                    for r in alt_rules
                    for st in states
                )
                if not flagged:
                    keep.append(alt)
            if keep != rule.alternatives:
                rules_by_id[rid] = rule.model_copy(update={"alternatives": keep})
