"""Callbacks around perform(): before_perform → around_perform(perform) → after_perform,
and on_failure(exception) when perform() or any of them raises.

Job defines them as no-ops, so a subclass may always call super(). A class that overrides
none of them runs perform() alone: the worker's hot path pays nothing for them. On an
async job each callback may be sync or async: what it returns is awaited if awaitable.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rocketjob.jobs import Job

log = logging.getLogger("rocketjob.job")

PERFORM_CALLBACKS = ("before_perform", "after_perform", "around_perform", "on_failure")


def has_callbacks(cls: type, base: type, names: tuple[str, ...] = PERFORM_CALLBACKS) -> bool:
    """Whether `cls` overrides any of the callbacks `base` defines."""
    return any(getattr(cls, name) is not getattr(base, name) for name in names)


def check_async(cls: type[Job]) -> None:
    """Refuses async callbacks on a job whose perform() is sync: nothing would await them."""
    if cls._async_perform:
        return
    for name in PERFORM_CALLBACKS:
        if inspect.iscoroutinefunction(getattr(cls, name)):
            raise TypeError(f"{cls.class_name}: {name} is async but perform() is not")


def perform(job: Job) -> None:
    """Runs a sync job's perform() inside its callbacks."""
    if not type(job)._callbacks:
        job.perform()
        return
    try:
        job.before_perform()
        _stop_if_acted_on(job)
        job.around_perform(job.perform)
        job.after_perform()
    except (Exception, SystemExit) as error:
        failed(job, error)
        raise


async def aperform(job: Job) -> None:
    """Runs an async job's perform() inside its callbacks, sync or async."""
    target: Any = job  # its methods return awaitables, whatever the base class says
    if not type(job)._callbacks:
        await target.perform()
        return
    try:
        await _maybe(target.before_perform())
        _stop_if_acted_on(job)
        await _maybe(target.around_perform(target.perform))
        await _maybe(target.after_perform())
    except (Exception, SystemExit) as error:
        try:
            await _maybe(target.on_failure(error))
        except Exception:
            log.exception("job %s %s: on_failure raised", job.id, job.class_name)
        raise


def failed(job: Job, error: BaseException) -> None:
    """Calls on_failure(error); what it raises is logged, and the job fails with `error`."""
    try:
        job.on_failure(error)
    except Exception:
        log.exception("job %s %s: on_failure raised", job.id, job.class_name)


def _stop_if_acted_on(job: Job) -> None:
    # before_perform may have paused, aborted or failed the job itself (the action
    # reloaded it): perform() then does not run, as at a checkpoint.
    from rocketjob.jobs import JobInterrupted
    from rocketjob.states import State

    if job._claim is not None and job.state is not State.RUNNING:
        raise JobInterrupted(job.state.value)


async def _maybe(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


class Callbacks:
    """The callbacks of every job: no-ops to override, calling super() or not."""

    def before_perform(self) -> None:
        """Runs before perform(); what it raises fails the job as perform() would."""

    def after_perform(self) -> None:
        """Runs once perform() returned."""

    def around_perform(self, perform: Callable[[], Any]) -> Any:
        """Wraps perform(): call perform() where it should run (on an async job, make this
        async and `await perform()`)."""
        return perform()

    def on_failure(self, exception: BaseException) -> None:
        """Runs when perform() or a callback raised, before the failure is recorded;
        what it raises itself is logged and the job fails with `exception`."""
