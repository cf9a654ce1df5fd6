"""The job state machine: states, actions and the transition table. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rocketjob.errors import InvalidTransition


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    PAUSED = "paused"
    FAILED = "failed"
    ABORTED = "aborted"


class SubState(StrEnum):
    BEFORE = "before"
    PROCESSING = "processing"
    AFTER = "after"


class Action(StrEnum):
    START = "start"
    COMPLETE = "complete"
    FAIL = "fail"
    RETRY = "retry"
    PAUSE = "pause"
    RESUME = "resume"
    ABORT = "abort"
    RUN_NOW = "run_now"
    DESTROY = "destroy"
    REQUEUE = "requeue"


# What an operator may ask for, in the order buttons are shown.
OPERATOR_ACTIONS: tuple[Action, ...] = (
    Action.RETRY,
    Action.PAUSE,
    Action.RESUME,
    Action.RUN_NOW,
    Action.FAIL,
    Action.ABORT,
    Action.DESTROY,
)

# States the list pages show; `scheduled` is derived (queued with a future run_at).
LIST_STATES: tuple[str, ...] = (
    "running",
    "scheduled",
    "queued",
    "paused",
    "failed",
    "aborted",
    "completed",
)


@dataclass(frozen=True)
class JobFacts:
    """The facts about a job that the transition table looks at."""

    state: State
    batch: bool = False
    pausable: bool = False
    started: bool = False
    scheduled: bool = False  # has a run_at (past or future)
    work_done: bool = False  # a batch job with processed slices


@dataclass(frozen=True)
class Transition:
    action: Action
    from_state: State
    to_state: State
    sub_state: SubState | None = None


_FAIL_FROM = frozenset({State.QUEUED, State.RUNNING, State.PAUSED})
_ABORT_FROM = frozenset({State.QUEUED, State.RUNNING, State.PAUSED, State.FAILED})


def transition(action: Action, facts: JobFacts) -> Transition:
    """The transition `action` makes from `facts.state`, or InvalidTransition."""
    state = facts.state
    to: State | None = None
    sub: SubState | None = None
    if action is Action.START and state is State.QUEUED:
        to = State.RUNNING
    elif action is Action.COMPLETE and state is State.RUNNING:
        to = State.COMPLETED
    elif action is Action.FAIL and state in _FAIL_FROM:
        to = State.FAILED
    elif action is Action.RETRY and state is State.FAILED:
        if facts.batch and facts.work_done:
            to, sub = State.RUNNING, SubState.PROCESSING
        else:
            to = State.QUEUED
    elif action is Action.PAUSE and state is State.QUEUED:
        to = State.PAUSED
    elif action is Action.PAUSE and state is State.RUNNING:
        if not (facts.batch or facts.pausable):
            raise InvalidTransition("cannot pause a running job of a class that is not pausable")
        to = State.PAUSED
    elif action is Action.RESUME and state is State.PAUSED:
        to = State.RUNNING if facts.batch and facts.started else State.QUEUED
    elif action is Action.ABORT and state in _ABORT_FROM:
        to = State.ABORTED
    elif action is Action.RUN_NOW and state is State.QUEUED:
        if not facts.scheduled:
            raise InvalidTransition("cannot run now a queued job that is not scheduled")
        to = State.QUEUED
    elif action is Action.DESTROY and state is not State.RUNNING:
        to = state
    elif action is Action.REQUEUE and state is State.RUNNING:
        to = State.QUEUED
    if to is None:
        raise InvalidTransition(refusal(action, state))
    return Transition(action, state, to, sub)


def refusal(action: Action, state: State) -> str:
    """The readable reason an action is refused in a state."""
    verb = "run now" if action is Action.RUN_NOW else action.value
    article = "an" if state.value[0] in "aeiou" else "a"
    return f"cannot {verb} {article} {state.value} job"


def allowed_actions(facts: JobFacts) -> list[Action]:
    """The operator actions the state table allows, in display order."""
    allowed = []
    for action in OPERATOR_ACTIONS:
        try:
            transition(action, facts)
        except InvalidTransition:
            continue
        allowed.append(action)
    return allowed


def is_scheduled(state: State, run_at: datetime | None, now: datetime) -> bool:
    return state is State.QUEUED and run_at is not None and run_at > now


def list_state(state: State, run_at: datetime | None, now: datetime) -> str:
    """The state as the lists show it: `scheduled` for queued jobs waiting for run_at."""
    return "scheduled" if is_scheduled(state, run_at, now) else state.value


def duration(
    state: State,
    *,
    now: datetime,
    created_at: datetime,
    started_at: datetime | None,
    completed_at: datetime | None,
    run_at: datetime | None = None,
) -> timedelta:
    """How long the job has been in the state that matters for it.

    queued: time waiting; scheduled: time left until run_at; running: time processing;
    completed: time it took; failed/aborted/paused: time it ran until it stopped
    (zero when it never started). `completed_at` is when it stopped.
    """
    if is_scheduled(state, run_at, now):
        assert run_at is not None
        return run_at - now
    if state is State.QUEUED:
        return now - created_at
    if state is State.RUNNING:
        return now - (started_at or created_at)
    if started_at is None:
        return timedelta(0)
    return (completed_at or now) - started_at
