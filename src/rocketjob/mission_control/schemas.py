"""The JSON the API answers with and takes, as its OpenAPI document shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

# Text that reaches the database: without NUL (no database stores it).
TEXT = r"^[^\x00]*$"


class ErrorOut(BaseModel):
    detail: str = Field(description="what went wrong, in a sentence")


class JobExceptionOut(BaseModel):
    class_name: str
    message: str
    backtrace: list[str]
    worker_name: str | None


class HistoryOut(BaseModel):
    at: datetime
    from_state: str | None
    to_state: str
    action: str
    by: str
    message: str | None


class JobOut(BaseModel):
    id: int
    class_name: str
    description: str | None
    state: str
    list_state: str = Field(
        description="state as the lists show it: queued jobs waiting for run_at are `scheduled`"
    )
    sub_state: str | None
    priority: int
    run_at: datetime | None
    expires_at: datetime | None
    destroy_on_complete: bool
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    failure_count: int
    attempt: int = Field(description="automatic retries used (an operator's retry resets it)")
    retry_limit: int = Field(
        description="automatic retries its class allows (0 where the class is not imported)"
    )
    worker_name: str | None
    percent_complete: int
    duration_seconds: float = Field(description="time in the state that matters (DESIGN §4)")
    exception: JobExceptionOut | None
    fields: dict[str, Any]
    load_error: str | None
    actions: list[str] = Field(description="the operator actions its state allows")
    singleton_key: str | None = Field(
        description="the singleton slot it takes (class name, or class name:key); at most "
        "one queued, running or paused job holds a slot"
    )
    waiting_on: int = Field(description="jobs it depends on that have not completed yet")


class FailureGroupOut(BaseModel):
    class_name: str
    slices: int
    first_position: int


class BatchOut(BaseModel):
    record_count: int | None = Field(description="null while the upload goes on")
    uploaded_records: int
    slice_size: int
    slices: dict[str, int] = Field(description="slices per state: queued, running, failed, …")
    records_done: int
    percent_complete: int
    records_per_s: float | None
    eta_seconds: float | None
    workers: int = Field(description="workers running its slices now")
    failures_by_exception: list[FailureGroupOut]


class FailureOut(BaseModel):
    at: datetime
    message: str | None = Field(description="the exception's class and message")
    then: str = Field(description="what followed: retried, slices_retried or failed")


class NeighbourOut(BaseModel):
    id: int
    class_name: str | None = Field(description="null once the job is gone")
    state: str | None = Field(description="null once the job is gone (destroyed)")
    done: bool = Field(description="the prerequisite completed or is gone: it holds nobody")


class WaitReasonOut(BaseModel):
    code: str = Field(
        description="scheduled, paused, retry_backoff, throttled, window, dependencies, "
        "singleton, no_worker or behind"
    )
    message: str = Field(description="the reason in plain words")
    job_ids: list[int] = Field(description="the jobs it names (running in the throttle, waited on)")
    worker_names: list[str] = Field(description="the workers it names")


class JobDetailOut(JobOut):
    depends_on: list[NeighbourOut] = Field(
        description="the jobs it waits on (done or not); it runs once all are done"
    )
    dependants: list[NeighbourOut] = Field(description="the jobs that wait on it (the first 100)")
    waiting: list[WaitReasonOut] = Field(
        description="why a queued or paused job is not running now (empty otherwise)"
    )
    history: list[HistoryOut]
    failures: list[FailureOut] = Field(description="every failure, oldest first")
    batch: BatchOut | None = Field(None, description="batch jobs: their records and slices")


class JobPageOut(BaseModel):
    jobs: list[JobOut]
    next_cursor: str | None


class CountsOut(BaseModel):
    all: int
    running: int
    scheduled: int
    queued: int
    paused: int
    failed: int
    aborted: int
    completed: int


class WorkerJobOut(BaseModel):
    id: int
    class_name: str
    description: str | None
    started_at: datetime | None
    percent_complete: int


class WorkerOut(BaseModel):
    name: str
    host: str
    pid: int
    state: str
    desired_state: str | None
    threads: int
    async_slots: int = Field(description="async jobs it runs at once on its event loop")
    busy: int
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_age_seconds: float
    stale: bool
    jobs: list[WorkerJobOut]


class WorkersAskedOut(BaseModel):
    asked: list[str] = Field(description="names of the workers asked")
    desired_state: str


class FailIn(BaseModel):
    reason: str | None = Field(None, max_length=1000, pattern=TEXT)
