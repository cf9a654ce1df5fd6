"""The store's view of failed jobs: grouped for Mission Control, read in chunks for bulk
actions, and many operator transitions applied in one statement.

A mixin of Store, like BatchStore: it knows which named query does what; PostgreSQL
overrides `apply_changes` to send a whole chunk as arrays.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from rocketjob.store.executor import Executor, Row

if TYPE_CHECKING:
    from rocketjob.store.base import JobChange


@dataclass(frozen=True)
class FailedFilter:
    """Which failed jobs: of a job class, raising an exception class, matching a search.

    Every part is optional; none at all means every failed job.
    """

    class_name: str | None = None
    exception_class: str | None = None
    q: str | None = None


class FailureStore(Executor):
    @abstractmethod
    def search_params(self, q: str | None) -> dict[str, Any]: ...

    # -- failed jobs ----------------------------------------------------------------------

    def failure_groups(self, limit: int) -> list[Row]:
        """Failed jobs per (job class, exception class): counts in the last hour, day and
        week and in total, and the newest job's id, message and time of failure."""
        now = self.now()
        params = {
            "hour_ago": now - timedelta(hours=1),
            "day_ago": now - timedelta(days=1),
            "week_ago": now - timedelta(days=7),
            "limit": limit,
        }
        return self.fetch_all("failure_groups", params)

    def failed_jobs_after(self, after_id: int, limit: int, which: FailedFilter) -> list[Row]:
        """The failed jobs `which` matches with ids above `after_id`, oldest first."""
        params = {**self._filter_params(which), "after_id": after_id, "limit": limit}
        return self.fetch_all("failed_jobs_after", params)

    def count_failed(self, which: FailedFilter, cap: int) -> int:
        """How many failed jobs `which` matches, counting no further than `cap`."""
        if which.q:
            if which.class_name or which.exception_class:
                raise ValueError("count a search, or a job and exception class, not both")
            row = self.fetch_one("count_failed_search", {**self.search_params(which.q), "cap": cap})
        else:
            params = {"class_name": which.class_name, "exception_class": which.exception_class}
            row = self.fetch_one("count_failed_matching", {**params, "cap": cap})
        return int(row["n"]) if row else 0

    def _filter_params(self, which: FailedFilter) -> dict[str, Any]:
        return {
            "class_name": which.class_name,
            "exception_class": which.exception_class,
            **self.search_params(which.q),
        }

    def apply_changes(self, changes: Sequence[JobChange]) -> int:
        """Applies each change whose job is still at the version it was read at, in one
        transaction; returns how many applied (the others changed meanwhile)."""
        applied = 0
        with self.transaction():
            for change in changes:
                if self.fetch_one("transition", asdict(change)) is not None:
                    applied += 1
            if applied and any(change.state == "queued" for change in changes):
                self.execute("notify_jobs", {})
        return applied
