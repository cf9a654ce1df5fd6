"""The Cron page: every schedule with its next and latest run, and Run now, Pause and Resume
as plain forms (confirm, act, redirect with a flash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.cron import CRON_ACTIONS
from rocketjob.mission_control import views
from rocketjob.mission_control.cron_api import ClassName
from rocketjob.mission_control.security import CSRF_FIELD, check_form, current_user
from rocketjob.mission_control.templating import Links, Renderer
from rocketjob.states import Action

router = APIRouter(include_in_schema=False)
_ACTIONS = {action.value: action for action in CRON_ACTIONS}
_ACT = {Action.RUN_NOW: rj.run_cron_now, Action.PAUSE: rj.pause_cron, Action.RESUME: rj.resume_cron}


@dataclass(frozen=True)
class CronButton:
    action: str
    label: str
    question: str


@dataclass(frozen=True)
class CronRow:
    info: rj.CronInfo
    status: views.CronStatus
    buttons: tuple[CronButton, ...]


def cron_row(info: rj.CronInfo, now: datetime) -> CronRow:
    buttons = tuple(
        CronButton(action.value, views.ACTION_LABELS[action], question(action, info.class_name))
        for action in info.actions
    )
    return CronRow(info, views.cron_status(info, now), buttons)


def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


@router.get("/cron")
def cron(request: Request, fragment: bool = False) -> HTMLResponse:
    now = get_store().now()
    context = {
        "rows": [cron_row(info, now) for info in rj.list_cron()],
        "now": now,
        "title": "Cron",
        "live_url": Links.of(request).cron() + "?fragment=1",
    }
    if fragment:
        return _renderer(request).fragment(request, "cron_live.html", context)
    return _renderer(request).page(request, "cron.html", context)


@router.post("/cron/{class_name:path}/{action}")
def act_on_cron(
    request: Request,
    class_name: ClassName,
    action: str,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_form(request, csrf_token)
    chosen = _ACTIONS.get(action)
    if chosen is None:
        raise rj.CronNotFound(f"there is no cron action {action!r}")
    links = Links.of(request)
    renderer = _renderer(request)
    if confirmed != "yes":
        context = {
            "title": "Confirm",
            "question": question(chosen, class_name),
            "action_url": links.cron_action(class_name, action),
            "label": views.ACTION_LABELS[chosen],
            "reason": False,
            "reason_value": "",
            "cancel_url": links.cron(),
        }
        return renderer.page(request, "confirm.html", context)
    user = current_user(request)
    by = f"user:{user}" if user else None  # None: the job records the local user
    try:
        info = _ACT[chosen](class_name, by=by)
    except (rj.InvalidTransition, rj.CronNotFound) as error:
        return renderer.redirect(request, links.cron(), "error", _sentence(str(error)))
    text = done_text(chosen, info, get_store().now())
    return renderer.redirect(request, links.cron(), "ok", text)


def question(action: Action, class_name: str) -> str:
    """What the confirmation asks before an action on a schedule."""
    if action is Action.RUN_NOW:
        return f"Run {class_name} now, ahead of its schedule?"
    if action is Action.PAUSE:
        return f"Pause {class_name}? Nothing of it runs until it is resumed."
    return f"Resume {class_name}?"


def done_text(action: Action, info: rj.CronInfo, now: datetime) -> str:
    """The flash after an action: what the schedule does now."""
    name = views.short_class(info.class_name)
    if action is Action.RUN_NOW:
        return f"{name} runs now: job #{info.pending_id} starts as soon as a worker is free."
    if action is Action.PAUSE:
        return f"Paused {name}: nothing of it runs until it is resumed."
    if info.next_run_at is None or info.next_run_at <= now:
        return f"Resumed {name}: its missed run starts as soon as a worker is free."
    return f"Resumed {name}: next run {views.relative_time(info.next_run_at, now)}."


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
