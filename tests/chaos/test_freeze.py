"""SIGSTOP of a worker for longer than the zombie timeout: the others requeue and re-run what
it held; thawed, it starts none of the jobs it lost and none of its writes land."""

from __future__ import annotations

import signal

import pytest
from chaos_jobs import Tracked
from fleet import Fleet, WorkerProcess
from processes import wait_until

from chaos.accounting import Disruption, account_jobs, held_jobs
from chaos.case import Figures, Target
from chaos.disrupt import REAPING, completed, freeze, thaw, wait_completed

pytestmark = pytest.mark.chaos


def running_here(target: Target, worker: WorkerProcess, among: set[int]) -> int:
    """How many of `among` the worker has started and not finished."""
    started: dict[int, int] = {}
    for entry in target.ledger.entries():
        if entry.pid == worker.pid and entry.job_id in among:
            started[entry.job_id] = started.get(entry.job_id, 0) + (entry.event == "start")
            started[entry.job_id] -= entry.event == "end"
    return sum(started.values())


def rejoin_and_drain(fleet: Fleet, thawed: WorkerProcess, rescuers: list[WorkerProcess]) -> None:
    """Stops the rescuers, then has the thawed worker alone run new jobs: its threads take
    work first-in first-out, so by then it has dealt with everything it held when frozen."""
    for rescuer in rescuers:
        rescuer.signal(signal.SIGTERM)
    for rescuer in rescuers:
        assert rescuer.wait(30) == 0, rescuer.output()
    fleet.wait_registered([thawed])
    before = completed()
    Tracked.create_many([{"seconds": 0.01}] * 20)
    wait_completed(before + 20, timeout=30, message="the thawed worker runs new jobs")


def test_a_frozen_worker_holding_running_and_claimed_ahead_jobs_is_fenced_when_thawed(
    target: Target, fleet: Fleet, figures: Figures, scale: float
) -> None:
    # Fast jobs first: the worker then claims far ahead, slow jobs among them.
    fast = Tracked.create_many([{}] * int(300 * scale))
    slow = Tracked.create_many([{"seconds": 0.5}] * int(24 * scale))
    victim = fleet.start("--threads", "2", *REAPING)
    fleet.wait_registered([victim])
    wait_until(
        lambda: running_here(target, victim, set(slow)) >= 1 and len(held_jobs(victim.name)) > 2,
        timeout=30,
        message="slow jobs running and more claimed ahead",
    )
    frozen = freeze(victim, target.url, target.ledger.url)
    running = running_here(target, victim, set(slow))
    rescuers = [fleet.start("--threads", "4", *REAPING) for _ in range(2)]
    wait_completed(len(fast) + len(slow), timeout=60 * scale, message="the rescuers ran it all")
    thawed = thaw(victim, frozen)
    rejoin_and_drain(fleet, victim, rescuers)
    ids = [*fast, *slow]
    accounts = account_jobs(target.url, ids, target.ledger.entries(), [thawed])
    figures.take(accounts)
    figures.extra.update(held_when_frozen=len(frozen.held), running_when_frozen=running)
    accounts.assert_clean()
    assert "declared dead" in victim.output()


def offering(target: Target, worker: str) -> bool:
    assert target.server is not None
    rows = target.server.execute(
        f"SELECT handoff_slots FROM rocketjob_workers WHERE name = '{worker}'", target.database
    )
    return bool(rows and int(rows[0][0]) > 0)  # type: ignore[call-overload]


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["postgres"], indirect=True)
def test_a_worker_frozen_right_after_hand_offs_is_fenced_when_thawed(
    target: Target, fleet: Fleet, figures: Figures
) -> None:
    victim = fleet.start("--threads", "4", *REAPING)
    fleet.wait_registered([victim])
    wait_until(lambda: offering(target, victim.name), timeout=10, message="an offer of hand-offs")
    created = [Tracked.create(seconds=0.3) for _ in range(3)]
    frozen: Disruption = freeze(victim, target.url, target.ledger.url)
    handed = [job.id for job in created if job.worker_name == victim.name]
    assert handed, "no job was handed to the idle worker"
    rescuer = fleet.start("--threads", "4", *REAPING)
    wait_completed(len(created), timeout=60, message="the rescuer ran the handed jobs")
    thawed = thaw(victim, frozen)
    rejoin_and_drain(fleet, victim, [rescuer])
    ids = [job.id for job in created if job.id is not None]
    accounts = account_jobs(target.url, ids, target.ledger.entries(), [thawed])
    figures.take(accounts)
    figures.extra.update(handed=len(handed), held_when_frozen=len(frozen.held))
    accounts.assert_clean()
