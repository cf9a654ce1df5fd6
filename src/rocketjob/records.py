"""Plain values a job carries or returns: its exception, its history, a page of jobs."""

from __future__ import annotations

import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rocketjob.jobs import Job


@dataclass(frozen=True)
class JobException:
    """Why a job failed: exception class, message, backtrace and the worker it ran on."""

    class_name: str
    message: str
    backtrace: list[str] = field(default_factory=list)
    worker_name: str | None = None

    @classmethod
    def from_exception(cls, error: BaseException, worker_name: str | None) -> JobException:
        kind = type(error)
        name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else (f"{kind.__module__}.{kind.__qualname__}")
        )
        backtrace = [
            line.rstrip("\n")
            for chunk in traceback.format_exception(error)
            for line in chunk.splitlines()
        ]
        return cls(name, str(error), backtrace, worker_name)

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> JobException | None:
        if not value:
            return None
        return cls(
            class_name=str(value.get("class_name", "")),
            message=str(value.get("message", "")),
            backtrace=[str(line) for line in value.get("backtrace") or []],
            worker_name=value.get("worker_name"),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HistoryEntry:
    """One transition: when, from which state to which, by which action, and by whom."""

    at: datetime
    from_state: str | None
    to_state: str
    action: str
    by: str
    message: str | None = None

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> HistoryEntry:
        return cls(
            at=_utc(datetime.fromisoformat(value["at"])),
            from_state=value.get("from"),
            to_state=value["to"],
            action=value["action"],
            by=value.get("by") or "",
            message=value.get("message"),
        )


@dataclass(frozen=True)
class JobPage:
    """One page of a job list; pass `next_cursor` to get the next (None: this is the last)."""

    jobs: list[Job]
    next_cursor: str | None


def _utc(value: datetime) -> datetime:
    # SQLite writes UTC times without an offset.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
