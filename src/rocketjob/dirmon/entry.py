"""Dirmon entries: a glob pattern, the job class each matching file starts, and its state."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from rocketjob.config import get_store
from rocketjob.dirmon import paths
from rocketjob.errors import (
    ConfigurationError,
    DirmonEntryNotFound,
    InvalidTransition,
    ValidationError,
)
from rocketjob.jobs import Job, job_class
from rocketjob.store import Row

# The field a job that is not a batch job must declare: dirmon sets it to the archived file.
UPLOAD_FILE_NAME = "upload_file_name"
DEFAULT_ARCHIVE = "archive"


class DirmonState(StrEnum):
    PENDING = "pending"  # saved, not watched until an operator enables it
    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"  # a scan failed; watched again once enabled


# Which states each action starts from.
_FROM: dict[str, tuple[DirmonState, ...]] = {
    "enable": (DirmonState.PENDING, DirmonState.DISABLED, DirmonState.FAILED),
    "disable": (DirmonState.ENABLED, DirmonState.FAILED),
}
_TO = {"enable": DirmonState.ENABLED, "disable": DirmonState.DISABLED}


@dataclasses.dataclass(frozen=True)
class DirmonEntry:
    """A watched pattern: each file it matches, once complete, starts a job of `job_class`
    with `properties`, after moving to `archive_directory` (relative: in the pattern's
    directory before its first wildcard)."""

    id: int
    name: str
    pattern: str
    job_class: str
    properties: dict[str, Any]
    archive_directory: str
    state: DirmonState
    last_error: str | None
    last_scan_at: datetime | None
    files_started: int
    last_job_id: int | None  # the job of the latest file taken
    created_at: datetime
    updated_at: datetime

    @classmethod
    def create(
        cls,
        *,
        name: str,
        pattern: str,
        job_class: str | type[Job],
        properties: dict[str, Any] | None = None,
        archive_directory: str = DEFAULT_ARCHIVE,
    ) -> Self:
        """Validates and saves a new entry, `pending` until enabled; ValidationError names
        each bad field."""
        values = _validated(name, pattern, job_class, properties, archive_directory, None)
        row = get_store().insert_dirmon_entry(values)
        if row is None:
            raise ValidationError("dirmon entry", [("name", f"{name!r} is taken")])
        return cls.from_row(row)

    @classmethod
    def check(
        cls,
        *,
        name: str,
        pattern: str,
        job_class: str | type[Job],
        properties: dict[str, Any] | None = None,
        archive_directory: str = DEFAULT_ARCHIVE,
        entry_id: int | None = None,
    ) -> None:
        """Raises the ValidationError that saving these values (as entry `entry_id`, or
        as a new entry) would raise; saves nothing."""
        _validated(name, pattern, job_class, properties, archive_directory, entry_id)

    def update(self, **changes: Any) -> Self:
        """Saves new values for any of name, pattern, job_class, properties and
        archive_directory, validated as at creation; its state stays."""
        unknown = set(changes) - {
            "name",
            "pattern",
            "job_class",
            "properties",
            "archive_directory",
        }
        if unknown:
            raise ValidationError("dirmon entry", [(n, "cannot be changed") for n in unknown])
        merged = {
            "name": self.name,
            "pattern": self.pattern,
            "job_class": self.job_class,
            "properties": self.properties,
            "archive_directory": self.archive_directory,
            **changes,
        }
        values = _validated(**merged, entry_id=self.id)
        row = get_store().update_dirmon_entry(self.id, values)
        if row is None:
            raise DirmonEntryNotFound(f"no dirmon entry with id {self.id}")
        return self.from_row(row)

    @classmethod
    def find(cls, key: int | str) -> Self:
        """The entry with this id or name; DirmonEntryNotFound otherwise."""
        store = get_store()
        if isinstance(key, int) or key.isdigit():
            row = store.get_dirmon_entry(int(key))
        else:
            row = store.get_dirmon_entry_by_name(key)
        if row is None:
            raise DirmonEntryNotFound(f"no dirmon entry {key!r}")
        return cls.from_row(row)

    @classmethod
    def all(cls) -> list[Self]:
        """Every entry, by name."""
        return [cls.from_row(row) for row in get_store().list_dirmon_entries()]

    @classmethod
    def from_row(cls, row: Row) -> Self:
        values = {field.name: row[field.name] for field in dataclasses.fields(cls)}
        values["state"] = DirmonState(row["state"])
        values["files_started"] = int(row["files_started"])
        values["last_job_id"] = None if row["last_job_id"] is None else int(row["last_job_id"])
        return cls(**values)

    def reload(self) -> Self:
        return self.find(self.id)

    @property
    def actions(self) -> list[str]:
        """enable, disable: those its state allows (destroy always is)."""
        return [action for action, states in _FROM.items() if self.state in states]

    @property
    def jobs_search(self) -> str:
        """What the description of every job it started begins with."""
        return f"{self.name}: "

    def enable(self) -> Self:
        """Watched from the next scan on; from failed, its error is cleared."""
        return self._move("enable")

    def disable(self) -> Self:
        return self._move("disable")

    def destroy(self) -> None:
        """Forgets the entry (the jobs it started and the archived files stay)."""
        if not get_store().delete_dirmon_entry(self.id):
            raise DirmonEntryNotFound(f"no dirmon entry with id {self.id}")

    def _move(self, action: str) -> Self:
        allowed = [state.value for state in _FROM[action]]
        row = get_store().set_dirmon_state(self.id, _TO[action].value, allowed)
        if row is not None:
            return self.from_row(row)
        current = self.reload()  # DirmonEntryNotFound if it is gone
        raise InvalidTransition(
            f"cannot {action} dirmon entry {current.name}: it is {current.state.value}"
        )

    def as_dict(self) -> dict[str, Any]:
        """Its fields and `actions`, as the JSON API and `rocketjob dirmon list --json`."""
        return {**dataclasses.asdict(self), "state": self.state.value, "actions": self.actions}


def _validated(
    name: Any,
    pattern: Any,
    job_class: Any,
    properties: Any,
    archive_directory: Any,
    entry_id: int | None,
) -> dict[str, Any]:
    """The values to store; ValidationError naming every bad one."""
    problems: list[tuple[str, str]] = []
    if not isinstance(name, str) or not name.strip():
        problems.append(("name", "is required"))
    elif len(name) > 200:
        problems.append(("name", "must be at most 200 characters"))
    else:
        taken = get_store().get_dirmon_entry_by_name(name)
        if taken is not None and int(taken["id"]) != entry_id:
            problems.append(("name", f"{name!r} is taken"))
    try:
        pattern_ok = isinstance(pattern, str) and not paths.pattern_problems(pattern)
        if not isinstance(pattern, str):
            problems.append(("pattern", "must be a string"))
        else:
            problems.extend(("pattern", p) for p in paths.pattern_problems(pattern))
        if not isinstance(archive_directory, str):
            problems.append(("archive_directory", "must be a string"))
        elif pattern_ok:
            archive_problems = paths.archive_problems(pattern, archive_directory)
            if not archive_problems:
                archive_problems = _shared_archive(pattern, archive_directory, entry_id)
            problems.extend(("archive_directory", problem) for problem in archive_problems)
    except ConfigurationError as error:
        problems.append(("pattern", str(error)))
    if properties is None:
        properties = {}
    class_name = (
        getattr(job_class, "class_name", None) if isinstance(job_class, type) else job_class
    )
    if not isinstance(properties, dict):
        problems.append(("properties", "must be an object of job field values"))
    elif not isinstance(class_name, str) or not class_name.strip():
        problems.append(("job_class", "is required"))
    else:
        problems.extend(_class_problems(class_name, properties))
    if problems:
        raise ValidationError("dirmon entry", problems)
    return {
        "name": name,
        "pattern": pattern,
        "job_class": class_name,
        "properties": properties,
        "archive_directory": archive_directory,
    }


def _shared_archive(pattern: str, archive_directory: str, entry_id: int | None) -> list[str]:
    """An archive is one entry's own: recovery takes every `<id>_` file in it that no
    take recorded, which would start another entry's in-flight files as its own jobs."""
    mine = paths.real_archive(pattern, archive_directory)
    for row in get_store().list_dirmon_entries():
        if int(row["id"]) == entry_id:
            continue
        if paths.real_archive(str(row["pattern"]), str(row["archive_directory"])) == mine:
            return [
                f"{archive_directory!r} is the archive directory of dirmon entry "
                f"{row['name']}: each entry needs its own"
            ]
    return []


def _class_problems(class_name: str, properties: dict[str, Any]) -> list[tuple[str, str]]:
    cls = job_class(class_name)
    if cls is None or cls is Job:
        return [
            (
                "job_class",
                f"{class_name} is not an imported rocketjob.Job subclass: import its module "
                "here (rocketjob web --import MODULE, rocketjob dirmon --import MODULE)",
            )
        ]
    if UPLOAD_FILE_NAME in properties:
        return [(f"properties.{UPLOAD_FILE_NAME}", "is set by dirmon to the archived file")]
    values = dict(properties)
    if not cls.batch:
        if UPLOAD_FILE_NAME not in cls._fieldset.names:
            return [
                (
                    "job_class",
                    f"{class_name} must declare `{UPLOAD_FILE_NAME}: str` for dirmon to give it "
                    "the file's path (or be a rocketjob.BatchJob, which gets its records)",
                )
            ]
        values[UPLOAD_FILE_NAME] = "/archived/file"
    try:
        cls._fieldset.validate_create(values)
    except ValidationError as error:
        return [(f"properties.{field}", problem) for field, problem in error.errors]
    return []
