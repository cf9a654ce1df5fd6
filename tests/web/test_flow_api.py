"""Singletons and dependencies in the JSON API (and its OpenAPI document)."""

from __future__ import annotations

from flow_jobs import Charge
from sample_jobs import Kept
from starlette.testclient import TestClient

import rocketjob as rj
from rocketjob.store import Store

JSON = {"accept": "application/json", "content-type": "application/json"}


def test_a_job_says_what_it_waits_on_and_what_waits_on_it(store: Store, client: TestClient) -> None:
    a = Kept.create()
    a.fail("down")
    b = Kept.create(depends_on=[a.id])
    waiting = client.get(f"/api/jobs/{b.id}").json()
    assert waiting["waiting_on"] == 1 and waiting["dependants"] == []
    assert waiting["depends_on"] == [
        {"id": a.id, "class_name": Kept.class_name, "state": "failed", "done": False}
    ]
    prerequisite = client.get(f"/api/jobs/{a.id}").json()
    assert prerequisite["dependants"] == [
        {"id": b.id, "class_name": Kept.class_name, "state": "queued", "done": False}
    ]
    listed = client.get("/api/jobs").json()["jobs"]
    assert [(j["id"], j["waiting_on"]) for j in listed] == [(b.id, 1), (a.id, 0)]
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert {"depends_on", "dependants"} <= set(schema["JobDetailOut"]["properties"])
    assert {"singleton_key", "waiting_on"} <= set(schema["JobOut"]["properties"])


def test_retrying_a_job_whose_singleton_slot_is_held_is_409_naming_the_holder(
    store: Store, client: TestClient
) -> None:
    failed = Charge.create(account=3).fail("down")
    holder = Charge.create(account=3)
    assert client.get(f"/api/jobs/{holder.id}").json()["singleton_key"] == (
        f"{Charge.class_name}:3"
    )
    response = client.post(f"/api/jobs/{failed.id}/retry", headers=JSON)
    assert (response.status_code, response.json()) == (
        409,
        {
            "detail": f"cannot retry job #{failed.id}: job #{holder.id} (queued) holds its "
            f"singleton slot '{Charge.class_name}:3'"
        },
    )
    assert failed.reload().state is rj.State.FAILED
