"""A worker's part in throttles: it claims the jobs of the throttled classes it runs apart
from the others, each throttle in turn, never past the throttle's limit."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rocketjob.behaviours.throttle import Throttle, name_of, throttles_of
from rocketjob.jobs import Job, job_classes
from rocketjob.store import Row, Store


class ThrottledClaims:
    """Each throttle is looked at again once a job of it ended here (a slot this worker
    freed), when new jobs are announced, or after `poll_interval` (a slot freed elsewhere):
    a throttle at its limit costs no lock and no count on every claim."""

    def __init__(
        self,
        store: Store,
        worker_name: str,
        throttles: Iterable[Throttle],
        *,
        include: str | None,
        exclude: str | None,
        poll_interval: float,
    ) -> None:
        self.store = store
        self.worker_name = worker_name
        self.throttles = list(throttles)
        self.include, self.exclude = include, exclude
        self.poll_interval = poll_interval
        self._next_look = {t.name: 0.0 for t in self.throttles}

    @classmethod
    def of_worker(
        cls,
        store: Store,
        worker_name: str,
        *,
        include: str | None,
        exclude: str | None,
        poll_interval: float,
    ) -> ThrottledClaims:
        found = throttles_of(job_classes(), include, exclude)
        return cls(
            store,
            worker_name,
            found,
            include=include,
            exclude=exclude,
            poll_interval=poll_interval,
        )

    def __bool__(self) -> bool:
        return bool(self.throttles)

    def claim(self, room: int) -> list[Row]:
        """Up to `room` jobs of the throttles due a look, each within its limit."""
        rows: list[Row] = []
        now = time.monotonic()
        for throttle in self.throttles:
            if room <= 0:
                break
            if now < self._next_look[throttle.name]:
                continue
            got = self.store.claim_throttled_jobs(
                self.worker_name,
                throttle.name,
                throttle.limit,
                room,
                include=self.include,
                exclude=self.exclude,
            )
            if len(got) < room:  # none left, or at its limit: look again later
                self._next_look[throttle.name] = now + self.poll_interval
            rows.extend(got)
            room -= len(got)
        return rows

    def ended(self, jobs: Iterable[Job]) -> None:
        """Jobs that ran here ended: their throttles have room again."""
        for job in jobs:
            name = name_of(type(job))
            if name in self._next_look:
                self._next_look[name] = 0.0

    def announced(self) -> None:
        """New jobs were queued: any throttle may have some."""
        for name in self._next_look:
            self._next_look[name] = 0.0
