"""A batch job's life on the workers: before → processing → after.

A worker claims a queued batch job like any job and runs `before_batch()`; the job then
moves to sub_state processing and is released: no worker owns it, every worker claims its
slices. The worker that completes the last slice (once the upload ended) wins the move to
`after` under a guard, runs `after_batch()` and completes the job. When only failed slices
are left, the job fails with "N slices failed" (or, if its class retries, they are tried
again after the retry delay). A periodic sweep settles the jobs whose last
slice's worker died before it could.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from rocketjob.behaviours import callbacks, retry
from rocketjob.config import get_store
from rocketjob.execution import load_claimed
from rocketjob.jobs import Job, JobInterrupted
from rocketjob.records import JobException
from rocketjob.states import SubState
from rocketjob.store import Claim, Finished, Row, Store

log = logging.getLogger("rocketjob.batch")


@dataclass(frozen=True)
class BatchOutcome:
    """What one step of batch work came to; everything is recorded already."""

    job_id: int
    class_name: str
    step: str  # "before", "slice 12", "after"
    result: str  # processing, completed, failed, interrupted, lost (the lease moved on)
    seconds: float
    records: int = 0
    exception: JobException | None = None
    record: int | None = None  # the record that raised
    after: BatchOutcome | None = None  # the job's after step, run next on the same thread

    def followed_by(self, after: BatchOutcome) -> BatchOutcome:
        return dataclasses.replace(self, after=after)

    def log(self) -> None:
        what = f"job {self.job_id} {self.class_name} {self.step}"
        ms = self.seconds * 1000
        if self.exception is not None:
            at = f" at record {self.record}" if self.record is not None else ""
            log.warning(
                "%s %s after %.1f ms%s: %s: %s",
                what,
                self.result,
                ms,
                at,
                self.exception.class_name,
                self.exception.message,
            )
        else:
            log.info("%s %s in %.1f ms (%d records)", what, self.result, ms, self.records)
        if self.after is not None:
            self.after.log()


def run_batch_job(job: Job, claim: Claim, worker_name: str) -> BatchOutcome:
    """Runs the step of a batch job a worker claimed: `before_batch()`, or `after_batch()`."""
    if job.sub_state is SubState.AFTER:
        return run_after(job, claim, worker_name)
    return run_before(job, claim, worker_name)


def run_before(job: Job, claim: Claim, worker_name: str) -> BatchOutcome:
    store = get_store()
    started = time.monotonic()
    store.begin_batch_before(claim.id, claim.lease)
    stopped = _run_step(store, job, claim, worker_name, "before_batch")
    if stopped is not None:
        return _outcome(job, "before", started, *stopped)
    if not store.begin_batch_processing(claim.id, claim.lease):
        return _outcome(job, "before", started, "lost")
    outcome = _outcome(job, "before", started, "processing")
    held = settle(store, claim.id, worker_name)  # an upload that already ended, maybe empty
    return outcome if held is None else outcome.followed_by(run_after(*held, worker_name))


def run_after(job: Job, claim: Claim, worker_name: str) -> BatchOutcome:
    store = get_store()
    started = time.monotonic()
    stopped = _run_step(store, job, claim, worker_name, "after_batch")
    if stopped is not None:
        return _outcome(job, "after", started, *stopped)
    store.finish_jobs([Finished(claim, keep=not job.destroy_on_complete)], worker_name)
    return _outcome(job, "after", started, "completed")


def _run_step(
    store: Store, job: Job, claim: Claim, worker_name: str, step: str
) -> tuple[str, JobException] | None:
    """Runs before_batch/after_batch; on failure records it and says how it ended."""
    job._claim = claim
    try:
        if job.load_error:
            raise _Unrunnable(job.load_error)
        getattr(job, step)()
    except JobInterrupted as stop:
        return "interrupted", JobException("rocketjob.JobInterrupted", str(stop))
    except Exception as error:
        exception = JobException.from_exception(error, worker_name)
        if isinstance(error, _Unrunnable):
            exception = JobException("rocketjob.UnrunnableJob", str(error), [], worker_name)
        else:
            callbacks.failed(job, error)
        store.fail_claimed_job(claim, exception.to_json(), worker_name)
        return "failed", exception
    finally:
        job._claim = None
    return None


class _Unrunnable(Exception):
    pass


def _outcome(
    job: Job, step: str, started: float, result: str, exception: JobException | None = None
) -> BatchOutcome:
    return BatchOutcome(
        job_id=job._saved_id(),
        class_name=job.class_name,
        step=step,
        result=result,
        seconds=time.monotonic() - started,
        exception=exception,
    )


def settle(store: Store, job_id: int, worker_name: str) -> tuple[Job, Claim] | None:
    """Finishes processing if nothing is left: fails the job, or takes it into `after`.

    Returns the job and claim when this worker now holds it in `after` (and must run it).
    """
    busy, failed, record_count = store.slices_left(job_id)
    if busy or record_count is None:
        return None
    if failed:
        message = f"{failed} slice{'' if failed == 1 else 's'} failed"
        row = store.get_job(job_id)
        run_at = None if row is None else retry.batch_retry_at(Job.from_row(row), store.now())
        if row is not None and run_at is not None:  # its class retries the failed slices
            store.retry_batch_job(job_id, row["version"], failed, run_at, message, worker_name)
            return None
        exception = JobException("rocketjob.SlicesFailed", message, [], worker_name)
        store.fail_batch_job(job_id, failed, exception.to_json(), worker_name)
        return None
    row = store.start_batch_after(job_id, worker_name)
    return None if row is None else load_claimed(row)


def settle_batches(store: Store, worker_name: str) -> list[tuple[Job, Claim]]:
    """The sweep: settles every processing job with nothing queued or running."""
    held = []
    for job_id in store.settle_candidates():
        taken = settle(store, job_id, worker_name)
        if taken is not None:
            held.append(taken)
    return held


def reap_slices(store: Store, timeout: timedelta, by: str) -> list[Row]:
    """Requeues the running slices of workers silent for `timeout` (`by` reaps them)."""
    requeued = store.requeue_slices_of_dead_workers(timeout, by)
    for row in requeued:
        log.warning("slice %s of job %s requeued: its worker died", row["position"], row["job_id"])
    return requeued
