"""Phenoconversion: co-medications change the phenotype the rules see.

A strong CYP2D6 inhibitor makes a genotypic normal metabolizer behave like a poor one;
inducers raise clearance. How each perpetrator strength moves a gene's phenotype is data
(``knowledge/interactions.yaml``): an activity-score factor, a fixed phenotype, or steps on
the gene's phenotype ladder. The genotype-derived phenotype is kept beside the converted
one, with the drug that caused the change.
"""

from __future__ import annotations

from pgx.knowledge.loader import KnowledgeBase
from pgx.knowledge.schema import ConversionEffect, GeneConversion, Perpetrator
from pgx.patient.state import Conversion, GeneOption, GeneResult, PatientState
from pgx.phenotype.phenotyper import phenotype_from_score

_STRENGTH_ORDER = {"strong": 0, "moderate": 1, "weak": 2}
_QUALIFIERS = ("Likely ", "Possible ")


def perpetrators_for(kb: KnowledgeBase, medications: tuple[str, ...]) -> dict[str, list[Perpetrator]]:
    """Gene -> the patient's medications that inhibit or induce it."""
    out: dict[str, list[Perpetrator]] = {}
    if kb.interactions is None:
        return out
    meds = {m.strip().lower() for m in medications}
    for p in kb.interactions.perpetrators:
        if p.drug in meds:
            out.setdefault(p.gene, []).append(p)
    return out


def _dominant(perps: list[Perpetrator], conv: GeneConversion) -> tuple[ConversionEffect, list[Perpetrator], str] | None:
    """The effect that applies: inhibition wins over induction (it is the one that harms by surprise);
    within a kind, the strongest perpetrator decides."""
    for kind in ("inhibitor", "inducer"):
        these = sorted((p for p in perps if p.effect == kind), key=lambda p: _STRENGTH_ORDER[p.strength])
        for p in these:
            effect = conv.effects.get(f"{p.strength}_{kind}")
            if effect is not None:
                causes = [q for q in these if q.strength == p.strength]
                return effect, causes, f"{p.strength} {kind}"
    return None


def _banded(conv: GeneConversion, score: float) -> str | None:
    for band in conv.score_bands:
        if band.holds(score):
            return band.phenotype
    return None


def _convert(
    option: GeneOption,
    effect: ConversionEffect,
    conv: GeneConversion,
    kb: KnowledgeBase,
    causes: list[Perpetrator],
    label: str,
) -> GeneOption:
    gene = kb.gene(conv.gene) if conv.gene in kb.genes else None
    phenotype, score = option.phenotype, option.activity_score
    steps = effect.steps
    if effect.activity_factor is not None:
        factor = effect.activity_factor
        if score is None and factor == 0:
            score = 0.0  # a phenotype given without its score (by hand, by an outside lab): any score x0 is 0
        if score is not None:
            if gene is None:
                return option
            score = round(score * factor, 4)
            phenotype = _banded(conv, score) or phenotype_from_score(gene, score)
        else:  # no score to multiply: one rung down (or up), as for the genes without an activity score
            steps = (factor > 1) - (factor < 1)
    elif effect.set_phenotype is not None:
        phenotype, score = effect.set_phenotype, None
    if steps is not None and phenotype is not None:
        base = phenotype
        for q in _QUALIFIERS:
            base = base.replace(q, "")
        if base not in conv.ladder:
            return option
        if steps > 0 and conv.ladder.index(base) == 0:  # a poor metabolizer has no enzyme to induce
            return option
        i = min(max(conv.ladder.index(base) + steps, 0), len(conv.ladder) - 1)
        if conv.ladder[i] == base:  # already at that end of the ladder (or no move): keep the option as it is
            return option
        phenotype, score = conv.ladder[i], None
    if phenotype == option.phenotype and score == option.activity_score:
        return option
    names = tuple(sorted({c.drug for c in causes}))
    note = f"{conv.gene} {option.phenotype or 'result'} read as {phenotype} because of {', '.join(names)} ({label})"
    return option.model_copy(
        update={
            "phenotype": phenotype,
            "activity_score": score,
            "conversion": Conversion(
                genotype_phenotype=option.phenotype,
                genotype_activity_score=option.activity_score,
                perpetrators=names,
                effect=label,
                note=note,
            ),
        }
    )


def apply_medications(kb: KnowledgeBase, state: PatientState) -> PatientState:
    """The patient as the rules should see them, given current medications."""
    if not state.medications or kb.interactions is None:
        return state
    by_gene = perpetrators_for(kb, state.medications)
    conversions = {c.gene: c for c in kb.interactions.conversions}
    genes = dict(state.genes)
    for gene, perps in by_gene.items():
        conv = conversions.get(gene)
        result = genes.get(gene)
        if conv is None or result is None or not result.called:
            continue
        chosen = _dominant(perps, conv)
        if chosen is None:
            continue
        effect, causes, label = chosen
        options = tuple(_convert(o, effect, conv, kb, causes, label) for o in result.options)
        genes[gene] = result.model_copy(update={"options": options})
    return state.model_copy(update={"genes": genes})


def unconverted_genes(kb: KnowledgeBase, state: PatientState) -> dict[str, list[str]]:
    """Genes a medication affects but pgx could not convert (no result): worth a warning."""
    out: dict[str, list[str]] = {}
    for gene, perps in perpetrators_for(kb, state.medications).items():
        r = state.genes.get(gene)
        if r is None or not r.called:
            out[gene] = sorted({p.drug for p in perps})
    return out


__all__ = ["apply_medications", "perpetrators_for", "unconverted_genes", "GeneResult"]
