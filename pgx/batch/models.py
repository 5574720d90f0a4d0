"""What a batch run promises to leave behind: its plan, per-chunk records and the manifest.

The plan fixes everything that decides the results (inputs and their hashes, versions,
options, which samples form which chunk); a rerun with the same plan resumes, a rerun with a
different one is refused. Chunk records are written last, after a chunk's files, so a chunk
with a record is complete. The manifest is rebuilt from the plan and the chunk records.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pgx.calling.models import InputFile
from pgx.model import Model

MANIFEST_SCHEMA_VERSION = "1.0"


class BatchInput(Model):
    path: str = Field(description="As given on the command line")
    name: str
    sha256: str
    format: str
    indexed: bool
    samples_in_file: int


class BatchOptions(Model):
    missing_to_ref: bool = False
    genes: list[str] | None = None
    report: bool = False
    meds_table: InputFile | None = None
    samples_file: InputFile | None = None


class BatchPlan(Model):
    """Everything that decides the results. Equal plans give byte-identical result files."""

    pgx_version: str
    knowledge_version: str
    rules_version: str | None = None
    inputs: list[BatchInput]
    options: BatchOptions
    samples: list[str]
    files: list[str] = Field(description="Per-sample file stem, parallel to samples (names made safe for a file)")
    chunks: list[int] = Field(description="Start index of each chunk in samples; chunk k ends where k+1 starts")
    slice_size: int = Field(description="Samples per slice: chunks are read whole and written in slices")

    def chunk(self, k: int) -> range:
        end = self.chunks[k + 1] if k + 1 < len(self.chunks) else len(self.samples)
        return range(self.chunks[k], end)

    def slices(self, k: int) -> list[range]:
        """Chunk ``k``'s slices, as ranges within the chunk."""
        n = len(self.chunk(k))
        return [range(s, min(s + self.slice_size, n)) for s in range(0, n, self.slice_size)] or [range(0, 0)]


class SampleStatus(Model):
    sample: str
    status: Literal["ok", "failed"]
    file: str | None = Field(None, description="Per-sample calls JSON, relative to the output folder")
    report: str | None = Field(None, description="Per-sample drug report JSON, relative to the output folder")
    genes_called: int = 0
    genes_not_called: int = 0
    reason: str | None = Field(None, description="Why the sample failed")


def slice_name(chunk: int, index: int) -> str:
    """The stem every file of one slice shares (its record, its TSV and Parquet parts): sorts in sample order."""
    return f"{chunk:06d}-{index:04d}"


class SliceRecord(Model):
    """Written after everything else of a slice of a chunk: its existence means the slice is complete."""

    chunk: int
    slice: int
    samples: list[SampleStatus]
    inputs: list[InputFile] = Field(description="Inputs as read (build evidence), with the genes taken from each")
    seconds: dict[str, float] = Field(
        description="read+match time of the chunk and write time of the slice (not part of results)"
    )


class BatchManifest(Model):
    schema_version: str = MANIFEST_SCHEMA_VERSION
    pgx_version: str
    knowledge_version: str
    rules_version: str | None = None
    inputs: list[InputFile]
    options: BatchOptions
    outputs: dict[str, str] = Field(description="Combined outputs, relative to the output folder")
    counts: dict[str, int]
    samples: list[SampleStatus]
    run: dict[str, object] = Field(
        description="How this run went (engine, workers, chunks done now or before, timings): not part of results"
    )
