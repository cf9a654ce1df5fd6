"""Which named queries only read: those alone run again when their connection died."""

from __future__ import annotations

from rocketjob.store.postgres import read_only
from rocketjob.store.sqlfiles import load_queries


def test_reads_are_told_from_writes() -> None:
    queries = load_queries("postgres")
    reads = {name for name, sql in queries.items() if read_only(sql)}
    assert {"list_jobs", "count_buckets", "select_job", "list_cron", "slices_left"} <= reads
    writes = {
        "claim_jobs",  # a CTE that updates
        "insert_job",  # hands off and notifies
        "notify_jobs",  # SELECT pg_notify(...)
        "set_desired_state",
        "requeue_jobs_of_dead_workers",
        "delete_dead_workers",
    }
    assert not writes & reads
