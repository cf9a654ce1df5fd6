"""Enqueue in the application's transaction: create(connection=conn) writes the job on the
application's own psycopg connection, so it exists, and workers run it, only once that
transaction commits."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg import PostgresServer
from processes import finish, wait_until
from psycopg import pq
from psycopg.rows import tuple_row
from psycopg.types.json import set_json_loads
from sample_jobs import Kept, Typed
from workers import running_worker, wait_for_worker

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.store import NewJob, open_store

pytestmark = pytest.mark.postgres

IDLE, INTRANS = pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS
# Polling is far slower than the tests' deadlines: only the notice sent at commit can
# start these jobs in time.
SLOW_POLL = ("--poll-interval", "30")
NO_JOBS = dict.fromkeys(
    ("running", "scheduled", "queued", "paused", "failed", "aborted", "completed", "all"), 0
)


@pytest.fixture
def database_url(postgres: PostgresServer) -> Iterator[str]:
    url = postgres.fresh_database()
    store = open_store(url)
    rj.configure(store=store)
    yield url
    rj.configure(None)
    postgres.drop(url)


def sql(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def exists(job_id: int) -> bool:
    try:
        rj.Job.find(job_id)
    except rj.JobNotFound:
        return False
    return True


def own_table(conn: psycopg.Connection[Any]) -> None:
    """The application's own table, committed, for its own work beside the jobs."""
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
    conn.commit()


def test_a_job_exists_once_the_transaction_commits_and_a_worker_runs_it(
    database_url: str,
) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name
        with psycopg.connect(database_url) as conn:
            own_table(conn)
            conn.execute("INSERT INTO orders VALUES (1)")
            job = Kept.create(description="order 1", connection=conn)
            assert (job.state, job.description) == (rj.State.QUEUED, "order 1")
            assert job.id is not None and not exists(job.id)
            assert rj.Job.counts() == NO_JOBS
        # committed: the notice sent in the transaction wakes the worker now
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=10)
        assert [(e.action, e.by) for e in job.history()] == [("start", name), ("complete", name)]
        assert sql(database_url, "SELECT id FROM orders") == [(1,)]
        worker.send_signal(signal.SIGTERM)
        finish(worker)


def test_a_rolled_back_transaction_leaves_no_job_and_no_count(database_url: str) -> None:
    Kept.create()
    before = rj.Job.counts()
    with psycopg.connect(database_url) as conn:
        job = Kept.create(connection=conn)
        ids = Kept.create_many([{}, {}], connection=conn)
        conn.rollback()
        assert conn.info.transaction_status == IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert rj.Job.counts() == before == {**NO_JOBS, "queued": 1, "all": 1}
    assert job.id is not None and not any(exists(i) for i in [job.id, *ids])
    assert sql(database_url, "SELECT count(*) FROM rocketjob_jobs") == [(1,)]


def test_create_many_enqueues_in_the_transaction_and_returns_the_ids(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        ids = Typed.create_many(
            [{"name": "a"}, {"name": "b", "priority": 3}, {"name": "c"}], connection=conn
        )
        assert len(ids) == 3 and not any(exists(i) for i in ids)
    jobs = [Typed.find(i) for i in ids]
    assert [(j.name, j.priority, j.state) for j in jobs] == [
        ("a", 50, rj.State.QUEUED),
        ("b", 3, rj.State.QUEUED),
        ("c", 50, rj.State.QUEUED),
    ]
    assert rj.Job.counts()["queued"] == 3


def test_a_failing_statement_of_the_application_after_create_removes_the_job(
    database_url: str,
) -> None:
    created: list[int] = []

    def enqueue_then_fail() -> None:
        with psycopg.connect(database_url) as conn:
            created.append(Kept.create(connection=conn).id or 0)
            created.extend(Kept.create_many([{}], connection=conn))
            conn.execute("SELECT 1 / 0")

    def enqueue_then_fail_in_a_block() -> None:
        # a connection in autocommit mode, in a transaction block
        with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
            created.append(Kept.create(connection=conn).id or 0)
            conn.execute("SELECT 1 / 0")

    with pytest.raises(psycopg.errors.DivisionByZero):
        enqueue_then_fail()
    with pytest.raises(psycopg.errors.DivisionByZero):
        enqueue_then_fail_in_a_block()
    assert len(created) == 3 and not any(exists(i) for i in created)
    assert rj.Job.counts() == NO_JOBS


def test_bad_fields_raise_before_anything_is_sent(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        own_table(conn)
        with pytest.raises(rj.ValidationError) as refused:
            Kept.create(priority=0, connection=conn)
        assert [field for field, _ in refused.value.errors] == ["priority"]
        with pytest.raises(rj.ValidationError, match="row 1: priority"):
            Kept.create_many([{}, {"priority": 0}], connection=conn)
        assert conn.info.transaction_status == IDLE  # not even a transaction was begun
        conn.execute("INSERT INTO orders VALUES (1)")
        with pytest.raises(rj.ValidationError):
            Kept.create(priority=0, connection=conn)
        assert conn.info.transaction_status == INTRANS  # the application's work goes on
    assert sql(database_url, "SELECT id FROM orders") == [(1,)]
    assert rj.Job.counts() == NO_JOBS


def test_the_connection_keeps_its_own_settings(database_url: str) -> None:
    def loads(data: bytes | str) -> Any:
        return ("the application's", data)

    with psycopg.connect(database_url) as conn:
        conn.execute("SET TIME ZONE 'Asia/Tokyo'")
        set_json_loads(loads, conn)
        conn.commit()
        job = Typed.create(name="x", tags=["a"], connection=conn)
        [other] = Typed.create_many([{"name": "y"}], connection=conn)
        # the row the store returns, as its own connections read it: a dict, JSON, UTC
        new = NewJob(Typed.class_name, None, 50, None, None, True, '{"name": "z"}')
        row = get_store().insert_job(new, connection=conn)
        assert (row["fields"], row["created_at"].utcoffset()) == ({"name": "z"}, timedelta(0))
        assert (conn.row_factory, conn.autocommit) == (tuple_row, False)
        assert conn.execute("SHOW TimeZone").fetchone() == ("Asia/Tokyo",)
        assert conn.execute("SELECT '[1]'::jsonb").fetchone() == (("the application's", b"[1]"),)
    # read as the store's own connections read them: times in UTC
    stored = Typed.find(job.id or 0)
    assert job.created_at == stored.created_at
    assert job.created_at is not None and job.created_at.utcoffset() == timedelta(0)
    assert (stored.name, stored.tags, Typed.find(other).name) == ("x", ["a"], "y")

    with psycopg.connect(database_url, autocommit=True) as conn:
        # outside a transaction block, a statement commits at once: so does the job
        job = Kept.create(connection=conn)
        assert exists(job.id or 0)
        assert (conn.autocommit, conn.info.transaction_status) == (True, IDLE)


def test_no_hand_off_inside_the_transaction(database_url: str) -> None:
    with running_worker(database_url, *SLOW_POLL) as worker:
        name = wait_for_worker(worker.pid).name

        def offering() -> bool:
            """Whether the worker takes hand-offs: it offers slots and is listening."""
            query = "SELECT handoff_slots FROM rocketjob_workers WHERE name = %s"
            listener = "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
            return bool(
                sql(database_url, query, name)[0][0]
                and sql(database_url, listener, f"rocketjob listener {name}")
            )

        wait_until(offering, timeout=10)
        with psycopg.connect(database_url) as conn:
            job = Kept.create(connection=conn)
            assert (job.state, job.worker_name) == (rj.State.QUEUED, None)
            row = "SELECT state, worker_name, history FROM rocketjob_jobs WHERE id = %s"
            assert conn.execute(row, (job.id,)).fetchall() == [("queued", None, [])]
            # the worker's row is not held by the open transaction: its heartbeats go on
            with psycopg.connect(database_url) as other:
                other.execute("SET lock_timeout = '2s'")
                query = "SELECT name FROM rocketjob_workers WHERE name = %s FOR UPDATE"
                assert other.execute(query, (name,)).fetchall() == [(name,)]
            assert offering()
        wait_until(lambda: job.reload().state is rj.State.COMPLETED, timeout=10)
        worker.send_signal(signal.SIGTERM)
        finish(worker)


def test_a_failing_statement_of_rocketjob_leaves_the_transaction_usable(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        own_table(conn)
        conn.execute("SET TRANSACTION READ ONLY")
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            Kept.create(connection=conn)
        # only rocketjob's statement was undone: the transaction goes on
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
        conn.rollback()
        # a transaction that failed before is refused before anything is sent
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
        with pytest.raises(rj.ConfigurationError, match=r"failed transaction.*roll it back"):
            Kept.create(connection=conn)
        conn.rollback()
        job = Kept.create(connection=conn)
    assert exists(job.id or 0)


def test_a_connection_to_another_database_is_named(
    database_url: str, postgres: PostgresServer
) -> None:
    other_url = postgres.fresh_database(migrated=False)
    try:
        with psycopg.connect(other_url) as conn:
            conn.execute("CREATE TABLE orders (id int)")
            with pytest.raises(rj.ConfigurationError) as refused:
                Kept.create(connection=conn)
            other, configured = other_url.rpartition("/")[2], database_url.rpartition("/")[2]
            assert f"database {other!r}" in str(refused.value)
            assert "no rocketjob tables" in str(refused.value)
            assert configured in str(refused.value)
            conn.execute("INSERT INTO orders VALUES (1)")  # its transaction goes on
    finally:
        postgres.drop(other_url)
    assert rj.Job.counts() == NO_JOBS


def test_other_kinds_of_connection_are_refused_by_name(database_url: str) -> None:
    async def connect() -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(database_url)

    # an event loop of its own, in a thread: another test's may be running in this one
    with ThreadPoolExecutor(1) as loops:
        async_conn = loops.submit(asyncio.run, connect()).result()
    try:
        refused: list[object] = [async_conn, sqlite3.connect(":memory:"), database_url, object()]
        for given in refused:
            with pytest.raises(TypeError, match=r"takes a psycopg 3 connection \(psycopg\.Conn"):
                Kept.create(connection=given)
            with pytest.raises(TypeError, match=r"psycopg\.Connection"):
                Kept.create_many([{}], connection=given)
        with pytest.raises(TypeError, match="an async connection"):
            Kept.create(connection=async_conn)
    finally:
        with ThreadPoolExecutor(1) as loops:
            loops.submit(asyncio.run, async_conn.close()).result()
    assert rj.Job.counts() == NO_JOBS


def test_a_sqlalchemy_connection_lends_its_psycopg_connection(database_url: str) -> None:
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE orders (id int PRIMARY KEY)"))
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO orders VALUES (1)"))
            with pytest.raises(TypeError, match=r"conn\.connection\.driver_connection"):
                Kept.create(connection=conn)
            job = Kept.create(connection=conn.connection.driver_connection)
            assert not exists(job.id or 0)
        assert exists(job.id or 0)
        created: list[int] = []

        def enqueue_then_fail() -> None:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO orders VALUES (2)"))
                created.append(Kept.create(connection=conn.connection.driver_connection).id or 0)
                conn.execute(sa.text("SELECT 1 / 0"))

        with pytest.raises(sa.exc.DataError):
            enqueue_then_fail()
        assert created and not exists(created[0])
        assert sql(database_url, "SELECT id FROM orders") == [(1,)]
    finally:
        engine.dispose()


def test_sqlite_refuses_a_connection(tmp_path: Path, postgres: PostgresServer) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    store.migrate()
    rj.configure(store=store)
    try:
        with psycopg.connect(postgres.admin) as conn:
            with pytest.raises(rj.ConfigurationError, match="connection= needs PostgreSQL"):
                Kept.create(connection=conn)
            with pytest.raises(rj.ConfigurationError, match="connection= needs PostgreSQL"):
                Kept.create_many([{}], connection=conn)
            assert conn.info.transaction_status == IDLE
        assert rj.Job.counts() == NO_JOBS
    finally:
        rj.configure(None)
