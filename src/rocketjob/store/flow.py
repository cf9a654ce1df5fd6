"""The store's flow half: singleton slots and the dependencies between jobs.

Dependencies are edges (job_id waits on depends_on_id) and, on the waiting job, a count of
the edges not done yet (waiting_on), which keeps it out of the claim index. Both ends of
an edge are marked `linked`: only completions and deletions of linked jobs release or
forget edges, so no other job pays for the feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rocketjob.behaviours import dependencies
from rocketjob.errors import RocketJobError
from rocketjob.store.executor import Claim, Executor, Row

# The most dependants a job page lists.
DEPENDANTS_SHOWN = 100


class SlotTaken(RocketJobError):
    """A write would give a second queued, running or paused job the same singleton slot."""


class FlowStore(Executor):
    def _array_param(self, values: Sequence[Any]) -> Any:
        return list(values)

    def insert_unique_job(self, params: dict[str, Any]) -> Row:
        """Inserts a job that takes a singleton slot; SlotTaken if another job holds it."""
        with self.transaction():
            row = self.fetch_one("insert_unique_job", params)
            if row is None:
                raise SlotTaken(params["singleton_key"])
            self.execute("notify_jobs", {})
        return row

    def singleton_holder(self, slot: str) -> Row | None:
        """The queued, running or paused job holding `slot` (its id and state), if any."""
        return self.fetch_one("singleton_holder", {"singleton_key": slot})

    def link_dependencies(self, job_id: int, depends_on: Sequence[int]) -> int:
        """Makes new job `job_id` wait on `depends_on` (in the transaction that created
        it); returns how many it waits on. ValidationError names a missing id or a cycle."""
        ids = self._array_param(depends_on)
        rows = self.fetch_all("link_prerequisites", {"ids": ids})
        states = {int(r["id"]): str(r["state"]) for r in rows}
        last = self.fetch_one("last_job_id", {})
        last_id = int(last["id"]) if last else 0
        planned = dependencies.edges(job_id, list(depends_on), states, last_id)
        done = self._array_param([d for _, d in planned])
        self.execute("add_dependencies", {"job_id": job_id, "ids": ids, "done": done})
        waiting_on = sum(1 for _, d in planned if not d)
        self.execute("set_waiting_on", {"job_id": job_id, "waiting_on": waiting_on})
        return waiting_on

    def release_dependants(self, ids: Sequence[int]) -> int:
        """Of the linked jobs `ids`, just completed or deleted: the edges they ended (as
        prerequisites done, as waiting jobs gone). Returns how many jobs may now run."""
        params = {"ids": self._array_param(ids)}
        with self.transaction():
            counted = self.fetch_all("release_dependants", params)
            self._mark_released(params)
            self.execute("forget_dependencies", params)
            ready = sum(1 for row in counted if int(row["waiting_on"]) == 0)
            if ready:
                self.execute("notify_jobs", {})
        return ready

    def _mark_released(self, params: dict[str, Any]) -> None:
        """Where release_dependants did not mark the edges done itself (SQLite)."""

    def finish_claims(
        self, query: str, claims: Sequence[Claim], params: dict[str, Any]
    ) -> tuple[int, list[int]]:
        """Runs a completion over claims: how many went through, and which of them are
        linked (their dependants are released next, in the same transaction)."""
        row = self.fetch_one(query, {**params, **self._claim_arrays(claims)})
        if row is None:
            return 0, []
        return int(row["n"]), [int(i) for i in row["linked"] or []]

    def _claim_arrays(self, claims: Sequence[Claim]) -> dict[str, Any]:
        return {"ids": [c.id for c in claims], "leases": [c.lease for c in claims]}

    def neighbours(self, job_id: int) -> dependencies.Dependencies:
        """The jobs `job_id` waits on and (the first hundred) that wait on it."""
        waits_on = self.fetch_all("prerequisites_of", {"id": job_id})
        waited_on_by = self.fetch_all("dependants_of", {"id": job_id, "limit": DEPENDANTS_SHOWN})
        return dependencies.Dependencies(
            [dependencies.Neighbour.from_row(r) for r in waits_on],
            [dependencies.Neighbour.from_row(r) for r in waited_on_by],
        )
