"""``/v1/rulesets``: a curator uploads a rule set, reads its validation and test results, and activates it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from pgx.errors import PgxError
from pgx.service.core import ApiError, ServiceDep, need
from pgx.service.db import User
from pgx.service.jobs import UploadTooLarge, display_name, shown, store_upload
from pgx.service.rulesets import RuleSetView, activate_ruleset, check_ruleset

router = APIRouter(tags=["curation"])


@router.post("/v1/rulesets", response_model=RuleSetView)
async def upload_ruleset(
    user: Annotated[User, Depends(need("curate"))],
    svc: ServiceDep,
    archive: Annotated[UploadFile, File(description="rules/ folder as .tar.gz or .zip")],
) -> RuleSetView:
    """Upload a rule set; it is validated and its rule tests run. Activate it separately."""
    settings = svc.settings
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


@router.post("/v1/rulesets/{ruleset_id}/activate", response_model=RuleSetView)
def activate(ruleset_id: int, user: Annotated[User, Depends(need("curate"))], svc: ServiceDep) -> RuleSetView:
    return activate_ruleset(svc, user, ruleset_id)
