"""PostgreSQL sessions terminated under the store (pg_terminate_backend, an administrator,
a failover): the next call goes through on a live connection instead of failing."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from pg import PostgresServer
from sample_jobs import Kept

import rocketjob as rj
from rocketjob.store import Store, open_store

pytestmark = pytest.mark.postgres


def terminate_sessions(database_url: str) -> int:
    name = database_url.rpartition("/")[2]
    with psycopg.connect(PostgresServer.admin_url(), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


@pytest.fixture
def pooled(database_url: str) -> Iterator[Store]:
    if not database_url.startswith("postgresql"):
        pytest.skip("pooled server sessions are PostgreSQL's")
    store = open_store(database_url, pool_size=4)
    rj.configure(store=store)
    yield store
    rj.configure(None)
    store.close()


def test_reads_writes_and_transactions_survive_every_session_being_terminated(
    pooled: Store, database_url: str
) -> None:
    job = Kept.create()
    for _ in range(3):
        # Fill the pool with idle connections, every one of which then dies.
        with pooled.transaction():
            rj.Job.counts()
        assert terminate_sessions(database_url) >= 1
        assert rj.Job.find(job.id).state is rj.State.QUEUED  # type: ignore[arg-type]
        assert terminate_sessions(database_url) >= 1
        job.pause()  # a transaction
        assert terminate_sessions(database_url) >= 1
        job.resume()
    assert [entry.action for entry in job.history()] == ["pause", "resume"] * 3
