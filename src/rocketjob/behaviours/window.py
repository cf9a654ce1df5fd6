"""Processing windows: a job class with `processing_window = rj.Window("0 22 * * *", hours=6)`
runs only from each opening of the cron schedule for that long.

A job created outside the window is scheduled (`run_at`) for the next opening. A job that
comes due inside the window but is claimed after it closed goes back to the queue with
`run_at` at the next opening, and its history says why. Work that started inside the window
runs to its end, as a batch job's slices do: the window admits starts, it stops nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from rocketjob.errors import ValidationError

if TYPE_CHECKING:
    from rocketjob.jobs import Job

MINUTE = timedelta(minutes=1)


@dataclasses.dataclass(frozen=True)
class Window:
    """Opens at every occurrence of `cron` (5 fields, read in `timezone`) and stays open for
    `hours` + `minutes`."""

    cron: str
    hours: float = 0
    minutes: float = 0
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        if not isinstance(self.cron, str) or len(self.cron.split()) != 5:
            fields = "minute hour day month weekday"
            problems.append(("cron", f"must be 5 fields ({fields}): {self.cron!r}"))
        else:
            try:
                CronSim(self.cron, datetime(2000, 1, 1))
            except CronSimError as error:
                problems.append(("cron", f"{self.cron!r}: {error}"))
        try:
            if not isinstance(self.timezone, str) or not self.timezone:
                raise ValueError
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(("timezone", f"not an IANA time zone: {self.timezone!r}"))
        try:
            positive = self.duration > timedelta(0)
        except TypeError:
            positive = False
        if not positive:
            problems.append(("hours", "a window needs a duration: hours= or minutes= above 0"))
        if problems:
            raise ValidationError("processing window", problems)

    @property
    def duration(self) -> timedelta:
        return timedelta(hours=self.hours, minutes=self.minutes)

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(ZoneInfo(self.timezone))

    def last_opening(self, at: datetime) -> datetime:
        """The latest opening at or before `at`, in UTC."""
        local = self._local(at)
        # Occurrences fall on whole minutes; cronsim walking back yields those before its
        # start, so start just after the minute `at` is in.
        start = local.replace(second=0, microsecond=0) + MINUTE
        return next(CronSim(self.cron, start, reverse=True)).astimezone(UTC)

    def is_open(self, at: datetime) -> bool:
        return at < self.last_opening(at) + self.duration

    def next_opening(self, at: datetime) -> datetime:
        """The first opening after `at`, in UTC."""
        return next(CronSim(self.cron, self._local(at))).astimezone(UTC)

    def first_chance(self, at: datetime) -> datetime:
        """`at` itself when the window is open then, else its next opening."""
        return at if self.is_open(at) else self.next_opening(at)

    def describe(self) -> str:
        """ "At 22:00 for 6 h (Europe/Paris)"."""
        words = CronSim(self.cron, datetime(2000, 1, 1)).explain()
        return f"{words}, for {_span(self.duration)} ({self.timezone})"

    def closed_message(self, at: datetime) -> str:
        opens = self._local(self.next_opening(at))
        return f"outside its processing window; opens at {opens:%Y-%m-%d %H:%M} {self.timezone}"


def _span(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def check_class(cls: type[Job]) -> None:
    window: Any = cls.processing_window
    if window is not None and not isinstance(window, Window):
        raise ValidationError(
            f"processing window of {cls.class_name}",
            [("processing_window", f"must be an rj.Window, not {type(window).__name__}")],
        )


def first_run_at(cls: type[Job], run_at: datetime | None, now: datetime) -> datetime | None:
    """When a new job of the class may first run: its own run_at, moved to the next opening
    of its window if that falls outside."""
    window = cls.processing_window
    if window is None:
        return run_at
    due = run_at or now
    chance = window.first_chance(due)
    return run_at if chance == due else chance
