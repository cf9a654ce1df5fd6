"""The store's worker half: worker rows, what operators ask of them, and the reaper."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import NamedTuple

from rocketjob.store.clock import DatabaseClock, host_now
from rocketjob.store.executor import Executor, Row


class Handoff(NamedTuple):
    """What a hand-off notice says: the job, its worker, and the job's row if it fit."""

    job_id: int
    worker: str
    row: Row | None


class WorkerStore(Executor):
    # Whether create() can hand a job straight to an idle worker (PostgreSQL: a notice
    # names the worker). Without it, workers find every job by claiming.
    hands_off: bool = False

    def register_worker(
        self,
        name: str,
        host: str,
        pid: int,
        threads: int,
        *,
        include: str | None = None,
        exclude: str | None = None,
        async_slots: int = 0,
    ) -> None:
        params = {
            "name": name,
            "host": host,
            "pid": pid,
            "threads": threads,
            "async_slots": async_slots,
            "now": self.now(),
            "include": include,
            "exclude": exclude,
        }
        self.execute("register_worker", params)

    def heartbeat(
        self, name: str, state: str, *, offer_lapse: timedelta = timedelta(0)
    ) -> tuple[bool, str | None]:
        """Reports the worker alive in `state`: (still registered?, the desired state).

        Renews the worker's offer of hand-offs for `offer_lapse`, and sets the store's
        clock right by the database's."""
        now = self.now()
        params = {"name": name, "state": state, "now": now, "handoff_until": now + offer_lapse}
        sent = host_now()
        row = self.fetch_one("heartbeat", params)
        if row is None:
            return False, None
        if isinstance(self.clock, DatabaseClock) and row.get("database_now") is not None:
            self.clock.learn(row["database_now"], sent, host_now())
        return True, row["desired_state"]

    def offer_handoffs(self, name: str, slots: int, lapse: timedelta) -> None:
        """Lets create() hand up to `slots` new jobs straight to this worker (0: none)."""
        if self.hands_off:
            params = {"name": name, "slots": slots, "until": self.now() + lapse}
            self.execute("offer_handoffs", params)

    def read_handoff(self, payload: str, worker: str | None = None) -> Handoff | None:
        """A hand-off notice's payload, read; None if it is not one (or, given `worker`,
        not one for that worker: those are skipped unparsed)."""
        return None

    def handed_off_jobs(self, name: str, ids: Sequence[int] | None = None) -> list[Row]:
        """The running jobs of worker `name`: those of `ids`, or all of them (None)."""
        if not self.hands_off:
            return []
        return self.fetch_all("handed_off_jobs", {"name": name, "ids": ids})

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

    def has_orphans(self, timeout: timedelta, by: str) -> bool:
        """Whether running jobs or slices of workers silent for `timeout` wait to be
        requeued (what the reaper would take now)."""
        row = self.fetch_one("count_orphans", {"cutoff": self.now() - timeout, "by": by})
        return bool(row and row["orphans"])

    def reap_dead_workers(self, timeout: timedelta, by: str) -> tuple[list[Row], list[str]]:
        """Requeues the jobs of workers silent for `timeout`, then forgets those workers.

        `by` is the reaping worker: never one of them, since it is alive."""
        now = self.now()
        params = {"now": now, "cutoff": now - timeout, "by": by}
        with self.transaction():
            requeued = self.fetch_all("requeue_jobs_of_dead_workers", params)
            dead = self.fetch_all("delete_dead_workers", {"cutoff": now - timeout, "by": by})
        return requeued, [str(row["name"]) for row in dead]
