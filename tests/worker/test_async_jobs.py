"""Async jobs on a worker's event loop, on real worker processes and both backends."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from callback_jobs import AsyncFlaky, AsyncNoop, AsyncRecord, AsyncSteps, Sleeper
from gates import Gate
from processes import Background, finish, start_rocketjob, wait_until
from workers import wait_for_worker

import rocketjob as rj
from rocketjob.store import Store

FAST_REAPING = ("--zombie-timeout", "2", "--poll-interval", "0.2")


@contextmanager
def worker(database_url: str, *args: str) -> Iterator[Background]:
    process = start_rocketjob(
        "worker", "--import", "callback_jobs", "--poll-interval", "0.05", *args,
        database_url=database_url,
    )  # fmt: skip
    try:
        yield process
        process.send_signal(signal.SIGTERM)
        finish(process)
    finally:
        process.close()


def test_a_hundred_async_jobs_sleep_at_once(store: Store, database_url: str) -> None:
    with worker(database_url, "--threads", "2", "--async-slots", "100") as process:
        assert wait_for_worker(process.pid).async_slots == 100
        started = time.monotonic()
        Sleeper.create_many([{"seconds": 1.0}] * 100)
        wait_until(lambda: rj.Job.counts()["all"] == 0, 60, "100 sleepers done")
        seconds = time.monotonic() - started
        assert "100 async slots" in process.output()
    assert seconds < 15  # one after the other: 100 s; on two threads: 50 s


def test_async_progress_and_checkpoints_reach_the_database(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = AsyncSteps.create(path=str(tmp_path / "steps"))
    with worker(database_url) as process:
        wait_until(lambda: job.reload().percent_complete >= 10, message="progress recorded")
        job.pause()
        wait_until(lambda: "stopped after" in process.output(), message="the job stopped")
        steps_then = len((tmp_path / "steps").read_text().splitlines())
    assert job.state is rj.State.PAUSED
    assert 10 <= job.percent_complete < 100
    assert steps_then < 100  # acheckpoint() stopped it
    assert [e.action for e in job.history()] == ["start", "pause"]


def test_an_async_job_that_raises_is_retried_with_async_callbacks(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = AsyncFlaky.create(path=str(tmp_path / "runs"))
    with worker(database_url):
        wait_until(
            lambda: job.reload().state in (rj.State.COMPLETED, rj.State.FAILED),
            message="the job settled",
        )
    assert (job.state, job.attempt, job.failure_count) == (rj.State.COMPLETED, 2, 2)
    failure = ["before {}", "around", "perform {}", "on_failure the gateway did not answer"]
    assert (tmp_path / "runs").read_text().splitlines() == [
        *(line.format(0) for line in failure),
        *(line.format(1) for line in failure),
        "before 2", "around", "perform 2", "around returned", "after",
    ]  # fmt: skip


def test_perform_now_runs_an_async_job_from_sync_code(store: Store, tmp_path: Path) -> None:
    job = AsyncSteps.create(path=str(tmp_path / "steps"), steps=3, step_seconds=0.0)
    job.perform_now()
    assert (job.reload().state, job.percent_complete) == (rj.State.COMPLETED, 100)
    assert len((tmp_path / "steps").read_text().splitlines()) == 3


def test_a_frozen_workers_async_jobs_run_once_elsewhere(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran"
    gate = Gate(tmp_path)
    slots = ("--async-slots", "2", *FAST_REAPING)
    with worker(database_url, *slots) as frozen:
        wait_for_worker(frozen.pid)
        # Fast jobs first: the worker learns to claim well ahead of its two slots.
        AsyncNoop.create_many([{}] * 40)
        wait_until(lambda: rj.Job.counts()["all"] == 0, message="the no-ops done")
        held = AsyncRecord.create_many([{"path": str(out), "gate": str(gate)}] * 2)
        gate.wait_reached(2)  # both slots busy at the gate
        ahead = AsyncRecord.create_many([{"path": str(out)}] * 6)
        frozen_name = rj.Job.find(held[0]).worker_name
        # How far ahead it claims follows how fast its jobs went: on a loaded machine, not
        # all six. Every one of them must run once, whoever claimed it.
        wait_until(
            lambda: any(rj.Job.find(i).worker_name == frozen_name for i in ahead),
            message="jobs claimed ahead by the busy worker",
        )
        frozen.send_signal(signal.SIGSTOP)
        gate.open()
        every = [*held, *ahead]
        with worker(database_url, *FAST_REAPING) as rescuer:
            rescuer_name = wait_for_worker(rescuer.pid).name
            wait_until(
                lambda: all(rj.Job.find(i).state is rj.State.COMPLETED for i in every),
                message="the rescuer ran everything the frozen worker held",
            )
        frozen.send_signal(signal.SIGCONT)
        wait_until(lambda: "not run here" in frozen.output(), message="the frozen worker's log")
    runs = Counter(int(line) for line in out.read_text().split())
    # The jobs claimed ahead ran once, on the rescuer; those at the gate ran on both (the
    # frozen worker was inside them), and only the rescuer's completion was recorded.
    assert {i: runs[i] for i in ahead} == dict.fromkeys(ahead, 1)
    assert all(rj.Job.find(i).history()[-1].by == rescuer_name for i in every)


def test_sigterm_hands_back_the_async_jobs_still_running(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    out = tmp_path / "ran"
    with worker(database_url, "--stop-timeout", "0.5") as process:
        wait_for_worker(process.pid)
        held = AsyncRecord.create_many([{"path": str(out), "gate": str(gate)}] * 3)
        gate.wait_reached(3)
        process.send_signal(signal.SIGTERM)
        output = finish(process)
    assert "handed back 3 jobs: worker stopped before the job finished" in output
    for job_id in held:
        job = rj.Job.find(job_id)
        assert (job.state, job.worker_name) == (rj.State.QUEUED, None)
    assert not out.exists()
