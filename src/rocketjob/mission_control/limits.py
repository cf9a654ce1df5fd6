"""The request body limit: every body is counted before the app holds it, and one over
the limit is refused with 413, at once when its Content-Length says so, else as soon as
the bytes received pass the limit (chunked bodies).

Mission Control only takes small forms and JSON documents (a CSRF token, a reason, a
filter): 1 MiB is hundreds of times what they need, and bounds what one request can
make the server hold.
"""

from __future__ import annotations

import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rocketjob.errors import ConfigurationError
from rocketjob.mission_control.refusals import refusal

MAX_BODY_ENV = "ROCKETJOB_WEB_MAX_BODY"
DEFAULT_MAX_BODY = 1024 * 1024
# Smaller than this, Mission Control's own forms would be refused.
SMALLEST_MAX_BODY = 1024
_UNITS = {"": 1, "b": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2}
_SIZE = re.compile(r"\s*(\d{1,12})\s*([a-z]*)\s*", re.I)


def parse_size(text: str) -> int:
    """ "1048576", "512KiB", "2MiB" (or 512K, 2M) → bytes; at least 1 KiB."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ConfigurationError(
            f"the request body limit is a number of bytes, or of KiB or MiB "
            f"(like 1048576, 512KiB or 2MiB); got {text!r}"
        )
    size = int(match.group(1)) * _UNITS[unit]
    if size < SMALLEST_MAX_BODY:
        raise ConfigurationError(
            f"the request body limit must be at least 1 KiB, or forms stop working; got {text!r}"
        )
    return size


def max_body_from_env() -> int:
    text = os.environ.get(MAX_BODY_ENV, "").strip()
    return parse_size(text) if text else DEFAULT_MAX_BODY


def size_text(size: int) -> str:
    """1048576 → "1 MiB"; 1536 → "1.5 KiB"."""
    for unit, scale in (("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class BodyTooLarge(Exception):
    """Raised to the app when the body it reads passes the limit."""


class BodyLimitMiddleware:
    """Refuses request bodies over `max_body` bytes with 413, before the app holds them."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body
        self.message = (
            f"the request body is over {size_text(max_body)}, the most Mission Control accepts"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body:
            await self._refuse(scope, receive, send)
            return
        received = 0
        refused = started = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge(self.message)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    refused = True
                    raise BodyTooLarge(self.message)
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            # Whatever the app makes of a body cut short gives way to the 413.
            if refused and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception:
            if not refused:
                raise
        if refused and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Closing the connection is what stops the client sending the rest.
        response = refusal(
            scope, 413, "Request too large", self.message, headers={"connection": "close"}
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
