"""The database gone for longer than the zombie timeout, under workers running long-ish jobs
(PostgreSQL, on the private server): nothing lost, nothing run twice, every worker carries on."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from chaos_jobs import Tracked
from fleet import Fleet
from private_postgres import PrivatePostgres

from chaos.accounting import account_jobs, job_histories
from chaos.case import Figures, Target
from chaos.disrupt import REAPING, ZOMBIE_TIMEOUT, completed, wait_completed

pytestmark = pytest.mark.chaos

OUTAGE = 2 * ZOMBIE_TIMEOUT


def restart(server: PrivatePostgres, database: str) -> None:
    server.stop("fast")
    time.sleep(OUTAGE)  # the outage itself: the server is down this long
    server.start()


def refuse_connections(server: PrivatePostgres, database: str) -> None:
    server.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
    until = time.monotonic() + OUTAGE
    try:
        while time.monotonic() < until:  # sessions that were connecting meanwhile, too
            server.terminate_sessions(database)
            time.sleep(0.2)
    finally:
        server.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["postgres"], indirect=True)
@pytest.mark.parametrize("outage", [restart, refuse_connections], ids=["restart", "refused"])
def test_workers_outlast_a_database_outage_longer_than_the_zombie_timeout(
    target: Target,
    fleet: Fleet,
    figures: Figures,
    scale: float,
    outage: Callable[[PrivatePostgres, str], None],
) -> None:
    assert target.server is not None
    ids = Tracked.create_many([{"seconds": 1.0, "steps": 4}] * int(48 * scale))
    workers = [fleet.start("--threads", "4", *REAPING) for _ in range(3)]
    fleet.wait_registered(workers)
    wait_completed(6, timeout=30)
    down = time.monotonic()
    outage(target.server, target.database)
    up = time.monotonic()
    wait_completed(len(ids), timeout=90 * scale, message="every job completed")
    # Afterwards every worker goes on taking jobs.
    more = Tracked.create_many([{"seconds": 0.3}] * 24)
    wait_completed(len(ids) + len(more), timeout=60, message="the jobs enqueued afterwards")
    entries = target.ledger.entries()
    accounts = account_jobs(target.url, [*ids, *more], entries, [])
    figures.take(accounts)
    requeued = sum(
        1
        for _, history in job_histories(target.url, ids).values()
        if any(entry["action"] == "requeue" for entry in history)
    )
    figures.extra.update(outage_s=round(up - down, 1), requeued=requeued)
    accounts.assert_clean()
    assert requeued == 0
    for worker in workers:
        assert worker.poll() is None, worker.output()
        assert any(e.pid == worker.pid and e.mono > up for e in entries), f"{worker} idle after"
    assert completed() == len(ids) + len(more)
