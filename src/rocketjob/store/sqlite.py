"""SQLite backend: one file, WAL mode, a connection per thread, short write transactions."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from rocketjob.errors import ConfigurationError, DatabaseUnavailable
from rocketjob.store.base import NewJob, Store, utc_now
from rocketjob.store.batches import NewSlice
from rocketjob.store.executor import Claim, Clock, Row
from rocketjob.store.flow import SlotTaken
from rocketjob.store.sqlfiles import Migration

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
JSON_COLUMNS = frozenset({"exception", "fields", "history", "properties"})
BOOL_COLUMNS = frozenset({"destroy_on_complete"})
# Long enough that several worker processes queue for the write lock instead of failing;
# `?timeout=SECONDS` in the URL sets another.
BUSY_TIMEOUT = 60.0


def to_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def from_text(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    row: Row = {}
    for (name, *_), value in zip(cursor.description, values, strict=True):
        if value is not None:
            if name.endswith("_at"):
                value = from_text(value)
            elif name in JSON_COLUMNS:
                value = json.loads(value)
            elif name in BOOL_COLUMNS:
                value = bool(value)
        row[name] = value
    return row


def busy_timeout(url: str) -> float:
    """How long a statement waits for the write lock: `?timeout=SECONDS`, or 60 s."""
    query = parse_qs(url.partition("?")[2])
    if "timeout" not in query:
        return BUSY_TIMEOUT
    text = query["timeout"][-1]
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise ConfigurationError(
            f"invalid SQLite URL {url!r}: timeout={text} is not a number of seconds (0-86400)"
        )
    return seconds


def sqlite_path(url: str) -> str:
    """`sqlite:///relative.db`, `sqlite:////absolute.db` or `sqlite:///:memory:` → a path."""
    if not url.startswith("sqlite:///"):
        raise ConfigurationError(
            f"invalid SQLite URL {url!r}: expected sqlite:///path/to/file.sqlite3"
        )
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    if not path:
        raise ConfigurationError(f"invalid SQLite URL {url!r}: the file path is missing")
    return path


class SQLiteStore(Store):
    backend = "sqlite"

    def __init__(self, url: str, clock: Clock = utc_now) -> None:
        super().__init__(url, clock)
        self.path = sqlite_path(url)
        self.busy_timeout = busy_timeout(url)
        if self.path != ":memory:" and not Path(self.path).parent.exists():
            raise DatabaseUnavailable(
                f"cannot open SQLite database {self.path}: "
                f"directory {Path(self.path).parent} does not exist"
            )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connection()  # fail now, with a clear message, if the file cannot be opened

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=self.busy_timeout,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: durable across application crashes, fsync only at checkpoints.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as error:
            raise DatabaseUnavailable(f"cannot open SQLite database {self.path}: {error}") from None
        conn.row_factory = _row
        conn.create_function("regexp", 2, _regexp, deterministic=True)
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def fetch_all(self, query: str, params: dict[str, Any]) -> list[Row]:
        sql = self.queries[query]
        with _busy_as_unavailable(self.path):
            return self._connection().execute(sql, _params(params)).fetchall()

    def execute(self, query: str, params: dict[str, Any]) -> int:
        with _busy_as_unavailable(self.path):
            cursor = self._connection().execute(self.queries[query], _params(params))
        return cursor.rowcount

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._connection()
        if conn.in_transaction:  # nested: the outer transaction decides
            yield
            return
        # IMMEDIATE takes the write lock up front, so a transaction that reads and then
        # writes never fails half way with "database is locked".
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def insert_jobs(self, jobs: Sequence[NewJob], *, connection: object = None) -> list[int]:
        with self.on_connection(connection):  # only None: SQLite uses no lent connection
            if not jobs:
                return []
            created_at = to_text(self.now())
            rows = [{**_params(job._asdict()), "created_at": created_at} for job in jobs]
            conn = self._connection()
            with self.transaction():
                before = int(self.fetch_all("last_job_id", {})[0]["id"])
                conn.executemany(self.queries["insert_jobs"], rows)
                after = int(self.fetch_all("last_job_id", {})[0]["id"])
        # AUTOINCREMENT under the write lock hands out consecutive ids.
        assert after - before == len(rows), (before, after, len(rows))
        return list(range(before + 1, after + 1))

    def execute_for_claims(
        self, query: str, claims: Sequence[Claim], params: dict[str, Any]
    ) -> int:
        # One primary-key statement per claim, prepared once, in one transaction.
        shared = _params(params)
        rows = [{**shared, "id": c.id, "lease": c.lease} for c in claims]
        with self.transaction(), _busy_as_unavailable(self.path):
            return self._connection().executemany(self.queries[query], rows).rowcount

    def finish_claims(
        self, query: str, claims: Sequence[Claim], params: dict[str, Any]
    ) -> tuple[int, list[int]]:
        with self.transaction():
            ids = self._array_param([c.id for c in claims])
            linked = [int(row["id"]) for row in self.fetch_all("linked_jobs", {"ids": ids})]
            return self.execute_for_claims(query, claims, params), linked

    def _mark_released(self, params: dict[str, Any]) -> None:
        self.execute("mark_released", params)

    def _insert_slices(self, job_id: int, slices: Sequence[NewSlice]) -> None:
        rows = [{"job_id": job_id, **asdict(s)} for s in slices]
        self._connection().executemany(self.queries["insert_slices"], rows)

    def _array_param(self, values: Sequence[Any]) -> Any:
        return json.dumps(list(values))

    # No data-modifying CTEs here: what PostgreSQL does in one statement, one transaction.

    def _complete_slice(self, params: dict[str, Any]) -> Row | None:
        with self.transaction():
            done = self.fetch_one("complete_slice", params)
            if done is None:
                return None
            counted = {
                "job_id": done["job_id"],
                "records": done["record_count"],
                "started_at": done["started_at"],
            }
            return self.fetch_one("count_completed_slice", counted)

    def _fail_slice(self, params: dict[str, Any]) -> bool:
        with self.transaction():
            failed = self.fetch_one("fail_slice", params)
            if failed is not None:
                self.execute("count_failed_slice", {"job_id": failed["job_id"]})
        return failed is not None

    def _retry_batch_job(self, params: dict[str, Any]) -> bool:
        with self.transaction():
            if self.execute("retry_batch_job", params) != 1:
                return False
            self._requeue_failed_slices({"job_id": params["job_id"], "position": None})
        return True

    def _requeue_failed_slices(self, params: dict[str, Any]) -> int:
        with self.transaction():
            requeued = len(self.fetch_all("requeue_failed_slices", params))
            if requeued:
                self.execute("uncount_failed_slices", {**params, "n": requeued})
        return requeued

    def _names_param(self, names: Sequence[str]) -> dict[str, Any]:
        return {"names": json.dumps(list(names))}

    def _text_list(self, values: Sequence[str]) -> Any:
        return json.dumps(list(values))

    def applied_migrations(self) -> set[int]:
        conn = self._connection()
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rocketjob_migrations'"
        ).fetchone()
        if not exists:
            return set()
        return {r["version"] for r in conn.execute("SELECT version FROM rocketjob_migrations")}

    def apply_migration(self, migration: Migration) -> bool:
        conn = self._connection()
        with self.transaction():
            if migration.version in self.applied_migrations():
                return False
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO rocketjob_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_text(self.now())),
            )
        return True

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str, value: str) -> bool:
    return _compiled(pattern).search(value) is not None


@contextmanager
def _busy_as_unavailable(path: str) -> Iterator[None]:
    # Past the busy timeout, or with the file gone, the database is unavailable for now:
    # callers (workers) wait and retry rather than fail.
    try:
        yield
    except sqlite3.IntegrityError as error:
        if "rocketjob_jobs.singleton_key" in str(error):
            raise SlotTaken("a job holds this singleton slot") from error
        raise
    except sqlite3.OperationalError as error:
        text = str(error)
        if any(word in text for word in ("locked", "busy", "disk I/O", "unable to open")):
            raise DatabaseUnavailable(f"SQLite database {path} is unavailable: {text}") from error
        raise


def _params(params: dict[str, Any]) -> dict[str, Any]:
    return {key: _param(value) for key, value in params.items()}


def _statements(script: str) -> Iterator[str]:
    """Splits a script into statements (trigger bodies kept whole)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer!r}")
