"""The application's own psycopg connection, lent to the store for one call.

Jobs created on it are rows of the application's transaction: they exist once it commits,
and workers hear of them then (PostgreSQL delivers NOTIFY at commit). The store reads
through cursors of its own making and never changes the connection's settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import pq

from rocketjob.errors import ConfigurationError
from rocketjob.store.executor import Row

ACCEPTED = "a psycopg 3 connection (psycopg.Connection) in the application's transaction"


def lent_connection(connection: object) -> psycopg.Connection[Any]:
    """`connection` as a psycopg Connection; TypeError naming what is accepted otherwise."""
    if isinstance(connection, psycopg.Connection):
        return connection
    kind = type(connection)
    given = f"{kind.__module__}.{kind.__qualname__}"
    hint = ""
    if isinstance(connection, psycopg.AsyncConnection):
        hint = ": an async connection cannot be used from create(); pass a sync one"
    elif kind.__module__.startswith("sqlalchemy"):
        hint = (
            ": with SQLAlchemy (postgresql+psycopg), pass its psycopg connection, "
            "conn.connection.driver_connection"
        )
    elif kind.__module__.startswith("psycopg2"):
        hint = ": psycopg2 is not supported"
    raise TypeError(f"connection= takes {ACCEPTED}, not {given}{hint}")


def check_usable(conn: psycopg.Connection[Any]) -> None:
    """Refuses, before anything is sent, a connection no statement could run on."""
    if conn.closed:
        raise ConfigurationError("connection= is closed: no job was enqueued")
    if conn.info.transaction_status == pq.TransactionStatus.INERROR:
        raise ConfigurationError(
            "connection= is in a failed transaction (an earlier statement raised): "
            "roll it back first; no job was enqueued"
        )


@contextmanager
def joined(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """The store's statements as one part of the application's transaction, entered once
    a first statement opened it (without autocommit, psycopg opens one at the first).

    A savepoint: a statement of ours that fails is undone alone, the application's
    transaction goes on, and the error reaches the caller. On a connection in autocommit
    mode outside a transaction block, a transaction of their own, committed at once (as
    any statement there would be).
    """
    with conn.transaction():
        yield


def in_utc(rows: list[Row]) -> list[Row]:
    """Rows with their times in UTC, as the store's own connections read them."""
    return [
        {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in row.items()}
        for row in rows
    ]


def describe(conn: psycopg.Connection[Any]) -> str:
    """Which database a connection is on, for messages."""
    info = conn.info
    return f"database {info.dbname!r} on {info.host}:{info.port}"
