"""The OpenAPI document of the JSON API: the errors and links the routes declare, and the
sign-in this app asks for, known only when the app is made."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from rocketjob.mission_control.schemas import ErrorOut

_ERRORS = {
    403: "a write sent from another site's page",
    404: "no job or worker by that id or name",
    409: "the state does not allow the action",
    413: "a request body over the limit (1 MiB unless configured)",
    415: "a request body that is not JSON",
    503: "the database is unavailable",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each answering ErrorOut."""
    return {status: {"model": ErrorOut, "description": _ERRORS[status]} for status in statuses}


WRITE_ERRORS = errors(403, 404, 409, 415)


def links(**named: tuple[str, dict[str, str]]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI links of a 200 answer: name → (operationId, its parameters from this answer)."""
    found = {
        name: {"operationId": operation, "parameters": parameters}
        for name, (operation, parameters) in named.items()
    }
    return {200: {"links": found}}


def operation_id(route: APIRoute) -> str:
    """Operations are named after their functions: show_job, act_on_job, …"""
    return route.name


SIGN_IN_REFUSED = {
    "description": "no valid sign-in",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
}


def describe_sign_in(app: FastAPI, *, signed_in: bool, basic: bool) -> None:
    """Documents 401 on every operation when sign-in is on, and HTTP Basic when that is it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            if signed_in:
                _add_sign_in(document, basic)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_sign_in(document: dict[str, Any], basic: bool) -> None:
    if basic:
        schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["basic"] = {"type": "http", "scheme": "basic"}
        document["security"] = [{"basic": []}]
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation["responses"]["401"] = SIGN_IN_REFUSED
