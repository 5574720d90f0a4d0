"""The app factory: one :class:`~pgx.service.core.Service` (database, job workers), the HTTP API (``/v1``) and the
review pages, each area a router of its own module.

Every error is JSON ``{"error": {"status", "code", "message"}}`` with a 4xx/5xx status; messages about
input reuse the calling core's (file and line), with the uploaded file's own name in place of ours.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

import pgx
from pgx.service import flags_api, jobs_api, knowledge_api, review, rulesets_api, users_api
from pgx.service.config import ServiceSettings
from pgx.service.core import Service, error_body, get_service

DEFAULT_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The job workers run while the app serves."""
    svc: Service = app.state.service
    svc.runner.start()
    yield
    svc.runner.stop()


async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
    code = getattr(exc, "code", DEFAULT_CODES.get(exc.status_code, "error"))
    extra = getattr(exc, "extra", {})
    return JSONResponse(
        error_body(exc.status_code, code, str(exc.detail), **extra),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return JSONResponse(error_body(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}"), 422)


async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Refuse a request whose declared length is over the upload limit before reading any of it."""
    limit = get_service(request).settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 1024 * 1024:
        return JSONResponse(
            error_body(413, "too_large", f"request of {length} bytes is over the upload limit of {limit} bytes"),
            413,
        )
    return await call_next(request)


def create_app(settings: ServiceSettings) -> FastAPI:
    app = FastAPI(
        title="pgx",
        version=pgx.__version__,
        lifespan=lifespan,
        description="Pharmacogenomic calls, drug flags and pharmacist review over HTTP.",
    )
    app.state.service = Service(settings)
    app.exception_handler(HTTPException)(http_error)
    app.exception_handler(RequestValidationError)(bad_request)
    app.middleware("http")(limit_body)
    # added last, so it runs first: the review pages' login and CSRF token, and reading /v1 from a browser
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.session_secret(),
        session_cookie="pgx_session",
        https_only=settings.secure_cookies,
        same_site="strict",
        max_age=8 * 3600,
    )
    for module in (jobs_api, knowledge_api, flags_api, rulesets_api, users_api, review):
        app.include_router(module.router)
    return app
