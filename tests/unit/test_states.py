from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocketjob.errors import InvalidTransition
from rocketjob.states import (
    OPERATOR_ACTIONS,
    Action,
    JobFacts,
    State,
    SubState,
    allowed_actions,
    duration,
    list_state,
    transition,
)

Q, R, C, P, F, A = (
    State.QUEUED,
    State.RUNNING,
    State.COMPLETED,
    State.PAUSED,
    State.FAILED,
    State.ABORTED,
)


def expected(action: Action, facts: JobFacts) -> tuple[State, SubState | None] | None:
    """DESIGN §4, written out independently of the implementation: None = refused."""
    s = facts.state
    table: dict[Action, dict[State, tuple[State, SubState | None]]] = {
        Action.START: {Q: (R, None)},
        Action.COMPLETE: {R: (C, None)},
        Action.FAIL: {Q: (F, None), R: (F, None), P: (F, None)},
        Action.RETRY: {
            F: (R, SubState.PROCESSING) if facts.batch and facts.work_done else (Q, None)
        },
        Action.PAUSE: {Q: (P, None), **({R: (P, None)} if facts.batch or facts.pausable else {})},
        Action.RESUME: {P: (R, None) if facts.batch and facts.started else (Q, None)},
        Action.ABORT: {Q: (A, None), R: (A, None), P: (A, None), F: (A, None)},
        Action.RUN_NOW: {Q: (Q, None)} if facts.scheduled else {},
        Action.DESTROY: {state: (state, None) for state in State if state is not R},
        Action.REQUEUE: {R: (Q, None)},
    }
    return table[action].get(s)


ALL_FACTS = [
    JobFacts(state, batch, pausable, started, scheduled, work_done)
    for state, batch, pausable, started, scheduled, work_done in itertools.product(
        State, *([[False, True]] * 5)
    )
]


@pytest.mark.parametrize("action", list(Action))
def test_every_state_and_action_follows_the_table(action: Action) -> None:
    for facts in ALL_FACTS:
        want = expected(action, facts)
        if want is None:
            with pytest.raises(InvalidTransition):
                transition(action, facts)
        else:
            step = transition(action, facts)
            assert (step.to_state, step.sub_state) == want, (action, facts)
            assert step.from_state is facts.state


@pytest.mark.parametrize(
    ("action", "state", "message"),
    [
        (Action.RETRY, C, "cannot retry a completed job"),
        (Action.PAUSE, F, "cannot pause a failed job"),
        (Action.RESUME, Q, "cannot resume a queued job"),
        (Action.ABORT, A, "cannot abort an aborted job"),
        (Action.DESTROY, R, "cannot destroy a running job"),
        (Action.RUN_NOW, R, "cannot run now a running job"),
        (Action.FAIL, C, "cannot fail a completed job"),
    ],
)
def test_refusals_read_like_sentences(action: Action, state: State, message: str) -> None:
    with pytest.raises(InvalidTransition) as refused:
        transition(action, JobFacts(state))
    assert str(refused.value) == message


def test_pausing_a_running_job_needs_a_pausable_class() -> None:
    with pytest.raises(InvalidTransition, match="not pausable"):
        transition(Action.PAUSE, JobFacts(R))
    assert transition(Action.PAUSE, JobFacts(R, pausable=True)).to_state is P


def test_run_now_needs_a_scheduled_job() -> None:
    with pytest.raises(InvalidTransition, match="not scheduled"):
        transition(Action.RUN_NOW, JobFacts(Q))


def test_allowed_actions_are_the_buttons_in_display_order() -> None:
    assert allowed_actions(JobFacts(F)) == [Action.RETRY, Action.ABORT, Action.DESTROY]
    assert allowed_actions(JobFacts(Q, scheduled=True)) == [
        Action.PAUSE,
        Action.RUN_NOW,
        Action.FAIL,
        Action.ABORT,
        Action.DESTROY,
    ]
    assert allowed_actions(JobFacts(R)) == [Action.FAIL, Action.ABORT]
    assert allowed_actions(JobFacts(R, pausable=True)) == [Action.PAUSE, Action.FAIL, Action.ABORT]
    assert allowed_actions(JobFacts(C)) == [Action.DESTROY]
    assert allowed_actions(JobFacts(P)) == [
        Action.RESUME,
        Action.FAIL,
        Action.ABORT,
        Action.DESTROY,
    ]


@pytest.mark.parametrize("facts", ALL_FACTS)
def test_allowed_actions_are_exactly_the_operator_actions_the_table_allows(
    facts: JobFacts,
) -> None:
    for action in OPERATOR_ACTIONS:
        assert (action in allowed_actions(facts)) == (expected(action, facts) is not None)


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T = timedelta


@pytest.mark.parametrize(
    ("state", "times", "want"),
    [
        (Q, {"created_at": NOW - T(minutes=5)}, T(minutes=5)),
        (Q, {"created_at": NOW - T(minutes=5), "run_at": NOW + T(hours=1)}, T(hours=1)),
        (Q, {"created_at": NOW - T(minutes=5), "run_at": NOW - T(minutes=1)}, T(minutes=5)),
        (R, {"created_at": NOW - T(hours=1), "started_at": NOW - T(seconds=30)}, T(seconds=30)),
        (
            C,
            {
                "created_at": NOW - T(hours=1),
                "started_at": NOW - T(minutes=10),
                "completed_at": NOW - T(minutes=7),
            },
            T(minutes=3),
        ),
        (
            F,
            {
                "created_at": NOW - T(hours=1),
                "started_at": NOW - T(minutes=10),
                "completed_at": NOW - T(minutes=9),
            },
            T(minutes=1),
        ),
        (A, {"created_at": NOW - T(hours=1), "completed_at": NOW - T(minutes=9)}, T(0)),
        (
            P,
            {
                "created_at": NOW - T(hours=1),
                "started_at": NOW - T(minutes=10),
                "completed_at": NOW - T(minutes=4),
            },
            T(minutes=6),
        ),
    ],
)
def test_durations_mean_what_the_state_needs(
    state: State, times: dict[str, datetime], want: timedelta
) -> None:
    values = {"started_at": None, "completed_at": None, "run_at": None, **times}
    assert duration(state, now=NOW, **values) == want


@given(
    st.sampled_from(list(State)),
    st.one_of(st.none(), st.integers(-3600, 3600).map(lambda s: NOW + T(seconds=s))),
)
def test_only_queued_jobs_with_a_future_run_at_are_scheduled(
    state: State, run_at: datetime | None
) -> None:
    shown = list_state(state, run_at, NOW)
    if state is Q and run_at is not None and run_at > NOW:
        assert shown == "scheduled"
    else:
        assert shown == state.value
