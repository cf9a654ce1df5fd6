"""Where the database is: `configure()`, `$ROCKETJOB_DATABASE_URL`, or a SQLite file here."""

from __future__ import annotations

import os
import threading

from rocketjob.store import Store, open_store

DEFAULT_DATABASE_URL = "sqlite:///rocketjob.sqlite3"
DATABASE_URL_ENV = "ROCKETJOB_DATABASE_URL"

_lock = threading.RLock()
_database_url: str | None = None
_pool_size = 12
_store: Store | None = None


def configure(
    database_url: str | None = None, *, store: Store | None = None, pool_size: int | None = None
) -> None:
    """Points rocketjob at a database; the store opens (and migrates) on first use.

    `store` hands over an already open store (tests, embedding); `pool_size` bounds the
    PostgreSQL connections this process may open.
    """
    global _database_url, _store, _pool_size
    with _lock:
        previous = _store
        _store = store
        _database_url = store.url if store is not None else database_url
        if pool_size is not None:
            _pool_size = pool_size
        if previous is not None and previous is not store:
            previous.close()


def database_url() -> str:
    return _database_url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


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
