"""The HTTP API (``/v1``) and the app factory that ties database, job workers and review pages together.

Every error is JSON ``{"error": {"status", "code", "message"}}`` with a 4xx/5xx status; messages about
input reuse the calling core's (file and line), with the uploaded file's own name in place of ours.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

import pgx
from pgx.errors import PgxError
from pgx.service import auth
from pgx.service.config import ServiceSettings
from pgx.service.db import AuditEntry, Database, Job, ReviewFlag, RuleSet, SampleReport, User, migrate, utcnow
from pgx.service.jobs import JobRunner, UploadTooLarge, check_inputs, display_name, shown, store_upload

log = logging.getLogger("pgx.service")


class ApiError(HTTPException):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(status, message)
        self.code, self.extra = code, extra


def error_body(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, **extra}}


# -- response models (the OpenAPI spec is generated from these) ----------------------------------------


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


class GeneView(BaseModel):
    gene: str
    chromosome: str | None
    alleles: int


class GenesView(BaseModel):
    knowledge_version: str
    genes: list[GeneView]


class RulesVersionView(BaseModel):
    pgx_version: str
    knowledge_version: str
    rules_version: str
    ruleset_id: int | None = Field(None, description="Uploaded rule set in use; null: the rules shipped with pgx")


class FlagView(BaseModel):
    id: int
    job_id: str
    sample: str
    drug: str
    genes: list[str]
    level: str
    action: str | None
    status: str
    decision_reason: str | None
    version: int
    rules_version: str | None


class Decision(BaseModel):
    decision: str = Field(pattern="^(accept|override|escalate)$")
    reason: str | None = Field(None, max_length=2000)
    version: int = Field(description="The flag version the reviewer saw; a newer one means someone else acted")


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    role: str = Field(pattern="^(pipeline|pharmacist|curator|admin)$")
    password: str | None = Field(None, min_length=12, max_length=1024, description="For people using the pages")
    token: bool = Field(True, description="Create an API token (returned once, only its hash is stored)")


class UserView(BaseModel):
    name: str
    role: str
    active: bool
    has_password: bool
    has_token: bool
    token: str | None = Field(None, description="Only in the response that created it")


class UserUpdate(BaseModel):
    active: bool


class RuleSetView(BaseModel):
    id: int
    version: str
    status: str
    active: bool
    problems: list[str]
    tests_passed: int
    tests_failed: int


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


def flag_view(f: ReviewFlag) -> FlagView:
    return FlagView(
        id=f.id,
        job_id=f.job_id,
        sample=f.sample,
        drug=f.drug,
        genes=f.genes,
        level=f.level,
        action=f.action,
        status=f.status,
        decision_reason=f.decision_reason,
        version=f.version,
        rules_version=f.rules_version,
    )


# -- shared service state --------------------------------------------------------------------------------


class Service:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.url)
        self.db = Database(settings.url)
        self.runner = JobRunner(self.db, settings)

    def active_rules(self) -> tuple[RuleSet | None, str]:
        from pgx.rules.loader import load_rules

        with self.db.session() as s:
            rs = s.scalar(select(RuleSet).where(RuleSet.active.is_(True)))
        return rs, (rs.version if rs is not None else load_rules().version)


def _service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def current_user(request: Request) -> User:
    """A bearer token (pipelines, scripts) or the review pages' session cookie (people)."""
    svc = _service(request)
    header = request.headers.get("authorization", "")
    with svc.db.session() as s:
        if header.lower().startswith("bearer "):
            user = auth.user_for_token(s, header[7:].strip())
        elif request.method == "GET" and request.scope.get("session", {}).get("uid") is not None:
            # a browser session may read; writes through /v1 need a token (forms have their own CSRF check)
            user = s.get(User, request.session["uid"])
            user = user if user is not None and user.active else None
        else:
            user = None
    if user is None:
        raise ApiError(401, "unauthenticated", "no valid API token: send 'Authorization: Bearer <token>'")
    return user


def need(permission: str):  # type: ignore[no-untyped-def]
    def dep(user: Annotated[User, Depends(current_user)]) -> User:
        if not auth.allowed(user, permission):
            raise ApiError(403, "forbidden", f"role {user.role!r} may not {permission}")
        return user

    return dep


def audit(
    s: Any,
    actor: User,
    action: str,
    obj_type: str,
    obj_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    rules_version: str | None,
) -> None:
    s.add(
        AuditEntry(
            actor=actor.name,
            action=action,
            object_type=obj_type,
            object_id=obj_id,
            before=before,
            after=after,
            reason=reason,
            rules_version=rules_version,
        )
    )


def decide(svc: Service, user: User, flag_id: int, d: Decision) -> ReviewFlag:
    """Apply a review decision if the flag is still at the version the reviewer saw (optimistic locking)."""
    status = {"accept": "accepted", "override": "overridden", "escalate": "escalated"}[d.decision]
    reason = (d.reason or "").strip() or None
    if d.decision in ("override", "escalate") and not reason:
        raise ApiError(422, "reason_required", f"a reason is required to {d.decision} a flag")
    with svc.db.session() as s:
        flag = s.get(ReviewFlag, flag_id)
        if flag is None:
            raise ApiError(404, "not_found", f"no flag {flag_id}")
        before = {"status": flag.status, "reason": flag.decision_reason, "version": flag.version}
        changed = s.execute(
            update(ReviewFlag)
            .where(ReviewFlag.id == flag_id, ReviewFlag.version == d.version)
            .values(
                status=status,
                decision_reason=reason,
                decided_by=user.id,
                decided_at=utcnow(),
                version=ReviewFlag.version + 1,
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            s.rollback()
            with svc.db.session() as s2:
                now = s2.get(ReviewFlag, flag_id)
                assert now is not None
                raise ApiError(
                    409,
                    "conflict",
                    f"flag {flag_id} was changed by someone else (now {now.status}, "
                    f"version {now.version}); reload it and decide again",
                    current=flag_view(now).model_dump(),
                )
        after = {"status": status, "reason": reason, "version": d.version + 1}
        audit(s, user, d.decision, "flag", str(flag_id), before, after, reason, flag.rules_version)
    with svc.db.session() as s:
        out = s.get(ReviewFlag, flag_id)
        assert out is not None
        return out


# -- the app ---------------------------------------------------------------------------------------------


def create_app(settings: ServiceSettings) -> FastAPI:
    svc = Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.runner.start()
        yield
        svc.runner.stop()

    app = FastAPI(
        title="pgx",
        version=pgx.__version__,
        lifespan=lifespan,
        description="Pharmacogenomic calls, drug flags and pharmacist review over HTTP.",
    )
    app.state.service = svc

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = getattr(
            exc,
            "code",
            {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
                exc.status_code, "error"
            ),
        )
        extra = getattr(exc, "extra", {})
        return JSONResponse(
            error_body(exc.status_code, code, str(exc.detail), **extra),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse(error_body(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}"), 422)

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes + 1024 * 1024:
            return JSONResponse(
                error_body(
                    413,
                    "too_large",
                    f"request of {length} bytes is over the upload limit of {settings.max_upload_bytes} bytes",
                ),
                413,
            )
        return await call_next(request)

    @app.post("/v1/jobs", status_code=202, response_model=JobView, tags=["jobs"])
    async def submit(
        user: Annotated[User, Depends(need("submit"))],
        vcf: Annotated[UploadFile, File(description="VCF, VCF.gz or BCF")],
        samples: Annotated[str | None, Form(description="Comma-separated sample names (default: all)")] = None,
        medications: Annotated[str | None, Form(description="Comma-separated current medications")] = None,
        outside_calls: Annotated[UploadFile | None, File(description="Outside-call TSV")] = None,
    ) -> JobView:
        """Check the upload, then queue it; poll the returned job until it is done."""
        name = display_name(vcf.filename, "upload.vcf")
        try:
            stored, sha = await run_in_threadpool(store_upload, vcf.file, settings.uploads, settings.max_upload_bytes)
            outside_stored = outside_name = None
            if outside_calls is not None:
                outside_name = display_name(outside_calls.filename, "outside_calls.tsv")
                outside_stored, _ = await run_in_threadpool(
                    store_upload, outside_calls.file, settings.uploads, settings.max_upload_bytes
                )
        except UploadTooLarge as exc:
            raise ApiError(413, "too_large", str(exc)) from None
        wanted = [x.strip() for x in (samples or "").split(",") if x.strip()] or None
        meds = [x.strip().lower() for x in (medications or "").split(",") if x.strip()]
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
            audit(
                s,
                user,
                "submit",
                "job",
                job.id,
                None,
                {"input_sha256": sha, "samples": len(job.samples or [])},
                None,
                rules_version,
            )
        svc.runner.notify()
        log.info("job %s queued (%d samples)", job.id, len(job.samples or []))
        return job_view(job, [])

    @app.get("/v1/jobs/{job_id}", response_model=JobView, tags=["jobs"])
    def job_status(job_id: str, _: Annotated[User, Depends(need("read"))]) -> JobView:
        with svc.db.session() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise ApiError(404, "not_found", f"no job {job_id}")
            done = s.scalars(select(SampleReport.sample).where(SampleReport.job_id == job_id)).all()
        return job_view(job, list(done))

    @app.get(
        "/v1/jobs/{job_id}/samples/{sample}/report",
        tags=["jobs"],
        responses={200: {"content": {"application/json": {}, "text/html": {}}}},
    )
    def sample_report(
        job_id: str,
        sample: str,
        _: Annotated[User, Depends(need("read"))],
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
            from pgx.report.drugs import DrugReport
            from pgx.report.html import render_html

            return HTMLResponse(render_html(DrugReport.model_validate_json(row.report_json)))
        return Response(row.report_json, media_type="application/json")

    @app.get("/v1/genes", response_model=GenesView, tags=["knowledge"])
    def genes(_: Annotated[User, Depends(need("info"))]) -> GenesView:
        from pgx.knowledge.loader import load_knowledge

        kb = load_knowledge()
        return GenesView(
            knowledge_version=kb.version,
            genes=[
                GeneView(gene=g.gene, chromosome=getattr(g, "chromosome", None), alleles=len(g.named_alleles))
                for g in kb.genes.values()
            ],
        )

    @app.get("/v1/rules/version", response_model=RulesVersionView, tags=["knowledge"])
    def rules_version(_: Annotated[User, Depends(need("info"))]) -> RulesVersionView:
        from pgx.knowledge.loader import load_knowledge

        rs, version = svc.active_rules()
        return RulesVersionView(
            pgx_version=pgx.__version__,
            knowledge_version=load_knowledge().version,
            rules_version=version,
            ruleset_id=rs.id if rs else None,
        )

    @app.get("/v1/flags", response_model=list[FlagView], tags=["review"])
    def flags(
        _: Annotated[User, Depends(need("review"))],
        status: str | None = None,
        level: str | None = None,
        drug: str | None = None,
        gene: str | None = None,
        sample: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[FlagView]:
        from pgx.service.review import query_flags

        with svc.db.session() as s:
            rows = query_flags(s, status=status, level=level, drug=drug, gene=gene, sample=sample, limit=limit)
            return [flag_view(f) for f in rows]

    @app.post(
        "/v1/flags/{flag_id}/decision",
        response_model=FlagView,
        tags=["review"],
        responses={409: {"description": "The flag changed since the reviewer loaded it"}},
    )
    def decide_flag(flag_id: int, d: Decision, user: Annotated[User, Depends(need("review"))]) -> FlagView:
        return flag_view(decide(svc, user, flag_id, d))

    @app.post("/v1/rulesets", response_model=RuleSetView, tags=["curation"])
    async def upload_ruleset(
        user: Annotated[User, Depends(need("curate"))],
        archive: Annotated[UploadFile, File(description="rules/ folder as .tar.gz or .zip")],
    ) -> RuleSetView:
        """Upload a rule set; it is validated and its rule tests run. Activate it separately."""
        from pgx.service.rulesets import check_ruleset

        try:
            stored, _ = await run_in_threadpool(store_upload, archive.file, settings.uploads, settings.max_upload_bytes)
        except UploadTooLarge as exc:
            raise ApiError(413, "too_large", str(exc)) from None
        name = display_name(archive.filename, "rules archive")
        try:
            return await run_in_threadpool(check_ruleset, svc, user, settings.uploads / stored, name)
        except PgxError as exc:
            raise ApiError(422, "invalid_input", shown(exc, {str(settings.uploads / stored): name})) from None
        finally:
            (settings.uploads / stored).unlink(missing_ok=True)

    @app.post("/v1/rulesets/{ruleset_id}/activate", response_model=RuleSetView, tags=["curation"])
    def activate(ruleset_id: int, user: Annotated[User, Depends(need("curate"))]) -> RuleSetView:
        from pgx.service.rulesets import activate_ruleset

        return activate_ruleset(svc, user, ruleset_id)

    def user_view(u: User, token: str | None = None) -> UserView:
        return UserView(
            name=u.name,
            role=u.role,
            active=u.active,
            has_password=bool(u.password_hash),
            has_token=bool(u.token_hash),
            token=token,
        )

    @app.get("/v1/users", response_model=list[UserView], tags=["admin"])
    def users(_: Annotated[User, Depends(need("admin"))]) -> list[UserView]:
        with svc.db.session() as s:
            return [user_view(u) for u in s.scalars(select(User).order_by(User.name)).all()]

    @app.post("/v1/users", response_model=UserView, status_code=201, tags=["admin"])
    def create_user(body: NewUser, admin: Annotated[User, Depends(need("admin"))]) -> UserView:
        with svc.db.session() as s:
            try:
                token = auth.add_user(s, body.name, body.role, password=body.password, with_token=body.token)
            except PgxError as exc:
                raise ApiError(422, "invalid_request", str(exc)) from None
            s.flush()
            created = s.scalar(select(User).where(User.name == body.name))
            assert created is not None
            audit(s, admin, "create", "user", body.name, None, {"role": body.role}, None, None)
            return user_view(created, token)

    @app.patch("/v1/users/{name}", response_model=UserView, tags=["admin"])
    def update_user(name: str, body: UserUpdate, admin: Annotated[User, Depends(need("admin"))]) -> UserView:
        with svc.db.session() as s:
            u = s.scalar(select(User).where(User.name == name))
            if u is None:
                raise ApiError(404, "not_found", f"no user {name!r}")
            if u.id == admin.id and not body.active:
                raise ApiError(409, "conflict", "an admin cannot deactivate themself")
            before = {"active": u.active}
            u.active = body.active
            audit(s, admin, "update", "user", name, before, {"active": body.active}, None, None)
            return user_view(u)

    from pgx.service.review import mount_review

    mount_review(app, svc)
    return app
