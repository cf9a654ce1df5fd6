from __future__ import annotations

from collections.abc import Sequence


class RocketJobError(Exception):
    """Base class of every error rocketjob raises on purpose."""


class ConfigurationError(RocketJobError):
    """The configuration (database URL, options) cannot work."""


class DatabaseUnavailable(RocketJobError):
    """The database cannot be reached or used."""


class SchemaOutOfDate(RocketJobError):
    """The database holds an older schema; `rocketjob migrate` brings it up to date."""


class JobNotFound(RocketJobError, LookupError):
    """No job with that id (of that class) exists."""


class WorkerNotFound(RocketJobError, LookupError):
    """No worker of that name is registered."""


class CronNotFound(RocketJobError, LookupError):
    """No cron schedule of that class is known (a worker that imports it writes it)."""


class DirmonEntryNotFound(RocketJobError, LookupError):
    """No dirmon entry with that id or name exists."""


class InvalidTransition(RocketJobError):
    """The state table refuses this action in the job's current state."""


class ValidationError(RocketJobError, ValueError):
    """Job fields that cannot be accepted; `errors` names each field and what is wrong."""

    def __init__(self, subject: str, errors: Sequence[tuple[str, str]]) -> None:
        self.subject = subject
        self.errors = list(errors)
        details = "; ".join(f"{field}: {problem}" for field, problem in self.errors)
        super().__init__(f"invalid {subject}: {details}")


class UploadError(RocketJobError, ValueError):
    """A batch upload that cannot be read; names the file and the line (or record)."""

    def __init__(self, source: str, where: str | None, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        super().__init__(f"{source}, {where}: {problem}" if where else f"{source}: {problem}")


class OutputNotReady(RocketJobError):
    """A batch job's output is asked for before the job finished processing."""
