"""What the chaos cases do to workers, each noted as a Disruption with what the worker held,
and the waits between: on the jobs' counts, never on the clock."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from dataclasses import replace

from fleet import WorkerProcess
from processes import wait_until

import rocketjob as rj
from chaos.accounting import Disruption, held_jobs, held_records

# Options of every chaos worker: a short zombie timeout, so a case sees reaping in seconds.
ZOMBIE_TIMEOUT = 3.0
REAPING = ("--zombie-timeout", str(ZOMBIE_TIMEOUT), "--poll-interval", "0.2")


def counts() -> dict[str, int]:
    """Jobs per state; empty while the database cannot be reached."""
    try:
        return rj.Job.counts()
    except rj.DatabaseUnavailable:
        return {}


def completed() -> int:
    return counts().get("completed", 0)


def wait_completed(n: int, timeout: float, message: str = "") -> None:
    wait_until(lambda: completed() >= n, timeout, message or f"{n} jobs completed")


def kill(worker: WorkerProcess, database_url: str = "", *, records: bool = False) -> Disruption:
    """kill -9; notes the jobs (or, with `records`, the batch records) it held."""
    worker.kill()
    at = time.monotonic()
    held = held_records(database_url, worker.name) if records else held_jobs(worker.name)
    return Disruption("killed", worker.pid, worker.name, at, held)


def freeze(worker: WorkerProcess, *urls: str) -> Disruption:
    """SIGSTOP; notes the jobs it held, running or claimed ahead.

    A process frozen inside a write transaction keeps a SQLite file locked for everyone:
    that stalls the machine, not the worker. So for SQLite files among `urls`, the worker
    is frozen again, a moment later, until it is frozen outside a transaction."""
    files = [url.removeprefix("sqlite:///") for url in urls if url.startswith("sqlite:")]
    for _ in range(50):
        worker.freeze()
        at = time.monotonic()
        if all(not write_locked(path) for path in files):
            return Disruption("frozen", worker.pid, worker.name, at, held_jobs(worker.name))
        worker.thaw()
        time.sleep(0.05)
    raise AssertionError(f"{worker} held a SQLite write lock every time it was frozen")


def write_locked(path: str) -> bool:
    """Whether some process holds the file's write lock for longer than a moment."""
    with closing(sqlite3.connect(path, timeout=1.0, isolation_level=None)) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return True
        conn.execute("ROLLBACK")
    return False


def thaw(worker: WorkerProcess, frozen: Disruption) -> Disruption:
    worker.thaw()
    return replace(frozen, until=time.monotonic())


def requeued(disruption: Disruption) -> bool:
    """None of what the disrupted worker held is still held by it."""
    return not (held_jobs(disruption.worker) & disruption.held)
