"""What operators see of cron schedules and ask of them: the Python side of the Cron page.

Everything comes from the database, so the class need not be imported to show or steer
its schedule. Run now, Pause and Resume act on the job waiting for the next run, through
the job's own actions: the state table decides, as for any job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from cronsim import CronSimError

from rocketjob.behaviours.cron import Schedule
from rocketjob.config import get_store
from rocketjob.errors import CronNotFound, InvalidTransition, JobNotFound
from rocketjob.jobs import Job
from rocketjob.states import Action, JobFacts, State, allowed_actions
from rocketjob.store import Row

# What an operator may ask of a schedule, in the order its buttons show.
CRON_ACTIONS: tuple[Action, ...] = (Action.RUN_NOW, Action.PAUSE, Action.RESUME)


@dataclass(frozen=True)
class CronInfo:
    """A cron schedule as workers last wrote it, the job waiting for its next run, and
    how its latest run went."""

    class_name: str
    cron: str  # as written in the class: "*/5 * * * *"
    timezone: str
    in_words: str  # "Every fifth minute from 09:00 through 17:59 on Monday through Friday"
    next_run_at: datetime | None  # None: no job waits, or the one waiting was asked to run now
    paused: bool
    pending_id: int | None  # the job waiting for the next run
    last_job_id: int | None
    last_started_at: datetime | None
    last_outcome: str | None  # running, completed or failed
    last_finished_at: datetime | None
    last_job_kept: bool  # that job is still there (a completed one may be deleted)

    @property
    def actions(self) -> list[Action]:
        """Run now, Pause or Resume: those the waiting job's state allows."""
        if self.pending_id is None:
            return []
        state = State.PAUSED if self.paused else State.QUEUED
        allowed = allowed_actions(JobFacts(state, scheduled=self.next_run_at is not None))
        return [action for action in CRON_ACTIONS if action in allowed]

    def as_dict(self) -> dict[str, Any]:
        """Its fields and `actions`, as the JSON API and `rocketjob cron list --json` give it."""
        return {**asdict(self), "actions": [action.value for action in self.actions]}


def list_cron() -> list[CronInfo]:
    """Every cron schedule (written by the workers that import its class), by class name."""
    return [_info(row) for row in get_store().list_cron()]


def find_cron(class_name: str) -> CronInfo:
    """The schedule of `class_name` ("module.QualName"); CronNotFound if none is known."""
    for info in list_cron():
        if info.class_name == class_name:
            return info
    raise CronNotFound(
        f"no cron schedule of {class_name}: a schedule is known once a worker that imports "
        "its class has started"
    )


def run_cron_now(class_name: str, *, by: str | None = None) -> CronInfo:
    """Runs the schedule's waiting job now; the worker that claims it creates the next one,
    as at any occurrence. The schedule as it is afterwards."""
    return _act(class_name, Action.RUN_NOW, by)


def pause_cron(class_name: str, *, by: str | None = None) -> CronInfo:
    """Pauses the schedule's waiting job: nothing of it runs, and no next one is created,
    until it is resumed."""
    return _act(class_name, Action.PAUSE, by)


def resume_cron(class_name: str, *, by: str | None = None) -> CronInfo:
    """Resumes the schedule's waiting job: it runs at its time, or at once if that passed
    while it was paused (the runs missed meanwhile as one)."""
    return _act(class_name, Action.RESUME, by)


def _act(class_name: str, action: Action, by: str | None) -> CronInfo:
    info = find_cron(class_name)
    verb = "run now" if action is Action.RUN_NOW else action.value
    if info.pending_id is None:
        raise InvalidTransition(
            f"cannot {verb} {class_name}: no job of it is waiting for the next run, as no "
            "worker that imports the class has run since the last one was taken or removed "
            "(a worker creates one when it starts)"
        )
    try:
        job = Job.find(info.pending_id)
    except JobNotFound:
        job = None
    if job is None or job.started_at is not None or job.state not in (State.QUEUED, State.PAUSED):
        raise InvalidTransition(
            f"cannot {verb} {class_name}: job #{info.pending_id}, which was waiting for the "
            "next run, has started meanwhile; look again"
        )
    try:
        getattr(job, action.value)(by=by)
    except InvalidTransition as error:
        raise InvalidTransition(f"{error}: job #{job.id}, the next run of {class_name}") from None
    return find_cron(class_name)


def _info(row: Row) -> CronInfo:
    schedule = Schedule(str(row["class_name"]), str(row["cron"]), str(row["timezone"]))
    pending_id = row["pending_id"]
    return CronInfo(
        class_name=schedule.class_name,
        cron=schedule.cron,
        timezone=schedule.timezone,
        in_words=_in_words(schedule),
        next_run_at=row["next_run_at"] if pending_id is not None else None,
        paused=row["pending_state"] == State.PAUSED.value,
        pending_id=None if pending_id is None else int(pending_id),
        last_job_id=None if row["last_job_id"] is None else int(row["last_job_id"]),
        last_started_at=row["last_started_at"],
        last_outcome=row["last_outcome"],
        last_finished_at=row["last_finished_at"],
        last_job_kept=bool(row["last_job_kept"]),
    )


def _in_words(schedule: Schedule) -> str:
    try:
        return schedule.in_words()
    except (CronSimError, NotImplementedError) as error:
        # Written by a worker whose cronsim reads more than this one: shown as it is.
        return f"{schedule.cron} (not readable here: {error})"
