"""kill -9 of random workers while they drain jobs and process a batch: nothing is lost, and
only what a killed worker held runs again."""

from __future__ import annotations

import random

import pytest
from chaos_jobs import Tracked, TrackedBatch
from fleet import Fleet
from processes import wait_until

import rocketjob as rj
from chaos.accounting import account_jobs, account_records
from chaos.case import Figures, Target
from chaos.disrupt import REAPING, completed, kill, wait_completed

pytestmark = pytest.mark.chaos

THREADS = ("--threads", "4")


def test_workers_killed_mid_drain_lose_nothing_and_rerun_only_what_they_held(
    target: Target, fleet: Fleet, figures: Figures, scale: float
) -> None:
    jobs = int(1500 * scale)
    kills = max(3, int(3 * scale**0.5))
    ids = Tracked.create_many([{"seconds": 0.01}] * jobs)
    workers = [fleet.start(*THREADS, *REAPING) for _ in range(3)]
    fleet.wait_registered(workers)
    chance = random.Random(jobs)
    killed = []
    for round_ in range(1, kills + 1):
        wait_completed(round_ * jobs // (kills + 2), timeout=60 * scale)
        victim = chance.choice([w for w in fleet.alive() if w in workers])
        killed.append(kill(victim))
        workers.remove(victim)
        workers.append(fleet.start(*THREADS, *REAPING))  # its replacement
    wait_completed(jobs, timeout=60 * scale, message="every job completed")
    accounts = account_jobs(target.url, ids, target.ledger.entries(), killed)
    figures.take(accounts)
    figures.extra["kills"] = len(killed)
    figures.extra["held_at_kill"] = sum(len(k.held) for k in killed)
    accounts.assert_clean()
    assert completed() == jobs


def test_workers_killed_mid_batch_leave_every_record_once_in_order(
    target: Target, fleet: Fleet, figures: Figures, scale: float
) -> None:
    records = int(3000 * scale)
    kills = max(3, int(3 * scale**0.5))
    job = TrackedBatch.create(seconds=0.0005)
    workers = [fleet.start("--threads", "3", *REAPING) for _ in range(3)]
    fleet.wait_registered(workers)
    job.upload([str(n) for n in range(records)])
    chance = random.Random(records)
    killed = []
    for round_ in range(1, kills + 1):
        target.ledger.wait_count("record", round_ * records // (kills + 2), timeout=60 * scale)
        victim = chance.choice([w for w in fleet.alive() if w in workers])
        killed.append(kill(victim, target.url, records=True))
        workers.remove(victim)
        workers.append(fleet.start("--threads", "3", *REAPING))
    wait_until(
        lambda: job.reload().state is rj.State.COMPLETED, 90 * scale, "the batch job completed"
    )
    accounts = account_records(records, target.ledger.entries(), killed)
    figures.take(accounts)
    figures.unit = "records"
    figures.extra["kills"] = len(killed)
    figures.extra["records_held_at_kill"] = sum(len(k.held) for k in killed)
    accounts.assert_clean()
    assert list(job.output()) == [str(n) for n in range(records)]
