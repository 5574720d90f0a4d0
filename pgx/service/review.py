"""The pharmacists' review pages: a queue of flagged drug-gene interactions, a detail view, decisions.

Server-rendered (Jinja2, autoescaped), no JavaScript needed, no external assets. People log in with a
password (argon2, rate-limited); the session cookie is signed, HttpOnly, SameSite=strict and Secure unless
the service runs on plain-HTTP loopback; every form carries a CSRF token bound to the session.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from pgx.service import auth
from pgx.service.db import AuditEntry, ReviewFlag, SampleReport, User

if TYPE_CHECKING:
    from pgx.service.api import Service

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
SEVERITY = ("contraindicated", "change", "caution")


def query_flags(
    s: Session,
    *,
    status: str | None = None,
    level: str | None = None,
    drug: str | None = None,
    gene: str | None = None,
    sample: str | None = None,
    limit: int = 200,
) -> list[ReviewFlag]:
    q = select(ReviewFlag)
    if status:
        q = q.where(ReviewFlag.status == status)
    if level:
        q = q.where(ReviewFlag.level == level)
    if drug:
        q = q.where(ReviewFlag.drug == drug.lower())
    if sample:
        q = q.where(ReviewFlag.sample == sample)
    rows = list(s.scalars(q.order_by(ReviewFlag.id)).all())
    if gene:  # genes are a JSON list: filtered here, portable across SQLite and PostgreSQL
        rows = [r for r in rows if gene.upper() in (g.upper() for g in r.genes)]
    rows.sort(key=lambda r: (r.status != "open", SEVERITY.index(r.level) if r.level in SEVERITY else 9, r.id))
    return rows[:limit]


def _page(name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("user", None)
    ctx["csrf"] = request.session.get("csrf", "")
    return HTMLResponse(_env.get_template(name).render(**ctx), status_code=status)


def mount_review(app: FastAPI, svc: Service) -> None:
    settings = svc.settings
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret(),
        session_cookie="pgx_session",
        https_only=settings.secure_cookies,
        same_site="strict",
        max_age=8 * 3600,
    )

    def person(request: Request) -> User | None:
        uid = request.session.get("uid")
        if uid is None:
            return None
        with svc.db.session() as s:
            user = s.get(User, uid)
        return user if user is not None and user.active and auth.allowed(user, "review") else None

    def check_csrf(request: Request, token: str) -> None:
        expected = request.session.get("csrf", "")
        if not expected or not hmac.compare_digest(expected, token):
            raise HTTPException(403, "the form expired or did not come from this site (CSRF check); reload it")

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/review", status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return _page("login.html.j2", request)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Annotated[str, Form()],
    ) -> Response:
        check_csrf(request, csrf)
        address = request.client.host if request.client else "unknown"
        with svc.db.session() as s:
            if auth.login_blocked(s, username, address, settings.login_failures_allowed, settings.login_window_seconds):
                return _page(
                    "login.html.j2", request, 429, error="Too many failed logins; wait a few minutes and try again."
                )
            user = s.scalar(select(User).where(User.name == username))
            ok = user is not None and auth.check_password(user, password)
            auth.record_login(s, username, address, ok)
        if not ok or user is None:
            return _page("login.html.j2", request, 401, error="Wrong user name or password.")
        request.session.clear()
        request.session.update(uid=user.id, csrf=secrets.token_urlsafe(32))  # new session: no fixation
        return RedirectResponse("/review", status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
        check_csrf(request, csrf)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/review", include_in_schema=False)
    def queue(
        request: Request,
        status: str | None = "open",
        level: str | None = None,
        drug: str | None = None,
        gene: str | None = None,
        sample: str | None = None,
    ) -> Response:
        user = person(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        filters = {
            "status": status or None,
            "level": level or None,
            "drug": drug or None,
            "gene": gene or None,
            "sample": sample or None,
        }
        with svc.db.session() as s:
            rows = query_flags(s, **filters, limit=500)
            counts = dict(s.execute(select(ReviewFlag.status, func.count()).group_by(ReviewFlag.status)).all())
        return _page(
            "queue.html.j2",
            request,
            user=user,
            flags=rows,
            filters=filters,
            counts=counts,
            levels=SEVERITY,
            statuses=("open", "accepted", "overridden", "escalated"),
        )

    @app.get("/review/flags/{flag_id}", include_in_schema=False)
    def detail(request: Request, flag_id: int) -> Response:
        user = person(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        from pgx.report.drugs import DrugReport

        with svc.db.session() as s:
            flag = s.get(ReviewFlag, flag_id)
            if flag is None:
                raise HTTPException(404, f"no flag {flag_id}")
            row = s.scalar(
                select(SampleReport).where(SampleReport.job_id == flag.job_id, SampleReport.sample == flag.sample)
            )
            trail = s.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == "flag", AuditEntry.object_id == str(flag_id))
                .order_by(AuditEntry.id)
            ).all()
        report = DrugReport.model_validate_json(row.report_json) if row else None
        sample = report.samples[0] if report else None
        drug = next((d for d in sample.drugs if d.drug == flag.drug), None) if sample else None
        calls = [g for g in sample.genes if g.gene in flag.genes] if sample else []
        return _page(
            "flag.html.j2",
            request,
            user=user,
            flag=flag,
            drug=drug,
            calls=calls,
            trail=trail,
            report=report,
            conversions=sample.phenoconversions if sample else [],
            error=request.query_params.get("error"),
        )

    @app.post("/review/flags/{flag_id}", include_in_schema=False)
    def act(
        request: Request,
        flag_id: int,
        decision: Annotated[str, Form()],
        version: Annotated[int, Form()],
        csrf: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        check_csrf(request, csrf)
        user = person(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        from pgx.service.api import ApiError, Decision, decide

        try:
            decide(svc, user, flag_id, Decision(decision=decision, reason=reason or None, version=version))
        except ApiError as exc:
            if exc.status_code in (409, 422):
                return RedirectResponse(f"/review/flags/{flag_id}?error={exc.code}", status_code=303)
            raise
        return RedirectResponse(f"/review/flags/{flag_id}", status_code=303)
