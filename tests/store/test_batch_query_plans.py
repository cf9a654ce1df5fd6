"""On PostgreSQL, slice claims and the per-slice checks walk indexes, not the slices table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from batch_jobs import Shout
from batching import start
from pg import PostgresServer
from queryplans import plan, scans
from sample_jobs import Noop

import rocketjob as rj
from rocketjob.store import NewSlice, open_store
from rocketjob.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres
SLICES = 20_000


@pytest.fixture(scope="module")
def big(postgres: PostgresServer) -> Iterator[PostgresStore]:
    url = postgres.fresh_database()
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    rj.configure(store=store)
    Noop.create_many([{}] * 30_000)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE rocketjob_jobs SET state = 'completed'")
    payload = b"x"
    paused = Shout.create(priority=1)  # the most urgent, but paused: its slices are skipped
    store.start_upload(paused.id, 10, None, None)  # type: ignore[arg-type]
    store.insert_slices(
        paused.id,  # type: ignore[arg-type]
        [NewSlice(p, p * 10, 10, payload) for p in range(1, SLICES + 1)],
        SLICES * 10,
    )
    paused.pause()
    running = Shout.create()
    running.upload(["a"] * 50_000)  # 5,000 slices
    start(store)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    yield store
    rj.configure(None)
    postgres.drop(url)


def test_the_slice_claim_walks_the_processing_and_queued_indexes(big: PostgresStore) -> None:
    claim = plan(
        big,
        "claim_slices",
        now=datetime.now(UTC),
        limit=4,
        worker_name="h:1",
        include=None,
        exclude=None,
    )
    used = scans(claim)
    assert any(name == "rocketjob_jobs_processing" for _, name in used), used
    assert any(name == "rocketjob_slices_queued" for _, name in used), used
    assert ("Seq Scan", "rocketjob_slices") not in used
    assert ("Seq Scan", "rocketjob_jobs") not in used


def test_slice_counts_of_a_job_read_the_state_index(big: PostgresStore) -> None:
    used = scans(plan(big, "slice_counts", job_id=30_002))
    assert ("Seq Scan", "rocketjob_slices") not in used, used


def test_the_paused_jobs_slices_are_not_handed_out(big: PostgresStore) -> None:
    rows = big.claim_slices("h:1", 3)
    assert {row["job_id"] for row in rows} == {30_002}


def test_completing_plain_jobs_runs_no_lookup_per_job(big: PostgresStore) -> None:
    # Jobs that keep nothing are deleted as they complete, by the thousand a second: a
    # foreign key's cascade from every deleted job would cost a lookup each. One trigger
    # per statement counts them and takes any batch rows (and so slices) along.
    with psycopg.connect(big.url, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM rocketjob_jobs ORDER BY id LIMIT 500")]
        conn.execute("BEGIN")
        (row,) = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) DELETE FROM rocketjob_jobs WHERE id = ANY(%s)",
            (ids,),
        ).fetchone()  # type: ignore[misc]
        conn.execute("ROLLBACK")
    fired = row[0].get("Triggers", [])
    assert {(t["Trigger Name"], t["Calls"]) for t in fired} == {
        ("rocketjob_jobs_counted_delete", 1)
    }
