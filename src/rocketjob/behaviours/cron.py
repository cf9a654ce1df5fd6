"""Cron: a job class with `cron = "*/5 * * * *"` runs at every occurrence of its schedule.

One instance of the class waits in the queue for the next occurrence (its `run_at`); an
index on the database makes a second impossible. When a worker claims that instance it
creates the next, in the transaction of the claim: however many workers and restarts,
each occurrence runs once. Occurrences missed while no worker ran collapse into one run:
the next one counts from when the late instance started. Schedules are read with cronsim
(its own rules for days that skip or repeat an hour at a DST change).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from rocketjob.errors import ValidationError

if TYPE_CHECKING:
    from rocketjob.jobs import Job


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A cron class's schedule, as the database keeps it (the class need not be imported
    to show it)."""

    class_name: str
    cron: str
    timezone: str

    def next_run(self, after: datetime) -> datetime:
        """The first occurrence after `after`, in UTC."""
        local = after.astimezone(ZoneInfo(self.timezone))
        return next(CronSim(self.cron, local)).astimezone(UTC)

    def in_words(self) -> str:
        """ "Every fifth minute from 09:00 through 17:59 on Monday through Friday"."""
        return CronSim(self.cron, datetime(2000, 1, 1)).explain()


def schedule_of(cls: type[Job]) -> Schedule | None:
    return None if cls.cron is None else Schedule(cls.class_name, cls.cron, cls.cron_timezone)


def check_class(cls: type[Job]) -> None:
    """Refuses a cron class whose schedule, time zone or fields cannot work, when it is
    defined: a mistake found at import, not at 3 am."""
    cron: Any = cls.cron
    if cron is None:
        return
    problems: list[tuple[str, str]] = []
    zone: Any = cls.cron_timezone
    if not isinstance(cron, str) or len(cron.split()) not in (5, 6):
        problems.append(
            (
                "cron",
                "must be 5 fields (minute hour day month weekday), or 6 with seconds "
                f"first: {cron!r}",
            )
        )
    else:
        try:
            CronSim(cron, datetime(2000, 1, 1))
        except CronSimError as error:
            problems.append(("cron", f"{cron!r}: {error}"))
    try:
        if not isinstance(zone, str) or not zone:
            raise ValueError
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(("cron_timezone", f"not an IANA time zone: {zone!r}"))
    own_fields = cls._fieldset.own.model_fields
    required = [name for name, field in own_fields.items() if field.is_required()]
    if required:
        problems.append(
            ("cron", f"the workers create its jobs, so every field needs a default: {required}")
        )
    if cls.batch:
        problems.append(("cron", "a batch job's records come from an upload, not a schedule"))
    if problems:
        raise ValidationError(f"cron settings of {cls.class_name}", problems)
