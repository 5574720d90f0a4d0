"""Crash safety of `pgx serve`: a server killed in the middle of a job must neither lose nor duplicate results.

A real server runs as a subprocess in its own process group, so SIGKILL takes its job worker process down with it,
as a crash or an OOM kill would. After a restart on the same data dir and database, the interrupted job is found by
its stale heartbeat (--lease-seconds 2) and run again: it ends "done" with exactly one report per sample and no
duplicate review flags, or "failed" with an error saying it was interrupted once --max-attempts runs were cut short.
Never stuck "running". Runs on SQLite and, when PGX_TEST_POSTGRES_URL is set, on PostgreSQL.

The server helpers are in tests/service_support.py, shared with tests/test_service_browser.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.service_support import PgxServer, add_user, poll_job

COHORT = 400  # samples: one run takes 3-7 s here (cold worker, PostgreSQL: longest); the kill lands within 0.1 s
DIPLOTYPES = {  # cycled over the samples, so every sample has flagged drugs whose rows could be duplicated
    "CYP2C19": ["*2/*2", "*1/*17", "*2/*17"],
    "CYP2D6": ["*4/*4", "*1/*4", "*1/*1"],
    "DPYD": ["c.1905+1G>A (*2A)/Reference"],
}


# -- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated multi-sample VCF, big enough that one job over it runs for several seconds."""
    d = tmp_path_factory.mktemp("cohort")
    rows = ["sample\tgene\tdiplotype"]
    for i in range(COHORT):
        rows += [f"S{i:04d}\t{gene}\t{dips[i % len(dips)]}" for gene, dips in DIPLOTYPES.items()]
    spec = d / "cohort.spec.tsv"
    spec.write_text("\n".join(rows) + "\n")
    out = d / "cohort.vcf.gz"
    proc = subprocess.run(
        [sys.executable, "-m", "pgx", "simulate", "--spec", str(spec), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return out


def _db(data_dir: Path, database_url: str | None) -> Any:
    from sqlalchemy import create_engine

    return create_engine(database_url or f"sqlite:///{data_dir / 'pgx.sqlite3'}")


def _submit_and_kill_mid_job(
    server: PgxServer, client: httpx.Client, vcf: Path, data_dir: Path, database_url: str | None
) -> str:
    """Submit the cohort, SIGKILL the server as soon as the job runs, and check it really died mid-job."""
    from sqlalchemy import select

    from pgx.service.db import Job

    with vcf.open("rb") as fh:
        r = client.post("/v1/jobs", files={"vcf": (vcf.name, fh, "application/gzip")})
    assert r.status_code == 202, r.text + server.log_tail()
    job_id: str = r.json()["id"]
    seen: list[str] = []
    poll_job(server, client, job_id, ("running", "done", "failed"), 30, seen)
    assert seen[-1] == "running", f"job went {seen} before the kill" + server.log_tail()
    server.kill()
    engine = _db(data_dir, database_url)
    try:
        with engine.connect() as c:
            status, attempts = c.execute(select(Job.status, Job.attempts).where(Job.id == job_id)).one()
    finally:
        engine.dispose()
    assert (status, attempts) == ("running", 1), (
        f"the kill did not land mid-job (job is {status} after {attempts} attempt(s)): make COHORT bigger"
    )
    return job_id


def _crash_and_restart(
    data_dir: Path, db_url: str | None, vcf: Path, max_attempts: int
) -> tuple[PgxServer, str, dict[str, Any], list[str]]:
    """Start a server, kill it mid-job, restart it on the same state and wait for the job to end."""
    token = add_user(data_dir, db_url, "pipeline", "pipeline")
    server = PgxServer(data_dir, db_url, "--lease-seconds", "2", "--max-attempts", str(max_attempts))
    try:
        server.start()
        with server.client(token) as client:
            job_id = _submit_and_kill_mid_job(server, client, vcf, data_dir, db_url)
            server.start()  # same port, data dir and database
            seen: list[str] = []
            job = poll_job(server, client, job_id, ("done", "failed"), 60, seen)
    finally:
        server.stop()
    return server, job_id, job, seen


# -- tests -----------------------------------------------------------------------------------------------


def test_killed_job_is_rerun_once_after_restart(tmp_path: Path, db_url: str | None, cohort_vcf: Path) -> None:
    from sqlalchemy import func, select

    from pgx.service.db import ReviewFlag, SampleReport

    data_dir = tmp_path / "data"
    server, job_id, job, seen = _crash_and_restart(data_dir, db_url, cohort_vcf, max_attempts=2)

    assert job["status"] == "done", f"{job['status']}: {job['error']} (statuses {seen}){server.log_tail()}"
    assert job["attempts"] == 2 and job["error"] is None
    samples = [f"S{i:04d}" for i in range(COHORT)]
    assert job["samples"] == samples
    assert sorted(job["links"]["reports"]) == samples
    engine = _db(data_dir, db_url)
    try:
        with engine.connect() as c:
            reports = c.execute(
                select(SampleReport.sample, func.count())
                .where(SampleReport.job_id == job_id)
                .group_by(SampleReport.sample)
            ).all()
            flags = c.execute(
                select(ReviewFlag.sample, ReviewFlag.drug, func.count())
                .where(ReviewFlag.job_id == job_id)
                .group_by(ReviewFlag.sample, ReviewFlag.drug)
            ).all()
    finally:
        engine.dispose()
    assert sorted(s for s, _ in reports) == samples
    assert [r for r in reports if r[1] != 1] == [], "a sample has more than one report"
    assert flags, "no review flags at all: the cohort should flag drugs for every sample"
    assert {s for s, _, _ in flags} == set(samples)
    assert [f for f in flags if f[2] != 1] == [], "duplicate review flags for the same sample and drug"


def test_job_fails_with_a_reason_after_max_attempts(tmp_path: Path, db_url: str | None, cohort_vcf: Path) -> None:
    from sqlalchemy import func, select

    from pgx.service.db import ReviewFlag, SampleReport

    data_dir = tmp_path / "data"
    server, job_id, job, seen = _crash_and_restart(data_dir, db_url, cohort_vcf, max_attempts=1)

    assert job["status"] == "failed", f"{job['status']} (statuses {seen}){server.log_tail()}"
    assert "interrupted" in (job["error"] or ""), job["error"]
    assert job["attempts"] == 1 and job["links"]["reports"] == {}
    engine = _db(data_dir, db_url)
    try:
        with engine.connect() as c:
            for table in (SampleReport, ReviewFlag):
                n = c.execute(select(func.count()).select_from(table).where(table.job_id == job_id)).scalar_one()
                assert n == 0, f"a failed job left {n} rows in {table.__tablename__}"
    finally:
        engine.dispose()


def test_graceful_stop_leaves_no_worker_behind(tmp_path: Path) -> None:
    """SIGTERM to the server alone (``kill PID``, ``docker stop``) must end its job workers too."""
    data_dir = tmp_path / "data"
    token = add_user(data_dir, None, "pipeline", "pipeline")
    server = PgxServer(data_dir, None)
    try:
        server.start()
        with server.client(token) as client, (REPO / "sample_vcfs" / "patient_001.vcf").open("rb") as fh:
            job_id = client.post("/v1/jobs", files={"vcf": ("p.vcf", fh)}).json()["id"]
            assert poll_job(server, client, job_id, ("done", "failed"), 60, [])["status"] == "done"
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(server.proc.pid, 0)  # anything left in the server's process group?
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("job worker processes outlived the server" + server.log_tail())
    finally:
        server.stop()
