"""Claims: due jobs only, by priority, then run_at, then id; never one job twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sample_jobs import Kept, Noop

import rocketjob as rj
from rocketjob.store import Store


def test_claims_take_due_jobs_by_priority_then_run_at_then_id(store: Store) -> None:
    now = datetime.now(UTC)
    low = Noop.create(priority=90).id
    first = Noop.create(priority=20).id
    second = Noop.create(priority=20).id
    older_run_at = Noop.create(priority=20, run_at=now - timedelta(minutes=1)).id
    oldest_run_at = Noop.create(priority=20, run_at=now - timedelta(minutes=9)).id
    Noop.create(priority=1, run_at=now + timedelta(minutes=5))  # not due
    urgent = Noop.create(priority=1).id
    order = [row["id"] for _ in range(7) for row in store.claim_jobs("host:1", 1)]
    assert order == [urgent, first, second, oldest_run_at, older_run_at, low]
    assert rj.Job.counts()["scheduled"] == 1


def test_a_batch_claim_returns_jobs_in_claim_order(store: Store) -> None:
    ids = Noop.create_many([{"priority": p} for p in (50, 10, 50, 10, 30)])
    rows = store.claim_jobs("host:1", 10)
    assert [r["id"] for r in rows] == [ids[1], ids[3], ids[4], ids[0], ids[2]]
    assert all(r["state"] == "running" and r["worker_name"] == "host:1" for r in rows)
    assert rj.Job.counts()["running"] == 5


def test_concurrent_claims_never_hand_out_a_job_twice(store: Store) -> None:
    ids = Kept.create_many([{}] * 300)
    taken: list[list[int]] = [[] for _ in range(6)]

    def claimer(index: int) -> None:
        while rows := store.claim_jobs(f"host:{index}", 7):
            taken[index].extend(r["id"] for r in rows)

    threads = [threading.Thread(target=claimer, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    everything = [job_id for ids_of_one in taken for job_id in ids_of_one]
    assert sorted(everything) == ids
    assert rj.Job.counts()["running"] == 300


def test_each_claim_hands_out_a_new_lease(store: Store) -> None:
    job = Kept.create()
    (first,) = store.claim_jobs("host:1", 1)
    job.reload().fail("x")
    job.retry()
    (second,) = store.claim_jobs("host:2", 1)
    assert second["lease"] > first["lease"]
