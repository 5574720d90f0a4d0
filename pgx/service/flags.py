"""Review flags as the API and the review pages both see them: the queue's order and filters, and a decision.

A decision applies only if the flag is still at the version the reviewer saw (optimistic locking); the
decision and what it replaced go to the audit log in the same transaction.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pgx.service.core import ApiError, Service, audit
from pgx.service.db import ReviewFlag, User, rows_matched, utcnow
from pgx.service.jobs import REVIEW_LEVELS

REVIEW_ORDER = tuple(level.value for level in REVIEW_LEVELS)  # the queue shows the most severe first
DECIDED = {"accept": "accepted", "override": "overridden", "escalate": "escalated"}


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


def severity_rank(level: str) -> int:
    return REVIEW_ORDER.index(level) if level in REVIEW_ORDER else 9


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
    """Open flags first, then by severity, then oldest first."""
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
    rows.sort(key=lambda r: (r.status != "open", severity_rank(r.level), r.id))
    return rows[:limit]


def decide(svc: Service, user: User, flag_id: int, d: Decision) -> ReviewFlag:
    """Apply a review decision if the flag is still at the version the reviewer saw (optimistic locking)."""
    status = DECIDED[d.decision]
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
        if rows_matched(changed) != 1:
            s.rollback()
            raise _conflict(svc, flag_id)
        after = {"status": status, "reason": reason, "version": d.version + 1}
        audit(s, user, d.decision, "flag", str(flag_id), before, after, reason, flag.rules_version)
    with svc.db.session() as s:
        out = s.get(ReviewFlag, flag_id)
        assert out is not None
        return out


def _conflict(svc: Service, flag_id: int) -> ApiError:
    """Someone else decided first: say so, with the flag as it is now."""
    with svc.db.session() as s:
        now = s.get(ReviewFlag, flag_id)
        assert now is not None
        return ApiError(
            409,
            "conflict",
            f"flag {flag_id} was changed by someone else (now {now.status}, "
            f"version {now.version}); reload it and decide again",
            current=flag_view(now).model_dump(),
        )
