"""On PostgreSQL, the hot queries are index scans that do not grow with the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from pg import PostgresServer
from queryplans import nodes, plan, scans
from sample_jobs import Noop

import rocketjob as rj
from rocketjob.store import open_store
from rocketjob.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres
JOBS = 60_000


@pytest.fixture(scope="module")
def big(postgres: PostgresServer) -> Iterator[PostgresStore]:
    url = postgres.fresh_database()
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    rj.configure(store=store)
    Noop.create_many([{}] * JOBS)
    later = datetime.now(UTC) + timedelta(days=1)
    Noop.create_many([{"run_at": later}] * 100)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"UPDATE rocketjob_jobs SET state = 'completed' WHERE id % 10 < 7 AND id <= {JOBS}"
        )
        conn.execute(
            f"UPDATE rocketjob_jobs SET state = 'failed' WHERE id % 10 = 7 AND id <= {JOBS}"
        )
        conn.execute(
            f"UPDATE rocketjob_jobs SET state = 'paused' WHERE id % 1000 = 8 AND id <= {JOBS}"
        )
        conn.execute("VACUUM ANALYZE rocketjob_jobs")
    yield store
    rj.configure(None)
    postgres.drop(url)


def assert_no_full_scan_of_jobs(node: dict[str, Any], *, may_sort: bool = False) -> None:
    for n in nodes(node):
        assert not (n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "rocketjob_jobs")
        if not may_sort:
            assert n["Node Type"] != "Sort", "a sort means the index order is not used"


def test_counts_read_the_counters_not_the_jobs(big: PostgresStore) -> None:
    buckets = plan(big, "count_buckets")
    assert {relation for _, relation in scans(buckets)} == {"rocketjob_job_counts"}
    due = plan(big, "count_due_with_run_at", now=datetime.now(UTC))
    assert {name for _, name in scans(due)} == {"rocketjob_jobs_scheduled"}
    counts = rj.Job.counts()
    assert counts["all"] == JOBS + 100 and counts["scheduled"] == 100


def test_the_claim_walks_the_claim_index(big: PostgresStore) -> None:
    claim = plan(
        big,
        "claim_jobs",
        now=datetime.now(UTC),
        limit=100,
        worker_name="h:1",
        include=None,
        exclude=None,
        entry="{}",
    )
    assert ("Index Scan", "rocketjob_jobs_claim") in scans(claim)
    assert_no_full_scan_of_jobs(claim)


@pytest.mark.parametrize("limit", [300, 2000])
def test_a_big_claim_finds_each_row_by_its_primary_key(big: PostgresStore, limit: int) -> None:
    # Left alone, the planner joins a few hundred claimed ids back to the table by
    # hashing all of it: the cost of a claim would grow with the table.
    claim = plan(
        big,
        "claim_jobs",
        now=datetime.now(UTC),
        limit=limit,
        worker_name="h:1",
        include=None,
        exclude=None,
        entry="{}",
    )
    assert ("Index Scan", "rocketjob_jobs_pkey") in scans(claim)
    assert_no_full_scan_of_jobs(claim)


@pytest.mark.parametrize(
    ("query", "indexes", "params"),
    [
        ("list_jobs", {"rocketjob_jobs_pkey"}, {}),
        # running jobs are left out of the class index: found by state
        (
            "list_jobs_of_class",
            {"rocketjob_jobs_class", "rocketjob_jobs_state"},
            {"class_name": "sample_jobs.Noop"},
        ),
        # a common state pages along either index; a rare one fetches its few rows by state
        (
            "list_jobs_in_state",
            {"rocketjob_jobs_state", "rocketjob_jobs_pkey"},
            {"state": "completed", "class_name": None},
        ),
        ("list_jobs_in_state", {"rocketjob_jobs_state"}, {"state": "paused", "class_name": None}),
    ],
)
def test_lists_page_along_an_index(
    big: PostgresStore, query: str, indexes: set[str], params: dict[str, Any]
) -> None:
    page = plan(big, query, before_id=JOBS // 2, limit=51, **params)
    used = {name for _, name in scans(page)}
    assert used and used <= indexes | {"rocketjob_jobs"}
    assert_no_full_scan_of_jobs(page, may_sort=params.get("state") == "paused")


def test_the_scheduled_list_walks_the_scheduled_index(big: PostgresStore) -> None:
    now = datetime.now(UTC)
    page = plan(
        big,
        "list_jobs_scheduled",
        now=now,
        after_run_at=now,
        after_id=0,
        limit=51,
        class_name=None,
    )
    assert "rocketjob_jobs_scheduled" in {name for _, name in scans(page)}
    assert_no_full_scan_of_jobs(page)


def test_the_failures_view_reads_failed_jobs_only(big: PostgresStore) -> None:
    now = datetime.now(UTC)
    groups = plan(
        big,
        "failure_groups",
        hour_ago=now - timedelta(hours=1),
        day_ago=now - timedelta(days=1),
        week_ago=now - timedelta(days=7),
        limit=201,
    )
    assert_no_full_scan_of_jobs(groups, may_sort=True)


def test_one_failure_group_pages_along_the_failures_index(big: PostgresStore) -> None:
    page = plan(
        big,
        "list_failed_in_group",
        class_name="sample_jobs.Noop",
        exception_class="ValueError",
        before_id=JOBS // 2,
        limit=51,
    )
    assert {name for _, name in scans(page)} == {"rocketjob_jobs_failures"}
    assert_no_full_scan_of_jobs(page)


def test_a_throttled_claim_reads_its_throttle_s_indexes_only(big: PostgresStore) -> None:
    claim = plan(
        big,
        "claim_throttled_jobs",
        now=datetime.now(UTC),
        limit=10,
        throttle="payments",
        throttle_limit=3,
        worker_name="h:1",
        include=None,
        exclude=None,
        entry="{}",
    )
    read = {index for _, index in scans(claim)}
    assert {"rocketjob_jobs_throttled", "rocketjob_jobs_throttle_running"} <= read
    assert_no_full_scan_of_jobs(claim)


def test_completions_and_the_dependants_they_release_probe_jobs_by_key(
    big: PostgresStore,
) -> None:
    claims = {"ids": "{1,2,3}", "leases": "{0,0,0}"}
    done = plan(big, "complete_jobs", now=datetime.now(UTC), entry="{}", **claims)
    assert_no_full_scan_of_jobs(done)
    assert_no_full_scan_of_jobs(plan(big, "destroy_completed_jobs", **claims))
    assert_no_full_scan_of_jobs(plan(big, "release_dependants", ids=[1, 2, 3]), may_sort=True)
    assert_no_full_scan_of_jobs(plan(big, "forget_dependencies", ids=[1, 2, 3]), may_sort=True)
    assert_no_full_scan_of_jobs(plan(big, "link_prerequisites", ids=[1, 2, 3]))
    for query in ("prerequisites_of", "dependants_of"):
        assert_no_full_scan_of_jobs(plan(big, query, id=5, limit=100), may_sort=True)


def test_the_count_of_jobs_ahead_reads_ranges_of_the_claim_index(big: PostgresStore) -> None:
    now = datetime.now(UTC)
    ahead = plan(
        big,
        "count_ahead",
        id=JOBS // 2,
        priority=50,
        run_at=None,
        throttle=None,
        now=now,
        cap=10_000,
    )
    assert_no_full_scan_of_jobs(ahead)
    assert {name for _, name in scans(ahead)} == {"rocketjob_jobs_claim"}
    throttled = plan(
        big,
        "count_ahead_throttled",
        id=JOBS // 2,
        priority=50,
        run_at=now,
        throttle="Charge",
        now=now,
        cap=10_000,
    )
    assert_no_full_scan_of_jobs(throttled)
    assert {name for _, name in scans(throttled)} <= {"rocketjob_jobs_throttled"}
