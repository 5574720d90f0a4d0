"""``/v1/jobs``: a pipeline submits a VCF, polls the job, and fetches each sample's drug report."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from pgx.errors import PgxError
from pgx.service.config import ServiceSettings
from pgx.service.core import ApiError, ServiceDep, audit, need
from pgx.service.db import Job, SampleReport, User
from pgx.service.jobs import UploadTooLarge, check_inputs, display_name, shown, store_upload

log = logging.getLogger("pgx.service")

router = APIRouter(tags=["jobs"])


class JobLinks(BaseModel):
    self: str
    reports: dict[str, str] = Field(default_factory=dict, description="sample -> report URL, once done")


class JobView(BaseModel):
    id: str
    status: str = Field(description="queued, running, done or failed")
    error: str | None = Field(None, description="Why the job failed")
    input_name: str
    input_sha256: str
    samples: list[str] | None
    medications: list[str]
    rules_version: str | None
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    links: JobLinks


def _iso(t: Any) -> str | None:
    return t.isoformat() + "Z" if t is not None else None


def job_view(job: Job, reports: list[str]) -> JobView:
    base = f"/v1/jobs/{job.id}"
    return JobView(
        id=job.id,
        status=job.status,
        error=job.error,
        input_name=job.input_name,
        input_sha256=job.input_sha256,
        samples=job.samples,
        medications=job.medications,
        rules_version=job.rules_version,
        attempts=job.attempts,
        created_at=_iso(job.created_at) or "",
        started_at=_iso(job.started_at),
        finished_at=_iso(job.finished_at),
        links=JobLinks(self=base, reports={s: f"{base}/samples/{s}/report" for s in reports}),
    )


async def _store(upload: UploadFile, settings: ServiceSettings) -> tuple[str, str]:
    """The upload copied under a random name in the uploads folder: (stored name, SHA-256)."""
    return await run_in_threadpool(store_upload, upload.file, settings.uploads, settings.max_upload_bytes)


def _listed(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


@router.post("/v1/jobs", status_code=202, response_model=JobView)
async def submit(
    user: Annotated[User, Depends(need("submit"))],
    svc: ServiceDep,
    vcf: Annotated[UploadFile, File(description="VCF, VCF.gz or BCF")],
    samples: Annotated[str | None, Form(description="Comma-separated sample names (default: all)")] = None,
    medications: Annotated[str | None, Form(description="Comma-separated current medications")] = None,
    outside_calls: Annotated[UploadFile | None, File(description="Outside-call TSV")] = None,
) -> JobView:
    """Check the upload, then queue it; poll the returned job until it is done."""
    settings = svc.settings
    name = display_name(vcf.filename, "upload.vcf")
    try:
        stored, sha = await _store(vcf, settings)
        outside_stored = outside_name = None
        if outside_calls is not None:
            outside_name = display_name(outside_calls.filename, "outside_calls.tsv")
            outside_stored, _ = await _store(outside_calls, settings)
    except UploadTooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from None
    wanted = _listed(samples) or None
    meds = [x.lower() for x in _listed(medications)]
    paths = {str(settings.uploads / stored): name}
    if outside_stored:
        paths[str(settings.uploads / outside_stored)] = outside_name or "outside_calls.tsv"
    try:
        found = await run_in_threadpool(
            check_inputs,
            settings.uploads / stored,
            wanted,
            settings.uploads / outside_stored if outside_stored else None,
        )
    except PgxError as exc:
        for p in paths:
            Path(p).unlink(missing_ok=True)
        raise ApiError(422, "invalid_input", shown(exc, paths)) from None
    ruleset, rules_version = await run_in_threadpool(svc.active_rules)
    job = Job(
        id=uuid.uuid4().hex,
        status="queued",
        input_name=name,
        input_sha256=sha,
        stored_name=stored,
        outside_stored_name=outside_stored,
        outside_name=outside_name,
        samples=wanted or found,
        medications=meds,
        ruleset_id=ruleset.id if ruleset else None,
        rules_version=rules_version,
        submitted_by=user.id,
        attempts=0,
    )
    with svc.db.session() as s:
        s.add(job)
        after = {"input_sha256": sha, "samples": len(job.samples or [])}
        audit(s, user, "submit", "job", job.id, None, after, None, rules_version)
    svc.runner.notify()
    log.info("job %s queued (%d samples)", job.id, len(job.samples or []))
    return job_view(job, [])


@router.get("/v1/jobs/{job_id}", response_model=JobView)
def job_status(job_id: str, _: Annotated[User, Depends(need("read"))], svc: ServiceDep) -> JobView:
    with svc.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id}")
        done = s.scalars(select(SampleReport.sample).where(SampleReport.job_id == job_id)).all()
    return job_view(job, list(done))


@router.get(
    "/v1/jobs/{job_id}/samples/{sample}/report",
    responses={200: {"content": {"application/json": {}, "text/html": {}}}},
)
def sample_report(
    job_id: str,
    sample: str,
    _: Annotated[User, Depends(need("read"))],
    svc: ServiceDep,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
) -> Response:
    """The drug report of one sample (the JSON follows schemas/drug-report.schema.json)."""
    with svc.db.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise ApiError(404, "not_found", f"no job {job_id}")
        row = s.scalar(select(SampleReport).where(SampleReport.job_id == job_id, SampleReport.sample == sample))
    if row is None:
        if job.status != "done":
            raise ApiError(409, "not_ready", f"job {job_id} is {job.status}; the report is there once it is done")
        raise ApiError(404, "not_found", f"job {job_id} has no sample {sample!r}")
    if format == "html":
        # loaded on first use: the report model and its renderer pull in networkx and Jinja (~0.4 s at start-up)
        from pgx.report.html import render_html
        from pgx.report.models import DrugReport

        return HTMLResponse(render_html(DrugReport.model_validate_json(row.report_json)))
    return Response(row.report_json, media_type="application/json")
