"""Another process holds the SQLite write lock for longer than the zombie timeout: workers
wait, declare nobody dead, requeue nothing; a worker started meanwhile waits and then works."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from chaos_jobs import Tracked
from fleet import Fleet
from processes import wait_until

import rocketjob as rj
from chaos.accounting import account_jobs, job_histories
from chaos.case import Figures, Target
from chaos.disrupt import REAPING, ZOMBIE_TIMEOUT, wait_completed

pytestmark = pytest.mark.chaos


@contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Holds the database's write lock, as a long write transaction of another program would."""
    path = database_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, isolation_level=None, timeout=30)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")


def silent_for(seconds: float) -> bool:
    """Every worker's last heartbeat is older than `seconds` (heartbeats can be read while
    the write lock is held: readers never wait in WAL mode)."""
    workers = rj.list_workers()
    cutoff = datetime.now(UTC) - timedelta(seconds=seconds)
    return bool(workers) and all(w.heartbeat_at < cutoff for w in workers)


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_a_write_lock_held_past_the_zombie_timeout_is_waited_out_not_taken_for_death(
    target: Target, fleet: Fleet, figures: Figures, scale: float
) -> None:
    ids = Tracked.create_many([{"seconds": 0.2}] * int(240 * scale))
    workers = [fleet.start("--threads", "4", *REAPING) for _ in range(2)]
    fleet.wait_registered(workers)
    wait_completed(20, timeout=30)
    with write_lock(target.url):
        latecomer = fleet.start("--threads", "4", *REAPING)
        wait_until(lambda: silent_for(2 * ZOMBIE_TIMEOUT), timeout=30, message="a long silence")
        assert latecomer.poll() is None, latecomer.output()
    wait_completed(len(ids), timeout=90 * scale, message="every job completed")
    entries = target.ledger.entries()
    accounts = account_jobs(target.url, ids, entries, [])
    figures.take(accounts)
    requeues = [
        job_id
        for job_id, (_, history) in job_histories(target.url, ids).items()
        if any(entry["action"] == "requeue" for entry in history)
    ]
    figures.extra["requeued"] = len(requeues)
    figures.extra["latecomer_ran"] = sum(1 for e in entries if e.pid == latecomer.pid)
    accounts.assert_clean()
    assert requeues == []
    for worker in [*workers, latecomer]:
        assert worker.poll() is None, worker.output()
        assert "declared dead" not in worker.output()
        assert "stopped heartbeating" not in worker.output()
    assert figures.extra["latecomer_ran"] > 0
