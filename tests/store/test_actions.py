"""Operator actions persist at once, follow the state table and leave a history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sample_jobs import Kept, Noop, Slow

import rocketjob as rj
from rocketjob.execution import load_claimed
from rocketjob.store import Claim, Finished, Store


def claim(store: Store, worker: str = "host:1") -> tuple[rj.Job, Claim]:
    (row,) = store.claim_jobs(worker, 1)
    return load_claimed(row)


def test_each_action_persists_at_once(store: Store) -> None:
    job = Kept.create()
    job.pause(by="user:ada")
    assert rj.Job.find(job.id).state is rj.State.PAUSED  # type: ignore[arg-type]
    job.resume(by="api")
    assert rj.Job.find(job.id).state is rj.State.QUEUED  # type: ignore[arg-type]
    job.fail("looked wrong", by="user:ada")
    failed = rj.Job.find(job.id)  # type: ignore[arg-type]
    assert failed.state is rj.State.FAILED
    assert failed.failure_count == 1
    assert failed.exception is not None and failed.exception.message == "looked wrong"
    job.retry()
    retried = rj.Job.find(job.id)  # type: ignore[arg-type]
    assert (retried.state, retried.exception, retried.failure_count) == (
        rj.State.QUEUED,
        None,
        1,
    )
    job.abort()
    assert rj.Job.find(job.id).state is rj.State.ABORTED  # type: ignore[arg-type]
    job.destroy()
    with pytest.raises(rj.JobNotFound):
        rj.Job.find(job.id)  # type: ignore[arg-type]


def test_history_records_every_transition_with_who_did_it(store: Store) -> None:
    job = Kept.create()
    job.pause(by="user:ada")
    job.resume(by="api")
    _, lease = claim(store, "host:7")
    store.finish_jobs([Finished(lease, keep=True)], "host:7")
    steps = [(e.from_state, e.to_state, e.action, e.by) for e in job.history()]
    assert steps == [
        ("queued", "paused", "pause", "user:ada"),
        ("paused", "queued", "resume", "api"),
        ("queued", "running", "start", "host:7"),
        ("running", "completed", "complete", "host:7"),
    ]
    times = [e.at for e in job.history()]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)


def test_refused_actions_raise_and_change_nothing(store: Store) -> None:
    job = Kept.create()
    with pytest.raises(rj.InvalidTransition, match="cannot retry a queued job"):
        job.retry()
    with pytest.raises(rj.InvalidTransition, match="cannot resume a queued job"):
        job.resume()
    with pytest.raises(rj.InvalidTransition, match="not scheduled"):
        job.run_now()
    assert job.reload().state is rj.State.QUEUED
    assert job.history() == []


def test_a_running_job_cannot_be_destroyed_or_paused_unless_pausable(store: Store) -> None:
    Kept.create()
    job, _ = claim(store)
    with pytest.raises(rj.InvalidTransition, match="cannot destroy a running job"):
        job.destroy()
    with pytest.raises(rj.InvalidTransition, match="not pausable"):
        job.pause()
    Slow.create()
    slow, _ = claim(store)
    slow.pause()
    assert slow.state is rj.State.PAUSED


def test_run_now_clears_run_at_and_moves_the_job_from_scheduled_to_queued(
    store: Store,
) -> None:
    job = Noop.create(run_at=datetime.now(UTC) + timedelta(hours=1))
    assert (rj.Job.counts()["scheduled"], rj.Job.counts()["queued"]) == (1, 0)
    assert store.claim_jobs("host:1", 10) == []
    job.run_now()
    assert job.run_at is None
    assert (rj.Job.counts()["scheduled"], rj.Job.counts()["queued"]) == (0, 1)
    assert [r["id"] for r in store.claim_jobs("host:1", 10)] == [job.id]


def test_an_operator_abort_wins_over_the_worker_completing(store: Store) -> None:
    Kept.create()
    job, held = claim(store)
    rj.Job.find(job.id).abort(by="user:ada")  # type: ignore[arg-type]
    store.finish_jobs([Finished(held, keep=True)], "host:1")
    assert job.reload().state is rj.State.ABORTED
    assert store.fail_claimed_job(held, {"class_name": "X", "message": "late"}, "host:1") is False
    assert job.reload().exception is None


def test_progress_and_checkpoint_see_an_operator_intervene(store: Store) -> None:
    Slow.create()
    job, held = claim(store)
    job._claim = held
    job.progress(40)
    assert rj.Job.find(job.id).percent_complete == 40  # type: ignore[arg-type]
    job.checkpoint()
    rj.Job.find(job.id).fail("stop it")  # type: ignore[arg-type]
    job._checked_at = 0.0
    with pytest.raises(rj.jobs.JobInterrupted, match="failed"):
        job.checkpoint()
    with pytest.raises(rj.jobs.JobInterrupted, match="failed"):
        job.progress(50)


def test_a_stale_lease_cannot_write_after_the_job_was_claimed_again(store: Store) -> None:
    Kept.create()
    job, first = claim(store, "host:1")
    # the first worker is presumed dead; its job goes back to the queue and runs again
    rj.Job.find(job.id).fail("worker vanished")  # type: ignore[arg-type]
    rj.Job.find(job.id).retry()  # type: ignore[arg-type]
    _, second = claim(store, "host:2")
    assert second.lease > first.lease
    assert store.record_progress(first, 99) is None
    assert store.claimed_state(first) is None
    store.finish_jobs([Finished(first, keep=True)], "host:1")
    assert job.reload().state is rj.State.RUNNING
    assert job.worker_name == "host:2"
    store.finish_jobs([Finished(second, keep=True)], "host:2")
    assert job.reload().state is rj.State.COMPLETED
