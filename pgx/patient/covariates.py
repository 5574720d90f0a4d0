"""Patient covariates (``--patient patient.yaml``): what a VCF cannot tell.

Age, height, weight, race and co-medications drive the warfarin dose as much as VKORC1
and CYP2C9 do. Every field is optional; a model that needs a missing one says so in its
output instead of assuming a typical patient. Values outside physiological ranges are
refused with file:line, since a height typed in inches would silently halve a dose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pgx.errors import PatientFileError
from pgx.yamlio import load_marked, validate_document

Race = Literal["white", "asian", "black", "other", "unknown"]


class PatientCovariates(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="Label only; never used by a model")
    age: float | None = Field(None, ge=0, le=120, description="Years")
    height_cm: float | None = Field(None, ge=30, le=250)
    weight_kg: float | None = Field(None, ge=1, le=400)
    sex: Literal["female", "male"] | None = None
    race: Race = Field("unknown", description="As the IWPC cohort records it; other/unknown = 'missing or mixed'")
    medications: list[str] = Field(default_factory=list, description="Current co-medications (generic names)")
    smoker: bool | None = None
    target_inr: float | None = Field(None, ge=1, le=5)

    @field_validator("medications")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return [m.strip().lower() for m in value if m.strip()]

    @property
    def age_decade(self) -> int | None:
        """IWPC's age in decades: 1 for 10-19 years ... 9 for 90 and over."""
        return None if self.age is None else min(int(self.age // 10), 9)


def load_patient(path: str | Path) -> PatientCovariates:
    doc = load_marked(path, error=PatientFileError)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise PatientFileError(path, "expected a mapping of covariates, e.g. 'age: 64'", line=1, column=1)
    return validate_document(doc, PatientCovariates, PatientFileError)
