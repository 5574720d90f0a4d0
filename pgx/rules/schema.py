"""pgx's own schema for recommendation rules (``rules/<drug>.yaml``), exported as JSON Schema.

A rule says: for these drugs, when the patient's gene results satisfy ``condition``, the
guideline ``source`` recommends ``action``. Conditions are conjunctions over genes; each
gene is matched by phenotype, activity score, allele status, diplotype, or "not tested".
Recommendation prose is not copied: ``rationale`` is our own short wording and ``citation``
points to the guideline.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from pgx.knowledge.schema import ScoreRange
from pgx.model import Model

RULES_SCHEMA_VERSION = 1

Action = Literal[
    "contraindicated",
    "avoid",  # avoid / use an alternative
    "reduce_dose",
    "increase_dose",
    "monitor",  # therapeutic drug monitoring
    "standard_dosing",
    "dose_by_algorithm",  # warfarin: compute the dose with a validated pharmacogenetic algorithm
    "insufficient_evidence",
]
ACTION_SEVERITY: dict[str, int] = {
    "contraindicated": 0,
    "avoid": 1,
    "reduce_dose": 2,
    "increase_dose": 2,
    "dose_by_algorithm": 2,
    "monitor": 3,
    "standard_dosing": 4,
    "insufficient_evidence": 5,
}
Strength = Literal["strong", "moderate", "optional", "none"]
Source = Literal["CPIC", "DPWG", "FDA", "RNPGx", "CPNDS", "SEFF", "pgx"]


class AlleleStatus(Model):
    allele: str = Field(description="e.g. *57:01")
    positive: bool


class GeneCondition(Model):
    """One gene's part of a condition; exactly one criterion."""

    gene: str
    phenotypes: list[str] | None = None
    activity_score: ScoreRange | None = None
    allele_status: AlleleStatus | None = None
    diplotypes: list[str] | None = None
    not_tested: bool = Field(False, description="Matches when the gene has no result (not called, not in the input)")
    by_comedication: bool = Field(
        False, description="Only when the phenotype comes from co-medication (DPWG eliglustat with a CYP3A inhibitor)"
    )

    @model_validator(mode="after")
    def _one(self) -> GeneCondition:
        given = [self.phenotypes, self.activity_score, self.allele_status, self.diplotypes]
        n = sum(x is not None for x in given) + int(self.not_tested)
        if n != 1:
            raise ValueError("give exactly one of phenotypes, activity_score, allele_status, diplotypes, not_tested")
        return self

    @property
    def specificity(self) -> int:
        """Diplotype-keyed beats allele status beats activity score beats phenotype."""
        if self.diplotypes is not None:
            return 3
        if self.allele_status is not None:
            return 2
        if self.activity_score is not None:
            return 1
        return 0


class Citation(Model):
    pmids: list[str] = Field(default_factory=list)
    url: str | None = None
    annotation: str | None = Field(None, description="PharmGKB guideline annotation id (PA...)")


class Provenance(Model):
    """Which source rows a rule was imported from, so coverage can be checked."""

    table: str
    rows: list[str] = Field(default_factory=list)
    note: str | None = Field(None, description="Why a rule was added by curation rather than imported from a row")


class LookupRule(Model):
    kind: Literal["lookup"] = "lookup"
    id: str
    drugs: list[str]
    source: Source
    guideline: str | None = None
    version: str | None = Field(None, description="Guideline version or publication date")
    citation: Citation
    condition: list[GeneCondition] = Field(min_length=1, description="All must hold")
    action: Action
    dose_factor: float | None = Field(None, description="Fraction of the standard (starting) dose")
    dose_factor_range: list[float] | None = Field(None, min_length=2, max_length=2)
    strength: Strength | None = Field(None, description="As classified by the guideline; null when not stated")
    alternatives: list[str] = Field(default_factory=list)
    rationale: str
    provenance: Provenance | None = None

    @property
    def genes(self) -> list[str]:
        return [c.gene for c in self.condition]

    @property
    def specificity(self) -> tuple[int, int]:
        """The most specific condition first, then how many genes the rule constrains: a rule on
        CYP2D6 and CYP3A4 together beats one on CYP2D6 alone for a patient both fit."""
        return max(c.specificity for c in self.condition), len(self.condition)


class WarfarinDosingRule(Model):
    """CPIC's warfarin flowchart: compute the dose with a validated pharmacogenetic algorithm
    (VKORC1 and CYP2C9), then adjust for CYP4F2*3 or, in African ancestry, for CYP2C9*5/*6/*8/*11
    and rs12777823."""

    kind: Literal["warfarin_dosing"] = "warfarin_dosing"
    id: str
    drugs: list[str]
    source: Source
    guideline: str | None = None
    version: str | None = None
    citation: Citation
    algorithms: list[str] = Field(description="Validated algorithms the guideline names (e.g. IWPC, Gage)")
    cyp4f2_increase: list[float] = Field(description="Non-African ancestry, CYP4F2*3 carrier: dose increase range")
    african_cyp2c9_decrease: list[float] = Field(description="African ancestry, *5/*6/*8/*11 carrier: decrease range")
    african_cyp2c9_alleles: list[str]
    african_rs12777823_decrease: list[float] = Field(description="African ancestry, rs12777823 A carrier")
    rs12777823_position: int
    rationale: str


Rule = Annotated[LookupRule | WarfarinDosingRule, Field(discriminator="kind")]


class RuleFile(Model):
    schema_version: Literal[1] = 1
    drug: str
    rules: list[Rule]


class RuleTest(Model):
    """A curator's test case: given results and co-medications -> expected action per source."""

    name: str
    drug: str
    phenotypes: dict[str, str] = Field(default_factory=dict, description="gene -> phenotype")
    activity_scores: dict[str, float] = Field(default_factory=dict)
    diplotypes: dict[str, str] = Field(default_factory=dict)
    medications: list[str] = Field(default_factory=list)
    expect: dict[str, Action] = Field(description="source -> expected action")


class RuleTestFile(Model):
    schema_version: Literal[1] = 1
    tests: list[RuleTest]


class RulesManifest(Model):
    schema_version: Literal[1] = 1
    rules_version: str
    sources: list[dict[str, str]] = Field(default_factory=list)
    drugs: list[str]
