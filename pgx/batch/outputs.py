"""Result files of a batch: per-sample JSON (and reports), chunk parts, and the combined tables.

A cohort shares a few hundred distinct gene calls among all its samples, so each distinct
call is serialised once (JSON fragment, TSV cells) and a sample's files are put together
from those pieces. The pieces are pydantic's own serialisation, so a sample's file is
byte-for-byte what ``model_dump_json`` gives for the same CallReport (a test holds this).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pydantic_core

from pgx import api
from pgx.batch.models import BatchPlan, SampleStatus, slice_name
from pgx.batch.plan import STATE
from pgx.calling.models import CallReport, GeneCall, InputFile, RunOptions, SampleResult
from pgx.fileio import atomic_write_bytes_from, atomic_write_text
from pgx.knowledge.loader import KnowledgeBase
from pgx.report.calls_tsv import COLUMNS, clean_cell, gene_row, provenance_line
from pgx.rules.loader import load_rules

SAMPLES_DIR = "samples"
REPORTS_DIR = "reports"
PARTS_DIR = f"{STATE}/parts"
CALLS_TSV = "calls.tsv"
CALLS_PARQUET = "calls.parquet"
ROW_GROUP = 65_536  # fixed, so the combined Parquet file does not depend on how samples were chunked
_HOLE = "\x00"


def call_report(
    plan: BatchPlan, kb: KnowledgeBase, inputs: list[InputFile], sample: str, calls: list[GeneCall]
) -> CallReport:
    """The per-sample CallReport, as a model (the writer builds the same bytes from pieces)."""
    return CallReport(
        pgx_version=plan.pgx_version,
        knowledge_version=kb.version,
        input=inputs[0],
        inputs=inputs if len(inputs) > 1 else [],
        options=RunOptions(missing_to_ref=plan.options.missing_to_ref, genes=plan.options.genes),
        samples=[SampleResult(sample=sample, genes=calls)],
    )


class ChunkWriter:
    def __init__(
        self, plan: BatchPlan, out: Path, kb: KnowledgeBase, inputs: list[InputFile], rules: str | None
    ) -> None:
        self.plan, self.out, self.kb, self.inputs = plan, out, kb, inputs
        template = call_report(plan, kb, inputs, _HOLE, []).model_dump_json()
        hole = pydantic_core.to_json(_HOLE).decode()
        self.head, tail = template.split(hole)
        opening = ',"genes":['
        if not tail.startswith(opening + "]"):
            raise RuntimeError(f"unexpected CallReport layout after the sample name: {tail[:40]!r}")
        self.tail = (opening, tail[len(opening) :])
        self.pieces: dict[int, tuple[GeneCall, str, int]] = {}  # id(call) -> (call, JSON, row id)
        self.distinct_rows: list[list[str]] = []  # TSV cells after the sample, per distinct call
        self.row_samples: list[str] = []
        self.row_ids: list[int] = []
        self.rules = rules
        self.report_memo: dict[object, Any] = {}
        (out / SAMPLES_DIR).mkdir(exist_ok=True)
        if plan.options.report:
            (out / REPORTS_DIR).mkdir(exist_ok=True)

    def _piece(self, call: GeneCall) -> tuple[GeneCall, str, int]:
        hit = self.pieces.get(id(call))
        if hit is None:
            self.distinct_rows.append(gene_row("", call)[1:])
            hit = self.pieces[id(call)] = (call, call.model_dump_json(), len(self.distinct_rows) - 1)
        return hit

    def sample(self, i: int, calls: list[GeneCall], meds: list[str]) -> SampleStatus:
        sample, stem = self.plan.samples[i], self.plan.files[i]
        pieces = [self._piece(c) for c in calls]
        name = pydantic_core.to_json(sample).decode()
        text = self.head + name + self.tail[0] + ",".join(p[1] for p in pieces) + self.tail[1]
        rel = f"{SAMPLES_DIR}/{stem}.json"
        atomic_write_text(self.out / rel, text + "\n", fsync=False)
        cell = clean_cell(sample)
        for p in pieces:
            self.row_samples.append(cell)
            self.row_ids.append(p[2])
        report = self._report(stem, sample, calls, meds) if self.plan.options.report else None
        called = sum(c.status == "called" for c in calls)
        return SampleStatus(
            sample=sample,
            status="ok",
            file=rel,
            report=report,
            genes_called=called,
            genes_not_called=len(calls) - called,
        )

    def _report(self, stem: str, sample: str, calls: list[GeneCall], meds: list[str]) -> str:
        one = call_report(self.plan, self.kb, self.inputs, sample, calls)
        report = api.assess(
            one, medications=meds, knowledge=self.kb, rules=load_rules(self.rules), memo=self.report_memo
        )
        rel = f"{REPORTS_DIR}/{stem}"
        atomic_write_text(self.out / f"{rel}.json", api.render(report, "json"), fsync=False)
        atomic_write_text(self.out / f"{rel}.html", api.render(report, "html"), fsync=False)
        return f"{rel}.json"

    def finish(self, part: str) -> None:
        parts = self.out / PARTS_DIR
        parts.mkdir(parents=True, exist_ok=True)
        tails = ["\t".join(cells) for cells in self.distinct_rows]
        text = "".join(f"{s}\t{tails[r]}\n" for s, r in zip(self.row_samples, self.row_ids, strict=True))
        atomic_write_text(parts / f"{part}.tsv", text, fsync=False)
        table = self.table()
        atomic_write_bytes_from(parts / f"{part}.parquet", lambda tmp: pq.write_table(table, tmp))

    def table(self) -> pa.Table:
        ids = pa.array(self.row_ids, type=pa.int32())
        columns = {"sample": pa.array(self.row_samples, type=pa.string())}
        for c, name in enumerate(COLUMNS[1:]):
            values = pa.array([r[c] for r in self.distinct_rows], type=pa.string())
            columns[name] = pc.take(values, ids)
        return pa.table(columns)


def combine(out: Path, plan: BatchPlan, inputs: list[InputFile]) -> dict[str, str]:
    """calls.tsv and calls.parquet from the slice parts, in sample order, each written atomically."""
    parts = out / PARTS_DIR
    names = [slice_name(k, s) for k in range(len(plan.chunks)) for s in range(len(plan.slices(k)))]
    head = provenance_line(
        pgx=plan.pgx_version,
        knowledge=plan.knowledge_version,
        input=", ".join(i.name for i in inputs),
        sha256=", ".join(i.sha256 for i in inputs),
        schema=CallReport.model_fields["schema_version"].default,
    )

    def write_tsv(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(head + "\n" + "\t".join(COLUMNS) + "\n")
            for name in names:
                with open(parts / f"{name}.tsv", encoding="utf-8") as part:
                    shutil.copyfileobj(part, fh)

    atomic_write_bytes_from(out / CALLS_TSV, write_tsv)
    schema = pa.schema(
        [(c, pa.string()) for c in COLUMNS],
        metadata={
            "pgx": plan.pgx_version,
            "knowledge": plan.knowledge_version,
            "inputs": ", ".join(f"{i.name} sha256:{i.sha256}" for i in inputs),
        },
    )

    def write_parquet(tmp: str) -> None:
        with pq.ParquetWriter(tmp, schema) as writer:
            pending: list[pa.Table] = []
            rows = 0
            for name in names:
                table = pq.read_table(parts / f"{name}.parquet").replace_schema_metadata(schema.metadata)
                pending.append(table)
                rows += table.num_rows
                while rows >= ROW_GROUP:
                    merged = pa.concat_tables(pending)
                    writer.write_table(merged.slice(0, ROW_GROUP))
                    pending, rows = [merged.slice(ROW_GROUP)], rows - ROW_GROUP
            if rows:
                writer.write_table(pa.concat_tables(pending))

    atomic_write_bytes_from(out / CALLS_PARQUET, write_parquet)
    return {
        "calls_tsv": CALLS_TSV,
        "calls_parquet": CALLS_PARQUET,
        "samples": f"{SAMPLES_DIR}/",
        **({"reports": f"{REPORTS_DIR}/"} if plan.options.report else {}),
    }
