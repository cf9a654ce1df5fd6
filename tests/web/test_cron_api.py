"""The JSON API of cron schedules: GET /api/cron, and POST /api/cron/{class}/{action} with
its errors (404 unknown class, 409 refused or nothing waiting, 422 bad input)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cron_jobs import EveryMinute, NineInParis
from starlette.testclient import TestClient

import rocketjob as rj
from rocketjob.store import Store
from rocketjob.worker.cron import CronKeeper

START = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
MINUTE = "cron_jobs.EveryMinute"


@pytest.fixture
def keeper(store: Store) -> CronKeeper:
    store.clock = lambda: START
    keeper = CronKeeper(store, [EveryMinute, NineInParis])
    keeper.sync()
    return keeper


def test_the_list_gives_each_schedule_with_its_next_and_latest_run(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    store.clock = lambda: datetime(2026, 3, 2, 8, 1, 2, tzinfo=UTC)
    (ran,) = keeper.claim(lambda: store.claim_jobs("host:1", 1, include="EveryMinute"))
    minute, nine = client.get("/api/cron").json()
    assert minute == {
        "class_name": MINUTE,
        "cron": "* * * * *",
        "timezone": "UTC",
        "in_words": "Every minute",
        "next_run_at": "2026-03-02T08:02:00Z",
        "paused": False,
        "pending_id": rj.list_cron()[0].pending_id,
        "last_job_id": ran["id"],
        "last_started_at": "2026-03-02T08:01:02Z",
        "last_outcome": "running",
        "last_finished_at": None,
        "last_job_kept": True,
        "actions": ["run_now", "pause"],
    }
    assert (nine["class_name"], nine["timezone"], nine["in_words"]) == (
        "cron_jobs.NineInParis",
        "Europe/Paris",
        "At 09:00 every day",
    )
    assert (nine["next_run_at"], nine["last_job_id"]) == ("2026-03-03T08:00:00Z", None)


def test_no_schedule_is_an_empty_list(client: TestClient) -> None:
    assert client.get("/api/cron").json() == []


def test_actions_answer_with_the_schedule_after_them(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    waiting = rj.list_cron()[0].pending_id
    paused = client.post(f"/api/cron/{MINUTE}/pause").json()  # as curl sends it: no body
    assert (paused["paused"], paused["pending_id"], paused["actions"]) == (
        True,
        waiting,
        ["resume"],
    )
    assert rj.Job.find(waiting).history()[-1].by == "api"  # type: ignore[arg-type]
    resumed = client.post(f"/api/cron/{MINUTE}/resume", json={}).json()
    assert (resumed["paused"], resumed["actions"]) == (False, ["run_now", "pause"])
    ran = client.post(f"/api/cron/{MINUTE}/run_now").json()
    assert (ran["next_run_at"], ran["actions"]) == (None, ["pause"])
    assert [row["id"] for row in store.claim_jobs("host:1", 5)] == [waiting]


def test_an_action_the_state_refuses_is_409_with_the_reason(
    client: TestClient, keeper: CronKeeper
) -> None:
    waiting = rj.list_cron()[0].pending_id
    response = client.post(f"/api/cron/{MINUTE}/resume")
    assert (response.status_code, response.json()) == (
        409,
        {"detail": f"cannot resume a queued job: job #{waiting}, the next run of {MINUTE}"},
    )


def test_a_schedule_without_a_waiting_job_is_409(client: TestClient, keeper: CronKeeper) -> None:
    rj.Job.find(rj.list_cron()[0].pending_id).destroy()  # type: ignore[arg-type]
    response = client.post(f"/api/cron/{MINUTE}/pause")
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        f"cannot pause {MINUTE}: no job of it is waiting for the next run, as no worker that "
        "imports the class has run since"
    )


def test_an_unknown_class_is_404(client: TestClient, keeper: CronKeeper) -> None:
    response = client.post("/api/cron/cron_jobs.Hourly/run_now")
    assert (response.status_code, response.json()) == (
        404,
        {
            "detail": "no cron schedule of cron_jobs.Hourly: a schedule is known once a worker "
            "that imports its class has started"
        },
    )


def test_bad_input_is_422_and_foreign_writes_403(client: TestClient, keeper: CronKeeper) -> None:
    response = client.post(f"/api/cron/{MINUTE}/destroy")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "action"]
    assert client.post("/api/cron/a%00b/pause").status_code == 422
    refused = client.post(f"/api/cron/{MINUTE}/pause", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert not rj.list_cron()[0].paused


def test_openapi_documents_the_cron_routes_and_their_errors(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    act = spec["paths"]["/api/cron/{class_name}/{action}"]["post"]
    assert {"404", "409", "422"} <= set(act["responses"])
    assert "no cron schedule of that class" in act["responses"]["404"]["description"]
    listed = spec["paths"]["/api/cron"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["items"]["$ref"].endswith("CronOut")
    assert set(spec["components"]["schemas"]["CronOut"]["properties"]) == {
        *(field for field in rj.CronInfo.__dataclass_fields__),
        "actions",
    }
