"""Lists with keyset paging, and counts per state that need no table scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sample_jobs import Fails, Kept, Noop

import rocketjob as rj
from rocketjob.store import Finished, Store


def every_page(state: str | None = None, limit: int = 7, cls: type[rj.Job] = rj.Job) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = cls.page(state, limit=limit, cursor=cursor)
        assert len(page.jobs) <= limit
        ids.extend(job.id for job in page.jobs)  # type: ignore[misc]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def test_all_lists_newest_first_and_pages_through_every_job_once(store: Store) -> None:
    ids = Noop.create_many([{}] * 30)
    assert every_page() == sorted(ids, reverse=True)
    assert every_page(limit=30) == sorted(ids, reverse=True)
    assert rj.Job.page(limit=100).next_cursor is None


def test_lists_per_state_and_per_class(store: Store) -> None:
    noops = Noop.create_many([{}] * 5)
    kept = Kept.create_many([{}] * 4)
    for job_id in kept[:2]:
        rj.Job.find(job_id).pause()
    rj.Job.find(noops[0]).fail("x")
    assert every_page("paused") == sorted(kept[:2], reverse=True)
    assert every_page("failed") == [noops[0]]
    assert every_page("queued") == sorted(noops[1:] + kept[2:], reverse=True)
    assert every_page(cls=Kept) == sorted(kept, reverse=True)
    assert every_page("paused", cls=Kept, limit=1) == sorted(kept[:2], reverse=True)
    assert every_page("completed") == []


def test_scheduled_jobs_list_soonest_first_and_are_not_queued(store: Store) -> None:
    now = datetime.now(UTC)
    later = [Noop.create(run_at=now + timedelta(minutes=m)).id for m in (30, 10, 20)]
    due = Noop.create(run_at=now - timedelta(minutes=1)).id
    plain = Noop.create().id
    assert every_page("scheduled", limit=2) == [later[1], later[2], later[0]]
    assert every_page("queued") == [plain, due]


def test_counts_follow_every_transition(store: Store) -> None:
    now = datetime.now(UTC)
    Noop.create_many([{}] * 3)
    Noop.create(run_at=now + timedelta(hours=1))
    Noop.create(run_at=now - timedelta(hours=1))
    Kept.create().pause()
    Fails.create().fail("x")
    aborted = Kept.create()
    aborted.abort()
    (row,) = store.claim_jobs("host:1", 1)
    kept = Kept.create()
    kept.perform_now()
    assert rj.Job.counts() == {
        "running": 1,
        "scheduled": 1,
        "queued": 3,  # 2 plain (one is running) and the one whose run_at passed
        "paused": 1,
        "failed": 1,
        "aborted": 1,
        "completed": 1,
        "all": 9,
    }
    aborted.destroy()
    store.finish_jobs([Finished(rj.execution.load_claimed(row)[1], keep=False)], "host:1")
    counts = rj.Job.counts()
    assert (counts["aborted"], counts["running"], counts["all"]) == (0, 0, 7)


def test_counts_stay_right_when_their_deltas_are_folded(store: Store) -> None:
    ids = Noop.create_many([{}] * 20)
    for job_id in ids[:5]:
        rj.Job.find(job_id).pause()
    before = rj.Job.counts()
    store.compact_counts()
    assert rj.Job.counts() == before == {**before, "paused": 5, "queued": 15, "all": 20}


def test_a_scheduled_job_becomes_queued_when_its_time_comes(store: Store) -> None:
    start = datetime.now(UTC)
    store.clock = lambda: start
    Noop.create(run_at=start + timedelta(minutes=5))
    assert rj.Job.counts()["scheduled"] == 1
    store.clock = lambda: start + timedelta(minutes=6)
    assert (rj.Job.counts()["scheduled"], rj.Job.counts()["queued"]) == (0, 1)
    assert len(store.claim_jobs("host:1", 5)) == 1
