"""PostgreSQL wake-ups: a subscriber hears every notice sent once subscribe() returned."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from pg import PostgresServer
from sample_jobs import Kept

import rocketjob as rj
from rocketjob.store import open_store
from rocketjob.store import postgres as postgres_store
from rocketjob.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_store(postgres: PostgresServer) -> Iterator[PostgresStore]:
    url = postgres.fresh_database()
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    rj.configure(store=store)
    yield store
    rj.configure(None)
    store.close()
    postgres.drop(url)


def enqueue_right_after_subscribing(store: PostgresStore) -> bool:
    """Whether the notice of a job enqueued as soon as subscribe() returned was heard."""
    heard = threading.Event()
    subscription = store.subscribe(lambda channel, payload: channel == "jobs" and heard.set())
    try:
        Kept.create()
        return heard.wait(5)
    finally:
        subscription.close()


def test_a_job_enqueued_right_after_subscribing_is_heard_every_time(
    pg_store: PostgresStore,
) -> None:
    Kept.create()  # the store's own connection is warm: enqueueing is as fast as it gets
    assert all(enqueue_right_after_subscribing(pg_store) for _ in range(5))


def test_subscribing_to_a_database_that_is_down_returns_and_polling_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postgres_store, "LISTEN_WAIT", 0.5)
    started = time.monotonic()
    subscription = postgres_store.Listener(
        "postgresql://nobody@127.0.0.1:9/none", lambda channel, payload: None
    )
    try:
        assert time.monotonic() - started < 3
    finally:
        subscription.close()
