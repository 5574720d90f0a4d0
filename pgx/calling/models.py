"""The versioned result of ``pgx call``: what every downstream consumer reads.

``schemas/call-result.schema.json`` is generated from these models; a test keeps it in
step. Bump ``SCHEMA_VERSION`` (minor: additive, major: breaking) whenever they change.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pgx.matching.models import Message, MissingPosition
from pgx.model import Model

SCHEMA_VERSION = "1.1"  # 1.1: InputFile.genes, CallReport.inputs (pgx batch over several VCFs)


class HaplotypeCall(Model):
    name: str
    label: str = Field(description="Name with copy number, e.g. *2x2")
    function: str | None = None
    activity_value: float | None = None
    copies: int = 1
    missing_positions: list[int] = Field(
        default_factory=list, description="Positions this allele lists that were missing"
    )


class DiplotypeCall(Model):
    name: str
    haplotypes: list[HaplotypeCall]
    score: int | None = Field(None, description="Match score: positions explained (higher is more specific)")
    phenotype: str | None = None
    activity_score: float | None = Field(None, description="Sum of activity values; null when any is n/a or not used")


class PositionGenotype(Model):
    position: int
    rsid: str | None = None
    alleles: list[str | None]


class GeneCall(Model):
    gene: str
    status: Literal["called", "not_called"]
    source: Literal["vcf", "outside_call"] = "vcf"
    diplotypes: list[DiplotypeCall] = Field(
        default_factory=list, description="Best candidates; several means ambiguous"
    )
    phenotypes: list[str] = Field(default_factory=list, description="Distinct phenotypes over all candidate diplotypes")
    activity_scores: list[float] = Field(default_factory=list)
    reason_code: str | None = None
    reason: str | None = Field(None, description="Why the gene was not called")
    phased: bool = False
    effectively_phased: bool = False
    positions_total: int = 0
    positions_called: int = 0
    missing_positions: list[MissingPosition] = Field(default_factory=list)
    filled_positions: list[int] = Field(
        default_factory=list, description="Positions absent from the file that --missing-to-ref read as reference"
    )
    alleles_not_assessable: list[str] = Field(default_factory=list)
    variants_found: list[str] = Field(default_factory=list)
    inferred: bool = False
    other_matches: list[DiplotypeCall] = Field(default_factory=list)
    extra_positions: list[PositionGenotype] = Field(default_factory=list)
    warnings: list[Message] = Field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        return len(self.diplotypes) > 1


class SampleResult(Model):
    sample: str
    genes: list[GeneCall]


class InputFile(Model):
    name: str
    sha256: str
    format: str
    samples_in_file: int | None = None
    build: str | None = None
    build_evidence: str | None = None
    indexed: bool = False
    genes: list[str] | None = Field(
        None, description="Genes read from this file, when pgx batch joined several VCFs of the same samples"
    )


class RunOptions(Model):
    samples: list[str] | None = None
    missing_to_ref: bool = Field(False, description="Absent positions read as reference (panel/imputed files only)")
    all_matches: bool = False
    genes: list[str] | None = None


class CallReport(Model):
    schema_version: str = SCHEMA_VERSION
    pgx_version: str
    knowledge_version: str
    input: InputFile
    inputs: list[InputFile] = Field(
        default_factory=list,
        description="Every VCF read, with its genes, when pgx batch joined several (per-gene or per-chromosome "
        "files of the same samples); `input` is then the first of them",
    )
    outside_calls: InputFile | None = None
    options: RunOptions
    samples: list[SampleResult]
