"""What every part of the service shares: its state, its errors, who is asking, and the audit log.

The routers reach the state through FastAPI dependencies, never through module globals:
``svc: Annotated[Service, Depends(get_service)]`` and ``user: Annotated[User, Depends(need("review"))]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from pgx.rules.loader import load_rules
from pgx.service import auth
from pgx.service.config import ServiceSettings
from pgx.service.db import AuditEntry, Database, RuleSet, User, migrate
from pgx.service.jobs import JobRunner


class ApiError(HTTPException):
    """An error the API reports as ``{"error": {"status", "code", "message", **extra}}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(status, message)
        self.code, self.extra = code, extra


def error_body(status: int, code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, **extra}}


class Service:
    """The state one app works on: its settings, the database (migrated to the newest schema) and job workers."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.url)
        self.db = Database(settings.url)
        self.runner = JobRunner(self.db, settings)

    def active_rules(self) -> tuple[RuleSet | None, str]:
        """The uploaded rule set in use (None: the rules shipped with pgx), and its version."""
        with self.db.session() as s:
            rs = s.scalar(select(RuleSet).where(RuleSet.active.is_(True)))
        return rs, (rs.version if rs is not None else load_rules().version)


def get_service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


ServiceDep = Annotated[Service, Depends(get_service)]


def current_user(request: Request, svc: ServiceDep) -> User:
    """A bearer token (pipelines, scripts) or the review pages' session cookie (people)."""
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


def need(permission: str) -> Callable[[User], User]:
    """A dependency: the current user, if their role may do ``permission`` (see :data:`auth.PERMISSIONS`)."""

    def dep(user: Annotated[User, Depends(current_user)]) -> User:
        if not auth.allowed(user, permission):
            raise ApiError(403, "forbidden", f"role {user.role!r} may not {permission}")
        return user

    return dep


def audit(
    s: Session,
    actor: User,
    action: str,
    obj_type: str,
    obj_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    rules_version: str | None,
) -> None:
    """Add an entry to the append-only audit log, in the caller's transaction."""
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
