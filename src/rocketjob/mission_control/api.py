"""The JSON API under /api: jobs, their counts and actions, and the workers.

Writes require `Content-Type: application/json` (the body may be empty): a browser cannot
send that from another site without a CORS preflight, which is never granted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.mission_control import views
from rocketjob.mission_control.security import current_user
from rocketjob.states import list_state

ListState = Literal["running", "scheduled", "queued", "paused", "failed", "aborted", "completed"]
JobActionName = Literal["pause", "resume", "retry", "fail", "abort", "run_now"]
WorkerActionName = Literal["pause", "resume", "stop"]
# Text that reaches the database: bounded, and without NUL (no database stores it).
TEXT = r"^[^\x00]*$"
Search = Annotated[
    str | None, Query(max_length=200, pattern=TEXT, description="Class name or description")
]
Cursor = Annotated[str | None, Query(max_length=100, description="next_cursor of a page")]
ClassFilter = Annotated[
    str | None, Query(alias="class", max_length=300, pattern=TEXT, description="A job class")
]
ExceptionFilter = Annotated[
    str | None,
    Query(alias="exception", max_length=300, pattern=TEXT, description="An exception class"),
]
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]
WorkerName = Annotated[str, Path(max_length=300, pattern=TEXT)]
PAGE_SIZE = 50


class InvalidInput(ValueError):
    """Input that passed the types but not the meaning (a cursor that is no cursor)."""


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


class JobDetailOut(JobOut):
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


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, "send writes with Content-Type: application/json")


def actor(request: Request) -> str:
    user = current_user(request)
    return f"api:{user}" if user else "api"


def load_page(
    state: str | None,
    q: str | None,
    cursor: str | None,
    limit: int = PAGE_SIZE,
    *,
    class_name: str | None = None,
    exception_class: str | None = None,
) -> rj.JobPage:
    if q and (class_name or exception_class):
        raise InvalidInput("search, or filter by job and exception class, not both at once")
    try:
        return rj.Job.page(
            state,
            q=q or None,
            limit=limit,
            cursor=cursor,
            class_name=class_name or None,
            exception_class=exception_class or None,
        )
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def job_out(job: rj.Job, now: datetime) -> dict[str, Any]:
    exception = job.exception
    return {
        "id": job.id,
        "class_name": job.class_name,
        "description": job.description,
        "state": job.state.value,
        "list_state": list_state(job.state, job.run_at, now),
        "sub_state": job.sub_state.value if job.sub_state else None,
        "priority": job.priority,
        "run_at": job.run_at,
        "expires_at": job.expires_at,
        "destroy_on_complete": job.destroy_on_complete,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "failure_count": job.failure_count,
        "attempt": job.attempt,
        "retry_limit": type(job).retry_limit,
        "worker_name": job.worker_name,
        "percent_complete": job.percent_complete,
        "duration_seconds": views.job_duration(job, now).total_seconds(),
        "exception": exception.to_json() if exception else None,
        "fields": views.jsonable(job.fields),
        "load_error": job.load_error,
        "actions": [action.value for action in job.actions],
    }


# A failure's history entry says what followed it by the state it led to.
_FAILURE_THEN = {"queued": "retried", "running": "slices_retried"}


def job_detail(job: rj.Job, now: datetime) -> dict[str, Any]:
    entries = job.history()
    history = [vars(entry) for entry in entries]
    failures = [
        {"at": e.at, "message": e.message, "then": _FAILURE_THEN.get(e.to_state, "failed")}
        for e in entries
        if e.action == "fail"
    ]
    detail = {**job_out(job, now), "history": history, "failures": failures}
    if isinstance(job, rj.BatchJob):
        status = job.batch_status()
        detail["batch"] = {
            "record_count": status.record_count,
            "uploaded_records": status.uploaded_records,
            "slice_size": status.slice_size,
            "slices": status.slices,
            "records_done": status.records_done,
            "percent_complete": status.percent_complete,
            "records_per_s": status.records_per_s,
            "eta_seconds": status.eta.total_seconds() if status.eta is not None else None,
            "workers": status.workers,
            "failures_by_exception": [vars(group) for group in job.failures_by_exception()],
        }
    return detail


router = APIRouter(prefix="/api", tags=["api"])


@router.get("/jobs", response_model=JobPageOut, summary="A page of jobs")
def list_jobs(
    state: ListState | None = None,
    q: Search = None,
    limit: Annotated[int, Query(ge=1, le=200)] = PAGE_SIZE,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """All jobs newest first, or one list state (scheduled: soonest first)."""
    page = load_page(state, q, cursor, limit)
    now = get_store().now()
    return {"jobs": [job_out(job, now) for job in page.jobs], "next_cursor": page.next_cursor}


@router.get("/jobs/counts", response_model=CountsOut, summary="Jobs per list state")
def counts() -> dict[str, int]:
    return rj.Job.counts()


@router.get("/jobs/{job_id}", response_model=JobDetailOut, summary="One job, with its history")
def show_job(job_id: JobId) -> dict[str, Any]:
    return job_detail(rj.Job.find(job_id), get_store().now())


@router.post(
    "/jobs/{job_id}/{action}",
    response_model=JobDetailOut,
    summary="Act on a job",
    dependencies=[Depends(require_json)],
    responses={409: {"description": "the job's state does not allow the action"}},
)
def act_on_job(
    request: Request,
    job_id: JobId,
    action: JobActionName,
    body: Annotated[FailIn | None, Body()] = None,
) -> dict[str, Any]:
    """pause, resume, retry, fail (optional JSON body `{"reason": …}`), abort, run_now."""
    job = rj.Job.find(job_id)
    by = actor(request)
    if action == "fail":
        job.fail(body.reason if body else None, by=by)
    else:
        getattr(job, action)(by=by)
    return job_detail(job, get_store().now())


@router.delete(
    "/jobs/{job_id}",
    status_code=204,
    summary="Destroy a job",
    dependencies=[Depends(require_json)],
    responses={409: {"description": "a running job cannot be destroyed"}},
)
def destroy_job(request: Request, job_id: JobId) -> Response:
    rj.Job.find(job_id).destroy(by=actor(request))
    return Response(status_code=204)


@router.get("/workers", response_model=list[WorkerOut], summary="Every worker")
def list_workers() -> list[dict[str, Any]]:
    now = get_store().now()
    return [
        {
            **{k: v for k, v in vars(info).items() if k != "jobs"},
            "busy": len(info.jobs),
            "heartbeat_age_seconds": info.heartbeat_age(now).total_seconds(),
            "stale": info.is_stale(now),
            "jobs": [vars(job) for job in info.jobs],
        }
        for info in rj.list_workers()
    ]


_ASK = {"pause": rj.pause_workers, "resume": rj.resume_workers, "stop": rj.stop_workers}
_DESIRED = {"pause": "paused", "resume": "running", "stop": "stopping"}


@router.post(
    "/workers/{name}/{action}",
    response_model=WorkersAskedOut,
    summary="Pause, resume or stop one worker",
    dependencies=[Depends(require_json)],
)
def act_on_worker(name: WorkerName, action: WorkerActionName) -> dict[str, Any]:
    return {"asked": _ASK[action](name), "desired_state": _DESIRED[action]}


@router.post(
    "/workers/{action}",
    response_model=WorkersAskedOut,
    summary="Pause, resume or stop every worker",
    dependencies=[Depends(require_json)],
)
def act_on_workers(action: WorkerActionName) -> dict[str, Any]:
    return {"asked": _ASK[action](None), "desired_state": _DESIRED[action]}


def ask_workers(name: str | None, action: str) -> list[str]:
    """Asks one worker (or all, for None) to pause, resume or stop: the names asked."""
    return _ASK[action](name)
