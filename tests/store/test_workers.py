"""Worker rows, operator control and the reaper, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sample_jobs import Kept, Slow

import rocketjob as rj
from rocketjob.store import Store


def test_registered_workers_are_listed_with_the_jobs_they_run(store: Store) -> None:
    store.register_worker("a:1", "a", 1, 4)
    store.register_worker("b:2", "b", 2, 10)
    assert store.heartbeat("a:1", "running") == (True, None)
    job = Slow.create(description="resize images")
    store.claim_jobs("a:1", 1)
    workers = {w.name: w for w in rj.list_workers()}
    assert list(workers) == ["a:1", "b:2"]
    a = workers["a:1"]
    assert (a.host, a.pid, a.state, a.threads, a.desired_state) == ("a", 1, "running", 4, None)
    assert [(j.id, j.class_name, j.description) for j in a.jobs] == [
        (job.id, "sample_jobs.Slow", "resize images")
    ]
    assert workers["b:2"].state == "starting"
    assert workers["b:2"].jobs == []
    assert not a.is_stale(store.now())


def test_operators_ask_one_or_every_worker_and_workers_learn_it_at_heartbeat(
    store: Store,
) -> None:
    store.register_worker("a:1", "a", 1, 4)
    store.register_worker("b:2", "b", 2, 4)
    assert rj.pause_workers() == ["a:1", "b:2"]
    assert store.heartbeat("a:1", "running") == (True, "paused")
    assert rj.resume_workers("a:1") == ["a:1"]
    assert store.heartbeat("a:1", "paused") == (True, "running")
    assert store.heartbeat("b:2", "running") == (True, "paused")
    assert rj.stop_workers("b:2") == ["b:2"]
    assert {w.name: w.desired_state for w in rj.list_workers()} == {
        "a:1": "running",
        "b:2": "stopping",
    }
    with pytest.raises(rj.WorkerNotFound, match="no worker named c:3"):
        rj.pause_workers("c:3")


def test_a_worker_that_was_reaped_learns_it_at_its_next_heartbeat(store: Store) -> None:
    assert store.heartbeat("ghost:9", "running") == (False, None)


def test_the_reaper_requeues_the_jobs_of_silent_workers_and_forgets_them(
    store: Store,
) -> None:
    start = store.now()
    store.clock = lambda: start
    store.register_worker("dead:1", "dead", 1, 2)
    store.register_worker("alive:2", "alive", 2, 2)
    dead_job, alive_job = Kept.create(), Kept.create()
    store.claim_jobs("dead:1", 1)
    store.claim_jobs("alive:2", 1)

    store.clock = lambda: start + timedelta(seconds=40)
    store.heartbeat("alive:2", "running")
    requeued, dead = store.reap_dead_workers(timedelta(seconds=30), by="alive:2")

    assert [row["id"] for row in requeued] == [dead_job.id]
    assert dead == ["dead:1"]
    assert [w.name for w in rj.list_workers()] == ["alive:2"]
    back = dead_job.reload()
    assert (back.state, back.worker_name) == (rj.State.QUEUED, None)
    entry = back.history()[-1]
    assert (entry.action, entry.by, entry.message) == (
        "requeue",
        "alive:2",
        "worker dead:1 stopped heartbeating",
    )
    assert alive_job.reload().state is rj.State.RUNNING


def test_running_jobs_of_no_known_worker_are_requeued_but_inline_ones_are_not(
    store: Store,
) -> None:
    start = store.now()
    store.clock = lambda: start
    orphan, inline = Kept.create(), Kept.create()
    store.claim_job(orphan.id, "vanished:7")  # type: ignore[arg-type]
    store.claim_job(inline.id, "inline:console:8")  # type: ignore[arg-type]
    store.clock = lambda: start + timedelta(seconds=31)
    requeued, _ = store.reap_dead_workers(timedelta(seconds=30), by="alive:2")
    assert [row["id"] for row in requeued] == [orphan.id]
    assert inline.reload().state is rj.State.RUNNING


def test_a_reaper_never_reaps_itself(store: Store) -> None:
    # Its own row may look old (a write held up behind a lock, a slow beat): it is alive.
    start = store.now()
    store.clock = lambda: start
    store.register_worker("slow:1", "slow", 1, 2)
    job = Kept.create()
    store.claim_jobs("slow:1", 1)
    store.clock = lambda: start + timedelta(seconds=40)
    requeued, dead = store.reap_dead_workers(timedelta(seconds=30), by="slow:1")
    assert (requeued, dead) == ([], [])
    assert [w.name for w in rj.list_workers()] == ["slow:1"]
    assert job.reload().state is rj.State.RUNNING
