"""Storage: the only package that speaks SQL."""

from __future__ import annotations

from rocketjob.errors import ConfigurationError
from rocketjob.store.base import Finished, JobChange, NewJob, Store, history_entry, utc_now
from rocketjob.store.batches import NewSlice, SliceClaim
from rocketjob.store.executor import Claim, Clock, Row
from rocketjob.store.flow import SlotTaken
from rocketjob.store.workers import Handoff


def open_store(url: str, clock: Clock = utc_now, *, pool_size: int = 12) -> Store:
    """Opens the database at `url` (sqlite:///… or postgresql://…)."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        from rocketjob.store.sqlite import SQLiteStore

        return SQLiteStore(url, clock)
    if scheme in ("postgresql", "postgres"):
        from rocketjob.store.postgres import PostgresStore

        return PostgresStore(url, clock, pool_size=pool_size)
    raise ConfigurationError(
        f"unsupported database URL {url!r}: use sqlite:///path/to/file.sqlite3 "
        "or postgresql://user@host/dbname"
    )


__all__ = [
    "Claim",
    "Clock",
    "Finished",
    "Handoff",
    "JobChange",
    "NewJob",
    "NewSlice",
    "Row",
    "SliceClaim",
    "SlotTaken",
    "Store",
    "history_entry",
    "open_store",
]
