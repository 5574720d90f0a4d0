"""The flag decision: for one patient, one flag per drug, with its evidence and alternatives.

Gene calls -> phenoconversion (co-medications) -> rules -> flag. Ambiguity travels through:
tied diplotypes that lead to different actions are separate scenarios, and a gene that was not
called makes its drugs "cannot assess" rather than "standard". Two policies sit on top of the
rule engine: a medication the patient takes is judged without the conversion it causes itself,
and co-medication never leaves a flag less cautious than the genotype alone.
"""

from __future__ import annotations

import networkx as nx

from pgx.flags.models import DrugFlag
from pgx.graph import EvidenceStep, atypical_genes, evidence_path, graph_for
from pgx.graph import alternatives as graph_alternatives
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import GuidelineLink
from pgx.patient.conversion import apply_medications
from pgx.patient.state import PatientState
from pgx.rules.engine import drug_genes, evaluate, result_key
from pgx.rules.loader import RuleBase
from pgx.rules.outcome import DrugOutcome, FlagLevel
from pgx.rules.schema import ACTION_SEVERITY, LookupRule


def flag_drug(
    kb: KnowledgeBase, rb: RuleBase, state: PatientState, outcome: DrugOutcome, atypical: frozenset[str] | None = None
) -> DrugFlag:
    """The outcome (``evaluate_drug`` of this state) with its evidence and alternatives.

    A cohort repeats results, so patients with the same results for the drug's genes (and the
    same atypical genes, which decide the alternatives) share one flag.
    """
    g = graph_for(kb, rb)
    flagged = outcome.level.actionable  # only these are offered alternatives
    atypical = (atypical_genes(state) if atypical is None else atypical) if flagged else None
    key = ("flag", outcome.drug, kb.location, kb.version, result_key(state, drug_genes(rb, outcome.drug)), atypical)
    return rb.cached(key, lambda: _flag_drug(g, rb, state, outcome, atypical))


def _flag_drug(
    g: nx.MultiDiGraph, rb: RuleBase, state: PatientState, outcome: DrugOutcome, atypical: frozenset[str] | None
) -> DrugFlag:
    rules = {r.id: r for r in rb.rules_for(outcome.drug) if isinstance(r, LookupRule)}
    named: list[str] = []
    evidence: list[list[EvidenceStep]] = []
    for src in outcome.sources:
        for sc in src.scenarios:
            for applied in sc.rules:
                named.extend(applied.alternatives)
                rule = rules.get(applied.rule_id)
                path = evidence_path(g, _as_scenario(state, sc.choice), outcome.drug, rule) if rule is not None else []
                if path and path not in evidence:
                    evidence.append(path)
    ambiguous = any(s.status == "ambiguous" for s in outcome.sources)
    extra = graph_alternatives(g, outcome.drug, state, atypical) if atypical is not None else []
    # every list field given explicitly: a pydantic default_factory costs an inspect.signature per call
    return DrugFlag.model_construct(
        **{"notes": [], **dict(outcome)},
        alternatives=list(dict.fromkeys(named)),
        class_alternatives=extra,
        evidence=evidence,
        ambiguous=ambiguous,
    )


def _as_scenario(state: PatientState, choice: dict[str, int]) -> PatientState:
    """The patient with each tied gene narrowed to the candidate a scenario used (for its evidence path)."""
    if not choice:
        return state
    genes = dict(state.genes)
    for gene, i in choice.items():
        result = genes.get(gene)
        if result is not None and len(result.options) > 1:
            genes[gene] = result.model_copy(update={"options": (result.options[i],)})
    return state.model_copy(update={"genes": genes})


def _converted(state: PatientState, genes: list[str]) -> bool:
    return any(o.conversion is not None for g in genes for o in state.result(g).options)


def _severity(outcome: DrugOutcome) -> tuple[int, int]:
    """Smaller is more cautious: the flag level, then the action."""
    return outcome.level.caution_rank, ACTION_SEVERITY.get(outcome.action or "", 99)


def patient_flags(
    kb: KnowledgeBase, rb: RuleBase, state: PatientState, drugs: list[str] | None
) -> tuple[PatientState, list[DrugFlag]]:
    """The patient after phenoconversion, and one flag per drug (all drugs with rules when ``drugs`` is None).

    A function of the patient's results alone, so the report, the re-ranker and its training
    cohort all judge a drug the same way.
    """
    converted = apply_medications(kb, state)
    flags = []
    atypical = atypical_genes(converted)
    for outcome in evaluate(rb, converted, drugs):
        seen_as, seen_atypical = converted, atypical
        notes: list[str] = []
        if outcome.drug in converted.medications:
            # A perpetrator's own guideline dosing already reflects its effect on its enzyme:
            # judge a medication the patient takes without the conversion it causes itself.
            others = tuple(m for m in state.medications if m != outcome.drug)
            seen_as = apply_medications(kb, state.model_copy(update={"medications": others}))
            if _converted(converted, drug_genes(rb, outcome.drug)) != _converted(seen_as, drug_genes(rb, outcome.drug)):
                notes.append(
                    f"Judged without {outcome.drug}'s own effect on its enzymes: its guideline already reflects it."
                )
            outcome = evaluate(rb, seen_as, [outcome.drug])[0]
            seen_atypical = atypical_genes(seen_as)
        if seen_as is not state and _converted(seen_as, drug_genes(rb, outcome.drug)):
            # Co-medication may make a result look more benign (an inducer on a normal metabolizer,
            # an inhibitor on an ultrarapid one); the report never ends less cautious than the genotype.
            genotype_only = evaluate(rb, state, [outcome.drug])[0]
            if _severity(genotype_only) < _severity(outcome):
                notes.append(
                    f"Judged on the genotype result: with the co-medication the converted phenotype "
                    f"would give {outcome.action or outcome.level}, which is less cautious."
                )
                outcome, seen_as, seen_atypical = genotype_only, state, atypical_genes(state)
        flag = flag_drug(kb, rb, seen_as, outcome, seen_atypical)
        flags.append(flag.model_copy(update={"notes": notes}) if notes else flag)
    flags = _uncovered(kb, rb, converted, flags, explicit=drugs is not None)
    flags.sort(key=lambda f: (f.level.report_rank, f.drug))
    return converted, flags


def uncovered_guidelines(kb: KnowledgeBase, rb: RuleBase) -> dict[str, list[GuidelineLink]]:
    """Drugs with a published CPIC level A guideline for a gene pgx calls, but no rules in the rule base yet."""
    out: dict[str, list[GuidelineLink]] = {}
    for d in kb.drugs.drugs if kb.drugs else []:
        links = [g for g in d.guidelines if g.url and g.gene in kb.genes and (g.cpic_level or "").startswith("A")]
        if links and not rb.rules_for(d.name):
            out[d.name] = links
    return out


def _uncovered(
    kb: KnowledgeBase, rb: RuleBase, state: PatientState, flags: list[DrugFlag], explicit: bool
) -> list[DrugFlag]:
    """Never let "no rule in pgx" read as "no guideline": such drugs are flagged cannot assess when the
    patient's result for their gene is not normal (or was asked for by name)."""
    missing = rb.cached(("uncovered", kb.location, kb.version), lambda: uncovered_guidelines(kb, rb))
    if not missing:
        return flags
    out = [f for f in flags if f.drug not in missing]
    asked = {f.drug for f in flags}
    for drug, links in sorted(missing.items()):
        relevant = [g for g in links if not state.result(g.gene).called or g.gene in atypical_genes(state)]
        if (explicit and drug in asked) or (not explicit and relevant):
            why = [
                f"CPIC has a guideline for {g.gene} ({g.url}) that pgx does not encode yet; consult it" for g in links
            ]
            out.append(
                DrugFlag(
                    drug=drug, level=FlagLevel.cannot_assess, genes=sorted({g.gene for g in links}), not_assessed=why
                )
            )
    return out
