"""Running one claimed job's perform() and recording what came of it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rocketjob.behaviours import callbacks, retry
from rocketjob.config import get_store
from rocketjob.errors import InvalidTransition, RocketJobError
from rocketjob.jobs import Job, JobInterrupted, inline_name
from rocketjob.records import JobException
from rocketjob.states import Action, State, refusal
from rocketjob.store import Claim, Finished, Row, Store

log = logging.getLogger("rocketjob.job")


class Result(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # an operator paused, aborted or failed it meanwhile
    EXPIRED = "expired"  # its expires_at passed before it started: destroyed, not run
    LOST = "lost"  # another worker took it over before it started here: not run


@dataclass(slots=True)
class Outcome:
    job: Job
    claim: Claim
    result: Result
    seconds: float
    exception: JobException | None = None
    error: BaseException | None = None
    retry_at: datetime | None = None  # a failure its class retries: when it runs again


def load_claimed(row: Row) -> tuple[Job, Claim]:
    job = Job.from_row(row)
    claim = Claim(int(row["id"]), int(row["lease"]))
    job._claim = claim
    return job, claim


def perform_claimed(job: Job, claim: Claim, worker_name: str) -> Outcome:
    """Runs perform() of a job this worker holds, inside its callbacks; records nothing.

    An async job runs on an event loop of its own here (perform_now() from sync code);
    workers run async jobs on their event loop, with aperform_claimed()."""
    started = time.monotonic()
    try:
        if job.load_error:
            raise UnrunnableJob(job.load_error)
        if type(job)._async_perform:
            _run_coroutine(job)
        else:
            callbacks.perform(job)
    except (JobInterrupted, Exception, SystemExit) as error:  # sys.exit() fails the job alone
        return _ended(job, claim, worker_name, started, error)
    finally:
        job._claim = None
    return Outcome(job, claim, Result.COMPLETED, time.monotonic() - started)


async def aperform_claimed(job: Job, claim: Claim, worker_name: str) -> Outcome:
    """perform_claimed() of an async job, on the running event loop."""
    started = time.monotonic()
    try:
        if job.load_error:
            raise UnrunnableJob(job.load_error)
        await callbacks.aperform(job)
    except (JobInterrupted, Exception, SystemExit) as error:
        return _ended(job, claim, worker_name, started, error)
    finally:
        job._claim = None
    return Outcome(job, claim, Result.COMPLETED, time.monotonic() - started)


def _ended(
    job: Job, claim: Claim, worker_name: str, started: float, error: BaseException
) -> Outcome:
    """The outcome of a perform() that raised: interrupted by an operator, or failed."""
    seconds = time.monotonic() - started
    if isinstance(error, JobInterrupted):
        exception = JobException("rocketjob.JobInterrupted", str(error))
        return Outcome(job, claim, Result.INTERRUPTED, seconds, exception)
    exception = JobException.from_exception(error, worker_name)
    if isinstance(error, UnrunnableJob):
        exception = JobException("rocketjob.UnrunnableJob", str(error), [], worker_name)
    return Outcome(job, claim, Result.FAILED, seconds, exception, error)


def _run_coroutine(job: Job) -> None:
    import asyncio  # here: a process without async jobs never loads it

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(callbacks.aperform(job))
        return
    raise RocketJobError(
        f"{job.class_name} is async and an event loop runs here: await job.aperform_now()"
    )


class UnrunnableJob(Exception):
    """The job's class is not known to this process, or its stored fields no longer fit."""


def log_outcome(outcome: Outcome, *, recorded: bool = True) -> None:
    """Logs how a job ended here; `recorded` False: its lease had moved on, so the
    database kept nothing of it (another worker holds the job now)."""
    job = outcome.job
    ms = outcome.seconds * 1000
    if not recorded:
        log.warning(
            "job %s %s %s after %.1f ms, not recorded: another worker holds it now",
            job.id,
            job.class_name,
            outcome.result.value,
            ms,
        )
    elif outcome.result is Result.FAILED and outcome.exception:
        retrying = ""
        if outcome.retry_at is not None:
            limit = type(job).retry_limit
            retrying = f"; retry {job.attempt + 1} of {limit} at {outcome.retry_at:%H:%M:%S}"
        log.warning(
            "job %s %s failed after %.1f ms: %s: %s%s",
            job.id,
            job.class_name,
            ms,
            outcome.exception.class_name,
            outcome.exception.message,
            retrying,
        )
    elif outcome.result is Result.EXPIRED:
        log.info(
            "job %s %s expired at %s: destroyed, not run",
            job.id,
            job.class_name,
            job.expires_at.isoformat() if job.expires_at else "?",
        )
    elif outcome.result is Result.LOST:
        log.warning(
            "job %s %s not run here: its worker was presumed dead and another took it over",
            job.id,
            job.class_name,
        )
    elif outcome.result is Result.INTERRUPTED:
        log.info(
            "job %s %s stopped after %.1f ms: %s",
            job.id,
            job.class_name,
            ms,
            outcome.exception.message if outcome.exception else "",
        )
    else:
        log.info("job %s %s completed in %.1f ms", job.id, job.class_name, ms)


def perform_inline(job: Job) -> None:
    """perform_now(): an unsaved job runs in memory; a saved one moves through its states."""
    if job.id is None:
        _perform_unsaved(job)
        return
    claim, worker_name = _claim_inline(job)
    _record_inline(job, perform_claimed(job, claim, worker_name), worker_name)


async def aperform_inline(job: Job) -> None:
    """aperform_now(): as perform_inline(), with the database work off the event loop."""
    import asyncio

    if not type(job)._async_perform:
        await asyncio.to_thread(perform_inline, job)
        return
    if job.id is None:
        await _aperform_unsaved(job)
        return
    claim, worker_name = await asyncio.to_thread(_claim_inline, job)
    outcome = await aperform_claimed(job, claim, worker_name)
    await asyncio.to_thread(_record_inline, job, outcome, worker_name)


def _claim_inline(job: Job) -> tuple[Claim, str]:
    store = get_store()
    worker_name = inline_name()
    row = store.claim_job(job._saved_id(), worker_name)
    if row is None:
        job.reload()  # raises JobNotFound if it is gone
        if job.state is State.QUEUED and job.waiting_on:
            holding = ", ".join(n.in_words() for n in job.dependencies().holding)
            raise InvalidTransition(f"cannot start job #{job.id}: it waits on {holding}")
        raise InvalidTransition(refusal(Action.START, job.state))
    job._load(row)
    claim = job._claim = Claim(int(row["id"]), int(row["lease"]))
    return claim, worker_name


def _record_inline(job: Job, outcome: Outcome, worker_name: str) -> None:
    store = get_store()
    claim = outcome.claim
    if outcome.result is Result.COMPLETED:
        store.finish_jobs([Finished(claim, keep=not job.destroy_on_complete)], worker_name)
        if job.destroy_on_complete:  # the row is gone; the instance shows how it ended
            job.state, job.percent_complete = State.COMPLETED, 100
        else:
            job.reload()
    elif outcome.result is Result.FAILED:
        # As a worker would: failed or queued again, and the caller sees the exception.
        record_failure(store, outcome, worker_name)
        job.reload()
        assert outcome.error is not None
        raise outcome.error
    else:
        job.reload()


def record_failure(store: Store, outcome: Outcome, worker_name: str) -> bool:
    """Fails the job, or queues it again if its class retries this failure; False if
    the claim is no longer held."""
    assert outcome.exception is not None
    exception = outcome.exception.to_json()
    error = None if isinstance(outcome.error, UnrunnableJob) else outcome.error
    run_at = retry.retry_at(outcome.job, error, store.now())
    if run_at is None:
        return store.fail_claimed_job(outcome.claim, exception, worker_name)
    outcome.retry_at = run_at
    return store.retry_claimed_job(outcome.claim, exception, run_at, worker_name)


def _perform_unsaved(job: Job) -> None:
    job.state = State.RUNNING
    try:
        if type(job)._async_perform:
            _run_coroutine(job)
        else:
            callbacks.perform(job)
    except Exception as error:
        _failed_unsaved(job, error)
        raise
    job.state, job.percent_complete = State.COMPLETED, 100


async def _aperform_unsaved(job: Job) -> None:
    job.state = State.RUNNING
    try:
        await callbacks.aperform(job)
    except Exception as error:
        _failed_unsaved(job, error)
        raise
    job.state, job.percent_complete = State.COMPLETED, 100


def _failed_unsaved(job: Job, error: Exception) -> None:
    job.state = State.FAILED
    job.failure_count += 1
    job.exception = JobException.from_exception(error, None)
