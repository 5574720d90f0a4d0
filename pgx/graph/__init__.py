"""The drug–gene graph: drugs, genes, phenotypes, drug classes and indications, with the roles
that tie them (activation, clearance, transport, inhibition, induction, alternatives).

Built from ``knowledge/`` and the rule base with networkx; used to explain a flag (the
evidence path from genotype to rule), to find alternatives not affected by the same gene,
and exported as GraphML/JSON for curators.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict

from pgx.errors import UsageError
from pgx.knowledge.loader import KnowledgeBase
from pgx.patient.state import PatientState
from pgx.rules.loader import RuleBase
from pgx.rules.schema import LookupRule

METABOLISM_ROLES = {"activation", "clearance_major", "clearance_minor"}
NORMAL = ("normal", "uncertain susceptibility", "favorable")


def drug_id(name: str) -> str:
    return f"drug:{name.lower()}"


def gene_id(name: str) -> str:
    return f"gene:{name}"


def phenotype_id(gene: str, phenotype: str) -> str:
    return f"phenotype:{gene}:{phenotype}"


def build_graph(kb: KnowledgeBase, rb: RuleBase | None = None) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph(
        name="pgx drug-gene graph", knowledge_version=kb.version, rules_version=rb.version if rb else ""
    )
    for gene in kb.genes.values():
        g.add_node(gene_id(gene.gene), kind="gene", label=gene.gene, chromosome=gene.chromosome)
        ph = gene.phenotyping
        phenotypes = {r.phenotype for r in ph.function_pairs} | {r.phenotype for r in ph.score_ranges}
        phenotypes |= set(ph.haplotype_phenotypes.values())
        for allele in ph.status_alleles:
            phenotypes |= {f"{allele} positive", f"{allele} negative"}
        for name in sorted(phenotypes):
            g.add_node(phenotype_id(gene.gene, name), kind="phenotype", label=name, gene=gene.gene)
            g.add_edge(gene_id(gene.gene), phenotype_id(gene.gene, name), key="has_phenotype", relation="has_phenotype")
    drugs = kb.drugs.drugs if kb.drugs else []
    for d in drugs:
        g.add_node(drug_id(d.name), kind="drug", label=d.name, atc=",".join(d.atc), rxnorm=d.rxnorm or "")
        for c in d.classes:
            g.add_node(f"class:{c}", kind="class", label=c)
            g.add_edge(drug_id(d.name), f"class:{c}", key="in_class", relation="in_class")
        for ind in d.indications:
            g.add_node(f"indication:{ind}", kind="indication", label=ind)
            g.add_edge(drug_id(d.name), f"indication:{ind}", key="treats", relation="treats")
        for p in d.pathways:
            if gene_id(p.gene) not in g:
                g.add_node(gene_id(p.gene), kind="gene", label=p.gene, covered=False)
            relation = (
                "metabolized_by"
                if p.role in METABOLISM_ROLES
                else "transported_by"
                if p.role == "transport"
                else "associated_with"
            )
            g.add_edge(
                drug_id(d.name), gene_id(p.gene), key=relation, relation=relation, role=p.role, source=p.source or ""
            )
        curated = {p.gene for p in d.pathways}
        for link in d.guidelines:  # CPIC/PharmGKB-annotated pairs without a curated role (dextromethorphan/CYP2D6)
            if link.gene not in curated and gene_id(link.gene) in g:
                g.add_edge(
                    drug_id(d.name),
                    gene_id(link.gene),
                    key="annotated_with",
                    relation="annotated_with",
                    cpic_level=link.cpic_level or "",
                    pharmgkb_level=link.pharmgkb_level or "",
                    fda_label=link.fda_label or "",
                )
    if kb.interactions is not None:
        cited = {s.id: s for s in kb.interactions.sources}
        for perp in kb.interactions.perpetrators:
            if drug_id(perp.drug) not in g:
                g.add_node(drug_id(perp.drug), kind="drug", label=perp.drug, atc="", rxnorm="")
            if gene_id(perp.gene) not in g:  # a perpetrator's gene pgx does not call (CYP1A2)
                g.add_node(gene_id(perp.gene), kind="gene", label=perp.gene, covered=False)
            relation = "inhibits" if perp.effect == "inhibitor" else "induces"
            g.add_edge(
                drug_id(perp.drug),
                gene_id(perp.gene),
                key=relation,
                relation=relation,
                strength=perp.strength,
                source=perp.source,
                source_title=cited[perp.source].title,  # the validator guarantees every id is cited
            )
    if rb is not None:
        for drug in rb.drugs:
            if drug_id(drug) not in g:
                g.add_node(drug_id(drug), kind="drug", label=drug, atc="", rxnorm="")
            for rule in rb.rules_for(drug):
                for alt in getattr(rule, "alternatives", []):
                    if drug_id(alt) not in g:
                        g.add_node(drug_id(alt), kind="drug", label=alt, atc="", rxnorm="")
                    g.add_edge(
                        drug_id(alt), drug_id(drug), key="alternative_to", relation="alternative_to", rule=rule.id
                    )
    return g


@functools.lru_cache(maxsize=4)
def graph_for(kb: KnowledgeBase, rb: RuleBase | None = None) -> nx.MultiDiGraph:
    return build_graph(kb, rb)


def pathways(g: nx.MultiDiGraph, drug: str) -> list[tuple[str, str]]:
    """(gene, role) pairs of a drug."""
    return list(_pathways(g, drug))


@functools.lru_cache(maxsize=8192)
def _pathways(g: nx.MultiDiGraph, drug: str) -> tuple[tuple[str, str], ...]:
    out = []
    for _, target, data in g.out_edges(drug_id(drug), data=True):
        if data["relation"] in ("metabolized_by", "transported_by", "associated_with"):
            out.append((g.nodes[target]["label"], data.get("role", "other")))
    return tuple(sorted(out))


def is_atypical(phenotype: str | None) -> bool:
    """A phenotype that could change drug response (anything but normal/uncertain-as-usual)."""
    if phenotype is None:
        return False
    p = phenotype.lower()
    return not any(p.startswith(n) for n in NORMAL) and p != "indeterminate" and not p.endswith("negative")


@dataclass(frozen=True)
class Affected:
    drug: str
    gene: str
    role: str
    phenotype: str


def affected_drugs(g: nx.MultiDiGraph, patient: PatientState) -> list[Affected]:
    """Drugs whose pathway genes carry an atypical phenotype in this patient."""
    out = []
    for gene, result in patient.genes.items():
        if not result.called or gene_id(gene) not in g:
            continue
        atypical = {o.phenotype for o in result.options if o.phenotype is not None and is_atypical(o.phenotype)}
        atypical |= {f"{a} positive" for o in result.options for a, v in o.allele_status.items() if v}
        if not atypical:
            continue
        for src, _, data in g.in_edges(gene_id(gene), data=True):
            if data["relation"] in ("metabolized_by", "transported_by", "associated_with"):
                for p in sorted(atypical):
                    out.append(Affected(g.nodes[src]["label"], gene, data.get("role", "other"), p))
    return sorted(out, key=lambda a: (a.drug, a.gene))


def alternatives(
    g: nx.MultiDiGraph, drug: str, patient: PatientState | None = None, atypical: frozenset[str] | None = None
) -> list[dict[str, str]]:
    """Drugs in the same class or for the same indication, or named by a rule, that do not depend on a
    gene with an atypical phenotype in this patient (``atypical``, when the caller has it already).
    A drug the graph does not know is a UsageError."""
    if g.nodes.get(drug_id(drug), {}).get("kind") != "drug":
        raise UsageError(f"unknown drug {drug!r}", hint="give a generic name, e.g. clopidogrel")
    return [dict(a) for a in _alternatives(g, drug, atypical_genes(patient) if atypical is None else atypical)]


def atypical_genes(patient: PatientState | None) -> frozenset[str]:
    """Genes with a result that could change drug response (an alternative should not depend on them)."""
    if patient is None:
        return frozenset()
    return frozenset(
        gene
        for gene, result in patient.genes.items()
        if result.called and any(is_atypical(o.phenotype) or any(o.allele_status.values()) for o in result.options)
    )


@functools.lru_cache(maxsize=8192)
def _alternatives(g: nx.MultiDiGraph, drug: str, bad_genes: frozenset[str]) -> tuple[dict[str, str], ...]:
    groups: dict[str, str] = {}
    for _, target, data in g.out_edges(drug_id(drug), data=True):
        if data["relation"] in ("in_class", "treats"):
            for src, _, d2 in g.in_edges(target, data=True):
                if d2["relation"] == data["relation"] and src != drug_id(drug):
                    groups.setdefault(src, f"{data['relation']} {g.nodes[target]['label']}")
    for src, _, data in g.in_edges(drug_id(drug), data=True):
        if data["relation"] == "alternative_to":
            groups[src] = f"named by rule {data.get('rule', '')}"
    out = []
    for node, why in sorted(groups.items()):
        genes = {gene for gene, _ in pathways(g, g.nodes[node]["label"])}
        annotated = {
            g.nodes[t]["label"] for _, t, d in g.out_edges(node, data=True) if d["relation"] == "annotated_with"
        }
        if (genes | annotated) & bad_genes:
            continue
        out.append({"drug": g.nodes[node]["label"], "why": why, "pathway_genes": ", ".join(sorted(genes)) or "none"})
    return tuple(out)


class EvidenceStep(BaseModel):
    """One link of the chain that explains a flag; ``kind`` lets a reader (or a test) follow it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["genotype", "phenotype", "conversion", "pathway", "drug", "rule", "no_result"]
    gene: str | None = None
    text: str


_ROLE_WORDS = {
    "activation": "{gene} turns {drug} into its active form",
    "clearance_major": "{gene} is the main route that clears {drug}",
    "clearance_minor": "{gene} is a minor route that clears {drug}",
    "transport": "{gene} transports {drug}",
    "immune": "{gene} alleles mark an immune reaction to {drug}",
    "target": "{gene} is on the pathway {drug} acts on",
}


def evidence_path(g: nx.MultiDiGraph, patient: PatientState, drug: str, rule: LookupRule) -> list[EvidenceStep]:
    """Genotype -> phenotype (-> converted phenotype) -> pathway for each gene of the rule, then drug -> rule."""
    steps: list[EvidenceStep] = []
    roles = dict(pathways(g, drug))
    for c in rule.condition:
        gene = c.gene
        result = patient.result(gene)
        opt = result.options[0] if result.called and result.options else None
        if opt is None:
            steps.append(EvidenceStep(kind="no_result", gene=gene, text=f"{gene}: no result ({result.reason})"))
            continue
        if opt.diplotype:
            steps.append(EvidenceStep(kind="genotype", gene=gene, text=f"{gene} {opt.diplotype}"))
        if opt.conversion is not None:
            steps.append(
                EvidenceStep(kind="phenotype", gene=gene, text=f"{gene} {opt.conversion.genotype_phenotype} (genotype)")
            )
            steps.append(
                EvidenceStep(
                    kind="conversion",
                    gene=gene,
                    text=f"{opt.phenotype} with {', '.join(opt.conversion.perpetrators)} ({opt.conversion.effect})",
                )
            )
        elif c.allele_status is not None:
            a = c.allele_status.allele
            status = opt.allele_status.get(a)
            word = "not typed" if status is None else "positive" if status else "negative"
            steps.append(EvidenceStep(kind="phenotype", gene=gene, text=f"{gene}{a} {word}"))
        elif opt.phenotype:
            steps.append(EvidenceStep(kind="phenotype", gene=gene, text=f"{gene} {opt.phenotype}"))
        role = roles.get(gene)
        if role:
            words = _ROLE_WORDS.get(role, "{gene} " + role.replace("_", " ") + " of {drug}")
            steps.append(EvidenceStep(kind="pathway", gene=gene, text=words.format(gene=gene, drug=drug)))
    steps.append(EvidenceStep(kind="drug", text=drug))
    steps.append(EvidenceStep(kind="rule", text=f"rule {rule.id} ({rule.source}: {rule.action.replace('_', ' ')})"))
    return steps


def export(g: nx.MultiDiGraph, fmt: str) -> str:
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(g))
    data = nx.node_link_data(g, edges="edges")
    return json.dumps(data, indent=2, default=str) + "\n"
