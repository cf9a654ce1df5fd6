"""Why is a queued job waiting? Every reason that holds now, read from the same rules the
claim obeys: its state, run_at, prerequisites, processing window, throttle, the workers
alive and their class filters, and the due jobs the claim takes before it.

A few indexed reads per job (see store/waiting.py); the count of jobs ahead stops at a
cap, so the answer costs the same at a million queued jobs as at ten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rocketjob.behaviours.throttle import throttles_of
from rocketjob.states import State

if TYPE_CHECKING:
    from rocketjob.jobs import Job
    from rocketjob.store import Row, Store

CODES = (
    "scheduled",
    "paused",
    "retry_backoff",
    "throttled",
    "window",
    "dependencies",
    "singleton",
    "no_worker",
    "behind",
)
# The most due jobs ahead that are counted: past it, "10,000+".
BEHIND_CAP = 10_000


@dataclass(frozen=True)
class WaitReason:
    """One reason a job is not running: `code` (one of CODES), `message` in plain words,
    and the jobs and workers it names."""

    code: str
    message: str
    job_ids: list[int] = field(default_factory=list)
    worker_names: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "job_ids": list(self.job_ids),
            "worker_names": list(self.worker_names),
        }


def waiting_reasons(
    job: Job, store: Store, now: datetime, *, behind_cap: int = BEHIND_CAP
) -> list[WaitReason]:
    """Every reason `job` (queued or paused) is not running now; [] for other states."""
    if job.id is None:
        return []
    facts = store.wait_facts(job.id)
    if facts is None or facts["state"] not in (State.QUEUED.value, State.PAUSED.value):
        return []
    reasons: list[WaitReason] = []
    if facts["state"] == State.PAUSED.value:
        reasons.append(WaitReason("paused", "paused"))
    run_at: datetime | None = facts["run_at"]
    if run_at is not None and run_at > now:
        reasons.append(_scheduled(job, run_at - now))
    if int(facts["waiting_on"] or 0) > 0:
        holding = store.neighbours(job.id).holding
        words = ", ".join(n.in_words() for n in holding)
        reasons.append(WaitReason("dependencies", f"waits on {words}", [n.id for n in holding]))
    window = type(job).processing_window
    if window is not None and not window.is_open(max(now, run_at or now)):
        reasons.append(WaitReason("window", window.closed_message(now)))
    if facts["throttle"] is not None:
        reason = _throttled(job, facts["throttle"], store)
        if reason is not None:
            reasons.append(reason)
    worker = _no_worker(job.class_name, store)
    if worker is not None:
        reasons.append(worker)
    due = run_at is None or run_at <= now
    if facts["state"] == State.QUEUED.value and due and not facts["waiting_on"]:
        reason = _behind(store, facts, now, behind_cap)
        if reason is not None:
            reasons.append(reason)
    return reasons


def _scheduled(job: Job, wait: timedelta) -> WaitReason:
    if job.attempt > 0:
        limit = type(job).retry_limit
        message = (
            f"retrying after a failure (attempt {job.attempt + 1} of {limit + 1}) "
            f"in {in_words(wait)}"
        )
        return WaitReason("retry_backoff", message)
    return WaitReason("scheduled", f"scheduled in {in_words(wait)}")


def _throttled(job: Job, throttle: str, store: Store) -> WaitReason | None:
    # The limit the workers apply: the smallest of the group's classes imported here.
    from rocketjob.jobs import job_classes

    classes = [*job_classes(), type(job)]
    limits = [t.limit for t in throttles_of(classes, None, None) if t.name == throttle]
    if not limits:
        return None  # the class is not imported here: its limit is unknown
    limit = min(limits)
    running = store.running_in_throttle(throttle)
    if len(running) < limit:
        return None
    named = "jobs" if throttle == job.class_name else "jobs of throttle group"
    ids = ", ".join(f"#{i}" for i in running)
    verb = "is" if len(running) == 1 else "are"
    message = f"maximum of {limit} running {named} {throttle} reached: {ids} {verb} running"
    return WaitReason("throttled", message, running)


def takes(worker: Row, class_name: str) -> bool:
    """Whether a worker's --include / --exclude let it claim `class_name`."""
    include, exclude = worker["include_classes"], worker["exclude_classes"]
    if include is not None and not re.search(include, class_name):
        return False
    return exclude is None or not re.search(exclude, class_name)


def is_working(worker: Row) -> bool:
    """Whether a live worker claims jobs: not paused, not stopping, nor asked to."""
    return worker["state"] in ("starting", "running") and worker["desired_state"] in (
        None,
        "running",
    )


def _no_worker(class_name: str, store: Store) -> WaitReason | None:
    from rocketjob.worker.control import ZOMBIE_TIMEOUT

    alive = store.live_workers(ZOMBIE_TIMEOUT)
    if not alive:
        return WaitReason("no_worker", "no worker is alive")
    taking = [w for w in alive if takes(w, class_name)]
    if not taking:
        names = [str(w["name"]) for w in alive]
        return WaitReason(
            "no_worker", f"no live worker takes this class ({_filters(alive)})", [], names
        )
    if not any(is_working(w) for w in taking):
        names = [str(w["name"]) for w in taking]
        everyone = len(taking) == len(alive)
        message = (
            "all workers are paused" if everyone else "all workers that take this class are paused"
        )
        return WaitReason("no_worker", message, [], names)
    return None


def no_live_worker(store: Store) -> str | None:
    """Why no queued job can run anywhere, if so: "no worker is alive", "all workers are
    paused"; None while a live worker claims jobs."""
    from rocketjob.worker.control import ZOMBIE_TIMEOUT

    alive = store.live_workers(ZOMBIE_TIMEOUT)
    if not alive:
        return "no worker is alive"
    return None if any(is_working(w) for w in alive) else "all workers are paused"


def _filters(workers: list[Row]) -> str:
    """ "2 workers exclude it by --exclude 'Slow$'", grouped by filter."""
    groups: dict[str, int] = {}
    for w in workers:
        if w["include_classes"] is not None:
            key = f"--include {w['include_classes']!r}"
            verb = "include only other classes by"
        else:
            key = f"--exclude {w['exclude_classes']!r}"
            verb = "exclude it by"
        groups[f"{verb} {key}"] = groups.get(f"{verb} {key}", 0) + 1
    parts = []
    for words, count in groups.items():
        noun = "worker" if count == 1 else "workers"
        words = words.replace("exclude it", "excludes it") if count == 1 else words
        words = words.replace("include only", "includes only") if count == 1 else words
        parts.append(f"{count} {noun} {words}")
    return "; ".join(parts)


def _behind(store: Store, facts: Row, now: datetime, cap: int) -> WaitReason | None:
    ahead = store.count_ahead(facts, now, cap)
    if ahead == 0:
        return None
    count = f"{cap:,}+" if ahead >= cap else f"{ahead:,}"
    noun = "job" if ahead == 1 else "jobs"
    return WaitReason("behind", f"behind {count} due {noun} of higher or equal priority")


def in_words(span: timedelta) -> str:
    """ "4 min", "1 min 21 s", "2 h 5 min", "3 d 4 h": the two largest units."""
    seconds = max(0, int(span.total_seconds() + 0.5))
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    parts: list[str] = []
    for name, size in units:
        amount, seconds = divmod(seconds, size)
        if amount or parts:
            parts.append(f"{amount} {name}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0 ")] or ["0 s"]
    return " ".join(parts)
