"""Evaluate the rule base for one patient and one drug.

Rules of one guideline source are grouped into independent recommendations: rules whose
genes overlap belong together (CPIC's amitriptyline CYP2D6 x CYP2C19 table is one
recommendation), rules on disjoint genes are separate ones (DPWG publishes clomipramine
for CYP2D6 and for CYP2C19 independently, and both apply). Within a group, every combination
of the patient's candidate diplotypes (ties) is
tried; in each, the most specific matching rules win (diplotype > allele status > activity
score > phenotype). If all combinations agree the outcome is definite; if they disagree the
outcome is ambiguous and each possibility is reported. A gene the rules need but that has
no result makes the drug "cannot assess" unless a rule covers the untested case.
"""

from __future__ import annotations

import functools
import itertools

from pgx.diplotype import Diplotype
from pgx.patient.state import GeneOption, PatientState
from pgx.rules.loader import RuleBase
from pgx.rules.outcome import LEVEL_OF_ACTION, AppliedRule, DrugOutcome, FlagLevel, Scenario, SourceOutcome
from pgx.rules.schema import ACTION_SEVERITY, GeneCondition, LookupRule, WarfarinDosingRule
from pgx.rules.warfarin import GENES as WARFARIN_GENES
from pgx.rules.warfarin import evaluate_warfarin


def _option_label(gene: str, opt: GeneOption) -> str:
    parts = [p for p in (opt.diplotype, opt.phenotype) if p]
    if opt.activity_score is not None:
        parts.append(f"activity score {opt.activity_score:g}")
    if opt.allele_status:
        parts.append(", ".join(f"{a} {'positive' if v else 'negative'}" for a, v in sorted(opt.allele_status.items())))
    label = " ".join(parts[:1]) + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")
    if opt.conversion is not None:
        label += f" [converted from {opt.conversion.genotype_phenotype} by {', '.join(opt.conversion.perpetrators)}]"
    return label or gene


def condition_holds(c: GeneCondition, opt: GeneOption | None) -> bool:
    if c.not_tested:
        return opt is None
    if opt is None:
        return False
    if c.by_comedication and opt.conversion is None:
        return False
    if c.phenotypes is not None:
        return opt.phenotype is not None and opt.phenotype.lower() in {p.lower() for p in c.phenotypes}
    if c.activity_score is not None:
        return opt.activity_score is not None and c.activity_score.contains(opt.activity_score)
    if c.allele_status is not None:
        return opt.allele_status.get(c.allele_status.allele) == c.allele_status.positive
    if c.diplotypes is not None:  # either order of the two alleles
        return (
            opt.diplotype is not None
            and opt.conversion is None
            and Diplotype.parse(opt.diplotype) in {Diplotype.parse(d) for d in c.diplotypes}
        )
    return False


def untyped(c: GeneCondition, opt: GeneOption | None) -> str | None:
    """Why a condition cannot be decided for this result (None when it can)."""
    if c.allele_status is not None and opt is not None and c.allele_status.allele not in opt.allele_status:
        return f"{c.gene}{c.allele_status.allele} not typed"
    return None


def applied(rule: LookupRule) -> AppliedRule:
    return AppliedRule(
        rule_id=rule.id,
        source=rule.source,
        action=rule.action,
        dose_factor=rule.dose_factor,
        dose_factor_range=rule.dose_factor_range,
        strength=rule.strength,
        alternatives=list(rule.alternatives),
        rationale=rule.rationale,
        citation=rule.citation,
    )


def rule_groups(rules: list[LookupRule]) -> list[list[LookupRule]]:
    """Split one drug's lookup rules into independent recommendations: same source, overlapping genes."""
    groups: list[tuple[str, set[str], list[LookupRule]]] = []
    for rule in rules:
        genes = {c.gene for c in rule.condition}
        joined = [g for g in groups if g[0] == rule.source and g[1] & genes]
        merged = (rule.source, genes.union(*(g[1] for g in joined)), [r for g in joined for r in g[2]] + [rule])
        groups = [g for g in groups if not any(g is j for j in joined)] + [merged]
    return [g[2] for g in sorted(groups, key=lambda g: (g[0], sorted(g[1])))]


def _lookup_source(
    source: str, rules: list[LookupRule], patient: PatientState, conflicts: list[str], rb: RuleBase | None = None
) -> SourceOutcome:
    genes = sorted({c.gene for r in rules for c in r.condition})
    results = {g: patient.result(g) for g in genes}
    choices = [list(enumerate(results[g].options)) if results[g].called else [(-1, None)] for g in genes]
    scenarios: list[Scenario] = []
    missing: set[str] = set()
    for combo in itertools.product(*choices):
        state = {g: opt for g, (_, opt) in zip(genes, combo, strict=True)}
        index = {g: i for g, (i, _) in zip(genes, combo, strict=True) if i >= 0}
        hits = [r for r in rules if all(condition_holds(c, state.get(c.gene)) for c in r.condition)]
        if not hits:
            gaps = {f"{g} not called ({results[g].reason})" for g, o in state.items() if o is None}
            gaps |= {why for r in rules for c in r.condition if (why := untyped(c, state.get(c.gene)))}
            gaps |= {
                f"{g} result is {o.phenotype}"
                for g, o in state.items()
                if o is not None and (o.phenotype or "").lower() == "indeterminate"
            }
            missing |= gaps
            labels = {g: _option_label(g, o) if o is not None else "no result" for g, o in sorted(state.items())}
            note = "; ".join(sorted(gaps)) if gaps else "no rule of this guideline covers this result"
            scenarios.append(Scenario.model_construct(genes=labels, rules=[], choice=index, note=note))
            continue
        best = max(r.specificity for r in hits)
        top = [r for r in hits if r.specificity == best]
        if len({r.action for r in top}) > 1:
            conflicts.append(f"{source}: " + " vs ".join(f"{r.id} ({r.action})" for r in top))
        used = {c.gene for r in top for c in r.condition}
        labels = {
            g: (_option_label(g, state[g]) if state[g] is not None else "no result")  # type: ignore[arg-type]
            for g in sorted(used)
        }
        made = [
            rb.cached(("applied", r.id), functools.partial(applied, r)) if rb is not None else applied(r) for r in top
        ]
        scenarios.append(Scenario.model_construct(genes=labels, rules=made, choice=index, note=None))
    decided = [s for s in scenarios if s.rules]
    if not decided:
        if missing:
            return SourceOutcome(source=source, genes=genes, status="cannot_assess", reason="; ".join(sorted(missing)))
        return SourceOutcome(
            source=source, genes=genes, status="no_rule", reason="no rule of this guideline covers the patient's result"
        )
    if len(decided) < len(scenarios):  # some tied candidates are covered, others not: never definite
        actions = {r.action for s in decided for r in s.rules}
        worst = min(actions, key=lambda a: ACTION_SEVERITY[a])
        return SourceOutcome(
            source=source,
            genes=genes,
            status="ambiguous",
            action=worst,
            scenarios=scenarios,
            reason="; ".join(sorted({s.note for s in scenarios if s.note})),
        )
    actions = {r.action for s in scenarios for r in s.rules}
    worst = min(actions, key=lambda a: ACTION_SEVERITY[a])
    distinct = {tuple(sorted(r.rule_id for r in s.rules)) for s in scenarios}
    status = "matched" if len(actions) == 1 else "ambiguous"
    if status == "matched" and len(distinct) == 1:
        scenarios = scenarios[:1]
    by_id = {r.id: r for r in rules}
    untested = sorted({c.gene for s in scenarios for a in s.rules for c in by_id[a.rule_id].condition if c.not_tested})
    reason = (
        "based on the other genes only: " + "; ".join(f"{g} not called ({results[g].reason})" for g in untested)
        if untested
        else None
    )
    return SourceOutcome(
        source=source,
        genes=genes,
        status=status,
        action=worst,
        scenarios=scenarios,
        partial=bool(untested),
        reason=reason,
    )


def result_key(patient: PatientState, genes: list[str]) -> tuple[object, ...]:
    """Everything of a patient a drug's outcome can depend on: its genes' results (and extra positions)."""
    key: list[object] = []
    for g in genes:
        r = patient.result(g)
        key.append(
            (
                g,
                r.called,
                r.reason,
                tuple(sorted(r.variants.items())),
                tuple(
                    (o.diplotype, o.phenotype, o.activity_score, tuple(sorted(o.allele_status.items())), o.conversion)
                    for o in r.options
                ),
            )
        )
    return tuple(key)


def evaluate_drug(rb: RuleBase, drug: str, patient: PatientState) -> DrugOutcome:
    """The drug's outcome for this patient; cohorts repeat results, so outcomes are reused per rule base."""
    rules = rb.rules_for(drug)
    if not rules:
        return DrugOutcome(drug=drug, level=FlagLevel.no_guideline)
    key = ("outcome", drug, result_key(patient, drug_genes(rb, drug)))
    return rb.cached(key, lambda: _evaluate_drug(rb, drug, patient))


def drug_genes(rb: RuleBase, drug: str) -> list[str]:
    """Every gene whose result a drug's rules read (the warfarin algorithm's too)."""
    rules = rb.rules_for(drug)
    return rb.cached(
        ("all_genes", drug),
        lambda: sorted(
            {c.gene for r in rules if isinstance(r, LookupRule) for c in r.condition}
            | (set(WARFARIN_GENES) if any(isinstance(r, WarfarinDosingRule) for r in rules) else set())
        ),
    )


def _evaluate_drug(rb: RuleBase, drug: str, patient: PatientState) -> DrugOutcome:
    rules = rb.rules_for(drug)
    if not rules:
        return DrugOutcome(drug=drug, level=FlagLevel.no_guideline)
    outcomes: list[SourceOutcome] = []
    conflicts: list[str] = []
    for rule in rules:
        if isinstance(rule, WarfarinDosingRule):
            outcomes.append(evaluate_warfarin(rule, patient))
    groups = rb.cached(("groups", drug), lambda: rule_groups([r for r in rules if isinstance(r, LookupRule)]))
    for group in groups:
        outcomes.append(_lookup_source(group[0].source, group, patient, conflicts, rb))
    missing = [f"{o.source} ({', '.join(o.genes)}): {o.reason}" for o in outcomes if o.status == "cannot_assess"]
    return DrugOutcome(
        drug=drug,
        level=_level(outcomes),
        action=_summary_action(outcomes),
        genes=drug_genes(rb, drug),
        sources=outcomes,
        conflicts=conflicts,
        not_assessed=missing,
    )


def _level(outcomes: list[SourceOutcome]) -> FlagLevel:
    levels: list[FlagLevel] = []
    for o in outcomes:
        if o.status == "cannot_assess":
            levels.append(FlagLevel.cannot_assess)
        elif o.status == "no_rule":
            levels.append(FlagLevel.no_guideline)
        else:
            level = LEVEL_OF_ACTION[o.action or "insufficient_evidence"]
            uncertain = o.status == "ambiguous" or o.partial  # tied results, or a gene the rule had to skip
            levels.append(FlagLevel.caution if uncertain and level is FlagLevel.standard else level)
    assessed = [lv for lv in levels if lv not in (FlagLevel.cannot_assess, FlagLevel.no_guideline)]
    if assessed:
        worst = min(assessed, key=lambda lv: lv.caution_rank)
        # A recommendation that could not be assessed (HLA-B not typed for phenytoin, TPMT not called
        # for a thiopurine) may hide a contraindication: the drug is never "standard" or "caution" then.
        if FlagLevel.cannot_assess in levels and worst.caution_rank > FlagLevel.cannot_assess.caution_rank:
            return FlagLevel.cannot_assess
        return worst
    return FlagLevel.cannot_assess if FlagLevel.cannot_assess in levels else FlagLevel.no_guideline


def _summary_action(outcomes: list[SourceOutcome]) -> str | None:
    actions = [o.action for o in outcomes if o.action]
    return min(actions, key=lambda a: ACTION_SEVERITY[a]) if actions else None


def evaluate(rb: RuleBase, patient: PatientState, drugs: list[str] | None = None) -> list[DrugOutcome]:
    """Outcomes for the given drugs (all drugs of the rule base by default), most severe first."""
    names = drugs if drugs is not None else rb.drugs
    out = [evaluate_drug(rb, d, patient) for d in names]
    return sorted(out, key=lambda o: (o.level.report_rank, o.drug))
