"""Failed jobs grouped by job class and exception class, and retried or aborted all at once,
chunk by chunk, through the guarded transitions of single actions, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from batching import process, start
from failing import failed_by_worker
from sample_jobs import Noop
from test_batch_processing import failing_squares

import rocketjob as rj
from rocketjob import failures
from rocketjob.store import Store, open_store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(database_url: str) -> Iterator[Clock]:
    """The configured store, on each backend, with a clock the test sets."""
    clock = Clock()
    store = open_store(database_url, clock)
    rj.configure(store=store)
    yield clock
    rj.configure(None)


def test_failed_jobs_are_grouped_with_counts_over_recent_windows(clock: Clock) -> None:
    for ago, message in [(timedelta(days=3), "old"), (timedelta(hours=5), "recent")]:
        clock.now = NOW - ago
        failed_by_worker(message)
    clock.now = NOW - timedelta(days=9)
    Noop.create().fail("long ago")
    clock.now = NOW - timedelta(minutes=10)
    newest = failed_by_worker("newest")
    Noop.create().fail("not needed", by="user:ops")
    Noop.create()  # queued: not a failure
    clock.now = NOW

    groups = rj.failed_job_groups()
    assert [
        (g.class_name, g.exception_class, g.last_hour, g.last_day, g.last_week, g.total)
        for g in groups
    ] == [
        ("sample_jobs.Fails", "ValueError", 1, 2, 3, 3),
        ("sample_jobs.Noop", "rocketjob.Failed", 1, 1, 1, 2),
    ]
    assert (groups[0].latest_id, groups[0].latest_message) == (newest.id, "newest")
    assert groups[0].latest_at == NOW - timedelta(minutes=10)
    assert groups[1].latest_message == "not needed"  # the sample: the group's newest job


def test_retry_a_group_retries_its_jobs_alone_and_records_who(store: Store) -> None:
    ids = [failed_by_worker(f"boom {i}").id for i in range(3)]
    other = Noop.create().fail("other reason")
    outcome = rj.retry_failed(
        rj.FailedFilter(class_name="sample_jobs.Fails", exception_class="ValueError"),
        by="user:ops",
    )
    assert (outcome.action, outcome.done, outcome.skipped) == (rj.Action.RETRY, 3, 0)
    for job_id in ids:
        job = rj.Job.find(job_id)
        assert (job.state, job.exception) == (rj.State.QUEUED, None)
        last = job.history()[-1]
        assert (last.action, last.from_state, last.to_state, last.by) == (
            "retry",
            "failed",
            "queued",
            "user:ops",
        )
    assert other.reload().state is rj.State.FAILED
    assert rj.Job.counts()["queued"] == 3
    assert rj.failed_job_groups()[0].class_name == "sample_jobs.Noop"


def test_abort_what_a_search_matches(store: Store) -> None:
    card = failed_by_worker("declined", description="charge card 17")
    mail = failed_by_worker("bounced", description="welcome mail")
    outcome = rj.abort_failed(rj.FailedFilter(q="CARD"), by="user:ops")
    assert (outcome.done, outcome.skipped) == (1, 0)
    assert card.reload().state is rj.State.ABORTED
    assert mail.reload().state is rj.State.FAILED
    assert rj.abort_failed(rj.FailedFilter(q="no such thing")).done == 0


def test_every_failed_job_goes_in_chunks(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "CHUNK", 2)
    ids = Noop.create_many([{}] * 5)
    for job_id in ids:
        rj.Job.find(job_id).fail("x")
    assert rj.retry_failed().done == 5
    assert rj.Job.counts()["failed"] == 0
    assert rj.failed_job_groups() == []


def test_jobs_that_changed_meanwhile_are_skipped(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = (Noop.create().fail("x") for _ in range(2))
    read = store.failed_jobs_after

    def read_then_someone_retries(*args: object) -> list[dict[str, object]]:
        rows = read(*args)  # type: ignore[arg-type]
        if rows:
            rj.Job.find(second.id).retry(by="user:bob")  # type: ignore[arg-type]
        return rows

    monkeypatch.setattr(store, "failed_jobs_after", read_then_someone_retries)
    outcome = rj.abort_failed(by="user:ops")
    assert (outcome.done, outcome.skipped) == (1, 1)
    assert first.reload().state is rj.State.ABORTED
    assert second.reload().state is rj.State.QUEUED  # bob's retry stands


def test_a_failed_batch_job_is_retried_with_its_failed_slices(store: Store, tmp_path: Path) -> None:
    job = failing_squares(tmp_path, records=300, every=130)
    start(store)
    process(store)
    assert job.reload().state is rj.State.FAILED
    (tmp_path / "broken").unlink()
    assert rj.retry_failed(rj.FailedFilter(exception_class="rocketjob.SlicesFailed")).done == 1
    assert (job.reload().state, job.sub_state) == (rj.State.RUNNING, rj.SubState.PROCESSING)
    process(store, "host:2")
    assert job.reload().state is rj.State.COMPLETED


def test_the_failed_list_pages_through_one_group(store: Store) -> None:
    ids = [failed_by_worker(f"boom {i}").id for i in range(3)]
    Noop.create().fail("x")
    page = rj.Job.page(
        "failed", class_name="sample_jobs.Fails", exception_class="ValueError", limit=2
    )
    assert [j.id for j in page.jobs] == ids[::-1][:2]
    rest = rj.Job.page(
        "failed", class_name="sample_jobs.Fails", exception_class="ValueError",
        cursor=page.next_cursor,
    )  # fmt: skip
    assert [j.id for j in rest.jobs] == ids[:1]
    by_exception = rj.Job.page("failed", exception_class="rocketjob.Failed")
    assert [j.class_name for j in by_exception.jobs] == ["sample_jobs.Noop"]
    assert failures.count_failed(rj.FailedFilter(class_name="sample_jobs.Fails"), cap=2) == 2
