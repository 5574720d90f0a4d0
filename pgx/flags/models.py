"""A drug's flag: the rule outcome with the evidence, alternatives and notes a reader needs."""

from __future__ import annotations

from pydantic import Field

from pgx.graph import EvidenceStep
from pgx.rules.outcome import DrugOutcome


class DrugFlag(DrugOutcome):
    alternatives: list[str] = Field(default_factory=list, description="Named by the rules that fired")
    class_alternatives: list[dict[str, str]] = Field(
        default_factory=list, description="Same class/indication, not dependent on an affected gene (drug-gene graph)"
    )
    evidence: list[list[EvidenceStep]] = Field(
        default_factory=list, description="Genotype -> phenotype (-> converted phenotype) -> pathway -> drug -> rule"
    )
    ambiguous: bool = False
    notes: list[str] = Field(default_factory=list, description="How the flag was decided, where it is not obvious")
