"""Automatic retry: a job that fails with retries left goes back to the queue, due later.

A class sets `retry_limit` (retries after the first failure; 0, the default, never
retries), `retry_on` (the exceptions worth a retry; any Exception by default) and may
override `retry_delay(attempt)`. The worker decides here, then records the failure and the
retry in one statement under the job's lease.
"""

from __future__ import annotations

import logging
import math
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rocketjob.errors import ValidationError

if TYPE_CHECKING:
    from rocketjob.jobs import Job

log = logging.getLogger("rocketjob.job")


def default_delay(attempt: int) -> float:
    """Seconds before retry `attempt` (1 for the first): attempt**4 + 5, give or take 10 %
    so that jobs that failed together do not all come back at once."""
    return float(attempt**4 + 5) * random.uniform(0.9, 1.1)


def check_class(cls: type[Job]) -> None:
    """Refuses a job class whose retry settings cannot work, when it is defined."""
    problems: list[tuple[str, str]] = []
    limit: Any = cls.retry_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        problems.append(("retry_limit", f"must be a whole number ≥ 0, not {limit!r}"))
    retry_on: Any = cls.retry_on
    if not isinstance(retry_on, tuple) or not all(
        isinstance(kind, type) and issubclass(kind, BaseException) for kind in retry_on
    ):
        problems.append(("retry_on", f"must be a tuple of exception classes, not {retry_on!r}"))
    if problems:
        raise ValidationError(f"retry settings of {cls.class_name}", problems)


def retry_at(job: Job, error: BaseException | None, now: datetime) -> datetime | None:
    """When a job that failed with `error` runs again, or None: no retry left (or the
    error is not one its class retries)."""
    cls = type(job)
    if error is None or job.attempt >= cls.retry_limit or not isinstance(error, cls.retry_on):
        return None
    return now + timedelta(seconds=delay(job, job.attempt + 1))


def batch_retry_at(job: Job, now: datetime) -> datetime | None:
    """When a batch job whose only slices left have failed tries them again, or None."""
    if job.attempt >= type(job).retry_limit:
        return None
    return now + timedelta(seconds=delay(job, job.attempt + 1))


def delay(job: Job, attempt: int) -> float:
    """The class's retry_delay(attempt); the default when it raises or makes no sense."""
    try:
        seconds = job.retry_delay(attempt)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError(f"it returned {seconds!r}, not a number of seconds")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"it returned {seconds!r}")
    except Exception as error:
        seconds = default_delay(attempt)
        log.warning(
            "job %s %s: retry_delay(%d) is unusable (%s): retrying in %.1f s, the default",
            job.id,
            job.class_name,
            attempt,
            error,
            seconds,
        )
    return float(min(seconds, MAX_DELAY))


# A delay past this is surely a mistake (and past what a datetime can add up to).
MAX_DELAY = 10 * 365 * 86_400.0
