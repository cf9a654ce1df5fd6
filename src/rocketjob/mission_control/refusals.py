"""Answers given before a request reaches a route (sign-in, body limit): JSON under /api,
a plain page elsewhere. They touch no database and no template, so they cost nothing."""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Scope


def is_api(scope: Scope) -> bool:
    """Whether the request is for the JSON API, wherever Mission Control is mounted."""
    root = str(scope.get("root_path", ""))
    path = str(scope.get("path", "")).removeprefix(root)
    return path == "/api" or path.startswith("/api/")


def refusal(
    scope: Scope, status: int, title: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    if is_api(scope):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    root = escape(str(scope.get("root_path", "")).rstrip("/"))
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)} · Mission Control</title>\n"
        f'<link rel="stylesheet" href="{root}/static/mission_control.css">\n</head>\n<body>\n'
        f'<main id="main"><section class="error-page panel"><h1>{escape(title)}</h1>\n'
        f'<p class="error-message">{escape(message)}</p>\n'
        f'<p><a href="{root}/jobs">Back to the jobs</a></p></section></main>\n</body>\n</html>\n'
    )
    return HTMLResponse(page, status_code=status, headers=headers)
