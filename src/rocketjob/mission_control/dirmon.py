"""The Dirmon page: every entry with its state, last scan and the jobs it started; create
and edit forms that show each problem beside its field; Enable, Disable and Destroy as
plain forms (Destroy confirmed first), redirecting with a flash.

Patterns and archive directories are checked by `rj.DirmonEntry` against the roots of this
server's process, whatever the form sends: its messages read the same whether or not a
path outside the roots exists."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

import rocketjob as rj
from rocketjob.config import dirmon_roots, get_store
from rocketjob.dirmon import paths
from rocketjob.dirmon.entry import DEFAULT_ARCHIVE, UPLOAD_FILE_NAME
from rocketjob.jobs import job_classes
from rocketjob.mission_control.dirmon_api import EntryId
from rocketjob.mission_control.schemas import TEXT
from rocketjob.mission_control.security import CSRF_FIELD, check_form
from rocketjob.mission_control.templating import Links, Renderer

router = APIRouter(include_in_schema=False)
# Long enough that an over-long value reaches the entry's own checks, and is shown there.
FormValue = Annotated[str, Form(max_length=10_000, pattern=TEXT)]
FIELDS = ("name", "pattern", "job_class", "properties", "archive_directory")
ACTIONS = {"enable": "Enable", "disable": "Disable", "destroy": "Destroy"}


@dataclass
class EntryForm:
    """What the create and edit forms show: the values as typed, and a problem per field."""

    name: str = ""
    pattern: str = ""
    job_class: str = ""
    properties: str = "{}"
    archive_directory: str = DEFAULT_ARCHIVE
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: rj.DirmonEntry) -> EntryForm:
        return cls(
            entry.name,
            entry.pattern,
            entry.job_class,
            json.dumps(entry.properties, indent=2) if entry.properties else "{}",
            entry.archive_directory,
        )

    def values(self) -> dict[str, Any]:
        """The entry's values; properties not a JSON object → a problem of its own."""
        try:
            properties = json.loads(self.properties) if self.properties.strip() else {}
        except json.JSONDecodeError as error:
            self.errors["properties"] = f"is not JSON: {error.msg} (line {error.lineno})"
            properties = {}
        if not isinstance(properties, dict):
            self.errors["properties"] = 'must be a JSON object: {"field": value, …}'
        return {
            "name": self.name.strip(),
            "pattern": self.pattern.strip(),
            "job_class": self.job_class.strip(),
            "properties": properties if isinstance(properties, dict) else {},
            "archive_directory": self.archive_directory.strip(),
        }

    def refused(self, error: rj.ValidationError) -> None:
        """Places each problem beside its field ("properties.size" beside properties)."""
        for where, problem in error.errors:
            name, _, sub = where.partition(".")
            shown = f"{sub}: {problem}" if sub else problem
            name = name if name in FIELDS else "name"
            if name in self.errors:
                shown = f"{self.errors[name]}; {shown}"
            self.errors[name] = shown


@dataclass(frozen=True)
class EntryButton:
    action: str
    label: str
    question: str  # empty: done without asking


def buttons(entry: rj.DirmonEntry) -> list[EntryButton]:
    """Exactly what the entry's state allows; Destroy asks first."""
    shown = [EntryButton(action, ACTIONS[action], "") for action in entry.actions]
    shown.append(EntryButton("destroy", "Destroy", question(entry)))
    return shown


def question(entry: rj.DirmonEntry) -> str:
    return f"Destroy dirmon entry {entry.name}? The jobs it started and their archived files stay."


def _renderer(request: Request) -> Renderer:
    renderer: Renderer = request.app.state.renderer
    return renderer


def _context() -> dict[str, Any]:
    return {"roots": list(dirmon_roots()), "how_to_configure": paths.HOW_TO_CONFIGURE}


@router.get("/dirmon")
def dirmon(request: Request, fragment: bool = False) -> HTMLResponse:
    entries = rj.DirmonEntry.all()
    context = {
        **_context(),
        "rows": [(entry, buttons(entry)) for entry in entries],
        "now": get_store().now(),
        "title": "Dirmon",
        "live_url": Links.of(request).dirmon() + "?fragment=1",
    }
    if fragment:
        return _renderer(request).fragment(request, "dirmon_live.html", context)
    return _renderer(request).page(request, "dirmon.html", context)


@router.get("/dirmon/new")
def new_entry(request: Request) -> HTMLResponse:
    return _form_page(request, EntryForm(), None)


@router.post("/dirmon")
def create_entry(
    request: Request,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    name: FormValue = "",
    pattern: FormValue = "",
    job_class: FormValue = "",
    properties: FormValue = "",
    archive_directory: FormValue = "",
) -> Response:
    check_form(request, csrf_token)
    form = EntryForm(name, pattern, job_class, properties, archive_directory)
    values = form.values()
    try:
        if form.errors:  # the properties are unreadable: the other fields are checked too
            raise rj.ValidationError("dirmon entry", [])
        entry = rj.DirmonEntry.create(**values)
    except rj.ValidationError as error:
        form.refused(_also_checked(values, error))
        return _form_page(request, form, None)
    text = f"Created dirmon entry {entry.name}: it is pending until enabled."
    return _renderer(request).redirect(request, Links.of(request).dirmon(), "ok", text)


@router.get("/dirmon/{entry_id}/edit")
def edit_entry(request: Request, entry_id: EntryId) -> HTMLResponse:
    entry = rj.DirmonEntry.find(entry_id)
    return _form_page(request, EntryForm.of(entry), entry)


@router.post("/dirmon/{entry_id}")
def update_entry(
    request: Request,
    entry_id: EntryId,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    name: FormValue = "",
    pattern: FormValue = "",
    job_class: FormValue = "",
    properties: FormValue = "",
    archive_directory: FormValue = "",
) -> Response:
    check_form(request, csrf_token)
    entry = rj.DirmonEntry.find(entry_id)
    form = EntryForm(name, pattern, job_class, properties, archive_directory)
    values = form.values()
    try:
        if form.errors:
            raise rj.ValidationError("dirmon entry", [])
        saved = entry.update(**values)
    except rj.ValidationError as error:
        form.refused(_also_checked(values, error, entry.id))
        return _form_page(request, form, entry)
    text = f"Saved dirmon entry {saved.name}: it is {saved.state.value}."
    return _renderer(request).redirect(request, Links.of(request).dirmon(), "ok", text)


@router.post("/dirmon/{entry_id}/{action}")
def act_on_entry(
    request: Request,
    entry_id: EntryId,
    action: str,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_form(request, csrf_token)
    if action not in ACTIONS:
        raise rj.DirmonEntryNotFound(f"there is no dirmon action {action!r}")
    links = Links.of(request)
    renderer = _renderer(request)
    try:
        entry = rj.DirmonEntry.find(entry_id)
        if action == "destroy" and confirmed != "yes":
            context = {
                "title": "Confirm",
                "question": question(entry),
                "action_url": links.dirmon_action(entry.id, action),
                "label": ACTIONS[action],
                "reason": False,
                "reason_value": "",
                "cancel_url": links.dirmon(),
            }
            return renderer.page(request, "confirm.html", context)
        text = _act(entry, action)
    except (rj.InvalidTransition, rj.DirmonEntryNotFound) as error:
        return renderer.redirect(request, links.dirmon(), "error", _sentence(str(error)))
    return renderer.redirect(request, links.dirmon(), "ok", text)


def _act(entry: rj.DirmonEntry, action: str) -> str:
    if action == "enable":
        entry.enable()
        return f"Enabled {entry.name}: the next scan watches {entry.pattern}."
    if action == "disable":
        entry.disable()
        return f"Disabled {entry.name}: its files are left alone until it is enabled."
    entry.destroy()
    return f"Destroyed dirmon entry {entry.name}; the jobs it started and their files stay."


def _also_checked(
    values: dict[str, Any], error: rj.ValidationError, entry_id: int | None = None
) -> rj.ValidationError:
    """With unreadable properties nothing was checked: check the rest without them, so
    every problem shows at once."""
    if error.errors:
        return error
    try:
        rj.DirmonEntry.check(**{**values, "properties": {}}, entry_id=entry_id)
    except rj.ValidationError as found:
        rest = [p for p in found.errors if not p[0].startswith("properties")]
        return rj.ValidationError("dirmon entry", rest)
    return error


def _form_page(request: Request, form: EntryForm, entry: rj.DirmonEntry | None) -> HTMLResponse:
    """The form again, problems shown: a 200, as a page to fill in (nothing was saved)."""
    links = Links.of(request)
    context = {
        **_context(),
        "form": form,
        "entry": entry,
        "title": f"Edit {entry.name}" if entry else "New dirmon entry",
        "action_url": links.dirmon_entry(entry.id) if entry else links.dirmon(),
        "classes": sorted(
            cls.class_name
            for cls in job_classes()
            if cls is not rj.BatchJob and (cls.batch or UPLOAD_FILE_NAME in cls._fieldset.names)
        ),
        "upload_field": UPLOAD_FILE_NAME,
    }
    return _renderer(request).page(request, "dirmon_form.html", context)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
