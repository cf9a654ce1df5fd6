"""pg_terminate_backend of every session of the web and the workers, again and again, while
an API client polls a real `rocketjob web`: no 5xx, the workers carry on, every job once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from chaos_jobs import Tracked
from fleet import Fleet
from private_postgres import free_port
from processes import start_rocketjob, wait_until

from chaos.accounting import account_jobs
from chaos.case import Figures, Target
from chaos.disrupt import REAPING, completed, wait_completed

pytestmark = pytest.mark.chaos

PATHS = ["/api/jobs/counts", "/api/jobs?state=running", "/api/workers", "/api/jobs?limit=20", "/"]
# The client's own bound: however the test goes, it stops polling after this long.
MAX_POLLING = 300.0


class Poller:
    """Polls Mission Control's API in a thread and counts the answers by status."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(10)

    def _poll(self) -> None:
        deadline = time.monotonic() + MAX_POLLING
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while not self._done.is_set() and time.monotonic() < deadline:
                for path in PATHS:
                    try:
                        response = client.get(path)
                    except httpx.HTTPError as error:
                        self.failures.append(f"GET {path}: {error!r}")
                        continue
                    self.statuses[response.status_code] += 1
                    if response.status_code >= 500:
                        self.failures.append(f"GET {path}: {response.status_code} {response.text}")

    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


@pytest.mark.postgres
@pytest.mark.parametrize("target", ["postgres"], indirect=True)
def test_severed_connections_cost_the_web_no_5xx_and_the_workers_nothing(
    target: Target, fleet: Fleet, figures: Figures, scale: float
) -> None:
    assert target.server is not None
    ids = Tracked.create_many([{"seconds": 0.05}] * int(300 * scale))
    port = free_port()
    web = start_rocketjob("web", "--port", str(port), database_url=target.url)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base), timeout=30, message="Mission Control answering")
        workers = [fleet.start("--threads", "4", *REAPING) for _ in range(2)]
        fleet.wait_registered(workers)
        severed = 0
        with Poller(base) as poller:
            for round_ in range(1, 9):
                wait_completed(round_ * len(ids) // 10, timeout=60 * scale)
                severed += target.server.terminate_sessions(target.database)
            wait_completed(len(ids), timeout=60 * scale, message="every job completed")
        assert web.poll() is None, web.output()
    finally:
        web.close()
    accounts = account_jobs(target.url, ids, target.ledger.entries(), [])
    figures.take(accounts)
    figures.extra.update(
        severed=severed, requests=sum(poller.statuses.values()), errors_5xx=poller.errors()
    )
    assert poller.failures == []
    accounts.assert_clean()
    for worker in workers:
        assert worker.poll() is None, worker.output()
    assert completed() == len(ids)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/jobs/counts", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
