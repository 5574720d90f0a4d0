"""A simulated outcome cohort, from a generative model stated here in full.

No public per-patient efficacy outcomes exist for these indications, so the shipped
re-ranker is a *prior*: it learns the mapping below, which encodes pharmacology and the
strength of the guideline evidence, not observed responses. Its model card and every
report say so. Institutions replace it with ``pgx ml train`` on their own outcomes.

Generative model, per (patient, drug); f = relative function (0 poor ... 1 normal ... 1.5
ultrarapid) of the patient's *converted* phenotype on the drug's pathway genes, s = the
evidence strength of that drug-gene pair (CPIC level A 1.0, B 0.6, C 0.3, D 0.15; PharmGKB
level only: 1A/1B 0.5, 2A/2B 0.3, 3 0.15; no link 0.1):

    logit P(response) = 0.8                                   (about 69 % respond)
        - 5.0 * s * (1 - min(f_activation, 1))                prodrug not activated
        - 2.5 * s * max(f_activation - 1, 0) * 2              too much active drug (toxicity)
        - 3.0 * s * (1 - min(f_clearance, 1))                 exposure too high (intolerance)
        - 3.0 * s * max(f_clearance - 1, 0) * 2               exposure too low (non-response)
        - 3.0 * s * (1 - min(f_transport, 1))                 transporter loss (myopathy, stopping)
        - 0.02 * (age - 55)                                   when age is known

A poor metabolizer of a CPIC level-A prodrug (clopidogrel, codeine) thus responds about
2 % of the time against 69 % for a normal metabolizer: the prior states the pharmacology
plainly rather than hedging it. Oracle ROC AUC of these probabilities on a simulated
cohort is about 0.69 (most patients are normal on most pathways), which bounds what any
model trained on it can reach.

Patients: activity-score genes draw a score from a population-like mix and take its
phenotype from the knowledge base; other genes draw a phenotype from their vocabulary
(normal 55 %, intermediate 25 %, poor 6 %, rapid 8 %, ultrarapid 4 %, the rest spread over
"likely/possible" forms). A quarter take one co-medication that inhibits or induces an
enzyme (phenoconversion); 5 % of gene results are withheld as "not called"; 30 % have no
covariates. Each patient gets one indication and one of its drugs, uniformly.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import random

from pydantic import BaseModel, ConfigDict

from pgx.knowledge.loader import KnowledgeBase
from pgx.ml.features import drug_context, relative_function
from pgx.ml.indications import indication_drugs
from pgx.patient.conversion import apply_medications
from pgx.patient.covariates import PatientCovariates
from pgx.patient.state import PatientState, from_phenotypes
from pgx.phenotype.phenotyper import gene_phenotypes, phenotype_from_score
from pgx.rules.loader import RuleBase

INTERCEPT = 0.8
ACTIVATION_LOSS, ACTIVATION_EXCESS = 5.0, 2.5
CLEARANCE_LOSS, CLEARANCE_EXCESS = 3.0, 3.0
TRANSPORT_LOSS = 3.0
AGE_SLOPE, AGE_CENTRE = 0.02, 55.0
CPIC_STRENGTH = {"A": 1.0, "B": 0.6, "C": 0.3, "D": 0.15}
PHARMGKB_STRENGTH = {"1A": 0.5, "1B": 0.5, "2A": 0.3, "2B": 0.3, "3": 0.15}
NO_LINK_STRENGTH = 0.1
SCORE_MIX = {0.0: 0.05, 0.5: 0.07, 1.0: 0.2, 1.5: 0.2, 2.0: 0.4, 2.5: 0.04, 3.0: 0.04}
P_COMEDICATION, P_NOT_CALLED, P_NO_COVARIATES = 0.25, 0.05, 0.3

OUTCOME_COLUMNS = [
    "patient_id",
    "sample",
    "drug",
    "indication",
    "responded",
    "age",
    "sex",
    "weight_kg",
    "medications",
    "phenotypes",
]


class OutcomeRow(BaseModel):
    """One line of an outcomes table (``pgx ml train``): a patient, a drug, and whether it worked."""

    model_config = ConfigDict(extra="forbid")

    patient_id: str
    sample: str | None = None
    drug: str
    indication: str | None = None
    responded: bool
    covariates: PatientCovariates
    phenotypes: dict[str, str] = {}


def _phenotype_weight(phenotype: str) -> float:
    p = phenotype.lower()
    if p == "indeterminate":
        return 0.0
    if "likely" in p or "possible" in p:
        return 0.01
    for word, w in (
        ("ultrarapid", 0.04),
        ("rapid", 0.08),
        ("poor", 0.06),
        ("intermediate", 0.25),
        ("decreased", 0.25),
        ("increased", 0.04),
        ("normal", 0.55),
    ):
        if word in p:
            return w
    return 0.01


@functools.lru_cache(maxsize=4096)
def evidence_strength(kb: KnowledgeBase, drug: str, gene: str) -> float:
    best = NO_LINK_STRENGTH
    for d in kb.drugs.drugs if kb.drugs else []:
        if d.name != drug:
            continue
        for link in d.guidelines:
            if link.gene == gene:
                best = max(
                    best,
                    CPIC_STRENGTH.get((link.cpic_level or "")[:1], 0.0),
                    PHARMGKB_STRENGTH.get(link.pharmgkb_level or "", 0.0),
                )
    return best


def response_probability(
    kb: KnowledgeBase, rb: RuleBase, drug: str, state: PatientState, covariates: PatientCovariates
) -> float:
    """The generative model's truth for one (patient, drug); ``state`` after phenoconversion."""
    ctx = drug_context(kb, rb, drug)
    logit = INTERCEPT
    for group, genes in ctx.genes.items():
        for gene in genes:
            result = state.result(gene)
            opt = result.options[0] if result.called and result.options else None
            f = relative_function(opt.phenotype, opt.activity_score) if opt is not None else None
            if f is None:
                continue
            s = evidence_strength(kb, drug, gene)
            if group == "activation":
                logit -= s * (ACTIVATION_LOSS * (1 - min(f, 1)) + ACTIVATION_EXCESS * 2 * max(f - 1, 0))
            elif group == "clearance":
                logit -= s * (CLEARANCE_LOSS * (1 - min(f, 1)) + CLEARANCE_EXCESS * 2 * max(f - 1, 0))
            else:
                logit -= s * TRANSPORT_LOSS * (1 - min(f, 1))
    if covariates.age is not None:
        logit -= AGE_SLOPE * (covariates.age - AGE_CENTRE)
    return 1.0 / (1.0 + math.exp(-logit))


def _sample_phenotypes(kb: KnowledgeBase, genes: list[str], rng: random.Random) -> dict[str, str]:
    out = {}
    for name in genes:
        gene = kb.gene(name)
        if gene.phenotyping.method == "activity_score":
            score = rng.choices(list(SCORE_MIX), weights=list(SCORE_MIX.values()))[0]
            out[name] = f"{score:g}"
            continue
        vocab = sorted(gene_phenotypes(gene))
        weights = [_phenotype_weight(p) for p in vocab]
        if sum(weights) > 0:
            out[name] = rng.choices(vocab, weights=weights)[0]
    return out


def state_from_phenotypes(
    kb: KnowledgeBase, patient_id: str, phenotypes: dict[str, str], medications: list[str]
) -> PatientState:
    """GENE -> phenotype, or -> activity score written as a number (as ``--phenotype`` takes it)."""
    given: dict[str, str] = {}
    scores: dict[str, float] = {}
    for gene, value in phenotypes.items():
        try:
            score = float(value)
        except ValueError:
            given[gene] = value
            continue
        scores[gene] = score
        given[gene] = phenotype_from_score(kb.gene(gene), score) or ""
    return from_phenotypes(patient_id, given, scores, medications=medications)


def _perpetrators(kb: KnowledgeBase) -> list[str]:
    return sorted({p.drug for p in kb.interactions.perpetrators}) if kb.interactions else []


def simulate_outcomes(
    kb: KnowledgeBase, rb: RuleBase, n_patients: int, seed: int, indications: list[str] | None = None
) -> list[OutcomeRow]:
    rng = random.Random(seed)
    by_indication = indication_drugs(kb)
    chosen = indications or [k for k, v in by_indication.items() if len(v) >= 2]
    genes = sorted(
        {g for ind in chosen for d in by_indication[ind] for gs in drug_context(kb, rb, d).genes.values() for g in gs}
    )
    perps = _perpetrators(kb)
    rows = []
    for i in range(n_patients):
        pid = f"SIM{seed}-{i:06d}"
        phenotypes = _sample_phenotypes(kb, genes, rng)
        meds = [rng.choice(perps)] if perps and rng.random() < P_COMEDICATION else []
        if rng.random() < P_NO_COVARIATES:
            cov = PatientCovariates(medications=meds)
        else:
            cov = PatientCovariates(
                age=round(rng.uniform(25, 85)),
                sex=rng.choice(["female", "male"]),
                weight_kg=round(rng.gauss(78, 15), 1) if rng.random() < 0.9 else None,
                medications=meds,
            )
        indication = rng.choice(chosen)
        drug = rng.choice(by_indication[indication])
        truth = apply_medications(kb, state_from_phenotypes(kb, pid, phenotypes, meds))
        responded = rng.random() < response_probability(kb, rb, drug, truth, cov)
        observed = {g: v for g, v in phenotypes.items() if rng.random() >= P_NOT_CALLED}
        rows.append(
            OutcomeRow(
                patient_id=pid,
                drug=drug,
                indication=indication,
                responded=responded,
                covariates=cov,
                phenotypes=observed,
            )
        )
    return rows


def outcomes_csv(rows: list[OutcomeRow]) -> str:
    """The rows as an outcomes table that ``pgx ml train`` reads back."""
    fh = io.StringIO()
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(OUTCOME_COLUMNS)
    for r in rows:
        c = r.covariates
        w.writerow(
            [
                r.patient_id,
                r.sample or "",
                r.drug,
                r.indication or "",
                "yes" if r.responded else "no",
                "" if c.age is None else f"{c.age:g}",
                c.sex or "",
                "" if c.weight_kg is None else f"{c.weight_kg:g}",
                ";".join(c.medications),
                ";".join(f"{g}={v}" for g, v in sorted(r.phenotypes.items())),
            ]
        )
    return fh.getvalue()
