"""Slices through failures, retries, pauses, aborts and dead workers, on both backends."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from batch_jobs import FailsAfter, Hooks, Shout, Slow, Squares
from batching import process, start, sweep

import rocketjob as rj
from rocketjob.batch.lifecycle import run_batch_job, settle, settle_batches
from rocketjob.batch.processing import claim_slices
from rocketjob.execution import load_claimed
from rocketjob.store import Store


def failing_squares(tmp_path: Path, records: int = 1_000, every: int = 130) -> rj.BatchJob:
    broken = tmp_path / "broken"
    broken.touch()
    job = Squares.create(broken=str(broken), fail_every=every)
    assert job.upload(range(1, records + 1)) == records
    return job


def test_a_record_that_raises_fails_its_slice_and_the_job_once_only_failed_are_left(
    store: Store, tmp_path: Path
) -> None:
    job = failing_squares(tmp_path)  # 130, 260, … 910 raise: 7 records in 7 slices of 50
    start(store)
    outcomes = process(store)
    assert sorted(o.result for o in outcomes).count("failed") == 7
    failed = job.reload()
    assert failed.state is rj.State.FAILED
    assert failed.exception is not None
    assert (failed.exception.class_name, failed.exception.message) == (
        "rocketjob.SlicesFailed",
        "7 slices failed",
    )
    assert failed.history()[-1].message == "7 slices failed"
    status = job.batch_status()  # type: ignore[attr-defined]
    assert (status.slices["failed"], status.slices["completed"]) == (7, 13)
    first = job.failed_slices()[0]  # type: ignore[attr-defined]
    assert (first.position, first.first_record, first.failed_record) == (3, 101, 130)
    assert first.exception.class_name == "ValueError"
    assert first.exception.message == "cannot square 130"
    assert any("batch_jobs.py" in line for line in first.exception.backtrace)
    assert first.exception.worker_name == "host:1"
    groups = job.failures_by_exception()  # type: ignore[attr-defined]
    assert [(g.class_name, g.slices, g.first_position) for g in groups] == [("ValueError", 7, 3)]
    record = job.failed_record(3)  # type: ignore[attr-defined]
    assert (record.number, record.record, record.exception.message) == (
        130,
        130,
        "cannot square 130",
    )
    assert job.download_failed(tmp_path / "failed.csv") == 7  # type: ignore[attr-defined]
    lines = (tmp_path / "failed.csv").read_text().splitlines()
    assert lines[:2] == [
        "record_number,exception_class,exception_message,record",
        "130,ValueError,cannot square 130,130",
    ]


def test_retry_after_a_fix_runs_only_the_failed_slices_from_the_failed_record(
    store: Store, tmp_path: Path
) -> None:
    job = failing_squares(tmp_path)
    start(store)
    process(store)
    before = {row["position"]: row["output"] for row in store.output_slices(job.id, limit=99)}
    (tmp_path / "broken").unlink()  # the fix
    job.retry()
    assert (job.state, job.sub_state) == (rj.State.RUNNING, rj.SubState.PROCESSING)
    retried = process(store, "host:2")
    slices = [o.step for o in retried if o.step.startswith("slice")]
    assert sorted(slices) == sorted(f"slice {p}" for p in (3, 6, 8, 11, 13, 16, 19))
    # each resumed at its failed record: 130 is the 30th record of slice 3
    assert [o.records for o in retried if o.step == "slice 3"] == [21]
    assert job.reload().state is rj.State.COMPLETED
    assert [r["n"] for r in job.output()] == list(range(1, 1_001))  # type: ignore[attr-defined]
    after = {row["position"]: row["output"] for row in store.output_slices(job.id, limit=99)}
    assert {p: after[p] for p in before} == before  # completed slices were not touched
    assert [e.action for e in job.history()] == ["start", "fail", "retry", "complete"]


def test_one_failed_slice_is_retried_alone(store: Store, tmp_path: Path) -> None:
    job = failing_squares(tmp_path, records=300, every=130)  # slices 3 and 6 fail
    start(store)
    process(store)
    (tmp_path / "broken").unlink()
    job.retry_slice(6)  # type: ignore[attr-defined]
    process(store)
    again = job.reload()
    assert again.state is rj.State.FAILED
    assert again.exception is not None and again.exception.message == "1 slice failed"
    assert [s.position for s in job.failed_slices()] == [3]  # type: ignore[attr-defined]
    with pytest.raises(rj.InvalidTransition, match=r"slice 6 of job \d+ has not failed"):
        job.retry_slice(6)  # type: ignore[attr-defined]
    job.retry_slice(3)  # type: ignore[attr-defined]
    process(store)
    assert job.reload().state is rj.State.COMPLETED
    assert [r["n"] for r in job.output()] == list(range(1, 301))  # type: ignore[attr-defined]


def test_a_paused_batch_stops_at_slice_boundaries_and_resumes(store: Store) -> None:
    job = Shout.create()
    job.upload([f"line {i}" for i in range(100)])
    start(store)
    (held,) = claim_slices(store, "host:1", 1)
    job.pause()
    assert claim_slices(store, "host:1", 5) == []  # nothing more is handed out
    assert held.run().result == "completed"  # the running slice finishes
    assert job.reload().state is rj.State.PAUSED
    job.resume()
    assert (job.state, job.sub_state) == (rj.State.RUNNING, rj.SubState.PROCESSING)
    process(store)
    assert job.reload().state is rj.State.COMPLETED
    assert list(job.output()) == [f"LINE {i}" for i in range(100)]


def test_abort_drops_every_slice_and_its_output(store: Store, tmp_path: Path) -> None:
    job = Shout.create()
    job.upload([f"line {i}" for i in range(100)])
    start(store)
    (held,) = claim_slices(store, "host:1", 1)
    process(store, limit=3)
    job.abort()
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    assert held.run().result == "lost"  # a slice running meanwhile writes nothing
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    with pytest.raises(rj.InvalidTransition, match="cannot retry an aborted job"):
        job.retry()
    job.destroy()
    with pytest.raises(rj.JobNotFound):
        job.reload()


def test_destroy_removes_the_slices_with_the_job(store: Store) -> None:
    job = Shout.create()
    job.upload(["a"] * 30)
    job.destroy()
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    assert store.get_batch(job.id) is None  # type: ignore[arg-type]


def test_slices_of_dead_workers_are_requeued_and_their_late_output_is_refused(
    store: Store,
) -> None:
    start_time = store.now()
    store.clock = lambda: start_time
    job = Shout.create()
    job.upload([f"line {i}" for i in range(30)])
    start(store, "host:1")
    store.register_worker("dead:1", "dead", 1, 1)
    (lost,) = claim_slices(store, "dead:1", 1)
    store.clock = lambda: start_time + timedelta(seconds=40)
    store.register_worker("alive:2", "alive", 2, 1)
    requeued, _ = store.reap_dead_workers(timedelta(seconds=30), by="alive:2")
    assert requeued == []  # the processing job belongs to no worker: it stays
    back = store.requeue_slices_of_dead_workers(timedelta(seconds=30), by="alive:2")
    assert [(r["job_id"], r["position"]) for r in back] == [(job.id, 1)]
    assert job.reload().state is rj.State.RUNNING
    process(store, "alive:2")
    assert lost.run().result == "lost"  # the dead worker came back: its lease is gone
    assert job.reload().state is rj.State.COMPLETED
    assert list(job.output()) == [f"LINE {i}" for i in range(30)]


def test_before_and_after_run_once_however_many_threads_finish_slices(
    store: Store, tmp_path: Path
) -> None:
    log = tmp_path / "hooks.log"
    job = Hooks.create(log=str(log))
    job.upload([str(i) for i in range(2_000)])
    start(store)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            process(store, name)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"host:{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert log.read_text().split() == ["before", "after"]
    assert job.reload().state is rj.State.COMPLETED
    assert list(job.output()) == [str(i) for i in range(2_000)]


def test_slices_of_the_more_urgent_job_are_claimed_first(store: Store) -> None:
    low = Shout.create(priority=80)
    low.upload(["a"] * 50)
    urgent = Shout.create(priority=5)
    urgent.upload(["b"] * 50)
    start(store)
    start(store)
    taken = [w.row["job_id"] for _ in range(10) for w in claim_slices(store, "host:1", 1)]
    assert taken == [urgent.id] * 5 + [low.id] * 5


def test_progress_rate_and_workers_are_reported_while_processing(store: Store) -> None:
    job = Slow.create(seconds=0.0)
    job.upload([str(i) for i in range(200)])
    start(store)
    process(store, limit=4)
    claim_slices(store, "host:9", 2)
    status = job.batch_status()
    assert (status.record_count, status.records_done, status.percent_complete) == (200, 80, 40)
    assert job.reload().percent_complete == 40
    assert (status.slices["completed"], status.slices["running"], status.workers) == (4, 2, 1)
    assert status.records_per_s is not None and status.records_per_s > 0
    assert status.eta is not None
    assert rj.BatchJob.workers_on([job.id, 999]) == {job.id: 1}  # type: ignore[list-item]


def test_a_batch_job_failed_in_before_batch_is_retried_from_the_start(store: Store) -> None:
    job = Hooks.create(log="/nonexistent/dir/hooks.log")
    job.upload(["a"])
    outcome = start(store)
    assert outcome.result == "failed"
    assert job.reload().state is rj.State.FAILED
    assert job.sub_state is rj.SubState.BEFORE
    job.retry()
    assert job.state is rj.State.QUEUED
    sweep(store)


def test_a_failed_after_batch_is_retried_alone(store: Store, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.touch()
    job = FailsAfter.create(broken=str(broken))
    job.upload([str(i) for i in range(25)])
    start(store)
    outcomes = process(store)
    assert [o.after.result for o in outcomes if o.after] == ["failed"]
    failed = job.reload()
    assert (failed.state, failed.sub_state) == (rj.State.FAILED, rj.SubState.AFTER)
    assert failed.exception is not None
    assert failed.exception.message == "the report could not be sent"
    broken.unlink()
    job.retry()
    assert job.state is rj.State.QUEUED  # to a worker, for after_batch alone
    assert start(store).step == "after"
    assert job.reload().state is rj.State.COMPLETED
    assert list(job.output()) == [str(i) for i in range(25)]


def test_a_batch_paused_during_before_batch_does_not_run_it_again(
    store: Store, tmp_path: Path
) -> None:
    log = tmp_path / "hooks.log"
    job = Hooks.create(log=str(log))
    job.upload(["a", "b"])
    (row,) = store.claim_jobs("host:1", 1)
    claimed, claim = load_claimed(row)
    rj.Job.find(job.id).pause()  # type: ignore[arg-type]  # while before_batch runs
    assert run_batch_job(claimed, claim, "host:1").result == "processing"
    paused = job.reload()
    assert (paused.state, paused.sub_state) == (rj.State.PAUSED, rj.SubState.PROCESSING)
    assert claim_slices(store, "host:1", 5) == []
    job.resume()
    assert (job.state, job.sub_state) == (rj.State.RUNNING, rj.SubState.PROCESSING)
    process(store)
    assert job.reload().state is rj.State.COMPLETED
    assert log.read_text().split() == ["before", "after"]


def test_only_one_worker_takes_a_finished_batch_into_after(store: Store) -> None:
    job = Shout.create()
    job.upload(["a"])
    start(store)
    (work,) = claim_slices(store, "host:1", 1)
    assert store.complete_slice(work.held, None, 0) is not None
    taken = settle(store, job.id, "host:1")  # type: ignore[arg-type]
    assert taken is not None and taken[0].sub_state is rj.SubState.AFTER
    assert settle(store, job.id, "host:2") is None  # type: ignore[arg-type]
    assert settle_batches(store, "host:3") == []
