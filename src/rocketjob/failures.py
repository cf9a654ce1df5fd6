"""Failed jobs as operators see them: grouped by job class and exception class, and retried
or aborted all at once, a chunk per transaction, through the same guarded transitions as
one job's actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rocketjob.config import get_store
from rocketjob.errors import InvalidTransition, JobNotFound
from rocketjob.jobs import Job, default_actor
from rocketjob.states import Action
from rocketjob.store import JobChange
from rocketjob.store.failures import FailedFilter

# Jobs per transaction in a bulk action: short transactions, few round trips.
CHUNK = 500
GROUPS_SHOWN = 200


@dataclass(frozen=True)
class FailedJobGroup:
    """Failed jobs of one job class that raised one exception class."""

    class_name: str
    exception_class: str | None
    total: int
    last_hour: int
    last_day: int
    last_week: int
    latest_id: int  # the newest failed job of the group
    latest_message: str | None
    latest_at: datetime | None  # when that job failed


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk action did: jobs it changed, and jobs skipped because they changed
    (were retried, aborted, destroyed…) between being read and being written."""

    action: Action
    done: int
    skipped: int


def describe_filter(which: FailedFilter) -> str:
    """How a filter narrows "failed jobs": " of X that raised Y", " matching “q”"."""
    text = ""
    if which.class_name:
        text += f" of {which.class_name}"
    if which.exception_class:
        text += f" that raised {which.exception_class}"
    if which.q:
        text += f" matching “{which.q}”"
    return text


def failed_job_groups(limit: int = GROUPS_SHOWN) -> list[FailedJobGroup]:
    """Failed jobs grouped by job class and exception class, busiest in the last day first."""
    return [
        FailedJobGroup(
            class_name=str(row["class_name"]),
            exception_class=row["exception_class"],
            total=int(row["total"]),
            last_hour=int(row["last_hour"]),
            last_day=int(row["last_day"]),
            last_week=int(row["last_week"]),
            latest_id=int(row["latest_id"]),
            latest_message=row["latest_message"],
            latest_at=row["latest_at"],
        )
        for row in get_store().failure_groups(limit)
    ]


def count_failed(which: FailedFilter, cap: int) -> int:
    """How many failed jobs `which` matches, counting no further than `cap`."""
    return get_store().count_failed(which, cap)


def retry_failed(which: FailedFilter | None = None, *, by: str | None = None) -> BulkOutcome:
    """Retries every failed job `which` matches (all of them for None)."""
    return _act_on_failed(Action.RETRY, which or FailedFilter(), by)


def abort_failed(which: FailedFilter | None = None, *, by: str | None = None) -> BulkOutcome:
    """Aborts every failed job `which` matches (all of them for None)."""
    return _act_on_failed(Action.ABORT, which or FailedFilter(), by)


def _act_on_failed(action: Action, which: FailedFilter, by: str | None) -> BulkOutcome:
    store = get_store()
    actor = by or default_actor()
    done = skipped = 0
    after_id = 0
    # Oldest first, past the last id handled: a job retried here that fails again at once
    # is not met a second time.
    while rows := store.failed_jobs_after(after_id, CHUNK, which):
        after_id = int(rows[-1]["id"])
        now = store.now()
        changes: list[JobChange] = []
        singletons: list[Job] = []
        with store.transaction():
            for job in map(Job.from_row, rows):
                try:
                    step, change = job._prepare(action, actor, now)
                except InvalidTransition:
                    skipped += 1
                    continue
                if action is Action.RETRY and job.singleton_slot is not None:
                    singletons.append(job)  # its slot may be taken: alone, below
                elif not job.is_batch:
                    changes.append(change)
                elif store.apply_change(change) is None:
                    skipped += 1
                else:  # a batch job also requeues or drops its slices, in this transaction
                    job._applied(step, store)
                    done += 1
            applied = store.apply_changes(changes)
        done += applied
        skipped += len(changes) - applied
        for job in singletons:
            try:
                job._act(action, actor)
                done += 1
            except (InvalidTransition, JobNotFound):  # its slot is held, or it moved on
                skipped += 1
    return BulkOutcome(action, done, skipped)
