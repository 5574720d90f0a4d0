"""What the rule engine says about one drug for one patient: the typed result every later stage reads.

A :class:`DrugOutcome` holds one :class:`SourceOutcome` per independent recommendation (CPIC,
DPWG, ...), each with the scenarios the patient's tied results lead to and the rules that
fired in each; its :class:`FlagLevel` is the flag the report shows.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field

from pgx.model import Model
from pgx.rules.schema import Citation


class FlagLevel(str, Enum):
    """How a drug is flagged. Declared in report order: what to act on first, then what is not assessed."""

    contraindicated = "contraindicated"
    change = "change"
    caution = "caution"
    standard = "standard"
    no_guideline = "no_guideline"
    cannot_assess = "cannot_assess"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def report_rank(self) -> int:
        """Position in a report: contraindicated first, cannot assess last."""
        return _REPORT_ORDER.index(self)

    @property
    def caution_rank(self) -> int:
        """Smaller is more cautious. "Cannot assess" ranks above caution and standard: a recommendation
        pgx could not assess may hide a contraindication, so it must never be traded for "standard"."""
        return _CAUTION_ORDER.index(self)

    @property
    def actionable(self) -> bool:
        """Avoid or change the dose: the flags offered alternatives and shown first."""
        return self in (FlagLevel.contraindicated, FlagLevel.change)


_REPORT_ORDER = list(FlagLevel)
_CAUTION_ORDER = [
    FlagLevel.contraindicated,
    FlagLevel.change,
    FlagLevel.cannot_assess,
    FlagLevel.caution,
    FlagLevel.standard,
    FlagLevel.no_guideline,
]

LEVEL_OF_ACTION: dict[str, FlagLevel] = {
    "contraindicated": FlagLevel.contraindicated,
    "avoid": FlagLevel.contraindicated,
    "reduce_dose": FlagLevel.change,
    "increase_dose": FlagLevel.change,
    "dose_by_algorithm": FlagLevel.change,
    "monitor": FlagLevel.caution,
    "insufficient_evidence": FlagLevel.caution,
    "standard_dosing": FlagLevel.standard,
}


class AppliedRule(Model):
    rule_id: str
    source: str
    action: str
    dose_factor: float | None = None
    dose_factor_range: list[float] | None = None
    strength: str | None = None
    alternatives: list[str] = Field(default_factory=list)
    rationale: str
    citation: Citation
    details: list[str] = Field(default_factory=list, description="Algorithm steps (warfarin)")


class Scenario(Model):
    """One combination of the patient's candidate results and what it leads to."""

    genes: dict[str, str]  # gene -> "diplotype (phenotype)" as used
    rules: list[AppliedRule]  # empty: no rule covers this possibility (see note)
    choice: dict[str, int] = Field(default_factory=dict, description="gene -> index of the candidate result used")
    note: str | None = None


class SourceOutcome(Model):
    source: str
    genes: list[str] = Field(default_factory=list, description="Genes this recommendation is about")
    status: Literal["matched", "ambiguous", "no_rule", "cannot_assess"]
    partial: bool = Field(False, description="Decided by a rule for a gene that was not tested (the others only)")
    action: str | None = None  # the action when matched (or the most severe when ambiguous)
    scenarios: list[Scenario] = Field(default_factory=list)
    reason: str | None = None


class DrugOutcome(Model):
    drug: str
    level: FlagLevel
    action: str | None = None
    genes: list[str] = Field(default_factory=list)
    sources: list[SourceOutcome] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list, description="Rules of equal specificity that disagree")
    not_assessed: list[str] = Field(
        default_factory=list, description="Recommendations that could not be assessed, and why"
    )
