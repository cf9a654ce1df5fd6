"""Where the database is: `configure()`, `$ROCKETJOB_DATABASE_URL`, or a SQLite file here."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from rocketjob.store import Store, open_store

DEFAULT_DATABASE_URL = "sqlite:///rocketjob.sqlite3"
DATABASE_URL_ENV = "ROCKETJOB_DATABASE_URL"
# Directories dirmon may read and move files in, separated by os.pathsep (":").
DIRMON_ROOTS_ENV = "ROCKETJOB_DIRMON_ROOTS"

_lock = threading.RLock()
_database_url: str | None = None
_pool_size = 12
_store: Store | None = None
_dirmon_roots: tuple[str, ...] | None = None


def configure(
    database_url: str | None = None,
    *,
    store: Store | None = None,
    pool_size: int | None = None,
    dirmon_roots: Sequence[str | os.PathLike[str]] | None = None,
) -> None:
    """Points rocketjob at a database; the store opens (and migrates) on first use.

    `store` hands over an already open store (tests, embedding); `pool_size` bounds the
    PostgreSQL connections this process may open; `dirmon_roots` are the only directories
    whose files dirmon entries may watch and move (else `$ROCKETJOB_DIRMON_ROOTS`). Given
    alone, `dirmon_roots` leaves the database as it was.
    """
    global _database_url, _store, _pool_size, _dirmon_roots
    with _lock:
        if dirmon_roots is not None:
            _dirmon_roots = tuple(os.fspath(root) for root in dirmon_roots)
            if database_url is None and store is None:
                return
        previous = _store
        _store = store
        _database_url = store.url if store is not None else database_url
        if pool_size is not None:
            _pool_size = pool_size
        if previous is not None and previous is not store:
            previous.close()


def database_url() -> str:
    return _database_url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def dirmon_roots() -> tuple[str, ...]:
    """The directories dirmon may watch, as configured (empty: dirmon refuses to run)."""
    if _dirmon_roots is not None:
        return _dirmon_roots
    text = os.environ.get(DIRMON_ROOTS_ENV, "")
    return tuple(root for root in text.split(os.pathsep) if root.strip())


def get_store() -> Store:
    """The store of this process, opened and migrated on first use."""
    global _store
    store = _store
    if store is not None:
        return store
    with _lock:
        if _store is None:
            opened = open_store(database_url(), pool_size=_pool_size)
            try:
                opened.ensure_schema()
            except BaseException:
                opened.close()
                raise
            _store = opened
        return _store


def _forget_store_after_fork() -> None:
    # A forked child must never share its parent's connections; it opens its own.
    global _store, _lock
    _store = None
    _lock = threading.RLock()


os.register_at_fork(after_in_child=_forget_store_after_fork)
