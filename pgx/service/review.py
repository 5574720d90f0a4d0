"""The pharmacists' review pages: a queue of flagged drug-gene interactions, a detail view, decisions.

Server-rendered (Jinja2, autoescaped), no JavaScript needed, no external assets. People log in with a
password (argon2, rate-limited); the session cookie is signed, HttpOnly, SameSite=strict and Secure unless
the service runs on plain-HTTP loopback; every form carries a CSRF token bound to the session.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from starlette.exceptions import HTTPException

from pgx.service import auth
from pgx.service.core import ApiError, ServiceDep
from pgx.service.db import REVIEW_STATES, AuditEntry, ReviewFlag, SampleReport, User
from pgx.service.flags import REVIEW_ORDER, Decision, decide, query_flags

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

router = APIRouter(include_in_schema=False)


def _page(name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("user", None)
    ctx["csrf"] = request.session.get("csrf", "")
    return HTMLResponse(_env.get_template(name).render(**ctx), status_code=status)


def reviewer(request: Request, svc: ServiceDep) -> User | None:
    """The person logged in to this session, if they (still) may review; None sends them to the login page."""
    uid = request.session.get("uid")
    if uid is None:
        return None
    with svc.db.session() as s:
        user = s.get(User, uid)
    return user if user is not None and user.active and auth.allowed(user, "review") else None


Reviewer = Annotated[User | None, Depends(reviewer)]


def check_csrf(request: Request, token: str) -> None:
    expected = request.session.get("csrf", "")
    if not expected or not hmac.compare_digest(expected, token):
        raise HTTPException(403, "the form expired or did not come from this site (CSRF check); reload it")


@router.get("/")
def home() -> Response:
    return RedirectResponse("/review", status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    request.session.setdefault("csrf", secrets.token_urlsafe(32))
    return _page("login.html.j2", request)


@router.post("/login")
def login(
    request: Request,
    svc: ServiceDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()],
) -> Response:
    check_csrf(request, csrf)
    settings = svc.settings
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


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/review")
def queue(
    request: Request,
    svc: ServiceDep,
    user: Reviewer,
    status: str | None = "open",
    level: str | None = None,
    drug: str | None = None,
    gene: str | None = None,
    sample: str | None = None,
) -> Response:
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
        levels=REVIEW_ORDER,
        statuses=REVIEW_STATES,
    )


@router.get("/review/flags/{flag_id}")
def detail(request: Request, flag_id: int, svc: ServiceDep, user: Reviewer) -> Response:
    if user is None:
        return RedirectResponse("/login", status_code=303)
    # loaded on first use: the report model pulls in networkx (~0.4 s at start-up)
    from pgx.report.models import DrugReport

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


@router.post("/review/flags/{flag_id}")
def act(
    request: Request,
    flag_id: int,
    svc: ServiceDep,
    user: Reviewer,
    decision: Annotated[str, Form()],
    version: Annotated[int, Form()],
    csrf: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    try:
        decide(svc, user, flag_id, Decision(decision=decision, reason=reason or None, version=version))
    except ApiError as exc:
        if exc.status_code in (409, 422):
            return RedirectResponse(f"/review/flags/{flag_id}?error={exc.code}", status_code=303)
        raise
    return RedirectResponse(f"/review/flags/{flag_id}", status_code=303)
