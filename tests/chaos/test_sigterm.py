"""SIGTERM to every worker under load: each stops within its stop timeout and exits 0, its
running jobs finished or handed back, nothing lost and nothing else run twice."""

from __future__ import annotations

import signal
import time

import pytest
from chaos_jobs import Tracked
from fleet import Fleet
from processes import wait_until

import rocketjob as rj
from chaos.accounting import Disruption, account_jobs, held_jobs
from chaos.case import Figures, Target
from chaos.disrupt import REAPING, completed, wait_completed

pytestmark = pytest.mark.chaos

STOP_TIMEOUT = 1.5


def test_sigterm_under_load_stops_every_worker_in_time_handing_back_what_it_could_not_finish(
    target: Target, fleet: Fleet, figures: Figures, scale: float
) -> None:
    # Jobs longer than the stop timeout come first: they are running when SIGTERM comes.
    long = Tracked.create_many([{"seconds": 4.0}] * 3)
    short = Tracked.create_many([{"seconds": 0.05}] * int(600 * scale))
    options = ("--threads", "4", "--stop-timeout", str(STOP_TIMEOUT), *REAPING)
    workers = [fleet.start(*options) for _ in range(3)]
    fleet.wait_registered(workers)
    # SIGTERM while the long jobs provably run, and the short ones stream through
    wait_until(
        lambda: target.ledger.count("start") >= len(long) + 100 and completed() >= 100,
        timeout=60 * scale,
        message="the long jobs running among short ones",
    )
    held = {worker.pid: held_jobs(worker.name) for worker in workers}
    for worker in workers:
        worker.signal(signal.SIGTERM)
    stopped = []
    for worker in workers:
        code = worker.wait(timeout=STOP_TIMEOUT + 10)
        assert code == 0, worker.output()
        assert not held_jobs(worker.name), f"{worker} left jobs running"
        at = time.monotonic()
        stopped.append(Disruption("stopped", worker.pid, worker.name, at, held[worker.pid]))
    assert rj.list_workers() == []
    handed_back = sum(
        1
        for job_id in long
        if rj.Job.find(job_id).history()[-1].message == "worker stopped before the job finished"
    )
    fresh = [fleet.start(*options) for _ in range(2)]
    fleet.wait_registered(fresh)
    wait_completed(len(long) + len(short), timeout=60 * scale, message="every job completed")
    accounts = account_jobs(target.url, [*long, *short], target.ledger.entries(), stopped)
    figures.take(accounts)
    figures.extra["handed_back_running"] = handed_back
    accounts.assert_clean()
    # Only jobs running past the stop timeout ran again.
    assert set(accounts.explained) <= set(long)
    assert handed_back == len(long)
