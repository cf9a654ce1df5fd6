"""Schema migrations: numbered, recorded, applied once, automatic only on an empty database."""

from __future__ import annotations

import sqlite3
import threading

import psycopg
import pytest
from sample_jobs import Noop

import rocketjob as rj
from rocketjob.store import open_store
from rocketjob.store.sqlfiles import Migration


def test_an_empty_database_is_migrated_on_first_use(empty_database_url: str) -> None:
    rj.configure(empty_database_url)
    try:
        job = Noop.create()
        assert rj.Job.find(job.id).id == job.id  # type: ignore[arg-type]
    finally:
        rj.configure(None)
    store = open_store(empty_database_url)
    assert store.applied_migrations() == {m.version for m in store.migrations}
    assert store.pending_migrations() == []
    store.close()


def test_migrate_applies_each_migration_once(empty_database_url: str) -> None:
    store = open_store(empty_database_url)
    assert [m.version for m in store.migrate()] == [m.version for m in store.migrations]
    assert store.migrate() == []
    store.close()


def test_concurrent_migrations_apply_everything_exactly_once(empty_database_url: str) -> None:
    applied: list[int] = []
    errors: list[BaseException] = []

    def migrate() -> None:
        store = open_store(empty_database_url)
        try:
            applied.extend(m.version for m in store.migrate())
        except BaseException as error:
            errors.append(error)
        finally:
            store.close()

    threads = [threading.Thread(target=migrate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    store = open_store(empty_database_url)
    assert sorted(applied) == [m.version for m in store.migrations]
    store.close()


def test_an_older_schema_is_not_migrated_behind_the_operators_back(database_url: str) -> None:
    store = open_store(database_url)
    later = Migration(len(store.migrations) + 1, "later", "CREATE TABLE rocketjob_later (x int);")
    store.migrations.append(later)
    with pytest.raises(
        rj.SchemaOutOfDate, match=r"needs migrations \[\d+\]: run `rocketjob migrate`"
    ):
        store.ensure_schema()
    assert store.migrate() == [later]
    store.ensure_schema()
    store.close()


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    """Runs raw SQL on either backend: the schema is older than the store's queries."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return conn.execute(statement).fetchall()
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def test_batch_jobs_queued_before_they_were_stored_as_such_are_marked(
    empty_database_url: str,
) -> None:
    store = open_store(empty_database_url)
    (index,) = [i for i, m in enumerate(store.migrations) if m.name == "batch_jobs_say_so"]
    for migration in store.migrations[:index]:
        store.apply_migration(migration)
    sql(
        empty_database_url,
        "INSERT INTO rocketjob_jobs (id, class_name, priority, created_at, fields) VALUES "
        "(1, 'batch_jobs.Shout', 50, '2026-01-01', '{}'), (2, 'x.Y', 50, '2026-01-01', '{}')",
    )
    sql(
        empty_database_url,
        "INSERT INTO rocketjob_batches (job_id, slice_size, upload_started_at) "
        "VALUES (1, 10, '2026-01-01')",
    )
    store.apply_migration(store.migrations[index])
    rows = sql(empty_database_url, "SELECT id, sub_state FROM rocketjob_jobs ORDER BY id")
    assert rows == [(1, "before"), (2, None)]
    store.close()
