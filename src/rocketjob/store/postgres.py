"""PostgreSQL backend: psycopg 3 with a connection pool, autocommit unless in a transaction."""

from __future__ import annotations

import json
import logging
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import RowFactory, dict_row, tuple_row
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from rocketjob.errors import ConfigurationError, DatabaseUnavailable
from rocketjob.store.base import (
    JobChange,
    NewJob,
    Store,
    Subscription,
    iter_chunks,
    redact,
    utc_now,
)
from rocketjob.store.batches import NewSlice
from rocketjob.store.clock import DatabaseClock, host_now
from rocketjob.store.executor import Claim, Clock, Row
from rocketjob.store.flow import SlotTaken
from rocketjob.store.lent import check_usable, describe, in_utc, joined, lent_connection
from rocketjob.store.sqlfiles import Migration
from rocketjob.store.workers import Handoff

INSERT_CHUNK = 5_000
# Every session of the store's. Its transactions never wait on the application: one idle
# in a transaction is a client that died or lost its link, and the rows it locked would
# hold the reapers of every other host up until the server noticed. TCP keepalives (and
# a timeout on unacknowledged sends) let both ends notice a dead link in seconds.
SESSION_SETTINGS = (
    "SELECT set_config('TimeZone', 'UTC', false),"
    " set_config('idle_in_transaction_session_timeout', '10s', false),"
    " set_config('tcp_keepalives_idle', '10', false),"
    " set_config('tcp_keepalives_interval', '5', false),"
    " set_config('tcp_keepalives_count', '3', false),"
    " set_config('tcp_user_timeout', '30000', false)"
)
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "30000",
}
# Serialises migrations of one database across processes and hosts.
MIGRATION_LOCK = zlib.crc32(b"rocketjob.migrate")

Connection = psycopg.Connection[Row]
T = TypeVar("T")
# Queries that claim work in index order (see the claim pool).
CLAIMS = frozenset({"claim_jobs", "claim_slices"})
# The unique index of singleton slots (migration 0013).
SINGLETON_INDEX = "rocketjob_jobs_singleton"
# Channel names of the notifications, as the worker knows them.
CHANNELS = {
    "rocketjob_jobs": "jobs",
    "rocketjob_control": "control",
    "rocketjob_handoff": "handoff",
}
# The columns of a job row that hold times (a hand-off notice carries them as ISO text).
TIMES = ("run_at", "expires_at", "created_at", "started_at", "completed_at")
# How long subscribe() waits for its first LISTEN before relying on polling alone.
LISTEN_WAIT = 5.0

log = logging.getLogger("rocketjob.store")


def _reason(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[-1] if text else type(error).__name__


_decode_json = json.JSONDecoder().decode


def _load_json(data: bytes | str) -> Any:
    # psycopg hands JSON over as bytes, whose encoding json.loads would sniff on every row:
    # a worker reads the fields of thousands of jobs a second, most of them empty.
    if data == b"{}":
        return {}
    return _decode_json(data.decode() if isinstance(data, bytes) else data)


def _bigints(values: Iterable[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _configure(conn: Connection) -> None:
    conn.execute(SESSION_SETTINGS)
    set_json_loads(_load_json, conn)


def read_only(sql: str) -> bool:
    """Whether a named query only reads (safe to run again when its connection died)."""
    code = re.sub(r"--[^\n]*", " ", sql).upper()
    return code.lstrip().startswith(("SELECT", "WITH")) and not _WRITES.search(code)


_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|FOR\s+UPDATE|PG_NOTIFY|PG_TRY_ADVISORY\w*)\b")


def _with_keepalives(url: str) -> dict[str, Any]:
    """libpq's TCP settings for a link that may go dead (the URL's own win)."""
    given = conninfo_to_dict(url)
    return {key: value for key, value in KEEPALIVES.items() if key not in given}


class PostgresStore(Store):
    backend = "postgres"
    hands_off = True

    def __init__(
        self,
        url: str,
        clock: Clock = utc_now,
        *,
        pool_size: int = 12,
        connect_timeout: float = 10.0,
    ) -> None:
        super().__init__(url, clock)
        try:
            # One direct connection first: a clear error beats a pool timeout.
            with psycopg.connect(url, connect_timeout=int(connect_timeout)):
                pass
        except psycopg.Error as error:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {redact(url)}: {_reason(error)}"
            ) from None
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(pool_size, 2),
            # Every query is prepared at first use: they are few and all hot.
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "prepare_threshold": 0,
                **_with_keepalives(url),
            },
            configure=_configure,
            timeout=connect_timeout,
            name="rocketjob",
            open=False,
        )
        self._pool.open(wait=True, timeout=connect_timeout)
        # Claims walk the claim index in order. A queue table's statistics are often stale
        # (empty at the last ANALYZE, a million jobs now), which can make the planner sort
        # every queued row instead; on these connections it never does. Nor does it join
        # the claimed ids back to the table by hashing or merging the whole table: a
        # claim updates a few hundred rows at most, each found by its primary key.
        self._claim_pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(pool_size // 4, 2),
            kwargs={
                "autocommit": True,
                "row_factory": dict_row,
                "prepare_threshold": 0,
                "options": (
                    "-c enable_sort=off -c enable_bitmapscan=off"
                    " -c enable_hashjoin=off -c enable_mergejoin=off"
                ),
                **_with_keepalives(url),
            },
            configure=_configure,
            timeout=connect_timeout,
            name="rocketjob-claims",
            open=False,
        )
        self._claim_pool.open(wait=True, timeout=connect_timeout)
        self._local = threading.local()
        # Every pooled connection may have been terminated at once: try them all.
        self._retries = max(pool_size, 2) + 1
        self._reads = frozenset(name for name, sql in self.queries.items() if read_only(sql))
        if clock is utc_now:  # workers' heartbeats keep it right from now on
            self.clock = self._database_clock()

    def _database_clock(self) -> DatabaseClock:
        clock = DatabaseClock()
        for _ in range(3):  # the first statement on a connection may be slow
            sent = host_now()
            row = self.fetch_one("database_now", {})
            if row is not None and clock.learn(row["database_now"], sent, host_now()):
                break
        return clock

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        # A lost server is a DatabaseUnavailable callers can wait out; the pool replaces
        # broken connections when they come back to it.
        try:
            yield
        except psycopg.errors.UniqueViolation as error:
            if error.diag.constraint_name == SINGLETON_INDEX:
                raise SlotTaken("a job holds this singleton slot") from error
            raise
        except (psycopg.OperationalError, PoolTimeout) as error:
            raise DatabaseUnavailable(
                f"PostgreSQL at {redact(self.url)} is unavailable: {_reason(error)}"
            ) from error

    def _run(self, query: str, run: Callable[[Connection], T]) -> T:
        """Runs `run` on the connection of this thread's transaction, or on a pooled one.

        A pooled connection whose server session was terminated (pg_terminate_backend, an
        administrator, a failover) fails its next statement with AdminShutdown, and that
        statement did not run: it runs again on another connection, so one killed session
        is no error for the caller. The pool drops the dead connection."""
        with self._unavailable_as_error():
            pinned: Connection | None = getattr(self._local, "conn", None)
            if pinned is not None:
                return run(pinned)
            pool = self._claim_pool if query in CLAIMS else self._pool
            for _ in range(self._retries):
                used: Connection | None = None
                try:
                    with pool.connection() as used:
                        return run(used)
                except psycopg.errors.AdminShutdown:
                    continue
                except psycopg.OperationalError:
                    # The connection died under the statement: a read may run again.
                    if query in self._reads and used is not None and used.broken:
                        continue
                    raise
            with pool.connection() as conn:
                return run(conn)

    def _cursor(
        self, conn: Connection, row_factory: RowFactory[Any] = dict_row
    ) -> psycopg.Cursor[Any]:
        """A cursor that reads rows as the store does, on its own connections or a lent one
        (whose row factory and JSON loader are the application's, and stay so)."""
        cursor = conn.cursor(row_factory=row_factory)
        if getattr(self._local, "lent", False):
            set_json_loads(_load_json, cursor)
        return cursor

    def fetch_all(self, query: str, params: dict[str, Any]) -> list[Row]:
        sql = self.queries[query]

        def run(conn: Connection) -> list[Row]:
            cursor = self._cursor(conn).execute(sql, params)
            rows: list[Row] = cursor.fetchall() if cursor.description else []
            # A lent connection reads times in its own time zone.
            return in_utc(rows) if getattr(self._local, "lent", False) else rows

        return self._run(query, run)

    def execute(self, query: str, params: dict[str, Any]) -> int:
        sql = self.queries[query]
        return self._run(query, lambda conn: int(self._cursor(conn).execute(sql, params).rowcount))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._transaction(self._pool):
            yield

    def claim_transaction(self) -> AbstractContextManager[None]:
        return self._transaction(self._claim_pool)

    @contextmanager
    def _transaction(self, pool: ConnectionPool[Connection]) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:  # nested
            yield
            return
        with self._unavailable_as_error(), ExitStack() as held:
            conn = self._begin(held, pool)
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def _begin(self, held: ExitStack, pool: ConnectionPool[Connection]) -> Connection:
        """A pooled connection in a new transaction, held until `held` closes; BEGIN goes
        again on another connection if this one's session was terminated."""
        for attempt in range(self._retries + 1):
            with ExitStack() as trying:
                conn = trying.enter_context(pool.connection())
                try:
                    trying.enter_context(conn.transaction())
                except psycopg.errors.AdminShutdown:
                    if attempt == self._retries:
                        raise
                    continue
                held.push(trying.pop_all())
                return conn
        raise AssertionError("unreachable")

    @contextmanager
    def on_connection(self, connection: object) -> Iterator[None]:
        if connection is None:
            yield
            return
        conn = lent_connection(connection)
        check_usable(conn)
        previous = getattr(self._local, "conn", None), getattr(self._local, "lent", False)
        self._local.conn, self._local.lent = conn, True
        try:
            with self._unavailable_as_error():
                # Also opens the application's transaction, if this is its first statement.
                row = self.fetch_one("schema_present", {})
                if not (row and row["present"]):
                    raise ConfigurationError(
                        f"connection= is on {describe(conn)}, which has no rocketjob tables; "
                        f"rocketjob is configured for {redact(self.url)}: no job was enqueued"
                    )
                with joined(conn):
                    yield
        finally:
            self._local.conn, self._local.lent = previous

    def subscribe(
        self, on_notice: Callable[[str, str], None], *, worker: str | None = None
    ) -> Subscription:
        return Listener(self.url, on_notice, worker=worker)

    def insert_job(self, job: NewJob, *, handoff: bool = True, connection: object = None) -> Row:
        # Inside a transaction (ours or the application's) a hand-off would keep the
        # worker's row locked (its heartbeat waiting) until it ends: queue the job instead.
        in_transaction = connection is not None or getattr(self._local, "conn", None) is not None
        return super().insert_job(
            job, handoff=handoff and not in_transaction, connection=connection
        )

    def _take_turn(self, throttle: str) -> None:
        self.execute("lock_throttle", {"throttle": throttle})

    def read_handoff(self, payload: str, worker: str | None = None) -> Handoff | None:
        named, _, rest = payload.partition("\n")
        if not rest or (worker is not None and named != worker):
            return None
        if rest.isdigit():
            return Handoff(int(rest), named, None)
        row = json.loads(rest)
        for column in TIMES:
            if row[column] is not None:
                row[column] = datetime.fromisoformat(row[column])
        return Handoff(int(row["id"]), named, row)

    def insert_jobs(self, jobs: Sequence[NewJob], *, connection: object = None) -> list[int]:
        ids: list[int] = []
        created_at = self.now()
        with self.on_connection(connection), self.transaction():
            for chunk in iter_chunks(jobs, INSERT_CHUNK):
                for first, rows in _rows_by_class(chunk):
                    params = {
                        "class_name": first.class_name,
                        "sub_state": first.sub_state,
                        "throttle": first.throttle,
                        "created_at": created_at,
                        "rows": rows,
                    }
                    ids.extend(self._fetch_ids("insert_jobs", params))
            self.execute("notify_jobs", {})
        return ids

    def _fetch_ids(self, query: str, params: dict[str, Any]) -> list[int]:
        # Thousands of ids: plain tuples and binary transfer, not a dict per row.
        sql = self.queries[query]

        def run(conn: Connection) -> list[int]:
            cursor = self._cursor(conn, tuple_row)
            cursor.execute(sql, params, binary=True)
            return [row[0] for row in cursor.fetchall()]

        return self._run(query, run)

    def execute_for_claims(
        self, query: str, claims: Sequence[Claim], params: dict[str, Any]
    ) -> int:
        # Array literals: psycopg would adapt a list in Python, one element at a time.
        arrays = {
            "ids": _bigints(c.id for c in claims),
            "leases": _bigints(c.lease for c in claims),
        }
        return self.execute(query, {**params, **arrays})

    def _claim_arrays(self, claims: Sequence[Claim]) -> dict[str, Any]:
        return {"ids": _bigints(c.id for c in claims), "leases": _bigints(c.lease for c in claims)}

    def apply_changes(self, changes: Sequence[JobChange]) -> int:
        # One statement for the chunk: each column of the changes travels as an array.
        if not changes:
            return 0
        columns = {f.name: [getattr(c, f.name) for c in changes] for f in fields(JobChange)}
        with self.transaction():
            applied = len(self.fetch_all("transition_many", columns))
            if applied and any(change.state == "queued" for change in changes):
                self.execute("notify_jobs", {})
        return applied

    def _insert_slices(self, job_id: int, slices: Sequence[NewSlice]) -> None:
        params = {
            "job_id": job_id,
            "position": [s.position for s in slices],
            "first_record": [s.first_record for s in slices],
            "record_count": [s.record_count for s in slices],
            "records": [s.records for s in slices],
        }
        self.execute("insert_slices", params)

    def applied_migrations(self) -> set[int]:
        def run(conn: Connection) -> set[int]:
            exists = conn.execute("SELECT to_regclass('rocketjob_migrations') AS t").fetchone()
            if not exists or exists["t"] is None:
                return set()
            rows = conn.execute("SELECT version FROM rocketjob_migrations").fetchall()
            return {int(r["version"]) for r in rows}

        return self._run("", run)

    def apply_migration(self, migration: Migration) -> bool:
        with self._pool.connection() as conn:
            # A session lock taken before the transaction begins, so the transaction's
            # catalog snapshot already sees what the previous lock holder committed.
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                with conn.transaction():
                    self._local.conn = conn
                    try:
                        if migration.version in self.applied_migrations():
                            return False
                        # several statements: no parameters, never prepared
                        conn.execute(migration.sql.encode(), prepare=False)
                        conn.execute(
                            "INSERT INTO rocketjob_migrations (version, name) VALUES (%s, %s)",
                            (migration.version, migration.name),
                        )
                    finally:
                        self._local.conn = None
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        return True

    def close(self) -> None:
        self._claim_pool.close()
        self._pool.close()


def _rows_by_class(jobs: Sequence[NewJob]) -> Iterator[tuple[NewJob, str]]:
    """Consecutive runs of one class, each as its first job and the JSON array
    insert_jobs takes.

    The fields are JSON already (pydantic wrote them) and go in as they are; text goes
    through json.dumps; numbers, booleans and ISO times need no escaping.
    """
    start = 0
    while start < len(jobs):
        first = jobs[start]
        end = start
        parts = []
        kind = (first.class_name, first.sub_state, first.throttle)
        while (
            end < len(jobs)
            and (jobs[end].class_name, jobs[end].sub_state, jobs[end].throttle) == kind
        ):
            job = jobs[end]
            description = "null" if job.description is None else json.dumps(job.description)
            run_at = f'"{job.run_at.isoformat()}"' if job.run_at else "null"
            expires_at = f'"{job.expires_at.isoformat()}"' if job.expires_at else "null"
            keep = "true" if job.destroy_on_complete else "false"
            parts.append(
                f"[{description},{int(job.priority)},{run_at},{expires_at},{keep},{job.fields}]"
            )
            end += 1
        yield first, f"[{','.join(parts)}]"
        start = end


class Listener(Subscription):
    """LISTENs on its own connection and reports each notification's channel and payload.

    Reconnects after a lost connection and then reports every channel once with an empty
    payload, since notifications sent meanwhile are gone. For a worker, the connection
    also holds an advisory lock keyed by the worker's name: creators hand jobs only to a
    worker whose lock is held, so one that was killed stops receiving them at once.
    """

    def __init__(
        self, url: str, on_notice: Callable[[str, str], None], *, worker: str | None = None
    ) -> None:
        self.url = url
        self.on_notice = on_notice
        self.worker = worker
        self._closed = threading.Event()
        self._listening = threading.Event()
        self._returned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rocketjob-listen", daemon=True)
        self._thread.start()
        # A notice sent once we return must not be missed; if the database is down, polling
        # covers the gap while the thread keeps trying.
        if not self._listening.wait(LISTEN_WAIT):
            log.warning("not listening for notifications yet; polling until then")
        self._returned.set()

    def _run(self) -> None:
        delay = 0.1
        first = True
        while not self._closed.is_set():
            try:
                with psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=5,
                    **_with_keepalives(self.url),
                    # operators (and pg_stat_activity) can tell whose connection it is
                    application_name=f"rocketjob listener {self.worker or ''}"[:63].rstrip(),
                ) as conn:
                    for channel in CHANNELS:
                        conn.execute(f"LISTEN {channel}")
                    alive = self._show_alive(conn)
                    self._listening.set()
                    # Notices sent before this LISTEN are gone: say every channel may have news.
                    if not first or self._returned.is_set():
                        for name in CHANNELS.values():
                            self._report(name, "")
                    first, delay = False, 0.1
                    while not self._closed.is_set():
                        for notice in conn.notifies(timeout=0.5):
                            channel = CHANNELS.get(notice.channel, notice.channel)
                            self._report(channel, notice.payload)
                        alive = alive or self._show_alive(conn)
            except psycopg.Error as error:
                log.warning("listening for notifications failed (%s); retrying", _reason(error))
                self._closed.wait(delay)
                delay = min(delay * 2, 5.0)

    def _report(self, channel: str, payload: str) -> None:
        try:
            self.on_notice(channel, payload)
        except Exception:  # one bad notice must not stop the listening
            log.exception("handling a %s notice failed", channel)

    def _show_alive(self, conn: psycopg.Connection[Any]) -> bool:
        """Takes the worker's lock; False while another session (a previous process of
        the same name, not yet gone) holds it: no hand-offs meanwhile."""
        if self.worker is None:
            return True
        row = conn.execute(
            "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (self.worker,)
        ).fetchone()
        return bool(row and row[0])

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2)
