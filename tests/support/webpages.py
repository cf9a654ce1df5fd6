"""Reading Mission Control's pages as a user does, and sending their forms as a browser does."""

from __future__ import annotations

import re
from html import unescape

from starlette.testclient import TestClient


def csrf_token(client: TestClient, page: str = "/jobs") -> str:
    """The token a page's forms carry (the page also sets its cookie)."""
    html = client.get(page).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:  # a page without forms: the token travels in the cookie alone
        token = client.cookies.get("rocketjob_csrf")
        assert token, "the page set no CSRF cookie"
        return token
    return match.group(1)


def post_form(
    client: TestClient, path: str, confirmed: bool = True, **fields: str
) -> tuple[int, str]:
    """Sends a page's form as a browser would: (status, where it redirects or the body)."""
    data = {"csrf_token": csrf_token(client), **fields}
    if confirmed:
        data["confirmed"] = "yes"
    response = client.post(path, data=data)
    return response.status_code, response.headers.get("location", response.text)


_INLINE = re.compile(r"</?(?:a|b|code|em|span|strong|time|svg|path|circle|rect)\b[^>]*>")


def text_of(html: str) -> str:
    """The page's text as a user reads it: tags dropped, whitespace folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", _INLINE.sub("", html))).split())


def sidebar_counts(html: str) -> dict[str, str]:
    """The count beside each list in the sidebar, as shown."""
    found = re.findall(r'class="state-link state-(\w+)".*?<span class="count"[^>]*>([^<]+)<', html)
    return dict(found)
