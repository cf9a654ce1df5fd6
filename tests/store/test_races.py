"""Racing operators and workers can never produce a state the table forbids."""

from __future__ import annotations

import random
import threading

from sample_jobs import Kept, Slow

import rocketjob as rj
from rocketjob.execution import load_claimed
from rocketjob.states import Action, JobFacts, State, transition
from rocketjob.store import Finished, Store

OPERATOR = [Action.PAUSE, Action.RESUME, Action.RETRY, Action.FAIL, Action.ABORT]


def run_threads(targets: list[threading.Thread]) -> None:
    for thread in targets:
        thread.start()
    for thread in targets:
        thread.join(timeout=60)
        assert not thread.is_alive()


def assert_history_is_a_legal_chain(job: rj.Job, pausable: bool = False) -> None:
    entries = job.history()
    state = State.QUEUED
    for entry in entries:
        assert entry.from_state == state.value, entries
        step = transition(
            Action(entry.action),
            JobFacts(state, pausable=pausable, started=True, scheduled=False),
        )
        assert step.to_state.value == entry.to_state, entry
        state = step.to_state
    assert job.reload().state is state


def test_operators_racing_on_one_job_leave_a_legal_history(store: Store) -> None:
    job = Kept.create()
    refused: list[str] = []
    errors: list[BaseException] = []

    def operator(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(40):
            action = rng.choice(OPERATOR)
            try:
                getattr(rj.Job.find(job.id), action.value)()  # type: ignore[arg-type]
            except rj.InvalidTransition as error:
                refused.append(str(error))
            except BaseException as error:
                errors.append(error)

    run_threads([threading.Thread(target=operator, args=(seed,)) for seed in range(4)])
    assert errors == []
    assert refused, "some actions must have been refused"
    assert len(job.history()) + len(refused) == 160
    assert_history_is_a_legal_chain(job)


def test_an_operator_and_a_worker_racing_agree_on_one_outcome(store: Store) -> None:
    outcomes: list[tuple[str, str]] = []
    for _ in range(15):
        Slow.create()
        (row,) = store.claim_jobs("host:1", 1)
        job, held = load_claimed(row)
        seen: dict[str, str] = {}
        barrier = threading.Barrier(2)

        def operator(
            job_id: int = job.id,  # type: ignore[assignment]
            seen: dict[str, str] = seen,
            barrier: threading.Barrier = barrier,
        ) -> None:
            barrier.wait()
            try:
                rj.Job.find(job_id).abort(by="user:ada")
                seen["operator"] = "aborted"
            except rj.InvalidTransition:
                seen["operator"] = "refused"

        def worker(held: object = held, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            store.finish_jobs([Finished(held, keep=True)], "host:1")  # type: ignore[list-item]

        run_threads([threading.Thread(target=operator), threading.Thread(target=worker)])
        final = job.reload().state
        assert (final, seen["operator"]) in {
            (State.ABORTED, "aborted"),
            (State.COMPLETED, "refused"),
        }
        assert_history_is_a_legal_chain(job, pausable=True)
        outcomes.append((final.value, seen["operator"]))
    assert outcomes
