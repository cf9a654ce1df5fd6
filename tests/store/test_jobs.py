"""Creating and finding jobs: the same assertions on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sample_jobs import Fails, Kept, Noop, Typed

import rocketjob as rj
from rocketjob.store import NewJob, Store


def test_a_created_job_is_found_as_its_class_with_every_field(store: Store) -> None:
    when = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    created = Typed.create(
        name="Ada",
        count=3,
        when=when,
        day=date(2030, 1, 2),
        amount=Decimal("12.345"),
        tags=["x", "y"],
        extra={"a": 1},
        description="greets",
        priority=10,
    )
    found = rj.Job.find(created.id)  # type: ignore[arg-type]
    assert type(found) is Typed
    assert found.fields == {
        "name": "Ada",
        "count": 3,
        "when": when,
        "day": date(2030, 1, 2),
        "amount": Decimal("12.345"),
        "tags": ["x", "y"],
        "extra": {"a": 1},
    }
    assert (found.description, found.priority, found.state) == ("greets", 10, rj.State.QUEUED)
    assert found.class_name == "sample_jobs.Typed"
    assert found.created_at is not None and found.created_at.tzinfo is not None
    assert (found.started_at, found.completed_at, found.failure_count) == (None, None, 0)
    assert (found.worker_name, found.percent_complete, found.exception) == (None, 0, None)
    assert found.destroy_on_complete is True
    assert Kept.create().destroy_on_complete is False


def test_ids_increase_in_creation_order(store: Store) -> None:
    ids = [Noop.create().id for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_missing_jobs_raise_job_not_found(store: Store) -> None:
    with pytest.raises(rj.JobNotFound, match="no job with id 999"):
        rj.Job.find(999)
    noop = Noop.create()
    with pytest.raises(rj.JobNotFound, match=r"is a sample_jobs\.Noop, not a sample_jobs\.Kept"):
        Kept.find(noop.id)  # type: ignore[arg-type]
    assert Noop.find(noop.id).id == noop.id  # type: ignore[arg-type]


def test_invalid_fields_write_nothing(store: Store) -> None:
    with pytest.raises(rj.ValidationError, match="count"):
        Typed.create(name="x", count="many")
    assert rj.Job.counts()["all"] == 0


def test_create_many_inserts_all_in_order(store: Store) -> None:
    ids = Typed.create_many([{"name": f"n{i}", "count": i} for i in range(1000)])
    assert len(ids) == 1000 and ids == sorted(ids)
    assert Typed.find(ids[7]).fields["count"] == 7
    assert rj.Job.counts()["queued"] == 1000


def test_create_many_validates_every_row_before_writing_any(store: Store) -> None:
    rows = [{"name": "ok"}, {"name": 5}, {"name": "ok"}, {"nmae": "typo"}]
    with pytest.raises(rj.ValidationError) as refused:
        Typed.create_many(rows)
    fields = [field for field, _ in refused.value.errors]
    assert fields == ["row 1: name", "row 3: name", "row 3: nmae"]
    assert rj.Job.counts()["all"] == 0


def test_reload_sees_changes_made_elsewhere(store: Store) -> None:
    job = Kept.create()
    rj.Job.find(job.id).pause()  # type: ignore[arg-type]
    assert job.state is rj.State.QUEUED
    assert job.reload().state is rj.State.PAUSED


def test_a_job_of_an_unknown_class_still_loads_with_its_raw_fields(store: Store) -> None:
    row = store.insert_job(
        NewJob("gone.Missing", "from an old deploy", 50, None, None, True, '{"a": [1, 2]}')
    )
    job = rj.Job.find(row["id"])
    assert type(job) is rj.Job
    assert job.class_name == "gone.Missing"
    assert job.fields == {"a": [1, 2]}
    assert job.load_error is not None and "gone.Missing is not known" in job.load_error
    assert rj.Job.page().jobs[0].class_name == "gone.Missing"
    job.abort()
    assert job.state is rj.State.ABORTED


def test_stored_fields_that_no_longer_fit_the_class_are_reported(store: Store) -> None:
    row = store.insert_job(NewJob(Typed.class_name, None, 50, None, None, True, '{"count": 1}'))
    job = rj.Job.find(row["id"])
    assert type(job) is Typed
    assert job.load_error is not None and "name: Field required" in job.load_error
    assert job.fields == {"count": 1}


def test_perform_now_runs_a_saved_job_through_its_states(store: Store) -> None:
    kept = Kept.create()
    kept.perform_now()
    assert kept.state is rj.State.COMPLETED
    assert rj.Job.find(kept.id).state is rj.State.COMPLETED  # type: ignore[arg-type]
    assert [e.action for e in kept.history()] == ["start", "complete"]

    noop = Noop.create()
    noop.perform_now()
    assert noop.state is rj.State.COMPLETED
    with pytest.raises(rj.JobNotFound):
        noop.reload()  # destroyed on completion


def test_perform_now_records_the_failure_and_raises_it(store: Store) -> None:
    job = Fails.create(message="bad input")
    with pytest.raises(ValueError, match="bad input"):
        job.perform_now()
    assert job.state is rj.State.FAILED
    assert job.failure_count == 1
    assert job.exception is not None
    assert (job.exception.class_name, job.exception.message) == ("ValueError", "bad input")
    assert any("raise ValueError" in line for line in job.exception.backtrace)


def test_perform_now_refuses_a_job_that_is_not_queued(store: Store) -> None:
    job = Kept.create()
    job.pause()
    with pytest.raises(rj.InvalidTransition, match="cannot start a paused job"):
        job.perform_now()


def test_scheduled_jobs_keep_their_run_at(store: Store) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    job = Noop.create(run_at=later)
    assert rj.Job.find(job.id).run_at == later  # type: ignore[arg-type]
