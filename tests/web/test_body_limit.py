"""Request bodies over the limit get 413, said as JSON in the API and as a page elsewhere;
the limit comes from create_app(), else $ROCKETJOB_WEB_MAX_BODY, else 1 MiB."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from processes import rocketjob
from sample_jobs import Noop
from starlette.testclient import TestClient
from webpages import csrf_token, text_of

import rocketjob as rj
from rocketjob.cli import EXIT_CONFIG
from rocketjob.errors import ConfigurationError
from rocketjob.mission_control import create_app
from rocketjob.mission_control.limits import MAX_BODY_ENV, parse_size
from rocketjob.store import Store

JSON = {"content-type": "application/json"}


def reason(size: int) -> bytes:
    """A JSON body of exactly `size` bytes: a short reason, padded with whitespace."""
    body = json.dumps({"reason": "too big"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def chunks(body: bytes, size: int = 1000) -> Iterator[bytes]:
    # A generator has no length: the client sends it chunked, without Content-Length.
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_the_api_refuses_a_body_over_the_limit_as_json(store: Store) -> None:
    job = Noop.create()
    with TestClient(create_app(users={}, max_body=2048)) as client:
        path = f"/api/jobs/{job.id}/fail"
        for body in (reason(2049), chunks(reason(5000))):
            response = client.post(path, content=body, headers=JSON)
            assert response.status_code == 413
            assert response.json() == {
                "detail": "the request body is over 2 KiB, the most Mission Control accepts"
            }
        assert job.reload().state is rj.State.QUEUED
        response = client.post(path, content=chunks(reason(2048)), headers=JSON)
        assert response.status_code == 200
        assert response.json()["exception"]["message"] == "too big"


def test_a_form_over_the_limit_gets_a_readable_page(store: Store) -> None:
    job = Noop.create()
    with TestClient(create_app(users={}, max_body=2048), follow_redirects=False) as client:
        fields = {"csrf_token": csrf_token(client), "confirmed": "yes", "reason": "r" * 3000}
        response = client.post(f"/jobs/{job.id}/fail", data=fields)
        assert response.status_code == 413
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert text_of(response.text).startswith(
            "Request too large · Mission Control Request too large "
            "the request body is over 2 KiB, the most Mission Control accepts"
        )
        assert job.reload().state is rj.State.QUEUED
        fields["reason"] = "r" * 500
        assert client.post(f"/jobs/{job.id}/fail", data=fields).status_code == 303
        assert job.reload().state is rj.State.FAILED


def test_the_limit_comes_from_the_environment(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = Noop.create()
    monkeypatch.setenv(MAX_BODY_ENV, "4KiB")
    with TestClient(create_app(users={})) as client:
        path = f"/api/jobs/{job.id}/fail"
        assert client.post(path, content=reason(4097), headers=JSON).status_code == 413
        assert client.post(path, content=reason(4096), headers=JSON).status_code == 200
    monkeypatch.setenv(MAX_BODY_ENV, "lots")
    with pytest.raises(ConfigurationError, match=r"like 1048576, 512KiB or 2MiB\); got 'lots'"):
        create_app(users={})


def test_the_default_limit_is_one_mebibyte(store: Store, client: TestClient) -> None:
    job = Noop.create()
    path = f"/api/jobs/{job.id}/fail"
    response = client.post(path, content=chunks(reason(1024 * 1024 + 1), 65536), headers=JSON)
    assert response.status_code == 413
    assert "over 1 MiB" in response.json()["detail"]
    response = client.post(path, content=reason(1024 * 1024), headers=JSON)
    assert response.status_code == 200
    assert job.reload().state is rj.State.FAILED


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1048576), ("512KiB", 524288), ("2M", 2097152), ("1 k", 1024)]
)
def test_sizes_are_bytes_kib_or_mib(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "1.5MiB", "2GB", "100"])
def test_a_bad_size_is_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ConfigurationError, match="request body limit"):
        parse_size(text)


def test_rocketjob_web_refuses_a_bad_limit_before_serving() -> None:
    result = rocketjob("web", "--max-body", "huge")
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip() == (
        "rocketjob: error: the request body limit is a number of bytes, or of KiB or MiB "
        "(like 1048576, 512KiB or 2MiB); got 'huge'"
    )
