"""Throttles: at most `throttle_running_jobs` jobs of a class running at once, across every
worker on every host, or of every class that names the same `throttle_group`.

A throttled class's jobs are stored with their throttle's name (`throttle`), which keeps
them out of the claim's index: the ordinary claim never reads them, so a class at its limit
holds nobody up. A worker that imports throttled classes claims their jobs apart, one
throttle at a time: it locks the throttle's row, counts the throttle's running jobs (an
index of its own, as small as the running jobs), and takes at most what is left. The lock
makes claimers of one throttle take turns, so no two can both see room for the last slot;
jobs leaving `running` only make room, so no count can be too low for long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rocketjob.errors import ValidationError

if TYPE_CHECKING:
    from rocketjob.jobs import Job


@dataclass(frozen=True)
class Throttle:
    name: str  # the group, or the class name when the class has no group
    limit: int


def check_class(cls: type[Job]) -> None:
    limit: Any = cls.throttle_running_jobs
    group: Any = cls.throttle_group
    problems: list[tuple[str, str]] = []
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        problems.append(("throttle_running_jobs", f"must be a whole number above 0: {limit!r}"))
    if group is not None:
        if not isinstance(group, str) or not group.strip():
            problems.append(("throttle_group", f"must be a name: {group!r}"))
        elif limit is None:
            problems.append(("throttle_group", "needs throttle_running_jobs: the group's limit"))
    if problems:
        raise ValidationError(f"throttle of {cls.class_name}", problems)


def name_of(cls: type[Job]) -> str | None:
    """The throttle a class's jobs are stored under, if any."""
    if cls.throttle_running_jobs is None:
        return None
    return cls.throttle_group or cls.class_name


def throttles_of(
    classes: list[type[Job]], include: str | None, exclude: str | None
) -> list[Throttle]:
    """The throttles of the classes a worker runs. Classes of one group that give different
    limits share the smallest: no class sees more of its group running than it allows."""
    limits: dict[str, int] = {}
    for cls in classes:
        name = name_of(cls)
        if name is None or cls.throttle_running_jobs is None:
            continue
        if include is not None and not re.search(include, cls.class_name):
            continue
        if exclude is not None and re.search(exclude, cls.class_name):
            continue
        limit = cls.throttle_running_jobs
        limits[name] = min(limit, limits.get(name, limit))
    return [Throttle(name, limit) for name, limit in sorted(limits.items())]
