"""What the pages show of jobs and workers: pure formatting, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python

from rocketjob.jobs import Job
from rocketjob.states import Action, State, duration, list_state
from rocketjob.worker.control import WorkerInfo

# The lists in the order the sidebar shows them, with the text of their empty state.
LISTS: tuple[tuple[str | None, str, str], ...] = (
    (None, "All", "No jobs yet. Jobs appear here as soon as your code enqueues them."),
    ("running", "Running", "No job is running. Jobs a worker has claimed appear here."),
    ("scheduled", "Scheduled", "Nothing scheduled. Jobs created with a future run_at wait here."),
    ("queued", "Queued", "The queue is empty. Jobs waiting for a free worker appear here."),
    ("paused", "Paused", "No paused jobs. Jobs an operator paused wait here to be resumed."),
    ("failed", "Failed", "No failed jobs. Jobs that raised an exception appear here."),
    ("aborted", "Aborted", "No aborted jobs. Jobs an operator aborted end up here."),
    (
        "completed",
        "Completed",
        "No completed jobs kept. Jobs with destroy_on_complete = False stay here once done.",
    ),
)
LIST_NAMES: dict[str | None, str] = {state: label for state, label, _ in LISTS}
EMPTY_TEXT: dict[str | None, str] = {state: text for state, _, text in LISTS}

ACTION_LABELS: dict[Action, str] = {
    Action.RETRY: "Retry",
    Action.PAUSE: "Pause",
    Action.RESUME: "Resume",
    Action.RUN_NOW: "Run now",
    Action.FAIL: "Fail",
    Action.ABORT: "Abort",
    Action.DESTROY: "Destroy",
}
# Past tense, for the flash message after the action.
ACTION_DONE: dict[Action, str] = {
    Action.RETRY: "Retried",
    Action.PAUSE: "Paused",
    Action.RESUME: "Resumed",
    Action.RUN_NOW: "Started early",
    Action.FAIL: "Failed",
    Action.ABORT: "Aborted",
    Action.DESTROY: "Destroyed",
}
WORKER_ACTION_LABELS: dict[str, str] = {"pause": "Pause", "resume": "Resume", "stop": "Stop"}


def format_duration(span: timedelta) -> str:
    """A short human duration: 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min, 3 d 4 h."""
    seconds = max(span.total_seconds(), 0.0)
    if seconds < 1:
        return f"{int(seconds * 1000)} ms"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def relative_time(at: datetime, now: datetime) -> str:
    """ "3 min ago" or "in 5 min"; "just now" within a second."""
    delta = now - at
    if abs(delta.total_seconds()) < 1:
        return "just now"
    if delta.total_seconds() > 0:
        return f"{_coarse(delta)} ago"
    return f"in {_coarse(-delta)}"


def _coarse(span: timedelta) -> str:
    # Relative times need one unit, not the precision of a duration.
    seconds = int(span.total_seconds())
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def exact_utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def compact_count(n: int) -> str:
    """1234 → "1,234"; 1234567 → "1.2M": short enough for the sidebar."""
    if n < 100_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n // 1000:,}k"
    return f"{n / 1_000_000:.1f}M"


def job_duration(job: Job, now: datetime) -> timedelta:
    """How long the job has been in the state that matters for it (DESIGN §4)."""
    assert job.created_at is not None
    return duration(
        job.state,
        now=now,
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
        run_at=job.run_at,
    )


def duration_text(job: Job, now: datetime) -> str:
    """The duration in words that say what it means for the job's list state."""
    text = format_duration(job_duration(job, now))
    shown = list_state(job.state, job.run_at, now)
    if shown == "scheduled":
        return f"runs in {text}"
    if shown == "queued":
        return f"waiting {text}"
    if shown == "running":
        return f"running {text}"
    if shown == "completed":
        return f"took {text}"
    if job.started_at is None:
        return "never ran"
    return f"ran {text}"


def retry_text(job: Job, now: datetime) -> str | None:
    """Where a job stands with its automatic retries: "retry 2 of 5, next in 1 min 21 s";
    None when its class retries nothing and it was never retried."""
    limit = type(job).retry_limit
    if not (limit or job.attempt):
        return None
    used = f"retry {job.attempt} of {limit}"
    wait = job.run_at - now if job.run_at is not None and job.run_at > now else None
    if job.state is State.QUEUED and job.attempt:
        return f"{used}, next in {format_duration(wait)}" if wait else used
    if job.state is State.RUNNING and job.attempt:
        if wait:  # a batch job's failed slices, waiting for their retry
            return f"{used}: failed slices again in {format_duration(wait)}"
        return f"{used}, running"
    if job.state is State.FAILED and job.attempt >= limit:
        return f"failed after {job.attempt} retr{'y' if job.attempt == 1 else 'ies'}"
    if job.state is State.COMPLETED and job.attempt:
        return f"completed on retry {job.attempt}"
    return f"up to {limit} automatic retr{'y' if limit == 1 else 'ies'}"


def short_class(class_name: str) -> str:
    """The class without its module: "billing.jobs.SendInvoice" → "SendInvoice"."""
    return class_name.rpartition(".")[2] or class_name


def jsonable(value: Any) -> Any:
    """A field value as JSON would carry it (dates as ISO text, decimals as text)."""
    return to_jsonable_python(value, fallback=repr)


@dataclass(frozen=True)
class FieldView:
    name: str
    text: str
    nested: bool  # a list or mapping: shown as indented JSON


def field_views(fields: dict[str, Any]) -> list[FieldView]:
    """The job's own fields, readable: scalars as text, nested values as indented JSON."""
    views = []
    for name, value in fields.items():
        plain = jsonable(value)
        if isinstance(plain, dict | list):
            views.append(FieldView(name, json.dumps(plain, indent=2, ensure_ascii=False), True))
        elif plain is None:
            views.append(FieldView(name, "null", False))
        elif isinstance(plain, str):
            views.append(FieldView(name, plain, False))
        else:
            views.append(FieldView(name, json.dumps(plain), False))
    return views


@dataclass(frozen=True)
class WorkerView:
    info: WorkerInfo
    busy: int
    heartbeat_age: str
    stale: bool
    # The state shown: what it reports, and what it was asked to become if not there yet.
    state: str
    asked: str | None
    actions: tuple[str, ...]


def worker_view(info: WorkerInfo, now: datetime) -> WorkerView:
    asked = info.desired_state if info.desired_state != info.state else None
    return WorkerView(
        info=info,
        busy=len(info.jobs),
        heartbeat_age=format_duration(info.heartbeat_age(now)),
        stale=info.is_stale(now),
        state=info.state,
        asked=asked,
        actions=worker_actions(info),
    )


def worker_actions(info: WorkerInfo) -> tuple[str, ...]:
    """The buttons a worker gets: what would change something."""
    target = info.desired_state or info.state
    if target == "stopping":
        return ()
    if target == "paused":
        return ("resume", "stop")
    return ("pause", "stop")
