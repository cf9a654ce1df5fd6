"""Async jobs: a job whose perform() is `async def` runs on its worker's event loop, one
loop per worker process, many jobs at once (see worker/event_loop.py).

Their twins of checkpoint() and progress() do the database work on a thread, so the loop
runs other jobs meanwhile. A blocking call inside an async perform() blocks every job on
the loop: the job's author chooses.
"""

from __future__ import annotations

import inspect
import re
import time
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from rocketjob.jobs import Job

# Threads for the database work of async jobs (starts, acheckpoint(), aprogress()): a few
# are enough, since each call is short, and each holds a database connection.
EXECUTOR_THREADS = 4


def is_async(cls: type) -> bool:
    """Whether instances of `cls` perform with `async def perform()`."""
    return inspect.iscoroutinefunction(getattr(cls, "perform", None))


def runs_async_jobs(include: str | None, exclude: str | None) -> bool:
    """Whether a worker with these filters may claim an async job this process imports."""
    from rocketjob.jobs import job_classes

    return any(
        cls._async_perform
        and (include is None or re.search(include, cls.class_name))
        and (exclude is None or not re.search(exclude, cls.class_name))
        for cls in job_classes()
    )


class Awaitables:
    """The awaitable twins of a job's methods, for async perform()."""

    async def acheckpoint(self) -> None:
        """checkpoint(), without blocking the event loop while the database answers."""
        import asyncio  # here: a process without async jobs never loads it

        from rocketjob.jobs import CHECKPOINT_INTERVAL

        job = cast("Job", self)
        if job._claim is None or time.monotonic() - job._checked_at < CHECKPOINT_INTERVAL:
            return  # as checkpoint() would, without a trip to a thread
        await asyncio.get_running_loop().run_in_executor(None, job.checkpoint)

    async def aprogress(self, percent: float) -> None:
        """progress(percent), without blocking the event loop while the database answers."""
        import asyncio

        job = cast("Job", self)
        await asyncio.get_running_loop().run_in_executor(None, job.progress, percent)

    async def aperform_now(self) -> None:
        """perform_now() for async callers: the job runs on the caller's event loop."""
        from rocketjob.execution import aperform_inline

        await aperform_inline(cast("Job", self))
