"""Long-running worker processes in tests: start them, find their rows, stop them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from processes import Background, start_rocketjob, wait_until

import rocketjob as rj


@contextmanager
def running_worker(database_url: str, *args: str) -> Iterator[Background]:
    """A `rocketjob worker` process (importing sample_jobs); killed if the test leaves it."""
    process = start_rocketjob("worker", "--import", "sample_jobs", *args, database_url=database_url)
    try:
        yield process
    finally:
        process.close()


def worker_row(pid: int, state: str | None = None) -> rj.WorkerInfo | None:
    for info in rj.list_workers():
        if info.pid == pid and (state is None or info.state == state):
            return info
    return None


def wait_for_worker(pid: int, state: str = "running", timeout: float = 30) -> rj.WorkerInfo:
    return wait_until(lambda: worker_row(pid, state), timeout, f"worker {pid} {state}")
