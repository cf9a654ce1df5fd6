"""The store's part in "why is it waiting?": a few indexed reads about one queued job.

Each read is bounded: the running jobs of a throttle come from its running index (as
small as the throttle's limit), and the jobs ahead of a job are counted up to a cap by
range reads of the claim's own index, so no answer costs a scan at millions of jobs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rocketjob.store.executor import Executor, Row

# The most running jobs of a throttle a reason names.
RUNNING_NAMED = 100


class WaitingStore(Executor):
    def wait_facts(self, job_id: int) -> Row | None:
        """What the claim reads of a job: state, throttle, priority, run_at, waiting_on."""
        return self.fetch_one("wait_facts", {"id": job_id})

    def running_in_throttle(self, throttle: str) -> list[int]:
        """The ids of the running jobs of `throttle` (the first hundred), from its index."""
        rows = self.fetch_all("running_in_throttle", {"throttle": throttle, "limit": RUNNING_NAMED})
        return [int(row["id"]) for row in rows]

    def count_ahead(self, facts: Row, now: datetime, cap: int) -> int:
        """How many due jobs the claim takes before this one (up to `cap`), in its
        partition: the same throttle, or no throttle."""
        params = {
            "id": facts["id"],
            "priority": facts["priority"],
            "run_at": facts["run_at"],
            "throttle": facts["throttle"],
            "now": now,
            "cap": cap,
        }
        query = "count_ahead" if facts["throttle"] is None else "count_ahead_throttled"
        row = self.fetch_one(query, params)
        return int(row["n"]) if row else 0

    def live_workers(self, timeout: timedelta) -> list[Row]:
        """Workers that reported within `timeout`: name, state, desired state, filters."""
        return self.fetch_all("live_workers", {"cutoff": self.now() - timeout})
