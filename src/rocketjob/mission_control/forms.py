"""Every action as a plain HTML form POST: confirm, act, then redirect with a flash message.

A form sent without `confirmed=yes` gets a confirmation page back (that is how actions ask
for confirmation with JavaScript off); the page's script asks in a dialog instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.mission_control import views
from rocketjob.mission_control.api import JobId, WorkerName, ask_workers
from rocketjob.mission_control.schemas import TEXT
from rocketjob.mission_control.security import CSRF_FIELD, check_form, current_user
from rocketjob.mission_control.templating import Links, Renderer
from rocketjob.states import Action, list_state

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form(max_length=1000, pattern=TEXT)]
_JOB_ACTIONS = {a.value: a for a in views.ACTION_LABELS}
_WORKER_ACTIONS = tuple(views.WORKER_ACTION_LABELS)


def _operator(request: Request) -> str | None:
    user = current_user(request)
    return f"user:{user}" if user else None  # None: the job records the local user


def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


def _confirm(request: Request, context: dict[str, Any]) -> Response:
    return _renderer(request).page(request, "confirm.html", {**context, "title": "Confirm"})


@router.post("/jobs/{job_id}/{action}")
def act_on_job(
    request: Request,
    job_id: JobId,
    action: str,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: FormText = "",
    reason: FormText = "",
) -> Response:
    check_form(request, csrf_token)
    chosen = _JOB_ACTIONS.get(action)
    if chosen is None:
        raise rj.JobNotFound(f"there is no job action {action!r}")
    job = rj.Job.find(job_id)
    links = Links.of(request)
    label = views.ACTION_LABELS[chosen]
    if confirmed != "yes":
        return _confirm(
            request,
            {
                "question": f"{label} job #{job.id} ({job.class_name})?",
                "action_url": links.job_action(job.id, action),
                "label": label,
                "reason": chosen is Action.FAIL,
                "reason_value": reason,
                "cancel_url": links.job(job.id),
            },
        )
    renderer = _renderer(request)
    by = _operator(request)
    try:
        if chosen is Action.DESTROY:
            job.destroy(by=by)
        elif chosen is Action.FAIL:
            job.fail(reason.strip() or None, by=by)
        else:
            getattr(job, chosen.value)(by=by)
    except rj.InvalidTransition as error:
        return renderer.redirect(request, links.job(job.id), "error", _sentence(str(error)))
    done = f"{views.ACTION_DONE[chosen]} job #{job.id} ({views.short_class(job.class_name)})"
    if chosen is Action.DESTROY:
        return renderer.redirect(request, links.jobs(), "ok", f"{done}.")
    now_state = list_state(job.state, job.run_at, get_store().now())
    return renderer.redirect(request, links.job(job.id), "ok", f"{done}: it is {now_state}.")


@router.post("/workers/{action}")
def act_on_workers(
    request: Request,
    action: str,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: FormText = "",
) -> Response:
    return _worker_action(request, None, action, csrf_token, confirmed)


@router.post("/workers/{name}/{action}")
def act_on_worker(
    request: Request,
    name: WorkerName,
    action: str,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: FormText = "",
) -> Response:
    return _worker_action(request, name, action, csrf_token, confirmed)


def _worker_action(
    request: Request, name: str | None, action: str, csrf_token: str, confirmed: str
) -> Response:
    check_form(request, csrf_token)
    if action not in _WORKER_ACTIONS:
        raise rj.WorkerNotFound(f"there is no worker action {action!r}")
    links = Links.of(request)
    label = views.WORKER_ACTION_LABELS[action]
    whom = f"worker {name}" if name else "every worker"
    if confirmed != "yes":
        return _confirm(
            request,
            {
                "question": f"{label} {whom}?",
                "action_url": links.worker_action(name, action),
                "label": f"{label} all" if name is None else label,
                "reason": False,
                "reason_value": "",
                "cancel_url": links.workers(),
            },
        )
    asked = ask_workers(name, action)
    if not asked:
        text = f"No worker is running: there is nothing to {action}."
    elif name is None:
        many = "1 worker" if len(asked) == 1 else f"{len(asked)} workers"
        text = f"Asked every worker to {action} ({many})."
    else:
        text = f"Asked worker {name} to {action}."
    return _renderer(request).redirect(request, links.workers(), "ok", text)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
