"""The store's worker half: worker rows, what operators ask of them, and the reaper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from rocketjob.store.executor import Executor, Row


class WorkerStore(Executor):
    def register_worker(self, name: str, host: str, pid: int, threads: int) -> None:
        params = {"name": name, "host": host, "pid": pid, "threads": threads, "now": self.now()}
        self.execute("register_worker", params)

    def heartbeat(self, name: str, state: str) -> tuple[bool, str | None]:
        """Reports the worker alive in `state`: (still registered?, the desired state)."""
        row = self.fetch_one("heartbeat", {"name": name, "state": state, "now": self.now()})
        return (False, None) if row is None else (True, row["desired_state"])

    def deregister_worker(self, name: str) -> None:
        self.execute("deregister_worker", {"name": name})

    def list_workers(self) -> list[Row]:
        return self.fetch_all("list_workers", {})

    def running_jobs_of_workers(self, names: Sequence[str]) -> list[Row]:
        return self.fetch_all("running_jobs_of_workers", self._names_param(names))

    def set_desired_state(self, name: str | None, desired_state: str) -> list[str]:
        """Asks one worker (or every worker, for None) to move to `desired_state`."""
        params = {"name": name, "desired_state": desired_state}
        return [str(row["name"]) for row in self.fetch_all("set_desired_state", params)]

    def reap_dead_workers(self, timeout: timedelta, by: str) -> tuple[list[Row], list[str]]:
        """Requeues the jobs of workers silent for `timeout`, then forgets those workers."""
        now = self.now()
        params = {"now": now, "cutoff": now - timeout, "by": by}
        with self.transaction():
            requeued = self.fetch_all("requeue_jobs_of_dead_workers", params)
            dead = self.fetch_all("delete_dead_workers", {"cutoff": now - timeout})
        return requeued, [str(row["name"]) for row in dead]
