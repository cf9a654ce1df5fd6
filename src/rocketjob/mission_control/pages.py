"""The HTML pages: the job lists, a job, the workers. `?fragment=1` returns only the parts
that refresh by themselves, for the page's script to swap in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse

import rocketjob as rj
from rocketjob.behaviours import waiting
from rocketjob.config import get_store
from rocketjob.mission_control import batches, failures, views
from rocketjob.mission_control.api import (
    ClassFilter,
    Cursor,
    ExceptionFilter,
    JobId,
    ListState,
    Search,
    load_page,
)
from rocketjob.mission_control.templating import Links, Renderer
from rocketjob.states import list_state

router = APIRouter(include_in_schema=False)
Fragment = Annotated[bool, Query(description="only the live parts of the page")]


def _render(
    request: Request, template: str, context: dict[str, Any], fragment: bool
) -> HTMLResponse:
    renderer: Renderer = request.app.state.renderer
    if fragment:
        return renderer.fragment(request, f"{template}_live.html", context)
    return renderer.page(request, f"{template}.html", context)


@router.get("/")
def home(request: Request) -> RedirectResponse:
    return RedirectResponse(Links.of(request).jobs(), status_code=303)


@router.get("/jobs")
def jobs(
    request: Request,
    state: ListState | None = None,
    q: Search = None,
    cursor: Cursor = None,
    class_name: ClassFilter = None,
    exception: ExceptionFilter = None,
    fragment: Fragment = False,
) -> HTMLResponse:
    page = load_page(state, q, cursor, class_name=class_name, exception_class=exception)
    now = get_store().now()
    filters = {"class": class_name or "", "exception": exception or ""}
    which = rj.FailedFilter(class_name, exception, q)
    counts = rj.Job.counts()
    context = {
        "state": state,
        "q": q or "",
        "cursor": cursor,
        "filters": filters,
        "bulk": failures.bulk_form(which, "list") if state == "failed" else None,
        "matching": failures.matching_count(which, counts["failed"]) if state == "failed" else "",
        "matches": _matches(state, q) if q and state != "failed" else "",
        "page": page,
        "rows": _rows(page.jobs, now),
        "counts": counts,
        # queued work no worker will take: the operator's cue to look at the workers
        "stalled": waiting.no_live_worker(get_store()) if counts["queued"] else None,
        "now": now,
        "title": views.LIST_NAMES[state] + " jobs",
        "empty_text": views.EMPTY_TEXT[state],
        "live_url": Links.of(request).jobs(state, q, cursor, fragment="1", **filters),
    }
    return _render(request, "jobs", context, fragment)


def _matches(state: str | None, q: str) -> str:
    """How many jobs of the list match the search, capped: "200+ queued jobs match “x”"."""
    cap = failures.SEARCH_COUNT_CAP
    page = load_page(state, q, None, cap)
    n = len(page.jobs)
    count = f"{cap:,}+" if page.next_cursor else f"{n:,}"
    kind = f"{views.LIST_NAMES[state].lower()} " if state else ""
    verb = "matches" if n == 1 and not page.next_cursor else "match"
    return f"{count} {kind}job{'' if verb == 'matches' else 's'} {verb} “{q}”"


def _rows(jobs: list[rj.Job], now: datetime) -> list[dict[str, Any]]:
    processing = [j.id for j in jobs if isinstance(j, rj.BatchJob) and j.state is rj.State.RUNNING]
    workers = rj.BatchJob.workers_on(processing) if processing else {}  # type: ignore[arg-type]
    return [
        {
            "job": job,
            "state": list_state(job.state, job.run_at, now),
            "duration": views.duration_text(job, now),
            "workers": workers.get(job.id, 0) if job.id is not None else 0,
            "retry": f"retry {job.attempt} of {type(job).retry_limit}" if job.attempt else None,
        }
        for job in jobs
    ]


# Prerequisites in these states complete only if an operator acts.
STOPPED = (rj.State.FAILED, rj.State.ABORTED, rj.State.PAUSED)


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: JobId, fragment: Fragment = False) -> HTMLResponse:
    found = rj.Job.find(job_id)
    now = get_store().now()
    state = list_state(found.state, found.run_at, now)
    history = list(reversed(found.history()))
    neighbours = found.dependencies()
    context = {
        "job": found,
        "neighbours": neighbours,
        "waiting": found.waiting_reasons(),
        # what holds it that no worker will finish: the operator's to retry or destroy
        "holding_stopped": [n.in_words() for n in neighbours.holding if n.state in STOPPED],
        "state": state,
        "duration": views.duration_text(found, now),
        "fields": views.field_views(found.fields),
        "history": history,
        "retry": views.retry_text(found, now),
        "failures": [entry for entry in history if entry.action == "fail"],
        "batch": batches.batch_context(found, now) if isinstance(found, rj.BatchJob) else None,
        "now": now,
        "title": f"{views.short_class(found.class_name)} #{found.id}",
        "live_url": Links.of(request).job(found.id) + "?fragment=1",
    }
    return _render(request, "job", context, fragment)


@router.get("/workers")
def workers(request: Request, fragment: Fragment = False) -> HTMLResponse:
    now = get_store().now()
    listed = [views.worker_view(info, now) for info in rj.list_workers()]
    context = {
        "workers": listed,
        "now": now,
        "title": "Workers",
        "live_url": Links.of(request).workers() + "?fragment=1",
    }
    return _render(request, "workers", context, fragment)
