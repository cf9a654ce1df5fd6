"""Async jobs: a job whose perform() is `async def` runs on its worker's event loop, one
loop per worker process, many jobs at once (see worker/event_loop.py).

Their twins of checkpoint() and progress() do the database work on a thread, so the loop
runs other jobs meanwhile. A blocking call inside an async perform() blocks every job on
the loop: the job's author chooses.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from rocketjob.jobs import Job


def is_async(cls: type) -> bool:
    """Whether instances of `cls` perform with `async def perform()`."""
    return inspect.iscoroutinefunction(getattr(cls, "perform", None))


class Awaitables:
    """The awaitable twins of a job's methods, for async perform()."""

    async def acheckpoint(self) -> None:
        """checkpoint(), without blocking the event loop while the database answers."""
        from rocketjob.jobs import CHECKPOINT_INTERVAL

        job = cast("Job", self)
        if job._claim is None or time.monotonic() - job._checked_at < CHECKPOINT_INTERVAL:
            return  # as checkpoint() would, without a trip to a thread
        await asyncio.get_running_loop().run_in_executor(None, job.checkpoint)

    async def aprogress(self, percent: float) -> None:
        """progress(percent), without blocking the event loop while the database answers."""
        job = cast("Job", self)
        await asyncio.get_running_loop().run_in_executor(None, job.progress, percent)

    async def aperform_now(self) -> None:
        """perform_now() for async callers: the job runs on the caller's event loop."""
        from rocketjob.execution import aperform_inline

        await aperform_inline(cast("Job", self))
