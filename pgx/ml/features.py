"""Features of one (patient, drug) pair for the therapy re-ranker.

The same function serves the shipped prior, an institution's own training run and the
report, so a model never sees features computed differently from those it was trained on.
What goes in (see :data:`FEATURES`):

- the patient's function on the drug's pathway genes from the drug-gene graph, by role:
  *activation* (prodrugs: less function, less active drug), *clearance* (less function,
  more exposure) and *transport*; the phenotype after phenoconversion, since that is what
  the drug meets;
- the rule outcome for the drug (contraindicated, change, caution, cannot assess);
- PharmGKB clinical-annotation evidence that matches the patient's (genotype) phenotype,
  weighted by level (1A = 1 ... 3 = 0.2), by category and direction;
- whether a co-medication changed a pathway phenotype;
- covariates when given (age, sex, weight), missing otherwise (NaN, never a default).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from pgx.graph import graph_for, pathways
from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import ClinicalAnnotation
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import GeneOption, PatientState
from pgx.rules.loader import RuleBase
from pgx.rules.outcome import FlagLevel

ROLES = {
    "activation": "activation",
    "clearance_major": "clearance",
    "clearance_minor": "clearance",
    "transport": "transport",
}
LEVEL_WEIGHT = {"1A": 1.0, "1B": 0.8, "2A": 0.6, "2B": 0.4, "3": 0.2}
#: The rule outcomes the re-ranker sees, one indicator column each (standard and no guideline: all zero).
RULE_LEVELS = (FlagLevel.contraindicated, FlagLevel.change, FlagLevel.caution, FlagLevel.cannot_assess)
EVIDENCE = (
    ("efficacy", "decreased"),
    ("efficacy", "increased"),
    ("toxicity", "increased"),
    ("metabolism", "decreased"),
    ("metabolism", "increased"),
)

FEATURES: list[str] = [
    *(f"{role}_{part}" for role in ("activation", "clearance", "transport") for part in ("function", "unknown", "has")),
    *(f"rule_{level}" for level in RULE_LEVELS),
    *(f"evidence_{cat}_{d}" for cat, d in EVIDENCE),
    "phenoconverted",
    "age",
    "female",
    "weight_kg",
]
COLUMN = {name: i for i, name in enumerate(FEATURES)}
GROUPS: dict[str, list[int]] = {
    "activation": [COLUMN[f"activation_{p}"] for p in ("function", "unknown", "has")],
    "clearance": [COLUMN[f"clearance_{p}"] for p in ("function", "unknown", "has")],
    "transport": [COLUMN[f"transport_{p}"] for p in ("function", "unknown", "has")],
    "rule": [COLUMN[f"rule_{level}"] for level in RULE_LEVELS],
    "evidence": [COLUMN[f"evidence_{c}_{d}"] for c, d in EVIDENCE],
    "phenoconversion": [COLUMN["phenoconverted"]],
    "age": [COLUMN["age"]],
    "sex": [COLUMN["female"]],
    "weight": [COLUMN["weight_kg"]],
}


def relative_function(phenotype: str | None, activity_score: float | None = None) -> float | None:
    """A phenotype as a fraction of normal function (poor 0, intermediate 0.5, normal 1, ultrarapid 1.5).

    Read from the phenotype's words, which CPIC uses consistently across genes, so a new gene
    needs no entry here. None when the phenotype says nothing about function (indeterminate).
    """
    p = (phenotype or "").lower()
    if not p:
        return None if activity_score is None else min(activity_score / 2.0, 1.5)
    if "ultrarapid" in p or "increased function" in p:
        return 1.5
    if "rapid" in p:
        return 1.25
    if "poor" in p or "deficient" in p or "no function" in p:
        return 0.0
    if "possible" in p and ("intermediate" in p or "decreased" in p):
        return 0.75
    if "intermediate" in p or "decreased" in p:
        return 0.5
    if "normal" in p:
        return 1.0
    return None


@dataclass(frozen=True)
class DrugContext:
    drug: str
    genes: dict[str, tuple[str, ...]]  # role group -> genes
    annotations: tuple[ClinicalAnnotation, ...]
    role_of: dict[str, str]  # gene -> role group


@functools.lru_cache(maxsize=512)
def drug_context(kb: KnowledgeBase, rb: RuleBase, drug: str) -> DrugContext:
    g = graph_for(kb, rb)
    genes: dict[str, list[str]] = {"activation": [], "clearance": [], "transport": []}
    role_of: dict[str, str] = {}
    for gene, role in pathways(g, drug):
        group = ROLES.get(role)
        if group is not None and gene in kb.genes:
            genes[group].append(gene)
            role_of[gene] = group
    anns = tuple(a for a in (kb.annotations.annotations if kb.annotations else []) if a.drug == drug)
    return DrugContext(drug=drug, genes={k: tuple(v) for k, v in genes.items()}, annotations=anns, role_of=role_of)


def _worst_option(state: PatientState, gene: str) -> tuple[GeneOption | None, float | None]:
    """The lowest-function candidate of a (possibly ambiguous) result: the cautious reading."""
    result = state.result(gene)
    best: tuple[GeneOption | None, float | None] = (None, None)
    for opt in result.options if result.called else ():
        f = relative_function(opt.phenotype, opt.activity_score)
        if f is not None and (best[1] is None or f < best[1]):
            best = (opt, f)
    return best


def genotype_phenotype(opt: GeneOption) -> str | None:
    return opt.conversion.genotype_phenotype if opt.conversion is not None else opt.phenotype


def matching_evidence(ctx: DrugContext, state: PatientState) -> list[tuple[ClinicalAnnotation, str, str]]:
    """(annotation, phenotype, direction) for annotations that set this patient's phenotype apart.

    PharmGKB states directions relative to other genotypes ("Normal Function: increased" for
    ABCG2 and rosuvastatin means: more than in carriers). A normal phenotype, a "normal" or
    "mixed" direction, or the same direction the annotation gives normal function, says nothing
    about this patient being different, so only real deviations count as evidence.
    """
    out: list[tuple[ClinicalAnnotation, str, str]] = []
    for a in ctx.annotations:
        result = state.result(a.gene)
        if not result.called:
            continue
        effects = {k.lower(): v for k, v in a.effects.items()}
        normal = {v for k, v in effects.items() if relative_function(k) == 1.0}
        for opt in result.options:
            ph = genotype_phenotype(opt)
            direction = effects.get((ph or "").lower())
            if direction is None:
                continue
            if direction in ("decreased", "increased") and relative_function(ph) != 1.0 and direction not in normal:
                out.append((a, ph or "", direction))
            break
    return out


def feature_row(
    ctx: DrugContext, state: PatientState, flag_level: str, covariates: PatientCovariates | None = None
) -> np.ndarray:
    """One row of :data:`FEATURES`; ``state`` is the patient after phenoconversion."""
    row = np.zeros(len(FEATURES), dtype=float)
    converted = False
    for group, genes in ctx.genes.items():
        if not genes:
            row[COLUMN[f"{group}_function"]] = 1.0
            continue
        row[COLUMN[f"{group}_has"]] = 1.0
        values = []
        for gene in genes:
            opt, f = _worst_option(state, gene)
            if f is None:
                row[COLUMN[f"{group}_unknown"]] = 1.0
            else:
                values.append(f)
            converted |= opt is not None and opt.conversion is not None
        row[COLUMN[f"{group}_function"]] = min(values) if values else math.nan
    if flag_level in RULE_LEVELS:
        row[COLUMN[f"rule_{flag_level}"]] = 1.0
    for a, _, direction in matching_evidence(ctx, state):
        key = f"evidence_{a.category}_{direction}"
        if key in COLUMN:
            row[COLUMN[key]] = max(row[COLUMN[key]], LEVEL_WEIGHT[a.level])
    row[COLUMN["phenoconverted"]] = 1.0 if converted else 0.0
    cov = covariates or PatientCovariates()
    row[COLUMN["age"]] = math.nan if cov.age is None else cov.age
    row[COLUMN["female"]] = math.nan if cov.sex is None else float(cov.sex == "female")
    row[COLUMN["weight_kg"]] = math.nan if cov.weight_kg is None else cov.weight_kg
    return row


def describe_group(
    group: str,
    ctx: DrugContext,
    state: PatientState,
    flag_level: str,
    flag_action: str | None,
    covariates: PatientCovariates | None,
) -> str | None:
    """This patient's value of a feature group, in words; None for a covariate that was not given
    (its "effect" is only the model's uncertainty about it, not a fact about the patient)."""
    if group in ("activation", "clearance", "transport"):
        genes = ctx.genes[group]
        verb = {"activation": "activates", "clearance": "clears", "transport": "transports"}[group]
        if not genes:
            return {
                "activation": f"{ctx.drug} needs no enzyme activation by a gene pgx calls",
                "clearance": f"{ctx.drug} is not cleared by a gene pgx calls",
                "transport": f"{ctx.drug} has no transporter gene pgx calls",
            }[group]
        parts = []
        for gene in genes:
            opt, _ = _worst_option(state, gene)
            if opt is None:
                parts.append(f"{gene} not called ({verb} {ctx.drug})")
            else:
                ph = opt.phenotype or (
                    f"activity score {opt.activity_score:g}" if opt.activity_score is not None else "result"
                )
                parts.append(f"{gene} {ph} ({verb} {ctx.drug})")
        return "; ".join(parts)
    if group == "rule":
        return f"rule outcome {flag_level.replace('_', ' ')}" + (
            f" ({flag_action.replace('_', ' ')})" if flag_action else ""
        )
    if group == "evidence":
        hits = sorted(matching_evidence(ctx, state), key=lambda h: (-LEVEL_WEIGHT[h[0].level], h[0].id))
        if not hits:
            return "no PharmGKB clinical annotation sets this patient's phenotypes apart"
        a, ph, direction = hits[0]
        more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
        return f"PharmGKB level {a.level} {a.category} annotation: {direction} for {a.gene} {ph}{more}"
    if group == "phenoconversion":
        convs = {
            f"{g} by {', '.join(o.conversion.perpetrators)}"
            for g in ctx.role_of
            for o in state.result(g).options
            if o.conversion is not None
        }
        return ("phenotype converted: " + "; ".join(sorted(convs))) if convs else "no phenoconversion"
    cov = covariates or PatientCovariates()
    if group == "age":
        return None if cov.age is None else f"age {cov.age:g}"
    if group == "sex":
        return cov.sex
    if group == "weight":
        return None if cov.weight_kg is None else f"weight {cov.weight_kg:g} kg"
    return group
