"""Automatic retries on real worker processes, on both backends."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from processes import Background, finish, start_rocketjob, wait_until
from retrying_jobs import BadDelay, Flaky, FlakyBatch, OnlyTimeouts

import rocketjob as rj
from rocketjob.store import Store


@contextmanager
def worker(database_url: str) -> Iterator[Background]:
    process = start_rocketjob(
        "worker", "--import", "retrying_jobs", "--poll-interval", "0.05", database_url=database_url
    )
    try:
        yield process
        process.send_signal(signal.SIGTERM)
        finish(process)
    finally:
        process.close()


def failures(job: rj.Job) -> list[tuple[str, str | None]]:
    return [(e.to_state, e.message) for e in job.history() if e.action == "fail"]


def settled(job: rj.Job) -> bool:
    return job.reload().state in (rj.State.COMPLETED, rj.State.FAILED)


def test_a_job_that_fails_twice_completes_on_its_third_attempt(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = Flaky.create(path=str(tmp_path / "runs"))
    with worker(database_url):
        wait_until(lambda: settled(job), message="the job settled")
    assert (job.state, job.attempt, job.failure_count) == (rj.State.COMPLETED, 2, 2)
    timeout = "TimeoutError: the payment gateway did not answer"
    assert failures(job) == [("queued", timeout), ("queued", timeout)]
    assert [e.action for e in job.history()] == [
        "start", "fail", "start", "fail", "start", "complete"
    ]  # fmt: skip
    assert (tmp_path / "runs").read_text() == "+++"


def test_past_its_retry_limit_a_job_stays_failed(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = Flaky.create(path=str(tmp_path / "runs"), succeed_on=100)
    with worker(database_url):
        wait_until(lambda: settled(job), message="the job settled")
    assert (job.state, job.attempt, job.failure_count) == (rj.State.FAILED, 5, 6)
    assert [to for to, _ in failures(job)] == ["queued"] * 5 + ["failed"]
    assert job.exception is not None
    assert job.exception.class_name == "TimeoutError"
    job.retry()  # an operator's retry starts counting again
    assert (job.state, job.attempt) == (rj.State.QUEUED, 0)


def test_only_the_exceptions_a_class_names_are_retried(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = OnlyTimeouts.create(path=str(tmp_path / "runs"))
    with worker(database_url):
        wait_until(lambda: settled(job), message="the job settled")
    assert (job.state, job.attempt) == (rj.State.FAILED, 0)
    assert (tmp_path / "runs").read_text() == "+"


def test_a_retry_delay_that_raises_falls_back_to_the_default(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = BadDelay.create(path=str(tmp_path / "runs"))
    with worker(database_url) as process:
        wait_until(lambda: job.reload().attempt == 1, message="the first failure recorded")
        wait_until(lambda: "retry_delay(1) is unusable" in process.output())
    back = job.reload()
    assert back.state is rj.State.QUEUED
    assert back.run_at is not None
    delay = (back.run_at - back.history()[-1].at).total_seconds()
    assert 5.4 <= delay <= 6.6  # 1**4 + 5 seconds, give or take 10 %


def test_a_batch_job_retries_its_failed_slices_before_it_fails(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = FlakyBatch.create(path=str(tmp_path / "runs"))
    job.upload([str(n) for n in range(1, 101)])
    with worker(database_url):
        wait_until(lambda: settled(job), message="the job settled")
    assert (job.state, job.attempt) == (rj.State.COMPLETED, 1)
    assert [int(line) for line in job.output()] == list(range(1, 101))
    assert failures(job) == [("running", "10 slices failed")]
