"""The jobs pages say so when queued work has no live worker to run it."""

from __future__ import annotations

from sample_jobs import Noop
from starlette.testclient import TestClient

from rocketjob.store import Store


def banner(client: TestClient) -> str:
    page = client.get("/jobs?state=queued").text
    start = page.find('id="no-worker-banner"')
    return page[start : page.find("</p>", start)] if start >= 0 else ""


def test_a_banner_links_to_workers_while_no_live_worker_runs_queued_jobs(
    store: Store, client: TestClient
) -> None:
    assert banner(client) == ""  # nothing queued: nothing to say
    Noop.create()
    assert "no worker is alive" in banner(client) and 'href="/workers"' in banner(client)
    store.register_worker("w-1", "h", 1, 2)
    store.heartbeat("w-1", "paused")
    assert "all workers are paused" in banner(client)
    store.heartbeat("w-1", "running")
    assert banner(client) == ""
