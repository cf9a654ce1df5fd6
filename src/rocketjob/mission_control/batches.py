"""Batch jobs in Mission Control: the slice bar, progress, failures by exception class, a
failed record, a per-slice Retry, and the output and failed records as downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

import rocketjob as rj
from rocketjob.mission_control import views
from rocketjob.mission_control.api import JobId
from rocketjob.mission_control.security import CSRF_FIELD, check_form, current_user
from rocketjob.mission_control.templating import Links, Renderer
from rocketjob.states import State, SubState

router = APIRouter(include_in_schema=False)
Position = Annotated[int, Path(ge=1, le=2**31 - 1)]
# Failed slices listed on the job page; the CSV download has every failed record.
FAILED_SHOWN = 20
# The slice bar, left to right.
BAR = (("completed", "done"), ("running", "running"), ("failed", "failed"), ("queued", "queued"))
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "lines": "txt"}
MEDIA_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "lines": "text/plain"}


@dataclass(frozen=True)
class Segment:
    state: str
    label: str
    slices: int
    x: float  # where it starts and how wide it is, out of 1000
    width: float


def slice_bar(slices: dict[str, int]) -> list[Segment]:
    total = sum(slices.values())
    segments, x = [], 0.0
    for state, label in BAR:
        width = 1000 * slices[state] / total if total else 0.0
        segments.append(Segment(state, label, slices[state], x, width))
        x += width
    return segments


def batch_context(job: rj.BatchJob, now: datetime) -> dict[str, Any]:
    """What a batch job's page shows of its records, slices and failures."""
    status = job.batch_status()
    failed = job.failed_slices(limit=FAILED_SHOWN) if status.slices["failed"] else []
    finished = job.state is State.COMPLETED or job.sub_state is SubState.AFTER
    return {
        "status": status,
        "bar": slice_bar(status.slices),
        "slice_count": sum(status.slices.values()),
        "rate": f"{status.records_per_s:,.0f}" if status.records_per_s else None,
        "eta": views.format_duration(status.eta) if status.eta is not None else None,
        "groups": job.failures_by_exception() if failed else [],
        "failed": failed,
        "more_failed": status.slices["failed"] - len(failed),
        "output": job.output_format is not None and finished,
    }


def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


def _batch_job(job_id: int) -> rj.BatchJob:
    job = rj.Job.find(job_id)
    if not isinstance(job, rj.BatchJob):
        raise rj.JobNotFound(f"job {job_id} is not a batch job")
    return job


@router.get("/jobs/{job_id}/slices/{position}")
def failed_slice(request: Request, job_id: JobId, position: Position) -> HTMLResponse:
    job = _batch_job(job_id)
    try:
        failed = job.failed_record(position)
    except LookupError:
        raise rj.JobNotFound(f"job {job_id} has no failed slice {position}") from None
    context = {
        "job": job,
        "failed": failed,
        "record": views.field_views({"record": failed.record})[0],
        "title": f"Slice {position} of {views.short_class(job.class_name)} #{job.id}",
    }
    return _renderer(request).page(request, "slice.html", context)


@router.post("/jobs/{job_id}/slices/{position}/retry")
def retry_slice(
    request: Request,
    job_id: JobId,
    position: Position,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_form(request, csrf_token)
    job = _batch_job(job_id)
    links = Links.of(request)
    renderer = _renderer(request)
    if confirmed != "yes":
        context = {
            "title": "Confirm",
            "question": f"Retry slice {position} of job #{job.id} ({job.class_name})?",
            "action_url": f"{links.job(job.id)}/slices/{position}/retry",
            "label": "Retry",
            "reason": False,
            "reason_value": "",
            "cancel_url": links.job(job.id),
        }
        return renderer.page(request, "confirm.html", context)
    user = current_user(request)
    try:
        job.retry_slice(position, by=f"user:{user}" if user else None)
    except rj.InvalidTransition as error:
        return renderer.redirect(request, links.job(job.id), "error", f"{error}.")
    text = f"Retried slice {position} of job #{job.id}: it is queued."
    return renderer.redirect(request, links.job(job.id), "ok", text)


@router.get("/jobs/{job_id}/output")
def download_output(job_id: JobId, escape_formulas: bool = True) -> StreamingResponse:
    job = _batch_job(job_id)
    # Refuses now (409) if the job has not finished. CSV cells that would run as formulas
    # are escaped unless ?escape_formulas=false: the file is opened by people.
    chunks = job.output_bytes(escape_formulas=escape_formulas)
    output_format = job.output_format or "lines"
    name = f"{views.short_class(job.class_name)}-{job.id}.{EXTENSIONS[output_format]}"
    return StreamingResponse(
        iter(chunks),
        media_type=MEDIA_TYPES[output_format],
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/jobs/{job_id}/failed-records.csv")
def download_failed(job_id: JobId, escape_formulas: bool = True) -> StreamingResponse:
    job = _batch_job(job_id)
    name = f"{views.short_class(job.class_name)}-{job.id}-failed.csv"
    return StreamingResponse(
        job.failed_records_csv(escape_formulas=escape_formulas),
        media_type="text/csv",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
