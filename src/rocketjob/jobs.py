"""The Job base class: typed fields, perform(), and the operator actions."""

from __future__ import annotations

import dataclasses
import getpass
import importlib
import os
import socket
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Self

from rocketjob.behaviours import callbacks, retry, waiting
from rocketjob.behaviours import cron as schedules
from rocketjob.behaviours import dependencies as dependency_rules
from rocketjob.behaviours import singleton as singletons
from rocketjob.behaviours import throttle as throttles
from rocketjob.behaviours import window as windows
from rocketjob.behaviours.asynchronous import Awaitables, is_async
from rocketjob.behaviours.dependencies import Dependencies
from rocketjob.behaviours.waiting import WaitReason
from rocketjob.behaviours.window import Window
from rocketjob.changes import plan_change
from rocketjob.config import get_store
from rocketjob.creation import create_job, create_jobs
from rocketjob.errors import (
    DatabaseUnavailable,
    InvalidTransition,
    JobNotFound,
    RocketJobError,
    ValidationError,
)
from rocketjob.fields import SETTABLE, FieldSet, own_field_specs
from rocketjob.records import HistoryEntry, JobException, JobPage
from rocketjob.states import (
    Action,
    JobFacts,
    State,
    SubState,
    Transition,
    allowed_actions,
    transition,
)
from rocketjob.store import Claim, JobChange, NewJob, Row, SlotTaken, Store

# How many times an operator action re-reads a job that changed under it before giving up.
RACE_RETRIES = 50
# checkpoint() asks the database at most this often (seconds).
CHECKPOINT_INTERVAL = 0.1

_classes: dict[str, type[Job]] = {}
# Job classes of rocketjob itself, imported when a job of theirs is read: their module.
_BUILT_IN = {"rocketjob.jobs.DirmonJob": "rocketjob.dirmon.job"}


class JobInterrupted(BaseException):
    """Stops perform() when an operator paused, aborted or failed the running job.

    A BaseException, so that a job's own `except Exception:` does not swallow it.
    """

    def __init__(self, state: str | None) -> None:
        self.state = state
        super().__init__(f"job is {state or 'no longer held by this worker'}")


def job_class(class_name: str) -> type[Job] | None:
    """The imported Job subclass stored under `class_name`; never imports anything but
    rocketjob's own job classes."""
    cls = _classes.get(class_name)
    if cls is None and class_name in _BUILT_IN:
        importlib.import_module(_BUILT_IN[class_name])
        cls = _classes.get(class_name)
    return cls


def job_classes() -> list[type[Job]]:
    """Every Job subclass imported in this process."""
    return list(_classes.values())


def _class_path(cls: type) -> str:
    module = cls.__module__
    if module == "__main__":
        # Run with `python -m pkg.mod`, __main__ knows its real name, which workers import.
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else module
    return f"{module}.{cls.__qualname__}"


def default_actor() -> str:
    """Who an action is by when nobody is named: the local user."""
    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user:unknown"


def process_name() -> str:
    """host:pid, the default name of a worker process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def inline_name() -> str:
    """Who runs jobs through perform_now(): no worker, so the reaper leaves them alone."""
    return f"inline:{process_name()}"


class Job(callbacks.Callbacks, Awaitables):
    """A unit of background work: subclass it, annotate fields, implement perform()
    (or `async def perform()`, run on the worker's event loop)."""

    # Defaults of the standard fields; a subclass overrides them as plain attributes.
    description: str | None = None
    priority: int = 50
    run_at: datetime | None = None
    expires_at: datetime | None = None
    destroy_on_complete: bool = True
    # A running job of this class may be paused (it stops at its next checkpoint).
    pausable: ClassVar[bool] = False
    batch: ClassVar[bool] = False
    # Automatic retries after a failure (see behaviours/retry.py): how many, and on what.
    retry_limit: ClassVar[int] = 0
    retry_on: ClassVar[tuple[type[BaseException], ...]] = (Exception,)
    # A recurring job (see behaviours/cron.py): 5 cron fields, read in an IANA time zone.
    cron: ClassVar[str | None] = None
    cron_timezone: ClassVar[str] = "UTC"
    # Starts only inside this window (see behaviours/window.py).
    processing_window: ClassVar[Window | None] = None
    # At most this many running at once, of the class or of its group (behaviours/throttle.py).
    throttle_running_jobs: ClassVar[int | None] = None
    throttle_group: ClassVar[str | None] = None
    # At most one queued, running or paused job of the class (behaviours/singleton.py);
    # a singleton_key() method narrows it to one per key.
    singleton: ClassVar[bool] = False
    class_name: str = "rocketjob.jobs.Job"
    # Whether perform() is async, and whether any callback is overridden (see behaviours/).
    _async_perform: ClassVar[bool] = False
    _callbacks: ClassVar[bool] = False

    id: int | None
    state: State
    sub_state: SubState | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    failure_count: int
    attempt: int  # automatic retries so far (an operator's retry starts again at 0)
    worker_name: str | None
    percent_complete: int
    exception: JobException | None
    waiting_on: int  # prerequisites not completed yet (see dependencies())
    singleton_slot: str | None  # the singleton slot it holds (queued, running, paused)

    _fieldset: ClassVar[FieldSet]
    _version: int
    _claim: Claim | None
    _checked_at: float
    _raw_fields: dict[str, Any] | None
    _fields_json: str | None = None
    load_error: str | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.class_name = _class_path(cls)
        own = own_field_specs(cls, Job, _RESERVED, cls.class_name)
        defaults = {name: getattr(cls, name) for name in SETTABLE}
        cls._fieldset = FieldSet(cls.class_name, own, defaults)
        retry.check_class(cls)
        schedules.check_class(cls)
        windows.check_class(cls)
        throttles.check_class(cls)
        cls._async_perform = is_async(cls)
        cls._callbacks = callbacks.has_callbacks(cls, Job)
        callbacks.check_async(cls)
        singletons.check_class(cls)
        _classes[cls.class_name] = cls

    def __init__(self, **values: Any) -> None:
        """An unsaved job; `create()` validates and enqueues in one step."""
        standard, own, self._fields_json = self._fieldset.validate_create(values)
        self._blank()
        for name, value in {**standard, **own}.items():
            setattr(self, name, value)

    def _blank(self) -> None:
        self.id = None
        self.class_name = type(self).class_name
        self.state = State.QUEUED
        self.sub_state = None
        self.created_at = self.started_at = self.completed_at = None
        self.failure_count = 0
        self.attempt = 0
        self.worker_name = None
        self.percent_complete = 0
        self.exception = None
        self.waiting_on = 0
        self.singleton_slot = None
        self._version = 0
        self._claim = None
        self._checked_at = 0.0
        self._raw_fields = None
        self.load_error = None

    def __repr__(self) -> str:
        return f"<{self.class_name} id={self.id} state={self.state.value}>"

    # -- creating and finding -----------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        connection: Any = None,
        depends_on: Any = None,
        on_conflict: Any = "raise",
        **values: Any,
    ) -> Self:
        """Validates the fields and enqueues the job; ValidationError names bad fields.

        `connection`: the application's open psycopg connection (PostgreSQL); the job is
        written in its transaction, so it exists, and workers see it, once that commits.
        `depends_on`: jobs (or ids) that must complete before this one runs.
        `on_conflict`: for a singleton whose slot is held, "raise" (ValidationError naming
        the holder) or "existing" (the holder is returned instead).
        """
        singletons.check_on_conflict(on_conflict)
        prerequisites = dependency_rules.given(depends_on)
        job = cls(**values)
        row = job._new_row()
        # A batch job's input is uploaded after it is created: it waits in the queue.
        # A throttled job waits its turn in the queue: a hand-off would skip the count.
        handoff = not cls.batch and row.throttle is None
        created = create_job(
            get_store(),
            row,
            handoff=handoff,
            connection=connection,
            depends_on=prerequisites,
            on_conflict=on_conflict,
        )
        if row.singleton_key is not None:
            # the new job, or (on_conflict="existing") the one holding the slot: read whole
            found = Job.from_row(created)
            assert isinstance(found, cls)
            return found
        job._load(created)
        return job

    @classmethod
    def create_many(cls, many: Iterable[Mapping[str, Any]], *, connection: Any = None) -> list[int]:
        """Enqueues many jobs in one transaction; validates them all before writing any.

        `connection`: as for create(), the transaction is the application's.
        """
        if cls is Job:
            raise TypeError("create jobs of a Job subclass, not of rocketjob.Job itself")
        rows: list[NewJob] = []
        waits: list[list[int]] = []
        problems: list[tuple[str, str]] = []
        validate = cls._fieldset.validate_row
        unique = singletons.is_unique(cls)
        now = get_store().now() if cls.processing_window else None
        for index, values in enumerate(many):
            try:
                given = dict(values)
                waits.append(dependency_rules.given(given.pop("depends_on", None)))
                if unique:  # its slot may come from its fields: a job works it out
                    rows.append(cls(**given)._new_row())
                    continue
                standard, fields_json = validate(given)
            except ValidationError as error:
                problems.extend((f"row {index}: {f}", p) for f, p in error.errors)
                continue
            if now is not None:
                standard["run_at"] = windows.first_run_at(cls, standard.get("run_at"), now)
            rows.append(
                NewJob(
                    class_name=cls.class_name,
                    fields=fields_json,
                    sub_state=cls._first_sub_state(),
                    throttle=throttles.name_of(cls),
                    **standard,
                )
            )
        if problems:
            raise ValidationError(f"fields for {cls.class_name}", problems)
        if unique or any(waits):
            return create_jobs(
                get_store(), list(zip(rows, waits, strict=True)), connection=connection
            )
        return get_store().insert_jobs(rows, connection=connection)

    def _new_row(self) -> NewJob:
        if type(self) is Job:
            raise TypeError("create jobs of a Job subclass, not of rocketjob.Job itself")
        assert self._fields_json is not None
        return NewJob(
            class_name=self.class_name,
            description=self.description,
            priority=self.priority,
            run_at=self._first_run_at(),
            expires_at=self.expires_at,
            destroy_on_complete=self.destroy_on_complete,
            fields=self._fields_json,
            sub_state=self._first_sub_state(),
            singleton_key=singletons.slot_of(self),
            throttle=throttles.name_of(type(self)),
        )

    def _first_run_at(self) -> datetime | None:
        if self.processing_window is None:
            return self.run_at
        return windows.first_run_at(type(self), self.run_at, get_store().now())

    @classmethod
    def _first_sub_state(cls) -> str | None:
        # A batch job is stored as one from the start: whoever reads it knows, class or not.
        return SubState.BEFORE.value if cls.batch else None

    @classmethod
    def find(cls, job_id: int) -> Self:
        """The job with this id, as an instance of its class; JobNotFound otherwise."""
        row = get_store().get_job(job_id)
        if row is None:
            raise JobNotFound(f"no job with id {job_id}")
        job = Job.from_row(row)
        if not isinstance(job, cls):
            raise JobNotFound(f"job {job_id} is a {job.class_name}, not a {cls.class_name}")
        return job

    @classmethod
    def page(
        cls,
        state: str | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        q: str | None = None,
        class_name: str | None = None,
        exception_class: str | None = None,
    ) -> JobPage:
        """A page of jobs (of this class, unless called on Job), newest first.

        `q` keeps the jobs whose class name or description contains it (any case);
        it searches every class, so call it on Job. On Job, `class_name` keeps one job
        class, imported or not; `exception_class` keeps failed jobs that raised it.
        """
        store = get_store()
        if q:
            if cls is not Job or class_name or exception_class:
                raise TypeError("search jobs with Job.page(q=...) alone, not on a subclass")
            rows, next_cursor = store.search_jobs(q, state=state, limit=limit, cursor=cursor)
        else:
            class_name = class_name if cls is Job else cls.class_name
            rows, next_cursor = store.list_jobs(
                state=state,
                class_name=class_name,
                exception_class=exception_class,
                limit=limit,
                cursor=cursor,
            )
        return JobPage([Job.from_row(row) for row in rows], next_cursor)

    @staticmethod
    def counts() -> dict[str, int]:
        """Jobs per list state: running, scheduled, queued, paused, failed, aborted, …, all."""
        return get_store().count_jobs()

    @staticmethod
    def from_row(row: Row) -> Job:
        """A job read from the store, as its class; unknown classes load as plain Job."""
        cls = job_class(row["class_name"])
        job = (cls or Job).__new__(cls or Job)
        job._claim, job._checked_at, job._raw_fields, job.load_error = None, 0.0, None, None
        job._load(row)
        if cls is None:
            job._raw_fields = dict(row["fields"])
            job.load_error = (
                f"job class {row['class_name']} is not known here: import its module "
                "(rocketjob worker --import MODULE); only rocketjob.Job subclasses run"
            )
            return job
        try:
            for name, value in cls._fieldset.load(row["fields"]).items():
                setattr(job, name, value)
        except ValidationError as error:
            job._raw_fields = dict(row["fields"])
            job.load_error = str(error)
        return job

    def _load(self, row: Row) -> None:
        for name in ("id", "class_name", "description", "priority", "run_at", "expires_at"):
            setattr(self, name, row[name])
        self.destroy_on_complete = bool(row["destroy_on_complete"])
        self.state = State(row["state"])
        self.sub_state = SubState(row["sub_state"]) if row["sub_state"] else None
        self.created_at = row["created_at"]
        self.started_at = row["started_at"]
        self.completed_at = row["completed_at"]
        self.failure_count = row["failure_count"]
        self.attempt = row["attempt"]
        self.worker_name = row["worker_name"]
        self.percent_complete = row["percent_complete"]
        self.exception = JobException.from_json(row["exception"])
        self.waiting_on = int(row.get("waiting_on") or 0)
        self.singleton_slot = row.get("singleton_key")
        self._version = row["version"]

    def reload(self) -> Self:
        row = get_store().get_job(self._saved_id())
        if row is None:
            raise JobNotFound(f"no job with id {self.id}")
        self._load(row)
        return self

    @property
    def fields(self) -> dict[str, Any]:
        """The job's own field values (as stored, if they could not be loaded)."""
        if self._raw_fields is not None:
            return dict(self._raw_fields)
        return {name: getattr(self, name) for name in self._fieldset.names}

    def history(self) -> list[HistoryEntry]:
        """Every transition of this job, oldest first."""
        entries = get_store().get_history(self._saved_id())
        if entries is None:
            raise JobNotFound(f"no job with id {self.id}")
        return [HistoryEntry.from_json(entry) for entry in entries]

    def dependencies(self) -> Dependencies:
        """The jobs this one waits on (`depends_on`) and the jobs that wait on it, with
        their states; `waits_on` also lists those done (completed, or gone)."""
        return get_store().neighbours(self._saved_id())

    def waiting_reasons(self) -> list[WaitReason]:
        """Why this queued or paused job is not running now: every reason that holds, from
        the rules the claim obeys (see behaviours/waiting.py); [] for other states."""
        store = get_store()
        return waiting.waiting_reasons(self, store, store.now())

    def _saved_id(self) -> int:
        if self.id is None:
            raise JobNotFound("this job was never saved: use create()")
        return self.id

    # -- the job's work -----------------------------------------------------------------

    def singleton_key(self) -> str | None:
        """Override to allow one queued, running or paused job per key of this class."""
        return None

    def perform(self) -> None:
        raise NotImplementedError(f"{self.class_name} does not implement perform()")

    def retry_delay(self, attempt: int) -> float:
        """Seconds to wait before automatic retry number `attempt` (1 for the first):
        attempt**4 + 5, give or take 10 %. Override it for another schedule."""
        return retry.default_delay(attempt)

    def progress(self, percent: float) -> None:
        """Records how far perform() got (0..100); stops it if an operator intervened."""
        if not 0 <= percent <= 100:
            raise ValueError(f"progress must be between 0 and 100, not {percent}")
        self.percent_complete = int(percent)
        if self._claim is not None:
            try:
                state = get_store().record_progress(self._claim, self.percent_complete)
            except DatabaseUnavailable:
                return  # the job goes on; its progress is saved again next time
            self._checked_at = time.monotonic()
            if state != State.RUNNING:
                raise JobInterrupted(state)

    def checkpoint(self) -> None:
        """Stops perform() here if an operator paused, aborted or failed the job."""
        if self._claim is None or time.monotonic() - self._checked_at < CHECKPOINT_INTERVAL:
            return
        try:
            state = get_store().claimed_state(self._claim)
        except DatabaseUnavailable:
            return  # cannot tell: go on and ask again at the next checkpoint
        self._checked_at = time.monotonic()
        if state != State.RUNNING:
            raise JobInterrupted(state)

    def perform_now(self) -> None:
        """Runs the job here and now, without a worker; its exceptions propagate.

        A saved job goes through its states in the database (it must be queued); an
        unsaved one only in memory.
        """
        from rocketjob.execution import perform_inline

        perform_inline(self)

    # -- operator actions ---------------------------------------------------------------

    @property
    def actions(self) -> list[Action]:
        """The operator actions the job's current state allows."""
        return allowed_actions(self._facts())

    @property
    def is_batch(self) -> bool:
        """Whether the database holds this job as a batch job (with slices), whether or
        not its class is imported in this process."""
        return self.sub_state is not None

    def _facts(self) -> JobFacts:
        cls = type(self)
        # Past before_batch, a paused or failed batch job goes on where it stopped.
        processing = self.sub_state is SubState.PROCESSING
        return JobFacts(
            state=self.state,
            batch=self.is_batch,
            pausable=cls.pausable,
            started=processing if self.is_batch else self.started_at is not None,
            scheduled=self.run_at is not None,
            work_done=processing,
        )

    def retry(self, *, by: str | None = None) -> Self:
        return self._act(Action.RETRY, by)

    def pause(self, *, by: str | None = None) -> Self:
        return self._act(Action.PAUSE, by)

    def resume(self, *, by: str | None = None) -> Self:
        return self._act(Action.RESUME, by)

    def fail(self, reason: str | None = None, *, by: str | None = None) -> Self:
        return self._act(Action.FAIL, by, reason)

    def abort(self, *, by: str | None = None) -> Self:
        return self._act(Action.ABORT, by)

    def run_now(self, *, by: str | None = None) -> Self:
        return self._act(Action.RUN_NOW, by)

    def destroy(self, *, by: str | None = None) -> None:
        self._act(Action.DESTROY, by)

    def _act(self, action: Action, by: str | None, reason: str | None = None) -> Self:
        store = get_store()
        actor = by or default_actor()
        for _ in range(RACE_RETRIES):
            self.reload()
            step = transition(action, self._facts())
            if action is Action.DESTROY:
                if store.delete_job(self._saved_id(), self._version):
                    return self
                continue
            # The job's change and what it entails (a batch job's slices) commit together.
            try:
                with store.transaction():
                    row = store.apply_change(self._change(step, actor, reason, store.now()))
                    if row is not None:
                        self._applied(step, store)
            except SlotTaken:
                raise InvalidTransition(self._slot_taken(action)) from None
            if row is not None:
                self._load(row)
                return self
        raise RocketJobError(f"job {self.id} kept changing; {action.value} gave up, try again")

    def _slot_taken(self, action: Action) -> str:
        holder = get_store().singleton_holder(self.singleton_slot or "")
        by = f"job #{holder['id']} ({holder['state']})" if holder else "another job"
        return (
            f"cannot {action.value} job #{self.id}: {by} holds its singleton slot "
            f"{self.singleton_slot!r}"
        )

    def _prepare(self, action: Action, by: str, now: datetime) -> tuple[Transition, JobChange]:
        """The change `action` makes to the job as read, for bulk actions that apply many
        at once; InvalidTransition if its state refuses it."""
        step = transition(action, self._facts())
        return step, self._change(step, by, None, now)

    # A retry of one failed slice of a batch job (BatchJob.retry_slice): its position.
    _only_slice: int | None = None

    def _applied(self, step: Transition, store: Store) -> None:
        """What else a transition changes, in its transaction: a batch job's slices."""
        if not self.is_batch:
            return
        job_id = self._saved_id()
        if step.action is Action.ABORT:
            store.drop_slices(job_id)
        elif step.action is Action.RETRY:
            if store.requeue_failed_slices(job_id, self._only_slice) == 0 and self._only_slice:
                raise InvalidTransition(f"slice {self._only_slice} of job {job_id} has not failed")
            store.restart_batch_run(job_id)
        elif step.action is Action.RESUME:
            store.restart_batch_run(job_id)

    def _change(self, step: Transition, by: str, reason: str | None, now: datetime) -> JobChange:
        change = plan_change(self, step, by=by, reason=reason, now=now)
        if self.is_batch and step.to_state is State.RUNNING:  # processing: no worker owns it
            change = dataclasses.replace(change, worker_name=None)
        return change


Job._fieldset = FieldSet(Job.class_name, {}, {name: getattr(Job, name) for name in SETTABLE})
_RESERVED = {
    name: f"would hide Job.{name}"
    for name in dir(Job)
    if not name.startswith("_") and name not in SETTABLE
}
_RESERVED["connection"] = "is create()'s own argument (the application's connection)"
_RESERVED["depends_on"] = "is create()'s own argument (the jobs to wait on)"
_RESERVED["on_conflict"] = "is create()'s own argument (a singleton slot held)"


def __getattr__(name: str) -> Any:
    # rocketjob.jobs.DirmonJob, loaded only by those who use it.
    if name == "DirmonJob":
        from rocketjob.dirmon.job import DirmonJob

        return DirmonJob
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
