"""Direct hand-off: create() claims a new job for an idle worker that offered a slot.

PostgreSQL hands off (the notice carries the job to the worker); SQLite never does, and
every job created there is queued for workers to claim.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from batch_jobs import Upcase
from processes import wait_until
from sample_jobs import Kept, Noop

import rocketjob as rj
from rocketjob.store import Claim, Handoff, Store

LAPSE = timedelta(seconds=30)


@contextmanager
def listening(store: Store, worker: str) -> Iterator[queue.SimpleQueue[Handoff]]:
    """The notices handed to `worker`, as a worker process hears them (and shows it alive)."""
    heard: queue.SimpleQueue[Handoff] = queue.SimpleQueue()

    def on_notice(channel: str, payload: str) -> None:
        if channel == "handoff" and payload and (handoff := store.read_handoff(payload)):
            heard.put(handoff)

    subscription = store.subscribe(on_notice, worker=worker)
    try:
        yield heard
    finally:
        subscription.close()


def offering(store: Store, name: str, slots: int, **filters: str) -> None:
    store.register_worker(name, "host", 1, 10, **filters)
    store.heartbeat(name, "running", offer_lapse=LAPSE)
    store.offer_handoffs(name, slots, LAPSE)


def test_a_job_created_while_a_worker_offers_a_slot_is_handed_to_it(store: Store) -> None:
    with listening(store, "a:1") as heard:
        offering(store, "a:1", 2)
        first, second, third = Kept.create(), Kept.create(), Kept.create()
        if not store.hands_off:
            assert {job.state for job in (first, second, third)} == {rj.State.QUEUED}
            assert store.handed_off_jobs("a:1") == []
            return
        # Two slots: two jobs handed off, claimed in the commit that created them.
        for job in (first, second):
            assert (job.state, job.worker_name) == (rj.State.RUNNING, "a:1")
            assert [(e.action, e.from_state, e.to_state, e.by) for e in job.history()] == [
                ("start", "queued", "running", "a:1")
            ]
        assert (third.state, third.worker_name) == (rj.State.QUEUED, None)
        notices = [heard.get(timeout=5), heard.get(timeout=5)]
    assert [(n.job_id, n.worker) for n in notices] == [(first.id, "a:1"), (second.id, "a:1")]
    row = notices[0].row
    assert row is not None  # the notice carries the row: the worker need not read it
    assert (row["lease"], row["state"], row["fields"]) == (1, "running", {})
    assert row["created_at"] == first.created_at == row["started_at"]
    assert {r["id"] for r in store.handed_off_jobs("a:1")} == {first.id, second.id}
    assert [r["id"] for r in store.handed_off_jobs("a:1", [second.id])] == [second.id]
    assert rj.Job.counts()["running"] == 2
    assert rj.Job.counts()["queued"] == 1
    # The claim is a claim like any other: the lease fences it.
    assert store.claimed_state(Claim(first.id, 1)) == "running"


def test_a_job_too_big_for_a_notice_is_named_by_it_and_read(store: Store) -> None:
    if not store.hands_off:
        pytest.skip("SQLite hands nothing off")
    with listening(store, "a:1") as heard:
        offering(store, "a:1", 1)
        job = Kept.create(description="x" * 9000)
        notice = heard.get(timeout=5)
    assert notice == Handoff(job.id, "a:1", None)
    assert [r["description"] for r in store.handed_off_jobs("a:1", [job.id])] == ["x" * 9000]


def test_a_worker_skips_the_notices_handed_to_others(store: Store) -> None:
    if not store.hands_off:
        pytest.skip("SQLite hands nothing off")
    payloads: queue.SimpleQueue[str] = queue.SimpleQueue()
    subscription = store.subscribe(lambda channel, payload: payloads.put(payload), worker="b:2")
    try:
        with listening(store, "a:1"):
            offering(store, "a:1", 1)
            job = Kept.create()
            payload = payloads.get(timeout=5)
    finally:
        subscription.close()
    assert store.read_handoff(payload, "b:2") is None
    handoff = store.read_handoff(payload, "a:1")
    assert handoff is not None and (handoff.job_id, handoff.worker) == (job.id, "a:1")


def paused(store: Store) -> None:
    store.heartbeat("a:1", "paused", offer_lapse=LAPSE)


def asked_to_pause(store: Store) -> None:
    rj.pause_workers("a:1")


def asked_to_stop(store: Store) -> None:
    rj.stop_workers("a:1")


def offer_withdrawn(store: Store) -> None:
    store.offer_handoffs("a:1", 0, LAPSE)


def offer_lapsed(store: Store) -> None:
    start = store.now()
    store.clock = lambda: start + LAPSE + timedelta(seconds=1)


@pytest.mark.parametrize(
    "situation",
    [paused, asked_to_pause, asked_to_stop, offer_withdrawn, offer_lapsed],
)
def test_no_job_is_handed_to_a_worker_that_does_not_offer(
    store: Store, situation: Callable[[Store], None]
) -> None:
    with listening(store, "a:1"):
        offering(store, "a:1", 5)
        situation(store)
        job = Kept.create()
    assert (job.state, job.worker_name, job.history()) == (rj.State.QUEUED, None, [])


def test_no_job_is_handed_to_a_worker_that_is_not_listening(store: Store) -> None:
    # Its listening connection is gone (the process was killed): it holds no lock.
    offering(store, "a:1", 5)
    job = Kept.create()
    assert (job.state, job.worker_name) == (rj.State.QUEUED, None)


def test_a_worker_receives_only_the_classes_it_runs(store: Store) -> None:
    with listening(store, "kept:1"), listening(store, "rest:2"):
        offering(store, "kept:1", 5, include=r"\.Kept$")
        offering(store, "rest:2", 5, exclude="Kept|Noop")
        kept, noop = Kept.create(), Noop.create()
    assert kept.worker_name == ("kept:1" if store.hands_off else None)
    assert (noop.state, noop.worker_name) == (rj.State.QUEUED, None)


def test_scheduled_batch_and_bulk_jobs_wait_in_the_queue(store: Store) -> None:
    with listening(store, "a:1"):
        offering(store, "a:1", 10)
        later = Kept.create(run_at=store.now() + timedelta(hours=1))
        batch = Upcase.create()  # its records are uploaded after it is created
        bulk = Kept.create_many([{}, {}])
        with store.transaction():  # the worker's row would stay locked till the commit
            inside = Kept.create()
        handed = Kept.create()
    for job in (later, batch, inside, *(Kept.find(i) for i in bulk)):
        assert (job.state, job.worker_name) == (rj.State.QUEUED, None)
    assert handed.state is (rj.State.RUNNING if store.hands_off else rj.State.QUEUED)


def test_creators_share_the_offered_slots_between_workers(store: Store) -> None:
    with listening(store, "a:1"), listening(store, "b:2"):
        offering(store, "a:1", 2)
        offering(store, "b:2", 1)
        jobs = [Kept.create() for _ in range(4)]
    if not store.hands_off:
        return
    assert sorted(str(job.worker_name) for job in jobs) == ["None", "a:1", "a:1", "b:2"]


def test_a_reregistered_worker_offers_nothing_until_it_says_so(store: Store) -> None:
    with listening(store, "a:1"):
        offering(store, "a:1", 5)
        store.register_worker("a:1", "host", 1, 10)  # e.g. after being declared dead
        store.heartbeat("a:1", "running", offer_lapse=LAPSE)
        job = Kept.create()
    assert job.state is rj.State.QUEUED


def test_a_worker_listening_again_takes_hand_offs_again(store: Store) -> None:
    if not store.hands_off:
        pytest.skip("SQLite hands nothing off")
    with listening(store, "a:1"):
        offering(store, "a:1", 5)
    # the first connection's lock is released as it closes
    wait_until(lambda: Kept.create().state is rj.State.QUEUED, timeout=5)
    with listening(store, "a:1"):
        assert Kept.create().state is rj.State.RUNNING
