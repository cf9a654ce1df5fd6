"""A worker's part in cron: it keeps one waiting instance of each cron class it imports,
and creates the next when it claims one, in the claim's own transaction."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from rocketjob.behaviours import throttle as throttles
from rocketjob.behaviours.cron import Schedule, schedule_of
from rocketjob.execution import Outcome, Result
from rocketjob.jobs import Job, job_classes
from rocketjob.store import Row, Store

log = logging.getLogger("rocketjob.worker")

# How often a worker makes sure each of its cron classes has an instance waiting (one
# claimed by a worker that does not import the class, or destroyed, is replaced).
ENSURE_EVERY = 10.0


class CronKeeper:
    """The cron classes of one worker process, and what it does for them."""

    def __init__(self, store: Store, classes: Iterable[type[Job]]) -> None:
        self.store = store
        self.classes = {cls.class_name: cls for cls in classes}
        self.schedules = {
            name: schedule for name, cls in self.classes.items() if (schedule := schedule_of(cls))
        }
        self._ensured_at = 0.0

    @classmethod
    def of_worker(cls, store: Store, include: str | None, exclude: str | None) -> CronKeeper:
        """The classes this process imports that the worker's filters let it run."""
        chosen = [
            job_class
            for job_class in job_classes()
            if (include is None or re.search(include, job_class.class_name))
            and (exclude is None or not re.search(exclude, job_class.class_name))
        ]
        return cls(store, chosen)

    def __bool__(self) -> bool:
        return bool(self.schedules)

    def sync(self) -> None:
        """At start: the schedules as the code says now. A changed schedule moves its waiting
        instance to the new next occurrence; a class that lost its schedule loses its
        instance; every schedule gets one."""
        stored = self.store.cron_schedules()
        now = self.store.now()
        for name in stored:
            if name in self.classes and name not in self.schedules:
                dropped = self.store.drop_cron(name)
                log.info("cron of %s removed: %d waiting job(s) destroyed", name, dropped)
        for name, schedule in self.schedules.items():
            if stored.get(name) != (schedule.cron, schedule.timezone):
                with self.store.transaction():
                    self.store.save_cron_schedule(name, schedule.cron, schedule.timezone)
                    moved = self.store.reschedule_cron_job(
                        name, schedule.cron, schedule.next_run(now)
                    )
                if name in stored:
                    log.info("cron of %s is now %r (%s)", name, schedule.cron, schedule.timezone)
                    if moved:
                        log.info("its waiting job moved to the new schedule")
        self.ensure(force=True)

    def ensure(self, *, force: bool = False) -> None:
        """Now and then: an instance waits for each schedule's next occurrence."""
        if not force and time.monotonic() - self._ensured_at < ENSURE_EVERY:
            return
        self._ensured_at = time.monotonic()
        now = self.store.now()
        for name, schedule in self.schedules.items():
            created = self._create_next(self.classes[name], schedule, now)
            if created is not None:
                log.info("cron job %s %s created for %s", created, name, schedule.next_run(now))

    def claim(self, claim: Callable[[], list[Row]]) -> list[Row]:
        """Runs `claim`; every cron instance it took gets its successor in the same
        transaction, so a crash in between leaves neither."""
        with self.store.claim_transaction():
            rows = claim()
            started = [row for row in rows if row["class_name"] in self.schedules]
            if started:
                now = self.store.now()
                for row in started:
                    name = row["class_name"]
                    self._create_next(self.classes[name], self.schedules[name], now)
                    self.store.cron_started(name, int(row["id"]))
        return rows

    def finished(self, outcomes: Sequence[Outcome]) -> None:
        """Notes how the cron instances among `outcomes` ended, for the Cron page."""
        for outcome in outcomes:
            name = outcome.job.class_name
            if name in self.schedules and outcome.result in _NOTED:
                self.store.cron_finished(name, outcome.claim.id, _NOTED[outcome.result])

    def _create_next(self, cls: type[Job], schedule: Schedule, now: datetime) -> int | None:
        standard, fields = cls._fieldset.validate_row({})
        values = {
            **standard,
            "class_name": cls.class_name,
            "fields": fields,
            "run_at": schedule.next_run(now),
            "cron": schedule.cron,
            "throttle": throttles.name_of(cls),
        }
        return self.store.insert_cron_job(values)


_NOTED = {Result.COMPLETED: "completed", Result.FAILED: "failed"}
