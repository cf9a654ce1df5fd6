"""The columns an operator's action writes: a pure function of the job as read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from rocketjob.records import JobException
from rocketjob.states import Action, State, Transition
from rocketjob.store import JobChange, history_entry

if TYPE_CHECKING:
    from rocketjob.jobs import Job


def plan_change(
    job: Job, step: Transition, *, by: str, reason: str | None, now: datetime
) -> JobChange:
    """The change `step` makes to `job` (as read at its version), with its history entry.

    completed_at marks when the job stopped (completed, failed, aborted or paused) and is
    cleared when it goes back to work; a job back in the queue forgets its worker and its
    last exception (the history keeps the failure's message).
    """
    assert job.id is not None
    run_at, completed_at, worker_name = job.run_at, job.completed_at, job.worker_name
    exception = job.exception.to_json() if job.exception else None
    failure_count, percent, attempt = job.failure_count, None, job.attempt
    message = None
    if step.action is Action.FAIL:
        failure_count += 1
        message = reason or f"failed by {by}"
        exception = JobException("rocketjob.Failed", message, [], worker_name).to_json()
        completed_at = now
    elif step.action in (Action.PAUSE, Action.ABORT):
        completed_at = now
    elif step.action in (Action.RETRY, Action.RESUME):
        completed_at = None
        if step.action is Action.RETRY:
            attempt = 0  # an operator's retry: automatic retries start counting again
        if step.to_state is State.QUEUED:
            worker_name, exception = None, None
            percent = 0 if not job.is_batch else None
    elif step.action is Action.RUN_NOW:
        run_at = None
    entry = history_entry(
        now, step.from_state.value, step.to_state.value, step.action.value, by, message
    )
    sub_state = step.sub_state or job.sub_state
    return JobChange(
        id=job.id,
        version=job._version,
        state=step.to_state.value,
        sub_state=sub_state.value if sub_state else None,
        run_at=run_at,
        started_at=job.started_at,
        completed_at=completed_at,
        failure_count=failure_count,
        attempt=attempt,
        worker_name=worker_name,
        exception=json.dumps(exception) if exception else None,
        percent_complete=percent,
        entry=entry,
    )
