"""The JSON API of failed jobs: grouped as on the Failures page, and retried or aborted all
at once. Beside the routes of DESIGN §8, with the same rules (writes, errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

import rocketjob as rj
from rocketjob.failures import GROUPS_SHOWN
from rocketjob.mission_control.api import InvalidInput, actor, guard_write
from rocketjob.mission_control.openapi import errors, operation_id
from rocketjob.mission_control.schemas import TEXT

router = APIRouter(
    prefix="/api",
    tags=["failures"],
    responses=errors(413, 503),
    generate_unique_id_function=operation_id,
)


class FailedJobGroupOut(BaseModel):
    class_name: str
    exception_class: str | None
    total: int
    last_hour: int
    last_day: int = Field(description="failed in the last 24 hours")
    last_week: int = Field(description="failed in the last 7 days")
    latest_id: int = Field(description="the group's newest failed job")
    latest_message: str | None
    latest_at: datetime | None = Field(description="when that job failed")


_UNSET: dict[str, Any] = {"anyOf": [{"type": "null"}, {"const": ""}]}


class FailedFilterIn(BaseModel):
    """Which failed jobs: every given part must match; an empty body means all of them.
    A search (`q`) goes alone, without the class filters."""

    # The schema says what the route refuses: q beside a class filter (null or "" is unset).
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"properties": {"q": _UNSET}},
                {"properties": {"class_name": _UNSET, "exception_class": _UNSET}},
            ]
        },
    )

    class_name: str | None = Field(None, pattern=TEXT)
    exception_class: str | None = Field(None, pattern=TEXT)
    q: str | None = Field(
        None, max_length=200, pattern=TEXT, description="search text: class name or description"
    )


class BulkOut(BaseModel):
    action: str
    done: int = Field(description="jobs retried or aborted")
    skipped: int = Field(description="jobs that changed meanwhile, left as they were")


@router.get(
    "/failures",
    response_model=list[FailedJobGroupOut],
    summary="Failed jobs grouped by job class and exception class",
)
def failure_groups() -> list[dict[str, Any]]:
    """Counts per group in the last hour, day, week and in total, busiest first."""
    return [vars(group) for group in rj.failed_job_groups(GROUPS_SHOWN)]


@router.post(
    "/failures/{action}",
    response_model=BulkOut,
    summary="Retry or abort every failed job a filter matches",
    dependencies=[Depends(guard_write)],
    responses=errors(403, 415),
)
def act_on_failed(
    request: Request,
    action: Literal["retry", "abort"],
    body: Annotated[FailedFilterIn | None, Body()] = None,
) -> dict[str, Any]:
    """Works through the matching failed jobs in chunks, each in one transaction; a job
    that changed meanwhile is skipped and counted."""
    given = body or FailedFilterIn()
    if given.q and (given.class_name or given.exception_class):
        raise InvalidInput(
            "search, or filter by job and exception class, not both at once", ("body", "q")
        )
    which = rj.FailedFilter(given.class_name, given.exception_class, given.q)
    act = rj.retry_failed if action == "retry" else rj.abort_failed
    outcome = act(which, by=actor(request))
    return {"action": action, "done": outcome.done, "skipped": outcome.skipped}
