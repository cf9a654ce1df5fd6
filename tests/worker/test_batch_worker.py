"""Batch jobs on real `rocketjob worker` processes, on both backends."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from batch_jobs import Gated, Numbers, Slow, Squares
from batching import start
from gates import Gate
from processes import Background, rocketjob, start_rocketjob, wait_until
from sample_jobs import Record
from workers import wait_for_worker

import rocketjob as rj
from rocketjob.store import Store

WORKER = ("worker", "--import", "batch_jobs", "--threads", "2", "--poll-interval", "0.05")


def slices_done(log: str) -> set[int]:
    return {int(n) for n in re.findall(r"slice (\d+) completed", log)}


@contextmanager
def workers(database_url: str, count: int, *args: str) -> Iterator[list[Background]]:
    """Long-running workers, registered and polling; stopped at the end."""
    running = [start_rocketjob(*WORKER, *args, database_url=database_url) for _ in range(count)]
    try:
        for worker in running:
            wait_for_worker(worker.pid)
        yield running
    finally:
        for worker in running:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in running:
            worker.wait()
            worker.close()


def burst(database_url: str) -> str:
    result = rocketjob("worker", "--burst", *WORKER[1:], database_url=database_url, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_several_processes_write_100000_records_in_input_order(
    store: Store, database_url: str
) -> None:
    with workers(database_url, 3) as running:
        job = Numbers.create(wait=0.01)  # 1 s of waiting in all: more than one worker's share
        assert job.upload(range(100_000)) == 100_000  # workers start while it streams
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, 90, "completion")
        logs = [worker.output() for worker in running]
    assert sum(1 for log in logs if slices_done(log)) >= 2, "slices were shared out"
    assert [int(n) for n in job.output()] == list(range(100_000))
    assert job.percent_complete == 100


def test_failures_then_a_retry_after_the_fix_write_every_record_once(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.touch()
    job = Squares.create(broken=str(broken), fail_every=997)
    job.upload(range(1, 20_001))
    start(store)  # processing: the burst workers below all find slices
    burst(database_url)
    failed = job.reload()
    assert failed.state is rj.State.FAILED
    positions = {s.position for s in job.failed_slices(limit=1_000)}
    assert failed.exception is not None
    assert failed.exception.message == f"{len(positions)} slices failed"
    assert len(positions) == 20

    broken.unlink()  # the fix
    job.retry()
    log = burst(database_url)
    assert slices_done(log) == positions  # only the failed slices ran again
    assert job.reload().state is rj.State.COMPLETED
    assert [r["n"] for r in job.output()] == list(range(1, 20_001))


def test_a_worker_killed_mid_slice_leaves_every_record_once(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    job = Gated.create(gate=str(gate), hold="110", seconds=0.002)
    job.upload([str(i) for i in range(3_000)])
    start(store)
    reaping = ("--zombie-timeout", "2")
    with workers(database_url, 1, *reaping) as (victim,):
        gate.wait_reached()  # slice 6 is mid-way: 10 of its records done
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        assert job.batch_status().slices["running"] > 0  # held by a dead worker
        gate.open()
        # a live worker's reaper hands the dead worker's slices to the queue again
        with workers(database_url, 1, *reaping) as (survivor,):
            wait_until(lambda: job.reload().state is rj.State.COMPLETED, 90, "completion")
            assert "requeued: its worker died" in survivor.output()
    assert list(job.output()) == [str(i) for i in range(3_000)]


def test_pause_lets_the_running_slice_finish_then_stops_and_resume_goes_on(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    job = Gated.create(gate=str(gate), hold="110")
    job.upload([str(i) for i in range(3_000)])
    with workers(database_url, 1, "--threads", "1"):
        gate.wait_reached()  # slice 6 is running
        job.pause()
        assert job.reload().state is rj.State.PAUSED
        assert job.batch_status().slices["running"] == 1
        gate.open()
        paused = wait_until(
            lambda: (s := job.batch_status()).slices["running"] == 0 and s, 30, "idle"
        )
        # the held slice finished; no slice was started after the pause
        assert (paused.slices["completed"], paused.slices["queued"]) == (6, 144)
        assert job.reload().state is rj.State.PAUSED
        job.resume()
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, 90, "completion")
    assert list(job.output()) == [str(i) for i in range(3_000)]
    assert [e.action for e in job.history()] == ["start", "pause", "resume", "complete"]


def test_abort_drops_the_slices_while_workers_run_them(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    job = Gated.create(gate=str(gate), hold="110")
    job.upload([str(i) for i in range(3_000)])
    with workers(database_url, 1, "--threads", "1") as (worker,):
        gate.wait_reached()  # slice 6 is running
        job.abort()
        assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
        gate.open()
        wait_until(lambda: f"job {job.id} batch_jobs.Gated slice 6 lost" in worker.output())
        done = Numbers.create()  # the worker goes on with other work
        done.upload(range(10))
        wait_until(lambda: done.reload().state is rj.State.COMPLETED, 30, "the next job")
        assert worker.poll() is None
    assert job.reload().state is rj.State.ABORTED
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]


def test_a_job_queued_meanwhile_runs_before_the_batch_finishes(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    batch = Slow.create(seconds=0.002, priority=50)
    batch.upload([str(i) for i in range(3_000)])  # 6 s of work for one thread
    with workers(database_url, 1, "--import", "sample_jobs", "--threads", "1"):
        wait_until(lambda: batch.batch_status().slices["completed"] >= 2, 60, "some slices")
        urgent = Record.create(path=str(tmp_path / "ran.txt"))
        wait_until(lambda: urgent.reload().state is rj.State.COMPLETED, 30, "the queued job")
        assert batch.reload().state is rj.State.RUNNING
        assert batch.batch_status().slices["queued"] > 0  # it preempted the batch
