"""What the ML layer adds to a report: typed, versioned, and always labelled with its model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pgx.model import Model


class Contribution(Model):
    """One feature group's share of a prediction, against a stated reference patient."""

    feature: str = Field(description="Feature group, e.g. 'VKORC1 rs9923231'")
    value: str = Field(description="This patient's value, in words")
    effect: float = Field(description="Prediction minus the prediction with this group at its reference value")
    unit: str = Field(description="'mg/week' or 'probability points'")
    text: str = Field(description="The contribution in words a pharmacist can read")


class ModelRef(Model):
    name: str
    version: str
    kind: str
    trained_on_outcomes: bool
    label: str
    sha256: str


class DosePrediction(Model):
    drug: str
    dose_mg_per_week: float | None = None
    interval: tuple[float, float] | None = Field(None, description="Prediction interval (mg/week)")
    interval_level: float | None = Field(None, description="Coverage of the interval, e.g. 0.8")
    daily_equivalent_mg: float | None = None
    model: ModelRef | None = None
    contributions: list[Contribution] = Field(default_factory=list)
    missing_inputs: list[str] = Field(default_factory=list, description="Covariates the model had to treat as missing")
    status: Literal["predicted", "not_predicted"] = "predicted"
    reason: str | None = Field(None, description="Why no dose was predicted")
    notes: list[str] = Field(default_factory=list)
    scenario: dict[str, str] = Field(
        default_factory=dict, description="The genotype combination this prediction used (gene -> result)"
    )


class RankedTherapy(Model):
    drug: str
    rank: int
    permitted: bool = Field(description="False when the rules flag the drug contraindicated/avoid")
    flag_level: str = Field(description="The rule outcome: contraindicated, change, caution, standard, ...")
    flag_action: str | None = None
    probability: float | None = Field(None, description="Predicted probability of response")
    contributions: list[Contribution] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class TherapyRanking(Model):
    indication: str
    model: ModelRef
    label: str = Field(description="How to read the probabilities (e.g. evidence-based prior, not trained on outcomes)")
    therapies: list[RankedTherapy]
    excluded: list[str] = Field(default_factory=list, description="Drugs of the indication the model cannot score")
