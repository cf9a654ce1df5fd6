"""Where a job stands with its automatic retries: on its page, in the lists, in its JSON,
and on the command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from processes import rocketjob
from retrying_jobs import Flaky
from starlette.testclient import TestClient
from webpages import text_of

import rocketjob as rj
from rocketjob.store import Claim, Store

TIMEOUT = {"class_name": "TimeoutError", "message": "no answer", "backtrace": []}


def failed_once(store: Store, tmp_path: Path) -> rj.Job:
    job = Flaky.create(path=str(tmp_path / "runs"))
    (row,) = store.claim_jobs("host:1", 1)
    later = store.now() + timedelta(minutes=2)
    assert store.retry_claimed_job(Claim(row["id"], row["lease"]), TIMEOUT, later, "host:1")
    return job.reload()


def test_the_job_page_shows_the_retry_schedule_and_each_failure(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    job = failed_once(store, tmp_path)
    page = text_of(client.get(f"/jobs/{job.id}").text)
    assert "Retries retry 1 of 5, next in 1 min" in page
    assert "Failures" in page
    assert "TimeoutError: no answer retried automatically" in page


def test_a_retrying_job_is_listed_as_scheduled_with_its_attempt(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    failed_once(store, tmp_path)
    listed = text_of(client.get("/jobs?state=scheduled").text)
    assert "retry 1 of 5" in listed


def test_the_job_json_carries_the_attempt_and_every_failure(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    job = failed_once(store, tmp_path)
    body = client.get(f"/api/jobs/{job.id}").json()
    assert (body["list_state"], body["attempt"], body["retry_limit"]) == ("scheduled", 1, 5)
    assert [(f["message"], f["then"]) for f in body["failures"]] == [
        ("TimeoutError: no answer", "retried")
    ]


def test_jobs_show_prints_the_retries(store: Store, database_url: str, tmp_path: Path) -> None:
    job = failed_once(store, tmp_path)
    shown = rocketjob(
        "jobs", "show", "--import", "retrying_jobs", str(job.id), database_url=database_url
    )
    assert shown.returncode == 0, shown.stderr
    assert "retry 1 of 5, next in" in shown.stdout
