"""Plan a batch: which inputs, which samples in which chunks, and whether an output folder can resume.

Planning reads headers only (and hashes the inputs); records are read by the chunk workers.
The plan is saved in the output folder before any result, so a rerun after a crash finds
the same chunks and skips the finished ones. A folder holding a batch of other inputs or
options is refused rather than mixed.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

from pgx import __version__
from pgx.batch.models import BatchInput, BatchOptions, BatchPlan
from pgx.calling.models import InputFile
from pgx.errors import BatchError, UsageError
from pgx.fileio import atomic_write_text, sha256_file
from pgx.knowledge.loader import KnowledgeBase
from pgx.vcf.reader import read_header

STATE = ".pgx-batch"
PLAN = f"{STATE}/plan.json"
DEFAULT_CHUNK = 10_000
SLICE = 1_000  # samples written by one task: small enough to spread a chunk's writing over the workers
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def inspect_inputs(vcfs: list[Path]) -> tuple[list[BatchInput], list[list[str]]]:
    """Each input's identity and sample list; the same file twice is refused."""
    inputs, sample_lists = [], []
    seen: dict[str, str] = {}
    for vcf in vcfs:
        header, kind, indexed = read_header(vcf)
        digest = sha256_file(vcf)
        if digest in seen:
            raise UsageError(f"{vcf}: same content as {seen[digest]}; give each input once")
        seen[digest] = str(vcf)
        inputs.append(
            BatchInput(
                path=str(vcf),
                name=Path(vcf).name,
                sha256=digest,
                format=kind.value,
                indexed=indexed,
                samples_in_file=len(header.samples),
            )
        )
        sample_lists.append(header.samples)
    return inputs, sample_lists


def read_sample_list(path: Path, known: set[str]) -> list[str]:
    """One sample per line; blank lines and ``#`` comments are skipped; every name must be in an input."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(path, f"cannot read sample list: {exc}") from None
    out: dict[str, int] = {}
    for lineno, raw in enumerate(lines, start=1):
        name = raw.strip()
        if not name or name.startswith("#"):
            continue
        if name not in known:
            raise BatchError(path, f"sample {name!r} is in none of the input VCFs", line=lineno)
        if name in out:
            raise BatchError(path, f"sample {name!r} listed twice (first on line {out[name]})", line=lineno)
        out[name] = lineno
    if not out:
        raise BatchError(path, "no samples listed")
    return list(out)


def file_stems(samples: list[str]) -> list[str]:
    """A file name per sample: the name itself when it is safe, else a cleaned name plus a short hash.

    Case-insensitive file systems would merge ``S1`` and ``s1``, so names equal but for case
    get the hash too.
    """
    folded: dict[str, int] = {}
    for s in samples:
        folded[s.lower()] = folded.get(s.lower(), 0) + 1
    out = []
    for s in samples:
        stem = _UNSAFE.sub("_", s)
        if stem != s or stem.startswith(".") or folded[s.lower()] > 1 or not stem:
            stem = f"{stem.lstrip('.')[:80]}-{hashlib.sha256(s.encode('utf-8')).hexdigest()[:10]}"
        out.append(stem)
    return out


def chunk_starts(n: int, chunk_size: int) -> list[int]:
    """Equal chunks of at most ``chunk_size``: reading costs a pass over the inputs' PGx regions
    per chunk, so chunks are only as many as memory needs, and workers share a chunk's inputs."""
    count = max(1, math.ceil(n / chunk_size))
    size = math.ceil(n / count) if n else 1
    return list(range(0, n, size)) or [0]


def make_plan(
    kb: KnowledgeBase,
    vcfs: list[Path],
    options: BatchOptions,
    samples_file: Path | None,
    rules_version: str | None,
    chunk_size: int,
) -> BatchPlan:
    inputs, sample_lists = inspect_inputs(vcfs)
    union = list(dict.fromkeys(s for names in sample_lists for s in names))
    if not union:
        raise UsageError("the input VCFs hold no samples")
    samples = read_sample_list(samples_file, set(union)) if samples_file is not None else union
    return BatchPlan(
        pgx_version=__version__,
        knowledge_version=kb.version,
        rules_version=rules_version,
        inputs=inputs,
        options=options,
        samples=samples,
        files=file_stems(samples),
        chunks=chunk_starts(len(samples), chunk_size),
        slice_size=min(SLICE, chunk_size),
    )


def settle_plan(outdir: Path, plan: BatchPlan) -> tuple[BatchPlan, bool]:
    """The plan to run in ``outdir``: the saved one when it matches (resume), else ``plan`` saved now.

    Chunk boundaries come from the saved plan on resume, whatever --chunk-size says now, so the
    finished slices stay valid.
    """
    saved_file = outdir / PLAN
    if saved_file.is_file():
        try:
            saved = BatchPlan.model_validate_json(saved_file.read_text(encoding="utf-8"))
        except ValueError:
            raise BatchError(saved_file, "unreadable batch plan; remove the output folder and start again") from None
        differs = [
            k
            for k in ("pgx_version", "knowledge_version", "rules_version", "inputs", "options", "samples")
            if getattr(saved, k) != getattr(plan, k)
        ]
        for stale in outdir.rglob(".*.part"):  # temporary files of a killed run: never results
            stale.unlink(missing_ok=True)
        if differs:
            raise BatchError(
                outdir,
                f"holds a batch with different {', '.join(differs)}",
                hint="give a new {output} folder, or remove this one to start again",
            )
        return saved, True
    if outdir.exists() and any(p.name != STATE for p in outdir.iterdir()):
        raise BatchError(
            outdir, "output folder is not empty and holds no pgx batch", hint="give a new or empty {output} folder"
        )
    (outdir / STATE / "chunks").mkdir(parents=True, exist_ok=True)
    atomic_write_text(saved_file, plan.model_dump_json(indent=2) + "\n")
    return plan, False


def describe(path: Path, kind: str) -> InputFile:
    """A side file (sample list, medication table) as provenance: name and hash."""
    return InputFile(name=path.name, sha256=sha256_file(path), format=kind)


def read_meds_table(path: Path, samples: set[str]) -> dict[str, list[str]]:
    """Per-sample current medications: a TSV with a ``sample`` and a ``medications`` column
    (comma-separated names); samples without a row take none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(path, f"cannot read medication table: {exc}") from None
    rows = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.startswith("#")]
    if not rows:
        raise BatchError(path, "empty medication table", hint="first line: sample<TAB>medications")
    header_line, header = rows[0]
    columns = header.rstrip("\r").split("\t")
    if "sample" not in columns or "medications" not in columns:
        raise BatchError(path, f"header needs 'sample' and 'medications' columns, found {columns}", line=header_line)
    si, mi = columns.index("sample"), columns.index("medications")
    out: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    for lineno, line in rows[1:]:
        cells = line.rstrip("\r").split("\t")
        if len(cells) != len(columns):
            raise BatchError(path, f"{len(cells)} columns, the header has {len(columns)}", line=lineno)
        sample = cells[si].strip()
        if sample not in samples:
            raise BatchError(path, f"sample {sample!r} is not in the batch", line=lineno)
        if sample in first:
            raise BatchError(path, f"sample {sample!r} appears twice (first on line {first[sample]})", line=lineno)
        first[sample] = lineno
        out[sample] = [m.strip() for m in cells[mi].split(",") if m.strip()]
    return out
