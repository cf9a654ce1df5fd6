"""The JSON API under /api: jobs, their counts and actions, and the workers.

Writes take no body or a JSON one, and never come from another site's page (see
security.check_api_write). Every error answers `{"detail": …}`: a sentence, or for 422
the list of what was wrong where, as OpenAPI documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from starlette.exceptions import HTTPException

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.mission_control import views
from rocketjob.mission_control.openapi import WRITE_ERRORS, errors, links, operation_id
from rocketjob.mission_control.schemas import (
    TEXT,
    CountsOut,
    FailIn,
    JobDetailOut,
    JobPageOut,
    WorkerOut,
    WorkersAskedOut,
)
from rocketjob.mission_control.security import check_api_write, current_user
from rocketjob.states import list_state

ListState = Literal["running", "scheduled", "queued", "paused", "failed", "aborted", "completed"]
JobActionName = Literal["pause", "resume", "retry", "fail", "abort", "run_now"]
WorkerActionName = Literal["pause", "resume", "stop"]
Search = Annotated[
    str | None, Query(max_length=200, pattern=TEXT, description="Class name or description")
]
Cursor = Annotated[str | None, Query(max_length=100, description="next_cursor of a page")]
# Class and worker names are as long as the database holds them: a shorter cap would
# break the links of the groups and workers whose names pass it.
ClassFilter = Annotated[str | None, Query(alias="class", pattern=TEXT, description="A job class")]
ExceptionFilter = Annotated[
    str | None, Query(alias="exception", pattern=TEXT, description="An exception class")
]
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]
WorkerName = Annotated[str, Path(pattern=TEXT)]
PAGE_SIZE = 50


class InvalidInput(ValueError):
    """Input that passed the types but not the meaning (a cursor that is no cursor);
    `loc` says where, as in validation errors: ("query", "cursor")."""

    def __init__(self, message: str, loc: tuple[str, ...]) -> None:
        super().__init__(message)
        self.loc = loc


def guard_write(request: Request) -> None:
    check_api_write(request)
    if not _has_body(request):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise HTTPException(415, "send a request body as JSON, with Content-Type: application/json")


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


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
        raise InvalidInput(
            "search, or filter by job and exception class, not both at once", ("query", "q")
        )
    try:
        return rj.Job.page(
            state,
            q=q or None,
            limit=limit,
            cursor=cursor,
            class_name=class_name or None,
            exception_class=exception_class or None,
        )
    except (ValueError, OverflowError) as error:
        # OverflowError: a Scheduled cursor whose time zone moves it past year 1 or 9999.
        raise InvalidInput(_cursor_refused(cursor, error), ("query", "cursor")) from None


def _cursor_refused(cursor: str | None, error: Exception) -> str:
    if isinstance(error, OverflowError):
        return f"invalid cursor {cursor!r}: its time is out of range"
    return str(error)


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
        "singleton_key": job.singleton_slot,
        "waiting_on": job.waiting_on,
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
    neighbours = job.dependencies()
    detail = {
        **job_out(job, now),
        "depends_on": [vars(n) for n in neighbours.waits_on],
        "dependants": [vars(n) for n in neighbours.waited_on_by],
        "waiting": [reason.to_json() for reason in job.waiting_reasons()],
        "history": history,
        "failures": failures,
    }
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


router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses=errors(413, 503),
    generate_unique_id_function=operation_id,
)
_JOB = {"job_id": "$response.body#/id"}


@router.get(
    "/jobs",
    response_model=JobPageOut,
    summary="A page of jobs",
    responses=links(first=("show_job", {"job_id": "$response.body#/jobs/0/id"})),
)
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


# Job ids are digits in the route itself, so /api/jobs/counts is never taken for a job.
@router.get(
    "/jobs/{job_id:int}",
    response_model=JobDetailOut,
    summary="One job, with its history",
    responses={
        **errors(404),
        **links(act=("act_on_job", _JOB), destroy=("destroy_job", _JOB)),
    },
)
def show_job(job_id: JobId) -> dict[str, Any]:
    return job_detail(rj.Job.find(job_id), get_store().now())


@router.post(
    "/jobs/{job_id:int}/{action}",
    response_model=JobDetailOut,
    summary="Act on a job",
    dependencies=[Depends(guard_write)],
    responses={**WRITE_ERRORS, **links(job=("show_job", _JOB))},
)
def act_on_job(
    request: Request,
    job_id: JobId,
    action: JobActionName,
    body: Annotated[FailIn | None, Body()] = None,
) -> dict[str, Any]:
    """pause, resume, retry, fail (optional JSON body `{"reason": …}`), abort, run_now.
    No body and no Content-Type are needed: `curl -X POST …/api/jobs/7/retry` works."""
    job = rj.Job.find(job_id)
    by = actor(request)
    if action == "fail":
        job.fail(body.reason if body else None, by=by)
    else:
        getattr(job, action)(by=by)
    return job_detail(job, get_store().now())


@router.delete(
    "/jobs/{job_id:int}",
    status_code=204,
    summary="Destroy a job",
    dependencies=[Depends(guard_write)],
    responses=WRITE_ERRORS,
)
def destroy_job(request: Request, job_id: JobId) -> Response:
    rj.Job.find(job_id).destroy(by=actor(request))
    return Response(status_code=204)


@router.get(
    "/workers",
    response_model=list[WorkerOut],
    summary="Every worker",
    responses=links(first=("act_on_worker", {"name": "$response.body#/0/name"})),
)
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
    dependencies=[Depends(guard_write)],
    responses=errors(403, 404, 415),
)
def act_on_worker(name: WorkerName, action: WorkerActionName) -> dict[str, Any]:
    return {"asked": _ASK[action](name), "desired_state": _DESIRED[action]}


@router.post(
    "/workers/{action}",
    response_model=WorkersAskedOut,
    summary="Pause, resume or stop every worker",
    dependencies=[Depends(guard_write)],
    responses=errors(403, 415),
)
def act_on_workers(action: WorkerActionName) -> dict[str, Any]:
    return {"asked": _ASK[action](None), "desired_state": _DESIRED[action]}


def ask_workers(name: str | None, action: str) -> list[str]:
    """Asks one worker (or all, for None) to pause, resume or stop: the names asked."""
    return _ASK[action](name)
