"""Safe by default: security headers, sign-in, exposure checks, and a prefix mount."""

from __future__ import annotations

import base64
import re

import pytest
from sample_jobs import Noop
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient
from webpages import post_form, text_of

import rocketjob as rj
from rocketjob.errors import ConfigurationError
from rocketjob.mission_control import create_app
from rocketjob.mission_control.security import parse_users
from rocketjob.mission_control.server import check_exposure
from rocketjob.store import Store


@pytest.mark.parametrize(
    "path", ["/jobs", "/jobs/999", "/api/jobs", "/static/mission_control.css", "/nowhere"]
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(store: Store, client: TestClient) -> None:
    job = Noop.create()
    for path in ("/jobs", f"/jobs/{job.id}", "/workers"):
        html = client.get(path).text
        assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"<[^>]+\son[a-z]+=", html), "an inline event handler"


def test_an_unknown_page_is_a_readable_404(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert "There is no page here." in text_of(response.text)


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def test_with_users_every_request_needs_basic_credentials(store: Store) -> None:
    with TestClient(create_app(users={"alice": "s3cret"}), follow_redirects=False) as client:
        for headers in ({}, basic("alice", "wrong"), basic("mallory", "s3cret")):
            response = client.get("/jobs", headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Basic")
        assert client.get("/api/jobs", headers=basic("alice", "s3cret")).status_code == 200
        job = Noop.create()
        client.headers.update(basic("alice", "s3cret"))
        assert post_form(client, f"/jobs/{job.id}/pause")[0] == 303
        assert job.history()[-1].by == "user:alice"
        client.post(f"/api/jobs/{job.id}/resume", headers={"content-type": "application/json"})
        assert job.history()[-1].by == "api:alice"


def test_an_authentication_hook_names_the_user(store: Store) -> None:
    app = create_app(authenticate=lambda request: request.headers.get("x-user"))
    with TestClient(app) as client:
        assert client.get("/jobs").status_code == 401
        assert client.get("/jobs", headers={"x-user": "sso:bob"}).status_code == 200


def test_users_come_from_name_password_pairs() -> None:
    assert parse_users("alice:s3cret, bob:pw:with:colons") == {
        "alice": "s3cret",
        "bob": "pw:with:colons",
    }
    assert parse_users("") == {}
    with pytest.raises(ConfigurationError, match="name:password"):
        parse_users("alice")


def test_serving_beyond_this_machine_needs_sign_in_or_insecure() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.5"):
        check_exposure(host, {}, insecure=False)
    refusal = re.escape("refusing to serve Mission Control on 0.0.0.0 without sign-in")
    with pytest.raises(ConfigurationError, match=refusal):
        check_exposure("0.0.0.0", {}, insecure=False)
    check_exposure("0.0.0.0", {"alice": "pw"}, insecure=False)
    check_exposure("0.0.0.0", {}, insecure=True)


def test_mounted_under_a_prefix_every_link_form_and_script_uses_it(store: Store) -> None:
    host = Starlette(routes=[Mount("/ops/rocketjob", app=create_app(users={}))])
    job = Noop.create(description="mounted")
    with TestClient(host, follow_redirects=False) as client:
        home = client.get("/ops/rocketjob/")
        assert (home.status_code, home.headers["location"]) == (303, "/ops/rocketjob/jobs")
        html = client.get("/ops/rocketjob/jobs").text
        assert "mounted" in html
        urls = re.findall(r'(?:href|src|action|data-live-url)="([^"#]+)"', html)
        assert urls and all(url.startswith("/ops/rocketjob/") for url in urls), urls
        assert client.get("/ops/rocketjob/static/mission_control.js").status_code == 200
        page = client.get(f"/ops/rocketjob/jobs/{job.id}").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        response = client.post(
            f"/ops/rocketjob/jobs/{job.id}/pause",
            data={"csrf_token": token.group(1), "confirmed": "yes"},
        )
        assert (response.status_code, response.headers["location"]) == (
            303,
            f"/ops/rocketjob/jobs/{job.id}",
        )
        assert "path=/ops/rocketjob/" in response.headers["set-cookie"].lower()
        assert job.reload().state is rj.State.PAUSED
        assert client.get("/ops/rocketjob/api/jobs/counts").json()["paused"] == 1
        assert client.get("/ops/rocketjob/api/openapi.json").status_code == 200


@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "https://evil.example"])
def test_a_form_from_a_bad_or_foreign_origin_is_refused_readably(
    store: Store, client: TestClient, origin: str
) -> None:
    job = Noop.create()
    page = client.get(f"/jobs/{job.id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        f"/jobs/{job.id}/pause",
        data={"csrf_token": token.group(1), "confirmed": "yes"},
        headers={"origin": origin},
    )
    assert response.status_code == 403
    assert f"this form was sent from {origin}, not from Mission Control" in text_of(response.text)
    assert job.reload().state is rj.State.QUEUED
