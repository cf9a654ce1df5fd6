"""Rendering pages: the Jinja environment, links that work under any mount prefix, and
the cookies a page carries (its CSRF token, the flash message it shows once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from rocketjob.mission_control import views
from rocketjob.mission_control.security import CSRF_COOKIE, CSRF_FIELD, FLASH_COOKIE, Signer
from rocketjob.states import Action

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("rocketjob.mission_control", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.globals.update(
    LISTS=views.LISTS,
    ACTION_LABELS=views.ACTION_LABELS,
    WORKER_ACTION_LABELS=views.WORKER_ACTION_LABELS,
    CSRF_FIELD=CSRF_FIELD,
    Action=Action,
    relative=views.relative_time,
)
ENVIRONMENT.filters.update(
    duration=views.format_duration,
    compact=views.compact_count,
    exact=views.exact_utc,
    iso=views.iso_utc,
    short_class=views.short_class,
)


@dataclass(frozen=True)
class Links:
    """Every URL of Mission Control, below `root` (the prefix it is mounted at)."""

    root: str

    @classmethod
    def of(cls, request: Request) -> Links:
        return cls(str(request.scope.get("root_path", "")).rstrip("/"))

    def jobs(
        self,
        state: str | None = None,
        q: str | None = None,
        cursor: str | None = None,
        **extra: str,
    ) -> str:
        params = {"state": state, "q": q, "cursor": cursor, **extra}
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{self.root}/jobs" + (f"?{query}" if query else "")

    def job(self, job_id: int | None) -> str:
        return f"{self.root}/jobs/{job_id}"

    def job_action(self, job_id: int | None, action: str) -> str:
        return f"{self.root}/jobs/{job_id}/{action}"

    def failures(self) -> str:
        return f"{self.root}/failures"

    def failures_action(self, action: str) -> str:
        return f"{self.root}/failures/{action}"

    def workers(self) -> str:
        return f"{self.root}/workers"

    def worker_action(self, name: str | None, action: str) -> str:
        if name is None:
            return f"{self.root}/workers/{action}"
        return f"{self.root}/workers/{quote(name, safe=':')}/{action}"

    def cron(self) -> str:
        return f"{self.root}/cron"

    def cron_action(self, class_name: str, action: str) -> str:
        return f"{self.root}/cron/{quote(class_name, safe='')}/{action}"

    def dirmon(self) -> str:
        return f"{self.root}/dirmon"

    def dirmon_new(self) -> str:
        return f"{self.root}/dirmon/new"

    def dirmon_entry(self, entry_id: int) -> str:
        return f"{self.root}/dirmon/{entry_id}"

    def dirmon_edit(self, entry_id: int) -> str:
        return f"{self.root}/dirmon/{entry_id}/edit"

    def dirmon_action(self, entry_id: int, action: str) -> str:
        return f"{self.root}/dirmon/{entry_id}/{action}"

    def static(self, name: str) -> str:
        return f"{self.root}/static/{name}"

    def api(self, path: str = "") -> str:
        return f"{self.root}/api{path}"


class Renderer:
    """Renders templates with what every page needs, and sets the page's cookies."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer

    def csrf_token(self, request: Request) -> tuple[str, bool]:
        """The request's CSRF token, and whether it is new (so the cookie must be set)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        if cookie and self.signer.unsign(cookie) is not None:
            return cookie, False
        return self.signer.new_csrf_token(), True

    def page(
        self, request: Request, template: str, context: dict[str, Any], status_code: int = 200
    ) -> HTMLResponse:
        links = Links.of(request)
        token, new_token = self.csrf_token(request)
        flash = self.signer.read_flash(request.cookies.get(FLASH_COOKIE))
        html = ENVIRONMENT.get_template(template).render(
            {
                "links": links,
                "csrf_token": token,
                "flash": flash,
                "request_path": request.url.path,
                "now": datetime.now(UTC),
                **context,
            }
        )
        response = HTMLResponse(html, status_code=status_code)
        response.headers["cache-control"] = "no-store"
        cookie_path = links.root + "/"
        if new_token:
            response.set_cookie(
                CSRF_COOKIE, token, path=cookie_path, httponly=True, samesite="strict"
            )
        if flash is not None:
            response.delete_cookie(FLASH_COOKIE, path=cookie_path)
        return response

    def fragment(self, request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
        """Only the live parts of a page: no cookies touched, the flash left for the page."""
        token, _ = self.csrf_token(request)
        html = ENVIRONMENT.get_template(template).render(
            links=Links.of(request), csrf_token=token, **context
        )
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    def redirect(self, request: Request, url: str, kind: str, text: str) -> RedirectResponse:
        """POST-redirect-GET, with a message the next page shows once."""
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            FLASH_COOKIE,
            self.signer.flash(kind, text),
            path=Links.of(request).root + "/",
            httponly=True,
            samesite="lax",
        )
        return response
