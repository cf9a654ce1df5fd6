"""Who may use Mission Control, forms that cannot be forged, and the headers every page gets.

- Authentication: HTTP Basic against `ROCKETJOB_WEB_USERS` ("alice:secret,bob:pw"), or a
  hook given to create_app() when Mission Control is mounted in an app that knows its users.
- CSRF: every HTML form carries a token that must match a signed cookie. The JSON API
  instead refuses writes that a browser marks as sent from another site (Origin,
  Sec-Fetch-Site): browsers always say where a POST or DELETE comes from, while curl and
  scripts say nothing. A write's body must be JSON, which no other site can send without
  a CORS preflight, never granted.
- Headers: a strict Content-Security-Policy (no inline scripts or styles), no framing,
  no MIME sniffing, no referrer sent to other sites.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rocketjob.errors import ConfigurationError
from rocketjob.mission_control.refusals import refusal

USERS_ENV = "ROCKETJOB_WEB_USERS"
SECRET_ENV = "ROCKETJOB_WEB_SECRET"
CSRF_COOKIE = "rocketjob_csrf"
CSRF_FIELD = "csrf_token"
FLASH_COOKIE = "rocketjob_flash"

# Returns the name of the user making the request, or None to refuse it.
Authenticate = Callable[[Request], str | None]

HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class CsrfRefused(Exception):
    """A form without the token of the page it came from, or a write from another site."""


def parse_users(text: str | None) -> dict[str, str]:
    """ "alice:secret,bob:pw" → {"alice": "secret", "bob": "pw"}."""
    users: dict[str, str] = {}
    for entry in (text or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, password = entry.partition(":")
        if not sep or not name or not password:
            raise ConfigurationError(
                f"{USERS_ENV} entries look like name:password, separated by commas; "
                f"got {name or entry!r} without a name or password"
            )
        users[name] = password
    return users


def basic_auth(users: Mapping[str, str]) -> Authenticate:
    """An Authenticate hook checking HTTP Basic credentials against `users`."""
    expected = {name: password.encode() for name, password in users.items()}

    def authenticate(request: Request) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            name, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        # Compare against something even for unknown names, so timing tells nothing.
        known = expected.get(name, b"\0" * 32)
        if hmac.compare_digest(known, password.encode()) and name in expected:
            return name
        return None

    return authenticate


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Signer:
    """Signs short values with HMAC-SHA256, so cookies cannot be made up by a client."""

    def __init__(self, secret: bytes) -> None:
        self._key = secret

    def sign(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return f"{value}.{mac}"

    def unsign(self, signed: str | None) -> str | None:
        if not signed:
            return None
        value, _, mac = signed.rpartition(".")
        expected = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return value if hmac.compare_digest(mac, expected) else None

    def new_csrf_token(self) -> str:
        return self.sign(secrets.token_urlsafe(24))

    def csrf_valid(self, cookie: str | None, submitted: str | None) -> bool:
        if not cookie or not submitted or self.unsign(cookie) is None:
            return False
        return hmac.compare_digest(cookie, submitted)

    def flash(self, kind: str, text: str) -> str:
        payload = base64.urlsafe_b64encode(json.dumps([kind, text]).encode()).decode()
        return self.sign(payload)

    def read_flash(self, cookie: str | None) -> tuple[str, str] | None:
        payload = self.unsign(cookie)
        if payload is None:
            return None
        try:
            kind, text = json.loads(base64.urlsafe_b64decode(payload))
        except (ValueError, binascii.Error):
            return None
        return str(kind), str(text)


class GuardMiddleware:
    """Authenticates every request (when configured) and adds the security headers.

    Also reports the server's time per request in a Server-Timing header.
    """

    def __init__(self, app: ASGIApp, authenticate: Authenticate | None) -> None:
        self.app = app
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                elapsed = (time.perf_counter() - started) * 1000
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        if self.authenticate is not None:
            user = self.authenticate(Request(scope))
            if user is None:
                refused = refusal(
                    scope,
                    401,
                    "Sign in",
                    "Mission Control needs you to sign in.",
                    headers={"www-authenticate": 'Basic realm="rocketjob Mission Control"'},
                )
                await refused(scope, receive, send_with_headers)
                return
            scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send_with_headers)


def current_user(request: Request) -> str | None:
    user: Any = request.scope.get("state", {}).get("user")
    return str(user) if user else None


def _from_elsewhere(request: Request, origin: str) -> bool:
    # Hosts, not schemes, are compared: a TLS proxy in front may hide the scheme, and may
    # pass the public host on as X-Forwarded-Host.
    hosts = {request.headers.get("host"), request.headers.get("x-forwarded-host")}
    try:
        return urlsplit(origin).netloc not in hosts
    except ValueError:  # "http://[": no URL, so no origin of ours
        return True


def check_api_write(request: Request) -> None:
    """Refuses an API write that a browser says comes from another site's page."""
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site", "").lower()
    # "null" is what a sandboxed frame or a privacy redirect sends: no site of ours.
    if (origin is not None and (origin == "null" or _from_elsewhere(request, origin))) or (
        site in ("cross-site", "same-site")
    ):
        raise CsrfRefused(
            f"this write was sent from {origin or 'another site'}, not from Mission Control: "
            "the API takes writes from programs and Mission Control's own pages"
        )


def check_form(request: Request, submitted: str | None) -> None:
    """Refuses a form POST whose CSRF token or origin is not Mission Control's own."""
    signer: Signer = request.app.state.signer
    origin = request.headers.get("origin")
    if origin and origin != "null" and _from_elsewhere(request, origin):
        raise CsrfRefused(f"this form was sent from {origin}, not from Mission Control")
    if not signer.csrf_valid(request.cookies.get(CSRF_COOKIE), submitted):
        raise CsrfRefused(
            "this form has expired or did not come from Mission Control: "
            "reload the page and try again"
        )
