"""A host application that mounts Mission Control under a prefix (the e2e tests serve it)."""

from __future__ import annotations

import sample_jobs  # noqa: F401  (the host app knows its job classes)
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from rocketjob.mission_control import create_app


def home(request: object) -> PlainTextResponse:
    return PlainTextResponse("the host application")


app = Starlette(routes=[Route("/", home), Mount("/ops/rocketjob", app=create_app())])
