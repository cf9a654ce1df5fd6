"""The storage interface: the one place that knows which named query does what.

Backends (sqlite.py, postgres.py) supply connections, value conversion and the few
statements whose parameters differ in shape; everything else is shared here.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

from rocketjob.errors import ConfigurationError, SchemaOutOfDate
from rocketjob.store.batches import BatchStore
from rocketjob.store.cron import CronStore
from rocketjob.store.dirmon import DirmonStore
from rocketjob.store.executor import Claim, Clock, Row
from rocketjob.store.failures import FailureStore
from rocketjob.store.flow import FlowStore
from rocketjob.store.sqlfiles import Migration, load_migrations, load_queries
from rocketjob.store.waiting import WaitingStore
from rocketjob.store.workers import WorkerStore

# Counter delta rows that make reading the counts fold them first.
COMPACT_AFTER_DELTAS = 1000
T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


class NewJob(NamedTuple):
    class_name: str
    description: str | None
    priority: int
    run_at: datetime | None
    expires_at: datetime | None
    destroy_on_complete: bool
    fields: str  # JSON text
    # "before" for a batch job: the database, not an imported class, says it is one
    sub_state: str | None = None
    # the throttle the job counts against (see behaviours/throttle.py)
    throttle: str | None = None
    # the singleton slot it takes (see behaviours/singleton.py); None for most jobs
    singleton_key: str | None = None


@dataclass(frozen=True)
class JobChange:
    """A transition computed from a job as read at `version`; applies only if still there."""

    id: int
    version: int
    state: str
    sub_state: str | None
    run_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    failure_count: int
    attempt: int
    worker_name: str | None
    exception: str | None  # JSON text
    percent_complete: int | None  # None keeps the current value
    entry: str  # the history entry, JSON text


class Finished(NamedTuple):
    claim: Claim
    keep: bool  # False: the job is destroyed on completion


class Store(
    BatchStore, WorkerStore, FailureStore, CronStore, FlowStore, DirmonStore, WaitingStore, ABC
):
    backend: str
    url: str

    def __init__(self, url: str, clock: Clock = utc_now) -> None:
        self.url = url
        self.clock = clock
        self.queries = load_queries(self.backend)
        self.migrations = load_migrations(self.backend)

    # -- what each backend supplies -------------------------------------------------------

    @abstractmethod
    def insert_jobs(self, jobs: Sequence[NewJob], *, connection: object = None) -> list[int]:
        """Inserts all jobs in one transaction (`connection`'s: see `on_connection`);
        their ids in the same order."""

    @abstractmethod
    def applied_migrations(self) -> set[int]: ...

    @abstractmethod
    def apply_migration(self, migration: Migration) -> bool:
        """Applies one migration under a lock; False if another process applied it first."""

    @abstractmethod
    def close(self) -> None: ...

    def on_connection(self, connection: object) -> AbstractContextManager[None]:
        """Inside it, this thread's calls run on `connection`, the application's own, as
        part of its transaction: what they write commits or rolls back with it. None: on
        the store's own connections, as always. PostgreSQL only."""
        if connection is None:
            return nullcontext()
        raise ConfigurationError(
            f"connection= needs PostgreSQL; rocketjob is configured for {self.backend} at "
            f"{redact(self.url)}: leave connection= out, the job then commits on its own"
        )

    # -- shared -------------------------------------------------------------------------

    def pending_migrations(self) -> list[Migration]:
        applied = self.applied_migrations()
        return [m for m in self.migrations if m.version not in applied]

    def migrate(self) -> list[Migration]:
        """Applies every pending migration in order; returns those this call applied."""
        done = []
        for migration in self.pending_migrations():
            if self.apply_migration(migration):
                done.append(migration)
        return done

    def ensure_schema(self) -> None:
        """Migrates an empty database; refuses to run on an older, non-empty schema."""
        applied = self.applied_migrations()
        if not applied:
            self.migrate()
            return
        pending = [m.version for m in self.migrations if m.version not in applied]
        if pending:
            raise SchemaOutOfDate(
                f"the database at {redact(self.url)} needs migrations {pending}: "
                "run `rocketjob migrate`"
            )

    # -- jobs ---------------------------------------------------------------------------

    def insert_job(self, job: NewJob, *, handoff: bool = True, connection: object = None) -> Row:
        """Inserts one job (in `connection`'s transaction: see `on_connection`); where the
        backend hands off (and `handoff`), straight to an idle worker that offered a slot
        for it, claimed in this same commit."""
        params = {**job._asdict(), "created_at": self.now(), "handoff": handoff}
        with self.on_connection(connection):
            row = self.fetch_one("insert_job", params)
        assert row is not None
        return row

    def create_job(
        self,
        job: NewJob,
        *,
        handoff: bool = True,
        connection: object = None,
        depends_on: Sequence[int] = (),
    ) -> Row:
        """Inserts one job that may take a singleton slot (SlotTaken if it is held) and
        wait on others (ValidationError names a missing one or a cycle), in one
        transaction (`connection`'s: see `on_connection`)."""
        if job.singleton_key is None and not depends_on:
            return self.insert_job(job, handoff=handoff, connection=connection)
        params = {**job._asdict(), "created_at": self.now(), "handoff": False}
        with self.on_connection(connection), self.transaction():
            if job.singleton_key is None:
                row = self.fetch_one("insert_job", params)
                assert row is not None
            else:
                row = self.insert_unique_job(params)
            if depends_on:
                row = {**row, "waiting_on": self.link_dependencies(row["id"], depends_on)}
        return row

    def get_job(self, job_id: int) -> Row | None:
        return self.fetch_one("select_job", {"id": job_id})

    def get_history(self, job_id: int) -> list[dict[str, Any]] | None:
        row = self.fetch_one("select_history", {"id": job_id})
        return None if row is None else _json_value(row["history"])

    def apply_change(self, change: JobChange) -> Row | None:
        """The job after the change, or None if it changed since it was read."""
        with self.transaction():
            row = self.fetch_one("transition", asdict(change))
            if row is not None and change.state == "queued":
                self.execute("notify_jobs", {})
        return row

    def delete_job(self, job_id: int, version: int) -> bool:
        """Deletes a job read at `version`; what waited on it is released (it is gone)."""
        with self.transaction():
            row = self.fetch_one("delete_job", {"id": job_id, "version": version})
            if row is not None and row["linked"]:
                self.release_dependants([job_id])
        return row is not None

    def list_jobs(
        self,
        *,
        state: str | None = None,
        class_name: str | None = None,
        exception_class: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[Row], str | None]:
        """One page of jobs and the cursor of the next page (None on the last page).

        All and per-state lists run newest first; `scheduled` runs soonest first.
        Keyset paging: a page costs the same at any depth. `exception_class` keeps the
        failed jobs that raised it (the state must be `failed`).
        """
        queries: dict[str | None, str] = _LIST_QUERIES
        params: dict[str, Any] = {"class_name": class_name}
        if exception_class is not None:
            if state != "failed":
                raise ValueError("only failed jobs are listed by exception class")
            query = "list_failed_in_group" if class_name else "list_failed_with_exception"
            queries, params["exception_class"] = {state: query}, exception_class
        elif state is None:
            queries = {None: "list_jobs" if class_name is None else "list_jobs_of_class"}
        return self._page(queries, state, params, limit, cursor)

    def _page(
        self,
        queries: dict[str | None, str],
        state: str | None,
        params: dict[str, Any],
        limit: int,
        cursor: str | None,
    ) -> tuple[list[Row], str | None]:
        """Runs the query of `state` for one keyset page: `limit` rows and the next cursor."""
        now = self.now()
        params = {**params, "limit": limit + 1, "now": now}
        if state in queries:
            query = queries[state]
        else:  # a plain state, given to the query as a parameter
            query, params["state"] = queries["*"], state
        if state == "scheduled":
            after_run_at, after_id = _scheduled_cursor(cursor, now)
            params.update(after_run_at=after_run_at, after_id=after_id)
        else:
            params["before_id"] = _id_cursor(cursor)
        rows = self.fetch_all(query, params)
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        last = rows[-1]
        if state == "scheduled":
            return rows, f"{last['run_at'].isoformat()}|{last['id']}"
        return rows, str(last["id"])

    def count_jobs(self) -> dict[str, int]:
        """Jobs per list state (running, scheduled, queued, …) and `all`, without a scan."""
        rows = self.fetch_all("count_buckets", {})
        if sum(int(r["deltas"]) for r in rows) > COMPACT_AFTER_DELTAS:
            self.compact_counts()
        buckets = {r["bucket"]: int(r["n"]) for r in rows}
        with_run_at = buckets.pop("queued_with_run_at", 0)
        due = self.fetch_one("count_due_with_run_at", {"now": self.now()})
        due_with_run_at = int(due["n"]) if due else 0
        counts = {
            "running": buckets.get("running", 0),
            "scheduled": with_run_at - due_with_run_at,
            "queued": buckets.get("queued", 0) + due_with_run_at,
        }
        for state in ("paused", "failed", "aborted", "completed"):
            counts[state] = buckets.get(state, 0)
        counts["all"] = sum(counts.values())
        return counts

    def compact_counts(self) -> None:
        self.execute("compact_job_counts", {})

    # -- claimed jobs -------------------------------------------------------------------

    def claim_jobs(
        self,
        worker_name: str,
        limit: int,
        *,
        include: str | None = None,
        exclude: str | None = None,
    ) -> list[Row]:
        """Takes up to `limit` due jobs for `worker_name`, in claim order.

        `include` / `exclude` are regular expressions on the class name.
        """
        now = self.now()
        params = {
            "worker_name": worker_name,
            "limit": limit,
            "now": now,
            "include": include,
            "exclude": exclude,
            "entry": history_entry(now, "queued", "running", "start", worker_name),
        }
        rows = self.fetch_all("claim_jobs", params)
        rows.sort(key=_claim_order)
        return rows

    def claim_throttled_jobs(
        self,
        worker_name: str,
        throttle: str,
        throttle_limit: int,
        limit: int,
        *,
        include: str | None = None,
        exclude: str | None = None,
    ) -> list[Row]:
        """Takes up to `limit` due jobs of `throttle`, never so many that more than
        `throttle_limit` of its jobs run at once."""
        now = self.now()
        params = {
            "worker_name": worker_name,
            "throttle": throttle,
            "throttle_limit": throttle_limit,
            "limit": limit,
            "now": now,
            "include": include,
            "exclude": exclude,
            "entry": history_entry(now, "queued", "running", "start", worker_name),
        }
        with self.claim_transaction():
            self._take_turn(throttle)
            rows = self.fetch_all("claim_throttled_jobs", params)
        rows.sort(key=_claim_order)
        return rows

    def _take_turn(self, throttle: str) -> None:
        """Waits for the other claimers of `throttle` (none where one writer at a time)."""

    def hand_back_jobs(
        self,
        claims: Sequence[Claim],
        worker_name: str,
        reason: str,
        *,
        run_at: datetime | None = None,
    ) -> int:
        """Returns held jobs to the queue (a stopping or pausing worker; `run_at`: not
        before then); others untouched."""
        if not claims:
            return 0
        params = {"now": self.now(), "worker_name": worker_name, "reason": reason, "run_at": run_at}
        with self.transaction():
            handed_back = self.execute_for_claims("hand_back_jobs", claims, params)
            self.execute("notify_jobs", {})
        return handed_back

    def subscribe(
        self, on_notice: Callable[[str, str], None], *, worker: str | None = None
    ) -> Subscription:
        """Calls `on_notice(channel, payload)` when jobs become claimable ("jobs"),
        operators ask workers something ("control") or a job was handed to a worker
        ("handoff": `read_handoff(payload)` says which; an empty payload: notices may have
        been lost). `worker` names the worker listening, so creators can tell it is alive.
        Backends without notifications never call it: polling stays the guarantee."""
        return Subscription()

    def claim_job(self, job_id: int, worker_name: str) -> Row | None:
        """Takes one given queued job; None if it is not queued (or gone)."""
        params = {"id": job_id, "worker_name": worker_name, "now": self.now()}
        return self.fetch_one("claim_job", params)

    def finish_jobs(self, finished: Sequence[Finished], worker_name: str) -> int:
        """Completes claimed jobs: destroyed or kept; rows no longer held are left alone.

        Returns how many were completed (see `moved_on` for which were not)."""
        now = self.now()
        kept = [f.claim for f in finished if f.keep]
        destroyed = [f.claim for f in finished if not f.keep]
        done = 0
        linked: list[int] = []
        with self.transaction():
            if destroyed:
                n, some = self.finish_claims("destroy_completed_jobs", destroyed, {})
                done, linked = done + n, linked + some
            if kept:
                entry = history_entry(now, "running", "completed", "complete", worker_name)
                params = {"now": now, "entry": entry}
                n, some = self.finish_claims("complete_jobs", kept, params)
                done, linked = done + n, linked + some
            if linked:  # a statement of its own: see release_dependants
                self.release_dependants(linked)
        return done

    def moved_on(self, finished: Sequence[Finished]) -> set[int]:
        """Of jobs just finished, those whose completion did not go through: requeued or
        claimed by another worker meanwhile."""
        ids = self._array_param([f.claim.id for f in finished])
        rows = {row["id"]: row for row in self.fetch_all("job_leases", {"ids": ids})}
        moved = set()
        for f in finished:
            row = rows.get(f.claim.id)  # gone: destroyed on completion
            if row is not None and (row["lease"] != f.claim.lease or row["state"] != "completed"):
                moved.add(f.claim.id)
        return moved

    def fail_claimed_job(self, claim: Claim, exception: dict[str, Any], worker_name: str) -> bool:
        params = {
            "id": claim.id,
            "lease": claim.lease,
            "exception": json.dumps(exception),
            "message": f"{exception.get('class_name')}: {exception.get('message')}",
            "worker_name": worker_name,
            "now": self.now(),
        }
        return self.execute("fail_claimed_job", params) == 1

    def retry_claimed_job(
        self, claim: Claim, exception: dict[str, Any], run_at: datetime, worker_name: str
    ) -> bool:
        """Records a failure and queues the job again, due at `run_at` (a retry); False if
        the claim is no longer held."""
        now = self.now()
        params = {
            "id": claim.id,
            "lease": claim.lease,
            "exception": json.dumps(exception),
            "message": f"{exception.get('class_name')}: {exception.get('message')}",
            "run_at": run_at,
            "worker_name": worker_name,
            "now": now,
        }
        retried = self.execute("retry_claimed_job", params) == 1
        if retried and run_at <= now:  # due at once: wake the idle workers
            self.execute("notify_jobs", {})
        return retried

    def record_progress(self, claim: Claim, percent: int) -> str | None:
        """Saves progress; returns the job's state, None if the claim is no longer held."""
        params = {"id": claim.id, "lease": claim.lease, "percent_complete": percent}
        row = self.fetch_one("record_progress", params)
        return str(row["state"]) if row is not None else self.claimed_state(claim)

    def claimed_state(self, claim: Claim) -> str | None:
        row = self.fetch_one("claimed_state", {"id": claim.id, "lease": claim.lease})
        return None if row is None else str(row["state"])

    # -- search (Mission Control) ---------------------------------------------------------

    def _text_list(self, values: Sequence[str]) -> Any:
        return list(values)

    def class_names(self) -> list[str]:
        """Every job class name in the table, from its index (one probe per class)."""
        return [str(row["class_name"]) for row in self.fetch_all("list_class_names", {})]

    def search_jobs(
        self, q: str, *, state: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Row], str | None]:
        """Like list_jobs, for jobs whose class name or description contains `q`.

        Case-insensitive. Class names are matched against the few distinct classes first,
        so the jobs query only compares class names for equality.
        """
        return self._page(_SEARCH_QUERIES, state, self.search_params(q), limit, cursor)

    def search_params(self, q: str | None) -> dict[str, Any]:
        """A search as query parameters: the classes whose names contain `q` (any case),
        and a LIKE pattern for descriptions; both None-ish without a search."""
        if not q:
            return {"pattern": None, "classes": self._text_list([])}
        needle = q.casefold()
        classes = [name for name in self.class_names() if needle in name.casefold()]
        return {"pattern": like_pattern(q), "classes": self._text_list(classes)}


class Subscription:
    """Notifications a store delivers until closed; this one delivers none."""

    def close(self) -> None:
        return None


def _claim_order(row: Row) -> tuple[int, bool, datetime, int]:
    run_at = row["run_at"]
    return (row["priority"], run_at is not None, run_at or datetime.min, row["id"])


# The named query of each list; "*" is the one for any other state, given as a parameter.
_LIST_QUERIES: dict[str | None, str] = {
    "scheduled": "list_jobs_scheduled",
    "queued": "list_jobs_due",
    "*": "list_jobs_in_state",
}
_SEARCH_QUERIES: dict[str | None, str] = {
    None: "search_jobs",
    "scheduled": "search_jobs_scheduled",
    "queued": "search_jobs_due",
    "*": "search_jobs_in_state",
}


def _id_cursor(cursor: str | None) -> int:
    if not cursor:
        return 2**62
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValueError(f"invalid cursor {cursor!r}: expected a job id")
    return int(cursor)


def _scheduled_cursor(cursor: str | None, now: datetime) -> tuple[datetime, int]:
    if not cursor:
        return now, 0
    run_at, _, job_id = cursor.rpartition("|")
    try:
        after = datetime.fromisoformat(run_at)
    except ValueError:
        raise ValueError(f"invalid cursor {cursor!r}: expected RUN_AT|ID") from None
    return after, _id_cursor(job_id)


def history_entry(
    at: datetime, from_state: str, to_state: str, action: str, by: str, message: str | None = None
) -> str:
    """One history entry as JSON text: what a transition appends to the job's history."""
    entry = {"at": at.isoformat(), "from": from_state, "to": to_state, "action": action, "by": by}
    if message:
        entry["message"] = message
    return json.dumps(entry)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its wildcards taken literally (escape \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def iter_chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
