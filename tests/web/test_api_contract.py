"""The JSON API as its OpenAPI document describes it: writes as curl sends them (no body,
no content type), cross-site writes refused, 405 with Allow, and every error in the shape
documented for its status."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from failing import failed_by_worker
from sample_jobs import Noop
from starlette.testclient import TestClient

import rocketjob as rj
from rocketjob.mission_control import create_app
from rocketjob.store import Store


def test_writes_need_no_body_and_no_content_type(store: Store, client: TestClient) -> None:
    store.register_worker("a:1", "a", 1, 4)
    job = Noop.create()
    failed_by_worker("boom")
    # What `curl -X POST URL` and `curl -X DELETE URL` send: no body, no headers.
    assert client.post(f"/api/jobs/{job.id}/pause").json()["state"] == "paused"
    assert client.post(f"/api/jobs/{job.id}/fail").json()["state"] == "failed"
    assert client.post("/api/workers/a:1/pause").json()["asked"] == ["a:1"]
    assert client.post("/api/workers/resume").json()["asked"] == ["a:1"]
    assert client.post("/api/failures/abort").json()["done"] == 2
    response = client.delete(f"/api/jobs/{job.id}")
    assert response.status_code == 204
    assert client.get(f"/api/jobs/{job.id}").status_code == 404


@pytest.mark.parametrize(
    ("content", "content_type"),
    [("reason=x", "application/x-www-form-urlencoded"), ('{"reason": "x"}', "text/plain")],
)
def test_a_body_that_is_not_json_is_415(
    store: Store, client: TestClient, content: str, content_type: str
) -> None:
    job = Noop.create()
    response = client.post(
        f"/api/jobs/{job.id}/fail", content=content, headers={"content-type": content_type}
    )
    assert (response.status_code, response.json()) == (
        415,
        {"detail": "send a request body as JSON, with Content-Type: application/json"},
    )
    assert job.reload().state is rj.State.QUEUED


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "http://["},  # no URL at all: not Mission Control either
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "http://testserver"},
    ],
)
def test_writes_from_another_site_are_refused(
    store: Store, client: TestClient, headers: dict[str, str]
) -> None:
    job = Noop.create()
    for response in (
        client.post(f"/api/jobs/{job.id}/abort", headers=headers),
        client.post(f"/api/jobs/{job.id}/abort", json={}, headers=headers),
        client.delete(f"/api/jobs/{job.id}", headers=headers),
        client.post("/api/workers/stop", headers=headers),
        client.post("/api/failures/abort", headers=headers),
    ):
        assert response.status_code == 403
        assert "not from Mission Control" in response.json()["detail"]
    assert job.reload().state is rj.State.QUEUED


def test_writes_from_mission_controls_own_pages_are_taken(store: Store, client: TestClient) -> None:
    job = Noop.create()
    same = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    assert client.post(f"/api/jobs/{job.id}/pause", headers=same).status_code == 200
    assert job.reload().state is rj.State.PAUSED


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/jobs/1", "DELETE, GET"),
        ("DELETE", "/api/jobs/counts", "GET"),
        ("GET", "/api/jobs/1/pause", "POST"),
        ("PATCH", "/api/workers", "GET"),
        ("GET", "/api/workers/pause", "POST"),
    ],
)
def test_a_method_not_allowed_is_405_with_allow(
    store: Store, client: TestClient, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {"detail": f"{method} is not allowed here: use {allow}"}


def test_a_non_numeric_job_id_is_no_route(store: Store, client: TestClient) -> None:
    response = client.get("/api/jobs/abc")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "the API has no such route: see /api/openapi.json"},
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("GET", "/api/jobs?state=done", None, ["query", "state"]),
        ("GET", "/api/jobs?cursor=abc", None, ["query", "cursor"]),
        ("POST", "/api/jobs/1/fail", {"reason": 5}, ["body", "reason"]),
        ("POST", "/api/failures/retry", {"q": "a", "class_name": "b"}, ["body", "q"]),
        ("POST", "/api/jobs/1/fail", b"\xff\xfe", ["body", 0]),
        ("POST", "/api/jobs/1/fail", b'\x8b"X\x9aR', ["body"]),  # no JSON encoding at all
        ("POST", "/api/jobs/1/fail", b'{"reason": ', ["body", 11]),
    ],
)
def test_every_422_has_the_documented_shape(
    store: Store, client: TestClient, method: str, path: str, body: Any, loc: list[Any]
) -> None:
    Noop.create()
    if isinstance(body, bytes):
        response = client.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
    else:
        response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert set(error) <= {"loc", "msg", "type", "ctx"}
    assert isinstance(error["msg"], str) and error["msg"]
    assert isinstance(error["type"], str)
    assert isinstance(error.get("ctx", {}), dict)
    assert error["loc"] == loc


FAR_PAST = "state=scheduled&cursor=0001-01-01T00:00:00%2B14:00%7C1"


def test_a_cursor_before_the_calendar_is_never_a_500(
    store: Store, backend: str, client: TestClient
) -> None:
    Noop.create()
    api = client.get(f"/api/jobs?{FAR_PAST}")
    page = client.get(f"/jobs?{FAR_PAST}")
    if backend == "sqlite":  # PostgreSQL takes the time as it is, and finds nothing
        (error,) = api.json()["detail"]
        assert (api.status_code, error["loc"]) == (422, ["query", "cursor"])
        assert error["msg"] == (
            "invalid cursor '0001-01-01T00:00:00+14:00|1': its time is out of range"
        )
        assert page.status_code == 422
        assert "its time is out of range" in page.text
    else:
        assert (api.status_code, api.json()["jobs"], page.status_code) == (200, [], 200)


def test_the_document_lists_every_error_each_operation_answers(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    ops = spec["paths"]
    statuses = {
        (method.upper(), path): sorted(op["responses"])
        for path, item in ops.items()
        for method, op in item.items()
    }
    assert statuses[("POST", "/api/jobs/{job_id}/{action}")] == [
        "200", "403", "404", "409", "413", "415", "422", "503",
    ]  # fmt: skip
    assert statuses[("DELETE", "/api/jobs/{job_id}")] == [
        "204", "403", "404", "409", "413", "415", "422", "503",
    ]  # fmt: skip
    assert statuses[("GET", "/api/jobs/counts")] == ["200", "413", "503"]
    error = {"$ref": "#/components/schemas/ErrorOut"}
    assert ops["/api/jobs/{job_id}"]["delete"]["responses"]["415"]["content"] == {
        "application/json": {"schema": error}
    }
    body = ops["/api/jobs/{job_id}/{action}"]["post"]["requestBody"]
    assert body.get("required", False) is False
    assert "securitySchemes" not in spec.get("components", {})


def test_with_sign_in_the_document_says_how_and_401_is_json(store: Store) -> None:
    with TestClient(create_app(users={"ops": "pw"})) as client:
        token = base64.b64encode(b"ops:pw").decode()
        spec = client.get("/api/openapi.json", headers={"authorization": f"Basic {token}"})
        document = spec.json()
        assert document["components"]["securitySchemes"] == {
            "basic": {"type": "http", "scheme": "basic"}
        }
        assert document["security"] == [{"basic": []}]
        for item in document["paths"].values():
            for operation in item.values():
                assert "401" in operation["responses"]
        response = client.get("/api/jobs")
        assert (response.status_code, response.json()) == (
            401,
            {"detail": "Mission Control needs you to sign in."},
        )
