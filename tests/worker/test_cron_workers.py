"""Cron on real worker processes: each occurrence runs once, whatever the workers do."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
from processes import Background, finish, start_rocketjob, wait_until

import rocketjob as rj
from rocketjob.store import Store

CLASS = "cron_jobs.NewYear"


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.log"
    path.touch()
    monkeypatch.setenv("ROCKETJOB_TEST_CRON_LOG", str(path))  # the workers inherit it
    return path


@contextmanager
def workers(database_url: str, count: int) -> Iterator[list[Background]]:
    with ExitStack() as stack:
        running = []
        for _ in range(count):
            process = start_rocketjob(
                "worker",
                "--import",
                "cron_jobs",
                "--include",
                "NewYear",
                "--poll-interval",
                "0.05",
                database_url=database_url,
            )
            stack.callback(process.close)
            running.append(process)
        yield running
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            if process.poll() is None:
                finish(process)


def pending(store: Store) -> int | None:
    rows = [r for r in store.list_cron() if r["class_name"] == CLASS]
    return rows[0]["pending_id"] if rows else None


def runs(log: Path) -> Counter[int]:
    return Counter(int(line) for line in log.read_text().split())


def test_three_workers_run_each_occurrence_once(store: Store, database_url: str, log: Path) -> None:
    started: list[int] = []
    with workers(database_url, 3):
        for _ in range(15):
            job_id = wait_until(lambda: pending(store), message="an instance waiting")
            rj.Job.find(job_id).run_now()  # the occurrence is now: whichever worker is first
            wait_until(lambda: runs(log)[job_id], message=f"job {job_id} ran")  # noqa: B023
            started.append(job_id)
        wait_until(lambda: pending(store) not in (None, *started), message="the next one")
    assert runs(log) == dict.fromkeys(started, 1)
    assert rj.Job.counts() == {
        **rj.Job.counts(),
        "completed": 15,
        "scheduled": 1,
        "queued": 0,
        "running": 0,
    }


def lock_waiters(database_url: str) -> int:
    name = database_url.rpartition("/")[2]
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (name,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_worker_killed_while_creating_the_next_occurrence_loses_no_run(
    store: Store, database_url: str, backend: str, log: Path
) -> None:
    if backend != "postgres":
        pytest.skip("holds a row lock to stop the worker inside its claim's transaction")
    with workers(database_url, 1) as (doomed,):
        job_id = wait_until(lambda: pending(store), message="an instance waiting")
        with psycopg.connect(database_url) as blocker:
            # The claim's transaction updates this row after it created the next instance:
            # held here, the worker stops inside that transaction.
            query = "SELECT 1 FROM rocketjob_cron WHERE class_name = %s FOR UPDATE"
            blocker.execute(query, (CLASS,))
            rj.Job.find(job_id).run_now()
            wait_until(lambda: lock_waiters(database_url) >= 1, message="the worker mid-claim")
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait()
            blocker.rollback()
    assert rj.Job.find(job_id).state is rj.State.QUEUED  # its claim went with the worker
    with workers(database_url, 1):
        wait_until(lambda: runs(log)[job_id], message=f"job {job_id} ran")
        next_id = wait_until(lambda: pending(store) not in (None, job_id) and pending(store))
    assert runs(log) == {job_id: 1}
    assert rj.Job.find(next_id).state is rj.State.QUEUED
    assert rj.Job.counts()["scheduled"] == 1
