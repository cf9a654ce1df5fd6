"""On PostgreSQL, search never scans the whole jobs table: rare text is found through the
trigram index, common text by walking the newest jobs, class names through their index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from pg import PostgresServer
from sample_jobs import Fails, Kept, Noop
from test_query_plans import assert_no_full_scan_of_jobs, plan, scans

import rocketjob as rj
from rocketjob.store import open_store
from rocketjob.store.base import like_pattern
from rocketjob.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres
JOBS = 40_000


@pytest.fixture(scope="module")
def described(postgres: PostgresServer) -> Iterator[PostgresStore]:
    url = postgres.fresh_database()
    store = open_store(url)
    assert isinstance(store, PostgresStore)
    rj.configure(store=store)
    Noop.create_many([{"description": f"export batch {n}"} for n in range(JOBS)])
    Kept.create_many([{}] * 100)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE rocketjob_jobs SET state = 'completed' WHERE id % 10 < 8")
        conn.execute("VACUUM ANALYZE rocketjob_jobs")
    yield store
    rj.configure(None)
    postgres.drop(url)


def search_plan(
    store: PostgresStore, query: str, text: str, classes: list[str], **more: object
) -> dict[str, Any]:
    params = {"pattern": like_pattern(text), "classes": classes, "limit": 51}
    return plan(store, query, before_id=2**62, now=datetime.now(UTC), **params, **more)


def test_rare_text_is_found_through_the_trigram_index(described: PostgresStore) -> None:
    found = search_plan(described, "search_jobs", "batch 31337", [])
    assert "rocketjob_jobs_description" in {name for _, name in scans(found)}
    assert_no_full_scan_of_jobs(found, may_sort=True)
    assert [job.description for job in rj.Job.page(q="batch 31337").jobs] == ["export batch 31337"]


def test_common_text_and_classes_page_along_an_index(described: PostgresStore) -> None:
    common = search_plan(described, "search_jobs", "export", [])
    assert_no_full_scan_of_jobs(common, may_sort=True)
    by_class = search_plan(described, "search_jobs", "Kept", ["sample_jobs.Kept"])
    assert_no_full_scan_of_jobs(by_class, may_sort=True)
    in_state = search_plan(described, "search_jobs_in_state", "export", [], state="failed")
    assert_no_full_scan_of_jobs(in_state, may_sort=True)
    assert len(rj.Job.page(q="Kept", limit=200).jobs) == 100


def test_class_names_come_from_the_class_index(described: PostgresStore) -> None:
    found = plan(described, "list_class_names")
    # running jobs are left out of the class index: their classes come by state
    assert {name for _, name in scans(found)} - {""} == {
        "rocketjob_jobs_class",
        "rocketjob_jobs_state",
    }
    assert_no_full_scan_of_jobs(found, may_sort=True)  # sorts the names, one per class
    assert described.class_names() == ["sample_jobs.Kept", "sample_jobs.Noop"]


def test_running_jobs_are_found_by_class_though_the_class_index_leaves_them_out(
    described: PostgresStore,
) -> None:
    running = Fails.create()
    assert described.claim_job(running.id, "w:1") is not None
    try:
        assert described.class_names() == [
            "sample_jobs.Fails",
            "sample_jobs.Kept",
            "sample_jobs.Noop",
        ]
        assert [job.id for job in rj.Job.page(class_name="sample_jobs.Fails").jobs] == [running.id]
        assert [job.id for job in rj.Job.page(q="Fails").jobs] == [running.id]
        assert [job.id for job in rj.Job.page("running", q="Fails").jobs] == [running.id]
        kept = rj.Job.page(class_name="sample_jobs.Kept", limit=200).jobs
        assert len(kept) == 100
    finally:
        described.execute("delete_job", {"id": running.id, "version": running.reload()._version})
