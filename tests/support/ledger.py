"""The ledger: what jobs did, written by perform() itself into a side table, so a test can
count every start and end of every job whatever the system under test recorded.

On PostgreSQL the table lives in the database under test; for SQLite it is a file of its
own (the database's write lock may be held by the very test that reads the ledger). Worker
processes find it in $ROCKETJOB_CHAOS_LEDGER: a `postgresql://` or `sqlite:///` URL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from typing import Any, NamedTuple

import psycopg
from processes import wait_until

LEDGER_ENV = "ROCKETJOB_CHAOS_LEDGER"
# A ledger write waits out an outage or a cut link this long, then gives up.
PATIENCE = 300.0

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS chaos_ledger (
    job_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    item BIGINT,
    pid INTEGER NOT NULL,
    worker TEXT,
    mono DOUBLE PRECISION NOT NULL,
    wall DOUBLE PRECISION NOT NULL
)"""
INSERT_PG = (
    "INSERT INTO chaos_ledger (job_id, event, item, pid, worker, mono, wall) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
INSERT_SQLITE = "INSERT INTO chaos_ledger VALUES (?, ?, ?, ?, ?, ?, ?)"
SELECT = "SELECT job_id, event, item, pid, worker, mono, wall FROM chaos_ledger ORDER BY mono"


class Entry(NamedTuple):
    job_id: int
    event: str  # start, end (of perform), record (of a batch record processed)
    item: int | None  # the record, for batch jobs
    pid: int
    worker: str | None
    mono: float  # time.monotonic(): one clock for every process on the machine
    wall: float  # time.time() as the process saw it (a skewed clock shows here)


# -- in the worker processes ------------------------------------------------------------

_local = threading.local()


def note(event: str, job_id: int, worker: str | None = None, item: int | None = None) -> None:
    """Writes one entry; retries until the ledger's database answers again."""
    url = os.environ.get(LEDGER_ENV)
    if not url:
        return  # run outside a chaos test: nothing to account for
    values = (job_id, event, item, os.getpid(), worker, time.monotonic(), time.time())
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            _write(url, values)
            return
        except (psycopg.Error, sqlite3.OperationalError):
            _forget()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _write(url: str, values: tuple[Any, ...]) -> None:
    conn = getattr(_local, "conn", None)
    if url.startswith("sqlite"):
        if conn is None:
            conn = _local.conn = _sqlite(url)
        conn.execute(INSERT_SQLITE, values)
        return
    if conn is None:
        conn = _local.conn = psycopg.connect(url, autocommit=True, connect_timeout=3)
    conn.execute(INSERT_PG, values)


def _forget() -> None:
    conn = getattr(_local, "conn", None)
    _local.conn = None
    if conn is not None:
        with suppress(psycopg.Error, sqlite3.Error):
            conn.close()


def _sqlite(url: str) -> sqlite3.Connection:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=60)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


# -- in the test ------------------------------------------------------------------------


class Ledger:
    """The side table of one test: created empty, read back as entries."""

    def __init__(self, url: str) -> None:
        self.url = url
        with self._connection() as conn:
            conn.execute(CREATE_TABLE)

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        if self.url.startswith("sqlite"):
            with closing(_sqlite(self.url)) as conn:
                yield conn
        else:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                yield conn

    def entries(self) -> list[Entry]:
        with self._connection() as conn:
            rows = conn.execute(SELECT).fetchall()
        return [Entry(*row) for row in rows]

    def count(self, event: str) -> int:
        with self._connection() as conn:
            query = "SELECT count(*) FROM chaos_ledger WHERE event = "
            param = "?" if self.url.startswith("sqlite") else "%s"
            return int(conn.execute(query + param, (event,)).fetchone()[0])

    def wait_count(self, event: str, n: int, timeout: float) -> None:
        wait_until(lambda: self.count(event) >= n, timeout, f"{n} {event} entries in the ledger")
