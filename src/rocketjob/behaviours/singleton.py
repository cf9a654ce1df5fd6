"""Singletons and unique jobs: `singleton = True` allows one queued, running or paused job
of the class; `singleton_key()` narrows that to one per key (unique jobs).

A job carries its slot (the class name, or the class name and key) from its creation; a
unique index over the slots of queued, running and paused jobs keeps a second one out,
so two creators racing cannot both win. A job that completes, fails or is aborted leaves
its slot free; retrying it takes the slot again, if nobody took it meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocketjob.errors import ValidationError

if TYPE_CHECKING:
    from rocketjob.jobs import Job

ON_CONFLICT = ("raise", "existing")


class SingletonTaken(ValidationError):
    """A job of a singleton class (or with this singleton key) is queued, running or
    paused already: `holder_id` is its id."""

    def __init__(self, class_name: str, slot: str, holder_id: int, holder_state: str) -> None:
        self.slot = slot
        self.holder_id = holder_id
        problem = f"job #{holder_id} ({holder_state}) holds the singleton slot {slot!r}"
        super().__init__(f"job {class_name}", [("singleton_key", problem)])


def check_class(cls: type[Job]) -> None:
    if not isinstance(cls.__dict__.get("singleton", False), bool):
        raise TypeError(f"{cls.class_name}.singleton must be True or False")


def is_unique(cls: type[Job]) -> bool:
    """Whether jobs of `cls` hold a slot: `singleton = True`, or a `singleton_key()`."""
    from rocketjob.jobs import Job

    return bool(cls.singleton) or cls.singleton_key is not Job.singleton_key


def slot_of(job: Job) -> str | None:
    """The slot a new job takes: its class name, or class name and key; None for jobs of
    classes that are no singletons."""
    from rocketjob.jobs import Job

    cls = type(job)
    if not is_unique(cls):
        return None
    if cls.singleton_key is Job.singleton_key:
        return cls.class_name
    key = job.singleton_key()
    if not isinstance(key, str) or not key:
        problem = f"must return a non-empty str, not {key!r}"
        raise ValidationError(f"job {cls.class_name}", [("singleton_key", problem)])
    return f"{cls.class_name}:{key}"


def check_on_conflict(on_conflict: str) -> None:
    if on_conflict not in ON_CONFLICT:
        problem = f"must be 'raise' or 'existing', not {on_conflict!r}"
        raise ValidationError("create() arguments", [("on_conflict", problem)])
