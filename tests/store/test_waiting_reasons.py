"""Why is a queued job waiting? Every reason code, from the rules the claim obeys, on both
backends: the store's rows, the workers' rows, the class's settings."""

from __future__ import annotations

from datetime import timedelta

from retrying_jobs import Flaky
from throttled_jobs import Charge, Ping
from window_jobs import NightlyReport

import rocketjob as rj
from rocketjob.behaviours import waiting
from rocketjob.config import get_store
from rocketjob.store import Claim, Store


def said(job: rj.Job, cap: int = waiting.BEHIND_CAP) -> list[tuple[str, str]]:
    """The reasons of `job` as read now, counting at most `cap` jobs ahead."""
    store = get_store()
    found = waiting.waiting_reasons(job.reload(), store, store.now(), behind_cap=cap)
    return [(r.code, r.message) for r in found]


def test_each_reason_a_job_waits_is_named(store: Store) -> None:
    flaky = Flaky.create(path="unused")
    (row,) = store.claim_jobs("w0", 1)
    failure = {"class_name": "TimeoutError", "message": "no answer"}
    store.retry_claimed_job(
        Claim(int(row["id"]), int(row["lease"])), failure, store.now() + timedelta(seconds=81), "w0"
    )
    assert said(flaky) == [
        ("retry_backoff", "retrying after a failure (attempt 2 of 6) in 1 min 21 s"),
        ("no_worker", "no worker is alive"),
    ]

    store.register_worker("w-a", "h", 1, 2, exclude="Ping$")
    store.register_worker("w-b", "h", 2, 2, exclude="Ping$")
    ping = Ping.create()
    (reason,) = Ping.find(ping.id).waiting_reasons()  # type: ignore[arg-type]
    assert reason == rj.WaitReason(
        "no_worker",
        "no live worker takes this class (2 workers exclude it by --exclude 'Ping$')",
        [],
        ["w-a", "w-b"],
    )
    store.deregister_worker("w-a")
    store.deregister_worker("w-b")
    store.register_worker("w-all", "h", 3, 2)
    store.heartbeat("w-all", "paused")
    assert said(ping) == [("no_worker", "all workers are paused")]
    store.heartbeat("w-all", "running")
    assert said(ping) == []

    ahead = Ping.create_many([{"priority": 10}] * 3)
    assert said(ping) == [("behind", "behind 3 due jobs of higher or equal priority")]
    assert said(ping, cap=2) == [("behind", "behind 2+ due jobs of higher or equal priority")]
    assert said(Ping.find(ahead[1])) == [("behind", "behind 1 due job of higher or equal priority")]

    later = Ping.create(run_at=store.now() + timedelta(minutes=4))
    assert said(later) == [("scheduled", "scheduled in 4 min")]
    paused = Ping.create().pause()
    assert said(paused) == [("paused", "paused")]
    waits = Ping.create(depends_on=[ping.id])
    reasons = Ping.find(waits.id).waiting_reasons()  # type: ignore[arg-type]
    assert [(r.code, r.message, r.job_ids) for r in reasons] == [
        ("dependencies", f"waits on #{ping.id} (queued)", [ping.id])
    ]

    report = NightlyReport.create(path="unused").run_now()
    assert said(report)[0][0] == "window"
    assert said(report)[0][1].startswith("outside its processing window; opens at ")
    assert said(report)[0][1].endswith("-02-29 03:00 UTC")

    charges = Charge.create_many([{}] * 4)
    running = [int(r["id"]) for r in store.claim_throttled_jobs("w-all", Charge.class_name, 3, 10)]
    assert running == charges[:3]
    (throttled,) = Charge.find(charges[3]).waiting_reasons()
    listed = ", ".join(f"#{i}" for i in running)
    assert throttled == rj.WaitReason(
        "throttled",
        f"maximum of 3 running jobs {Charge.class_name} reached: {listed} are running",
        running,
    )


def test_a_running_job_waits_for_nothing(store: Store) -> None:
    ping = Ping.create()
    store.claim_jobs("w", 1)
    assert Ping.find(ping.id).waiting_reasons() == []  # type: ignore[arg-type]
