"""create_app(): the Mission Control ASGI app, its middleware and its error pages."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.staticfiles import StaticFiles

from rocketjob import config
from rocketjob.errors import (
    CronNotFound,
    DatabaseUnavailable,
    DirmonEntryNotFound,
    InvalidTransition,
    JobNotFound,
    RocketJobError,
    WorkerNotFound,
)
from rocketjob.mission_control import (
    api,
    batches,
    cron,
    cron_api,
    dirmon,
    dirmon_api,
    failures,
    failures_api,
    forms,
    pages,
)
from rocketjob.mission_control.limits import BodyLimitMiddleware, max_body_from_env
from rocketjob.mission_control.openapi import describe_sign_in
from rocketjob.mission_control.refusals import is_api
from rocketjob.mission_control.security import (
    SECRET_ENV,
    USERS_ENV,
    Authenticate,
    CsrfRefused,
    GuardMiddleware,
    Signer,
    basic_auth,
    parse_users,
)
from rocketjob.mission_control.templating import Renderer

log = logging.getLogger("rocketjob.mission_control")
_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def create_app(
    database_url: str | None = None,
    *,
    users: Mapping[str, str] | None = None,
    authenticate: Authenticate | None = None,
    secret: str | None = None,
    max_body: int | None = None,
) -> FastAPI:
    """Mission Control as an ASGI app: the pages, and the JSON API under /api.

    `database_url` configures rocketjob for this process (else it uses the configured
    store). Sign-in: `users` (name → password, HTTP Basic; default `$ROCKETJOB_WEB_USERS`)
    or `authenticate`, a hook returning the request's user name or None to refuse it.
    Request bodies over `max_body` bytes (default `$ROCKETJOB_WEB_MAX_BODY`, else 1 MiB)
    are refused with 413 before they are read.
    Mount it anywhere: `Mount("/rocketjob", app=create_app())`.
    """
    if database_url is not None:
        config.configure(database_url)
    if users is None:
        users = parse_users(os.environ.get(USERS_ENV))
    basic = authenticate is None and bool(users)
    if basic:
        authenticate = basic_auth(users)
    key = (secret or os.environ.get(SECRET_ENV) or "").encode() or secrets.token_bytes(32)
    if max_body is None:
        max_body = max_body_from_env()

    app = FastAPI(
        title="rocketjob Mission Control",
        summary="Watch and steer every job and worker.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    signer = Signer(key)
    app.state.signer = signer
    app.state.renderer = Renderer(signer)
    app.state.signed_in = authenticate is not None
    describe_sign_in(app, signed_in=authenticate is not None, basic=basic)
    app.include_router(api.router)
    app.include_router(failures_api.router)
    app.include_router(cron_api.router)
    app.include_router(dirmon_api.router)
    app.include_router(pages.router)
    app.include_router(failures.router)
    app.include_router(forms.router)
    app.include_router(batches.router)
    app.include_router(cron.router)
    app.include_router(dirmon.router)
    static = resources.files("rocketjob.mission_control") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    _add_error_handlers(app)
    # Added first, so it runs inside the guard: strangers are refused before any counting.
    app.add_middleware(BodyLimitMiddleware, max_body=max_body)
    app.add_middleware(GuardMiddleware, authenticate=authenticate)
    return app


def _error(
    request: Request,
    status: int,
    title: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if is_api(request.scope):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    renderer: Renderer = request.app.state.renderer
    context = {"title": title, "message": message, "status": status}
    response = renderer.page(request, "error.html", context, status_code=status)
    response.headers.update(headers or {})
    return response


def _add_error_handlers(app: FastAPI) -> None:
    async def not_found(request: Request, error: Exception) -> Response:
        return _error(request, 404, "Not found", str(error))

    async def refused(request: Request, error: Exception) -> Response:
        return _error(request, 409, "Not allowed now", str(error))

    async def invalid(request: Request, error: Exception) -> Response:
        if is_api(request.scope):
            return JSONResponse({"detail": _validation_errors(error)}, status_code=422)
        return _error(request, 422, "Invalid request", _describe(error))

    async def forged(request: Request, error: Exception) -> Response:
        return _error(request, 403, "Form expired", str(error))

    async def unavailable(request: Request, error: Exception) -> Response:
        log.error("database unavailable: %s", error)
        return _error(request, 503, "Database unavailable", str(error))

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404 and is_api(request.scope):
            where = f"{request.scope.get('root_path', '')}/api/openapi.json"
            return _error(request, 404, "", f"the API has no such route: see {where}")
        if error.status_code == 404:
            return _error(request, 404, "Not found", "There is no page here.")
        if error.status_code == 400 and is_api(request.scope):
            # FastAPI's answer to a body that is not even text: bad input, like bad JSON.
            return _invalid_body(error)
        if error.status_code == 405:
            allowed = allowed_methods(request)
            message = f"{request.method} is not allowed here: use {', '.join(allowed)}"
            return _error(request, 405, "Not allowed", message, {"allow": ", ".join(allowed)})
        return _error(
            request, error.status_code, "Request refused", str(error.detail), error.headers
        )

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("error serving %s %s", request.method, request.url.path)
        return _error(
            request, 500, "Something went wrong", "Mission Control hit an error: see its log."
        )

    app.add_exception_handler(JobNotFound, not_found)
    app.add_exception_handler(WorkerNotFound, not_found)
    app.add_exception_handler(CronNotFound, not_found)
    app.add_exception_handler(DirmonEntryNotFound, not_found)
    app.add_exception_handler(InvalidTransition, refused)
    app.add_exception_handler(RocketJobError, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(api.InvalidInput, invalid)
    app.add_exception_handler(CsrfRefused, forged)
    app.add_exception_handler(DatabaseUnavailable, unavailable)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def allowed_methods(request: Request) -> list[str]:
    """The methods the request's path answers to, for the Allow header of a 405."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def _describe(error: Exception) -> str:
    if isinstance(error, RequestValidationError):
        parts = []
        for item in error.errors():
            where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "body"))
            parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        return "; ".join(parts)
    return str(error)


def _invalid_body(error: HTTPException) -> Response:
    message = f"the body cannot be read as JSON: {str(error.detail).lower()}"
    detail = [{"loc": ["body"], "msg": message, "type": "json_invalid"}]
    return JSONResponse({"detail": detail}, status_code=422)


def _validation_errors(error: Exception) -> list[dict[str, Any]]:
    """422 details as OpenAPI documents them (HTTPValidationError): loc, msg, type, ctx."""
    if isinstance(error, api.InvalidInput):
        return [{"loc": list(error.loc), "msg": str(error), "type": "value_error"}]
    assert isinstance(error, RequestValidationError)
    # The input is left out (it can be the whole body); ctx may hold an exception: its text.
    return [
        {
            "loc": list(item.get("loc", ())),
            "msg": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
            **({"ctx": {k: _plain(v) for k, v in item["ctx"].items()}} if "ctx" in item else {}),
        }
        for item in error.errors()
    ]


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
