"""The JSON API of cron schedules: listed as on the Cron page, and Run now, Pause and Resume
of one. Beside the routes of DESIGN §8, with the same rules (writes, errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

import rocketjob as rj
from rocketjob.mission_control.api import actor, guard_write
from rocketjob.mission_control.openapi import errors, links, operation_id
from rocketjob.mission_control.schemas import TEXT, ErrorOut

router = APIRouter(
    prefix="/api",
    tags=["cron"],
    responses=errors(413, 503),
    generate_unique_id_function=operation_id,
)
CronActionName = Literal["run_now", "pause", "resume"]
# Class names as long as the database holds them: a shorter cap would break some links.
ClassName = Annotated[str, Path(pattern=TEXT, description="The job class: module.QualName")]
_ACT = {"run_now": rj.run_cron_now, "pause": rj.pause_cron, "resume": rj.resume_cron}
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorOut,
        "description": "no cron schedule of that class (a worker that imports it writes it)",
    },
    409: {
        "model": ErrorOut,
        "description": "the waiting job's state does not allow the action, or no job waits "
        "for the next run (no worker that imports the class has run since the last one)",
    },
}


class CronOut(BaseModel):
    class_name: str
    cron: str = Field(description="the schedule as written in the class")
    timezone: str = Field(description="the IANA time zone the schedule is read in")
    in_words: str = Field(description="the schedule in English")
    next_run_at: datetime | None = Field(
        description="when the waiting job runs; null when none waits, or it was asked to run now"
    )
    paused: bool
    pending_id: int | None = Field(description="the job waiting for the next run")
    last_job_id: int | None = Field(description="the job of the latest run")
    last_started_at: datetime | None
    last_outcome: str | None = Field(description="running, completed or failed")
    last_finished_at: datetime | None
    last_job_kept: bool = Field(
        description="whether that job is still there (a completed one is deleted unless "
        "its class keeps it)"
    )
    actions: list[CronActionName] = Field(description="what the waiting job's state allows")


@router.get(
    "/cron",
    response_model=list[CronOut],
    summary="Every cron schedule",
    responses=links(first=("act_on_cron", {"class_name": "$response.body#/0/class_name"})),
)
def list_cron() -> list[dict[str, Any]]:
    """Each schedule with the job waiting for its next run, and its latest run."""
    return [info.as_dict() for info in rj.list_cron()]


@router.post(
    "/cron/{class_name:path}/{action}",
    response_model=CronOut,
    summary="Run now, pause or resume a cron schedule",
    dependencies=[Depends(guard_write)],
    responses={**errors(403, 415), **_ERRORS},
)
def act_on_cron(request: Request, class_name: ClassName, action: CronActionName) -> dict[str, Any]:
    """Acts on the job waiting for the schedule's next run: run_now (a worker starts it as
    soon as one is free, and creates the next), pause (nothing runs, and no next job is
    created, until it is resumed), resume. Answers with the schedule after the action."""
    return _ACT[action](class_name, by=actor(request)).as_dict()
