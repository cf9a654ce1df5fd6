"""What operators see of workers and ask of them: the Python side of Mission Control."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rocketjob.config import get_store
from rocketjob.errors import WorkerNotFound

# A worker whose heartbeat is older than this is dead; its running jobs go back to the queue.
ZOMBIE_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class WorkerJob:
    """A job a worker is running."""

    id: int
    class_name: str
    description: str | None
    started_at: datetime | None
    percent_complete: int


@dataclass(frozen=True)
class WorkerInfo:
    """One worker process as it last reported itself."""

    name: str
    host: str
    pid: int
    state: str  # starting, running, paused, stopping
    desired_state: str | None  # what an operator asked for, until the worker gets there
    threads: int
    started_at: datetime
    heartbeat_at: datetime
    jobs: list[WorkerJob] = field(default_factory=list)
    async_slots: int = 0  # async jobs it runs at once on its event loop (0: none)

    def heartbeat_age(self, now: datetime) -> timedelta:
        return now - self.heartbeat_at

    def is_stale(self, now: datetime, timeout: timedelta = ZOMBIE_TIMEOUT) -> bool:
        """Silent for longer than the zombie timeout: the next reaper pass removes it."""
        return self.heartbeat_age(now) > timeout


def list_workers() -> list[WorkerInfo]:
    """Every registered worker, by name, with the jobs it runs."""
    store = get_store()
    rows = store.list_workers()
    jobs: dict[str, list[WorkerJob]] = defaultdict(list)
    for job in store.running_jobs_of_workers([row["name"] for row in rows]):
        jobs[job["worker_name"]].append(
            WorkerJob(
                id=job["id"],
                class_name=job["class_name"],
                description=job["description"],
                started_at=job["started_at"],
                percent_complete=job["percent_complete"],
            )
        )
    return [
        WorkerInfo(
            name=row["name"],
            host=row["host"],
            pid=row["pid"],
            state=row["state"],
            desired_state=row["desired_state"],
            threads=row["threads"],
            started_at=row["started_at"],
            heartbeat_at=row["heartbeat_at"],
            jobs=jobs[row["name"]],
            async_slots=row["async_slots"],
        )
        for row in rows
    ]


def _ask(name: str | None, desired_state: str) -> list[str]:
    asked = get_store().set_desired_state(name, desired_state)
    if name is not None and not asked:
        raise WorkerNotFound(f"no worker named {name}")
    return asked


def pause_workers(name: str | None = None) -> list[str]:
    """Workers finish their current jobs and claim nothing new. None: every worker."""
    return _ask(name, "paused")


def resume_workers(name: str | None = None) -> list[str]:
    """Paused workers claim jobs again. None: every worker."""
    return _ask(name, "running")


def stop_workers(name: str | None = None) -> list[str]:
    """Workers finish or hand back their jobs and exit. None: every worker."""
    return _ask(name, "stopping")
