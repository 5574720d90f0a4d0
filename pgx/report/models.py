"""The drug report document: what ``pgx report`` writes as JSON and renders as HTML or TSV.

``schemas/drug-report.schema.json`` is generated from these models; a test keeps it in step.
Bump ``REPORT_SCHEMA_VERSION`` whenever they change. The report is assembled by
:func:`pgx.api.assess`; this package only renders it.
"""

from __future__ import annotations

from pydantic import Field

from pgx.calling.models import GeneCall, InputFile
from pgx.flags.models import DrugFlag
from pgx.ml.results import DosePrediction, TherapyRanking
from pgx.model import Model

REPORT_SCHEMA_VERSION = "1.2"  # 1.1: dose_predictions, therapy_ranking, options.indication/patient; 1.2: inputs


class Phenoconversion(Model):
    gene: str
    genotype_phenotype: str | None
    phenotype: str | None
    activity_score: float | None = None
    medications: list[str]
    effect: str


class SampleReport(Model):
    sample: str
    medications: list[str] = Field(default_factory=list)
    phenoconversions: list[Phenoconversion] = Field(default_factory=list)
    medication_warnings: list[str] = Field(default_factory=list)
    genes: list[GeneCall]
    drugs: list[DrugFlag]
    dose_predictions: list[DosePrediction] = Field(
        default_factory=list, description="Model-predicted doses (warfarin), beside the guideline's own rule"
    )
    therapy_ranking: TherapyRanking | None = Field(
        None, description="The indication's drugs, permitted first, ordered by predicted probability of response"
    )


class ReportOptions(Model):
    drugs: list[str] | None = None
    medications: list[str] = Field(default_factory=list)
    missing_to_ref: bool = False
    indication: str | None = None
    patient: InputFile | None = Field(None, description="The --patient covariate file (name and SHA-256)")


class DrugReport(Model):
    schema_version: str = REPORT_SCHEMA_VERSION
    pgx_version: str
    knowledge_version: str
    rules_version: str
    input: InputFile
    inputs: list[InputFile] = Field(
        default_factory=list, description="Every VCF read, when pgx batch joined several; `input` is the first"
    )
    outside_calls: InputFile | None = None
    options: ReportOptions
    samples: list[SampleReport]
