"""Workers that lost touch for longer than the zombie timeout: frozen, cut off from the
database, or kept waiting by a lock. Nothing they held may run twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from gates import Gate
from pg import PostgresServer
from processes import finish, wait_until
from sample_jobs import Noop, Record, Slow
from workers import running_worker, wait_for_worker

import rocketjob as rj
from rocketjob.store import Store

TIMEOUT = 2.0
FAST_REAPING = ("--zombie-timeout", str(TIMEOUT), "--poll-interval", "0.2")


def actions(job: rj.Job) -> list[str]:
    return [entry.action for entry in job.history()]


def test_a_frozen_worker_starts_none_of_the_jobs_it_claimed_ahead(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    gate = Gate(tmp_path)
    with running_worker(database_url, "--threads", "1", *FAST_REAPING) as frozen:
        frozen_name = wait_for_worker(frozen.pid).name
        # Fast jobs first: the worker learns to claim well ahead of its one thread.
        warmup = Noop.create_many([{}] * 40)
        wait_until(lambda: rj.Job.counts()["all"] == 0, message=f"{len(warmup)} no-ops done")
        blocker = Slow.create(steps=20, step_seconds=0.05, gate=str(gate), priority=10)
        gate.wait_reached()
        ahead = Record.create_many([{"path": str(out)}] * 8)
        wait_until(
            lambda: all(rj.Job.find(i).worker_name == frozen_name for i in ahead),
            message="the records claimed ahead by the busy worker",
        )
        frozen.send_signal(signal.SIGSTOP)
        gate.open()
        with running_worker(database_url, *FAST_REAPING) as rescuer:
            rescuer_name = wait_for_worker(rescuer.pid).name
            every = [blocker.id, *ahead]
            wait_until(
                lambda: all(rj.Job.find(i).state is rj.State.COMPLETED for i in every),
                message="the rescuer ran everything the frozen worker held",
            )
            rescuer.send_signal(signal.SIGTERM)
            finish(rescuer)
        frozen.send_signal(signal.SIGCONT)
        wait_for_worker(frozen.pid)  # awake, registered again, and past what it held
        wait_until(lambda: "not run here" in frozen.output(), message="the frozen worker's log")
        frozen.send_signal(signal.SIGTERM)
        output = finish(frozen)
    runs = Counter(int(line) for line in out.read_text().split())
    assert runs == dict.fromkeys(ahead, 1)
    for job_id in ahead:
        job = rj.Job.find(job_id)
        assert actions(job) == ["start", "requeue", "start", "complete"]
        assert job.history()[-1].by == rescuer_name
    assert output.count("not run here") == len(ahead)


def completed(jobs: list[Slow]) -> bool:
    try:
        return all(job.reload().state is rj.State.COMPLETED for job in jobs)
    except rj.DatabaseUnavailable:
        return False  # this process's own connections died with the outage


@contextmanager
def database_cut_off(database_url: str) -> Iterator[None]:
    """No session may reach this database (its own server stays up for everyone else)."""
    name = database_url.rpartition("/")[2]
    with psycopg.connect(PostgresServer.admin_url(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')  # type: ignore[arg-type]
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')  # type: ignore[arg-type]


def test_an_outage_longer_than_the_zombie_timeout_runs_no_job_twice(
    store: Store, database_url: str, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("a database server out of reach: SQLite's counterpart is a held lock")
    jobs = [Slow.create(steps=100, step_seconds=0.1) for _ in range(2)]
    with (
        running_worker(database_url, "--threads", "1", *FAST_REAPING) as first,
        running_worker(database_url, "--threads", "1", *FAST_REAPING) as second,
    ):
        wait_until(lambda: all(j.reload().percent_complete > 0 for j in jobs), timeout=30)
        with database_cut_off(database_url):
            outage_ends = time.monotonic() + 3 * TIMEOUT
            wait_until(lambda: time.monotonic() > outage_ends, timeout=10)
        wait_until(lambda: completed(jobs), timeout=60, message="both jobs completed")
        outputs = []
        for worker in (first, second):
            worker.send_signal(signal.SIGTERM)
            outputs.append(finish(worker))
    for job in jobs:
        assert actions(job) == ["start", "complete"]
    assert not any("declared dead" in output for output in outputs)


@contextmanager
def write_lock_held(path: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process takes SQLite's write lock and keeps it for `seconds`."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "conn.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "conn.execute('COMMIT')\n",
            path,
            str(seconds),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_held_sqlite_lock_is_waited_out_and_taken_for_no_one_s_death(
    store: Store, database_url: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write lock")
    url = f"{database_url}?timeout=0.5"  # statements give up waiting long before the lock goes
    jobs = [Slow.create(steps=100, step_seconds=0.1) for _ in range(2)]
    with running_worker(url, "--threads", "2", *FAST_REAPING) as running:
        wait_until(lambda: all(j.reload().percent_complete > 0 for j in jobs), timeout=30)
        with (
            write_lock_held(database_url.removeprefix("sqlite:///"), 4 * TIMEOUT) as holder,
            running_worker(url, *FAST_REAPING) as newcomer,
        ):
            holder.wait(timeout=30)
            wait_for_worker(newcomer.pid)
            wait_until(
                lambda: all(j.reload().state is rj.State.COMPLETED for j in jobs),
                timeout=60,
                message="both jobs completed",
            )
            newcomer.send_signal(signal.SIGTERM)
            newcomer_output = finish(newcomer)
        running.send_signal(signal.SIGTERM)
        output = finish(running)
    assert "waiting to register" in newcomer_output
    for job in jobs:
        assert actions(job) == ["start", "complete"]
    assert "declared dead" not in output
    assert "requeued" not in output + newcomer_output
