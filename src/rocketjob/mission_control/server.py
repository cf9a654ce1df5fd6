"""`rocketjob web`: serve Mission Control with uvicorn, safely by default."""

from __future__ import annotations

import os

import uvicorn

from rocketjob import config
from rocketjob.errors import ConfigurationError
from rocketjob.mission_control.app import create_app
from rocketjob.mission_control.security import USERS_ENV, is_loopback, parse_users

# Failures links carry class names as long as the database holds them: a request head may
# be as large as a body, not just the 16 KiB the HTTP parser allows by default.
HEAD_LIMIT = 1024 * 1024


def check_exposure(host: str, users: dict[str, str], insecure: bool) -> None:
    """Refuses to serve beyond this machine without sign-in, unless told it is on purpose."""
    if is_loopback(host) or users or insecure:
        return
    raise ConfigurationError(
        f"refusing to serve Mission Control on {host} without sign-in: set "
        f"{USERS_ENV}=name:password (HTTP Basic; put TLS in front) or pass --insecure"
    )


def url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}/"


def serve(
    *,
    host: str,
    port: int,
    database_url: str | None,
    insecure: bool = False,
    log_level: str = "warning",
    announce: str = "Mission Control",
    max_body: int | None = None,
) -> None:
    """Opens the database (failing fast if it cannot), then serves until interrupted."""
    users = parse_users(os.environ.get(USERS_ENV))
    check_exposure(host, users, insecure)
    if database_url is not None:
        config.configure(database_url)
    config.get_store()
    app = create_app(users=users, max_body=max_body)
    print(f"{announce}: {url_of(host, port)}", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        server_header=False,
        h11_max_incomplete_event_size=HEAD_LIMIT,
    )
