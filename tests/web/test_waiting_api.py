"""The job JSON says why a queued job is waiting (`waiting`), in the OpenAPI document too."""

from __future__ import annotations

from sample_jobs import Kept
from starlette.testclient import TestClient

from rocketjob.store import Store


def test_a_queued_job_says_why_it_waits(store: Store, client: TestClient) -> None:
    a = Kept.create()
    b = Kept.create(depends_on=[a.id])
    waiting = client.get(f"/api/jobs/{b.id}").json()["waiting"]
    assert waiting == [
        {
            "code": "dependencies",
            "message": f"waits on #{a.id} (queued)",
            "job_ids": [a.id],
            "worker_names": [],
        },
        {"code": "no_worker", "message": "no worker is alive", "job_ids": [], "worker_names": []},
    ]
    a.perform_now()
    assert client.get(f"/api/jobs/{a.id}").json()["waiting"] == []
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert "waiting" in schema["JobDetailOut"]["required"]
    assert set(schema["WaitReasonOut"]["properties"]) == {
        "code",
        "message",
        "job_ids",
        "worker_names",
    }
