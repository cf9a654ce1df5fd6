"""Direct hand-off on PostgreSQL, with real worker processes: a job created while a worker
is idle starts from the notice that carries it, and is never lost or run twice."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg import PostgresServer
from processes import finish, wait_until
from sample_jobs import Kept, Noop, Record
from workers import running_worker, wait_for_worker

import rocketjob as rj
from rocketjob.store import open_store

pytestmark = pytest.mark.postgres

# Polling and the periodic look for unannounced hand-offs are far slower than the tests'
# deadlines: only a notice (or a listener's reconnection) can start these jobs in time.
SLOW_POLL = ("--poll-interval", "30")


@pytest.fixture
def database_url(postgres: PostgresServer) -> Iterator[str]:
    url = postgres.fresh_database()
    store = open_store(url)
    rj.configure(store=store)
    yield url
    rj.configure(None)
    store.close()
    postgres.drop(url)


def sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def offering(url: str, name: str) -> bool:
    """Whether the worker offers hand-offs (and is listening, holding its lock)."""
    rows = sql(url, "SELECT handoff_slots FROM rocketjob_workers WHERE name = %s", name)
    return bool(rows and rows[0][0] > 0 and listener_pids(url, name))


def listener_pids(url: str, name: str) -> list[int]:
    query = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
    return [row[0] for row in sql(url, query, f"rocketjob listener {name}")]


def hand_off_unannounced(url: str, name: str) -> rj.Job:
    """A job handed to `name` whose notice never came (as if its connection dropped)."""
    [(job_id,)] = sql(
        url,
        "INSERT INTO rocketjob_jobs (class_name, created_at, started_at, state, worker_name,"
        " lease, destroy_on_complete) VALUES ('sample_jobs.Kept', now(), now(), 'running',"
        " %s, 1, false) RETURNING id",
        name,
    )
    return rj.Job.find(job_id)


def test_an_idle_worker_starts_a_created_job_from_its_notice(database_url: str) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name
        wait_until(lambda: offering(database_url, name), timeout=10)
        job = Kept.create()
        # claimed by the commit that created it
        assert (job.state, job.worker_name, job.started_at) == (
            rj.State.RUNNING,
            name,
            job.created_at,
        )
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=5)
        assert [(e.action, e.by) for e in job.history()] == [("start", name), ("complete", name)]
        # too big for a notice: the notice names it, and the worker reads it
        big = Kept.create(description="x" * 9000)
        assert big.worker_name == name
        wait_until(lambda: big.reload().state is rj.State.COMPLETED, timeout=5)
        worker.send_signal(signal.SIGTERM)
        output = finish(worker)
    assert "unannounced" not in output


def test_jobs_created_one_by_one_beside_idle_and_busy_workers_each_run_once(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    with (
        running_worker(database_url, "--threads", "2", "--poll-interval", "0.2") as first,
        running_worker(database_url, "--threads", "2", "--poll-interval", "0.2") as second,
    ):
        names = [wait_for_worker(w.pid).name for w in (first, second)]
        wait_until(lambda: all(offering(database_url, n) for n in names), timeout=10)
        jobs = [Record.create(path=str(out), seconds=0.002 * (i % 5)) for i in range(300)]
        ids = [job.id for job in jobs]
        wait_until(lambda: rj.Job.counts()["completed"] == 300, timeout=60)
        for worker in (first, second):
            worker.send_signal(signal.SIGTERM)
            finish(worker)
    assert sorted(int(line) for line in out.read_text().split()) == ids
    handed = [job for job in jobs if job.state is rj.State.RUNNING]
    assert handed, "an idle worker took jobs straight from create()"
    assert {job.worker_name for job in handed} <= set(names)


def test_a_hand_off_whose_notice_was_lost_runs_once_the_worker_listens_again(
    database_url: str,
) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name
        wait_until(lambda: offering(database_url, name), timeout=10)
        job = hand_off_unannounced(database_url, name)
        # the listening connection drops: notices sent meanwhile are gone
        sql(database_url, "SELECT pg_terminate_backend(%s)", listener_pids(database_url, name)[0])
        # within 5 s, where the periodic look comes every 10 s
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=5)
        assert [(e.action, e.by) for e in job.history()] == [("complete", name)]
        worker.send_signal(signal.SIGTERM)
        output = finish(worker)
    assert f"job {job.id} was handed to worker {name} unannounced" in output


def test_a_job_handed_to_a_worker_as_it_stops_goes_back_to_the_queue(
    database_url: str,
) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name
        rj.pause_workers(name)
        wait_for_worker(worker.pid, "paused", timeout=5)
        job = hand_off_unannounced(database_url, name)
        worker.send_signal(signal.SIGTERM)
        finish(worker)
    assert (job.reload().state, job.worker_name) == (rj.State.QUEUED, None)
    [entry] = job.history()
    assert (entry.action, entry.by, entry.message) == ("requeue", name, "worker stopping")


def test_a_paused_worker_is_handed_nothing(database_url: str) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name
        wait_until(lambda: offering(database_url, name), timeout=10)
        rj.pause_workers(name)  # creators see the request at once
        job = Kept.create()
        assert (job.state, job.history()) == (rj.State.QUEUED, [])
        rj.resume_workers(name)
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=5)
        rj.stop_workers(name)
        finish(worker)


def test_a_worker_is_handed_only_the_classes_it_runs(database_url: str) -> None:
    with running_worker(database_url, *SLOW_POLL, "--include", r"\.Kept$") as worker:
        name = wait_for_worker(worker.pid).name
        wait_until(lambda: offering(database_url, name), timeout=10)
        noop, kept = Noop.create(), Kept.create()
        assert (noop.state, noop.worker_name) == (rj.State.QUEUED, None)
        assert kept.worker_name == name
        wait_until(lambda: kept.reload().state is rj.State.COMPLETED, timeout=5)
        assert noop.reload().state is rj.State.QUEUED
        worker.send_signal(signal.SIGTERM)
        finish(worker)


def test_a_killed_worker_is_handed_nothing(database_url: str) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name
        wait_until(lambda: offering(database_url, name), timeout=10)
        worker.kill()
        # Its offer still stands (it lapses in 3 s), but its connection and lock are gone.
        wait_until(lambda: not listener_pids(database_url, name), timeout=5)
        job = Kept.create()
    assert (job.state, job.worker_name) == (rj.State.QUEUED, None)


def test_heartbeats_keep_an_idle_worker_s_offer_and_a_frozen_worker_s_lapses(
    database_url: str,
) -> None:
    # a heartbeat a second (a quarter of the zombie timeout): the offer lapses after 3 s
    with running_worker(database_url, *SLOW_POLL, "--zombie-timeout", "4") as worker:
        name = wait_for_worker(worker.pid).name
        wait_until(lambda: offering(database_url, name), timeout=10)

        def lapsed() -> bool:
            query = "SELECT handoff_until < now() FROM rocketjob_workers WHERE name = %s"
            return bool(sql(database_url, query, name)[0][0])

        # idle past the lapse of its first offer (3 heartbeat intervals): renewed
        renewed = sql(database_url, "SELECT now() + interval '3.5 s'")[0][0]
        wait_until(lambda: sql(database_url, "SELECT now()")[0][0] > renewed, timeout=10)
        assert not lapsed()
        first = Kept.create()
        assert first.worker_name == name
        worker.send_signal(signal.SIGSTOP)
        try:
            wait_until(lapsed, timeout=10)
            job = Kept.create()
            assert (job.state, job.worker_name) == (rj.State.QUEUED, None)
        finally:
            worker.send_signal(signal.SIGCONT)
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=5)
        worker.send_signal(signal.SIGTERM)
        finish(worker)
