"""The Failures page: failed jobs grouped by job class and exception class, and the forms
that retry or abort all the failed jobs of a group or of a filtered Failed list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.failures import GROUPS_SHOWN, count_failed, describe_filter
from rocketjob.mission_control.schemas import TEXT
from rocketjob.mission_control.security import CSRF_FIELD, check_form, current_user
from rocketjob.mission_control.templating import Links, Renderer

router = APIRouter(include_in_schema=False)
BulkAction = Literal["retry", "abort"]
# Class names of any length the database holds (the body limit bounds the form).
FilterText = Annotated[str, Form(pattern=TEXT)]
# Counting matches stops here, so a filter over a huge list stays cheap ("1,000+"); a
# search reads descriptions row by row and counts less far.
COUNT_CAP = 1_000
SEARCH_COUNT_CAP = 200
_LABELS = {"retry": "Retry all", "abort": "Abort all"}
_DONE = {"retry": "Retried", "abort": "Aborted"}


@dataclass(frozen=True)
class BulkForm:
    """What the Retry all / Abort all forms of a filter say and send."""

    what: str  # "failed jobs of billing.Charge that raised KeyError"
    fields: dict[str, str]
    filtered: bool


def bulk_form(which: rj.FailedFilter, back: str) -> BulkForm:
    fields = {
        "class_name": which.class_name or "",
        "exception_class": which.exception_class or "",
        "q": which.q or "",
        "back": back,
    }
    what = describe_filter(which)
    return BulkForm(f"failed jobs{what}", fields, filtered=bool(what))


def matching_count(which: rj.FailedFilter, failed: int) -> str:
    """How many failed jobs the filter matches, as shown: capped, "10,000+" past the cap.

    `failed` is the count of every failed job, known already from the counters."""
    if not describe_filter(which):
        return f"{failed:,}"
    cap = SEARCH_COUNT_CAP if which.q else COUNT_CAP
    n = count_failed(which, cap + 1)
    return f"{cap:,}+" if n > cap else f"{n:,}"


def outcome_text(outcome: rj.BulkOutcome, which: rj.FailedFilter) -> str:
    """The flash after a bulk action: how many were changed, and how many were skipped."""
    action = outcome.action.value
    if not outcome.done and not outcome.skipped:
        return f"No failed jobs{describe_filter(which)}: nothing to {action}."
    jobs = "job" if outcome.done == 1 else "jobs"
    text = f"{_DONE[action]} {outcome.done:,} failed {jobs}{describe_filter(which)}."
    if outcome.skipped:
        they = "it" if outcome.skipped == 1 else "they"
        text += f" Skipped {outcome.skipped:,}: {they} changed meanwhile."
    return text


def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


@router.get("/failures")
def failures(request: Request, fragment: bool = False) -> HTMLResponse:
    links = Links.of(request)
    groups = rj.failed_job_groups(GROUPS_SHOWN + 1)
    rows: list[dict[str, Any]] = []
    for group in groups[:GROUPS_SHOWN]:
        which = rj.FailedFilter(group.class_name, group.exception_class)
        filters = {"class": group.class_name, "exception": group.exception_class or ""}
        rows.append(
            {
                "group": group,
                "list_url": links.jobs("failed", **filters),
                "bulk": bulk_form(which, "failures"),
            }
        )
    context = {
        "groups": rows,
        "more": len(groups) > GROUPS_SHOWN,
        "now": get_store().now(),
        "title": "Failures",
        "live_url": links.failures() + "?fragment=1",
    }
    renderer = _renderer(request)
    if fragment:
        return renderer.fragment(request, "failures_live.html", context)
    return renderer.page(request, "failures.html", context)


@router.post("/failures/{action}")
def act_on_failed(
    request: Request,
    action: BulkAction,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
    class_name: FilterText = "",
    exception_class: FilterText = "",
    q: Annotated[str, Form(max_length=200, pattern=TEXT)] = "",
    back: Annotated[Literal["failures", "list"], Form()] = "failures",
) -> Response:
    check_form(request, csrf_token)
    which = rj.FailedFilter(class_name or None, exception_class or None, q or None)
    links = Links.of(request)
    if back == "list":
        filters = {"class": class_name, "exception": exception_class}
        back_url = links.jobs("failed", q or None, **filters)
    else:
        back_url = links.failures()
    renderer = _renderer(request)
    form = bulk_form(which, back)
    if confirmed != "yes":
        context = {
            "title": "Confirm",
            "question": f"{_LABELS[action]} {form.what}?",
            "action_url": links.failures_action(action),
            "label": _LABELS[action],
            "reason": False,
            "reason_value": "",
            "fields": form.fields,
            "cancel_url": back_url,
        }
        return renderer.page(request, "confirm.html", context)
    user = current_user(request)
    by = f"user:{user}" if user else None  # None: the jobs record the local user
    act = rj.retry_failed if action == "retry" else rj.abort_failed
    outcome = act(which, by=by)
    return renderer.redirect(request, back_url, "ok", outcome_text(outcome, which))
