"""Enqueueing jobs that take a singleton slot or wait on others (see behaviours/)."""

from __future__ import annotations

from collections.abc import Sequence

from rocketjob.behaviours.singleton import SingletonTaken
from rocketjob.errors import RocketJobError, ValidationError
from rocketjob.store import NewJob, Row, SlotTaken, Store

# How often create() tries again when the job holding a slot left it meanwhile.
SLOT_RETRIES = 50


def create_job(
    store: Store,
    job: NewJob,
    *,
    handoff: bool,
    connection: object,
    depends_on: Sequence[int],
    on_conflict: str,
) -> Row:
    """The new job's row; with its slot held by another job, SingletonTaken or (with
    on_conflict="existing") the holder's row."""
    for _ in range(SLOT_RETRIES):
        try:
            return store.create_job(
                job, handoff=handoff, connection=connection, depends_on=depends_on
            )
        except SlotTaken:
            assert job.singleton_key is not None
            with store.on_connection(connection):  # it may be the application's own job
                holder = store.singleton_holder(job.singleton_key)
                if holder is None:
                    continue  # it left the slot meanwhile: take it
                if on_conflict == "existing":
                    row = store.get_job(int(holder["id"]))
                    if row is not None:
                        return row
                    continue
            raise SingletonTaken(
                job.class_name, job.singleton_key, int(holder["id"]), str(holder["state"])
            ) from None
    raise RocketJobError(f"the singleton slot {job.singleton_key!r} kept changing hands")


def create_jobs(
    store: Store, jobs: Sequence[tuple[NewJob, list[int]]], *, connection: object
) -> list[int]:
    """Enqueues jobs with slots or prerequisites in one transaction; if any slot is held
    (by a job in the table or an earlier row) or any prerequisite refused, none is, and
    ValidationError names every row that could not be."""
    problems: list[tuple[str, str]] = []
    first_row: dict[str, int] = {}
    for index, (job, _) in enumerate(jobs):
        slot = job.singleton_key
        if slot is not None and slot in first_row:
            problems.append(
                (f"row {index}: singleton_key", f"row {first_row[slot]} takes slot {slot!r}")
            )
        elif slot is not None:
            first_row[slot] = index
    if problems:
        raise ValidationError(f"jobs for {jobs[0][0].class_name}", problems)
    ids: list[int] = []
    with store.on_connection(connection), store.transaction():
        for index, (job, depends_on) in enumerate(jobs):
            try:
                row = store.create_job(job, handoff=False, depends_on=depends_on)
            except SlotTaken:
                assert job.singleton_key is not None
                holder = store.singleton_holder(job.singleton_key)
                held_by = f"job #{holder['id']} ({holder['state']})" if holder else "a job"
                problem = f"{held_by} holds the singleton slot {job.singleton_key!r}"
                problems.append((f"row {index}: singleton_key", problem))
                continue
            except ValidationError as error:
                problems.extend((f"row {index}: {field}", p) for field, p in error.errors)
                continue
            ids.append(int(row["id"]))
        if problems:  # raised inside the transaction: nothing is enqueued
            raise ValidationError(f"jobs for {jobs[0][0].class_name}", problems)
    return ids
