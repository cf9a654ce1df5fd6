"""The real `rocketjob worker --burst` process, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gates import Gate
from processes import finish, rocketjob, start_rocketjob, wait_until
from sample_jobs import Fails, Kept, Noop, Record, Slow
from workers import running_worker

import rocketjob as rj
from rocketjob.store import NewJob, Store


def burst(database_url: str, *args: str) -> str:
    result = rocketjob(
        "worker", "--burst", "--import", "sample_jobs", *args, database_url=database_url
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def ran(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_one_thread_runs_jobs_by_priority_then_in_creation_order(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "ran.txt")
    low = Record.create(path=out, priority=80).id
    a = Record.create(path=out).id
    b = Record.create(path=out).id
    urgent = Record.create(path=out, priority=1).id
    c = Record.create(path=out).id
    Record.create(path=out, run_at=datetime.now(UTC) + timedelta(hours=1))
    burst(database_url, "--threads", "1")
    assert ran(tmp_path / "ran.txt") == [urgent, a, b, c, low]
    assert rj.Job.counts()["completed"] == 5
    assert rj.Job.counts()["scheduled"] == 1


def test_completed_jobs_are_destroyed_unless_kept(store: Store, database_url: str) -> None:
    noop = Noop.create()
    kept = Kept.create()
    log = burst(database_url)
    assert rj.Job.counts()["all"] == 1
    done = kept.reload()
    assert (done.state, done.percent_complete) == (rj.State.COMPLETED, 100)
    assert done.started_at is not None and done.completed_at is not None
    assert done.worker_name and done.worker_name.count(":") == 1
    assert f"job {noop.id} sample_jobs.Noop completed in" in log


def test_a_failure_keeps_class_message_backtrace_and_worker(
    store: Store, database_url: str
) -> None:
    job = Fails.create(message="no such customer: 42")
    log = burst(database_url)
    failed = job.reload()
    assert failed.state is rj.State.FAILED
    assert failed.failure_count == 1
    assert failed.exception is not None
    assert failed.exception.class_name == "ValueError"
    assert failed.exception.message == "no such customer: 42"
    assert failed.exception.backtrace[0] == "Traceback (most recent call last):"
    assert any("sample_jobs.py" in line for line in failed.exception.backtrace)
    assert failed.exception.worker_name == failed.worker_name
    assert f"job {job.id} sample_jobs.Fails failed after" in log
    assert [e.action for e in failed.history()] == ["start", "fail"]
    assert failed.history()[-1].message == "ValueError: no such customer: 42"


def test_a_job_whose_class_is_not_imported_fails_alone(store: Store, database_url: str) -> None:
    unknown = store.insert_job(NewJob("billing.Invoice", None, 10, None, None, True, "{}"))
    kept = Kept.create()
    burst(database_url)
    failed = rj.Job.find(unknown["id"])
    assert failed.state is rj.State.FAILED
    assert failed.exception is not None
    assert failed.exception.class_name == "rocketjob.UnrunnableJob"
    assert "billing.Invoice is not known here" in failed.exception.message
    assert kept.reload().state is rj.State.COMPLETED


def test_expired_jobs_are_destroyed_not_run(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "ran.txt")
    Record.create(path=out, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    fresh = Record.create(path=out, expires_at=datetime.now(UTC) + timedelta(hours=1)).id
    burst(database_url)
    assert ran(tmp_path / "ran.txt") == [fresh]
    assert rj.Job.counts()["all"] == 1


def test_an_operator_abort_stops_a_running_job_and_wins(store: Store, database_url: str) -> None:
    job = Slow.create(steps=400, step_seconds=0.05)
    worker = start_rocketjob(
        "worker", "--burst", "--import", "sample_jobs", database_url=database_url
    )
    try:
        wait_until(lambda: job.reload().percent_complete > 0, message="progress")
        job.abort(by="user:ada")
        output = finish(worker)
    finally:
        worker.close()
    assert f"job {job.id} sample_jobs.Slow stopped after" in output
    aborted = job.reload()
    assert aborted.state is rj.State.ABORTED
    assert 0 < aborted.percent_complete < 100
    assert [(e.action, e.by) for e in aborted.history()][-1] == ("abort", "user:ada")
    assert [e.action for e in aborted.history()] == ["start", "abort"]


def test_two_processes_with_threads_run_every_job_exactly_once(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    ids = Record.create_many([{"path": str(out)}] * 400)
    workers = [
        start_rocketjob(
            "worker",
            "--burst",
            "--threads",
            "4",
            "--import",
            "sample_jobs",
            database_url=database_url,
        )
        for _ in range(2)
    ]
    for worker in workers:
        output = finish(worker, timeout=120)
        worker.close()
        assert "database is locked" not in output
    assert sorted(ran(out)) == ids
    assert rj.Job.counts()["completed"] == 400


def test_a_burst_worker_stays_to_requeue_and_run_what_a_dead_worker_held(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    job = Slow.create(steps=5, step_seconds=0.01, gate=str(gate))
    reaping = ("--zombie-timeout", "2", "--poll-interval", "0.1")
    with running_worker(database_url, *reaping) as doomed:
        gate.wait_reached()
        doomed.kill()
    gate.open()
    wait_until(lambda: not rj.list_workers() or rj.list_workers()[0].is_stale(
        store.now(), timedelta(seconds=2)
    ))  # fmt: skip
    log = burst(database_url, *reaping)
    assert job.reload().state is rj.State.COMPLETED
    assert "requeued: its worker stopped heartbeating" in log
