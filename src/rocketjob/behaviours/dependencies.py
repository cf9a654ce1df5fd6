"""Dependencies: `create(..., depends_on=[ids])` keeps a job waiting until every job it
names has completed.

A job may depend only on jobs created before it (lower ids), so the graph can hold no
cycle. A prerequisite that is gone counts as done: it completed and was destroyed on
completion, or an operator destroyed it (destroying a failed or aborted prerequisite is
how an operator lets its dependants run without it; to cancel them, destroy them too).
A prerequisite that failed or was aborted holds its dependants until it is retried and
completes, or is destroyed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rocketjob.errors import ValidationError
from rocketjob.states import State

SUBJECT = "depends_on"


@dataclass(frozen=True)
class Neighbour:
    """A job at the other end of a dependency: `state` None when it is gone."""

    id: int
    class_name: str | None
    state: State | None
    done: bool  # the prerequisite completed or is gone

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Neighbour:
        state = State(row["state"]) if row["state"] else None
        return cls(int(row["id"]), row["class_name"], state, bool(row["done"]))

    def in_words(self) -> str:
        """`#77 (failed)`, `#78 (destroyed)`: how the job page and CLI show it."""
        return f"#{self.id} ({self.state.value if self.state else 'destroyed'})"


@dataclass(frozen=True)
class Dependencies:
    """A job's neighbours: the jobs it waits on, and the jobs that wait on it."""

    waits_on: list[Neighbour]
    waited_on_by: list[Neighbour]

    @property
    def holding(self) -> list[Neighbour]:
        """The prerequisites not done yet: those the job still waits on."""
        return [n for n in self.waits_on if not n.done]


def given(depends_on: Iterable[Any] | None) -> list[int]:
    """The ids of `depends_on`, each once, in order; ValidationError if one is no id."""
    if depends_on is None:
        return []
    if isinstance(depends_on, str | bytes) or not isinstance(depends_on, Iterable):
        raise ValidationError(SUBJECT, [(SUBJECT, "must be a list of job ids")])
    ids: list[int] = []
    for value in depends_on:
        job_id = getattr(value, "id", value)  # a Job stands for its id
        if isinstance(job_id, bool) or not isinstance(job_id, int) or job_id < 1:
            raise ValidationError(SUBJECT, [(SUBJECT, f"{value!r} is not a job id")])
        if job_id not in ids:
            ids.append(job_id)
    return ids


def edges(
    job_id: int, wanted: list[int], states: Mapping[int, str], last_id: int
) -> list[tuple[int, bool]]:
    """Each prerequisite of new job `job_id` and whether it is done already, from the
    states of those that exist and the last id ever handed out; refuses an id never
    handed out and one at or after the job's own (a cycle)."""
    problems = []
    for prerequisite in wanted:
        if prerequisite > last_id:
            problems.append(f"no job #{prerequisite}")
        elif prerequisite >= job_id:
            problems.append(
                f"job #{job_id} cannot wait on #{prerequisite}: a job waits only on jobs "
                "created before it (anything else could close a cycle)"
            )
    if problems:
        raise ValidationError(SUBJECT, [(SUBJECT, p) for p in problems])
    return [(p, states.get(p, State.COMPLETED.value) == State.COMPLETED.value) for p in wanted]
