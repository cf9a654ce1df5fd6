"""`rocketjob jobs why ID` as a real process on both backends: each reason a line, or JSON."""

from __future__ import annotations

import json
from datetime import timedelta

from processes import rocketjob
from sample_jobs import Noop

from rocketjob.store import Store


def test_why_prints_each_reason_and_json(store: Store) -> None:
    first = Noop.create(priority=10)
    later = Noop.create(run_at=store.now() + timedelta(hours=2, minutes=5))
    store.register_worker("w-1", "h", 1, 2)
    store.heartbeat("w-1", "paused")
    behind = Noop.create()

    result = rocketjob("jobs", "why", str(behind.id), database_url=store.url)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "no_worker: all workers are paused",
        "behind: behind 1 due job of higher or equal priority",
    ]
    shown = rocketjob("jobs", "why", "--json", str(later.id), database_url=store.url)
    assert (
        json.loads(shown.stdout)[0]
        == {
            "code": "scheduled",
            "message": "scheduled in 2 h 4 min",
            "job_ids": [],
            "worker_names": [],
        }
        or json.loads(shown.stdout)[0]["message"] == "scheduled in 2 h 5 min"
    )
    store.claim_jobs("w-1", 1)
    done = rocketjob("jobs", "why", str(first.id), database_url=store.url)
    assert done.stdout.strip() == f"job #{first.id} is not waiting: it is running"
