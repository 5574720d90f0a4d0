"""Jobs: an uploaded VCF checked before it is queued, then run off the request thread, crash-safe.

A job moves queued -> running -> done | failed. A worker claims a job with a conditional UPDATE (so two
workers never run the same one), keeps a heartbeat while it runs, and writes every result of the job in
the same transaction that marks it done, guarded by its attempt number: a job is either finished with
all its samples or not at all, and a worker that lost its claim can never add a second copy.
A server killed mid-job leaves a stale heartbeat; the next worker to look re-queues the job, or marks it
failed with the reason once it has been interrupted ``max_attempts`` times. Never stuck "running".
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import logging
import multiprocessing
import re
import threading
import traceback
import uuid
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pydantic import BaseModel
from sqlalchemy import select, update

from pgx import api
from pgx.calling.outside import read_outside_calls
from pgx.errors import InputError, PgxError
from pgx.knowledge.loader import load_knowledge
from pgx.rules.loader import load_rules
from pgx.rules.outcome import FlagLevel
from pgx.service.config import ServiceSettings
from pgx.service.db import Database, Job, ReviewFlag, RuleSet, SampleReport, rows_matched, utcnow
from pgx.vcf.reader import read_vcf
from pgx.vcf.targets import targets_for

log = logging.getLogger("pgx.service")

# the levels a pharmacist reviews, most severe first
REVIEW_LEVELS = (FlagLevel.contraindicated, FlagLevel.change, FlagLevel.caution)
CHUNK = 1024 * 1024


class UploadTooLarge(InputError):
    pass


def display_name(name: str | None, default: str) -> str:
    """An uploaded file's name is shown to people, never used as a path: last component, printable, short."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return (base if base.strip(".") else default)[:255]


def store_upload(stream: BinaryIO, folder: Path, limit: int) -> tuple[str, str]:
    """Copy an upload to a file named by a random id (atomically); returns (stored name, SHA-256)."""
    folder.mkdir(parents=True, exist_ok=True)
    stored = uuid.uuid4().hex
    tmp = folder / f"{stored}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with tmp.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(
                        f"upload larger than the limit of {limit} bytes",
                        hint="split the cohort or ask the administrator to raise max_upload_bytes",
                    )
                digest.update(chunk)
                out.write(chunk)
        tmp.replace(folder / stored)
    finally:
        tmp.unlink(missing_ok=True)
    return stored, digest.hexdigest()


def shown(error: PgxError, paths: dict[str, str]) -> str:
    """The calling core's message, with our storage paths replaced by the names the user uploaded."""
    text = str(error)
    for path, name in paths.items():
        text = text.replace(path, name)
    return text


def check_inputs(vcf: Path, samples: list[str] | None, outside: Path | None) -> list[str]:
    """Everything the calling core would refuse, found before the job is queued. Returns the samples."""
    kb = load_knowledge()
    data = read_vcf(vcf, targets_for(kb), samples)
    if outside is not None:
        read_outside_calls(outside, kb, data.samples)
    return list(data.samples)


class SampleOutput(BaseModel):
    sample: str
    report_json: str
    flags: list[dict[str, object]]


def compute(
    vcf: str,
    samples: list[str] | None,
    medications: list[str],
    outside: str | None,
    rules_dir: str | None,
    input_name: str,
) -> list[SampleOutput]:
    """The batch engine on one job's input: one report per sample, and the flags a pharmacist reviews.

    Runs in a worker process; everything it needs arrives as plain values.
    """
    rules = load_rules(rules_dir) if rules_dir else None
    report = api.assess_vcf(vcf, samples=samples, outside_calls=outside, medications=medications, rules=rules)
    report = report.model_copy(update={"input": report.input.model_copy(update={"name": input_name})})
    out = []
    for s in report.samples:
        one = report.model_copy(update={"samples": [s]})
        flags = [
            {"drug": d.drug, "genes": d.genes, "level": d.level.value, "action": d.action}
            for d in s.drugs
            if d.level in REVIEW_LEVELS
        ]
        out.append(SampleOutput(sample=s.sample, report_json=one.model_dump_json(), flags=flags))
    return out


class JobRunner:
    """Worker threads that claim queued jobs and run them in a process pool."""

    def __init__(self, db: Database, settings: ServiceSettings, poll_seconds: float = 0.5) -> None:
        self.db, self.settings, self.poll = db, settings, poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: cf.ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self.settings.workers <= 0:
            return
        self._pool = cf.ProcessPoolExecutor(self.settings.workers, mp_context=multiprocessing.get_context("spawn"))
        for i in range(self.settings.workers):
            t = threading.Thread(target=self._loop, name=f"pgx-job-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=5)
        if self._pool is not None:
            # uvicorn re-raises SIGTERM after shutdown, so exit handlers never run: end the workers here, or they
            # outlive the server. A job cut short stays "running" and is re-queued from its stale heartbeat.
            workers = list(getattr(self._pool, "_processes", {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for proc in workers:
                proc.terminate()
            for proc in workers:
                proc.join(timeout=5)

    def notify(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.reap_stale()
                claimed = self.claim()
                if claimed is None:
                    self._wake.wait(self.poll)
                    self._wake.clear()
                    continue
                self.run(*claimed)
            except Exception as exc:  # never let a worker thread die silently
                log.error("job worker error: %s", type(exc).__name__)
                self._stop.wait(self.poll)

    def reap_stale(self) -> None:
        cutoff = utcnow() - dt.timedelta(seconds=self.settings.lease_seconds)
        stale = (Job.status == "running") & (Job.heartbeat_at < cutoff)
        with self.db.session() as s:
            s.execute(update(Job).where(stale, Job.attempts < self.settings.max_attempts).values(status="queued"))
            s.execute(
                update(Job)
                .where(stale, Job.attempts >= self.settings.max_attempts)
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    error=f"interrupted {self.settings.max_attempts} time(s) while running (the worker stopped); "
                    "resubmit the file, and tell the administrator if it happens again",
                )
            )

    def claim(self) -> tuple[str, int] | None:
        with self.db.session() as s:
            ids = s.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.created_at).limit(5)).all()
            for job_id in ids:
                now = utcnow()
                done = s.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(status="running", attempts=Job.attempts + 1, started_at=now, heartbeat_at=now)
                )
                if rows_matched(done) == 1:
                    attempt = s.scalar(select(Job.attempts).where(Job.id == job_id))
                    return job_id, int(attempt or 0)
        return None

    def _heartbeat(self, job_id: str, attempt: int, finished: threading.Event) -> None:
        while not finished.wait(self.settings.lease_seconds / 3):
            try:
                with self.db.session() as s:
                    s.execute(
                        update(Job)
                        .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                        .values(heartbeat_at=utcnow())
                    )
            except Exception as exc:  # a busy or dropped database must not silently stop the heartbeat
                log.warning("job %s heartbeat failed (%s); retrying", job_id, type(exc).__name__)

    def run(self, job_id: str, attempt: int) -> None:
        with self.db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            ruleset = s.get(RuleSet, job.ruleset_id) if job.ruleset_id else None
        uploads = self.settings.uploads
        vcf = str(uploads / job.stored_name)
        outside = str(uploads / job.outside_stored_name) if job.outside_stored_name else None
        rules_dir = str(self.settings.rulesets / ruleset.stored_name) if ruleset else None
        finished = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job_id, attempt, finished), daemon=True)
        beat.start()
        try:
            assert self._pool is not None
            outputs = self._pool.submit(
                compute, vcf, job.samples, job.medications, outside, rules_dir, job.input_name
            ).result()
        except PgxError as exc:
            names = {vcf: job.input_name, **({outside: job.outside_name or "outside calls"} if outside else {})}
            self._finish(job_id, attempt, "failed", error=shown(exc, names))
            return
        except Exception as exc:
            # the exception's type and where it was raised; never its message, which may quote patient data
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            log.error("job %s failed: %s%s", job_id, type(exc).__name__, where)
            self._finish(
                job_id,
                attempt,
                "failed",
                error=f"internal error ({type(exc).__name__}); the administrator can find the job id in the server log",
            )
            return
        finally:
            finished.set()
        self._finish(job_id, attempt, "done", outputs=outputs, rules_version=job.rules_version)

    def _finish(
        self,
        job_id: str,
        attempt: int,
        status: str,
        *,
        error: str | None = None,
        outputs: list[SampleOutput] | None = None,
        rules_version: str | None = None,
    ) -> None:
        with self.db.session() as s:
            mine = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
                .values(status=status, error=error, finished_at=utcnow())
            )
            if rows_matched(mine) != 1:
                return  # re-claimed after our lease ran out: the other run writes the results
            for o in outputs or []:
                s.add(SampleReport(job_id=job_id, sample=o.sample, report_json=o.report_json))
                for f in o.flags:
                    s.add(
                        ReviewFlag(
                            job_id=job_id,
                            sample=o.sample,
                            drug=f["drug"],
                            genes=f["genes"],
                            level=f["level"],
                            action=f["action"],
                            status="open",
                            version=1,
                            rules_version=rules_version,
                        )
                    )
