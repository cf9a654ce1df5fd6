"""The workers page: state, threads, heartbeat age, current jobs, per-worker buttons."""

from __future__ import annotations

import re
from datetime import timedelta

from sample_jobs import Slow
from starlette.testclient import TestClient
from webpages import text_of

import rocketjob as rj
from rocketjob.store import Store


def worker_buttons(html: str, name: str) -> list[str]:
    return re.findall(rf'aria-label="(\w+) worker {re.escape(name)}"', html)


def test_each_worker_with_its_state_threads_heartbeat_and_jobs(
    store: Store, client: TestClient
) -> None:
    start = store.now()
    store.clock = lambda: start
    store.register_worker("host-a:11", "host-a", 11, 4)
    store.heartbeat("host-a:11", "running")
    store.register_worker("host-b:22", "host-b", 22, 2)
    job = Slow.create(description="resize")
    store.claim_jobs("host-a:11", 1)
    rj.pause_workers("host-b:22")
    store.clock = lambda: start + timedelta(seconds=45)
    store.heartbeat("host-a:11", "running")

    html = client.get("/workers").text
    text = text_of(html)
    assert "host-a:11 running 1/4 busy" in text
    assert f"Slow #{job.id}" in text
    assert f'href="/jobs/{job.id}"' in html
    assert "host-b:22 starting → paused 0/2 busy" in text
    assert "45 s ago stale" in text  # host-b never beat again
    assert "0 ms ago" in text and "0 ms ago stale" not in text
    assert worker_buttons(html, "host-a:11") == ["Pause", "Stop"]
    assert worker_buttons(html, "host-b:22") == ["Resume", "Stop"]
    for label in ("Pause All", "Resume All", "Stop All"):
        assert f">{label}</button>" in html


def test_no_worker_says_how_to_start_one(client: TestClient) -> None:
    text = text_of(client.get("/workers").text)
    assert "No worker is running. Start one with rocketjob worker --import myapp.jobs" in text


def test_the_workers_fragment_holds_only_the_table(store: Store, client: TestClient) -> None:
    store.register_worker("a:1", "a", 1, 4)
    html = client.get("/workers?fragment=1").text
    assert 'id="workers"' in html and "a:1" in html
    assert "Pause All" not in html


def test_a_worker_running_async_jobs_shows_its_async_slots(
    store: Store, client: TestClient
) -> None:
    store.register_worker("a:1", "a", 1, 4, async_slots=100)
    store.register_worker("b:2", "b", 2, 4)
    text = text_of(client.get("/workers").text)
    assert "0/104 busy (4 threads, 100 async slots)" in text
    assert "0/4 busy (" not in text  # a worker without async jobs: threads only
    listed = {w["name"]: w["async_slots"] for w in client.get("/api/workers").json()}
    assert listed == {"a:1": 100, "b:2": 0}
