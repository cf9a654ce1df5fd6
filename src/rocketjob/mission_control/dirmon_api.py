"""The JSON API of dirmon entries: listed as by `rocketjob dirmon list --json`, created,
changed, enabled, disabled and destroyed. Patterns are checked against the dirmon roots of
this server's process: no request can make a worker read files elsewhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

import rocketjob as rj
from rocketjob.mission_control.api import InvalidInput, guard_write
from rocketjob.mission_control.openapi import errors, operation_id
from rocketjob.mission_control.schemas import ErrorOut

router = APIRouter(
    prefix="/api",
    tags=["dirmon"],
    responses=errors(413, 503),
    generate_unique_id_function=operation_id,
)
EntryId = Annotated[int, Path(ge=1, le=2**62, description="The entry's id")]
DirmonActionName = Literal["enable", "disable"]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "no dirmon entry with that id"}
}
_REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "the entry's state does not allow the action"}
}


class DirmonEntryIn(BaseModel):
    name: str = Field(max_length=200)
    pattern: str = Field(
        max_length=4096, description="an absolute glob under a dirmon root: /in/**/*.{csv,txt}"
    )
    job_class: str = Field(max_length=1000, description="module.QualName of a rocketjob.Job")
    properties: dict[str, Any] = Field(
        default_factory=dict, description="values of the job's fields"
    )
    archive_directory: str = Field(
        "archive", max_length=4096, description="relative: in the pattern's base directory"
    )


class DirmonEntryOut(BaseModel):
    id: int
    name: str
    pattern: str
    job_class: str
    properties: dict[str, Any]
    archive_directory: str
    state: Literal["pending", "enabled", "disabled", "failed"]
    last_error: str | None = Field(description="why the last scan failed (state failed)")
    last_scan_at: datetime | None
    files_started: int
    last_job_id: int | None = Field(description="the job of the latest file taken")
    created_at: datetime
    updated_at: datetime
    actions: list[DirmonActionName] = Field(description="what its state allows")


def _saved(save: Any) -> dict[str, Any]:
    try:
        entry = save()
    except rj.ValidationError as error:
        field = error.errors[0][0]
        raise InvalidInput(str(error), ("body", field.split(".")[0])) from None
    return dict(entry.as_dict())


@router.get("/dirmon", response_model=list[DirmonEntryOut], summary="Every dirmon entry")
def list_dirmon() -> list[dict[str, Any]]:
    """Every entry, by name, with its state, last scan and files started."""
    return [entry.as_dict() for entry in rj.DirmonEntry.all()]


@router.post(
    "/dirmon",
    response_model=DirmonEntryOut,
    status_code=201,
    summary="Create a dirmon entry",
    dependencies=[Depends(guard_write)],
    responses=errors(403, 415),
)
def create_dirmon(entry: DirmonEntryIn) -> dict[str, Any]:
    """Saves a pending entry; 422 names the first bad field (all in the message)."""
    return _saved(lambda: rj.DirmonEntry.create(**entry.model_dump()))


@router.get(
    "/dirmon/{entry_id}",
    response_model=DirmonEntryOut,
    summary="One dirmon entry",
    responses=_NOT_FOUND,
)
def show_dirmon(entry_id: EntryId) -> dict[str, Any]:
    return rj.DirmonEntry.find(entry_id).as_dict()


@router.put(
    "/dirmon/{entry_id}",
    response_model=DirmonEntryOut,
    summary="Change a dirmon entry",
    dependencies=[Depends(guard_write)],
    responses={**errors(403, 415), **_NOT_FOUND},
)
def update_dirmon(entry_id: EntryId, entry: DirmonEntryIn) -> dict[str, Any]:
    """Saves new values, validated as at creation; the state stays."""
    found = rj.DirmonEntry.find(entry_id)
    return _saved(lambda: found.update(**entry.model_dump()))


@router.post(
    "/dirmon/{entry_id}/{action}",
    response_model=DirmonEntryOut,
    summary="Enable or disable a dirmon entry",
    dependencies=[Depends(guard_write)],
    responses={**errors(403, 415), **_NOT_FOUND, **_REFUSED},
)
def act_on_dirmon(entry_id: EntryId, action: DirmonActionName) -> dict[str, Any]:
    entry = rj.DirmonEntry.find(entry_id)
    moved = entry.enable() if action == "enable" else entry.disable()
    return moved.as_dict()


@router.delete(
    "/dirmon/{entry_id}",
    status_code=204,
    summary="Destroy a dirmon entry",
    dependencies=[Depends(guard_write)],
    responses={**errors(403), **_NOT_FOUND},
)
def destroy_dirmon(entry_id: EntryId) -> None:
    """Forgets the entry; the jobs it started and their archived files stay."""
    rj.DirmonEntry.find(entry_id).destroy()
