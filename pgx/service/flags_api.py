"""``/v1/flags``: the review queue and a decision on one flag, for pipelines and scripts with a token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pgx.service.core import ServiceDep, need
from pgx.service.db import User
from pgx.service.flags import Decision, FlagView, decide, flag_view, query_flags

router = APIRouter(tags=["review"])


@router.get("/v1/flags", response_model=list[FlagView])
def flags(
    _: Annotated[User, Depends(need("review"))],
    svc: ServiceDep,
    status: str | None = None,
    level: str | None = None,
    drug: str | None = None,
    gene: str | None = None,
    sample: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[FlagView]:
    with svc.db.session() as s:
        rows = query_flags(s, status=status, level=level, drug=drug, gene=gene, sample=sample, limit=limit)
        return [flag_view(f) for f in rows]


@router.post(
    "/v1/flags/{flag_id}/decision",
    response_model=FlagView,
    responses={409: {"description": "The flag changed since the reviewer loaded it"}},
)
def decide_flag(flag_id: int, d: Decision, user: Annotated[User, Depends(need("review"))], svc: ServiceDep) -> FlagView:
    return flag_view(decide(svc, user, flag_id, d))
