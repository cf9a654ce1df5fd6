"""Callbacks around perform() on real worker processes, on both backends."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from callback_jobs import Audited, AuditedBatch, Charged
from processes import Background, finish, start_rocketjob, wait_until

import rocketjob as rj
from rocketjob.store import Store


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


def settled(*jobs: rj.Job) -> bool:
    done = (rj.State.COMPLETED, rj.State.FAILED, rj.State.ABORTED)
    return all(job.reload().state in done for job in jobs)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_callbacks_run_in_order_through_super_and_a_failing_one_is_retried(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    charged = Charged.create(path=str(tmp_path / "charged"))
    flaky = Audited.create(path=str(tmp_path / "flaky"), fail_in="after_perform")
    with worker(database_url):
        wait_until(lambda: settled(charged, flaky), message="both jobs settled")
    assert charged.state is rj.State.COMPLETED
    assert lines(tmp_path / "charged") == [
        "charged before", "before_perform 0", "around_perform 0", "perform 0",
        "around_perform returned 0", "after_perform 0", "charged after",
    ]  # fmt: skip
    # after_perform raised: on_failure saw it, the job failed and was retried as for perform().
    assert (flaky.state, flaky.attempt) == (rj.State.COMPLETED, 1)
    assert lines(tmp_path / "flaky") == [
        "before_perform 0", "around_perform 0", "perform 0", "around_perform returned 0",
        "after_perform 0", "on_failure ValueError: after_perform broke",
        "before_perform 1", "around_perform 1", "perform 1", "around_perform returned 1",
        "after_perform 1",
    ]  # fmt: skip
    assert [(e.action, e.to_state, e.message) for e in flaky.history() if e.action == "fail"] == [
        ("fail", "queued", "ValueError: after_perform broke")
    ]


def test_a_failing_callback_fails_the_job_and_on_failure_cannot_hide_why(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = Charged.create(path=str(tmp_path / "runs"), fail_in="before_perform")
    with worker(database_url) as process:
        wait_until(lambda: settled(job), message="the job settled")
        wait_until(lambda: "on_failure raised" in process.output(), message="the log")
        assert "RuntimeError: on_failure broke too" in process.output()
    assert job.state is rj.State.FAILED
    assert job.exception is not None
    assert (job.exception.class_name, job.exception.message) == (
        "ValueError",
        "before_perform broke",
    )
    assert lines(tmp_path / "runs") == [
        "charged before",
        "before_perform 0",
        "on_failure ValueError: before_perform broke",
    ]


def test_a_callback_acting_on_its_own_job_is_refused_only_by_the_state_table(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    aborted = Audited.create(path=str(tmp_path / "aborted"), act="abort")
    paused = Charged.create(path=str(tmp_path / "paused"), act="pause")
    with worker(database_url):
        wait_until(lambda: settled(aborted, paused), message="both jobs settled")
    # Abort is allowed while running: the job stops before perform(), as at a checkpoint.
    assert aborted.state is rj.State.ABORTED
    assert lines(tmp_path / "aborted") == ["before_perform 0"]
    # A running job of a class that is not pausable cannot be paused: the refusal fails it.
    assert paused.state is rj.State.FAILED
    assert paused.exception is not None
    assert paused.exception.class_name == "rocketjob.errors.InvalidTransition"
    assert "pause" in paused.exception.message


def test_batch_slices_run_between_before_slice_and_after_slice(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    good = AuditedBatch.create(path=str(tmp_path / "good"))
    good.upload([str(n) for n in range(1, 7)])
    bad = AuditedBatch.create(path=str(tmp_path / "bad"), fail_at="3")
    bad.upload([str(n) for n in range(1, 7)])
    with worker(database_url, "--threads", "1"):
        wait_until(lambda: settled(good, bad), message="both batch jobs settled")
    assert good.state is rj.State.COMPLETED
    assert sorted(lines(tmp_path / "good")) == ["slice 1 2", "slice 3 4", "slice 5 6"]
    assert list(good.output()) == [str(n) for n in range(1, 7)]
    assert bad.state is rj.State.FAILED
    assert "on_failure after_slice broke at 3" in lines(tmp_path / "bad")
    [failed] = bad.failed_slices()
    assert (failed.first_record, failed.exception.message) == (3, "after_slice broke at 3")
