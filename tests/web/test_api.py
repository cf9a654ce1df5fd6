"""The JSON API of DESIGN §8: routes, actions, and errors that are never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sample_jobs import Fails, Kept, Noop, Typed
from starlette.testclient import TestClient

from rocketjob.store import Store

JSON = {"content-type": "application/json"}


def post(client: TestClient, path: str, body: Any = None) -> Any:
    return client.post(path, json=body) if body is not None else client.post(path, headers=JSON)


def test_openapi_documents_exactly_the_routes_of_the_design(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    routes = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert routes == {
        ("GET", "/api/jobs"),
        ("GET", "/api/jobs/counts"),
        ("GET", "/api/jobs/{job_id}"),
        ("POST", "/api/jobs/{job_id}/{action}"),
        ("DELETE", "/api/jobs/{job_id}"),
        ("GET", "/api/workers"),
        ("POST", "/api/workers/{name}/{action}"),
        ("POST", "/api/workers/{action}"),
        # beside the design's routes: failed jobs grouped, and retried or aborted in bulk
        ("GET", "/api/failures"),
        ("POST", "/api/failures/{action}"),
        # and cron schedules: listed, and run now, paused or resumed
        ("GET", "/api/cron"),
        ("POST", "/api/cron/{class_name}/{action}"),
        # and dirmon entries: listed, created, changed, enabled or disabled, destroyed
        ("GET", "/api/dirmon"),
        ("POST", "/api/dirmon"),
        ("GET", "/api/dirmon/{entry_id}"),
        ("PUT", "/api/dirmon/{entry_id}"),
        ("POST", "/api/dirmon/{entry_id}/{action}"),
        ("DELETE", "/api/dirmon/{entry_id}"),
    }
    assert "actions" in spec["components"]["schemas"]["JobOut"]["properties"]


def test_list_pages_through_jobs_by_state_and_search(store: Store, client: TestClient) -> None:
    ids = Noop.create_many([{"description": f"n{i}"} for i in range(5)])
    later = Noop.create(run_at=datetime.now(UTC) + timedelta(hours=1)).id
    first = client.get("/api/jobs", params={"limit": 4}).json()
    assert [j["id"] for j in first["jobs"]] == [later, *sorted(ids, reverse=True)[:3]]
    second = client.get("/api/jobs", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [j["id"] for j in second["jobs"]] == sorted(ids, reverse=True)[3:]
    assert second["next_cursor"] is None
    scheduled = client.get("/api/jobs?state=scheduled").json()["jobs"]
    assert [(j["id"], j["state"], j["list_state"]) for j in scheduled] == [
        (later, "queued", "scheduled")
    ]
    assert [j["id"] for j in client.get("/api/jobs?q=N3").json()["jobs"]] == [ids[3]]


def test_counts(store: Store, client: TestClient) -> None:
    Noop.create_many([{}] * 2)
    Noop.create().pause()
    assert client.get("/api/jobs/counts").json() == {
        "all": 3,
        "running": 0,
        "scheduled": 0,
        "queued": 2,
        "paused": 1,
        "failed": 0,
        "aborted": 0,
        "completed": 0,
    }


def test_a_job_with_its_fields_actions_and_history(store: Store, client: TestClient) -> None:
    job = Typed.create(name="Ada", tags=["x"], when=datetime(2030, 1, 1, tzinfo=UTC))
    body = client.get(f"/api/jobs/{job.id}").json()
    assert body["class_name"] == "sample_jobs.Typed"
    assert body["fields"]["name"] == "Ada"
    assert body["fields"]["tags"] == ["x"]
    assert body["fields"]["when"] == "2030-01-01T00:00:00Z"
    assert body["fields"]["amount"] == "0"
    assert body["actions"] == ["pause", "fail", "abort", "destroy"]
    assert body["history"] == []
    assert body["exception"] is None


@pytest.mark.parametrize(
    ("action", "state"),
    [("pause", "paused"), ("abort", "aborted"), ("fail", "failed")],
)
def test_actions_answer_with_the_job_after_them(
    store: Store, client: TestClient, action: str, state: str
) -> None:
    job = Noop.create()
    response = post(client, f"/api/jobs/{job.id}/{action}")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == state
    assert (body["history"][-1]["action"], body["history"][-1]["by"]) == (action, "api")


def test_retry_resume_run_now_and_fail_with_a_reason(store: Store, client: TestClient) -> None:
    failed = Fails.create().fail("x")
    paused = Noop.create().pause()
    later = Noop.create(run_at=datetime.now(UTC) + timedelta(hours=1))
    assert post(client, f"/api/jobs/{failed.id}/retry").json()["state"] == "queued"
    assert post(client, f"/api/jobs/{paused.id}/resume").json()["state"] == "queued"
    assert post(client, f"/api/jobs/{later.id}/run_now").json()["run_at"] is None
    body = post(client, f"/api/jobs/{paused.id}/fail", {"reason": "not needed"}).json()
    assert body["exception"]["message"] == "not needed"


def test_a_refused_action_is_409_with_the_reason(store: Store, client: TestClient) -> None:
    job = Kept.create()
    job.perform_now()
    response = post(client, f"/api/jobs/{job.id}/retry")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "cannot retry a completed job"},
    )
    store.claim_jobs("w:1", 1)
    running = Noop.create()
    store.claim_jobs("w:1", 1)
    response = client.delete(f"/api/jobs/{running.id}", headers=JSON)
    assert (response.status_code, response.json()) == (
        409,
        {"detail": "cannot destroy a running job"},
    )


def test_delete_destroys(store: Store, client: TestClient) -> None:
    job = Noop.create()
    assert client.delete(f"/api/jobs/{job.id}", headers=JSON).status_code == 204
    assert client.get(f"/api/jobs/{job.id}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/jobs/999999"),
        ("GET", "/api/jobs/abc"),
        ("POST", "/api/jobs/999999/pause"),
        ("DELETE", "/api/jobs/999999"),
        ("POST", "/api/workers/nobody:1/pause"),
    ],
)
def test_unknown_ids_are_404(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=JSON)
    assert response.status_code == 404
    assert "no " in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/jobs?state=done", None),
        ("GET", "/api/jobs?limit=0", None),
        ("GET", "/api/jobs?limit=201", None),
        ("GET", "/api/jobs?cursor=abc", None),
        ("GET", "/api/jobs?state=scheduled&cursor=x%7C1", None),
        ("POST", "/api/jobs/1/explode", None),
        ("POST", "/api/jobs/1/destroy", None),
        ("POST", "/api/jobs/1/fail", {"reason": 5}),
        ("POST", "/api/workers/explode", None),
        ("POST", "/api/workers/a:1/explode", None),
        ("GET", "/api/jobs/99999999999999999999", None),
        ("GET", "/api/jobs?q=%00", None),
        ("POST", "/api/jobs/1/fail", {"reason": "nul\x00byte"}),
        ("POST", "/api/workers/a%00b/pause", None),
    ],
)
def test_malformed_input_is_422(
    store: Store, client: TestClient, method: str, path: str, body: Any
) -> None:
    Noop.create()
    response = client.request(method, path, json=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_workers_and_their_control(store: Store, client: TestClient) -> None:
    store.register_worker("a:1", "a", 1, 4)
    store.register_worker("b:2", "b", 2, 4)
    job = Noop.create()
    store.claim_jobs("a:1", 1)
    workers = client.get("/api/workers").json()
    assert [(w["name"], w["busy"], w["threads"], w["stale"]) for w in workers] == [
        ("a:1", 1, 4, False),
        ("b:2", 0, 4, False),
    ]
    assert workers[0]["jobs"][0]["id"] == job.id
    assert post(client, "/api/workers/pause").json() == {
        "asked": ["a:1", "b:2"],
        "desired_state": "paused",
    }
    assert post(client, "/api/workers/b:2/resume").json() == {
        "asked": ["b:2"],
        "desired_state": "running",
    }
    assert post(client, "/api/workers/stop").json()["asked"] == ["a:1", "b:2"]
    assert {w["desired_state"] for w in client.get("/api/workers").json()} == {"stopping"}


NASTY = ["%00", "%FF", "'; DROP TABLE rocketjob_jobs; --", "%25%5F%5C", "9" * 30, "-1", "☃" * 50]


@pytest.mark.parametrize("value", NASTY)
def test_no_input_makes_a_500(store: Store, client: TestClient, value: str) -> None:
    Noop.create(description="still here")
    for path in (
        f"/api/jobs?q={value}",
        f"/api/jobs?cursor={value}",
        f"/api/jobs?state=scheduled&cursor={value}%7C{value}",
        f"/api/jobs/{value}",
        f"/jobs?q={value}",
        f"/jobs/{value}",
        f"/api/workers/{value}/pause",
    ):
        method = "POST" if path.endswith("/pause") else "GET"
        response = client.request(method, path, headers=JSON)
        assert response.status_code < 500, (path, response.text)
    assert client.get("/api/jobs/counts").json()["all"] == 1
