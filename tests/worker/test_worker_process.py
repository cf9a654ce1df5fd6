"""Long-running worker processes: registration, signals, crashes, fencing, supervisor."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gates import Gate
from processes import finish, rocketjob, start_rocketjob, wait_until
from sample_jobs import Kept, Noop, Record, Slow
from workers import running_worker, wait_for_worker, worker_row

import rocketjob as rj
from rocketjob.store import Store
from rocketjob.worker.process import Worker

FAST_REAPING = ("--zombie-timeout", "2", "--poll-interval", "0.2")


def history(job: rj.Job) -> list[tuple[str, str]]:
    return [(entry.action, entry.by) for entry in job.history()]


def test_a_worker_registers_heartbeats_and_leaves_on_sigterm(
    store: Store, database_url: str
) -> None:
    with running_worker(database_url, "--threads", "3", "--poll-interval", "0.2") as worker:
        info = wait_for_worker(worker.pid)
        assert (info.threads, info.jobs, info.desired_state) == (3, [], None)
        assert info.name.endswith(f":{worker.pid}")
        wait_until(lambda: (row := worker_row(worker.pid)) and row.heartbeat_at > info.heartbeat_at)
        worker.send_signal(signal.SIGTERM)
        output = finish(worker)
    assert rj.list_workers() == []
    assert f"worker {info.name} stopped" in output


def test_a_worker_handles_sigterm_from_the_moment_its_row_exists(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whoever sees the row may signal the worker at once, so its handlers must come first.
    handlers_when_registered = []
    register = store.register_worker

    def register_and_look(name: str, host: str, pid: int, threads: int, **filters: Any) -> None:
        register(name, host, pid, threads, **filters)
        handlers_when_registered.append(signal.getsignal(signal.SIGTERM))

    monkeypatch.setattr(store, "register_worker", register_and_look)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    worker = Worker(store=store, threads=1, burst=True, poll_interval=0.05)
    try:
        worker.run()
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
    assert handlers_when_registered == [worker._on_signal]


def test_sigterm_lets_the_running_job_finish_and_claims_nothing_more(
    store: Store, database_url: str
) -> None:
    running = Slow.create(steps=10, step_seconds=0.1)
    waiting = Kept.create(priority=90)
    with running_worker(database_url, "--threads", "1") as worker:
        wait_until(lambda: running.reload().percent_complete > 0)
        worker.send_signal(signal.SIGTERM)
        finish(worker)
    assert running.reload().state is rj.State.COMPLETED
    assert waiting.reload().state is rj.State.QUEUED


def test_a_second_signal_hands_the_running_job_back_at_once(
    store: Store, database_url: str
) -> None:
    job = Slow.create(steps=600, step_seconds=0.05)
    with running_worker(database_url, "--threads", "1") as worker:
        wait_until(lambda: job.reload().percent_complete > 0)
        worker.send_signal(signal.SIGTERM)
        wait_until(lambda: (row := worker_row(worker.pid)) and row.state == "stopping")
        worker.send_signal(signal.SIGTERM)
        finish(worker, timeout=10)
    back = job.reload()
    assert back.state is rj.State.QUEUED
    assert back.history()[-1].message == "worker stopped before the job finished"
    assert rj.list_workers() == []


def test_a_killed_worker_s_job_is_requeued_and_completed_by_another(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    job = Slow.create(steps=20, step_seconds=0.05, gate=str(gate))
    with running_worker(database_url, *FAST_REAPING) as doomed:
        dead_name = wait_for_worker(doomed.pid).name
        gate.wait_reached()  # the job is provably running when its worker dies
        doomed.kill()
    gate.open()
    with running_worker(database_url, *FAST_REAPING) as rescuer:
        rescuer_name = wait_for_worker(rescuer.pid).name
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=30)
        rescuer.send_signal(signal.SIGTERM)
        finish(rescuer)
    assert history(job) == [
        ("start", dead_name),
        ("requeue", rescuer_name),
        ("start", rescuer_name),
        ("complete", rescuer_name),
    ]
    assert job.history()[1].message == f"worker {dead_name} stopped heartbeating"


def test_a_frozen_worker_that_wakes_up_cannot_overwrite_the_rerun(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    gate = Gate(tmp_path)
    job = Slow.create(steps=40, step_seconds=0.05, gate=str(gate))
    with running_worker(database_url, *FAST_REAPING) as frozen:
        frozen_name = wait_for_worker(frozen.pid).name
        gate.wait_reached()  # the job is provably running when its worker freezes
        frozen.send_signal(signal.SIGSTOP)
        gate.open()
        with running_worker(database_url, *FAST_REAPING) as rescuer:
            wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=30)
            rescuer.send_signal(signal.SIGTERM)
            finish(rescuer)
        done = history(job)
        frozen.send_signal(signal.SIGCONT)
        # Awake, it heartbeats again (re-registering: it was declared dead) and its job's
        # next progress() finds the lease gone.
        wait_for_worker(frozen.pid)
        frozen.send_signal(signal.SIGTERM)
        output = finish(frozen)
    assert "was declared dead" in output
    final = job.reload()
    assert (final.state, final.percent_complete) == (rj.State.COMPLETED, 100)
    assert history(job) == done
    assert done[0] == ("start", frozen_name)
    assert done[-1][0] == "complete"
    assert done[-1][1] != frozen_name


def test_operators_pause_resume_and_stop_every_worker(
    store: Store, database_url: str, backend: str
) -> None:
    # On PostgreSQL the poll interval is long, so only NOTIFY can make them obey quickly.
    poll = (
        ["--poll-interval", "30", "--zombie-timeout", "600"]
        if backend == "postgres"
        else ["--poll-interval", "0.3"]
    )
    with (
        running_worker(database_url, *poll) as first,
        running_worker(database_url, *poll) as second,
    ):
        for worker in (first, second):
            wait_for_worker(worker.pid)
        assert len(rj.pause_workers()) == 2
        for worker in (first, second):
            wait_for_worker(worker.pid, "paused", timeout=5)
        job = Kept.create()
        rj.resume_workers()
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=5)
        assert len(rj.stop_workers()) == 2
        for worker in (first, second):
            finish(worker, timeout=10)
    assert rj.list_workers() == []


def test_a_paused_worker_claims_nothing(store: Store, database_url: str) -> None:
    with running_worker(database_url, "--poll-interval", "0.2") as worker:
        name = wait_for_worker(worker.pid).name
        rj.pause_workers(name)
        paused = wait_for_worker(worker.pid, "paused", timeout=5)
        job = Kept.create()
        # two more heartbeats: the worker looked at least twice and left the job alone
        wait_until(lambda: (r := worker_row(worker.pid)) and r.heartbeat_at > paused.heartbeat_at)
        beat = worker_row(worker.pid)
        assert beat is not None
        wait_until(lambda: (r := worker_row(worker.pid)) and r.heartbeat_at > beat.heartbeat_at)
        assert job.reload().state is rj.State.QUEUED
        rj.resume_workers(name)
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=5)
        rj.stop_workers(name)
        finish(worker)


def test_a_supervisor_restarts_a_dead_child_and_stops_them_all(
    store: Store, database_url: str
) -> None:
    supervisor = start_rocketjob(
        "worker",
        "--processes",
        "2",
        "--import",
        "sample_jobs",
        *FAST_REAPING,
        database_url=database_url,
    )
    try:
        first = wait_until(lambda: len(rj.list_workers()) == 2 and rj.list_workers())
        victim = first[0].pid
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: (
                {w.pid for w in rj.list_workers() if w.state == "running"} - {victim}
                and len({w.pid for w in rj.list_workers()} - {victim}) == 2
            ),
            timeout=30,
            message="a replacement worker process",
        )
        supervisor.send_signal(signal.SIGTERM)
        output = finish(supervisor)
    finally:
        supervisor.close()
    assert "died with signal 9; restarting" in output
    wait_until(lambda: all(w.pid == victim for w in rj.list_workers()))


def test_processes_and_threads_drain_without_running_any_job_twice(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    ids = Record.create_many([{"path": str(out)}] * 600)
    result = rocketjob(
        "worker",
        "--burst",
        "--processes",
        "2",
        "--threads",
        "4",
        "--import",
        "sample_jobs",
        database_url=database_url,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    ran = [int(line) for line in out.read_text().split()]
    assert sorted(ran) == ids
    assert rj.Job.counts()["completed"] == 600


def test_include_and_exclude_choose_the_job_classes(store: Store, database_url: str) -> None:
    noop, kept = Noop.create(), Kept.create()
    result = rocketjob(
        "worker",
        "--burst",
        "--import",
        "sample_jobs",
        "--include",
        r"\.Kept$",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert kept.reload().state is rj.State.COMPLETED
    assert noop.reload().state is rj.State.QUEUED
    result = rocketjob(
        "worker",
        "--burst",
        "--import",
        "sample_jobs",
        "--exclude",
        "Noop",
        database_url=database_url,
    )
    assert noop.reload().state is rj.State.QUEUED
    result = rocketjob("worker", "--burst", "--include", "(", database_url=database_url)
    assert result.returncode == 78
    assert "--include '(':" in result.stderr


def test_a_worker_name_must_be_printable(store: Store, database_url: str) -> None:
    # hand-off notices start with the worker's name and a newline
    result = rocketjob("worker", "--burst", "--name", "a\nb", database_url=database_url)
    assert result.returncode == 78
    assert "--name 'a\\nb': use printable characters" in result.stderr


@pytest.mark.parametrize("verb", ["pause", "resume", "stop"])
def test_the_workers_command_asks_one_or_all(store: Store, database_url: str, verb: str) -> None:
    with running_worker(database_url, "--poll-interval", "0.2") as worker:
        name = wait_for_worker(worker.pid).name
        listed = rocketjob("workers", "list", database_url=database_url)
        assert name in listed.stdout
        assert "running" in listed.stdout
        refused = rocketjob("workers", verb, database_url=database_url)
        assert refused.returncode == 2
        assert "give a worker NAME or --all" in refused.stderr
        asked = rocketjob("workers", verb, "--all", database_url=database_url)
        assert asked.stdout.strip() == f"asked 1 worker(s) to {verb}: {name}"
        missing = rocketjob("workers", verb, "nobody:1", database_url=database_url)
        assert (missing.returncode, missing.stderr.strip()) == (
            1,
            "rocketjob: error: no worker named nobody:1",
        )
        if verb == "stop":
            finish(worker)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite database configured for this process (SQLite-only behaviour)."""
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    rj.configure(url)
    yield url
    rj.configure(None)


def test_four_sqlite_processes_never_report_the_database_locked(
    sqlite_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    ids = Record.create_many([{"path": str(out)}] * 300)
    with running_worker(sqlite_url, "--processes", "4", "--threads", "4") as supervisor:
        # enqueue while four processes claim, complete and heartbeat on the same file
        ids += [Record.create(path=str(out)).id for _ in range(100)]  # type: ignore[misc]
        wait_until(lambda: rj.Job.counts()["completed"] == 400, timeout=60)
        supervisor.send_signal(signal.SIGTERM)
        output = finish(supervisor)
    assert "locked" not in output
    assert "unavailable" not in output
    assert sorted(int(line) for line in out.read_text().split()) == sorted(ids)
